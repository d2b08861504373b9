//! Stand-in for `particle solve` / `particle distcheck` until the CLI wires them (benchmarks use it).
//!
//! particle-solve --index FILE [--no-recommends] [--stats] install PKG...
//! particle-solve --index FILE distcheck
//! FILE may be xz-compressed (`.xz`) or plain. Prints JSON on stdout; timings on stderr.

use std::time::Instant;

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut index = None;
    let mut no_recommends = false;
    let mut rest = Vec::new();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--index" => index = args.next(),
            "--no-recommends" => no_recommends = true,
            _ => rest.push(a),
        }
    }
    let path = index.ok_or("--index FILE is required")?;
    let t0 = Instant::now();
    let bytes = std::fs::read(&path)?;
    let bytes = if path.ends_with(".xz") {
        store::decompress(&bytes, store::Compression::Xz, 4 << 30)?
    } else {
        bytes
    };
    let universe = store::parse_packages_bytes(&bytes)?;
    let t_parse = t0.elapsed();
    let options = solver::Options::default();
    match rest.first().map(String::as_str) {
        Some("distcheck") => {
            let t1 = Instant::now();
            let report = solver::distcheck(&universe, &options);
            eprintln!(
                "parse {:.3}s distcheck {:.3}s",
                t_parse.as_secs_f64(),
                t1.elapsed().as_secs_f64()
            );
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Some("install") => {
            let t1 = Instant::now();
            let s = solver::Solver::new(&universe, &options);
            let t2 = Instant::now();
            let request = solver::Request {
                install: rest[1..].to_vec(),
                no_recommends,
                ..Default::default()
            };
            let solution = s.solve(&request, &[])?;
            let t3 = Instant::now();
            if let Ok(names) = std::env::var("WHY") {
                for n in names.split(',') {
                    eprintln!("why {n}: {:?}", solution.why(n));
                }
            }
            let chosen: std::collections::HashSet<(&str, &str, &str)> = solution
                .packages
                .iter()
                .map(|c| (c.name.as_str(), c.version.as_str(), c.arch.as_str()))
                .collect();
            let size: u64 = universe
                .packages
                .iter()
                .filter(|p| {
                    chosen.contains(&(p.name.as_str(), p.version.as_str(), p.arch.as_str()))
                })
                .map(|p| p.installed_size)
                .sum();
            eprintln!(
                "parse {:.3}s index {:.3}s solve {:.3}s packages {} installed-size {} KiB",
                t_parse.as_secs_f64(),
                (t2 - t1).as_secs_f64(),
                (t3 - t2).as_secs_f64(),
                solution.packages.len(),
                size
            );
            let install: Vec<_> = solution
                .packages
                .iter()
                .map(|c| serde_json::json!({"name": c.name, "version": c.version, "arch": c.arch}))
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(
                    &serde_json::json!({"install": install, "remove": []})
                )?
            );
        }
        _ => {
            return Err(
                "usage: particle-solve --index FILE [--no-recommends] (install PKG...|distcheck)"
                    .into(),
            )
        }
    }
    Ok(())
}
