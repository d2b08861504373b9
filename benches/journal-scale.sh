#!/usr/bin/env bash
# A long-lived fleet's journal (issue #19, item 7): the time to open the journal and print the
# history with `txn log --json | tail`, and the recent history with `txn log --json -n 20`, on
# the same synthetic transactions (journal/examples/synth.rs: a 200-package base, then one- to
# three-package security updates, installs, removes and kernel arguments) stored in format 1
# (whole states, the peer: particle before format 2) and format 2 (changes). Runs alternate
# between the two formats; prints the medians and the ratios. For the large journal it prints
# the CPU time (user + system, particle and `tail` together) beside the wall time: on a shared
# machine the wall time of the same binary varies by a fifth from one minute to the next.
# With BASELINE=PATH (another build's `particle`, e.g. an earlier commit's release build), the
# large journal's `txn log --json | tail` also runs with it, alternating with this build run for
# run, and the ratio of the medians is printed: the way to compare builds on a shared machine.
# Usage: [BASELINE=PATH] benches/journal-scale.sh [N_COMPARED [N_LARGE [RUNS]]]
#        (defaults 10000 100000 5)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
n="${1:-10000}" large="${2:-100000}" runs="${3:-5}"
work="$(mktemp -d "${WORK_BASE:-/var/tmp}/journal-scale.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$here"
# The release build, as the quickstart installs it.
cargo build -j2 -q --release -p particle-cli
cargo build -j2 -q --release -p journal --example synth
particle="$here/target/release/particle"
synth="$here/target/release/examples/synth"

make_state() { # DIR N FORMAT
  "$particle" -q --root "$1" init
  "$synth" "$1/journal" "$2" "$3" >/dev/null
  printf '%s\n' "$(du -b "$1/journal/records" | cut -f1)"
}

# Milliseconds of one run of a shell pipeline: wall time, and CPU time (user + system of every
# process in it) after a space.
ms() {
  local TIMEFORMAT='%R %U %S' t
  t=$({ time bash -c "$1" >/dev/null; } 2>&1)
  echo "$t" | awk '{printf "%d %d\n", $1 * 1000, ($2 + $3) * 1000}'
}

# The median of the first (or, with 2, the second) column.
median() { awk -v c="${1:-1}" '{print $c}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

full() { echo "$particle --root $1 --json txn log | tail -n 3"; }
last() { echo "$particle --root $1 --json txn log -n 20 | tail -n 3"; }

b1=$(make_state "$work/v1" "$n" 1)
b2=$(make_state "$work/v2" "$n" 2)
for kind in full last; do
  : >"$work/$kind.1"
  : >"$work/$kind.2"
  for _ in $(seq "$runs"); do
    ms "$($kind "$work/v1")" >>"$work/$kind.1"
    ms "$($kind "$work/v2")" >>"$work/$kind.2"
  done
done
echo "$n transactions: format 1 $((b1 / 1000)) kB, format 2 $((b2 / 1000)) kB (ratio $(echo "scale=3; $b2 / $b1" | bc))"
for kind in full last; do
  m1=$(median <"$work/$kind.1") m2=$(median <"$work/$kind.2")
  label="txn log --json | tail"
  [ "$kind" = last ] && label="txn log --json -n 20"
  echo "  $label: format 1 ${m1} ms, format 2 ${m2} ms (ratio $(echo "scale=3; $m2 / $m1" | bc))"
done
rm -rf "$work/v1" "$work/v2"

bl=$(make_state "$work/large" "$large" 2)
: >"$work/base.l"
for kind in full last; do
  : >"$work/$kind.l"
  for _ in $(seq "$runs"); do
    ms "$($kind "$work/large")" >>"$work/$kind.l"
    if [ "$kind" = full ] && [ -n "${BASELINE:-}" ]; then
      ms "$BASELINE --root $work/large --json txn log | tail -n 3" >>"$work/base.l"
    fi
  done
done
echo "$large transactions, format 2 $((bl / 1000000)) MB (format 1 would be about $((b1 / n * large / 1000000)) MB):"
echo "  txn log --json | tail: $(median <"$work/full.l") ms (CPU $(median 2 <"$work/full.l") ms); txn log --json -n 20: $(median <"$work/last.l") ms (CPU $(median 2 <"$work/last.l") ms)"
if [ -n "${BASELINE:-}" ]; then
  mb=$(median <"$work/base.l") mf=$(median <"$work/full.l")
  echo "  baseline $BASELINE: txn log --json | tail $mb ms (CPU $(median 2 <"$work/base.l") ms); this build / baseline: $(echo "scale=3; $mf / $mb" | bc)"
fi
