#!/usr/bin/env bash
# Bytes a machine receives over the wire for a one-package update (issue #19, item 7), in one
# run: a build host publishes `hello` (the essential set plus hello) and pushes its image, then
# the same plus `jq`. A machine that has the first gets the second, and every byte the client
# receives (HTTP headers included) is counted by benches/count_proxy.py in front of the server:
#   (1) `ostree pull` over HTTP from the published repository: libostree takes the static delta
#       `publish` generated from the commit the machine has;
#   (2) the same pull into an empty repository: the whole commit, object by object;
#   (3) `skopeo copy` from a registry (docker-registry on 127.0.0.1) into an OCI layout that
#       holds the first image: what an image pull moves (blobs the layout has are not fetched).
# Also prints the sizes on disk (the delta's files, the whole commit's objects, the largest
# OCI blob) for comparison with earlier runs. Prints the ratios against (1).
# Usage: benches/update-bytes.sh [MIRROR]   (default: ../shared/debian-mirror). Needs root,
# skopeo and docker-registry (scripts/setup.sh installs them).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
mirror="$(cd "${1:-$here/../shared/debian-mirror}" && pwd -P)"
work="$(mktemp -d "${WORK_BASE:-/var/tmp}/update-bytes.XXXXXX")"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
cd "$here"
cargo build -j2 -q -p particle-cli -p machine
particle="$here/target/debug/particle"
export PARTICLE_ROOT="$work/state"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.1; done; echo "nothing answers on $1" >&2; exit 1; }
# Starts the counting proxy in front of port $1, counting into $2 (its port in $2.port, its
# process in $proxy_pid).
proxy() {
  python3 "$here/benches/count_proxy.py" "$1" "$2" > "$2.port" &
  proxy_pid=$!
  pids+=("$proxy_pid")
  for _ in $(seq 100); do [ -s "$2.port" ] && break; sleep 0.1; done
}
down() { cut -d' ' -f1 "$1"; }
reset() { kill -USR1 "$1"; sleep 0.2; }

# The registry, and the published repository served by a static web server.
reg_port=$(free_port)
mkdir -p "$work/registry"
cat > "$work/registry/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $work/registry/storage
http:
  addr: 127.0.0.1:$reg_port
EOF
docker-registry serve "$work/registry/config.yml" > "$work/registry/log" 2>&1 &
pids+=($!)
wait_port "$reg_port"
web_port=$(free_port)
mkdir -p "$work/published"
python3 -m http.server "$web_port" --bind 127.0.0.1 --directory "$work/published" > /dev/null 2>&1 &
pids+=($!)
wait_port "$web_port"
proxy "$web_port" "$work/ostree.count"; ostree_pid=$proxy_pid
ostree_proxy=$(head -1 "$work/ostree.count.port")
proxy "$reg_port" "$work/oci.count"; oci_pid=$proxy_pid
oci_proxy=$(head -1 "$work/oci.count.port")

"$particle" -q init
"$particle" -q repo add debian --uri "file://$mirror" --suite bookworm \
  --keyring "$mirror/keyring/debian-archive-keyring.gpg"
"$particle" -q repo update
image="127.0.0.1:$reg_port/particle"   # push tags particle/base:latest and :TXN_ID
"$particle" -q txn install hello
"$particle" -q publish --repo "$work/published"
"$particle" -q push --variant base --tls-verify=false "$image"
old=$(ostree --repo="$work/published" rev-parse particle-os/base)
old_id=$("$particle" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["txn_id"])')
"$particle" -q txn install jq
"$particle" -q publish --repo "$work/published"
"$particle" -q push --variant base --tls-verify=false "$image"
new=$(ostree --repo="$work/published" rev-parse particle-os/base)
new_id=$("$particle" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["txn_id"])')

# (1) A machine with the first commit pulls the second: the static delta.
ostree --repo="$work/machine" init --mode=bare-user
ostree --repo="$work/machine" remote add --no-gpg-verify web "http://127.0.0.1:$ostree_proxy"
ostree --repo="$work/machine" pull web "particle-os/base@$old" > /dev/null
reset "$ostree_pid"
ostree --repo="$work/machine" pull web "particle-os/base@$new" > "$work/pull-delta.out"
grep -q "delta parts" "$work/pull-delta.out" || { echo "the pull did not take the delta:" >&2; cat "$work/pull-delta.out" >&2; exit 1; }
wire_delta=$(down "$work/ostree.count")
# (2) The whole second commit into an empty repository.
ostree --repo="$work/empty" init --mode=bare-user
ostree --repo="$work/empty" remote add --no-gpg-verify web "http://127.0.0.1:$ostree_proxy"
reset "$ostree_pid"
ostree --repo="$work/empty" pull web "particle-os/base@$new" > /dev/null
wire_full=$(down "$work/ostree.count")
# (3) The image pull: the first image into an OCI layout, then the second into the same one.
skopeo copy -q --src-tls-verify=false "docker://127.0.0.1:$oci_proxy/particle/base:$old_id" \
  "oci:$work/pulled:old"
reset "$oci_pid"
skopeo copy -q --src-tls-verify=false "docker://127.0.0.1:$oci_proxy/particle/base:$new_id" \
  "oci:$work/pulled:new"
wire_oci=$(down "$work/oci.count")

# Sizes on disk, as earlier runs measured them.
disk_delta=$(du -sb "$work/published/deltas" | cut -f1)
ostree --repo="$work/full" init --mode=archive
ostree --repo="$work/full" pull-local "$work/published" "$new" > /dev/null
disk_full=$(du -sb "$work/full/objects" | cut -f1)
disk_oci=$(find "$work/pulled/blobs" -type f -printf '%s\n' | sort -n | tail -1)

echo "one-package update (hello -> hello + jq), commits ${old:0:12} -> ${new:0:12}"
printf '%-44s %12s %12s\n' "route" "wire bytes" "disk bytes" \
  "static delta (ostree pull over HTTP)" "$wire_delta" "$disk_delta" \
  "whole commit (ostree pull, empty repository)" "$wire_full" "$disk_full" \
  "OCI image pull (skopeo, has the first image)" "$wire_oci" "$disk_oci"
awk -v d="$wire_delta" -v f="$wire_full" -v o="$wire_oci" \
  'BEGIN { printf "over the wire: whole commit / delta: %.1f; OCI pull / delta: %.1f\n", f / d, o / d }'
