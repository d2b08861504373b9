//! InRelease: the clearsigned `Release` file that anchors trust in an archive.
//!
//! [`split_clearsigned`] checks the OpenPGP cleartext framework (RFC 4880 §7) strictly: nothing
//! before the armor header, nothing but whitespace after the signature, dash-escaping undone.
//! [`parse_release`] reads the signed text into a [`Release`] and [`Release::check_freshness`]
//! applies the replay rules (`Valid-Until`, a `Date` older than the pinned one). Signature checking
//! itself is in `verify`; this module is pure.

use crate::deb822::paragraphs;
use crate::id::Sha256;

const BEGIN_SIGNED: &str = "-----BEGIN PGP SIGNED MESSAGE-----";
const BEGIN_SIG: &str = "-----BEGIN PGP SIGNATURE-----";
const END_SIG: &str = "-----END PGP SIGNATURE-----";

/// Why an InRelease file is not a well-formed clearsigned message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClearsignError {
    #[error("not UTF-8")]
    NotUtf8,
    #[error("text before the signed message (an InRelease must start with `{BEGIN_SIGNED}`)")]
    TextBefore,
    #[error("no `{BEGIN_SIGNED}` line: not a clearsigned file")]
    NotSigned,
    #[error("malformed armor header line {0:?}")]
    BadArmorHeader(String),
    #[error("no signature block after the signed text")]
    NoSignature,
    #[error("the signature block is not terminated")]
    UnterminatedSignature,
    #[error(
        "text after the signature block: only the signed text may be used, so the file is refused"
    )]
    TextAfter,
    #[error("more than one signed message in one file")]
    Nested,
}

/// The parts of a clearsigned message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clearsigned<'a> {
    /// The `Hash:` armor headers' values.
    pub hash_headers: Vec<&'a str>,
    /// The signed text, dash-escaping undone, with `\n` line ends, ending in a newline.
    pub text: String,
    /// The armored signature block, from its BEGIN line to its END line inclusive.
    pub signature: &'a str,
}

/// Splits a clearsigned InRelease file into its signed text and signature, refusing anything
/// outside the signed block.
pub fn split_clearsigned(data: &[u8]) -> Result<Clearsigned<'_>, ClearsignError> {
    let s = std::str::from_utf8(data).map_err(|_| ClearsignError::NotUtf8)?;
    let mut lines = s.split_inclusive('\n').peekable();
    let first = lines.next().ok_or(ClearsignError::NotSigned)?;
    if trim_eol(first) != BEGIN_SIGNED {
        return Err(if s.contains(BEGIN_SIGNED) {
            ClearsignError::TextBefore
        } else {
            ClearsignError::NotSigned
        });
    }
    let mut hash_headers = Vec::new();
    loop {
        let line = lines.next().ok_or(ClearsignError::NoSignature)?;
        let line = trim_eol(line);
        if line.trim().is_empty() {
            break;
        }
        match line.split_once(": ") {
            Some(("Hash", v)) => hash_headers.extend(v.split(',').map(str::trim)),
            _ => {
                return Err(ClearsignError::BadArmorHeader(
                    line.chars().take(80).collect(),
                ))
            }
        }
    }
    let mut text = String::with_capacity(s.len());
    let mut found_sig = false;
    for line in lines.by_ref() {
        let bare = trim_eol(line);
        if bare == BEGIN_SIG {
            found_sig = true;
            break;
        }
        if bare == BEGIN_SIGNED {
            return Err(ClearsignError::Nested);
        }
        let unescaped = bare.strip_prefix("- ").unwrap_or(bare);
        text.push_str(unescaped);
        text.push('\n');
    }
    if !found_sig {
        return Err(ClearsignError::NoSignature);
    }
    // The newline before the signature block belongs to the framework, not the text; the text
    // we return keeps a final newline so it parses as deb822 (gpgv prints it the same way).
    let sig_start = s.find(&format!("\n{BEGIN_SIG}")).map_or(0, |i| i + 1);
    let rest = &s[sig_start..];
    let end = rest
        .find(END_SIG)
        .ok_or(ClearsignError::UnterminatedSignature)?;
    let sig_end = end + END_SIG.len();
    let signature = &rest[..sig_end];
    if !rest[sig_end..].trim().is_empty() {
        return Err(ClearsignError::TextAfter);
    }
    if signature.matches(BEGIN_SIG).count() != 1 {
        return Err(ClearsignError::Nested);
    }
    Ok(Clearsigned {
        hash_headers,
        text,
        signature,
    })
}

fn trim_eol(line: &str) -> &str {
    let line = line.strip_suffix('\n').unwrap_or(line);
    line.strip_suffix('\r').unwrap_or(line)
}

/// One file listed in a Release file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReleaseFile {
    pub path: String,
    pub size: u64,
    pub sha256: Sha256,
}

/// The fields of a Release file particle uses.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Release {
    pub origin: Option<String>,
    #[serde(default)]
    pub label: Option<String>,
    pub suite: Option<String>,
    pub codename: Option<String>,
    /// `Version` (`12.15`).
    #[serde(default)]
    pub version: Option<String>,
    /// `NotAutomatic: yes`: nothing is taken from this release unless asked for (apt's
    /// priority 1; backports and experimental).
    #[serde(default)]
    pub not_automatic: bool,
    /// `ButAutomaticUpgrades: yes` (with `NotAutomatic`): what was taken from it is upgraded
    /// from it (apt's priority 100).
    #[serde(default)]
    pub but_automatic_upgrades: bool,
    /// `Date`, in seconds since the epoch.
    pub date: i64,
    /// `Valid-Until`, in seconds since the epoch.
    pub valid_until: Option<i64>,
    pub architectures: Vec<String>,
    pub components: Vec<String>,
    pub acquire_by_hash: bool,
    /// Only SHA256 entries: MD5Sum and SHA1 are never trusted.
    pub files: Vec<ReleaseFile>,
}

/// Why a Release file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReleaseError {
    #[error("Release is malformed: {0}")]
    Syntax(String),
    #[error("Release has no Date field")]
    NoDate,
    #[error("Release field {field}: cannot read date {value:?}")]
    BadDate { field: &'static str, value: String },
    #[error("Release lists no SHA256 hashes (only weak ones such as MD5Sum or SHA1): refused")]
    WeakHashesOnly,
    #[error("Release SHA256 line {0:?} is malformed")]
    BadHashLine(String),
    #[error("Release is for suite {found:?}, expected {expected:?}")]
    WrongSuite { expected: String, found: String },
    #[error("Release expired: Valid-Until {valid_until} is before now ({now}); the mirror is stale or replaying an old release")]
    Expired { valid_until: String, now: String },
    #[error("Release Date {date} is older than the pinned snapshot's ({pinned}): refusing a rollback of the archive")]
    OlderThanPinned { date: String, pinned: String },
    #[error("Release Date {date} is in the future (now {now})")]
    FromTheFuture { date: String, now: String },
}

/// Parses the (already verified) text of a Release file.
pub fn parse_release(text: &str) -> Result<Release, ReleaseError> {
    let para = paragraphs(text)
        .next()
        .ok_or_else(|| ReleaseError::Syntax("empty".into()))?
        .map_err(|e| ReleaseError::Syntax(e.to_string()))?;
    let date_field = |field: &'static str| -> Result<Option<i64>, ReleaseError> {
        para.get(field)
            .map(|v| {
                parse_rfc2822(v).ok_or_else(|| ReleaseError::BadDate {
                    field,
                    value: v.to_owned(),
                })
            })
            .transpose()
    };
    let date = date_field("Date")?.ok_or(ReleaseError::NoDate)?;
    let valid_until = date_field("Valid-Until")?;
    let words = |f: &str| {
        para.get(f)
            .map(|v| v.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default()
    };
    let mut files = Vec::new();
    match para.get("SHA256") {
        None => return Err(ReleaseError::WeakHashesOnly),
        Some(list) => {
            for line in list.lines().map(str::trim).filter(|l| !l.is_empty()) {
                let mut it = line.split_whitespace();
                let (Some(h), Some(size), Some(path), None) =
                    (it.next(), it.next(), it.next(), it.next())
                else {
                    return Err(ReleaseError::BadHashLine(line.to_owned()));
                };
                let sha256 =
                    Sha256::from_hex(h).map_err(|_| ReleaseError::BadHashLine(line.to_owned()))?;
                let size = size
                    .parse()
                    .map_err(|_| ReleaseError::BadHashLine(line.to_owned()))?;
                files.push(ReleaseFile {
                    path: path.to_owned(),
                    size,
                    sha256,
                });
            }
        }
    }
    if files.is_empty() {
        return Err(ReleaseError::WeakHashesOnly);
    }
    let yes = |f: &str| {
        para.get(f)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("yes"))
    };
    Ok(Release {
        origin: para.get("Origin").map(str::to_owned),
        label: para.get("Label").map(str::to_owned),
        suite: para.get("Suite").map(str::to_owned),
        codename: para.get("Codename").map(str::to_owned),
        version: para.get("Version").map(str::to_owned),
        not_automatic: yes("NotAutomatic"),
        but_automatic_upgrades: yes("ButAutomaticUpgrades"),
        date,
        valid_until,
        architectures: words("Architectures"),
        components: words("Components"),
        acquire_by_hash: para
            .get("Acquire-By-Hash")
            .is_some_and(|v| v.eq_ignore_ascii_case("yes")),
        files,
    })
}

impl Release {
    /// The SHA256 entry for `path` (relative to the suite's directory).
    pub fn file(&self, path: &str) -> Option<&ReleaseFile> {
        self.files.iter().find(|f| f.path == path)
    }

    /// Whether this Release is for `suite` (matching either its Suite or its Codename).
    pub fn check_suite(&self, suite: &str) -> Result<(), ReleaseError> {
        let matches = |v: &Option<String>| v.as_deref() == Some(suite);
        if self.suite.is_none() && self.codename.is_none()
            || matches(&self.suite)
            || matches(&self.codename)
        {
            Ok(())
        } else {
            Err(ReleaseError::WrongSuite {
                expected: suite.to_owned(),
                found: self
                    .codename
                    .clone()
                    .or_else(|| self.suite.clone())
                    .unwrap_or_default(),
            })
        }
    }

    /// Replay protection: refuses an expired Release, one dated in the future by more than
    /// `skew` seconds, and one older than the currently pinned snapshot's Date.
    pub fn check_freshness(
        &self,
        now: i64,
        pinned_date: Option<i64>,
        skew: i64,
    ) -> Result<(), ReleaseError> {
        if let Some(v) = self.valid_until {
            if v < now {
                return Err(ReleaseError::Expired {
                    valid_until: format_utc(v),
                    now: format_utc(now),
                });
            }
        }
        if self.date > now + skew {
            return Err(ReleaseError::FromTheFuture {
                date: format_utc(self.date),
                now: format_utc(now),
            });
        }
        if let Some(p) = pinned_date {
            if self.date < p {
                return Err(ReleaseError::OlderThanPinned {
                    date: format_utc(self.date),
                    pinned: format_utc(p),
                });
            }
        }
        Ok(())
    }
}

/// Parses the RFC 2822 dates Release files use (`Sat, 11 Jul 2026 10:16:37 UTC`, `+0000` offsets
/// too) into seconds since the epoch.
pub fn parse_rfc2822(s: &str) -> Option<i64> {
    let s = s.trim();
    let s = s.split_once(',').map_or(s, |(_, rest)| rest.trim());
    let mut it = s.split_whitespace();
    let day: i64 = it.next()?.parse().ok()?;
    let month = match it.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = it.next()?.parse().ok()?;
    let mut hms = it.next()?.split(':');
    let h: i64 = hms.next()?.parse().ok()?;
    let m: i64 = hms.next()?.parse().ok()?;
    let sec: i64 = hms.next().map_or(Some(0), |x| x.parse().ok())?;
    let offset = match it.next() {
        None | Some("UTC" | "GMT" | "Z" | "UT") => 0,
        Some(z) if (z.starts_with('+') || z.starts_with('-')) && z.len() == 5 => {
            let n: i64 = z[1..].parse().ok()?;
            let secs = (n / 100) * 3600 + (n % 100) * 60;
            if z.starts_with('-') {
                -secs
            } else {
                secs
            }
        }
        _ => return None,
    };
    if !(1..=31).contains(&day) || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86400 + h * 3600 + m * 60 + sec - offset)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// `YYYY-MM-DD HH:MM:SS UTC`, for messages.
pub fn format_utc(t: i64) -> String {
    let (y, m, d) = civil_from_days(t.div_euclid(86400));
    let secs = t.rem_euclid(86400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// `Sat, 05 Dec 2026 05:00:00 UTC`: the form of a Release file's `Date` (what
/// [`parse_rfc2822`] reads).
pub fn format_rfc2822(t: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = t.div_euclid(86400);
    let (y, m, d) = civil_from_days(days);
    let secs = t.rem_euclid(86400);
    format!(
        "{}, {d:02} {} {y} {:02}:{:02}:{:02} UTC",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(m - 1) as usize],
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// The proleptic Gregorian (year, month, day) of a day count since 1970-01-01 (Howard
/// Hinnant's algorithm, the inverse of `days_from_civil`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc2822_dates_round_trip() {
        assert_eq!(format_rfc2822(0), "Thu, 01 Jan 1970 00:00:00 UTC");
        assert_eq!(format_rfc2822(951_782_400), "Tue, 29 Feb 2000 00:00:00 UTC");
        for t in [0, 951_782_400, 1_796_446_800, 4_102_444_799] {
            assert_eq!(parse_rfc2822(&format_rfc2822(t)), Some(t));
        }
    }

    const SIGNED: &str = "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nOrigin: Test\nSuite: stable\nCodename: bookworm\nDate: Sat, 11 Jul 2026 10:16:37 UTC\nSHA256:\n 0000000000000000000000000000000000000000000000000000000000000001 12 main/binary-amd64/Packages.xz\n- -dash line\n-----BEGIN PGP SIGNATURE-----\n\nAAAA\n-----END PGP SIGNATURE-----\n";

    #[test]
    fn splits_and_unescapes() {
        let c = split_clearsigned(SIGNED.as_bytes()).expect("valid");
        assert_eq!(c.hash_headers, vec!["SHA256"]);
        assert!(c.text.starts_with("Origin: Test\n"));
        assert!(c.text.ends_with("\n-dash line\n"));
        assert!(c.signature.starts_with(BEGIN_SIG) && c.signature.ends_with(END_SIG));
    }

    #[test]
    fn refuses_text_outside_the_signed_block() {
        let after = format!("{SIGNED}Origin: Evil\n");
        assert_eq!(
            split_clearsigned(after.as_bytes()),
            Err(ClearsignError::TextAfter)
        );
        let before = format!("Origin: Evil\n{SIGNED}");
        assert_eq!(
            split_clearsigned(before.as_bytes()),
            Err(ClearsignError::TextBefore)
        );
        let nosig = SIGNED.split(BEGIN_SIG).next().expect("prefix");
        assert_eq!(
            split_clearsigned(nosig.as_bytes()),
            Err(ClearsignError::NoSignature)
        );
        assert_eq!(
            split_clearsigned(b"Origin: x\n"),
            Err(ClearsignError::NotSigned)
        );
        let two = format!("{SIGNED}{SIGNED}");
        assert!(split_clearsigned(two.as_bytes()).is_err());
    }

    #[test]
    fn parses_release_and_checks_freshness() {
        let c = split_clearsigned(SIGNED.as_bytes()).expect("valid");
        let r = parse_release(&c.text.replace("-dash line\n", "")).expect("valid");
        assert_eq!(format_utc(r.date), "2026-07-11 10:16:37 UTC");
        assert_eq!(r.files.len(), 1);
        assert!(r.file("main/binary-amd64/Packages.xz").is_some());
        r.check_suite("bookworm").expect("codename matches");
        r.check_suite("stable").expect("suite matches");
        assert!(r.check_suite("trixie").is_err());
        r.check_freshness(r.date + 10, Some(r.date), 60)
            .expect("fresh");
        assert!(matches!(
            r.check_freshness(r.date, Some(r.date + 1), 60),
            Err(ReleaseError::OlderThanPinned { .. })
        ));
        assert!(matches!(
            r.check_freshness(r.date - 3600, None, 60),
            Err(ReleaseError::FromTheFuture { .. })
        ));
        let mut expiring = r.clone();
        expiring.valid_until = Some(r.date + 5);
        assert!(matches!(
            expiring.check_freshness(r.date + 6, None, 60),
            Err(ReleaseError::Expired { .. })
        ));
    }

    #[test]
    fn weak_hashes_only_is_refused() {
        let text = "Origin: x\nDate: Sat, 11 Jul 2026 10:16:37 UTC\nMD5Sum:\n d41d8cd98f00b204e9800998ecf8427e 0 main/binary-amd64/Packages\n";
        assert_eq!(parse_release(text), Err(ReleaseError::WeakHashesOnly));
    }

    #[test]
    fn dates() {
        assert_eq!(parse_rfc2822("Thu, 01 Jan 1970 00:00:00 UTC"), Some(0));
        assert_eq!(parse_rfc2822("Thu, 01 Jan 1970 01:00:00 +0100"), Some(0));
        assert_eq!(
            parse_rfc2822("Sat, 11 Jul 2026 10:16:37 UTC")
                .map(format_utc)
                .as_deref(),
            Some("2026-07-11 10:16:37 UTC")
        );
        assert_eq!(parse_rfc2822("garbage"), None);
        assert_eq!(parse_rfc2822("Sat, 32 Jul 2026 10:16:37 UTC"), None);
    }
}
