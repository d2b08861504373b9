#!/usr/bin/env bash
# The store's index benchmark (issue #2): parse + index bookworm main into the package table,
# write its snapshot, reopen it in place, and (for comparison) parse into the owned universe.
# Prints the median and best of ROUNDS for each phase. Targets: parse + index ≤ 0.3 s, reopen ≤ 10 ms.
# The peer for `repo update` as a whole is apt-get update: benches/repo-update-vs-apt.sh.
# Usage: benches/index-parse-reopen.sh [ROUNDS]   (MIRROR defaults to ../shared/debian-mirror)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-9}"
MIRROR="${MIRROR:-$(cd .. && pwd)/shared/debian-mirror}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build -q -j2 --release -p store --example index_bench
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
# Decompressed once: the bench measures the parse, not xz.
xz -dc "$MIRROR/dists/bookworm/main/binary-amd64/Packages.xz" > "$work/Packages"
"$CARGO_TARGET_DIR/release/examples/index_bench" "$work/Packages" "$rounds"
