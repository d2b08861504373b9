#!/bin/bash
# Differential check of two builds of the solver stand-in (solver/examples/particle-solve.rs):
# both solve the same random single-package requests over the same index, with and without
# Recommends, as a package table (what `particle solve` does over a snapshot), and every whole
# solution (packages, reasons, parents) or error must be byte-identical.
#
#   scripts/solver-differential.sh OLD_BINARY NEW_BINARY [COUNT] [SEED]
#
# Build the old one from a worktree of the commit to compare against, e.g.
#   git worktree add /tmp/wt-old HEAD~1 && (cd /tmp/wt-old && CARGO_TARGET_DIR=/tmp/t-old \
#     cargo build -j2 --release -p solver --example particle-solve)
# Prints every request that differs and a summary; exits 1 if any differs.
set -euo pipefail
old=$1 new=$2 count=${3:-240} seed=${4:-6}
here=$(cd "$(dirname "$0")/.." && pwd)
mirror=${MIRROR:-$here/../shared/debian-mirror}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
xz -dc "$mirror/dists/bookworm/main/binary-amd64/Packages.xz" > "$work/Packages"
grep '^Package: ' "$work/Packages" | cut -d' ' -f2 | sort -u |
  python3 -c "import sys, random; n = [l.strip() for l in sys.stdin]; random.seed($seed); print('\n'.join(random.sample(n, $count)))" \
  > "$work/names"
same=0 differ=0
while read -r name; do
  for rec in "" --no-recommends; do
    for side in old new; do
      bin=$old; [ "$side" = new ] && bin=$new
      set +e
      "$bin" --index "$work/Packages" --table $rec --solution install "$name" \
        > "$work/$side.out" 2> "$work/$side.err"
      echo $? > "$work/$side.rc"
      set -e
      grep -v '^parse' "$work/$side.err" > "$work/$side.msg" || true
    done
    if cmp -s "$work/old.out" "$work/new.out" && cmp -s "$work/old.msg" "$work/new.msg" &&
      cmp -s "$work/old.rc" "$work/new.rc"; then
      same=$((same + 1))
    else
      differ=$((differ + 1))
      echo "differs: install $name $rec"
    fi
  done
done < "$work/names"
echo "requests: $((same + differ)), identical: $same, different: $differ"
[ "$differ" = 0 ]
