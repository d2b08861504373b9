#!/usr/bin/env bash
# `particle repo update` against `apt-get update` on the same file:// mirror, both from a fresh
# state (particle: a new state directory; apt: an empty lists directory), in one run.
# Usage: benches/repo-update-vs-apt.sh [ROUNDS]   (MIRROR defaults to ../shared/debian-mirror)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-5}"
MIRROR="${MIRROR:-$(cd .. && pwd)/shared/debian-mirror}"
KEYRING="$MIRROR/keyring/debian-archive-keyring.gpg"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build -q -j2 --release -p particle-cli
particle="$CARGO_TARGET_DIR/release/particle"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$work/apt/parts" "$work/apt/cache"
cat > "$work/apt/apt.conf" <<CONF
Dir::Etc::Parts "$work/apt/parts";
Acquire::Languages "none";
CONF
echo "deb [signed-by=$KEYRING] file://$MIRROR bookworm main" > "$work/apt/sources.list"
: > "$work/apt/empty-status"
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
p_times=(); a_times=()
for i in $(seq "$rounds"); do
  root="$work/p$i"
  "$particle" --root "$root" -q init
  "$particle" --root "$root" -q repo add debian --uri "file://$MIRROR" --suite bookworm --keyring "$KEYRING"
  t0=$(now); "$particle" --root "$root" -q repo update; t1=$(now)
  p_times+=("$(echo "$t1 - $t0" | bc)")
  lists="$work/lists$i"; mkdir -p "$lists/partial"
  t0=$(now)
  APT_CONFIG="$work/apt/apt.conf" apt-get -qq -o Dir::State::Lists="$lists" -o Dir::Etc::SourceList="$work/apt/sources.list" \
    -o Dir::Etc::SourceParts=/dev/null -o Dir::Cache="$work/apt/cache" -o Dir::State::status="$work/apt/empty-status" \
    -o Debug::NoLocking=1 update
  t1=$(now)
  a_times+=("$(echo "$t1 - $t0" | bc)")
done
p=$(printf '%s\n' "${p_times[@]}" | median); a=$(printf '%s\n' "${a_times[@]}" | median)
echo "particle repo update: ${p}s (median of $rounds)"
echo "apt-get update:       ${a}s (median of $rounds)"
echo "ratio particle/apt:   $(echo "scale=2; $p / $a" | bc)"
