//! Plumbing over Debian indices: `solve` and `distcheck` over Packages files (no state directory
//! needed), or `solve` over the pinned sources of a state directory, with an installed set read
//! from a dpkg `status` file.

use crate::state::StateDir;
use crate::{Error, ErrorKind, Result};
use std::path::{Path, PathBuf};

/// The packages of Packages files (plain, `.xz` or `.gz`, by their names), in one universe.
pub fn load_indices(files: &[PathBuf]) -> Result<store::Universe> {
    let mut universe = store::Universe::default();
    for f in files {
        let raw = std::fs::read(f).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("could not read {}: {e}", f.display()),
            )
            .with_source(e)
        })?;
        let name = f.to_string_lossy();
        let bad = |e: &dyn std::fmt::Display| {
            Error::new(ErrorKind::BadIndex, format!("{}: {e}", f.display()))
        };
        let text = store::decompress(&raw, store::Compression::from_name(&name), 4 << 30)
            .map_err(|e| bad(&e))?;
        let u = store::parse_packages_bytes(&text).map_err(|e| bad(&e))?;
        universe.packages.extend(u.packages);
    }
    Ok(universe)
}

/// Reads a dpkg `status` file: the installed packages, which are also added to the universe
/// when no index has them (so the solver can keep or remove them).
pub fn load_installed(
    path: &Path,
    universe: &mut store::Universe,
) -> Result<Vec<solver::Installed>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::new(
            ErrorKind::Io,
            format!("could not read {}: {e}", path.display()),
        )
        .with_source(e)
    })?;
    let bad = |e: &dyn std::fmt::Display| {
        Error::new(ErrorKind::BadStatus, format!("{}: {e}", path.display()))
    };
    let mut out = Vec::new();
    let mut known: std::collections::HashSet<(String, String, String)> = universe
        .packages
        .iter()
        .map(|p| (p.name.clone(), p.version.clone(), p.arch.clone()))
        .collect();
    for para in store::paragraphs(&text) {
        let para = para.map_err(|e| bad(&e))?;
        let status = para.get("Status").unwrap_or("");
        if !status.ends_with(" installed") {
            continue;
        }
        let p = store::package_from_paragraph(&para).map_err(|e| bad(&e))?;
        out.push(solver::Installed {
            name: p.name.clone(),
            version: p.version.clone(),
            arch: p.arch.clone(),
        });
        if known.insert((p.name.clone(), p.version.clone(), p.arch.clone())) {
            universe.packages.push(p);
        }
    }
    Ok(out)
}

fn unsatisfiable(e: solver::SolveError) -> Error {
    Error::new(ErrorKind::Unsatisfiable, e.to_string())
}

/// Solves `request` over Packages files, with the installed set of a dpkg `status` file (none
/// without one).
pub fn solve_indices(
    index: &[PathBuf],
    installed: Option<&Path>,
    request: &solver::Request,
) -> Result<solver::Solution> {
    let t = std::time::Instant::now();
    let mut universe = load_indices(index)?;
    let installed = match installed {
        Some(p) => load_installed(p, &mut universe)?,
        None => Vec::new(),
    };
    tracing::info!("indices loaded in {:?}", t.elapsed());
    solver::Solver::new(&universe, &solver::Options::default())
        .solve(request, &installed)
        .map_err(unsatisfiable)
}

/// Solves over the pinned sources of the state directory at `root`. With one source and no
/// installed set, the solver reads the snapshot in place (no index text parsed, no universe
/// built); with several, or a status file whose packages must join the universe, it works on an
/// owned copy.
///
/// Meant for a process that ends after the answer: in the first case the solver's index is
/// leaked rather than freed (see below).
pub fn solve_pinned(
    root: &Path,
    installed: Option<&Path>,
    request: &solver::Request,
) -> Result<solver::Solution> {
    let state = StateDir::open(root)?;
    let st = crate::read_store(&state)?;
    let t = std::time::Instant::now();
    let pinned = crate::pinned::Pinned::load(&st, &state.root)?;
    if installed.is_none() {
        let view = pinned.view()?;
        let solver = view.solver();
        let indexed = t.elapsed();
        let solution = solver.solve(request, &[]).map_err(unsatisfiable)?;
        tracing::info!(
            "pinned sources loaded and indexed in {indexed:?}, solved in {:?}",
            t.elapsed() - indexed
        );
        // The process ends after printing: freeing the solver's index and the packages it
        // converted (hundreds of thousands of small allocations) would cost a tenth of the
        // command's time for nothing.
        std::mem::forget(solver);
        return Ok(solution);
    }
    let foreign_archs = pinned.foreign.clone();
    let (mut universe, pins) = pinned.into_universe()?;
    let installed = match installed {
        Some(p) => load_installed(p, &mut universe)?,
        None => Vec::new(),
    };
    let options = solver::Options {
        pins,
        foreign_archs,
        ..solver::Options::default()
    };
    solver::Solver::new(&universe, &options)
        .solve(request, &installed)
        .map_err(unsatisfiable)
}

/// `particle solve`: over the Packages files `index`, or without any over the pinned sources of
/// the state directory at `root` ([`solve_indices`], [`solve_pinned`]).
pub fn solve(
    root: &Path,
    index: &[PathBuf],
    installed: Option<&Path>,
    request: &solver::Request,
) -> Result<solver::Solution> {
    let t = std::time::Instant::now();
    let solution = if index.is_empty() {
        solve_pinned(root, installed, request)?
    } else {
        solve_indices(index, installed, request)?
    };
    tracing::info!("loaded and solved in {:?}", t.elapsed());
    Ok(solution)
}

/// Every package of the Packages files `index` checked for installability, like
/// dose-distcheck.
pub fn distcheck_indices(index: &[PathBuf]) -> Result<solver::DistcheckReport> {
    let universe = load_indices(index)?;
    Ok(solver::distcheck(&universe, &solver::Options::default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "\
Package: hello
Status: install ok installed
Architecture: amd64
Version: 2.10-3

Package: gone
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0

Package: libc6
Status: install ok installed
Architecture: amd64
Version: 2.36-9
";

    const PACKAGES: &str = "\
Package: hello
Architecture: amd64
Version: 2.10-3
Depends: libc6
Filename: pool/h/hello.deb
Size: 1
SHA256: 0000000000000000000000000000000000000000000000000000000000000000

Package: libc6
Architecture: amd64
Version: 2.36-9
Filename: pool/l/libc6.deb
Size: 1
SHA256: 0000000000000000000000000000000000000000000000000000000000000000
";

    #[test]
    fn installed_packages_join_the_universe_once() {
        let d = tempfile::tempdir().expect("tempdir");
        let status = d.path().join("status");
        std::fs::write(&status, STATUS).expect("status");
        let index = d.path().join("Packages");
        std::fs::write(&index, PACKAGES.split("\n\n").nth(1).expect("libc6")).expect("index");
        let mut universe = load_indices(&[index]).expect("index loads");
        assert_eq!(universe.packages.len(), 1);
        let installed = load_installed(&status, &mut universe).expect("status loads");
        let names: Vec<_> = installed.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["hello", "libc6"], "only installed packages");
        // hello joins the universe; libc6, which the index has, is not added twice.
        let mut in_universe: Vec<_> = universe.packages.iter().map(|p| &p.name).collect();
        in_universe.sort();
        assert_eq!(in_universe, ["hello", "libc6"]);
    }

    #[test]
    fn unreadable_and_bad_files_have_their_kinds() {
        let d = tempfile::tempdir().expect("tempdir");
        let missing = d.path().join("missing");
        let e = load_indices(std::slice::from_ref(&missing)).expect_err("missing index");
        assert_eq!(e.kind(), ErrorKind::Io);
        assert!(
            e.message().starts_with("could not read "),
            "{}",
            e.message()
        );
        let e = load_installed(&missing, &mut store::Universe::default()).expect_err("missing");
        assert_eq!(e.kind(), ErrorKind::Io);
        let bad = d.path().join("Packages.xz");
        std::fs::write(&bad, "not xz").expect("write");
        let e = load_indices(&[bad]).expect_err("bad index");
        assert_eq!(e.kind(), ErrorKind::BadIndex);
    }

    #[test]
    fn solve_and_distcheck_over_files() {
        let d = tempfile::tempdir().expect("tempdir");
        let index = d.path().join("Packages");
        std::fs::write(&index, PACKAGES).expect("index");
        let index = [index];
        let request = solver::Request {
            install: vec!["hello".into()],
            ..Default::default()
        };
        let solution = solve_indices(&index, None, &request).expect("solves");
        let mut names: Vec<_> = solution.changes.iter().map(|c| c.name.as_str()).collect();
        names.sort();
        assert_eq!(names, ["hello", "libc6"]);
        let request = solver::Request {
            install: vec!["no-such-pkg".into()],
            ..Default::default()
        };
        let e = solve_indices(&index, None, &request).expect_err("unsatisfiable");
        assert_eq!(e.kind(), ErrorKind::Unsatisfiable);
        let report = distcheck_indices(&index).expect("distcheck");
        assert_eq!((report.total, report.broken.len()), (2, 0));
    }
}
