//! Running the `ostree` command (what an administrator would run by hand): its errors name the
//! command line and carry ostree's own message.

use crate::{Error, ErrorKind, Result};
use std::ffi::{OsStr, OsString};
use std::path::Path;

/// Arguments as `OsString`s.
pub fn args(parts: &[&dyn AsRef<OsStr>]) -> Vec<OsString> {
    parts.iter().map(|p| p.as_ref().to_owned()).collect()
}

/// Runs `ostree ARGS...` with `env` added; on failure the error (of `kind`) names the command.
pub fn run(kind: ErrorKind, args: &[OsString], env: &[(&str, &str)]) -> Result<String> {
    let mut cmd = std::process::Command::new("ostree");
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    tool_output(
        kind,
        "ostree",
        &mut cmd,
        "install the ostree command (Debian package ostree)",
    )
}

/// Runs `cmd`; a failure to start it or a non-zero exit is an error of `kind` naming the command
/// line, with the tool's messages.
pub(crate) fn tool_output(
    kind: ErrorKind,
    name: &str,
    cmd: &mut std::process::Command,
    missing_hint: &str,
) -> Result<String> {
    tool_bytes(kind, name, cmd, missing_hint).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// [`tool_output`], the standard output as the exact bytes the tool wrote.
pub(crate) fn tool_bytes(
    kind: ErrorKind,
    name: &str,
    cmd: &mut std::process::Command,
    missing_hint: &str,
) -> Result<Vec<u8>> {
    let shown = std::iter::once(name.to_owned())
        .chain(cmd.get_args().map(|a| a.to_string_lossy().into_owned()))
        .collect::<Vec<_>>()
        .join(" ");
    tracing::info!("running {shown}");
    let started = std::time::Instant::now();
    let out = cmd.output().map_err(|e| {
        Error::new(kind, format!("could not run `{shown}`: {e}")).hint(missing_hint.to_owned())
    })?;
    tracing::debug!("{name} ran for {:.2?}", started.elapsed());
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let msg = stderr
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        return Err(Error::new(
            kind,
            format!("`{shown}` failed: {}", msg.trim_start_matches("error: ")),
        ));
    }
    Ok(out.stdout)
}

/// `--sysroot=DIR` as one argument.
pub(crate) fn sysroot_flag(sysroot: &Path) -> OsString {
    let mut s = OsString::from("--sysroot=");
    s.push(sysroot);
    s
}
