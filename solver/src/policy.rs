//! apt's pin priorities (`apt_preferences(5)`): which version of a package is the candidate.
//!
//! Every index file (one component and architecture of one source) has a priority: 500, or 100
//! for a release marked `NotAutomatic: yes` + `ButAutomaticUpgrades: yes`, or 1 for
//! `NotAutomatic: yes` alone (backports, experimental), unless the first `Package: *` record
//! whose `Pin: release …` or `Pin: origin …` matches the file sets it. A version's priority is
//! that of the first record naming its package whose pin matches it, else the highest priority
//! of the files that list it. The candidate is the version with the highest priority, the
//! newest among equals; a priority of 0 or less is never a candidate, and a version older than
//! the installed one is a candidate only with a priority of 1000 or more (a downgrade).
//!
//! This module is pure: callers describe the files and the packages; [`Preferences::parse`]
//! reads the preferences text.

use std::cmp::Ordering;

/// A file's priority when nothing overrides it.
pub const DEFAULT_PRIORITY: i16 = 500;
/// The installed version's priority (apt's dpkg status file), when no source gives it more.
pub const INSTALLED_PRIORITY: i16 = 100;

/// What a release pin can match: one index file as apt describes it (`apt-cache policy`
/// prints these as `release o=…,a=…,n=…,l=…,c=…,b=…`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexFile {
    /// `Suite` (apt calls it the archive: `stable`, `bookworm-backports`).
    pub archive: String,
    pub codename: String,
    pub origin: String,
    pub label: String,
    /// The Release file's `Version` (`12.15`).
    pub version: String,
    pub component: String,
    pub arch: String,
    /// The host the source is fetched from (empty for `file:` sources), for `Pin: origin`.
    pub site: String,
    pub not_automatic: bool,
    pub but_automatic_upgrades: bool,
    /// A priority the source was given (`repo add --priority`): it replaces the default, and a
    /// `Package: *` record still overrides it.
    pub priority: Option<i16>,
}

impl IndexFile {
    /// The file's priority before any preferences record: 500, 100 or 1.
    pub fn default_priority(&self) -> i16 {
        if let Some(p) = self.priority {
            p
        } else if self.not_automatic && self.but_automatic_upgrades {
            100
        } else if self.not_automatic {
            1
        } else {
            DEFAULT_PRIORITY
        }
    }
}

/// What a preferences record matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pin {
    /// `Pin: version 2.10*`: the version string (a trailing `*` matches a prefix; a glob or
    /// `/regex/` also works, as in apt).
    Version(String),
    /// `Pin: release a=bookworm-backports, c=main` (or `release bookworm`, `release 12*`).
    Release(ReleaseMatch),
    /// `Pin: origin deb.debian.org`: the host the file comes from (`""` for local files).
    Origin(String),
}

/// The fields of `Pin: release`; an empty field matches anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReleaseMatch {
    /// `Pin: release *`.
    pub all: bool,
    pub version: String,
    pub origin: String,
    pub archive: String,
    pub codename: String,
    /// `release NAME`: matches the archive or the codename.
    pub release: String,
    pub label: String,
    pub component: String,
    pub arch: String,
}

impl ReleaseMatch {
    fn parse(data: &str) -> Self {
        let mut m = ReleaseMatch::default();
        if data == "*" {
            m.all = true;
            return m;
        }
        if !data.contains('=') {
            if data.starts_with(|c: char| c.is_ascii_digit()) {
                m.version = data.to_owned();
            } else {
                m.release = data.to_owned();
            }
            return m;
        }
        for part in data.split(',').map(str::trim) {
            let Some((key, value)) = part.split_once('=') else {
                continue;
            };
            let field = match key.trim().to_ascii_lowercase().as_str() {
                "v" => &mut m.version,
                "o" => &mut m.origin,
                "a" => &mut m.archive,
                "n" => &mut m.codename,
                "l" => &mut m.label,
                "c" => &mut m.component,
                "b" => &mut m.arch,
                _ => continue,
            };
            *field = value.trim().to_owned();
        }
        m
    }

    /// Whether the file matches (apt's `pkgVersionMatch::FileMatch`).
    pub fn matches(&self, f: &IndexFile) -> bool {
        if self.all {
            return true;
        }
        let fields = [
            &self.version,
            &self.origin,
            &self.archive,
            &self.codename,
            &self.release,
            &self.label,
            &self.component,
            &self.arch,
        ];
        if fields.iter().all(|s| s.is_empty()) {
            return false;
        }
        let ok =
            |pattern: &str, value: &str| pattern.is_empty() || expression_matches(pattern, value);
        (self.version.is_empty() || version_matches(&self.version, &f.version))
            && ok(&self.origin, &f.origin)
            && ok(&self.archive, &f.archive)
            && ok(&self.codename, &f.codename)
            && (self.release.is_empty()
                || expression_matches(&self.release, &f.archive)
                || expression_matches(&self.release, &f.codename))
            && ok(&self.label, &f.label)
            && ok(&self.component, &f.component)
            && ok(&self.arch, &f.arch)
    }
}

impl Pin {
    /// Whether a file matches a release or origin pin (a version pin matches no file).
    pub fn matches_file(&self, f: &IndexFile) -> bool {
        match self {
            Pin::Version(_) => false,
            Pin::Release(r) => r.matches(f),
            Pin::Origin(site) => expression_matches(site, &f.site),
        }
    }
}

/// One record of a preferences file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The package patterns of `Package:` (names, globs, `/regex/`, each with an optional
    /// `:arch`); empty for `Package: *`.
    pub packages: Vec<String>,
    pub pin: Pin,
    pub priority: i16,
}

/// Preferences: records in the order read (the first that matches wins).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preferences {
    pub records: Vec<Record>,
}

/// Why a preferences text cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PreferencesError {
    #[error("record {record}: no Package field")]
    NoPackage { record: usize },
    #[error("record {record}: no Pin field")]
    NoPin { record: usize },
    #[error("record {record}: pin type {kind:?} is not version, release or origin")]
    PinType { record: usize, kind: String },
    #[error("record {record}: `Pin: version` needs a package name, not `*`")]
    VersionForAll { record: usize },
    #[error(
        "record {record}: Pin-Priority {value:?} is not a number from -32768 to 32767 other than 0"
    )]
    Priority { record: usize, value: String },
    #[error("record {record}: {message}")]
    Syntax { record: usize, message: String },
}

impl Preferences {
    /// Parses `apt_preferences(5)` text: records separated by empty lines, `#` comments,
    /// `Explanation:` fields ignored. Unlike apt, a record apt would skip with a warning (an
    /// unknown pin type, no Pin field) is an error: a pin that silently does nothing is worse.
    pub fn parse(text: &str) -> Result<Self, PreferencesError> {
        let mut records = Vec::new();
        for (n, block) in split_records(text).into_iter().enumerate() {
            let record = n + 1;
            let mut fields: Vec<(String, String)> = Vec::new();
            for line in block {
                if line.starts_with([' ', '\t']) {
                    match fields.last_mut() {
                        Some((_, v)) => {
                            v.push(' ');
                            v.push_str(line.trim());
                        }
                        None => {
                            return Err(PreferencesError::Syntax {
                                record,
                                message: format!("continuation line {line:?} before any field"),
                            })
                        }
                    }
                    continue;
                }
                let Some((k, v)) = line.split_once(':') else {
                    return Err(PreferencesError::Syntax {
                        record,
                        message: format!("line {line:?} is not `Field: value`"),
                    });
                };
                fields.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
            }
            let get = |k: &str| fields.iter().find(|(f, _)| f == k).map(|(_, v)| v.as_str());
            let package = get("package").ok_or(PreferencesError::NoPackage { record })?;
            let pin = get("pin").ok_or(PreferencesError::NoPin { record })?;
            let packages: Vec<String> = if package.trim() == "*" {
                Vec::new()
            } else {
                package.split_whitespace().map(str::to_owned).collect()
            };
            let (kind, data) = pin.split_once(char::is_whitespace).unwrap_or((pin, ""));
            let data = data.trim();
            let pin = match kind.to_ascii_lowercase().as_str() {
                "version" if packages.is_empty() => {
                    return Err(PreferencesError::VersionForAll { record })
                }
                "version" => Pin::Version(data.to_owned()),
                "release" => Pin::Release(ReleaseMatch::parse(data)),
                "origin" => Pin::Origin(data.trim_matches('"').to_owned()),
                other => {
                    return Err(PreferencesError::PinType {
                        record,
                        kind: other.to_owned(),
                    })
                }
            };
            let value = get("pin-priority").unwrap_or("");
            let priority = value
                .trim()
                .parse::<i16>()
                .ok()
                .filter(|&p| p != 0)
                .ok_or_else(|| PreferencesError::Priority {
                    record,
                    value: value.to_owned(),
                })?;
            records.push(Record {
                packages,
                pin,
                priority,
            });
        }
        Ok(Preferences { records })
    }

    /// Appends another file's records (apt reads `preferences`, then `preferences.d` in order).
    pub fn extend(&mut self, other: Preferences) {
        self.records.extend(other.records);
    }

    /// Whether no record is present.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Each file's priority: its default, or that of the first `Package: *` record matching it.
    pub fn file_priorities(&self, files: &[IndexFile]) -> Vec<i16> {
        files
            .iter()
            .map(|f| {
                self.records
                    .iter()
                    .filter(|r| r.packages.is_empty())
                    .find(|r| r.pin.matches_file(f))
                    .map_or_else(|| f.default_priority(), |r| r.priority)
            })
            .collect()
    }

    /// Whether any record names packages (then versions need [`Preferences::version_pin`]).
    pub fn has_package_records(&self) -> bool {
        self.records.iter().any(|r| !r.packages.is_empty())
    }

    /// The priority a package record gives one version of `name` (architecture `arch`, native
    /// architecture `native`), listed in `files`: the first record whose pattern names the
    /// package and whose pin matches the version or one of its files.
    pub fn version_pin<'f>(
        &self,
        name: &str,
        arch: &str,
        native: &str,
        version: &str,
        files: impl Iterator<Item = &'f IndexFile> + Clone,
    ) -> Option<i16> {
        self.records
            .iter()
            .filter(|r| {
                r.packages
                    .iter()
                    .any(|p| names_package(p, name, arch, native))
            })
            .find(|r| match &r.pin {
                Pin::Version(v) => version_matches(v, version),
                pin => files.clone().any(|f| pin.matches_file(f)),
            })
            .map(|r| r.priority)
    }

    /// The plain package names (no glob, no regex) that records name, for checking that each
    /// names a package that exists.
    pub fn named_packages(&self) -> impl Iterator<Item = &str> {
        self.records
            .iter()
            .flat_map(|r| r.packages.iter())
            .filter(|p| !is_pattern(p))
            .map(|p| p.rsplit_once(':').map_or(p.as_str(), |(n, _)| n))
    }
}

/// The records of a preferences text: blocks of lines between empty lines, comments dropped.
fn split_records(text: &str) -> Vec<Vec<&str>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for line in text.lines() {
        let line = line.trim_end();
        if line.trim_start().starts_with('#') {
            continue;
        }
        if line.trim().is_empty() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        cur.push(line);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn is_pattern(p: &str) -> bool {
    (p.len() > 1 && p.starts_with('/') && p.ends_with('/')) || p.contains(['*', '[', '?'])
}

/// Whether a `Package:` pattern (`name`, `name:arch`, a glob or `/regex/`) names package
/// `name` of architecture `arch`. Without `:arch` it names the native architecture (and
/// `all`), as apt's pins do.
fn names_package(pattern: &str, name: &str, arch: &str, native: &str) -> bool {
    let (pat, want_arch) = match pattern.rsplit_once(':') {
        Some((n, a)) if !pattern.ends_with('/') => (n, a),
        _ => (pattern, native),
    };
    let arch_ok = want_arch == "any" || arch == want_arch || arch == "all";
    arch_ok
        && if is_pattern(pat) {
            expression_matches(pat, name)
        } else {
            pat == name
        }
}

/// apt's version match: equal (ignoring case), a prefix when the pattern ends in `*`, or a
/// glob or `/regex/` over the version string.
fn version_matches(pattern: &str, version: &str) -> bool {
    if let Some(prefix) = pattern.strip_suffix('*') {
        if version.len() >= prefix.len() && version[..prefix.len()].eq_ignore_ascii_case(prefix) {
            return true;
        }
    } else if version.eq_ignore_ascii_case(pattern) {
        return true;
    }
    expression_matches(pattern, version)
}

/// apt's `ExpressionMatches`: `/regex/` (extended, ignoring case) or a glob (`fnmatch` with
/// `FNM_CASEFOLD`).
pub fn expression_matches(pattern: &str, value: &str) -> bool {
    if pattern.len() > 1 && pattern.starts_with('/') && pattern.ends_with('/') {
        return regex::RegexBuilder::new(&pattern[1..pattern.len() - 1])
            .case_insensitive(true)
            .build()
            .is_ok_and(|re| re.is_match(value));
    }
    glob(
        &pattern.to_ascii_lowercase().chars().collect::<Vec<_>>(),
        &value.to_ascii_lowercase().chars().collect::<Vec<_>>(),
    )
}

/// One element of a glob pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Star,
    Any,
    /// `[...]`: (negated, single characters and ranges).
    Class(bool, Vec<(char, char)>),
    Char(char),
}

/// A glob as tokens: `*`, `?`, `[…]` (with `!`/`^` and ranges; an unclosed `[` is itself),
/// `\` escapes; consecutive stars are one.
fn tokens(p: &[char]) -> Vec<Token> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '*' => {
                if out.last() != Some(&Token::Star) {
                    out.push(Token::Star);
                }
                i += 1;
            }
            '?' => {
                out.push(Token::Any);
                i += 1;
            }
            '\\' if i + 1 < p.len() => {
                out.push(Token::Char(p[i + 1]));
                i += 2;
            }
            '[' => {
                let mut k = i + 1;
                let negate = matches!(p.get(k), Some('!' | '^'));
                if negate {
                    k += 1;
                }
                let mut set = Vec::new();
                let mut first = true;
                while k < p.len() && (first || p[k] != ']') {
                    first = false;
                    if p.get(k + 1) == Some(&'-') && p.get(k + 2).is_some_and(|&e| e != ']') {
                        set.push((p[k], p[k + 2]));
                        k += 3;
                    } else {
                        set.push((p[k], p[k]));
                        k += 1;
                    }
                }
                if k >= p.len() {
                    out.push(Token::Char('['));
                    i += 1;
                } else {
                    out.push(Token::Class(negate, set));
                    i = k + 1;
                }
            }
            c => {
                out.push(Token::Char(c));
                i += 1;
            }
        }
    }
    out
}

/// `fnmatch` without flags over `p`'s tokens, in O(pattern × text): on a mismatch the last
/// star takes one more character (the greedy two-pointer match), never an exponential search.
fn glob(p: &[char], s: &[char]) -> bool {
    let t = tokens(p);
    let one = |tok: &Token, c: char| match tok {
        Token::Any => true,
        Token::Char(x) => *x == c,
        Token::Class(negate, set) => set.iter().any(|&(a, b)| a <= c && c <= b) != *negate,
        Token::Star => false,
    };
    let (mut ti, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if ti < t.len() && t[ti] == Token::Star {
            star = Some((ti, si));
            ti += 1;
        } else if ti < t.len() && one(&t[ti], s[si]) {
            ti += 1;
            si += 1;
        } else if let Some((st, ss)) = star {
            ti = st + 1;
            si = ss + 1;
            star = Some((st, ss + 1));
        } else {
            return false;
        }
    }
    t[ti..].iter().all(|tok| *tok == Token::Star)
}

/// One version of a package as the candidate rule sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version<'a> {
    pub version: &'a str,
    pub priority: i16,
}

/// apt's candidate (`pkgPolicy::GetCandidateVer`): among `versions`, the one with the highest
/// priority, the newest among equals; never one with priority 0 or less; never one older than
/// `installed` unless its priority is 1000 or more. `versions` gives every version once, with
/// the installed one's priority already raised to at least [`INSTALLED_PRIORITY`].
pub fn candidate(versions: &[Version<'_>], installed: Option<&str>) -> Option<usize> {
    let mut order: Vec<usize> = (0..versions.len()).collect();
    order.sort_by(|&a, &b| {
        store::compare_versions(versions[b].version, versions[a].version).then(a.cmp(&b))
    });
    let mut best: Option<(usize, i16)> = None;
    for i in order {
        let v = versions[i];
        if v.priority <= 0 || best.is_some_and(|(_, p)| v.priority <= p) {
            continue;
        }
        if let Some(cur) = installed {
            if v.priority < 1000 && store::compare_versions(v.version, cur) == Ordering::Less {
                continue;
            }
        }
        best = Some((i, v.priority));
    }
    best.map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(archive: &str, na: bool, bau: bool) -> IndexFile {
        IndexFile {
            archive: archive.to_owned(),
            codename: archive.to_owned(),
            origin: "Debian".to_owned(),
            label: "Debian".to_owned(),
            component: "main".to_owned(),
            arch: "amd64".to_owned(),
            not_automatic: na,
            but_automatic_upgrades: bau,
            ..IndexFile::default()
        }
    }

    #[test]
    fn default_priorities_follow_the_release_flags() {
        let p = Preferences::default();
        let files = [
            file("bookworm", false, false),
            file("bookworm-backports", true, true),
            file("experimental", true, false),
        ];
        assert_eq!(p.file_priorities(&files), vec![500, 100, 1]);
    }

    #[test]
    fn the_first_matching_record_wins() {
        let p = Preferences::parse(
            "# comment\nPackage: *\nPin: release a=bookworm-backports\nPin-Priority: 400\n\n\
             Package: *\nPin: release n=bookworm*\nPin-Priority: 50\n\n\
             Explanation: keep hello old\nPackage: hello jq:i386 /^libjq/\nPin: version 2.10*\nPin-Priority: 1001\n",
        )
        .expect("parse");
        assert_eq!(p.records.len(), 3);
        let files = [
            file("bookworm", false, false),
            file("bookworm-backports", true, true),
        ];
        assert_eq!(p.file_priorities(&files), vec![50, 400]);
        let f = || files.iter();
        assert_eq!(
            p.version_pin("hello", "amd64", "amd64", "2.10-3", f()),
            Some(1001)
        );
        assert_eq!(
            p.version_pin("hello", "amd64", "amd64", "2.11-1", f()),
            None
        );
        assert_eq!(p.version_pin("hello", "i386", "amd64", "2.10-3", f()), None);
        assert_eq!(
            p.version_pin("jq", "i386", "amd64", "2.10", f()),
            Some(1001)
        );
        assert_eq!(
            p.version_pin("libjq1", "amd64", "amd64", "2.10", f()),
            Some(1001)
        );
        assert_eq!(p.named_packages().collect::<Vec<_>>(), vec!["hello", "jq"]);
    }

    #[test]
    fn release_and_origin_pins_match_fields() {
        let f = IndexFile {
            version: "12.15".into(),
            site: "deb.debian.org".into(),
            ..file("stable", false, false)
        };
        for (data, hit) in [
            ("*", true),
            ("stable", true),
            ("12*", true),
            ("13", false),
            ("o=Debian,a=stable,c=main,b=amd64", true),
            ("o=Debian, c=contrib", false),
            ("l=debian", true),
            ("a=/^stab/", true),
            ("", false),
        ] {
            assert_eq!(ReleaseMatch::parse(data).matches(&f), hit, "{data}");
        }
        assert!(Pin::Origin("deb.debian.org".into()).matches_file(&f));
        assert!(Pin::Origin("*.debian.org".into()).matches_file(&f));
        assert!(!Pin::Origin(String::new()).matches_file(&f));
        assert!(Pin::Origin(String::new()).matches_file(&file("x", false, false)));
    }

    #[test]
    fn bad_records_are_errors() {
        for (text, want) in [
            ("Pin: release a=x\nPin-Priority: 1\n", "no Package field"),
            ("Package: x\nPin-Priority: 1\n", "no Pin field"),
            (
                "Package: x\nPin: colour blue\nPin-Priority: 1\n",
                "pin type",
            ),
            (
                "Package: *\nPin: version 1\nPin-Priority: 1\n",
                "needs a package",
            ),
            (
                "Package: x\nPin: version 1\nPin-Priority: 0\n",
                "Pin-Priority",
            ),
            (
                "Package: x\nPin: version 1\nPin-Priority: high\n",
                "Pin-Priority",
            ),
            (
                "Package: x\nPin: version 1\nPin-Priority: 40000\n",
                "Pin-Priority",
            ),
            ("Package x\n", "not `Field: value`"),
        ] {
            let e = Preferences::parse(text).expect_err(text).to_string();
            assert!(e.contains(want), "{text:?}: {e}");
        }
    }

    #[test]
    fn globs_follow_fnmatch() {
        for (p, s, hit) in [
            ("lib*", "libc6", true),
            ("lib?6", "libc6", true),
            ("lib[a-c]6", "libc6", true),
            ("lib[!a-c]6", "libc6", false),
            ("LIB*", "libc6", true),
            ("lib", "libc6", false),
            ("*-dev", "libc6-dev", true),
            ("a\\*", "a*", true),
            ("a\\*", "ab", false),
            ("[", "[", true),
            ("*a*b*c", "xaybzc", true),
            ("*a*b*c", "xaybz", false),
        ] {
            assert_eq!(expression_matches(p, s), hit, "{p} {s}");
        }
    }

    #[test]
    fn a_glob_of_many_stars_is_not_exponential() {
        let pattern = format!("{}b", "*a".repeat(40));
        let text = "a".repeat(5000);
        // The recursive match took time exponential in the stars here; this one is linear.
        assert!(!expression_matches(&pattern, &text));
        assert!(expression_matches(&pattern, &format!("{text}b")));
    }

    #[test]
    fn the_candidate_follows_apt() {
        let v = |version, priority| Version { version, priority };
        // Highest priority wins; the newest among equals.
        assert_eq!(candidate(&[v("1.0", 500), v("2.0", 1)], None), Some(0));
        assert_eq!(candidate(&[v("1.0", 500), v("2.0", 500)], None), Some(1));
        assert_eq!(candidate(&[v("1.0", 100), v("2.0", 100)], None), Some(1));
        // Never a priority of 0 or less.
        assert_eq!(candidate(&[v("1.0", -1)], None), None);
        // No downgrade below the installed version under 1000; from 1000 on, yes.
        assert_eq!(
            candidate(&[v("1.0", 500), v("2.0", 100)], Some("2.0")),
            Some(1)
        );
        assert_eq!(
            candidate(&[v("1.0", 1000), v("2.0", 100)], Some("2.0")),
            Some(0)
        );
        // The installed version from backports (100) gets backports' upgrades (100) but not
        // stable's older version (500).
        assert_eq!(
            candidate(&[v("1.0", 500), v("2.0", 100), v("2.1", 100)], Some("2.0")),
            Some(2)
        );
    }
}
