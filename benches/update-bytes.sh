#!/usr/bin/env bash
# Bytes a machine transfers for a one-package update (issue #19, item 7), in one run: a build
# host publishes `hello` (the essential set plus hello), then the same plus `jq`; a machine that
# has the first commit gets the second (1) through the published static delta, (2) as the whole
# commit from the archive repository (`ostree pull` into an empty repository: every object),
# (3) as an OCI image (the compressed layer of `particle export oci`, which an image pull
# downloads whole since particle's images are one layer). Prints the three sizes and the ratios.
# Usage: benches/update-bytes.sh [MIRROR]   (default: ../shared/debian-mirror). Needs root.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
mirror="$(cd "${1:-$here/../shared/debian-mirror}" && pwd -P)"
work="$(mktemp -d "${WORK_BASE:-/var/tmp}/update-bytes.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$here"
cargo build -j2 -q -p particle-cli -p machine
particle="$here/target/debug/particle"
export PARTICLE_ROOT="$work/state"
"$particle" -q init
"$particle" -q repo add debian --uri "file://$mirror" --suite bookworm \
  --keyring "$mirror/keyring/debian-archive-keyring.gpg"
"$particle" -q repo update
"$particle" -q txn install hello
"$particle" -q publish --repo "$work/published"
old=$(ostree --repo="$work/published" rev-parse particle-os/base)
"$particle" -q txn install jq
"$particle" -q publish --repo "$work/published"
new=$(ostree --repo="$work/published" rev-parse particle-os/base)

# (1) The static delta from the published commit the machine has.
delta=$(du -sb "$work/published/deltas" | cut -f1)
# (2) The whole new commit: every object of the archive repository it reaches.
ostree --repo="$work/full" init --mode=archive
ostree --repo="$work/full" pull-local "$work/published" "$new" > /dev/null
full=$(du -sb "$work/full/objects" | cut -f1)
# (3) The OCI image of the new commit: its compressed layer (one layer, pulled whole).
"$particle" -q export oci --variant base --compression-level 6 "$work/oci"
oci=$(find "$work/oci/blobs" -type f -printf '%s\n' | sort -n | tail -1)

echo "one-package update (hello -> hello + jq), commits ${old:0:12} -> ${new:0:12}"
printf '%-34s %12s bytes\n' "static delta (published)" "$delta" \
  "whole commit (archive objects)" "$full" "OCI image (compressed layer)" "$oci"
awk -v d="$delta" -v f="$full" -v o="$oci" \
  'BEGIN { printf "ratio whole commit / delta: %.1f; OCI / delta: %.1f\n", f / d, o / d }'
