//! Reading history: `txn verify` (the hash chain and every kept commit) and `txn bisect` (the
//! first transaction a test fails on).

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

/// One tested transaction of a bisection.
#[derive(Debug, Clone, PartialEq, Eq)]
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
