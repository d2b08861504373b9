#!/usr/bin/env bash
# Full compose of the minbase set, particle's materializer vs the peer, side by side in one run:
#   peer:     mmdebstrap --variant=minbase --mode=root from the mirror as a copy:// URI, then
#             `ostree commit` of its tree (skipping /dev, no xattrs) into a bare-user repo;
#   particle: the materializer (benches/compose.rs in the materializer crate) on exactly the
#             package set mmdebstrap installed, cold (fresh repo), again on the first commit
#             (second compose), and with one small package added on the first commit.
# Prints each time and the ratios particle/peer. Needs root, mmdebstrap, ostree, bwrap.
# Usage: benches/compose-vs-mmdebstrap.sh [MIRROR]   (default: ../shared/debian-mirror)
# Env: WORK_BASE (default /var/tmp) holds both sides' trees and repos (use /dev/shm to compare on
#      tmpfs); COMPOSE_BIN uses an already built compose bench binary instead of `cargo bench`.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
mirror="$(cd "${1:-$here/../shared/debian-mirror}" && pwd)"
work="$(mktemp -d "${WORK_BASE:-/var/tmp}/compose-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc; }

# The materializer's bench binary (optimized: cargo's bench profile).
bin="${COMPOSE_BIN:-}"
[ -n "$bin" ] || bin="$(cd "$here" && cargo bench -p materializer --bench compose --no-run 2>&1 |
  sed -n 's/.*Executable.*(\(.*compose-[0-9a-f]*\)).*/\1/p' | tail -1)"
[ -x "$bin" ] || { echo "could not build the compose bench binary" >&2; exit 1; }

# Peer: apt confined to the throwaway directory (platform-notes.md), copy:// mirror.
mkdir -p "$work/apt/parts"
printf 'Dir::Etc::Parts "%s";\nAcquire::Languages "none";\n' "$work/apt/parts" >"$work/apt/apt.conf"
t0=$(now)
APT_CONFIG="$work/apt/apt.conf" mmdebstrap --quiet --variant=minbase --mode=root bookworm "$work/mm" \
  "deb [signed-by=$mirror/keyring/debian-archive-keyring.gpg] copy://$mirror bookworm main" >/dev/null
t1=$(now)
ostree --repo="$work/peer-repo" init --mode=bare-user
echo /dev >"$work/skip"
ostree --repo="$work/peer-repo" commit --branch=minbase --skip-list="$work/skip" --no-xattrs \
  --timestamp=@1700000000 "$work/mm" >/dev/null
t2=$(now)
chroot "$work/mm" dpkg-query -W -f '${Package}\n' | sort >"$work/names"
peer_debootstrap=$(secs "$t0" "$t1"); peer_commit=$(secs "$t1" "$t2"); peer=$(secs "$t0" "$t2")

# particle: cold (from nothing, fresh repo); the same set again, built on the first commit as
# every transaction after a variant's first is; one small package (hello) added on that commit.
"$bin" "$mirror" "$work/names" "$work/repo" "$work/w1" >"$work/cold.txt"
first=$(sed -n 's/^commit //p' "$work/cold.txt")
COMPOSE_BASE="$first" "$bin" "$mirror" "$work/names" "$work/repo" "$work/w2" 1700000100 >"$work/warm.txt"
{ cat "$work/names"; echo hello; } >"$work/names-hello"
COMPOSE_BASE="$first" "$bin" "$mirror" "$work/names-hello" "$work/repo" "$work/w3" 1700000200 >"$work/one.txt"
cold=$(sed -n 's/^total //p' "$work/cold.txt"); warm=$(sed -n 's/^total //p' "$work/warm.txt")
one=$(sed -n 's/^total //p' "$work/one.txt")
ours_commit=$(sed -n 's/^phase commit //p' "$work/cold.txt")

echo "packages:                         $(wc -l <"$work/names")"
echo "peer mmdebstrap:                  ${peer_debootstrap} s"
echo "peer ostree commit:               ${peer_commit} s"
echo "peer total:                       ${peer} s"
echo "particle compose (cold):          ${cold} s"
sed 's/^/    /' "$work/cold.txt"
echo "particle compose (second):        ${warm} s"
sed 's/^/    /' "$work/warm.txt"
echo "particle one package (hello):     ${one} s"
sed 's/^/    /' "$work/one.txt"
printf 'ratio compose cold / peer:        %.2f  (target <= 1.0)\n' "$(echo "$cold / $peer" | bc -l)"
printf 'ratio compose second / peer:      %.2f  (target <= 0.25)\n' "$(echo "$warm / $peer" | bc -l)"
printf 'ratio one package / compose cold: %.2f  (target <= 0.25)\n' "$(echo "$one / $cold" | bc -l)"
printf 'ratio commit phase / ostree commit: %.2f  (target <= 1.0; different trees of the same set)\n' \
  "$(echo "$ours_commit / $peer_commit" | bc -l)"
