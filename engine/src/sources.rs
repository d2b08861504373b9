//! Package sources: adding one (checked), importing apt's deb822 `.sources` files, listing
//! them with their pins, and updating them (fetch, verify, pin). The store does the fetching and
//! verifying; this is what a front end asks of it.

use crate::state::StateDir;
use crate::{Error, ErrorKind, Result};
use std::path::{Path, PathBuf};

/// The store of the state directory at `root`, opened read-only (see [`crate::read_store`]).
pub fn open(root: &Path) -> Result<(StateDir, store::Store)> {
    let state = StateDir::open(root)?;
    let st = crate::session::read_store(&state)?;
    Ok((state, st))
}

/// `repo list`: every source with its pinned snapshot (`None` before its first update).
pub fn list(root: &Path) -> Result<Vec<(store::SourceConfig, Option<store::Pin>)>> {
    let (_state, st) = open(root)?;
    let sources = st.sources()?;
    let pins = st.pins()?;
    Ok(sources
        .into_iter()
        .map(|s| {
            let pin = pins.iter().find(|p| p.source == s.name).cloned();
            (s, pin)
        })
        .collect())
}

/// A source and its pinned snapshot, as `repo list --json` shows them.
#[derive(Debug, serde::Serialize)]
pub struct Listed<'a> {
    #[serde(flatten)]
    pub source: &'a store::SourceConfig,
    pub pinned: Option<serde_json::Value>,
}

/// [`list`]'s entries as `repo list --json` shows them.
pub fn listed(list: &[(store::SourceConfig, Option<store::Pin>)]) -> Vec<Listed<'_>> {
    list.iter()
        .map(|(source, pin)| Listed {
            source,
            pinned: pin.as_ref().map(|p| {
                serde_json::json!({ "inrelease_sha256": p.inrelease_sha256,
                    "date": store::format_utc(p.date), "packages": p.packages })
            }),
        })
        .collect()
}

/// A pinned source as `repo update --json` shows it.
pub fn updated(
    sources: &[store::SourceConfig],
    pin: &store::Pin,
    changed: bool,
) -> serde_json::Value {
    let suite = sources
        .iter()
        .find(|s| s.name == pin.source)
        .map(|s| &s.suite);
    serde_json::json!({
        "name": pin.source, "suite": suite.cloned().unwrap_or_default(), "packages": pin.packages,
        "inrelease_sha256": pin.inrelease_sha256, "changed": changed,
    })
}

/// The store of the state directory at `root` under the lock, so that a read-only or busy state
/// directory is refused before anything is opened for writing.
pub fn open_locked(root: &Path) -> Result<(StateDir, journal::Lock, store::Store)> {
    let state = StateDir::open(root)?;
    let lock = crate::state::lock(&state)?;
    let st = store::Store::open(&state.store_dir())?;
    Ok((state, lock, st))
}

/// A source as `repo add` is given it, checked: a valid name, a `file:///`, `http://` or
/// `https://` URI, an existing keyring; `main` and the native architecture by default.
pub fn source_config(
    name: String,
    uri: String,
    suite: String,
    mut components: Vec<String>,
    mut architectures: Vec<String>,
    keyring: PathBuf,
    priority: Option<i16>,
) -> Result<store::SourceConfig> {
    if !store::valid_name(&name) {
        return Err(Error::usage(format!(
            "{name:?} is not a valid source name (letters, digits, + - .)"
        )));
    }
    if !(uri.starts_with("file:///") || uri.starts_with("http://") || uri.starts_with("https://")) {
        return Err(Error::usage(format!(
            "{uri:?}: the URI must start with file:///, http:// or https://"
        )));
    }
    if !keyring.exists() {
        return Err(Error::new(
            ErrorKind::Keyring,
            format!("keyring {} does not exist", keyring.display()),
        )
        .hint("pass --keyring with the archive's OpenPGP keyring"));
    }
    if components.is_empty() {
        components.push("main".into());
    }
    if architectures.is_empty() {
        architectures.push(store::native_architecture().into());
    }
    let keyring = std::fs::canonicalize(&keyring).unwrap_or(keyring);
    Ok(store::SourceConfig {
        name,
        uri,
        suite,
        components,
        architectures,
        keyring,
        priority,
    })
}

/// Adds `source` to the state directory at `root`.
pub fn add(root: &Path, source: &store::SourceConfig) -> Result<()> {
    let (_state, _lock, st) = open_locked(root)?;
    st.add_source(source)?;
    Ok(())
}

/// The host's apt sources: every `/etc/apt/sources.list.d/*.sources`, sorted.
pub fn host_sources() -> Result<Vec<PathBuf>> {
    let dir = Path::new("/etc/apt/sources.list.d");
    let mut files = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.path().extension().is_some_and(|x| x == "sources") {
                files.push(e.path());
            }
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(Error::new(
            ErrorKind::NoSources,
            "no deb822 .sources files in /etc/apt/sources.list.d",
        )
        .hint("pass the files to import, or use `particle repo add`"));
    }
    Ok(files)
}

/// Adds every source of the deb822 `files` (the host's when empty) that the state directory
/// does not have yet; returns those added.
pub fn import_apt(root: &Path, files: Vec<PathBuf>) -> Result<Vec<store::SourceConfig>> {
    let (state, _lock, st) = open_locked(root)?;
    let files = if files.is_empty() {
        host_sources()?
    } else {
        files
    };
    let existing: Vec<String> = st.sources()?.into_iter().map(|s| s.name).collect();
    let mut added: Vec<store::SourceConfig> = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("could not read {}: {e}", file.display()),
            )
        })?;
        let keyring_dir = state.store_dir().join("keyrings");
        for source in parse_apt_sources(file, &text, &keyring_dir)? {
            if existing.contains(&source.name) || added.iter().any(|s| s.name == source.name) {
                continue;
            }
            st.add_source(&source)?;
            added.push(source);
        }
    }
    Ok(added)
}

/// `repo update`: every source fetched, verified and pinned (particle's own package rebuilt
/// first when the running programs changed). Returns the sources and each one's outcome; a
/// failed source keeps its previous pin.
pub fn update(root: &Path) -> Result<(Vec<store::SourceConfig>, Vec<store::UpdateOutcome>)> {
    let (state, _lock, st) = open_locked(root)?;
    let sources = st.sources()?;
    if sources.is_empty() {
        return Err(Error::new(ErrorKind::NoSources, "no sources configured")
            .hint("add one with `particle repo add` or `particle repo import-apt`"));
    }
    // particle's own package follows the running programs (rebuilt when they changed).
    if state.machine.is_none() && sources.iter().any(|s| s.name == crate::own_package::SOURCE) {
        crate::own_package::ensure(&state, &st, true, &crate::Silent)?;
    }
    let outcomes = st.update(crate::machine::now())?;
    Ok((st.sources()?, outcomes))
}

/// Every enabled `Types: deb` stanza, one source per URI and suite. Inline `Signed-By` keys
/// are written under `keyring_dir`.
pub fn parse_apt_sources(
    file: &Path,
    text: &str,
    keyring_dir: &Path,
) -> Result<Vec<store::SourceConfig>> {
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("apt")
        .to_owned();
    let bad =
        |what: String| Error::new(ErrorKind::BadSources, format!("{}: {what}", file.display()));
    let mut out = Vec::new();
    for para in store::paragraphs(text) {
        let para = para.map_err(|e| bad(e.to_string()))?;
        if para
            .get("Enabled")
            .is_some_and(|v| v.eq_ignore_ascii_case("no"))
        {
            continue;
        }
        if !para
            .get("Types")
            .unwrap_or("")
            .split_whitespace()
            .any(|t| t == "deb")
        {
            continue;
        }
        let words = |f: &str| -> Vec<String> {
            para.get(f)
                .unwrap_or("")
                .split_whitespace()
                .map(str::to_owned)
                .collect()
        };
        let uris = words("URIs");
        let suites = words("Suites");
        let components = words("Components");
        let mut architectures = words("Architectures");
        if architectures.is_empty() {
            architectures.push(store::native_architecture().into());
        }
        if uris.is_empty() || suites.is_empty() {
            return Err(bad(format!(
                "stanza at line {} lacks URIs or Suites",
                para.line
            )));
        }
        let keyring: PathBuf = match para.get("Signed-By") {
            Some(v) if v.contains("BEGIN PGP PUBLIC KEY BLOCK") => {
                let armored: String = v
                    .lines()
                    .map(|l| {
                        let l = l.trim();
                        if l == "." {
                            ""
                        } else {
                            l
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("\n");
                std::fs::create_dir_all(keyring_dir).map_err(|e| bad(e.to_string()))?;
                let path = keyring_dir.join(format!("{stem}-{}.asc", para.line));
                std::fs::write(&path, armored + "\n").map_err(|e| bad(e.to_string()))?;
                path
            }
            Some(v) => PathBuf::from(v.split_whitespace().next().unwrap_or(v)),
            None => PathBuf::from("/usr/share/keyrings/debian-archive-keyring.gpg"),
        };
        for uri in &uris {
            for suite in &suites {
                let flat = suite.ends_with('/');
                if flat {
                    return Err(bad(format!(
                        "flat repository suite {suite:?} is not supported yet"
                    )));
                }
                let name = sanitize(&format!("{stem}-{suite}"));
                let name = if uris.len() > 1 {
                    sanitize(&format!("{name}-{}", host(uri)))
                } else {
                    name
                };
                out.push(store::SourceConfig {
                    name,
                    uri: uri.clone(),
                    suite: suite.clone(),
                    components: if components.is_empty() {
                        vec!["main".into()]
                    } else {
                        components.clone()
                    },
                    architectures: architectures.clone(),
                    keyring: keyring.clone(),
                    priority: None,
                });
            }
        }
    }
    Ok(out)
}

fn host(uri: &str) -> &str {
    uri.split("://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or(uri)
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.') {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_debian_sources() {
        let text = "Types: deb\n# comment\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb-src\nURIs: http://x\nSuites: y\n\nEnabled: no\nTypes: deb\nURIs: http://z\nSuites: q\n";
        let dir = std::env::temp_dir();
        let s = parse_apt_sources(
            Path::new("/etc/apt/sources.list.d/debian.sources"),
            text,
            &dir,
        )
        .expect("valid");
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].name, "debian-bookworm");
        assert_eq!(s[1].name, "debian-bookworm-updates");
        assert_eq!(s[1].components, vec!["main".to_owned()]);
    }
}
