//! `particle image`: a bootable disk of one commit, written without loop devices.
//!
//! Layout (DOS partition table, 1 MiB aligned):
//!
//! ```text
//! sector 0        MBR: GRUB's boot.img (BIOS), the partition table
//! sectors 1..2047 GRUB's core.img (BIOS), found by boot.img at sector 1
//! partition 1     EFI System partition, FAT, /EFI/BOOT/BOOTX64.EFI (UEFI)      [uefi]
//! partition 2     ext4 "particle-root": the OSTree sysroot, /boot/grub/grub.cfg  (active)
//! ```
//!
//! The sysroot is prepared in a staging directory beside OUT (`ostree admin init-fs`,
//! `os-init`, `pull-local`, `admin deploy`), the root file system is made from it with
//! `mkfs.ext4 -d` straight into the image file at the partition's offset, the ESP with
//! `mkfs.fat --offset` and `mcopy`, GRUB's images with `grub-mkimage` from the modules the
//! commit itself carries (`/usr/lib/grub/{i386-pc,x86_64-efi}`). OUT appears by one rename
//! (`RENAME_NOREPLACE`): complete or absent. UUIDs and the disk signature are derived from the
//! commit, so two images of one commit name their file systems alike.

use crate::disk::{mbr, Partition, SECTOR};
use crate::ostree_cmd::tool_output;
use crate::sysroot::{deploy, DeployRequest};
use crate::{Error, ErrorKind, GrubSettings, Result};
use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Which firmware the disk boots with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Firmware {
    /// Legacy BIOS (SeaBIOS): GRUB `i386-pc` in the MBR and the gap after it.
    Bios,
    /// UEFI (OVMF): GRUB `x86_64-efi` as the removable-media loader on an ESP.
    Uefi,
    /// Both: one disk that boots either way.
    Both,
}

impl Firmware {
    fn bios(self) -> bool {
        matches!(self, Firmware::Bios | Firmware::Both)
    }
    fn uefi(self) -> bool {
        matches!(self, Firmware::Uefi | Firmware::Both)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Firmware::Bios => "bios",
            Firmware::Uefi => "uefi",
            Firmware::Both => "both",
        }
    }
}

/// The image file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Raw,
    /// qcow2, converted from the raw disk with `qemu-img`.
    Qcow2,
}

/// Adds the machine's own state to a staged sysroot (see [`ImageRequest::seed`]); the error
/// is a message for people.
pub type Seed<'a> = dyn Fn(&Path) -> std::result::Result<(), String> + 'a;

/// What to write.
#[derive(Clone)]
pub struct ImageRequest<'a> {
    /// The repository holding the commit.
    pub repo: &'a Path,
    pub commit: &'a str,
    pub variant: &'a str,
    /// Names the commit in errors ("variant base (transaction 3, commit …)").
    pub what: &'a str,
    pub stateroot: &'a str,
    /// The variant's recorded kernel arguments.
    pub kargs: &'a [String],
    /// The machine's own kernel arguments (`--karg`), after `root=UUID=… rw`.
    pub host_kargs: &'a [String],
    pub firmware: Firmware,
    pub format: Format,
    /// Disk size in bytes; `None`: twice the tree plus 512 MiB, room for the next deployment.
    pub size: Option<u64>,
    /// A crypt(3) hash for root's password in the image's `/etc/shadow` (`None`: locked, as
    /// Debian ships it).
    pub root_password_hash: Option<&'a str>,
    /// Seconds since the epoch for every timestamp the tools write (the transaction time).
    pub time: u64,
    pub out: &'a Path,
    /// Called with the staged sysroot once the commit is deployed, before the file systems are
    /// written: the caller adds the machine's own state (its journal in `/var`). An error
    /// (kind `machine_state`) ends the build with nothing written.
    pub seed: Option<&'a Seed<'a>>,
}

/// What [`build_image`] wrote.
#[derive(Debug, Clone)]
pub struct ImageReport {
    pub out: PathBuf,
    /// Disk size in bytes (the virtual size for qcow2).
    pub size: u64,
    /// Bytes the sysroot takes (what the root file system holds).
    pub tree_bytes: u64,
    pub root_uuid: String,
    pub kernel: String,
    /// The default entry's kernel command line.
    pub options: String,
    pub deployment: String,
    pub partitions: Vec<Partition>,
}

const MIB: u64 = 1 << 20;
/// First partition at 1 MiB: sectors 1..2047 hold GRUB's core.img.
const FIRST: u64 = 2048;
const ESP_SECTORS: u64 = 64 * MIB / SECTOR;
const GRUB_MODULES: &[&str] = &[
    "part_msdos",
    "part_gpt",
    "ext2",
    "fat",
    "normal",
    "linux",
    "serial",
    "terminal",
    "configfile",
    "echo",
    "test",
    "search",
    "search_fs_uuid",
    "gzio",
    "ls",
    "cat",
    "boot",
];

/// A UUID derived from the commit (a version-4 shape, the bits fixed as RFC 4122 asks).
fn derived_uuid(commit: &str, purpose: &str) -> String {
    let h = Sha256::digest(format!("particle image {purpose} {commit}"));
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..]
    )
}

/// Bytes a tree takes on disk: every inode's blocks once (hard links counted once).
fn tree_bytes(root: &Path) -> Result<u64> {
    use std::os::unix::fs::MetadataExt;
    let mut seen = std::collections::HashSet::new();
    let mut total = 0u64;
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).map_err(|e| Error::io("list", &dir, e))? {
            let e = e.map_err(|e| Error::io("list", &dir, e))?;
            let m = e
                .path()
                .symlink_metadata()
                .map_err(|x| Error::io("stat", &e.path(), x))?;
            if m.nlink() > 1 && !m.is_dir() && !seen.insert((m.dev(), m.ino())) {
                continue;
            }
            total += m.blocks() * 512;
            if m.is_dir() {
                stack.push(e.path());
            }
        }
    }
    Ok(total)
}

/// Leftovers of builds killed before they finished: staging directories beside OUT whose lock
/// nobody holds.
fn sweep_stale(dir: &Path) {
    let Ok(listing) = std::fs::read_dir(dir) else {
        return;
    };
    for e in listing.flatten() {
        if !e
            .file_name()
            .to_string_lossy()
            .starts_with(".particle-image-")
        {
            continue;
        }
        let lock = e.path().join("lock");
        let Ok(f) = File::open(&lock) else { continue };
        if rustix::fs::flock(&f, rustix::fs::FlockOperation::NonBlockingLockExclusive).is_ok() {
            tracing::info!("removing the leftover {}", e.path().display());
            let _ = make_mutable(&e.path());
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// ostree marks deployment roots immutable; a staging sysroot is deployed with
/// `mutable-deployments`, but one left by an older build may not be.
fn make_mutable(dir: &Path) -> std::io::Result<()> {
    let _ = std::process::Command::new("chattr")
        .arg("-R")
        .arg("-i")
        .arg(dir)
        .stderr(std::process::Stdio::null())
        .status()?;
    Ok(())
}

/// Writes the image (see the module documentation). Nothing is left at `req.out` unless
/// everything succeeded; a refusal (no kernel, no GRUB in the commit, a size too small, an
/// existing OUT) comes before the image file is created.
pub fn build_image(req: &ImageRequest<'_>, say: &dyn Fn(&str)) -> Result<ImageReport> {
    if req.out.symlink_metadata().is_ok() {
        return Err(Error::new(
            ErrorKind::Exists,
            format!(
                "{} exists; particle image never overwrites",
                req.out.display()
            ),
        )
        .hint("choose another name or remove it first"));
    }
    let parent = match req.out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = req.out.file_name().ok_or_else(|| {
        Error::new(
            ErrorKind::Usage,
            format!("{} names no file", req.out.display()),
        )
    })?;
    crate::sysroot::check_bootable(req.repo, req.commit, req.what, req.variant)?;
    for (wanted, dir) in [
        (req.firmware.bios(), "i386-pc"),
        (req.firmware.uefi(), "x86_64-efi"),
    ] {
        if wanted && !crate::sysroot::has_dir(req.repo, req.commit, &["usr", "lib", "grub", dir])? {
            let (firmware, package) = if dir == "i386-pc" {
                ("BIOS", "grub-pc-bin")
            } else {
                ("UEFI", "grub-efi-amd64-bin")
            };
            return Err(Error::new(
                ErrorKind::NoBootloader,
                format!(
                    "{} has no GRUB for {firmware} (/usr/lib/grub/{dir}), so it cannot boot with {firmware} firmware",
                    req.what
                ),
            )
            .hint(format!(
                "install it: `particle txn install --variant {} {package}`",
                req.variant
            )));
        }
    }
    sweep_stale(&parent);
    let staging = tempfile::Builder::new()
        .prefix(".particle-image-")
        .tempdir_in(&parent)
        .map_err(|e| Error::io("create a staging directory in", &parent, e))?;
    let lock = File::create(staging.path().join("lock"))
        .map_err(|e| Error::io("create", &staging.path().join("lock"), e))?;
    rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockExclusive)
        .map_err(|e| Error::io("lock", &staging.path().join("lock"), e.into()))?;
    // The staging sysroot is deployed with `mutable-deployments`: dropping `staging` removes it.
    build_in(req, staging.path(), &parent.join(name), say)
}

fn build_in(
    req: &ImageRequest<'_>,
    staging: &Path,
    out: &Path,
    say: &dyn Fn(&str),
) -> Result<ImageReport> {
    let root_uuid = derived_uuid(req.commit, "root");
    let disk_id = u32::from_le_bytes(
        Sha256::digest(format!("particle image disk {}", req.commit))[..4]
            .try_into()
            .expect("four bytes"),
    );
    let esp_id = format!("{:08X}", disk_id ^ 0x5a5a_5a5a);

    // The sysroot, deployed with the variant's and the host's kernel arguments.
    let sysroot = staging.join("sysroot");
    let mut host_kargs = vec![format!("root=UUID={root_uuid}"), "rw".to_owned()];
    host_kargs.extend(req.host_kargs.iter().cloned());
    let epoch = req.time.to_string();
    let env = [
        ("OSTREE_SYSROOT_OPTS", "skip-sync"),
        ("OSTREE_SYSROOT_DEBUG", "mutable-deployments"),
        ("SOURCE_DATE_EPOCH", epoch.as_str()),
    ];
    let deployed = deploy(
        &sysroot,
        &DeployRequest {
            repo: req.repo,
            commit: req.commit,
            variant: req.variant,
            what: req.what,
            stateroot: req.stateroot,
            kargs: req.kargs,
            host_kargs: Some(&host_kargs),
            env: &env,
            grub_mkconfig: None,
            stage: false,
        },
        say,
    )?;
    let dep = &deployed.deployment.path;
    if let Some(seed) = req.seed {
        seed(&sysroot).map_err(|m| {
            Error::new(
                ErrorKind::MachineState,
                format!("could not set up the machine's state: {m}"),
            )
        })?;
    }
    if let Some(hash) = req.root_password_hash {
        set_root_password(dep, hash)?;
    }
    let settings = GrubSettings {
        timeout: 1,
        serial: true,
        boot_uuid: root_uuid.clone(),
        boot_prefix: "/boot".to_owned(),
    };
    settings.install(&sysroot)?;

    // Sizes: the root file system takes the rest of the disk.
    let tree = tree_bytes(&sysroot)?;
    let esp = if req.firmware.uefi() { ESP_SECTORS } else { 0 };
    let min_root = tree + tree / 8 + 128 * MIB;
    let min_size = (FIRST + esp) * SECTOR + min_root;
    let size = match req.size {
        Some(s) if s < min_size => {
            return Err(Error::new(
                ErrorKind::TooSmall,
                format!(
                    "{} MiB is too small: the tree takes {} MiB, so the disk needs at least {} MiB",
                    s / MIB,
                    tree.div_ceil(MIB),
                    min_size.div_ceil(MIB)
                ),
            ));
        }
        Some(s) => s / MIB * MIB,
        None => (2 * tree + 512 * MIB).div_ceil(MIB) * MIB + (FIRST + esp) * SECTOR,
    };
    let total_sectors = size / SECTOR;
    let mut partitions = Vec::new();
    if esp > 0 {
        partitions.push(Partition {
            start: FIRST,
            sectors: esp,
            kind: 0xef,
            bootable: false,
        });
    }
    let root = Partition {
        start: FIRST + esp,
        sectors: total_sectors - FIRST - esp,
        kind: 0x83,
        bootable: true,
    };
    partitions.push(root);

    // The disk.
    let raw = staging.join("disk.raw");
    let file = OpenOptions::new()
        .create_new(true)
        .read(true)
        .write(true)
        .open(&raw)
        .map_err(|e| Error::io("create", &raw, e))?;
    file.set_len(size).map_err(|e| Error::io("size", &raw, e))?;
    let mut sector0 = mbr(disk_id, &partitions);
    let grub = staging.join("grub");
    std::fs::create_dir_all(&grub).map_err(|e| Error::io("create", &grub, e))?;
    let early = grub.join("early.cfg");
    std::fs::write(
        &early,
        format!(
            "search --no-floppy --fs-uuid --set=root {root_uuid}\nset prefix=($root)/boot/grub\n"
        ),
    )
    .map_err(|e| Error::io("write", &early, e))?;
    if req.firmware.bios() {
        say("installing GRUB for BIOS");
        let dir = dep.join("usr/lib/grub/i386-pc");
        let core = grub.join("core.img");
        grub_mkimage(&dir, "i386-pc", &early, &core, &["biosdisk"])?;
        let core_bytes = std::fs::read(&core).map_err(|e| Error::io("read", &core, e))?;
        if core_bytes.len() as u64 > (FIRST - 1) * SECTOR {
            return Err(Error::new(
                ErrorKind::Tool,
                format!(
                    "GRUB's core.img is {} bytes, more than the 1 MiB gap",
                    core_bytes.len()
                ),
            ));
        }
        let boot = std::fs::read(dir.join("boot.img"))
            .map_err(|e| Error::io("read", &dir.join("boot.img"), e))?;
        if boot.len() != 512 {
            return Err(Error::new(
                ErrorKind::Tool,
                "GRUB's boot.img is not one sector",
            ));
        }
        // Boot code only: the disk signature and the partition table stay ours.
        sector0[..440].copy_from_slice(&boot[..440]);
        file.write_all_at(&core_bytes, SECTOR)
            .map_err(|e| Error::io("write", &raw, e))?;
    }
    file.write_all_at(&sector0, 0)
        .map_err(|e| Error::io("write", &raw, e))?;
    file.sync_all().map_err(|e| Error::io("sync", &raw, e))?;
    drop(file);

    if req.firmware.uefi() {
        say("installing GRUB for UEFI");
        let efi = grub.join("BOOTX64.EFI");
        grub_mkimage(
            &dep.join("usr/lib/grub/x86_64-efi"),
            "x86_64-efi",
            &early,
            &efi,
            &["efi_gop", "all_video"],
        )?;
        let mut cmd = std::process::Command::new("mkfs.fat");
        cmd.arg("--offset")
            .arg(FIRST.to_string())
            .args(["-F", "32", "-s", "1", "-i", &esp_id, "-n", "PARTICLEEFI"])
            .arg(&raw)
            .arg((esp * SECTOR / 1024).to_string());
        tool_output(ErrorKind::Tool, "mkfs.fat", &mut cmd, "install dosfstools")?;
        let target = format!("{}@@{}", raw.display(), FIRST * SECTOR);
        for dir in ["::/EFI", "::/EFI/BOOT"] {
            let mut cmd = std::process::Command::new("mmd");
            cmd.env("MTOOLS_SKIP_CHECK", "1").args(["-i", &target, dir]);
            tool_output(ErrorKind::Tool, "mmd", &mut cmd, "install mtools")?;
        }
        let mut cmd = std::process::Command::new("mcopy");
        cmd.env("MTOOLS_SKIP_CHECK", "1")
            .args(["-m", "-i", &target])
            .arg(&efi)
            .arg("::/EFI/BOOT/BOOTX64.EFI");
        tool_output(ErrorKind::Tool, "mcopy", &mut cmd, "install mtools")?;
    }

    say(&format!(
        "writing the root file system ({} MiB of tree into {} MiB)",
        tree.div_ceil(MIB),
        root.sectors * SECTOR / MIB
    ));
    let mut cmd = std::process::Command::new("mkfs.ext4");
    cmd.env("E2FSPROGS_FAKE_TIME", &epoch)
        .args(["-q", "-F", "-L", "particle-root", "-U", &root_uuid])
        .arg("-E")
        .arg(format!(
            "offset={},hash_seed={root_uuid}",
            root.start * SECTOR
        ))
        .arg("-d")
        .arg(&sysroot)
        .arg(&raw)
        .arg(format!("{}k", root.sectors * SECTOR / 1024));
    tool_output(ErrorKind::Tool, "mkfs.ext4", &mut cmd, "install e2fsprogs").map_err(|e| {
        if e.message().contains("Could not allocate") || e.message().contains("No space") {
            Error::new(
                ErrorKind::TooSmall,
                format!(
                    "the root file system ({} MiB) cannot hold the tree ({} MiB): {}",
                    root.sectors * SECTOR / MIB,
                    tree.div_ceil(MIB),
                    e.message()
                ),
            )
        } else {
            e
        }
    })?;

    let finished = match req.format {
        Format::Raw => raw,
        Format::Qcow2 => {
            let q = staging.join("disk.qcow2");
            let mut cmd = std::process::Command::new("qemu-img");
            cmd.args(["convert", "-f", "raw", "-O", "qcow2"])
                .arg(&raw)
                .arg(&q);
            tool_output(ErrorKind::Tool, "qemu-img", &mut cmd, "install qemu-utils")?;
            q
        }
    };
    File::open(&finished)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io("sync", &finished, e))?;
    rustix::fs::renameat_with(
        rustix::fs::CWD,
        &finished,
        rustix::fs::CWD,
        out,
        rustix::fs::RenameFlags::NOREPLACE,
    )
    .map_err(|e| match e {
        rustix::io::Errno::EXIST => Error::new(
            ErrorKind::Exists,
            format!(
                "{} appeared while the image was built; it was left as it is",
                out.display()
            ),
        ),
        e => Error::io("rename the image to", out, e.into()),
    })?;
    if let Some(dir) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        let _ = File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(ImageReport {
        out: out.to_owned(),
        size,
        tree_bytes: tree,
        root_uuid,
        kernel: deployed.kernel,
        options: deployed.options,
        deployment: deployed.deployment.checksum,
        partitions,
    })
}

fn grub_mkimage(dir: &Path, format: &str, early: &Path, out: &Path, extra: &[&str]) -> Result<()> {
    let mut cmd = std::process::Command::new("grub-mkimage");
    cmd.arg("-d")
        .arg(dir)
        .args(["-O", format, "-p", "/boot/grub", "-c"])
        .arg(early)
        .arg("-o")
        .arg(out)
        .args(GRUB_MODULES)
        .args(extra);
    tool_output(
        ErrorKind::Tool,
        "grub-mkimage",
        &mut cmd,
        "install grub-common",
    )
    .map(drop)
}

/// Sets root's password hash in the deployment's `/etc/shadow` (a local change of `/etc`, which
/// every later deploy carries over).
fn set_root_password(deployment: &Path, hash: &str) -> Result<()> {
    if hash.contains([':', '\n']) {
        return Err(Error::new(
            ErrorKind::Usage,
            "a password hash holds no ':' or newline",
        ));
    }
    let path = deployment.join("etc/shadow");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io("read", &path, e))?;
    let mut found = false;
    let lines: Vec<String> = text
        .lines()
        .map(|l| {
            let mut f: Vec<&str> = l.split(':').collect();
            if f.first() == Some(&"root") && f.len() > 1 {
                found = true;
                f[1] = hash;
            }
            f.join(":")
        })
        .collect();
    if !found {
        return Err(Error::new(
            ErrorKind::Io,
            format!("{} has no root entry", path.display()),
        ));
    }
    // Rewritten in place: the file keeps its owner and mode (0640 root:shadow).
    std::fs::write(&path, lines.join("\n") + "\n").map_err(|e| Error::io("write", &path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_derived_from_the_commit() {
        let a = derived_uuid("abc", "root");
        assert_eq!(a, derived_uuid("abc", "root"));
        assert_ne!(a, derived_uuid("abd", "root"));
        assert_ne!(a, derived_uuid("abc", "esp"));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4", "version 4 shape: {a}");
    }

    #[test]
    fn the_root_password_goes_into_shadow_and_nothing_else_changes() {
        let d = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(d.path().join("etc")).expect("mkdir");
        std::fs::write(
            d.path().join("etc/shadow"),
            "root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n",
        )
        .expect("write");
        set_root_password(d.path(), "$6$s$h").expect("set");
        assert_eq!(
            std::fs::read_to_string(d.path().join("etc/shadow")).expect("read"),
            "root:$6$s$h:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n"
        );
        assert!(set_root_password(d.path(), "a:b").is_err());
    }
}
