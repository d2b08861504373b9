//! Tar entries of the control and data members, with the extension headers (GNU long names,
//! PAX records) applied here under our limits rather than by the `tar` crate, which would read
//! them into memory unbounded. The `tar` crate is used in raw mode: header blocks, checksums and
//! entry data framing only.

use super::{DebError, DebLimits};
use std::io::{self, Read};

/// What a tar entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    File,
    Directory,
    Symlink,
    /// A hard link to an earlier entry (its path is in `link_target`).
    HardLink,
    CharDevice,
    BlockDevice,
    Fifo,
}

/// The metadata of one tar entry, extension headers applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryMeta {
    /// The path as written in the archive (usually `./usr/...`), raw bytes.
    pub path: Vec<u8>,
    pub kind: EntryKind,
    /// Permission bits, including setuid/setgid/sticky (`mode & 0o7777`).
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub uname: String,
    pub gname: String,
    /// Size of the content in bytes (0 for everything but regular files).
    pub size: u64,
    /// Modification time, seconds since the epoch.
    pub mtime: u64,
    /// Target of a symlink or hard link, raw bytes.
    pub link_target: Option<Vec<u8>>,
    /// (major, minor) of a device node.
    pub device: Option<(u32, u32)>,
}

impl EntryMeta {
    /// The path without its leading `./` or `/`, as `md5sums` and `conffiles` (minus its `/`) name it.
    pub fn relative_path(&self) -> &[u8] {
        let p = self.path.as_slice();
        let p = p.strip_prefix(b"./").unwrap_or(p);
        p.strip_prefix(b"/").unwrap_or(p)
    }

    /// The path for messages (lossy).
    pub fn display_path(&self) -> String {
        String::from_utf8_lossy(&self.path).into_owned()
    }
}

/// Extension headers collected for the next real entry.
#[derive(Default)]
struct Pending {
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
    pax: Option<Pax>,
}

#[derive(Default)]
struct Pax {
    path: Option<Vec<u8>>,
    linkpath: Option<Vec<u8>>,
    size: Option<u64>,
    uid: Option<u64>,
    gid: Option<u64>,
    uname: Option<String>,
    gname: Option<String>,
    mtime: Option<u64>,
}

/// Counts entries and turns raw `tar` entries into [`EntryMeta`] plus the entry (for its content).
pub(crate) struct EntryReader {
    pub(crate) member: &'static str,
    pub(crate) limits: DebLimits,
    pub(crate) count: u64,
}

impl EntryReader {
    /// The next real entry, or `None` at the end of the archive.
    pub(crate) fn next<'a, R: Read>(
        &mut self,
        entries: &mut tar::Entries<'a, R>,
    ) -> Result<Option<(EntryMeta, tar::Entry<'a, R>)>, DebError> {
        let mut pending = Pending::default();
        loop {
            let Some(entry) = entries.next() else {
                if pending.long_name.is_some()
                    || pending.long_link.is_some()
                    || pending.pax.is_some()
                {
                    return Err(self.bad(
                        "(end of archive)",
                        "extension header without an entry after it",
                    ));
                }
                return Ok(None);
            };
            let mut entry = entry.map_err(|e| super::tar_error(self.member, e))?;
            self.count += 1;
            if self.count > self.limits.max_entries {
                return Err(DebError::TooManyEntries {
                    member: self.member,
                    limit: self.limits.max_entries,
                });
            }
            let ty = entry.header().entry_type();
            let size = entry.size();
            let header_path = entry.header().path_bytes().into_owned();
            let shown = String::from_utf8_lossy(&header_path).into_owned();
            match ty.as_byte() {
                b'L' | b'K' => {
                    let slot = if ty.as_byte() == b'L' {
                        &mut pending.long_name
                    } else {
                        &mut pending.long_link
                    };
                    if slot.is_some() {
                        return Err(self.bad(&shown, "two GNU long-name headers for one entry"));
                    }
                    // The value ends with a NUL, hence the + 1.
                    let limit = self.limits.max_name_len as u64 + 1;
                    if size > limit {
                        return Err(DebError::NameTooLong {
                            member: self.member,
                            len: size,
                            limit: self.limits.max_name_len,
                        });
                    }
                    let mut v = Vec::with_capacity(size as usize);
                    entry
                        .read_to_end(&mut v)
                        .map_err(|e| super::tar_error(self.member, e))?;
                    while v.last() == Some(&0) {
                        v.pop();
                    }
                    *slot = Some(v);
                }
                b'x' => {
                    if pending.pax.is_some() {
                        return Err(self.bad(&shown, "two PAX headers for one entry"));
                    }
                    if size > self.limits.max_pax_size {
                        return Err(DebError::PaxTooLarge {
                            member: self.member,
                            size,
                            limit: self.limits.max_pax_size,
                        });
                    }
                    let mut v = Vec::with_capacity(size as usize);
                    entry
                        .read_to_end(&mut v)
                        .map_err(|e| super::tar_error(self.member, e))?;
                    pending.pax = Some(parse_pax(&v).map_err(|what| self.bad(&shown, what))?);
                }
                _ => return self.finish(pending, entry, header_path).map(Some),
            }
        }
    }

    fn finish<'a, R: Read>(
        &self,
        pending: Pending,
        entry: tar::Entry<'a, R>,
        header_path: Vec<u8>,
    ) -> Result<(EntryMeta, tar::Entry<'a, R>), DebError> {
        let h = entry.header();
        let shown = String::from_utf8_lossy(&header_path).into_owned();
        let ty = h.entry_type().as_byte();
        let kind = match ty {
            b'0' | 0 | b'7' => EntryKind::File,
            b'1' => EntryKind::HardLink,
            b'2' => EntryKind::Symlink,
            b'3' => EntryKind::CharDevice,
            b'4' => EntryKind::BlockDevice,
            b'5' => EntryKind::Directory,
            b'6' => EntryKind::Fifo,
            other => {
                return Err(DebError::UnsupportedEntryType {
                    member: self.member,
                    entry: shown,
                    kind: other,
                })
            }
        };
        let mut pax = pending.pax.unwrap_or_default();
        let path = pax.path.take().or(pending.long_name).unwrap_or(header_path);
        let bad_field = |what: &'static str| self.bad(&shown, what);
        let size = entry.size();
        if let Some(pax_size) = pax.size {
            if pax_size != size {
                return Err(DebError::PaxSizeMismatch {
                    member: self.member,
                    entry: shown,
                    header: size,
                    pax: pax_size,
                });
            }
        }
        if kind != EntryKind::File && size != 0 {
            return Err(bad_field("non-file entry with content"));
        }
        let link_target = match kind {
            EntryKind::Symlink | EntryKind::HardLink => {
                let t = pax
                    .linkpath
                    .take()
                    .or(pending.long_link)
                    .or_else(|| h.link_name_bytes().map(|c| c.into_owned()))
                    .unwrap_or_default();
                if t.is_empty() {
                    return Err(bad_field("link without a target"));
                }
                Some(t)
            }
            _ => None,
        };
        for name in std::iter::once(&path).chain(link_target.as_ref()) {
            if name.len() > self.limits.max_name_len {
                return Err(DebError::NameTooLong {
                    member: self.member,
                    len: name.len() as u64,
                    limit: self.limits.max_name_len,
                });
            }
            if name.contains(&0) {
                return Err(bad_field("NUL byte in a name"));
            }
        }
        if path.is_empty() {
            return Err(bad_field("empty path"));
        }
        let num = |r: io::Result<u64>, what| r.map_err(|_| bad_field(what));
        let device = match kind {
            EntryKind::CharDevice | EntryKind::BlockDevice => {
                let major = h
                    .device_major()
                    .ok()
                    .flatten()
                    .ok_or_else(|| bad_field("bad device major"))?;
                let minor = h
                    .device_minor()
                    .ok()
                    .flatten()
                    .ok_or_else(|| bad_field("bad device minor"))?;
                Some((major, minor))
            }
            _ => None,
        };
        let name = |b: Option<&[u8]>| {
            b.map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default()
        };
        let meta = EntryMeta {
            path,
            kind,
            mode: h.mode().map_err(|_| bad_field("bad mode"))? & 0o7777,
            uid: match pax.uid {
                Some(u) => u,
                None => num(h.uid(), "bad uid")?,
            },
            gid: match pax.gid {
                Some(g) => g,
                None => num(h.gid(), "bad gid")?,
            },
            uname: pax.uname.take().unwrap_or_else(|| name(h.username_bytes())),
            gname: pax
                .gname
                .take()
                .unwrap_or_else(|| name(h.groupname_bytes())),
            size,
            mtime: match pax.mtime {
                Some(m) => m,
                None => num(h.mtime(), "bad mtime")?,
            },
            link_target,
            device,
        };
        Ok((meta, entry))
    }

    fn bad(&self, entry: &str, what: &'static str) -> DebError {
        DebError::BadEntry {
            member: self.member,
            entry: entry.to_owned(),
            what,
        }
    }
}

/// Parses PAX extended header records: `<len> <key>=<value>\n`, `len` counting the whole record.
fn parse_pax(mut data: &[u8]) -> Result<Pax, &'static str> {
    let mut pax = Pax::default();
    while !data.is_empty() {
        let sp = data
            .iter()
            .position(|&b| b == b' ')
            .ok_or("PAX record without a length")?;
        let len: usize = std::str::from_utf8(&data[..sp])
            .ok()
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse().ok())
            .ok_or("PAX record length is not decimal")?;
        if len <= sp + 1 || len > data.len() || data[len - 1] != b'\n' {
            return Err("PAX record length does not match its text");
        }
        let record = &data[sp + 1..len - 1];
        data = &data[len..];
        let eq = record
            .iter()
            .position(|&b| b == b'=')
            .ok_or("PAX record without `=`")?;
        let (key, value) = (&record[..eq], &record[eq + 1..]);
        let number = |v: &[u8], what| -> Result<u64, &'static str> {
            std::str::from_utf8(v)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or(what)
        };
        match key {
            b"path" => pax.path = Some(value.to_vec()),
            b"linkpath" => pax.linkpath = Some(value.to_vec()),
            b"size" => pax.size = Some(number(value, "PAX size is not a number")?),
            b"uid" => pax.uid = Some(number(value, "PAX uid is not a number")?),
            b"gid" => pax.gid = Some(number(value, "PAX gid is not a number")?),
            b"uname" => pax.uname = Some(String::from_utf8_lossy(value).into_owned()),
            b"gname" => pax.gname = Some(String::from_utf8_lossy(value).into_owned()),
            b"mtime" => {
                // Seconds, possibly with a fraction: keep the whole seconds.
                let whole = value.split(|&b| b == b'.').next().unwrap_or(value);
                pax.mtime = Some(number(whole, "PAX mtime is not a number")?);
            }
            // atime, ctime, comments, xattrs: nothing particle installs depends on them.
            _ => {}
        }
    }
    Ok(pax)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_records() {
        let p = parse_pax(b"16 path=a/b/c/d\n11 size=42\n22 mtime=1700000000.5\n").expect("valid");
        assert_eq!(p.path.as_deref(), Some(&b"a/b/c/d"[..]));
        assert_eq!(p.size, Some(42));
        assert_eq!(p.mtime, Some(1_700_000_000));
        assert!(parse_pax(b"99 path=x\n").is_err());
        assert!(parse_pax(b"x path=x\n").is_err());
        assert!(parse_pax(b"11 size=-1\n").is_err());
        assert!(parse_pax(b"7 path\n").is_err());
    }
}
