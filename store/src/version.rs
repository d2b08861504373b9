//! Debian version syntax and dpkg's ordering, over borrowed strings.
//!
//! Comparison allocates nothing: the solver compares versions in its hot loops. The algorithm is
//! dpkg's `verrevcmp` (deb-version(7)): epoch numerically, then upstream version and revision by
//! alternating non-digit runs (with `~` sorting before everything, even the end of the string)
//! and digit runs compared numerically. `debversion` is used in the tests as an independent oracle,
//! beside `dpkg --compare-versions`.

use std::cmp::Ordering;

/// Why a version string is not a valid Debian version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    #[error("empty version")]
    Empty,
    #[error("version {0:?}: epoch is not a number")]
    BadEpoch(String),
    #[error("version {0:?}: upstream version must start with a digit")]
    UpstreamStart(String),
    #[error("version {0:?}: character {1:?} is not allowed")]
    BadChar(String, char),
}

/// A borrowed, syntactically checked Debian version: `[epoch:]upstream[-revision]`.
#[derive(Debug, Clone, Copy)]
pub struct Version<'a> {
    pub epoch: u64,
    pub upstream: &'a str,
    pub revision: &'a str,
}

impl<'a> Version<'a> {
    /// Parses and checks `s` as dpkg does (a leading letter in upstream is accepted, as dpkg
    /// only warns about it; the real archive has none).
    pub fn parse(s: &'a str) -> Result<Self, VersionError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(VersionError::Empty);
        }
        let (epoch, rest) = match s.split_once(':') {
            Some((e, rest)) => {
                let epoch = e
                    .parse::<u64>()
                    .map_err(|_| VersionError::BadEpoch(s.to_owned()))?;
                (epoch, rest)
            }
            None => (0, s),
        };
        let (upstream, revision) = match rest.rfind('-') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, ""),
        };
        if upstream.is_empty() {
            return Err(VersionError::Empty);
        }
        if let Some(c) = upstream
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '~' | '-' | ':')))
        {
            return Err(VersionError::BadChar(s.to_owned(), c));
        }
        if let Some(c) = revision
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '~')))
        {
            return Err(VersionError::BadChar(s.to_owned(), c));
        }
        Ok(Version {
            epoch,
            upstream,
            revision,
        })
    }
}

impl Ord for Version<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| verrevcmp(self.upstream.as_bytes(), other.upstream.as_bytes()))
            .then_with(|| verrevcmp(self.revision.as_bytes(), other.revision.as_bytes()))
    }
}
impl PartialOrd for Version<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl PartialEq for Version<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Version<'_> {}

/// Compares two version strings as `dpkg --compare-versions` does. Strings that do not parse
/// are compared leniently (epoch 0, split at the last `-`), so the order stays total.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    lenient(a).cmp(&lenient(b))
}

/// [`compare_versions`] of versions given as bytes, as `txn log` reads them in place.
///
/// Two versions of one package mostly share their beginning (`1.0-1+deb12u3`, `1.0-1+deb12u4`):
/// they are compared from where they differ, backed up to the start of the run of digits it is
/// in. That gives the same answer as splitting both and comparing the parts whenever both
/// split as [`compare_versions`] splits them (start and end with a version character) and
/// neither has a `:` or a `-` after that point: then epoch and the upstream/revision split are
/// the same on both sides, and `verrevcmp` of two strings with the same beginning that does not
/// end in a digit is `verrevcmp` of the rests. Anything else is compared whole.
pub fn compare_version_bytes(a: &[u8], b: &[u8]) -> Ordering {
    if let Some(order) = compare_rests(a, b) {
        return order;
    }
    match (std::str::from_utf8(a), std::str::from_utf8(b)) {
        (Ok(a), Ok(b)) => compare_versions(a, b),
        _ => compare_versions(&String::from_utf8_lossy(a), &String::from_utf8_lossy(b)),
    }
}

/// [`compare_version_bytes`] from where `a` and `b` differ, where that decides it.
fn compare_rests(a: &[u8], b: &[u8]) -> Option<Ordering> {
    let version_char = |b: &u8| b.is_ascii_alphanumeric() || b"+.~-:".contains(b);
    let plain =
        |s: &[u8]| s.first().is_some_and(version_char) && s.last().is_some_and(version_char);
    if !plain(a) || !plain(b) {
        return None;
    }
    let common = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let start = a[..common]
        .iter()
        .rposition(|c| !c.is_ascii_digit())
        .map_or(0, |i| i + 1);
    let (x, y) = (&a[start..], &b[start..]);
    let unsplit = |r: &[u8]| !r.iter().any(|&c| c == b':' || c == b'-');
    (unsplit(x) && unsplit(y)).then(|| verrevcmp(x, y))
}

/// `s` split as [`Version::parse`] splits it, or, if it does not parse, at the first `:` and
/// the last `-`. The solver compares versions in its hot loops, so the common case skips the
/// syntax check: when `s` starts and ends with a version character (so `trim` would not change
/// it), both ways split it identically (the check only decides between them), and the split
/// alone gives the answer.
fn lenient(s: &str) -> Version<'_> {
    let version_char = |b: &u8| b.is_ascii_alphanumeric() || b"+.~-:".contains(b);
    let b = s.as_bytes();
    let plain = b.first().is_some_and(version_char) && b.last().is_some_and(version_char);
    if plain {
        return split(s);
    }
    Version::parse(s).unwrap_or_else(|_| split(s))
}

/// `s` split at the first `:` (epoch, 0 if not a number) and the last `-`, unchecked.
fn split(s: &str) -> Version<'_> {
    // Byte searches: `:` and `-` are ASCII, so the slices fall on character boundaries.
    let (epoch, rest) = match s.bytes().position(|b| b == b':') {
        Some(i) => (s[..i].parse().unwrap_or(0), &s[i + 1..]),
        None => (0, s),
    };
    let (upstream, revision) = match rest.bytes().rposition(|b| b == b'-') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    };
    Version {
        epoch,
        upstream,
        revision,
    }
}

fn order(c: u8) -> i32 {
    match c {
        b'~' => -1,
        c if c.is_ascii_digit() => 0,
        c if c.is_ascii_alphabetic() => c as i32,
        c => c as i32 + 256,
    }
}

fn verrevcmp(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let mut first_diff = 0;
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let ac = if i < a.len() { order(a[i]) } else { 0 };
            let bc = if j < b.len() { order(b[j]) } else { 0 };
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while i < a.len() && a[i] == b'0' {
            i += 1;
        }
        while j < b.len() && b[j] == b'0' {
            j += 1;
        }
        while i < a.len() && a[i].is_ascii_digit() && j < b.len() && b[j].is_ascii_digit() {
            if first_diff == 0 {
                first_diff = a[i] as i32 - b[j] as i32;
            }
            i += 1;
            j += 1;
        }
        if i < a.len() && a[i].is_ascii_digit() {
            return Ordering::Greater;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            return Ordering::Less;
        }
        if first_diff != 0 {
            return first_diff.cmp(&0);
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dpkg_examples() {
        let lt = [
            ("1.0~rc1", "1.0"),
            ("1.0", "1.0-1"),
            ("1.0-1", "1.0-2"),
            ("1:0.1", "2:0.0"),
            ("2.30-1", "2.30-1+b1"),
            ("1.2.3", "1.2.10"),
            ("1.0~~", "1.0~"),
            ("1.0a", "1.0b"),
            ("1.0", "1.0a"),
            ("1.0a", "1.0+"),
            ("9", "1:0"),
            ("0.9.2", "0.10"),
        ];
        for (a, b) in lt {
            assert_eq!(compare_versions(a, b), Ordering::Less, "{a} < {b}");
            assert_eq!(compare_versions(b, a), Ordering::Greater, "{b} > {a}");
        }
        assert_eq!(compare_versions("1.0-01", "1.0-1"), Ordering::Equal);
        assert_eq!(compare_versions("0:1.0", "1.0"), Ordering::Equal);
    }

    #[test]
    fn parse_rejects_garbage() {
        assert!(Version::parse("").is_err());
        assert!(Version::parse("a:1").is_err());
        assert!(Version::parse("1.0 beta").is_err());
        assert!(Version::parse("1.0-1_2").is_err());
        let v = Version::parse("2:1.2-3-4").expect("valid");
        assert_eq!((v.epoch, v.upstream, v.revision), (2, "1.2-3", "4"));
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_debversion(a in "[0-9][0-9a-z.+~]{0,6}(-[0-9a-z.+~]{1,4})?",
                                  b in "[0-9][0-9a-z.+~]{0,6}(-[0-9a-z.+~]{1,4})?") {
            let da: debversion::Version = a.parse().expect("oracle parses");
            let db: debversion::Version = b.parse().expect("oracle parses");
            let ours = compare_versions(&a, &b);
            if ours != da.cmp(&db) {
                // The crate is wrong on some edges (it orders "0+" before "0+0"; dpkg calls
                // them equal): where the two differ, dpkg itself decides.
                proptest::prop_assert_eq!(ours, dpkg_order(&a, &b));
            }
        }
    }

    /// The comparison before the unchecked fast path: every string checked first.
    fn checked_then_lenient(s: &str) -> Version<'_> {
        Version::parse(s).unwrap_or_else(|_| split(s))
    }

    proptest::proptest! {
        #[test]
        fn fast_path_splits_as_the_check_does(a in "[ \t\u{b}\u{a0}0-9a-z.+~:_-]{0,8}",
                                               b in "[ 0-9a-z.+~:-]{0,8}") {
            let (fa, ca) = (lenient(&a), checked_then_lenient(&a));
            proptest::prop_assert_eq!((fa.epoch, fa.upstream, fa.revision),
                                      (ca.epoch, ca.upstream, ca.revision));
            proptest::prop_assert_eq!(compare_versions(&a, &b),
                                      checked_then_lenient(&a).cmp(&checked_then_lenient(&b)));
        }
    }

    proptest::proptest! {
        /// Versions that share beginnings of every kind (the second is the first with its end
        /// replaced), compared as bytes from where they differ, as whole strings.
        #[test]
        fn bytes_compare_from_where_they_differ(a in "[0-9a-z.+~:-]{0,12}",
                                               cut in 0usize..13,
                                               tail in "[0-9a-z.+~:-]{0,6}") {
            let b = format!("{}{tail}", &a[..cut.min(a.len())]);
            proptest::prop_assert_eq!(compare_version_bytes(a.as_bytes(), b.as_bytes()),
                                      compare_versions(&a, &b), "{} {}", a, b);
            proptest::prop_assert_eq!(compare_version_bytes(b.as_bytes(), a.as_bytes()),
                                      compare_versions(&b, &a));
        }
    }

    #[test]
    fn bytes_compare_as_strings() {
        for (a, b) in [
            ("1.0-1+deb12u9", "1.0-1+deb12u10"),
            ("1.0-1+deb12u100", "1.0-1+deb12u99"),
            ("1.0-1+deb12u0100", "1.0-1+deb12u99"),
            ("2.36-9+deb12u7", "2.36-9+deb12u10"),
            ("1:1.0", "1:1.0-1"),
            ("1.0", "1.0-1"),
            ("1.0~rc1", "1.0"),
            ("1.009", "1.9"),
            ("1.00", "1.9"),
            ("1.100", "1.19"),
        ] {
            assert_eq!(
                compare_version_bytes(a.as_bytes(), b.as_bytes()),
                compare_versions(a, b),
                "{a} {b}"
            );
            assert_eq!(
                compare_version_bytes(b.as_bytes(), a.as_bytes()),
                compare_versions(b, a),
                "{b} {a}"
            );
        }
    }

    /// `dpkg --compare-versions`'s verdict.
    fn dpkg_order(a: &str, b: &str) -> Ordering {
        let holds = |op: &str| {
            std::process::Command::new("dpkg")
                .args(["--compare-versions", a, op, b])
                .status()
                .expect("run dpkg")
                .success()
        };
        if holds("lt") {
            Ordering::Less
        } else if holds("eq") {
            Ordering::Equal
        } else {
            Ordering::Greater
        }
    }
}
