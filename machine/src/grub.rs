//! `grub.cfg` from ostree's boot loader entries. Debian's GRUB 2.06 has no `blscfg` (a Fedora
//! patch), and ostree's own generator (`15_ostree` → `ostree admin instutil grub2-generate`)
//! writes `linux16`/`linuxefi`, commands of Fedora's GRUB. particle writes a plain `grub.cfg`
//! instead, on every deploy: one `menuentry` per BLS entry, in ostree's order.

use crate::{BootEntry, Error, ErrorKind, Result};
use std::fmt::Write as _;
use std::path::Path;

/// Where a sysroot whose `grub.cfg` particle writes keeps the [`GrubSettings`]: the next deploy
/// reads them to regenerate the menu.
const SETTINGS: &str = "boot/grub/particle.env";

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

    /// Records the settings in `sysroot` and writes its `grub.cfg` from its entries.
    pub fn install(&self, sysroot: &Path) -> Result<()> {
        let path = sysroot.join(SETTINGS);
        let dir = path.parent().expect("SETTINGS has a parent");
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
        std::fs::write(&path, self.to_text()).map_err(|e| Error::io("write", &path, e))?;
        crate::sysroot::write_grub_cfg(sysroot, self)
    }
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
