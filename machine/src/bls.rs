//! Boot Loader Specification entries as ostree writes them (`/boot/loader/entries/*.conf`):
//! `title`, `version`, `options`, `linux`, `initrd`, one key and its value per line.

use crate::{Error, Result};
use std::path::Path;

/// One BLS entry, as ostree writes it for a deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootEntry {
    /// The entry's file name (`ostree-1-particle-os.conf`).
    pub file: String,
    pub title: String,
    /// ostree's ordering key: the highest version is the default deployment.
    pub version: String,
    /// Kernel path relative to the boot file system's root (`/ostree/OS-CSUM/vmlinuz-KVER`).
    pub linux: String,
    pub initrd: Option<String>,
    /// The kernel command line.
    pub options: String,
}

impl BootEntry {
    /// Parses one entry; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<BootEntry> {
        let get = |key: &str| {
            text.lines().find_map(|l| {
                let (k, v) = l.trim().split_once(char::is_whitespace)?;
                (k == key).then(|| v.trim().to_owned())
            })
        };
        let linux = get("linux").ok_or_else(|| {
            Error::new(
                crate::ErrorKind::Deploy,
                format!("boot entry {file} has no `linux` line"),
            )
        })?;
        Ok(BootEntry {
            file: file.to_owned(),
            title: get("title").unwrap_or_else(|| "(untitled)".to_owned()),
            version: get("version").unwrap_or_default(),
            linux,
            initrd: get("initrd"),
            options: get("options").unwrap_or_default(),
        })
    }
}

/// The entries in `dir` (a sysroot's `boot/loader/entries`), in boot order: ostree's order,
/// highest `version` first (the default deployment, then the rollback), compared as numbers.
pub fn read_entries(dir: &Path) -> Result<Vec<BootEntry>> {
    let mut out = Vec::new();
    let listing = match std::fs::read_dir(dir) {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(Error::io("list", dir, e)),
    };
    for entry in listing {
        let entry = entry.map_err(|e| Error::io("list", dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".conf") {
            continue;
        }
        let path = entry.path();
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io("read", &path, e))?;
        out.push(BootEntry::parse(&name, &text)?);
    }
    sort(&mut out);
    Ok(out)
}

fn sort(entries: &mut [BootEntry]) {
    entries.sort_by(|a, b| {
        let key = |e: &BootEntry| (e.version.parse::<u64>().ok(), e.version.clone());
        key(b).cmp(&key(a)).then_with(|| a.file.cmp(&b.file))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENTRY: &str = "title Debian GNU/Linux 12 (bookworm) (ostree:particle-os:0)\nversion 2\noptions console=ttyS0 ostree=/ostree/boot.1/particle-os/abc/0\nlinux /ostree/particle-os-abc/vmlinuz-6.1.0-44-amd64\ninitrd /ostree/particle-os-abc/initramfs-6.1.0-44-amd64.img\n";

    #[test]
    fn an_ostree_entry_parses() {
        let e = BootEntry::parse("ostree-2-particle-os.conf", ENTRY).expect("parses");
        assert_eq!(e.version, "2");
        assert_eq!(e.linux, "/ostree/particle-os-abc/vmlinuz-6.1.0-44-amd64");
        assert_eq!(
            e.initrd.as_deref(),
            Some("/ostree/particle-os-abc/initramfs-6.1.0-44-amd64.img")
        );
        assert_eq!(
            e.options,
            "console=ttyS0 ostree=/ostree/boot.1/particle-os/abc/0"
        );
        assert!(e.title.ends_with("(ostree:particle-os:0)"));
        let err = BootEntry::parse("x.conf", "title t\n").expect_err("no linux");
        assert_eq!(err.to_string(), "boot entry x.conf has no `linux` line");
    }

    #[test]
    fn entries_sort_highest_version_first_as_numbers() {
        let mk = |file: &str, version: &str| BootEntry {
            file: file.into(),
            title: String::new(),
            version: version.into(),
            linux: "/k".into(),
            initrd: None,
            options: String::new(),
        };
        let mut v = vec![mk("a", "2"), mk("b", "10"), mk("c", "1")];
        sort(&mut v);
        let order: Vec<&str> = v.iter().map(|e| e.file.as_str()).collect();
        assert_eq!(order, ["b", "a", "c"]);
    }

    #[test]
    fn entries_are_read_from_a_directory_in_boot_order() {
        let d = tempfile::tempdir().expect("tempdir");
        std::fs::write(d.path().join("ostree-2-os.conf"), ENTRY).expect("write");
        std::fs::write(
            d.path().join("ostree-1-os.conf"),
            ENTRY.replace("version 2", "version 1"),
        )
        .expect("write");
        std::fs::write(d.path().join("README"), "not an entry").expect("write");
        let e = read_entries(d.path()).expect("reads");
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].file, "ostree-2-os.conf");
        assert!(read_entries(&d.path().join("missing"))
            .expect("empty")
            .is_empty());
    }
}
