//! The partition table of an image: a classic MBR (DOS label), which SeaBIOS, GRUB's `i386-pc`
//! boot sector and OVMF all read. Written here byte by byte instead of running `sfdisk`: it is
//! sixty lines, needs nothing from the host and is the same on every machine.

/// Bytes per sector.
pub const SECTOR: u64 = 512;

/// One primary partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// First sector.
    pub start: u64,
    /// Length in sectors.
    pub sectors: u64,
    /// MBR type: `0x83` Linux, `0xef` EFI System.
    pub kind: u8,
    /// The active flag (some BIOSes only boot a disk with one).
    pub bootable: bool,
}

/// The first sector of the disk: no boot code (the caller lays GRUB's `boot.img` over the first
/// 440 bytes), the disk signature `disk_id`, up to four partitions, the `55 AA` mark. CHS
/// fields hold the "use LBA" values, as current partitioners write for disks of this size.
pub fn mbr(disk_id: u32, parts: &[Partition]) -> [u8; 512] {
    assert!(parts.len() <= 4, "an MBR holds four primary partitions");
    let mut s = [0u8; 512];
    s[440..444].copy_from_slice(&disk_id.to_le_bytes());
    for (i, p) in parts.iter().enumerate() {
        let e = &mut s[446 + 16 * i..446 + 16 * (i + 1)];
        e[0] = if p.bootable { 0x80 } else { 0 };
        e[1..4].copy_from_slice(&[0xfe, 0xff, 0xff]);
        e[4] = p.kind;
        e[5..8].copy_from_slice(&[0xfe, 0xff, 0xff]);
        let start = u32::try_from(p.start).expect("start sector fits an MBR");
        let len = u32::try_from(p.sectors).expect("partition length fits an MBR");
        e[8..12].copy_from_slice(&start.to_le_bytes());
        e[12..16].copy_from_slice(&len.to_le_bytes());
    }
    s[510] = 0x55;
    s[511] = 0xaa;
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `sfdisk --dump` (util-linux, the independent reader) makes of the table.
    #[test]
    fn sfdisk_reads_the_table() {
        let d = tempfile::tempdir().expect("tempdir");
        let img = d.path().join("disk");
        let parts = [
            Partition {
                start: 2048,
                sectors: 65536,
                kind: 0xef,
                bootable: false,
            },
            Partition {
                start: 67584,
                sectors: 100_000,
                kind: 0x83,
                bootable: true,
            },
        ];
        let f = std::fs::File::create(&img).expect("create");
        f.set_len((67584 + 100_000) * SECTOR).expect("size");
        std::fs::write(&img, mbr(0x1234_abcd, &parts)).expect("write");
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(&img)
            .expect("open");
        f.set_len((67584 + 100_000) * SECTOR).expect("size");
        let out = match std::process::Command::new("sfdisk")
            .arg("--dump")
            .arg(&img)
            .output()
        {
            Ok(out) => out,
            Err(e) => panic!("sfdisk (package fdisk, installed by scripts/setup.sh): {e}"),
        };
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("label: dos"), "{text}");
        assert!(text.contains("label-id: 0x1234abcd"), "{text}");
        assert!(
            text.contains("start=        2048, size=       65536, type=ef"),
            "{text}"
        );
        assert!(
            text.contains("start=       67584, size=      100000, type=83, bootable"),
            "{text}"
        );
    }
}
