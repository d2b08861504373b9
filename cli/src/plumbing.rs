//! Plumbing as the command line shows it: `solve` and `distcheck` over Packages files (or
//! `solve` over the pinned sources of a state directory; the work is [`engine::plumbing`]'s),
//! and `edsp`.

use crate::args::SolveAction;
use crate::error::CliError;
use crate::output::{print_json, table};
use engine::ErrorKind;
use std::path::Path;

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
    let solution = engine::plumbing::solve(root, index, installed, &request)?;
    print_solution(&solution, json)
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
    let report = engine::plumbing::distcheck_indices(index)?;
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
