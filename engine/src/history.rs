//! Reading history: `txn log` (with [`parse_time`] for its bounds), `txn verify` (the hash chain
//! and every kept commit) and `txn bisect` (the first transaction a test fails on).

use crate::session::Session;
use crate::txn::query_err;
use crate::{Error, ErrorKind, Result};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// What `txn verify` found: the chain intact, every kept commit present and fsck-clean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub records: u64,
    /// The head of the chain.
    pub head: Option<journal::TxnId>,
    /// Commits of earlier transactions removed on purpose (by ostree with a machine's
    /// deployment, or by `gc`): rebuilt from the journal when needed.
    pub pruned: BTreeSet<String>,
}

/// One tested transaction of a bisection (`txn bisect --json`'s `tested`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Tested {
    pub seq: u64,
    pub verdict: journal::Verdict,
    /// The test's exit status (128 when it was killed by a signal).
    pub exit: i32,
}

/// How a bisection ended.
#[derive(Debug, Clone)]
pub enum Bisected {
    /// `first_bad` is the first bad transaction, `last_good` the good one before it, `diff`
    /// what changed between them.
    Found {
        first_bad: Box<journal::Record>,
        last_good: u64,
        diff: journal::Diff,
        tested: Vec<Tested>,
    },
    /// Skipped transactions hide which of `candidates` is the first bad one.
    Ambiguous {
        candidates: Vec<u64>,
        last_good: u64,
        tested: Vec<Tested>,
    },
}

impl Session {
    /// `txn log`: the transactions `filter` selects, oldest first. A variant declared but without
    /// a transaction yet has none; one neither declared nor in the journal is `unknown_variant`.
    pub fn log(&self, filter: &journal::LogFilter) -> Result<Vec<journal::LogEntry<'_>>> {
        if let Some(v) = &filter.variant {
            if self.history().head(v).is_none() {
                self.check_variant_known(v)?;
                return Ok(Vec::new());
            }
        }
        self.history().log(filter).map_err(query_err)
    }

    /// `txn verify`: the hash chain, and every recorded commit present and passing fsck. On a
    /// machine only the head's and the deployed commits must be there (ostree prunes the others
    /// with their deployments); on a build host, those `gc` lists as removed may be missing.
    pub fn verify(&self) -> Result<VerifyReport> {
        let repo = self.repo();
        let gc_pruned = crate::gc::pruned_commits(&self.state.root);
        let needed: Option<Vec<String>> = match &self.state.machine {
            Some(m) => {
                let mut v: Vec<String> = machine::deployments(&m.sysroot)?
                    .into_iter()
                    .map(|d| d.commit)
                    .collect();
                v.extend(self.journal.last().map(|r| r.commit.to_hex()));
                Some(v)
            }
            None => None,
        };
        let mut pruned = BTreeSet::new();
        let mut checked = HashMap::new();
        let result = self.journal.verify(|commit| {
            let hex = commit.to_hex();
            if let Some(r) = checked.get(&hex) {
                return Clone::clone(r);
            }
            let r = match materializer::commit_exists(&repo, &hex) {
                Ok(true) => materializer::fsck(&repo, &hex)
                    .map(|_| ())
                    .map_err(|e| format!("commit {hex} fails fsck: {e}")),
                Ok(false)
                    if needed.as_ref().is_some_and(|n| !n.contains(&hex))
                        || gc_pruned.contains(&hex) =>
                {
                    pruned.insert(hex.clone());
                    Ok(())
                }
                Ok(false) => Err(format!("commit {hex} is missing from the repository")),
                Err(e) => Err(e.to_string()),
            };
            checked.insert(hex, r.clone());
            r
        });
        match result {
            Ok(v) => Ok(VerifyReport {
                records: v.records,
                head: v.head,
                pruned,
            }),
            Err(bad) => Err(Error::new(
                ErrorKind::JournalCorrupt,
                format!("journal verification failed: {bad}"),
            )
            .hint(
                "the journal was damaged or edited; records after the named one cannot be trusted",
            )),
        }
    }

    /// `txn bisect`: between the good and the bad transaction of `variant`, the first one
    /// `test` fails on. `test` gets each transaction to try with its commit checked out in a
    /// temporary directory and returns the test's exit status (0 good, 125 skip, else bad).
    pub fn bisect(
        &self,
        variant: &str,
        good: u64,
        bad: u64,
        test: &mut dyn FnMut(u64, &Path) -> Result<i32>,
    ) -> Result<Bisected> {
        let h = self.history();
        let range = h.bisect_range(variant, good, bad).map_err(query_err)?;
        let mut verdicts = BTreeMap::new();
        verdicts.insert(good, journal::Verdict::Good);
        verdicts.insert(bad, journal::Verdict::Bad);
        let mut tested = Vec::new();
        let checkouts = tempfile::Builder::new()
            .prefix("particle-bisect-")
            .tempdir()
            .map_err(|e| {
                Error::new(
                    ErrorKind::Io,
                    format!("could not make a temporary directory: {e}"),
                )
            })?;
        let record = |seq: u64| {
            h.record(seq)
                .ok_or_else(|| Error::new(ErrorKind::Internal, format!("no record {seq}")))
        };
        loop {
            match journal::bisect_step(&range, &verdicts)
                .map_err(|e| Error::new(ErrorKind::Bisect, e.to_string()))?
            {
                journal::BisectStep::Test { seq } => {
                    let dir = checkouts.path().join(seq.to_string());
                    checkout(&self.repo(), &record(seq)?.commit.to_hex(), &dir)?;
                    let exit = test(seq, &dir)?;
                    let verdict = journal::Verdict::from_exit_code(exit);
                    tested.push(Tested { seq, verdict, exit });
                    verdicts.insert(seq, verdict);
                    let _ = std::fs::remove_dir_all(&dir);
                }
                journal::BisectStep::Found {
                    first_bad,
                    last_good,
                } => {
                    let fb = Box::new(record(first_bad)?.clone());
                    let diff = journal::diff(&record(last_good)?.state, &fb.state);
                    return Ok(Bisected::Found {
                        first_bad: fb,
                        last_good,
                        diff,
                        tested,
                    });
                }
                journal::BisectStep::Ambiguous {
                    candidates,
                    last_good,
                } => {
                    return Ok(Bisected::Ambiguous {
                        candidates,
                        last_good,
                        tested,
                    })
                }
            }
        }
    }
}

impl Session {
    /// [`Session::bisect`] with a command as the test: `cmd` (a program and its arguments) runs
    /// with `PARTICLE_CHECKOUT` (the checkout) and `PARTICLE_TXN` (the transaction's sequence
    /// number) set; `ran` hears each transaction's exit status (128 when killed by a signal).
    pub fn bisect_command(
        &self,
        variant: &str,
        good: u64,
        bad: u64,
        cmd: &[String],
        ran: &mut dyn FnMut(u64, i32),
    ) -> Result<Bisected> {
        let Some((program, args)) = cmd.split_first() else {
            return Err(Error::usage("bisect needs a command to run"));
        };
        self.bisect(variant, good, bad, &mut |seq, dir| {
            let status = std::process::Command::new(program)
                .args(args)
                .env("PARTICLE_CHECKOUT", dir)
                .env("PARTICLE_TXN", seq.to_string())
                .status()
                .map_err(|e| {
                    Error::new(ErrorKind::Bisect, format!("could not run {program}: {e}"))
                })?;
            let code = status.code().unwrap_or(128);
            ran(seq, code);
            Ok(code)
        })
    }
}

/// `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]` (UTC; `T` for the space and a trailing `Z` also
/// taken) or unix seconds, as unix seconds: the bounds of `txn log --since/--until`.
pub fn parse_time(s: &str) -> std::result::Result<i64, String> {
    if let Ok(n) = s.parse::<i64>() {
        return Ok(n);
    }
    let bad = || format!("{s:?} is not a time (YYYY-MM-DD, YYYY-MM-DD HH:MM:SS or unix seconds)");
    let (date, time) = s.split_once([' ', 'T']).unwrap_or((s, "00:00:00"));
    let d: Vec<&str> = date.split('-').collect();
    let t: Vec<&str> = time.trim_end_matches('Z').split(':').collect();
    if d.len() != 3 || !(2..=3).contains(&t.len()) {
        return Err(bad());
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month: usize = d[1].parse().map_err(|_| bad())?;
    let name = MONTHS.get(month.wrapping_sub(1)).ok_or_else(bad)?;
    let rfc = format!(
        "{} {name} {} {}:{}:{} UTC",
        d[2],
        d[0],
        t[0],
        t[1],
        t.get(2).unwrap_or(&"00")
    );
    store::parse_rfc2822(&rfc).ok_or_else(bad)
}

/// Checks a commit out with owners and modes (as root, a plain `ostree checkout` restores them).
fn checkout(repo: &Path, commit: &str, dir: &Path) -> Result<()> {
    let mut flag = std::ffi::OsString::from("--repo=");
    flag.push(repo);
    machine::run_ostree(
        machine::ErrorKind::Ostree,
        &machine::ostree_args(&[&flag, &"checkout", &commit, &dir]),
        &[],
    )?;
    Ok(())
}

/// A `txn show`/`txn diff` row for one profile change: `*  kargs  +quiet +splash`.
pub fn profile_row(p: &journal::query::ProfileChange) -> Vec<String> {
    use journal::query::ProfileChange as P;
    let value = |v: &Option<String>| v.clone().unwrap_or_else(|| "(unset)".into());
    match p {
        P::Kargs {
            from,
            to,
            added,
            removed,
        } => {
            let mut words: Vec<String> = added.iter().map(|a| format!("+{a}")).collect();
            words.extend(removed.iter().map(|r| format!("-{r}")));
            let what = if words.is_empty() {
                format!("{} -> {}", from.join(" "), to.join(" "))
            } else {
                words.join(" ")
            };
            vec!["*".into(), "kargs".into(), what]
        }
        P::Initramfs { key, from, to } => vec![
            "*".into(),
            format!("initramfs {key}"),
            format!("{} -> {}", value(from), value(to)),
        ],
        P::Sysctl { key, from, to } => vec![
            "*".into(),
            format!("sysctl {key}"),
            format!("{} -> {}", value(from), value(to)),
        ],
        P::Hardware { .. } => vec![
            "*".into(),
            "hardware".into(),
            "profile replaced (see --json)".into(),
        ],
        // Kinds added to the journal later still get a row.
        #[allow(unreachable_patterns)]
        other => vec![
            "*".into(),
            "profile".into(),
            serde_json::to_string(other).unwrap_or_default(),
        ],
    }
}

/// A request as the command that made it: `install hello`, `kargs --append quiet`.
pub fn describe_request(r: &journal::Request) -> String {
    use journal::Request as R;
    let set = |set: &std::collections::BTreeMap<String, String>| {
        set.iter()
            .map(|(k, v)| format!(" --set {k}={v}"))
            .collect::<String>()
    };
    match r {
        R::Install {
            packages,
            no_recommends,
        } => {
            let mut s = String::from("install");
            if *no_recommends {
                s.push_str(" --no-recommends");
            }
            for p in packages {
                s.push(' ');
                s.push_str(&p.name);
                if let Some(v) = &p.version {
                    s.push('=');
                    s.push_str(v);
                }
            }
            s
        }
        R::Remove { packages } => format!("remove {}", packages.join(" ")),
        R::Upgrade => "upgrade".into(),
        R::Rollback { to_seq, to } => {
            format!("rollback to transaction {to_seq} ({})", to.short(12))
        }
        R::Kargs { append, delete } => {
            let mut s = String::from("kargs");
            for a in append {
                s.push_str(&format!(" --append {a}"));
            }
            for d in delete {
                s.push_str(&format!(" --delete {d}"));
            }
            s
        }
        R::Initramfs { set: s } => format!("initramfs{}", set(s)),
        R::Sysctl { set: s } => format!("sysctl{}", set(s)),
        R::Hardware { source } if source == "detect" => "hardware --detect".into(),
        R::Hardware { source } => format!("hardware --from {source}"),
        R::VariantCreate {
            parent, parent_seq, ..
        } => format!("variant create from {parent} at transaction {parent_seq}"),
        R::Rebase {
            parent, parent_seq, ..
        } => format!("rebase on {parent} at transaction {parent_seq}"),
        R::Origin { from, seq, txn } => {
            format!(
                "deployed from {from}, transaction {seq} ({})",
                txn.short(12)
            )
        }
        // Requests added to the journal later still get a line.
        #[allow(unreachable_patterns)]
        other => other.kind().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::{json_str, needs_escape, parse_time};

    /// Every byte value at every place of strings up to two words long, among ASCII and
    /// multi-byte characters: a byte JSON escapes is always seen, and the strings come out as
    /// serde_json writes them.
    #[test]
    fn strings_needing_escapes_are_always_seen() {
        for filler in [b'a', 0xC3] {
            for len in 1..=17 {
                for at in 0..len {
                    for b in 0..=255u8 {
                        let mut s = vec![filler; len];
                        s[at] = b;
                        let special = b < 0x20 || b == b'"' || b == b'\\';
                        assert_eq!(needs_escape(&s), special, "{b:#x} at {at} of {len}");
                    }
                }
            }
        }
        for s in [
            "plain",
            "quo\"te",
            "back\\slash",
            "tab\there",
            "ünïcode",
            "\u{1}",
            "",
        ] {
            let mut buf = vec![];
            json_str(&mut buf, &[s.as_bytes()]);
            assert_eq!(buf, serde_json::to_vec(s).expect("json"), "{s:?}");
        }
    }

    #[test]
    fn times_parse_as_utc() {
        assert_eq!(parse_time("1700000000"), Ok(1_700_000_000));
        assert_eq!(parse_time("1970-01-02"), Ok(86_400));
        assert_eq!(parse_time("2024-03-01 12:30:15"), Ok(1_709_296_215));
        assert_eq!(parse_time("2024-03-01T12:30Z"), Ok(1_709_296_200));
        for bad in ["yesterday", "2024-13-01", "2024-03", "2024-03-01 12"] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
    }
}

/// A change set as the JSON every command prints it in: `added`, `removed` (name, version,
/// arch), `changed` (name, arch, from, to, direction), `profile` and `indices`.
pub fn diff_json(d: &journal::Diff) -> serde_json::Value {
    serde_json::json!({
        "added": d.added.iter().map(Pkg::of).collect::<Vec<_>>(),
        "removed": d.removed.iter().map(Pkg::of).collect::<Vec<_>>(),
        "changed": d.changed.iter().map(Chg::of).collect::<Vec<_>>(),
        "profile": serde_json::to_value(&d.profile).unwrap_or_default(),
        "indices": serde_json::to_value(&d.indices).unwrap_or_default(),
    })
}

impl Session {
    /// `txn log --json`: `{"transactions": [...], "variant"}` written to `out`, one transaction
    /// per line (so `tail`, `head` and `grep` see whole transactions), each the record's summary
    /// and its change set as [`diff_json`] prints it. Entries are written as they are read
    /// ([`journal::History::log_lines`]): printing a long history allocates nothing per entry.
    /// The outer `Result` is the query's, the inner one the writer's.
    pub fn write_log_json(
        &self,
        filter: &journal::LogFilter,
        out: &mut dyn std::io::Write,
    ) -> Result<std::io::Result<()>> {
        let variant = filter.variant.as_deref().unwrap_or("base");
        let empty = match &filter.variant {
            Some(v) if self.history().head(v).is_none() => {
                self.check_variant_known(v)?;
                true
            }
            _ => false,
        };
        let mut out = Lines {
            out,
            buf: Vec::with_capacity(1 << 16),
            first: true,
        };
        out.buf.extend_from_slice(b"{\"transactions\":[");
        let history = self.history();
        let written = match empty {
            true => Ok(()),
            false => match history.log_positions(filter).map_err(query_err)? {
                Some(positions) => write_lines(&history, filter, &positions, &mut out),
                None => history
                    .log(filter)
                    .map_err(query_err)?
                    .iter()
                    .try_for_each(|e| out.line(&journal::LogLine::from(e))),
            },
        };
        out.buf.extend_from_slice(b"\n],\"variant\":");
        json_str(&mut out.buf, &[variant.as_bytes()]);
        out.buf.extend_from_slice(b"}\n");
        Ok(written.and_then(|()| out.out.write_all(&out.buf)))
    }
}

/// The lines of `txn log --json`, written to `out` in blocks.
struct Lines<'w> {
    out: &'w mut dyn std::io::Write,
    buf: Vec<u8>,
    /// No line written yet.
    first: bool,
}

impl Lines<'_> {
    fn line(&mut self, l: &journal::LogLine<'_>) -> std::io::Result<()> {
        self.buf
            .extend_from_slice(if self.first { b"\n" } else { b",\n" });
        self.first = false;
        write_line(&mut self.buf, l);
        self.flush_block()
    }

    fn flush_block(&mut self) -> std::io::Result<()> {
        if self.buf.len() >= 1 << 18 {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }
}

/// From this many entries on, `txn log --json` formats on two threads.
const PARALLEL_LINES: usize = 4096;
/// Entries per block when formatting on two threads.
const BLOCK: usize = 1024;

/// The entries at `positions`. With two cores and a long history, they are formatted in
/// blocks, alternately by this thread and a helper, and written in order as they come: the
/// helper's blocks come back through a channel (two in flight, their buffers reused), so the
/// memory is a few blocks whatever the length.
fn write_lines(
    history: &journal::History<'_>,
    filter: &journal::LogFilter,
    positions: &[usize],
    out: &mut Lines<'_>,
) -> std::io::Result<()> {
    let two = std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2);
    if !two || positions.len() < PARALLEL_LINES {
        return positions
            .iter()
            .filter_map(|&i| history.log_line(i, filter))
            .try_for_each(|l| out.line(&l));
    }
    let blocks: Vec<&[usize]> = positions.chunks(BLOCK).collect();
    let (full_tx, full_rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(2);
    let (empty_tx, empty_rx) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::scope(|scope| {
        let helper_blocks = &blocks;
        scope.spawn(move || {
            for block in helper_blocks.iter().skip(1).step_by(2) {
                let mut buf = empty_rx.try_recv().unwrap_or_default();
                // Each line with the separator before it; the first one's comma is dropped
                // when nothing was written before it.
                for l in block.iter().filter_map(|&i| history.log_line(i, filter)) {
                    buf.extend_from_slice(b",\n");
                    write_line(&mut buf, &l);
                }
                if full_tx.send(buf).is_err() {
                    return; // the writer stopped (a closed pipe)
                }
            }
        });
        // Owned here, so that a writer that stops early (a closed pipe) drops it before the
        // scope waits for the helper, whose next send then fails and ends it.
        let full_rx = full_rx;
        for (k, block) in blocks.iter().enumerate() {
            if k % 2 == 0 {
                for l in block.iter().filter_map(|&i| history.log_line(i, filter)) {
                    out.line(&l)?;
                }
                continue;
            }
            let mut theirs = full_rx
                .recv()
                .expect("the helper sends every block it formats");
            let lines = match out.first {
                true => theirs.get(1..).unwrap_or_default(),
                false => &theirs[..],
            };
            out.first &= lines.is_empty();
            out.out.write_all(&out.buf)?;
            out.buf.clear();
            out.out.write_all(lines)?;
            theirs.clear();
            // The helper may have finished: then the buffer is simply dropped.
            let _ = empty_tx.send(theirs);
        }
        Ok(())
    })
}

/// Writes one transaction of `txn log --json` to `buf` as one line of compact JSON, keys in the
/// order a JSON object of them sorts to: exactly what serde_json writes for the same document
/// (`tests/it/txn.rs` compares), written by hand because this is the one document that grows
/// with the history.
fn write_line(buf: &mut Vec<u8>, l: &journal::LogLine<'_>) {
    let settings = l.settings();
    buf.extend_from_slice(b"{\"actor\":");
    json_str(buf, &[l.user.as_bytes(), b"@", l.host.as_bytes()]);
    buf.extend_from_slice(b",\"added\":");
    array(buf, l.added(), package);
    buf.extend_from_slice(b",\"base\":");
    match l.base {
        None => buf.extend_from_slice(b"null"),
        Some(b) => {
            buf.extend_from_slice(b"{\"seq\":");
            buf.extend_from_slice(itoa::Buffer::new().format(b.seq).as_bytes());
            buf.extend_from_slice(b",\"txn\":\"");
            buf.extend_from_slice(&b.txn.hex_digits());
            buf.extend_from_slice(b"\",\"variant\":");
            json_str(buf, &[b.variant.as_bytes()]);
            buf.push(b'}');
        }
    }
    buf.extend_from_slice(b",\"changed\":");
    array(buf, l.changed(), |buf, c| {
        let direction: &[u8] = match c.direction {
            journal::query::Direction::Upgrade => b"upgrade",
            journal::query::Direction::Downgrade => b"downgrade",
            journal::query::Direction::Rebuild => b"rebuild",
        };
        let fields = [
            (&b"{\"arch\":"[..], c.arch.as_bytes()),
            (b",\"direction\":", direction),
            (b",\"from\":", c.from.as_bytes()),
            (b",\"name\":", c.name.as_bytes()),
            (b",\"to\":", c.to.as_bytes()),
        ];
        object(buf, &fields);
    });
    buf.extend_from_slice(b",\"commit\":\"");
    buf.extend_from_slice(&l.commit.hex_digits());
    buf.extend_from_slice(b"\",\"id\":\"");
    buf.extend_from_slice(&l.id.hex_digits());
    buf.extend_from_slice(b"\",\"indices\":");
    match settings.as_deref().filter(|d| !d.indices.is_empty()) {
        None => buf.extend_from_slice(b"[]"),
        Some(d) => json_value(buf, &d.indices),
    }
    buf.extend_from_slice(b",\"kind\":");
    json_str(buf, &[l.kind.as_bytes()]);
    buf.extend_from_slice(b",\"profile\":");
    match settings.as_deref().filter(|d| !d.profile.is_empty()) {
        None => buf.extend_from_slice(b"[]"),
        Some(d) => json_value(buf, &d.profile),
    }
    buf.extend_from_slice(b",\"reason\":");
    json_str(buf, &[l.reason.as_bytes()]);
    buf.extend_from_slice(b",\"removed\":");
    array(buf, l.removed(), package);
    buf.extend_from_slice(b",\"seq\":");
    buf.extend_from_slice(itoa::Buffer::new().format(l.seq).as_bytes());
    buf.extend_from_slice(b",\"time\":");
    buf.extend_from_slice(itoa::Buffer::new().format(l.time).as_bytes());
    buf.extend_from_slice(b",\"variant\":");
    json_str(buf, &[l.variant.as_bytes()]);
    buf.push(b'}');
}

/// `{"arch", "name", "version"}`.
fn package(buf: &mut Vec<u8>, p: journal::PackageRef<'_>) {
    object(
        buf,
        &[
            (b"{\"arch\":", p.arch.as_bytes()),
            (b",\"name\":", p.name.as_bytes()),
            (b",\"version\":", p.version.as_bytes()),
        ],
    );
}

/// `[item, ...]`, each written by `item`.
fn array<T>(buf: &mut Vec<u8>, items: impl Iterator<Item = T>, item: impl Fn(&mut Vec<u8>, T)) {
    buf.push(b'[');
    for (i, x) in items.enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        item(buf, x);
    }
    buf.push(b']');
}

/// `{"key":"value", ...}` of string fields, each given with what comes before its value
/// (`{"key":` for the first, `,"key":` for the others; keys need no escaping).
fn object(buf: &mut Vec<u8>, fields: &[(&[u8], &[u8])]) {
    for (key, value) in fields {
        buf.extend_from_slice(key);
        json_str(buf, &[value]);
    }
    buf.push(b'}');
}

/// The JSON string of `parts` joined (UTF-8): copied as they are unless a character needs
/// escaping (then serde_json escapes it, as it would have).
fn json_str(buf: &mut Vec<u8>, parts: &[&[u8]]) {
    if parts.iter().any(|s| needs_escape(s)) {
        json_value(buf, &String::from_utf8_lossy(&parts.concat()));
        return;
    }
    buf.push(b'"');
    for s in parts {
        buf.extend_from_slice(s);
    }
    buf.push(b'"');
}

/// Whether `s` may have a byte a JSON string escapes (`"`, `\`, a control character), looked
/// at eight bytes at a time. It never misses one; where it says yes without one, the string
/// is only escaped the slow way, to the same result.
fn needs_escape(s: &[u8]) -> bool {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = u64::from_le_bytes([0x80; 8]);
    // Some byte of `x` is below `n` (for n <= 128): the borrow of subtracting `n` from it
    // sets its high bit where its own high bit was clear.
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH != 0;
    let special = |x: u64| {
        below(x, 0x20)
            || below(x ^ (ONES * u64::from(b'"')), 1)
            || below(x ^ (ONES * u64::from(b'\\')), 1)
    };
    let mut words = s.chunks_exact(8);
    if words.any(|w| special(u64::from_le_bytes(w.try_into().expect("8 bytes")))) {
        return true;
    }
    words
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// `value` as serde_json writes it in a JSON object (maps with sorted keys).
fn json_value(buf: &mut Vec<u8>, value: &impl serde::Serialize) {
    let value = serde_json::to_value(value).unwrap_or_default();
    serde_json::to_writer(buf, &value).expect("writing JSON to memory cannot fail");
}

#[derive(serde::Serialize)]
struct Pkg<'a> {
    arch: &'a str,
    name: &'a str,
    version: &'a str,
}

impl<'a> Pkg<'a> {
    fn of(p: &'a journal::PackageEntry) -> Pkg<'a> {
        Pkg {
            arch: &p.arch,
            name: &p.name,
            version: &p.version,
        }
    }
}

#[derive(serde::Serialize)]
struct Chg<'a> {
    arch: &'a str,
    direction: journal::query::Direction,
    from: &'a str,
    name: &'a str,
    to: &'a str,
}

impl<'a> Chg<'a> {
    fn of(c: &'a journal::query::Changed) -> Chg<'a> {
        Chg {
            arch: &c.arch,
            direction: c.direction,
            from: &c.from,
            name: &c.name,
            to: &c.to,
        }
    }
}
