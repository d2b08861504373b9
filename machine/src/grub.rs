//! `grub.cfg` from ostree's boot loader entries. Debian's GRUB 2.06 has no `blscfg` (a Fedora
//! patch), and ostree's own generator (`15_ostree` run by `grub-mkconfig`) needs `grub-probe`,
//! which fails on an offline sysroot (ostreedev/ostree#2289). particle writes a plain
//! `grub.cfg` instead: one `menuentry` per BLS entry, in ostree's order.
//!
//! It is written the way ostree's own grub2 back end writes it, so that a power cut at any
//! moment leaves a menu that boots the old or the new deployment: the sysroot's repository says
//! `sysroot.bootloader=grub2`, and ostree runs particle's generator ([`GRUB_EXEC_ENV`], the
//! `particle-grub-mkconfig` program, [`mkconfig`]) with `-o /boot/loader.N/grub.cfg` for the
//! new boot version before it swaps `/boot/loader` to it; `/boot/grub/grub.cfg` is a symlink to
//! `../loader/grub.cfg`. The menu and the `ostree=/ostree/boot.N/...` paths it names change in
//! the one atomic rename. Staged deployments are finalized at shutdown by
//! `ostree-finalize-staged.service`, which gets the variable from the drop-in particle's
//! package ships.

use crate::{BootEntry, Error, ErrorKind, Result};
use std::fmt::Write as _;
use std::path::Path;

/// Where a sysroot whose `grub.cfg` particle writes keeps the [`GrubSettings`]: the generator
/// reads them every time it writes the menu.
const SETTINGS: &str = "boot/grub/particle.env";

/// The environment variable that makes libostree run particle's generator instead of
/// `grub-mkconfig` (read by libostree with `g_getenv`).
pub const GRUB_EXEC_ENV: &str = "OSTREE_GRUB2_EXEC";

/// What the generated configuration needs besides the entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrubSettings {
    /// Seconds the menu waits.
    pub timeout: u32,
    /// Also use the first serial port (115200 baud) as a terminal.
    pub serial: bool,
    /// The UUID of the file system that holds `/boot` (GRUB `search`es for it).
    pub boot_uuid: String,
    /// Where the BLS paths (relative to the boot file system) sit on that file system: `/boot`
    /// when `/boot` is a directory of the root file system, empty for a separate `/boot`.
    pub boot_prefix: String,
}

impl GrubSettings {
    /// `KEY=VALUE` lines (pure).
    fn to_text(&self) -> String {
        format!(
            "# particle's GRUB settings for this sysroot (read by every deploy)\ntimeout={}\nserial={}\nboot_uuid={}\nboot_prefix={}\n",
            self.timeout, self.serial, self.boot_uuid, self.boot_prefix
        )
    }

    fn from_text(text: &str) -> Option<GrubSettings> {
        let get = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
                .map(str::trim)
        };
        Some(GrubSettings {
            timeout: get("timeout")?.parse().ok()?,
            serial: get("serial")? == "true",
            boot_uuid: get("boot_uuid")?.to_owned(),
            boot_prefix: get("boot_prefix")?.to_owned(),
        })
    }

    /// The settings of `sysroot`, if particle writes its `grub.cfg`.
    pub fn load(sysroot: &Path) -> Result<Option<GrubSettings>> {
        let path = sysroot.join(SETTINGS);
        match std::fs::read_to_string(&path) {
            Ok(text) => GrubSettings::from_text(&text).map(Some).ok_or_else(|| {
                Error::new(
                    ErrorKind::Deploy,
                    format!("{} is malformed", path.display()),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io("read", &path, e)),
        }
    }

    /// Makes particle write the menu of `sysroot` (after its first deploy): records the
    /// settings, writes the current menu into the current `boot/loader.N/grub.cfg`, points
    /// `boot/grub/grub.cfg` at `../loader/grub.cfg` (replacing a menu particle wrote before it
    /// used ostree's swap) and sets `sysroot.bootloader=grub2`. Each step leaves a menu that boots.
    pub fn install(&self, sysroot: &Path) -> Result<()> {
        let path = sysroot.join(SETTINGS);
        let dir = path.parent().expect("SETTINGS has a parent");
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
        write_synced(&path, self.to_text().as_bytes())?;
        let loader = std::fs::canonicalize(sysroot.join("boot/loader"))
            .map_err(|e| Error::io("resolve", &sysroot.join("boot/loader"), e))?;
        let entries = crate::read_entries(&loader.join("entries"))?;
        write_synced(
            &loader.join("grub.cfg"),
            grub_cfg(&entries, self).as_bytes(),
        )?;
        let link = dir.join("grub.cfg");
        if std::fs::read_link(&link).ok().as_deref() != Some(Path::new(LINK_TARGET)) {
            let tmp = dir.join("grub.cfg.link");
            let _ = std::fs::remove_file(&tmp);
            std::os::unix::fs::symlink(LINK_TARGET, &tmp)
                .map_err(|e| Error::io("create", &tmp, e))?;
            std::fs::rename(&tmp, &link).map_err(|e| Error::io("rename into place", &link, e))?;
            sync_dir(dir)?;
        }
        let mut repo = std::ffi::OsString::from("--repo=");
        repo.push(sysroot.join("ostree/repo"));
        crate::ostree_cmd::run(
            ErrorKind::Deploy,
            &crate::ostree_cmd::args(&[&repo, &"config", &"set", &"sysroot.bootloader", &"grub2"]),
            &[],
        )?;
        Ok(())
    }

    /// Whether `sysroot`'s menu is written through ostree's swap ([`GrubSettings::install`] ran).
    pub fn installed(sysroot: &Path) -> bool {
        std::fs::read_link(sysroot.join("boot/grub/grub.cfg"))
            .ok()
            .as_deref()
            == Some(Path::new(LINK_TARGET))
    }
}

/// Where particle's package installs the generator.
pub const GRUB_MKCONFIG_INSTALLED: &str = "/usr/libexec/particle/grub-mkconfig";

/// The generator to hand to ostree: `particle-grub-mkconfig` beside the running program (a
/// build tree), else the installed one.
pub fn grub_mkconfig_program() -> Option<std::path::PathBuf> {
    crate::sibling_program("particle-grub-mkconfig", GRUB_MKCONFIG_INSTALLED)
}

/// What `boot/grub/grub.cfg` links to.
const LINK_TARGET: &str = "../loader/grub.cfg";

/// The generator ostree runs (`particle-grub-mkconfig -o SYSROOT/boot/loader.N/grub.cfg`):
/// writes the menu of the entries in `loader.N/entries` beside `out`, with the settings of the
/// sysroot `out` belongs to.
pub fn mkconfig(out: &Path) -> Result<()> {
    let loader = out.parent().ok_or_else(|| bad_out(out))?;
    let sysroot = loader
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| bad_out(out))?;
    let settings = GrubSettings::load(sysroot)?.ok_or_else(|| {
        Error::new(
            ErrorKind::Deploy,
            format!(
                "{} has no particle GRUB settings ({SETTINGS})",
                sysroot.display()
            ),
        )
    })?;
    let entries = crate::read_entries(&loader.join("entries"))?;
    write_synced(out, grub_cfg(&entries, &settings).as_bytes())
}

fn bad_out(out: &Path) -> Error {
    Error::new(
        ErrorKind::Usage,
        format!(
            "{} is not a boot loader configuration path (SYSROOT/boot/loader.N/grub.cfg)",
            out.display()
        ),
    )
}

/// Writes `path` through a temporary file beside it, synced, renamed, the directory synced.
fn write_synced(path: &Path, data: &[u8]) -> Result<()> {
    store::write_atomic(path, data).map_err(|e| {
        Error::new(
            ErrorKind::Io,
            format!("could not write {}: {e}", path.display()),
        )
    })
}

fn sync_dir(dir: &Path) -> Result<()> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("sync", dir, e))
}

/// GRUB single quotes: `'` itself is written as `'\''`.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The whole `grub.cfg` (pure): the default (index 0) first, then the rollback.
pub fn grub_cfg(entries: &[BootEntry], settings: &GrubSettings) -> String {
    let mut out = String::from(
        "# Written by particle from the sysroot's boot loader entries (/boot/loader/entries),\n\
         # one menu entry per deployment, the default first. Regenerated on every deploy.\n",
    );
    let _ = writeln!(out, "set timeout={}", settings.timeout);
    out.push_str("set default=0\n");
    if settings.serial {
        out.push_str(
            "serial --unit=0 --speed=115200\nterminal_input serial console\nterminal_output serial console\n",
        );
    }
    out.push_str("insmod part_msdos\ninsmod part_gpt\ninsmod ext2\ninsmod gzio\n");
    let _ = writeln!(
        out,
        "search --no-floppy --fs-uuid --set=root {}",
        settings.boot_uuid
    );
    for (i, e) in entries.iter().enumerate() {
        let _ = writeln!(
            out,
            "menuentry {} --id {} {{",
            quote(&e.title),
            quote(&format!("ostree-{i}"))
        );
        let _ = writeln!(
            out,
            "\tlinux {}{} {}",
            settings.boot_prefix, e.linux, e.options
        );
        if let Some(initrd) = &e.initrd {
            let _ = writeln!(out, "\tinitrd {}{}", settings.boot_prefix, initrd);
        }
        out.push_str("}\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip() {
        let s = GrubSettings {
            timeout: 3,
            serial: true,
            boot_uuid: "a-b".into(),
            boot_prefix: "/boot".into(),
        };
        assert_eq!(GrubSettings::from_text(&s.to_text()), Some(s));
        assert_eq!(GrubSettings::from_text("timeout=x"), None);
    }

    #[test]
    fn every_entry_becomes_a_menu_entry_in_order() {
        let entry = |i: u32, title: &str| BootEntry {
            file: format!("ostree-{i}-particle-os.conf"),
            title: title.into(),
            version: i.to_string(),
            linux: format!("/ostree/particle-os-{i}/vmlinuz-6.1"),
            initrd: Some(format!("/ostree/particle-os-{i}/initramfs-6.1.img")),
            options: format!("root=UUID=u rw ostree=/ostree/boot.1/particle-os/{i}/0"),
        };
        let cfg = grub_cfg(
            &[
                entry(2, "Debian (ostree:particle-os:0)"),
                entry(1, "it's the rollback"),
            ],
            &GrubSettings {
                timeout: 1,
                serial: true,
                boot_uuid: "0f0f".into(),
                boot_prefix: "/boot".into(),
            },
        );
        insta::assert_snapshot!(cfg, @r"
        # Written by particle from the sysroot's boot loader entries (/boot/loader/entries),
        # one menu entry per deployment, the default first. Regenerated on every deploy.
        set timeout=1
        set default=0
        serial --unit=0 --speed=115200
        terminal_input serial console
        terminal_output serial console
        insmod part_msdos
        insmod part_gpt
        insmod ext2
        insmod gzio
        search --no-floppy --fs-uuid --set=root 0f0f
        menuentry 'Debian (ostree:particle-os:0)' --id 'ostree-0' {
        	linux /boot/ostree/particle-os-2/vmlinuz-6.1 root=UUID=u rw ostree=/ostree/boot.1/particle-os/2/0
        	initrd /boot/ostree/particle-os-2/initramfs-6.1.img
        }
        menuentry 'it'\''s the rollback' --id 'ostree-1' {
        	linux /boot/ostree/particle-os-1/vmlinuz-6.1 root=UUID=u rw ostree=/ostree/boot.1/particle-os/1/0
        	initrd /boot/ostree/particle-os-1/initramfs-6.1.img
        }
        ");
    }
}
