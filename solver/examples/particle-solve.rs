//! Stand-in for `particle solve` / `particle distcheck` until the CLI wires them (benchmarks use it).
//!
//! particle-solve --index FILE [--no-recommends] [--table [--built-lookups]] [--repeat N] [--solution] install PKG...
//! particle-solve --index FILE distcheck
//! FILE may be xz-compressed (`.xz`) or plain. Prints JSON on stdout; timings on stderr.
//! `--table` solves over the index as a store package table read in place
//! (`Solver::from_table`, what `particle solve` does over a snapshot, with the table's name
//! directory as a snapshot carries it; `--built-lookups`: without, as over a snapshot written
//! before snapshots had one) instead of an owned universe; `--repeat N` solves N times and prints every solve time (`solve-times`), for
//! medians without re-parsing the index (wall time and this thread's CPU time).
//! `--solution` prints the whole solution (every package with its reason and parent, and the
//! changes) instead of the install list, to check that a change keeps every answer.

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
    let mut use_table = false;
    let mut built_lookups = false;
    let mut repeat = 1usize;
    let mut full = false;
    let mut rest = Vec::new();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--index" => index = args.next(),
            "--no-recommends" => no_recommends = true,
            "--table" => use_table = true,
            "--built-lookups" => built_lookups = true,
            "--solution" => full = true,
            "--repeat" => repeat = args.next().ok_or("--repeat N")?.parse()?,
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
            let table_bytes = if use_table {
                let text = std::str::from_utf8(&bytes)?;
                let table = store::PackageTable::parse(text)?;
                Some(rkyv::to_bytes::<rkyv::rancor::Error>(&table)?)
            } else {
                None
            };
            let mut view = match &table_bytes {
                Some(b) => Some(
                    rkyv::access::<store::ArchivedPackageTable, rkyv::rancor::Error>(b)?.view()?,
                ),
                None => None,
            };
            let names_bytes = match view {
                Some(v) if !built_lookups => Some(rkyv::to_bytes::<rkyv::rancor::Error>(
                    &store::NameDirectory::build(&v),
                )?),
                _ => None,
            };
            if let (Some(v), Some(b)) = (view, &names_bytes) {
                let names = rkyv::access::<store::ArchivedNameDirectory, rkyv::rancor::Error>(b)?;
                view = Some(v.with_names(names));
            }
            let request = solver::Request {
                install: rest[1..].to_vec(),
                no_recommends,
                ..Default::default()
            };
            let new_solver = || match view {
                Some(v) => solver::Solver::from_table(v, &options),
                None => solver::Solver::new(&universe, &options),
            };
            // An owned universe's solver is immutable, so it is reused; a table's converts
            // packages on first use, so each solve gets a new one (cold, as `particle solve`).
            let reused = if use_table { None } else { Some(new_solver()) };
            let mut times = Vec::new();
            let mut cpu = Vec::new();
            for _ in 1..repeat {
                let fresh;
                let s = match &reused {
                    Some(s) => s,
                    None => {
                        fresh = new_solver();
                        &fresh
                    }
                };
                let (t, c) = (Instant::now(), cpu_time());
                s.solve(&request, &[])?;
                times.push(t.elapsed().as_secs_f64());
                cpu.push(cpu_time() - c);
            }
            let t1 = Instant::now();
            let s = new_solver();
            let (t2, c2) = (Instant::now(), cpu_time());
            let solution = s.solve(&request, &[])?;
            let t3 = Instant::now();
            times.push((t3 - t2).as_secs_f64());
            cpu.push(cpu_time() - c2);
            if repeat > 1 {
                let summary = |v: &[f64]| {
                    let mut v = v.to_vec();
                    v.sort_by(f64::total_cmp);
                    format!("median {:.4}s best {:.4}s", v[v.len() / 2], v[0])
                };
                eprintln!(
                    "solve-times {} (CPU {}) of {}: {:?}",
                    summary(&times),
                    summary(&cpu),
                    times.len(),
                    times
                );
            }
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
            if full {
                println!("{}", serde_json::to_string_pretty(&solution)?);
                return Ok(());
            }
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

/// CPU time of this thread so far, in seconds (from /proc/thread-self/schedstat; 0 if
/// unavailable): unlike wall time, it does not grow while other processes hold the CPU.
fn cpu_time() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |ns| ns / 1e9)
}
