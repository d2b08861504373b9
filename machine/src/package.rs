//! particle as a Debian package, so that every image carries the tool that manages it as a
//! package dpkg in the image knows, and a local signed archive that offers it to the solver like
//! any other source (no special case in the store, the solver or the journal).
//!
//! The package is built from the programs that run (`particle`, `particle-full` and
//! `particle-grub-mkconfig`),
//! stripped of debugging information, with the `ostree-finalize-staged.service` drop-in that
//! makes a staged deployment's finalization write particle's GRUB menu (see `grub`). It is
//! reproducible: the same programs give the same bytes (fixed times, owners and order, gzip
//! without a timestamp). Its version is the workspace's plus a digest of the programs
//! (`0.1.0+b1a2b3c4d5e6`); `Depends` is what `dpkg-shlibdeps` computes from the programs' shared
//! libraries, plus the commands particle runs on a machine.

use crate::ostree_cmd::tool_output;
use crate::{Error, ErrorKind, Result};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The package's name.
pub const PACKAGE: &str = "particle";

/// Commands particle runs on a machine, besides the libraries it links.
const RUNTIME_DEPENDS: &str = "ostree, bubblewrap, gpgv";

/// Where the programs go.
const BIN: &str = "usr/bin/particle";
const FULL: &str = "usr/libexec/particle/particle-full";
/// Where the package installs `particle-full`, the program `particle` runs for every command
/// it does not answer itself.
pub const FULL_PROGRAM_INSTALLED: &str = "/usr/libexec/particle/particle-full";
/// Where the package installs `particle`.
pub const PROGRAM_INSTALLED: &str = "/usr/bin/particle";
const GRUB_EXEC: &str = "usr/libexec/particle/grub-mkconfig";
const DROP_IN: &str = "usr/lib/systemd/system/ostree-finalize-staged.service.d/particle.conf";
const COPYRIGHT: &str = "usr/share/doc/particle/copyright";
/// Automatic updates: the service runs `particle upgrade --auto`, which acts on the policy in
/// `/etc/particle/updates.conf` (`none` when the file is missing); the timer is enabled by the
/// package (a `timers.target.wants` link), so the policy alone decides.
const UPGRADE_SERVICE: &str = "usr/lib/systemd/system/particle-upgrade.service";
const UPGRADE_TIMER: &str = "usr/lib/systemd/system/particle-upgrade.timer";
const UPGRADE_TIMER_WANTS: &str =
    "usr/lib/systemd/system/timers.target.wants/particle-upgrade.timer";

const UPGRADE_SERVICE_TEXT: &str = "\
[Unit]
Description=particle automatic updates (policy: /etc/particle/updates.conf)
ConditionPathExists=/run/ostree-booted
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
ExecStart=/usr/bin/particle upgrade --auto
";

const UPGRADE_TIMER_TEXT: &str = "\
[Unit]
Description=particle automatic updates, daily

[Timer]
OnBootSec=15min
OnUnitActiveSec=1d
RandomizedDelaySec=1h
Persistent=true

[Install]
WantedBy=timers.target
";

/// What to package.
#[derive(Debug, Clone)]
pub struct PackageRequest<'a> {
    /// The workspace version (`CARGO_PKG_VERSION`).
    pub version: &'a str,
    /// The Debian architecture (`amd64`).
    pub arch: &'a str,
    /// The `particle` program.
    pub program: &'a Path,
    /// The `particle-full` program.
    pub full: &'a Path,
    /// The `particle-grub-mkconfig` program.
    pub grub_mkconfig: &'a Path,
    /// The license named in the copyright file.
    pub license: &'a str,
}

/// A built package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltPackage {
    pub version: String,
    pub arch: String,
    pub path: PathBuf,
    pub size: u64,
    pub sha256: String,
    /// The control file.
    pub control: String,
}

/// Every file time in the package (2023-11-14): fixed, so the bytes depend on the programs only.
const EPOCH: u64 = 1_700_000_000;

/// Builds the package into `out_dir` (`particle_VERSION_ARCH.deb`, written beside and renamed).
pub fn build_package(req: &PackageRequest<'_>, out_dir: &Path) -> Result<BuiltPackage> {
    let work = tempfile::tempdir_in(out_dir)
        .map_err(|e| Error::io("create a directory in", out_dir, e))?;
    let program = stripped(req.program, &work.path().join("particle"))?;
    let full = stripped(req.full, &work.path().join("particle-full"))?;
    let grub = stripped(req.grub_mkconfig, &work.path().join("grub-mkconfig"))?;
    let mut digest = Sha256::new();
    for p in [&program, &full, &grub] {
        digest.update(std::fs::read(p).map_err(|e| Error::io("read", p, e))?);
    }
    let version = format!("{}+b{}", req.version, &hex::encode(digest.finalize())[..12]);
    let depends = shlibdeps(work.path(), &[&program, &full, &grub])?;
    let drop_in = format!(
        "# particle writes the GRUB menu of this system: the finalization of a staged deployment\n\
         # at shutdown runs its generator (docs/boot.md).\n[Service]\nEnvironment={}=/{GRUB_EXEC}\n",
        crate::GRUB_EXEC_ENV
    );
    let copyright = format!(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: particle\n\nFiles: *\nLicense: {}\n",
        req.license
    );
    let files: Vec<(&str, Content<'_>, u32)> = vec![
        (BIN, Content::File(&program), 0o755),
        (FULL, Content::File(&full), 0o755),
        (GRUB_EXEC, Content::File(&grub), 0o755),
        (DROP_IN, Content::Text(&drop_in), 0o644),
        (COPYRIGHT, Content::Text(&copyright), 0o644),
        (UPGRADE_SERVICE, Content::Text(UPGRADE_SERVICE_TEXT), 0o644),
        (UPGRADE_TIMER, Content::Text(UPGRADE_TIMER_TEXT), 0o644),
        (
            UPGRADE_TIMER_WANTS,
            Content::Link("../particle-upgrade.timer"),
            0o777,
        ),
    ];
    let mut installed = 0u64;
    for (_, c, _) in &files {
        installed += c.len()?;
    }
    let control = format!(
        "Package: {PACKAGE}\nVersion: {version}\nArchitecture: {arch}\nMaintainer: particle developers <particle@localhost>\nInstalled-Size: {}\nDepends: {depends}, {RUNTIME_DEPENDS}\nSection: admin\nPriority: optional\nDescription: transactional package manager for Debian-based OSTree systems\n particle keeps every install, removal, upgrade and rollback as a hash-chained\n transaction in a journal and deploys each as an OSTree commit.\n",
        installed.div_ceil(1024),
        arch = req.arch,
    );
    let data = tar_gz(&files)?;
    let control_tar = tar_gz(&[("control", Content::Text(&control), 0o644)])?;
    let mut deb = Vec::with_capacity(data.len() + control_tar.len() + 256);
    deb.extend_from_slice(b"!<arch>\n");
    ar_member(&mut deb, "debian-binary", b"2.0\n");
    ar_member(&mut deb, "control.tar.gz", &control_tar);
    ar_member(&mut deb, "data.tar.gz", &data);
    let name = format!("{PACKAGE}_{version}_{}.deb", req.arch);
    let path = out_dir.join(&name);
    let tmp = work.path().join(&name);
    std::fs::write(&tmp, &deb).map_err(|e| Error::io("write", &tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| Error::io("rename into place", &path, e))?;
    Ok(BuiltPackage {
        version,
        arch: req.arch.to_owned(),
        path,
        size: deb.len() as u64,
        sha256: hex::encode(Sha256::digest(&deb)),
        control,
    })
}

enum Content<'a> {
    File(&'a Path),
    Text(&'a str),
    /// A symbolic link to this target.
    Link(&'a str),
}

impl Content<'_> {
    fn len(&self) -> Result<u64> {
        match self {
            Content::File(p) => std::fs::metadata(p)
                .map(|m| m.len())
                .map_err(|e| Error::io("read", p, e)),
            Content::Text(t) => Ok(t.len() as u64),
            Content::Link(_) => Ok(0),
        }
    }
}

/// A copy of `program` at `to` without debugging information (`strip --strip-debug`).
fn stripped(program: &Path, to: &Path) -> Result<PathBuf> {
    let mut cmd = std::process::Command::new("strip");
    cmd.args(["--strip-debug", "--remove-section=.comment", "-o"])
        .arg(to)
        .arg(program);
    tool_output(
        ErrorKind::Tool,
        "strip",
        &mut cmd,
        "install binutils (strip) to package particle",
    )?;
    Ok(to.to_owned())
}

/// `dpkg-shlibdeps` on `programs` (run in `dir`, which gets the minimal `debian/control` it
/// reads): the `Depends` of their shared libraries.
fn shlibdeps(dir: &Path, programs: &[&Path]) -> Result<String> {
    let debian = dir.join("debian");
    std::fs::create_dir_all(&debian).map_err(|e| Error::io("create", &debian, e))?;
    let control = debian.join("control");
    std::fs::write(
        &control,
        "Source: particle\n\nPackage: particle\nArchitecture: any\n",
    )
    .map_err(|e| Error::io("write", &control, e))?;
    let mut cmd = std::process::Command::new("dpkg-shlibdeps");
    cmd.current_dir(dir).arg("-O").args(programs);
    let out = tool_output(
        ErrorKind::Tool,
        "dpkg-shlibdeps",
        &mut cmd,
        "install dpkg-dev (dpkg-shlibdeps) to package particle",
    )?;
    out.lines()
        .find_map(|l| l.strip_prefix("shlibs:Depends="))
        .map(str::to_owned)
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Tool,
                format!("dpkg-shlibdeps printed no shlibs:Depends: {out}"),
            )
        })
}

/// A gzip-compressed tar of `files` (paths relative to `./`), with their parent directories,
/// owned by root, at [`EPOCH`], in path order.
fn tar_gz(files: &[(&str, Content<'_>, u32)]) -> Result<Vec<u8>> {
    let gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::best());
    let mut tar = tar::Builder::new(gz);
    let mut dirs = std::collections::BTreeSet::new();
    for (path, _, _) in files {
        let mut p = Path::new(path).parent();
        while let Some(d) = p.filter(|d| !d.as_os_str().is_empty()) {
            dirs.insert(d.to_owned());
            p = d.parent();
        }
    }
    let header = |kind: tar::EntryType, mode: u32, size: u64| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_size(size);
        h.set_mtime(EPOCH);
        h.set_uid(0);
        h.set_gid(0);
        let _ = h.set_username("root");
        let _ = h.set_groupname("root");
        h
    };
    let io = |e: std::io::Error| {
        Error::new(
            ErrorKind::Io,
            format!("could not write a package archive: {e}"),
        )
    };
    let mut h = header(tar::EntryType::Directory, 0o755, 0);
    tar.append_data(&mut h, "./", std::io::empty())
        .map_err(io)?;
    for d in &dirs {
        let mut h = header(tar::EntryType::Directory, 0o755, 0);
        tar.append_data(&mut h, format!("./{}/", d.display()), std::io::empty())
            .map_err(io)?;
    }
    let mut sorted: Vec<&(&str, Content<'_>, u32)> = files.iter().collect();
    sorted.sort_by_key(|f| f.0);
    for (path, content, mode) in sorted {
        let name = format!("./{path}");
        match content {
            Content::File(p) => {
                let f = std::fs::File::open(p).map_err(|e| Error::io("open", p, e))?;
                let mut h = header(tar::EntryType::Regular, *mode, content.len()?);
                tar.append_data(&mut h, name, f).map_err(io)?;
            }
            Content::Text(t) => {
                let mut h = header(tar::EntryType::Regular, *mode, t.len() as u64);
                tar.append_data(&mut h, name, t.as_bytes()).map_err(io)?;
            }
            Content::Link(target) => {
                let mut h = header(tar::EntryType::Symlink, *mode, 0);
                tar.append_link(&mut h, name, target).map_err(io)?;
            }
        }
    }
    tar.into_inner().and_then(|gz| gz.finish()).map_err(io)
}

/// One member of a Debian `ar` archive: name, mtime 0, owner 0, mode 644, padded to even.
fn ar_member(out: &mut Vec<u8>, name: &str, data: &[u8]) {
    let _ = writeln!(
        out,
        "{:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`",
        name,
        0,
        0,
        0,
        "100644",
        data.len()
    );
    out.extend_from_slice(data);
    if data.len() % 2 == 1 {
        out.push(b'\n');
    }
}

/// A local archive at `dir` that offers `package` (suite `particle`, component `main`),
/// signed with a key kept in `dir/gnupg` (made on first use). Returns the public keyring that
/// verifies it (`dir/keyring.gpg`). `date` is the Release `Date` (seconds since the epoch).
pub fn write_archive(dir: &Path, package: &BuiltPackage, date: i64) -> Result<PathBuf> {
    let home = dir.join("gnupg");
    let keyring = dir.join("keyring.gpg");
    let gpg = |args: &[&str]| -> Result<String> {
        let mut cmd = std::process::Command::new("gpg");
        cmd.arg("--homedir")
            .arg(&home)
            .args([
                "--batch",
                "--quiet",
                "--yes",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
            ])
            .args(args);
        tool_output(ErrorKind::Tool, "gpg", &mut cmd, "install gnupg (gpg)")
    };
    if !keyring.exists() {
        std::fs::create_dir_all(&home).map_err(|e| Error::io("create", &home, e))?;
        std::fs::set_permissions(&home, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .map_err(|e| Error::io("restrict", &home, e))?;
        gpg(&[
            "--quick-gen-key",
            "particle local archive <particle@localhost>",
            "ed25519",
            "sign",
            "never",
        ])?;
        let mut cmd = std::process::Command::new("gpg");
        cmd.arg("--homedir")
            .arg(&home)
            .args(["--batch", "--export"]);
        let out = cmd
            .output()
            .map_err(|e| Error::new(ErrorKind::Tool, format!("could not run gpg: {e}")))?;
        store::write_atomic(&keyring, &out.stdout).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("could not write {}: {e}", keyring.display()),
            )
        })?;
    }
    let pool = dir.join("pool/main/p/particle");
    std::fs::create_dir_all(&pool).map_err(|e| Error::io("create", &pool, e))?;
    let file = package
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let in_pool = pool.join(&file);
    if in_pool != package.path {
        std::fs::copy(&package.path, &in_pool).map_err(|e| Error::io("copy into", &in_pool, e))?;
    }
    let packages = format!(
        "{}Filename: pool/main/p/particle/{file}\nSize: {}\nSHA256: {}\n",
        package.control, package.size, package.sha256
    );
    let suite = dir.join("dists/particle");
    let index_rel = format!("main/binary-{}/Packages", package.arch);
    let index = suite.join(&index_rel);
    std::fs::create_dir_all(index.parent().expect("a parent"))
        .map_err(|e| Error::io("create", &suite, e))?;
    std::fs::write(&index, &packages).map_err(|e| Error::io("write", &index, e))?;
    let release = format!(
        "Origin: particle\nLabel: particle\nSuite: particle\nCodename: particle\nDate: {}\nArchitectures: {}\nComponents: main\nDescription: particle's own package, built from the running program\nSHA256:\n {} {} {index_rel}\n",
        store::format_rfc2822(date),
        package.arch,
        hex::encode(Sha256::digest(packages.as_bytes())),
        packages.len(),
    );
    let release_path = suite.join("Release");
    std::fs::write(&release_path, &release).map_err(|e| Error::io("write", &release_path, e))?;
    let inrelease = suite.join("InRelease");
    gpg(&[
        "--digest-algo",
        "SHA512",
        "--output",
        &inrelease.to_string_lossy(),
        "--clearsign",
        &release_path.to_string_lossy(),
    ])?;
    Ok(keyring)
}

/// The program `name` beside the running one (a build tree), else `installed` (the package's
/// place for it), whichever is a file.
pub fn sibling_program(name: &str, installed: &str) -> Option<PathBuf> {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|e| Some(e.parent()?.join(name)));
    beside
        .into_iter()
        .chain(std::iter::once(PathBuf::from(installed)))
        .find(|p| p.is_file())
}

/// [`sibling_program`], or `tool` naming both places when it is in neither.
pub fn require_sibling(name: &str, installed: &str) -> Result<PathBuf> {
    sibling_program(name, installed).ok_or_else(|| {
        Error::new(
            ErrorKind::Tool,
            format!("{name} was not found beside the running program nor at {installed}"),
        )
        .hint("build the whole workspace (`cargo build`), or install particle's package")
    })
}

/// Replaces this process with the program `name` ([`require_sibling`]) run with `argv`
/// (`argv[0]` kept, the rest its arguments; environment and descriptors inherited): how
/// `particle` hands a command to `particle-full`. Returns only when that fails.
pub fn exec_sibling(name: &str, installed: &str, argv: &[std::ffi::OsString]) -> Error {
    use std::os::unix::process::CommandExt;
    let program = match require_sibling(name, installed) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let mut command = std::process::Command::new(&program);
    command.args(argv.iter().skip(1));
    if let Some(arg0) = argv.first() {
        command.arg0(arg0);
    }
    let e = command.exec();
    Error::new(
        ErrorKind::Tool,
        format!("could not run {}: {e}", program.display()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_archive_holds_the_units_and_the_timer_link() {
        let gz = tar_gz(&[
            (UPGRADE_TIMER, Content::Text(UPGRADE_TIMER_TEXT), 0o644),
            (
                UPGRADE_TIMER_WANTS,
                Content::Link("../particle-upgrade.timer"),
                0o777,
            ),
        ])
        .expect("archive");
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(gz.as_slice()));
        let mut seen = Vec::new();
        for e in archive.entries().expect("entries") {
            let e = e.expect("entry");
            let path = e.path().expect("path").display().to_string();
            if e.header().entry_type().is_symlink() {
                let target = e.link_name().expect("link").expect("a target");
                seen.push(format!("{path} -> {}", target.display()));
            } else if e.header().entry_type().is_file() {
                seen.push(path);
            }
        }
        assert_eq!(
            seen,
            [
                UPGRADE_TIMER.to_owned(),
                format!("{UPGRADE_TIMER_WANTS} -> ../particle-upgrade.timer"),
            ]
        );
        assert!(UPGRADE_SERVICE_TEXT.contains("ExecStart=/usr/bin/particle upgrade --auto"));
    }

    #[test]
    fn ar_members_are_padded_to_even_offsets() {
        let mut out = Vec::new();
        ar_member(&mut out, "debian-binary", b"2.0\n");
        assert_eq!(out.len(), 60 + 4);
        assert!(out.starts_with(b"debian-binary   0           0     0     100644  4         `\n"));
        ar_member(&mut out, "x", b"abc");
        assert_eq!(out.len(), 64 + 60 + 4);
    }
}
