#!/usr/bin/env bash
# Seconds to install one small package (jq, with libjq1 and libonig5) on a booted machine:
# `particle txn install jq` on the booted particle base image (time to staged: solve, fetch,
# build the new commit on the booted one, stage the deployment) against `apt-get install jq` on
# a plain Debian guest of the same packages (benches/plain-image.sh), both from the shared
# mirror given to the guest over 9p, with the same qemu flags, alternating particle/apt RUNS
# times, each on a fresh snapshot of its image after `repo update` / `apt-get update` (not
# timed). Prints every run, the medians and the ratio particle/apt (goal: at most 3).
# Usage: benches/install-vs-apt.sh [RUNS] [MIRROR]   (defaults: 3, ../shared/debian-mirror)
# Needs root, mmdebstrap, qemu-system-x86, python3 (scripts/setup.sh installs them).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
runs="${1:-3}"
mirror="$(cd "${2:-$here/../shared/debian-mirror}" && pwd -P)"
work="$(mktemp -d "${WORK_BASE:-/var/tmp}/install-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$here"
cargo build -j2 -q -p particle-cli -p machine
particle="$here/target/debug/particle"
keyring="$mirror/keyring/debian-archive-keyring.gpg"
password=particle-bench
hash=$(openssl passwd -6 -salt particlebench "$password")

# particle's image (the machine's source is the mirror at its path here; the guest mounts it
# there).
export PARTICLE_ROOT="$work/state"
"$particle" -q init
"$particle" -q repo add debian --uri "file://$mirror" --suite bookworm --component main --arch amd64 --keyring "$keyring"
"$particle" -q repo update
"$particle" -q variant apply --reason "install benchmark" variants/base.toml
"$particle" -q image --variant base --firmware bios --karg console=ttyS0,115200 \
  --root-password-hash "$hash" "$work/particle.raw"

PLAIN_ROOT_HASH="$hash" \
  PLAIN_APT_SOURCE="deb [signed-by=$keyring] file:$mirror bookworm main" \
  bash benches/plain-image.sh "$work" "$mirror"

mount="mkdir -p $mirror && mount -t 9p -o trans=virtio,version=9p2000.L,ro mirror $mirror"
timed() { sed -n 's/^time\t\([0-9.]*\)\t.*/\1/p'; }
ours=() apt=()
for i in $(seq "$runs"); do
  # The first run also shows where particle's time went (its -vv log, kept in the guest).
  breakdown=()
  [ "$i" = 1 ] && breakdown=(
    "SHOW grep -E 'materializer|materialized|appended|deploy|staged|ran for|fetched' /tmp/particle-vv.log")
  out=$(python3 benches/guest.py "$work/particle.raw" --password "$password" --share "$mirror" \
    "$mount" "particle -q repo update" \
    "TIME particle -vv txn install jq >/dev/null 2>/tmp/particle-vv.log" "particle status" \
    "${breakdown[@]}")
  sed -n 's/^out\t/breakdown: /p' <<<"$out"
  o=$(timed <<<"$out")
  a=$(python3 benches/guest.py "$work/plain.raw" --password "$password" --share "$mirror" \
    "$mount" "apt-get -qq update" "TIME apt-get -qq -y install jq >/dev/null" "jq --version" | timed)
  [ -n "$o" ] && [ -n "$a" ] || { echo "run $i: a guest failed" >&2; exit 1; }
  echo "run $i: particle ${o} s (to staged), apt ${a} s"
  ours+=("$o"); apt+=("$a")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
mo=$(median "${ours[@]}"); ma=$(median "${apt[@]}")
echo "median seconds to install jq: particle $mo (staged for the next boot), apt $ma (in place)"
echo "ratio particle/apt: $(echo "scale=3; $mo / $ma" | bc)"
