#!/bin/bash
# Composes the five shipped variants (variants/*.toml) with their full package sets from a real
# Debian mirror: bookworm and bookworm-updates (and bookworm-security with SECURITY=1), every component (main, contrib,
# non-free, non-free-firmware), amd64 and i386. Prints, per variant, the packages, the installed
# size and the compose time as a Markdown table (docs/benchmarks.md, "Full variants").
#
#   scripts/compose-full-variants.sh [MIRROR]   (default http://deb.debian.org/debian)
#
# Needs the network (or a full local mirror), about 5 GB of disk for the .debs and the
# repository, and particle built (target/release/particle, else target/debug/particle).
set -euo pipefail
cd "$(dirname "$0")/.."
mirror=${1:-http://deb.debian.org/debian}
security=${SECURITY_MIRROR:-http://deb.debian.org/debian-security}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
particle=target/release/particle
[ -x "$particle" ] || particle=target/debug/particle
state=${STATE:-$(mktemp -d /var/tmp/particle-full.XXXXXX)}
p() { "$particle" --root "$state" "$@"; }

p init >/dev/null 2>&1 || true
add() {
  local name=$1 uri=$2 suite=$3
  p repo add "$name" --uri "$uri" --suite "$suite" --arch amd64 --arch i386 \
    --component main --component contrib --component non-free --component non-free-firmware \
    --keyring "$keyring" 2>/dev/null || true
}
add debian "$mirror" bookworm
add updates "$mirror" bookworm-updates
# bookworm-security only when asked (SECURITY=1): its i386 and amd64 indices are published
# apart, and a proxy caught between them serves one that does not match its InRelease.
[ "${SECURITY:-0}" = 1 ] && add security "$security" bookworm-security
start=$(date +%s.%N)
p -q repo update
echo "repo update: $(echo "$(date +%s.%N) - $start" | bc) s" >&2

echo "| variant | packages | installed size | compose (s) |"
echo "|---|---|---|---|"
for v in base apex bosom corona euclase; do
  start=$(date +%s.%N)
  out=$(p --json -q variant apply --reason "full compose" "variants/$v.toml") || {
    printf '%s: %s\n' "$v" "$out" >&2
    exit 1
  }
  secs=$(echo "$(date +%s.%N) - $start" | bc)
  commit=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("commit") or "")')
  count=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("packages") or "")')
  kib=$(ostree --repo="$state/ostree/repo" cat "$commit" /usr/lib/sysimage/dpkg/status |
    awk '/^Installed-Size:/ { s += $2 } END { print s }')
  printf '| %s | %s | %.1f GiB | %.0f |\n' "$v" "$count" "$(echo "$kib / 1048576" | bc -l)" "$secs"
done
echo "state directory: $state" >&2
