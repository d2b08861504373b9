//! apt's pin priorities over the pinned sources: which index file every package comes from,
//! the preferences of the state directory (`<root>/preferences` and `<root>/preferences.d/`,
//! in `apt_preferences(5)` syntax), and the priority of every package that the solver orders
//! its candidates by ([`solver::policy`] holds the rules).

use crate::pinned::{PinnedView, PkgRef};
use crate::{Error, ErrorKind, Result};
use solver::policy::{IndexFile, Preferences};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// The index files of the pinned sources, in universe order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Files {
    pub(crate) files: Vec<IndexFile>,
    /// The source each file belongs to.
    pub(crate) sources: Vec<String>,
    /// The universe index of each file's first package (ascending).
    starts: Vec<usize>,
    /// Packages in all files (packages past it were added from an installed set).
    end: usize,
}

impl Files {
    /// The index files of every pin, with their Release fields and each source's priority.
    pub(crate) fn load(st: &store::Store) -> Result<Self> {
        let sources: BTreeMap<String, store::SourceConfig> = st
            .sources()?
            .into_iter()
            .map(|s| (s.name.clone(), s))
            .collect();
        let mut out = Files::default();
        for pin in st.pins()? {
            let release = st.release(&pin)?;
            let source = sources.get(&pin.source);
            let site = source.map_or("", |s| host(&s.uri)).to_owned();
            for index in &pin.indices {
                out.files.push(IndexFile {
                    archive: release.suite.clone().unwrap_or_default(),
                    codename: release.codename.clone().unwrap_or_default(),
                    origin: release.origin.clone().unwrap_or_default(),
                    label: release.label.clone().unwrap_or_default(),
                    version: release.version.clone().unwrap_or_default(),
                    component: index.component.clone(),
                    arch: index.arch.clone(),
                    site: site.clone(),
                    not_automatic: release.not_automatic,
                    but_automatic_upgrades: release.but_automatic_upgrades,
                    priority: source.and_then(|s| s.priority),
                });
                out.sources.push(pin.source.clone());
                out.starts.push(out.end);
                out.end += index.packages;
            }
        }
        Ok(out)
    }

    /// File `f` as `repo policy` shows it, with its priority.
    fn shown(&self, f: usize, priority: i16) -> FilePolicy {
        FilePolicy {
            source: self.sources[f].clone(),
            archive: self.files[f].archive.clone(),
            component: self.files[f].component.clone(),
            arch: self.files[f].arch.clone(),
            priority,
        }
    }

    /// The file package `i` (universe order) comes from, if any.
    pub(crate) fn of(&self, i: usize) -> Option<usize> {
        if i >= self.end {
            return None;
        }
        Some(self.starts.partition_point(|&s| s <= i) - 1)
    }
}

/// The host of a URI (`deb.debian.org`), empty for `file:` URIs, as apt's `Pin: origin` sees it.
fn host(uri: &str) -> &str {
    match uri.split_once("://") {
        Some(("file", _)) | None => "",
        Some((_, rest)) => rest.split(['/', ':']).next().unwrap_or(""),
    }
}

/// The preferences of the state directory at `root`: `preferences`, then the files of
/// `preferences.d` in name order whose names apt would read (letters, digits, `_`, `-`, `.`;
/// ending in `.pref` or without a dot).
pub(crate) fn preferences(root: &Path) -> Result<Preferences> {
    let mut paths = vec![root.join("preferences")];
    if let Ok(dir) = std::fs::read_dir(root.join("preferences.d")) {
        let mut parts: Vec<_> = dir
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| {
                p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                    n.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
                        && (n.ends_with(".pref") || !n.contains('.'))
                })
            })
            .collect();
        parts.sort();
        paths.extend(parts);
    }
    let mut prefs = Preferences::default();
    for path in paths {
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(
                    Error::new(ErrorKind::Io, format!("{}: {e}", path.display())).with_source(e),
                )
            }
        };
        let parsed = Preferences::parse(&text).map_err(|e| {
            Error::new(
                ErrorKind::BadPreferences,
                format!("{}: {e}", path.display()),
            )
            .hint("see apt_preferences(5): Package, Pin and Pin-Priority in every record")
        })?;
        prefs.extend(parsed);
    }
    Ok(prefs)
}

/// The pin priority of every package of `view` (universe order), or an empty list when every
/// package has the same positive priority (then candidates are ordered as without pins).
/// A record naming a package (not a pattern) that no source has is an error, as is a pattern
/// that is not a valid expression: a pin that silently pins nothing would look like one that
/// works.
/// Whether every package has the same positive priority: no package records, and every file
/// the same priority (the usual case: one source, no preferences).
pub(crate) fn alike(files: &Files, prefs: &Preferences) -> bool {
    let file_prio = prefs.file_priorities(&files.files);
    file_prio.windows(2).all(|w| w[0] == w[1])
        && file_prio.first().is_none_or(|&p| p > 0)
        && prefs.is_empty()
}

pub(crate) fn priorities(
    view: &PinnedView<'_>,
    files: &Files,
    prefs: &Preferences,
    native: &str,
) -> Result<Vec<i16>> {
    for name in prefs.named_packages() {
        if view.named(name).is_empty() {
            return Err(Error::new(
                ErrorKind::BadPreferences,
                format!("a pin names {name}, which no pinned source has"),
            )
            .hint("check the name against `particle repo list` and the sources' indices"));
        }
    }
    let file_prio = prefs.file_priorities(&files.files);
    let uniform = file_prio.windows(2).all(|w| w[0] == w[1]);
    if uniform && file_prio.first().is_none_or(|&p| p > 0) && !prefs.has_package_records() {
        return Ok(Vec::new());
    }
    let n = view.len();
    let mut pins = vec![solver::policy::DEFAULT_PRIORITY; n];
    for (i, pin) in pins.iter_mut().enumerate().take(files.end) {
        if let Some(f) = files.of(i) {
            *pin = file_prio[f];
        }
    }
    // A version listed by several files has the highest of their priorities.
    if !uniform {
        let mut best: HashMap<(&str, &str, &str), i16> = HashMap::new();
        for (i, &p) in pins.iter().enumerate() {
            let r = view.record(PkgRef(i));
            let e = best.entry((r.name, r.arch, r.version)).or_insert(p);
            *e = (*e).max(p);
        }
        for (i, pin) in pins.iter_mut().enumerate() {
            let r = view.record(PkgRef(i));
            *pin = best[&(r.name, r.arch, r.version)];
        }
    }
    if prefs.has_package_records() {
        for name in pinned_names(view, prefs) {
            let refs = view.named(&name);
            for &r in &refs {
                let p = view.record(r);
                let same: Vec<&IndexFile> = refs
                    .iter()
                    .filter(|&&o| {
                        let q = view.record(o);
                        q.arch == p.arch && q.version == p.version
                    })
                    .filter_map(|o| files.of(o.0).map(|f| &files.files[f]))
                    .collect();
                if let Some(prio) =
                    prefs.version_pin(p.name, p.arch, native, p.version, same.iter().copied())
                {
                    pins[r.0] = prio;
                }
            }
        }
    }
    Ok(pins)
}

/// The names package records may name: the named ones, and for patterns every name in the
/// universe.
fn pinned_names(view: &PinnedView<'_>, prefs: &Preferences) -> Vec<String> {
    let patterned = prefs
        .records
        .iter()
        .flat_map(|r| r.packages.iter())
        .any(|p| p.contains(['*', '?', '[', '/']));
    let mut names: Vec<String> = if patterned {
        (0..view.len())
            .map(|i| view.record(PkgRef(i)).name.to_owned())
            .collect()
    } else {
        prefs.named_packages().map(str::to_owned).collect()
    };
    names.sort();
    names.dedup();
    names
}

/// apt's `PKG/RELEASE` (`hello/bookworm-backports`): `PKG=VERSION` with the newest version of
/// PKG that an index file of RELEASE (its Suite or Codename) lists, so that the journal records
/// the version taken; the other specs as they are.
pub(crate) fn release_specs(
    view: &PinnedView<'_>,
    files: &Files,
    specs: Vec<String>,
) -> Result<Vec<String>> {
    specs
        .into_iter()
        .map(|spec| {
            let Some((head, release)) = spec.split_once('/') else {
                return Ok(spec);
            };
            let (name, arch) = head.split_once(':').map_or((head, None), |(n, a)| (n, Some(a)));
            let mut best: Option<&str> = None;
            for r in view.named(name) {
                let p = view.record(r);
                let Some(f) = files.of(r.0).map(|f| &files.files[f]) else {
                    continue;
                };
                let newer = best.is_none_or(|b| {
                    store::compare_versions(p.version, b) == std::cmp::Ordering::Greater
                });
                if arch.is_none_or(|a| p.arch == a)
                    && (f.archive == release || f.codename == release)
                    && newer
                {
                    best = Some(p.version);
                }
            }
            best.map(|v| format!("{head}={v}")).ok_or_else(|| {
                Error::new(
                    ErrorKind::UnknownPackage,
                    format!("no pinned source has {head} in release {release}"),
                )
                .hint("`particle repo policy` lists every source's release; `particle repo policy PKG` where PKG comes from")
            })
        })
        .collect()
}

/// One version of a package as `particle policy` shows it (apt-cache policy's version table).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VersionPolicy {
    pub version: String,
    pub priority: i16,
    /// Where it comes from: `source component/arch` with that file's priority.
    pub files: Vec<FilePolicy>,
}

/// An index file listing a version.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FilePolicy {
    pub source: String,
    pub archive: String,
    pub component: String,
    pub arch: String,
    pub priority: i16,
}

/// A package's candidate and versions.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PackagePolicy {
    pub name: String,
    pub arch: String,
    pub installed: Option<String>,
    pub candidate: Option<String>,
    /// Newest first.
    pub versions: Vec<VersionPolicy>,
}

/// `  500 source archive/component arch`, as apt-cache policy lists a file.
impl std::fmt::Display for FilePolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let FilePolicy {
            source,
            archive,
            component,
            arch,
            priority,
        } = self;
        write!(f, "{priority:>5} {source} {archive}/{component} {arch}")
    }
}

/// apt-cache policy's text: installed, candidate, and the version table (`***` marks the
/// installed version), each version's files under it.
impl std::fmt::Display for PackagePolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let none = "(none)".to_owned();
        writeln!(f, "{}:{}:", self.name, self.arch)?;
        writeln!(
            f,
            "  Installed: {}",
            self.installed.as_ref().unwrap_or(&none)
        )?;
        writeln!(
            f,
            "  Candidate: {}",
            self.candidate.as_ref().unwrap_or(&none)
        )?;
        writeln!(f, "  Version table:")?;
        for v in &self.versions {
            let mark = if self.installed.as_ref() == Some(&v.version) {
                "***"
            } else {
                "   "
            };
            writeln!(f, " {mark} {} {}", v.version, v.priority)?;
            for file in &v.files {
                writeln!(f, "      {file}")?;
            }
        }
        Ok(())
    }
}

/// The policy of `name` (native architecture, or `name:arch`) over `view`, with `installed`
/// the version a variant has.
pub(crate) fn package_policy(
    view: &PinnedView<'_>,
    files: &Files,
    prefs: &Preferences,
    pins: &[i16],
    spec: &str,
    native: &str,
    installed: impl Fn(&str, &str) -> Option<String>,
) -> Result<PackagePolicy> {
    let (name, arch) = spec.split_once(':').unwrap_or((spec, native));
    let file_prio = prefs.file_priorities(&files.files);
    let mut versions: Vec<VersionPolicy> = Vec::new();
    for r in view.named(name) {
        let p = view.record(r);
        if p.arch != arch && !(p.arch == "all" && arch == native) {
            continue;
        }
        let prio = pins
            .get(r.0)
            .copied()
            .unwrap_or(solver::policy::DEFAULT_PRIORITY);
        let file = files.of(r.0).map(|f| files.shown(f, file_prio[f]));
        match versions.iter_mut().find(|v| v.version == p.version) {
            Some(v) => v.files.extend(file),
            None => versions.push(VersionPolicy {
                version: p.version.to_owned(),
                priority: prio,
                files: file.into_iter().collect(),
            }),
        }
    }
    if versions.is_empty() {
        return Err(Error::new(
            ErrorKind::UnknownPackage,
            format!("no pinned source has {spec}"),
        ));
    }
    versions.sort_by(|a, b| store::compare_versions(&b.version, &a.version));
    let installed = installed(name, arch);
    let ranked: Vec<solver::policy::Version<'_>> = versions
        .iter()
        .map(|v| solver::policy::Version {
            version: &v.version,
            priority: if installed.as_deref() == Some(v.version.as_str()) {
                v.priority.max(solver::policy::INSTALLED_PRIORITY)
            } else {
                v.priority
            },
        })
        .collect();
    let candidate = solver::policy::candidate(&ranked, installed.as_deref())
        .map(|i| versions[i].version.clone())
        .or_else(|| installed.clone());
    Ok(PackagePolicy {
        name: name.to_owned(),
        arch: arch.to_owned(),
        installed,
        candidate,
        versions,
    })
}

impl crate::Session {
    /// Every index file of the pinned sources with its priority (`repo policy` without
    /// packages).
    pub fn policy_files(&mut self) -> Result<Vec<FilePolicy>> {
        self.load_pinned()?;
        let p = self.pinned.as_ref().expect("loaded");
        let prio = p.prefs.file_priorities(&p.files.files);
        Ok(prio
            .into_iter()
            .enumerate()
            .map(|(f, priority)| p.files.shown(f, priority))
            .collect())
    }

    /// The candidate and versions of each package spec (`name` or `name:arch`), with the
    /// version `variant` has installed (`repo policy PKG...`, as `apt-cache policy`).
    pub fn policy(&mut self, variant: &str, specs: &[String]) -> Result<Vec<PackagePolicy>> {
        self.load_pinned()?;
        let (_, state) = self.head_state(variant);
        let p = self.pinned.as_ref().expect("loaded");
        let view = p.view()?;
        let installed = |name: &str, arch: &str| {
            state
                .packages
                .iter()
                .find(|e| e.name == name && (e.arch == arch || e.arch == "all"))
                .map(|e| e.version.clone())
        };
        specs
            .iter()
            .map(|spec| {
                package_policy(
                    &view,
                    &p.files,
                    &p.prefs,
                    &p.pins,
                    spec,
                    store::native_architecture(),
                    installed,
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_what_pin_origin_matches() {
        assert_eq!(host("http://deb.debian.org/debian"), "deb.debian.org");
        assert_eq!(host("https://mirror.example:8443/x"), "mirror.example");
        assert_eq!(host("file:///srv/mirror"), "");
    }

    #[test]
    fn preferences_are_read_in_apts_order_and_bad_ones_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(preferences(dir.path()).expect("none").is_empty());
        let record = |p: i16| format!("Package: *\nPin: release a=x\nPin-Priority: {p}\n");
        std::fs::write(dir.path().join("preferences"), record(1)).expect("write");
        std::fs::create_dir(dir.path().join("preferences.d")).expect("mkdir");
        std::fs::write(dir.path().join("preferences.d/b.pref"), record(3)).expect("write");
        std::fs::write(dir.path().join("preferences.d/a"), record(2)).expect("write");
        std::fs::write(dir.path().join("preferences.d/c.dpkg-old"), record(9)).expect("write");
        let p = preferences(dir.path()).expect("reads");
        let prios: Vec<i16> = p.records.iter().map(|r| r.priority).collect();
        assert_eq!(prios, [1, 2, 3]);
        std::fs::write(dir.path().join("preferences.d/d"), "Package: x\n").expect("write");
        let e = preferences(dir.path()).expect_err("no pin");
        assert_eq!(e.kind(), ErrorKind::BadPreferences);
        assert!(e.to_string().contains("preferences.d/d"), "{e}");
    }
}
