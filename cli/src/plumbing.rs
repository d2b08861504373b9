//! Plumbing that needs no state directory: `solve` and `distcheck` over Packages files.

use crate::cmd::SolveAction;
use crate::error::CliError;
use crate::output::{print_json, table};
use engine::ErrorKind;
use std::path::Path;

fn load_indices(files: &[std::path::PathBuf]) -> anyhow::Result<store::Universe> {
    let mut universe = store::Universe::default();
    for f in files {
        let raw = std::fs::read(f).map_err(|e| {
            CliError::new(
                ErrorKind::Io,
                format!("could not read {}: {e}", f.display()),
            )
        })?;
        let name = f.to_string_lossy();
        let text = store::decompress(&raw, store::Compression::from_name(&name), 4 << 30)
            .map_err(|e| CliError::new(ErrorKind::BadIndex, format!("{}: {e}", f.display())))?;
        let u = store::parse_packages_bytes(&text)
            .map_err(|e| CliError::new(ErrorKind::BadIndex, format!("{}: {e}", f.display())))?;
        universe.packages.extend(u.packages);
    }
    Ok(universe)
}

/// Reads a dpkg `status` file: the installed packages, which are also added to the universe
/// when no index has them (so the solver can keep or remove them).
fn load_installed(
    path: &Path,
    universe: &mut store::Universe,
) -> anyhow::Result<Vec<solver::Installed>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CliError::new(
            ErrorKind::Io,
            format!("could not read {}: {e}", path.display()),
        )
    })?;
    let mut out = Vec::new();
    let mut known: std::collections::HashSet<(String, String, String)> = universe
        .packages
        .iter()
        .map(|p| (p.name.clone(), p.version.clone(), p.arch.clone()))
        .collect();
    for para in store::paragraphs(&text) {
        let para = para
            .map_err(|e| CliError::new(ErrorKind::BadStatus, format!("{}: {e}", path.display())))?;
        let status = para.get("Status").unwrap_or("");
        if !status.ends_with(" installed") {
            continue;
        }
        let p = store::package_from_paragraph(&para)
            .map_err(|e| CliError::new(ErrorKind::BadStatus, format!("{}: {e}", path.display())))?;
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

pub(crate) fn solve(
    root: &Path,
    index: &[std::path::PathBuf],
    installed: Option<&Path>,
    no_recommends: bool,
    action: SolveAction,
    json: bool,
) -> anyhow::Result<()> {
    let request = match action {
        SolveAction::Install { packages } => solver::Request {
            install: packages,
            no_recommends,
            ..Default::default()
        },
        SolveAction::Remove { packages } => solver::Request {
            remove: packages,
            no_recommends,
            ..Default::default()
        },
        SolveAction::Upgrade => solver::Request {
            upgrade: true,
            no_recommends,
            ..Default::default()
        },
    };
    let t = std::time::Instant::now();
    let solution = if index.is_empty() {
        solve_pinned(root, installed, &request)?
    } else {
        let mut universe = load_indices(index)?;
        let installed = match installed {
            Some(p) => load_installed(p, &mut universe)?,
            None => Vec::new(),
        };
        tracing::info!("indices loaded in {:?}", t.elapsed());
        solver::Solver::new(&universe, &solver::Options::default())
            .solve(&request, &installed)
            .map_err(|e| CliError::new(ErrorKind::Unsatisfiable, e.to_string()))?
    };
    tracing::info!("loaded and solved in {:?}", t.elapsed());
    print_solution(&solution, json)
}

/// Solves over the pinned sources of the state directory. With one source and no installed
/// set, the solver reads the snapshot in place (no index text parsed, no universe built); with
/// several, or a status file whose packages must join the universe, it works on an owned copy.
fn solve_pinned(
    root: &Path,
    installed: Option<&Path>,
    request: &solver::Request,
) -> anyhow::Result<solver::Solution> {
    let state = engine::state::StateDir::open(root)?;
    let st = engine::read_store(&state)?;
    let pins = st.pins()?;
    let unsat = |e: solver::SolveError| CliError::new(ErrorKind::Unsatisfiable, e.to_string());
    if let ([pin], None) = (pins.as_slice(), installed) {
        let t = std::time::Instant::now();
        let snapshot = st.snapshot(pin)?;
        if let Ok(table) = snapshot.view() {
            let opened = t.elapsed();
            let solver = solver::Solver::from_table(table, &solver::Options::default());
            let indexed = t.elapsed();
            let solution = solver.solve(request, &[]).map_err(unsat)?;
            tracing::info!(
                "snapshot opened in {opened:?}, solver index built in {:?}, solved in {:?}",
                indexed - opened,
                t.elapsed() - indexed
            );
            // The process ends after printing: freeing the solver's index and the packages it
            // converted (hundreds of thousands of small allocations) would cost a tenth of the
            // command's time for nothing.
            std::mem::forget(solver);
            return Ok(solution);
        }
    }
    let (mut universe, _) = st.universe()?;
    let installed = match installed {
        Some(p) => load_installed(p, &mut universe)?,
        None => Vec::new(),
    };
    solver::Solver::new(&universe, &solver::Options::default())
        .solve(request, &installed)
        .map_err(|e| unsat(e).into())
}

fn print_solution(solution: &solver::Solution, json: bool) -> anyhow::Result<()> {
    let version_of =
        |c: &solver::Change| c.to.clone().or_else(|| c.from.clone()).unwrap_or_default();
    let install: Vec<_> = solution
        .changes
        .iter()
        .filter(|c| c.kind != solver::ChangeKind::Remove)
        .map(|c| serde_json::json!({ "name": c.name, "version": version_of(c), "arch": c.arch, "action": c.kind }))
        .collect();
    let remove: Vec<_> = solution
        .changes
        .iter()
        .filter(|c| c.kind == solver::ChangeKind::Remove)
        .map(|c| serde_json::json!({ "name": c.name, "version": version_of(c), "arch": c.arch }))
        .collect();
    if json {
        let packages: Vec<_> =
            solution.packages.iter().map(|c| serde_json::json!({ "name": c.name, "version": c.version, "arch": c.arch, "reason": c.reason })).collect();
        return print_json(
            &serde_json::json!({ "install": install, "remove": remove, "packages": packages }),
        );
    }
    let mut rows = Vec::new();
    for c in &solution.changes {
        let what = match (&c.from, &c.to) {
            (Some(f), Some(t)) => format!("{f} -> {t}"),
            (None, Some(t)) => t.clone(),
            (Some(f), None) => f.clone(),
            (None, None) => String::new(),
        };
        rows.push(vec![
            format!("{:?}", c.kind).to_lowercase(),
            format!("{}:{}", c.name, c.arch),
            what,
        ]);
    }
    print!("{}", table(&rows));
    eprintln!(
        "{} to install or change, {} to remove ({} packages in the target set)",
        install.len(),
        remove.len(),
        solution.packages.len()
    );
    Ok(())
}

pub(crate) fn distcheck(index: &[std::path::PathBuf], json: bool) -> anyhow::Result<()> {
    let universe = load_indices(index)?;
    let report = solver::distcheck(&universe, &solver::Options::default());
    if json {
        return print_json(&serde_json::json!({
            "total": report.total,
            "broken": report.broken.iter().map(|b| serde_json::json!({"name": b.name, "version": b.version, "arch": b.arch, "reason": b.reason})).collect::<Vec<_>>(),
        }));
    }
    for b in &report.broken {
        println!("{} {} ({}): {}", b.name, b.version, b.arch, b.reason);
    }
    eprintln!("{} packages, {} broken", report.total, report.broken.len());
    Ok(())
}

/// `particle edsp`: apt's External Dependency Solver Protocol. apt runs
/// `/usr/lib/apt/solvers/particle` (a two-line script calling this) for `--solver particle`.
pub(crate) fn edsp() -> anyhow::Result<()> {
    use std::io::{Read, Write};
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).map_err(|e| {
        CliError::new(
            ErrorKind::Io,
            format!("could not read the EDSP request: {e}"),
        )
    })?;
    let t = std::time::Instant::now();
    let answer = solver::edsp::solve_edsp(&input);
    tracing::info!("EDSP request solved in {:?}", t.elapsed());
    let mut out = std::io::stdout().lock();
    out.write_all(answer.as_bytes())?;
    out.flush()?;
    Ok(())
}
