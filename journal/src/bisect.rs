//! Bisect planning: which transaction to test next, and the first bad one. Pure; the CLI runs
//! the command against checkouts and feeds the verdicts back.

use std::collections::BTreeMap;

use serde::Serialize;

/// The outcome of testing one transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Good,
    Bad,
    /// The transaction could not be tested (exit code 125).
    Skip,
}

impl Verdict {
    /// `git bisect run`'s convention: 0 good, 125 skip, anything else bad.
    pub fn from_exit_code(code: i32) -> Verdict {
        match code {
            0 => Verdict::Good,
            125 => Verdict::Skip,
            _ => Verdict::Bad,
        }
    }
}

/// What to do next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "kebab-case")]
pub enum BisectStep {
    /// Test this transaction next.
    Test { seq: u64 },
    /// Done: `first_bad` is the first bad transaction, `last_good` the one before it known good.
    Found { first_bad: u64, last_good: u64 },
    /// Done, but skipped transactions hide which of `candidates` is the first bad one.
    Ambiguous {
        candidates: Vec<u64>,
        last_good: u64,
    },
}

/// Why a bisection cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BisectError {
    #[error("bisect needs a good and a bad transaction, got {len} transactions")]
    TooFew { len: usize },
    #[error("the good transaction {good} was tested bad")]
    GoodIsBad { good: u64 },
}

/// Plans the next step of a bisection over `txns` (oldest first: the known-good transaction,
/// the ones between, the known-bad one), given the verdicts so far.
///
/// Assumes badness is monotone: the first bad after the last good before the first bad wins;
/// goods after the first bad are ignored. Picks the untested transaction nearest the middle.
pub fn bisect_step(
    txns: &[u64],
    verdicts: &BTreeMap<u64, Verdict>,
) -> Result<BisectStep, BisectError> {
    if txns.len() < 2 {
        return Err(BisectError::TooFew { len: txns.len() });
    }
    if verdicts.get(&txns[0]) == Some(&Verdict::Bad) {
        return Err(BisectError::GoodIsBad { good: txns[0] });
    }
    let verdict = |i: usize| verdicts.get(&txns[i]).copied();
    let last = txns.len() - 1;
    let hi = (1..last)
        .find(|&i| verdict(i) == Some(Verdict::Bad))
        .unwrap_or(last);
    let lo = (1..hi)
        .rev()
        .find(|&i| verdict(i) == Some(Verdict::Good))
        .unwrap_or(0);
    let untested: Vec<usize> = (lo + 1..hi).filter(|&i| verdict(i).is_none()).collect();
    if untested.is_empty() {
        if lo + 1 == hi {
            return Ok(BisectStep::Found {
                first_bad: txns[hi],
                last_good: txns[lo],
            });
        }
        return Ok(BisectStep::Ambiguous {
            candidates: txns[lo + 1..=hi].to_vec(),
            last_good: txns[lo],
        });
    }
    let mid = (lo + hi) / 2;
    let pick = untested
        .iter()
        .copied()
        .min_by_key(|&i| (i.abs_diff(mid), i))
        .expect("untested is not empty");
    Ok(BisectStep::Test { seq: txns[pick] })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn run(txns: &[u64], first_bad: usize, skips: &[u64]) -> (BisectStep, usize) {
        let mut verdicts = BTreeMap::new();
        let mut tests = 0;
        loop {
            match bisect_step(txns, &verdicts).expect("valid input") {
                BisectStep::Test { seq } => {
                    tests += 1;
                    assert!(!verdicts.contains_key(&seq), "tested {seq} twice");
                    let i = txns
                        .iter()
                        .position(|&s| s == seq)
                        .expect("tests a candidate");
                    let v = if skips.contains(&seq) {
                        Verdict::Skip
                    } else if i >= first_bad {
                        Verdict::Bad
                    } else {
                        Verdict::Good
                    };
                    verdicts.insert(seq, v);
                }
                done => return (done, tests),
            }
        }
    }

    #[test]
    fn finds_first_bad_in_log_steps() {
        let txns: Vec<u64> = (10..74).collect();
        for first_bad in 1..txns.len() {
            let (step, tests) = run(&txns, first_bad, &[]);
            assert_eq!(
                step,
                BisectStep::Found {
                    first_bad: txns[first_bad],
                    last_good: txns[first_bad - 1]
                }
            );
            assert!(tests <= 6, "{tests} tests for 64 txns");
        }
    }

    #[test]
    fn adjacent_good_and_bad_need_no_test() {
        let (step, tests) = run(&[3, 7], 1, &[]);
        assert_eq!(
            step,
            BisectStep::Found {
                first_bad: 7,
                last_good: 3
            }
        );
        assert_eq!(tests, 0);
    }

    #[test]
    fn skips_around_the_culprit_make_it_ambiguous() {
        let txns = [1, 2, 3, 4, 5, 6];
        let (step, _) = run(&txns, 3, &[3, 4]);
        assert_eq!(
            step,
            BisectStep::Ambiguous {
                candidates: vec![3, 4, 5],
                last_good: 2
            }
        );
    }

    #[test]
    fn exit_codes() {
        assert_eq!(Verdict::from_exit_code(0), Verdict::Good);
        assert_eq!(Verdict::from_exit_code(125), Verdict::Skip);
        assert_eq!(Verdict::from_exit_code(1), Verdict::Bad);
        assert_eq!(Verdict::from_exit_code(-9), Verdict::Bad);
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(
            bisect_step(&[1], &BTreeMap::new()),
            Err(BisectError::TooFew { len: 1 })
        );
        let v = BTreeMap::from([(1, Verdict::Bad)]);
        assert_eq!(
            bisect_step(&[1, 2], &v),
            Err(BisectError::GoodIsBad { good: 1 })
        );
    }

    proptest! {
        #[test]
        fn result_contains_the_culprit(n in 2usize..40, bad_frac in 0.0f64..1.0, skip_mask in any::<u64>()) {
            let txns: Vec<u64> = (0..n as u64).map(|i| i * 3 + 1).collect();
            let first_bad = 1 + ((n - 1) as f64 * bad_frac) as usize % (n - 1);
            let skips: Vec<u64> = txns[1..n - 1].iter().enumerate()
                .filter(|(i, _)| skip_mask >> (i % 64) & 1 == 1).map(|(_, s)| *s).collect();
            let (step, _) = run(&txns, first_bad, &skips);
            match step {
                BisectStep::Found { first_bad: f, last_good } => {
                    prop_assert_eq!(f, txns[first_bad]);
                    prop_assert_eq!(last_good, txns[first_bad - 1]);
                }
                BisectStep::Ambiguous { candidates, .. } => {
                    prop_assert!(candidates.contains(&txns[first_bad]));
                    prop_assert!(candidates.len() >= 2);
                }
                BisectStep::Test { .. } => prop_assert!(false, "run() returns only final steps"),
            }
        }
    }
}
