//! The `ar` container of a `.deb`, parsed by hand: the global magic, then 60-byte member
//! headers, each followed by the member's bytes and one padding byte when the size is odd.
//!
//! ```text
//! offset  width  field
//!      0     16  name, space padded (GNU ar may end it with '/')
//!     16     12  mtime, decimal          (not checked: dpkg ignores it)
//!     28      6  uid, decimal            (not checked)
//!     34      6  gid, decimal            (not checked)
//!     40      8  mode, octal             (not checked)
//!     48     10  size, decimal, space padded
//!     58      2  "`\n"
//! ```

use super::DebError;
use std::io::{self, Read};

/// The global header of every ar archive.
pub(crate) const MAGIC: &[u8; 8] = b"!<arch>\n";
/// The size of one member header.
pub(crate) const HEADER_LEN: usize = 60;

/// One member header, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MemberHeader {
    /// The name with its padding and any GNU trailing `/` removed.
    pub(crate) name: String,
    /// The member's size in bytes (without the alignment byte).
    pub(crate) size: u64,
    /// Offset of the header in the archive.
    pub(crate) offset: u64,
}

/// Decodes a member header found at `offset`.
pub(crate) fn parse_header(h: &[u8; HEADER_LEN], offset: u64) -> Result<MemberHeader, DebError> {
    let raw_name = &h[..16];
    let mut name_end = raw_name
        .iter()
        .rposition(|&b| b != b' ')
        .map_or(0, |i| i + 1);
    if name_end > 0 && raw_name[name_end - 1] == b'/' {
        name_end -= 1;
    }
    let name_bytes = &raw_name[..name_end];
    // Shown in messages; a name that is not printable ASCII never matches a known member.
    let name: String = name_bytes
        .iter()
        .map(|&b| if b.is_ascii_graphic() { b as char } else { '?' })
        .collect();
    if &h[58..60] != b"`\n" {
        return Err(DebError::BadHeaderTerminator {
            offset,
            member: name,
        });
    }
    let size = parse_size(&h[48..58]).ok_or_else(|| DebError::BadSize {
        offset,
        member: name.clone(),
        field: String::from_utf8_lossy(&h[48..58]).into_owned(),
    })?;
    if name_bytes.is_empty() || name_bytes.iter().any(|b| !b.is_ascii_graphic()) {
        return Err(DebError::BadMemberName { offset, name });
    }
    Ok(MemberHeader { name, size, offset })
}

/// Decimal digits, then only spaces; at least one digit. Ten digits cannot overflow a u64.
/// Stricter than dpkg, which allows leading spaces and ignores what follows the first space.
fn parse_size(field: &[u8]) -> Option<u64> {
    let digits = field.iter().position(|&b| b == b' ').unwrap_or(field.len());
    if digits == 0 || field[digits..].iter().any(|&b| b != b' ') {
        return None;
    }
    let mut n: u64 = 0;
    for &b in &field[..digits] {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u64::from(b - b'0');
    }
    Some(n)
}

/// Reads as many bytes as possible into `buf`, stopping early only at end of input.
pub(crate) fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(name: &str, size: &str) -> [u8; HEADER_LEN] {
        let mut h = [b' '; HEADER_LEN];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[16..17].copy_from_slice(b"0");
        h[48..48 + size.len()].copy_from_slice(size.as_bytes());
        h[58..60].copy_from_slice(b"`\n");
        h
    }

    #[test]
    fn decodes_names_and_sizes() {
        let m = parse_header(&header("debian-binary", "4"), 8).expect("valid");
        assert_eq!(
            m,
            MemberHeader {
                name: "debian-binary".into(),
                size: 4,
                offset: 8
            }
        );
        let m = parse_header(&header("data.tar.xz/", "9999999999"), 8).expect("valid");
        assert_eq!((m.name.as_str(), m.size), ("data.tar.xz", 9_999_999_999));
    }

    #[test]
    fn rejects_bad_sizes_and_terminators() {
        for bad in ["", "12a", " 12", "1 2", "-1", "0x10"] {
            let e = parse_header(&header("control.tar", bad), 0).expect_err(bad);
            assert!(matches!(e, DebError::BadSize { .. }), "{bad}: {e}");
        }
        let mut h = header("control.tar", "10");
        h[59] = b'X';
        assert!(matches!(
            parse_header(&h, 0),
            Err(DebError::BadHeaderTerminator { .. })
        ));
        let mut h = header("x", "10");
        h[0] = 0xff;
        assert!(matches!(
            parse_header(&h, 0),
            Err(DebError::BadMemberName { .. })
        ));
    }
}
