//! `particle-grub-mkconfig -o SYSROOT/boot/loader.N/grub.cfg`: the GRUB menu generator libostree
//! runs (through `OSTREE_GRUB2_EXEC`) for sysroots whose menu particle writes, before it swaps
//! `/boot/loader` to the new boot version. See `machine::mkconfig` and docs/boot.md.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let out = match args.as_slice() {
        [flag, out] if flag == "-o" => std::path::PathBuf::from(out),
        _ => {
            eprintln!("usage: particle-grub-mkconfig -o SYSROOT/boot/loader.N/grub.cfg");
            return ExitCode::from(2);
        }
    };
    match machine::mkconfig(&out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("particle-grub-mkconfig: {e}");
            ExitCode::FAILURE
        }
    }
}
