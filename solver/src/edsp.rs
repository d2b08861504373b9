//! EDSP 0.5, apt's External Dependency Solver Protocol: `apt-get --solver particle` hands the
//! request and the whole universe (installed and candidate versions, each with an `APT-ID`) to
//! this solver on stdin and applies the `Install:`/`Remove:` answer it reads back. Pure: text in,
//! text out (the CLI's `particle edsp` does the I/O).
//!
//! What apt asks is what is solved, with apt's semantics: no essential set is added (apt does not
//! install one either), installed packages are kept where possible, and with `Strict-Pinning`
//! (the default) only installed and candidate versions (`APT-Candidate: yes`) are considered.

use crate::solve::{Installed, Request, Solver};
use crate::Options;
use std::collections::{BTreeMap, BTreeSet};
use store::{package_from_paragraph, paragraphs, Universe};

/// A parsed EDSP request: what to do and the universe it applies to.
#[derive(Debug)]
pub struct EdspRequest {
    pub architecture: String,
    pub architectures: Vec<String>,
    pub install: Vec<String>,
    pub remove: Vec<String>,
    pub upgrade_all: bool,
    pub strict_pinning: bool,
    pub forbid_new_install: bool,
    pub forbid_remove: bool,
    pub recommends: bool,
    pub universe: Universe,
    /// Per package of `universe`: its `APT-ID`.
    pub ids: Vec<String>,
    pub installed: Vec<usize>,
}

/// Why a request could not be read.
#[derive(Debug, thiserror::Error)]
#[error("EDSP input: {0}")]
pub struct EdspError(String);

fn yes(v: Option<&str>, default: bool) -> bool {
    match v.map(str::trim) {
        Some(v) => matches!(v, "yes" | "Yes" | "YES" | "true" | "1"),
        None => default,
    }
}

fn list(v: Option<&str>) -> Vec<String> {
    v.map(|s| s.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Reads an EDSP document: the request stanza, then one stanza per package version.
pub fn parse_request(text: &str) -> Result<EdspRequest, EdspError> {
    let mut it = paragraphs(text);
    let head = it
        .next()
        .ok_or_else(|| EdspError("empty input".into()))?
        .map_err(|e| EdspError(e.to_string()))?;
    let version = head
        .get("Request")
        .ok_or_else(|| EdspError("the first stanza has no Request field".into()))?;
    if !version.trim().starts_with("EDSP 0.") {
        return Err(EdspError(format!("unsupported protocol {version:?}")));
    }
    let architecture = head
        .get("Architecture")
        .unwrap_or(store::native_architecture())
        .trim()
        .to_owned();
    let mut architectures = list(head.get("Architectures"));
    if architectures.is_empty() {
        architectures.push(architecture.clone());
    }
    let upgrade_all = yes(head.get("Upgrade-All"), false)
        || yes(head.get("Upgrade"), false)
        || yes(head.get("Dist-Upgrade"), false);
    let mut req = EdspRequest {
        install: list(head.get("Install")),
        remove: list(head.get("Remove")),
        upgrade_all,
        strict_pinning: yes(head.get("Strict-Pinning"), true),
        forbid_new_install: yes(head.get("Forbid-New-Install"), false),
        forbid_remove: yes(head.get("Forbid-Remove"), false),
        recommends: yes(head.get("Install-Recommends"), true),
        architecture,
        architectures,
        universe: Universe {
            packages: Vec::new(),
        },
        ids: Vec::new(),
        installed: Vec::new(),
    };
    for p in it {
        let p = p.map_err(|e| EdspError(e.to_string()))?;
        let id = p
            .get("APT-ID")
            .ok_or_else(|| {
                EdspError(format!(
                    "package {:?} has no APT-ID",
                    p.get("Package").unwrap_or("?")
                ))
            })?
            .trim()
            .to_owned();
        let installed = yes(p.get("Installed"), false);
        let candidate = yes(p.get("APT-Candidate"), false);
        if req.strict_pinning && !installed && !candidate {
            continue;
        }
        let pkg = package_from_paragraph(&p).map_err(|e| EdspError(e.to_string()))?;
        if installed {
            req.installed.push(req.universe.packages.len());
        }
        req.universe.packages.push(pkg);
        req.ids.push(id);
    }
    Ok(req)
}

/// `name:arch` → `name` when the arch is the native one (EDSP qualifies every name).
fn spec(s: &str, native: &str) -> String {
    match s.split_once(':') {
        Some((n, a)) if a == native || a == "all" => n.to_owned(),
        _ => s.to_owned(),
    }
}

/// Solves an EDSP document and returns the answer document: `Install:`/`Remove:` stanzas by
/// APT-ID, or one `Error:` stanza whose message says why.
pub fn solve_edsp(text: &str) -> String {
    match answer(text) {
        Ok(s) => s,
        Err(msg) => {
            let msg = msg.replace('\n', "\n ");
            format!("Error: particle\nMessage: {msg}\n\n")
        }
    }
}

fn answer(text: &str) -> Result<String, String> {
    let req = parse_request(text).map_err(|e| e.to_string())?;
    let options = Options {
        arch: req.architecture.clone(),
        foreign_archs: req
            .architectures
            .iter()
            .filter(|a| **a != req.architecture)
            .cloned()
            .collect(),
        // apt sent only installed and candidate versions: its pins are applied already.
        pins: Vec::new(),
    };
    let solver = Solver::new(&req.universe, &options);
    let installed: Vec<Installed> = req
        .installed
        .iter()
        .map(|&i| {
            let p = &req.universe.packages[i];
            Installed {
                name: p.name.clone(),
                version: p.version.clone(),
                arch: p.arch.clone(),
            }
        })
        .collect();
    let request = Request {
        install: req
            .install
            .iter()
            .map(|s| spec(s, &req.architecture))
            .collect(),
        remove: req
            .remove
            .iter()
            .map(|s| spec(s, &req.architecture))
            .collect(),
        upgrade: req.upgrade_all,
        no_recommends: !req.recommends,
    };
    let solution = solver
        .solve_without_base_set(&request, &installed)
        .map_err(|e| e.to_string())?;
    // Index by (name, version, arch) to find each chosen version's APT-ID.
    let by_key: BTreeMap<(&str, &str, &str), usize> = req
        .universe
        .packages
        .iter()
        .enumerate()
        .map(|(i, p)| ((p.name.as_str(), p.version.as_str(), p.arch.as_str()), i))
        .collect();
    let chosen: BTreeSet<usize> = solution
        .packages
        .iter()
        .filter_map(|c| {
            by_key
                .get(&(c.name.as_str(), c.version.as_str(), c.arch.as_str()))
                .copied()
        })
        .collect();
    let installed_set: BTreeSet<usize> = req.installed.iter().copied().collect();
    let mut out = String::new();
    for &i in chosen.difference(&installed_set) {
        let p = &req.universe.packages[i];
        if req.forbid_new_install
            && !req
                .installed
                .iter()
                .any(|&j| req.universe.packages[j].name == p.name)
        {
            return Err(format!(
                "installing {} is needed, but the request forbids new installs",
                p.name
            ));
        }
        out.push_str(&stanza("Install", &req.ids[i], p));
    }
    for &i in installed_set.difference(&chosen) {
        let p = &req.universe.packages[i];
        // An upgraded package is an Install of the new version; apt removes the old itself.
        let replaced = chosen.iter().any(|&j| {
            req.universe.packages[j].name == p.name && req.universe.packages[j].arch == p.arch
        });
        if replaced {
            continue;
        }
        if req.forbid_remove {
            return Err(format!(
                "removing {} is needed, but the request forbids removals",
                p.name
            ));
        }
        out.push_str(&stanza("Remove", &req.ids[i], p));
    }
    Ok(out)
}

/// One answer stanza: the action on an APT-ID, with the package named for people reading it.
fn stanza(action: &str, id: &str, p: &store::Package) -> String {
    format!(
        "{action}: {id}\nPackage: {}\nVersion: {}\nArchitecture: {}\n\n",
        p.name, p.version, p.arch
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNIVERSE: &str = "Package: hello\nVersion: 2.10-3\nArchitecture: amd64\nAPT-ID: 7\nAPT-Candidate: yes\nDepends: libc6 (>= 2.34)\n\n\
Package: hello\nVersion: 2.9-1\nArchitecture: amd64\nAPT-ID: 8\n\n\
Package: libc6\nVersion: 2.36-9\nArchitecture: amd64\nAPT-ID: 3\nAPT-Candidate: yes\nInstalled: yes\nMulti-Arch: same\n\n\
Package: old\nVersion: 1\nArchitecture: amd64\nAPT-ID: 4\nAPT-Candidate: yes\nInstalled: yes\nConflicts: hello\n\n";

    #[test]
    fn installs_the_candidate_and_removes_what_conflicts() {
        let doc = format!(
            "Request: EDSP 0.5\nArchitecture: amd64\nArchitectures: amd64\nInstall: hello:amd64\nSolver: particle\n\n{UNIVERSE}"
        );
        assert_eq!(
            solve_edsp(&doc),
            "Install: 7\nPackage: hello\nVersion: 2.10-3\nArchitecture: amd64\n\n\
Remove: 4\nPackage: old\nVersion: 1\nArchitecture: amd64\n\n"
        );
    }

    #[test]
    fn forbidden_removal_and_unknown_packages_answer_with_an_error_stanza() {
        let doc = format!(
            "Request: EDSP 0.5\nArchitecture: amd64\nInstall: hello:amd64\nForbid-Remove: yes\n\n{UNIVERSE}"
        );
        let a = solve_edsp(&doc);
        assert!(
            a.starts_with("Error: particle\nMessage: removing old"),
            "{a}"
        );
        let doc =
            format!("Request: EDSP 0.5\nArchitecture: amd64\nInstall: nosuch:amd64\n\n{UNIVERSE}");
        assert!(solve_edsp(&doc).starts_with("Error: particle\nMessage: "));
        assert!(solve_edsp("Package: x\n\n").starts_with("Error: particle\nMessage: EDSP input"));
    }

    #[test]
    fn nothing_asked_keeps_everything() {
        let doc = format!("Request: EDSP 0.5\nArchitecture: amd64\n\n{UNIVERSE}");
        assert_eq!(solve_edsp(&doc), "");
    }
}
