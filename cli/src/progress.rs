//! Progress of a transaction's long phases on stderr: fetching, unpacking, maintainer scripts,
//! committing.
//!
//! Three modes, chosen once per command by [`Mode::for_stderr`]:
//! - `Bars`: stderr is a terminal and nothing is logging there (`-v` is off): an indicatif bar per
//!   phase, replaced by the phase's summary line when it ends;
//! - `Lines`: stderr is a file or a pipe, or `-v` logs there: only the summary line of each
//!   phase (bars would garble a log and interleave with tracing output);
//! - `Silent`: `--json` or `-q`.
//!
//! The summary lines are the same in both visible modes, so what a person sees on a terminal
//! after the bars are gone is what a log file records (and what the snapshot tests check).

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Silent,
    Lines,
    Bars,
}

impl Mode {
    /// `Silent` unless `show`; then bars only on a terminal with info logging off.
    pub(crate) fn for_stderr(show: bool) -> Self {
        if !show {
            Mode::Silent
        } else if std::io::stderr().is_terminal() && !tracing::enabled!(tracing::Level::INFO) {
            Mode::Bars
        } else {
            Mode::Lines
        }
    }
}

const TICK: Duration = Duration::from_millis(120);

fn bar(prefix: &'static str, len: u64, template: &str) -> ProgressBar {
    let style = ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    let b = ProgressBar::new(len).with_style(style).with_prefix(prefix);
    b.enable_steady_tick(TICK);
    b
}

/// `1.2s`, `350ms`: one decimal, for summary lines.
pub(crate) fn duration(d: Duration) -> String {
    if d >= Duration::from_secs(1) {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// `1 package`, `2 packages`.
fn packages(n: usize) -> String {
    if n == 1 {
        "1 package".into()
    } else {
        format!("{n} packages")
    }
}

/// Fetching and verifying `.deb`s: one bar in bytes, with the package count as its message.
#[derive(Debug)]
pub(crate) struct Fetch {
    mode: Mode,
    bar: Option<ProgressBar>,
    started: Instant,
    packages: usize,
    to_fetch: usize,
    bytes: u64,
    fetched_bytes: AtomicU64,
}

impl Fetch {
    /// `packages` in the transaction, of which `to_fetch` (`bytes` in all) are not stored yet.
    pub(crate) fn start(mode: Mode, packages: usize, to_fetch: usize, bytes: u64) -> Self {
        let bar = (mode == Mode::Bars && to_fetch > 0).then(|| {
            let b = bar(
                "fetching",
                bytes,
                "{prefix:>10.cyan.bold} [{bar:30}] {binary_bytes}/{binary_total_bytes} \
                 {binary_bytes_per_sec:>11}  {msg}",
            );
            b.set_message(format!("0/{to_fetch} packages"));
            b
        });
        Self {
            mode,
            bar,
            started: Instant::now(),
            packages,
            to_fetch,
            bytes,
            fetched_bytes: AtomicU64::new(0),
        }
    }

    /// The store's callback: `done` of `total` packages are stored; one of `size` bytes just was.
    pub(crate) fn update(&self, done: usize, total: usize, size: u64) {
        let fetched = self.fetched_bytes.fetch_add(size, Ordering::Relaxed) + size;
        if let Some(b) = &self.bar {
            b.set_position(fetched.min(self.bytes));
            let already = total - self.to_fetch;
            b.set_message(format!(
                "{}/{} packages",
                done.saturating_sub(already),
                self.to_fetch
            ));
        }
    }

    /// Clears the bar; on success prints the summary line.
    pub(crate) fn finish(self, ok: bool) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
        let elapsed = self.started.elapsed();
        tracing::info!(
            "fetched and verified {} of {} packages ({} bytes) in {elapsed:?}",
            self.to_fetch,
            self.packages,
            self.bytes
        );
        if !ok || self.mode == Mode::Silent {
            return;
        }
        let stored = self.packages - self.to_fetch;
        if self.to_fetch == 0 {
            eprintln!("all {} packages are already in the store", self.packages);
        } else {
            let what = format!(
                "fetched and verified {} ({}) in {}",
                packages(self.to_fetch),
                crate::output::human_bytes(self.bytes),
                duration(elapsed)
            );
            if stored == 0 {
                eprintln!("{what}");
            } else {
                eprintln!("{what}; {stored} already in the store");
            }
        }
    }
}

/// Building the commit: one bar per [`materializer::Phase`], fed by the materializer.
#[derive(Debug)]
pub(crate) struct Build {
    mode: Mode,
    /// Packages unpacked (and so configured): the whole set for a build from nothing, only the
    /// new and upgraded ones for a build on the previous commit (the unpack phase says which).
    packages: std::sync::atomic::AtomicUsize,
    current: Mutex<Option<Current>>,
}

#[derive(Debug)]
struct Current {
    phase: materializer::Phase,
    started: Instant,
    bar: Option<ProgressBar>,
}

impl Build {
    /// A build of `packages` packages.
    pub(crate) fn new(mode: Mode, packages: usize) -> Self {
        Self {
            mode,
            packages: packages.into(),
            current: Mutex::new(None),
        }
    }

    /// The materializer's callback.
    pub(crate) fn update(&self, p: materializer::Progress) {
        if p.phase == materializer::Phase::Unpack {
            self.packages
                .store(p.total, std::sync::atomic::Ordering::Relaxed);
        }
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if current.as_ref().map(|c| c.phase) != Some(p.phase) {
            if let Some(done) = current.take() {
                self.close(done, true);
            }
            *current = Some(self.open(p));
        }
        if let Some(b) = current.as_ref().and_then(|c| c.bar.as_ref()) {
            b.set_length(p.total as u64);
            b.set_position(p.done as u64);
        }
    }

    /// Ends the last phase: its summary line on success, only a cleared bar on failure.
    pub(crate) fn finish(&self, ok: bool) {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = current.take() {
            self.close(c, ok);
        }
    }

    fn open(&self, p: materializer::Progress) -> Current {
        use materializer::Phase;
        let bar = (self.mode == Mode::Bars).then(|| match p.phase {
            Phase::Unpack => bar(
                "unpacking",
                p.total as u64,
                "{prefix:>10.cyan.bold} [{bar:30}] {pos}/{len} packages  {elapsed}",
            ),
            Phase::Scripts => bar(
                "scripts",
                p.total as u64,
                "{prefix:>10.cyan.bold} [{bar:30}] {pos}/{len} steps  {elapsed}",
            ),
            Phase::Commit => {
                let b = bar(
                    "committing",
                    p.total as u64,
                    "{prefix:>10.cyan.bold} {spinner} layout and OSTree commit  {elapsed}",
                );
                b.set_style(b.style().tick_chars("|/-\\ "));
                b
            }
        });
        Current {
            phase: p.phase,
            started: Instant::now(),
            bar,
        }
    }

    fn close(&self, c: Current, ok: bool) {
        use materializer::Phase;
        if let Some(b) = &c.bar {
            b.finish_and_clear();
        }
        if !ok {
            return;
        }
        let took = duration(c.started.elapsed());
        let count = self.packages.load(std::sync::atomic::Ordering::Relaxed);
        let n = packages(count);
        let line = match c.phase {
            // Built on the previous commit with no package changed: nothing to say.
            Phase::Unpack if count == 0 => return,
            Phase::Unpack => format!("unpacked {n} in {took}"),
            Phase::Scripts => format!("ran the maintainer scripts of {n} in a sandbox in {took}"),
            Phase::Commit => format!("laid out and committed the tree in {took}"),
        };
        if self.mode == Mode::Silent {
            // -v with --json or -q: the steps still show in the log.
            tracing::info!("{line}");
        } else {
            eprintln!("{line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(duration(Duration::from_millis(350)), "350ms");
        assert_eq!(duration(Duration::from_millis(2345)), "2.3s");
        assert_eq!(duration(Duration::from_secs(75)), "75.0s");
        assert_eq!(packages(1), "1 package");
        assert_eq!(packages(0), "0 packages");
        assert_eq!(packages(114), "114 packages");
    }
}

/// The engine's [`engine::Observer`] on stderr: notes as lines, fetching and building as the
/// [`Fetch`] and [`Build`] progress of the chosen [`Mode`].
#[derive(Debug)]
pub(crate) struct Reporter {
    mode: Mode,
    notes: bool,
    fetch: Mutex<Option<Fetch>>,
    build: Mutex<Option<Build>>,
}

impl Reporter {
    /// Shows notes and progress only when `show` (not `--json`, not `-q`).
    pub(crate) fn new(show: bool) -> Self {
        Self {
            mode: Mode::for_stderr(show),
            notes: show,
            fetch: Mutex::new(None),
            build: Mutex::new(None),
        }
    }
}

impl engine::Observer for Reporter {
    fn note(&self, message: &str) {
        tracing::info!("{message}");
        if self.notes {
            eprintln!("{message}");
        }
    }
    fn fetch_started(&self, packages: usize, to_fetch: usize, bytes: u64) {
        let fetch = Fetch::start(self.mode, packages, to_fetch, bytes);
        *self.fetch.lock().unwrap_or_else(|e| e.into_inner()) = Some(fetch);
    }
    fn fetched(&self, done: usize, total: usize, size: u64) {
        if let Some(f) = &*self.fetch.lock().unwrap_or_else(|e| e.into_inner()) {
            f.update(done, total, size);
        }
    }
    fn fetch_finished(&self, ok: bool) {
        let fetch = self.fetch.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(f) = fetch {
            f.finish(ok);
        }
    }
    fn build_started(&self, packages: usize) {
        let build = Build::new(self.mode, packages);
        *self.build.lock().unwrap_or_else(|e| e.into_inner()) = Some(build);
    }
    fn building(&self, progress: materializer::Progress) {
        if let Some(b) = &*self.build.lock().unwrap_or_else(|e| e.into_inner()) {
            b.update(progress);
        }
    }
    fn build_finished(&self, ok: bool) {
        let build = self.build.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(b) = build {
            b.finish(ok);
        }
    }
}
