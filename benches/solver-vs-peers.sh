#!/usr/bin/env bash
# particle's solver against apt-get -s, libsolv (python3-solv, which parses the Packages text, and
# testsolv over a .solv binary cache, libsolv's fastest path) and, for whole-archive checks,
# libsolv's installcheck and dose-distcheck, on the same bookworm main index, in one run.
# Usage: benches/solver-vs-peers.sh [TARGET] [ROUNDS]     (default task-gnome-desktop, 3)
#   MIRROR=... (default ../shared/debian-mirror), SKIP_DOSE=1 to skip dose-distcheck (~20-100 s).
# Needs: apt, libsolv-tools, python3-solv, dose-distcheck, GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:-task-gnome-desktop}"
rounds="${2:-3}"
MIRROR="${MIRROR:-$(cd .. && pwd)/shared/debian-mirror}"
KEYRING="$MIRROR/keyring/debian-archive-keyring.gpg"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build -q -j2 --release -p solver --example particle-solve
cargo build -q -j2 --release -p particle-cli
particle="$CARGO_TARGET_DIR/release/examples/particle-solve"
cli="$CARGO_TARGET_DIR/release/particle"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
xz -dc "$MIRROR/dists/bookworm/main/binary-amd64/Packages.xz" > "$work/Packages"
# `particle solve` as a user runs it: over the pinned snapshot of a state directory (what
# `repo update` wrote), as apt-get -s reads its own cache after `apt-get update`.
export PARTICLE_ROOT="$work/state"
"$cli" -q init > /dev/null
"$cli" -q repo add debian --uri "file://$MIRROR" --suite bookworm --component main --arch amd64 --keyring "$KEYRING" > /dev/null
"$cli" -q repo update > /dev/null

# apt confined to a throwaway root (platform-notes.md).
mkdir -p "$work/apt/parts" "$work/apt/cache/archives/partial" "$work/apt/lists/partial"
printf 'Dir::Etc::Parts "%s";\nAcquire::Languages "none";\n' "$work/apt/parts" > "$work/apt/apt.conf"
echo "deb [signed-by=$KEYRING] file://$MIRROR bookworm main" > "$work/apt/sources.list"
: > "$work/apt/status"
apt_get() {
  APT_CONFIG="$work/apt/apt.conf" apt-get -o Dir::State::Lists="$work/apt/lists" \
    -o Dir::Etc::SourceList="$work/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null \
    -o Dir::Cache="$work/apt/cache" -o Dir::State::status="$work/apt/status" -o Debug::NoLocking=1 "$@"
}
apt_get -qq update
# apt is asked for the essential and required packages too, so both start from the same base.
base=$(awk '/^Package:/{p=$2} /^(Essential: yes|Priority: required)$/{print p}' "$work/Packages" | sort -u | tr '\n' ' ')

cat > "$work/libsolv.py" <<'PY'
import solv, sys, time
packages, target, recs, base = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4].split()
t0 = time.perf_counter()
pool = solv.Pool(); pool.setdisttype(solv.Pool.DISTTYPE_DEB); pool.setarch("amd64")
repo = pool.add_repo("bookworm"); repo.add_debpackages(solv.xfopen(packages))
pool.addfileprovides(); pool.createwhatprovides()
t1 = time.perf_counter()
jobs = []
for name in [target] + base:
    jobs += pool.select(name, solv.Selection.SELECTION_NAME).jobs(solv.Job.SOLVER_INSTALL)
solver = pool.Solver()
solver.set_flag(solv.Solver.SOLVER_FLAG_IGNORE_RECOMMENDED, 0 if recs else 1)
problems = solver.solve(jobs)
t2 = time.perf_counter()
n = len(solver.transaction().newsolvables())
print(f"{t1 - t0:.3f} {t2 - t1:.3f} {n} {len(problems)}")
PY

# libsolv's binary cache, built once like apt's cache and particle's snapshot (not timed), and a
# testsolv testcase per Recommends setting asking for the same packages.
deb2solv -r < "$work/Packages" > "$work/bookworm.solv"
for recs in 0 1; do
  {
    # testsolv opens the repo relative to the testcase's directory.
    printf 'repo system 0 empty\nrepo bookworm 0 solv bookworm.solv\nsystem amd64 deb system\n'
    [ "$recs" = 0 ] && echo "solverflags ignorerecommended"
    for name in "$target" $base; do echo "job install name $name"; done
  } > "$work/testsolv-$recs.t"
done

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { echo "scale=1; $1 / $2" | bc; }

for recs in 0 1; do
  flag=""; aptrec=false; [ "$recs" = 1 ] && aptrec=true || flag="--no-recommends"
  p=(); s=(); a=(); l=(); t=()
  for _ in $(seq "$rounds"); do
    t0=$(now); "$particle" --index "$work/Packages" $flag install "$target" > /dev/null 2> "$work/p.err"; t1=$(now)
    p+=("$(echo "$t1 - $t0" | bc)")
    t0=$(now); "$cli" -v solve $flag install "$target" > /dev/null 2> "$work/s.err"; t1=$(now)
    s+=("$(echo "$t1 - $t0" | bc)")
    t0=$(now); apt_get -s -o APT::Install-Recommends=$aptrec install "$target" $base > "$work/apt.out"; t1=$(now)
    a+=("$(echo "$t1 - $t0" | bc)")
    t0=$(now); /usr/bin/python3 "$work/libsolv.py" "$work/Packages" "$target" "$recs" "$base" > "$work/l.out"; t1=$(now)
    l+=("$(echo "$t1 - $t0" | bc)")
    t0=$(now); testsolv "$work/testsolv-$recs.t" > "$work/t.out" 2>&1; t1=$(now)
    grep -q '^[0-9]* installed packages' "$work/t.out" || { cat "$work/t.out" >&2; exit 1; }
    t+=("$(echo "$t1 - $t0" | bc)")
  done
  pm=$(printf '%s\n' "${p[@]}" | median); am=$(printf '%s\n' "${a[@]}" | median); lm=$(printf '%s\n' "${l[@]}" | median)
  sm=$(printf '%s\n' "${s[@]}" | median); tm=$(printf '%s\n' "${t[@]}" | median)
  echo "== install $target, recommends=$aptrec (median of $rounds, index loading included)"
  echo "particle solve (pinned snapshot): ${sm}s   ($(grep -o 'snapshot opened.*' "$work/s.err" | sed 's/\x1b\[[0-9;]*m//g'))"
  echo "particle-solve --index Packages (parses the text): ${pm}s   ($(cat "$work/p.err"))"
  echo "apt-get -s: ${am}s ($(grep -c '^Inst' "$work/apt.out") packages)"
  read -r lparse lsolve ln lprob < "$work/l.out"
  echo "libsolv (python3-solv): ${lm}s (parse ${lparse}s, solve ${lsolve}s, $ln packages, $lprob problems)"
  echo "libsolv testsolv (.solv binary cache): ${tm}s ($(grep -o '^[0-9]* installed packages' "$work/t.out" | head -1))"
  echo "ratio apt/particle solve: $(ratio "$am" "$sm")x   libsolv/particle solve: $(ratio "$lm" "$sm")x   testsolv/particle solve: $(ratio "$tm" "$sm")x   apt/particle-solve --index: $(ratio "$am" "$pm")x"
done

echo "== whole-archive installability"
t0=$(now); /usr/bin/time -f "%M" -o "$work/rss" "$particle" --index "$work/Packages" distcheck > "$work/dc.json" 2> "$work/dc.err"; t1=$(now)
pd=$(echo "$t1 - $t0" | bc)
echo "particle distcheck: ${pd}s, peak RSS $(( $(cat "$work/rss") / 1024 )) MiB, $(grep -c '"reason"' "$work/dc.json") broken ($(head -1 "$work/dc.err"))"
t0=$(now); installcheck amd64 "$work/Packages" > "$work/ic.out" || true; t1=$(now)
ic=$(echo "$t1 - $t0" | bc)
echo "installcheck: ${ic}s, $(grep -c '^can.t install' "$work/ic.out") broken   ratio installcheck/particle: $(ratio "$ic" "$pd")x"
if [ -z "${SKIP_DOSE:-}" ]; then
  t0=$(now); dose-distcheck --deb-native-arch=amd64 -f "deb://$work/Packages" > "$work/dose.out" || true; t1=$(now)
  dd=$(echo "$t1 - $t0" | bc)
  echo "dose-distcheck: ${dd}s, $(grep -c 'status: broken' "$work/dose.out") broken   ratio dose/particle: $(ratio "$dd" "$pd")x"
fi
