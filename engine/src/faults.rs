//! Deterministic crash points for the crash harness (`tests/it/crash.rs`,
//! `scripts/crash-long.sh`). With `PARTICLE_CRASH_AT=<point>[:<n>]` set, the process sends itself
//! SIGKILL (a real `kill -9`: no destructors, no buffered output flushed, the lock released by the
//! kernel) the `n`-th time (default the first) it reaches `point`. Without the variable every
//! point is a no-op and the materializer's hook is never installed.
//!
//! Points, in the order a transaction reaches them: `fetch` (after each fetched `.deb`),
//! `unpack` (after each unpacked package), `scripts` (every 10 ms while a sandboxed maintainer
//! script step runs), `commit` (before the OSTree commit), `ostree-objects` (the tree's objects
//! written, no commit object yet), `committed` (the OSTree transaction finished),
//! `materialized` (before the journal append), `appended` (the record is durable, the ref not
//! moved), `ref-moved` (before the staging tree and the script log are cleaned up),
//! `deployed`. `publish` reaches `publish-objects` (commits, signatures and deltas in the
//! repository), `publish-files` (journal, keyrings and particle's archive written),
//! `publish-index` (the index switched, refs and summary not yet) and `publish-summary` (the
//! summary written, older files not yet swept).

use crate::Error;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// Every point a crash can be asked for.
pub const POINTS: &[&str] = &[
    "fetch",
    "unpack",
    "scripts",
    "commit",
    "ostree-objects",
    "committed",
    "materialized",
    "appended",
    "ref-moved",
    "deployed",
    "publish-objects",
    "publish-files",
    "publish-index",
    "publish-summary",
];

#[derive(Debug)]
struct Target {
    point: String,
    n: u64,
    seen: AtomicU64,
}

static TARGET: OnceLock<Option<Target>> = OnceLock::new();

fn parse(spec: &str) -> Result<Target, Error> {
    let (point, n) = match spec.split_once(':') {
        Some((p, n)) => (p, n.parse::<u64>().ok().filter(|&n| n > 0)),
        None => (spec, Some(1)),
    };
    match n {
        Some(n) if POINTS.contains(&point) => Ok(Target {
            point: point.to_owned(),
            n,
            seen: AtomicU64::new(0),
        }),
        _ => Err(Error::usage(format!(
            "PARTICLE_CRASH_AT={spec:?}: expected POINT[:N] with N ≥ 1 and POINT one of {}",
            POINTS.join(", ")
        ))),
    }
}

/// Reads `PARTICLE_CRASH_AT` once; a malformed value is a usage error (a typo must not make a
/// crash test silently crash nowhere).
pub fn install() -> Result<(), Error> {
    let target = match std::env::var("PARTICLE_CRASH_AT") {
        Ok(spec) => Some(parse(&spec)?),
        Err(_) => None,
    };
    let armed = target.is_some();
    let _ = TARGET.set(target);
    if armed {
        materializer::set_crash_hook(point);
    }
    Ok(())
}

/// A crash point: kills the process if `PARTICLE_CRASH_AT` names it and this is the n-th time.
pub fn point(name: &str) {
    let Some(Some(t)) = TARGET.get() else {
        return;
    };
    if t.point == name && t.seen.fetch_add(1, Ordering::SeqCst) + 1 == t.n {
        tracing::info!("PARTICLE_CRASH_AT: killing the process at {name}:{}", t.n);
        let _ =
            rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::KILL);
        // SIGKILL cannot be caught; if sending it failed, still never go on.
        std::process::abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_points_and_counts() {
        let t = parse("unpack:7").expect("valid");
        assert_eq!((t.point.as_str(), t.n), ("unpack", 7));
        assert_eq!(parse("appended").expect("valid").n, 1);
        for bad in ["unpak", "unpack:0", "unpack:x", "", "fetch:-1"] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
