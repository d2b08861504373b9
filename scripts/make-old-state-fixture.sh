#!/bin/bash
# Writes tests/fixtures/old-state.tar.gz: a state directory made by an older particle binary,
# which every later binary must open, verify and replay bit for bit (tests/it/compat.rs).
#
#   scripts/make-old-state-fixture.sh OLD_PARTICLE OUT.tar.gz [MIRROR]
#
# The transactions install from the shared Debian mirror, reached through the fixed path
# /tmp/particle-compat-mirror (a link the test makes again), so that the recorded source is the
# same on every machine. The fixture keeps what the old binary wrote except the bulk that the
# mirror and the journal give back: the store's objects (.debs and universe snapshots) and the
# OSTree repository's objects. The test fetches the .debs again (`repo update`, `store fetch`)
# and rebuilds every commit (`replay --verify`), which must give the checksums the old binary
# recorded. The fixture in the repository was made with the binary of commit ad013ff (before the
# engine crate took the transaction protocol out of the command line, issue #16).
set -euo pipefail

old=$(realpath "$1")
out=$(realpath -m "$2")
mirror=$(realpath "${3:-$(dirname "$0")/../../shared/debian-mirror}")
link=/tmp/particle-compat-mirror
work=$(mktemp -d /tmp/particle-fixture.XXXXXX)
trap 'rm -rf "$work"' EXIT
ln -sfn "$mirror" "$link"

p() { "$old" --root "$work/state" "$@"; }
p init
p repo add debian --uri "file://$link" --suite bookworm --keyring "$link/keyring/debian-archive-keyring.gpg"
p repo update
p txn install --reason "fixture: install" hello
p txn kargs --append quiet
p txn sysctl --set vm.swappiness=10
p variant create child --from base
p txn install --variant child --reason "fixture: a package in the child" jq
p txn rollback
p txn verify
p txn log

# The bulk the mirror and the journal give back.
rm -rf "$work/state/store/objects" "$work/state/store/snapshots" "$work/state/ostree/repo/objects"
mkdir -p "$work/state/store/objects" "$work/state/ostree/repo/objects"
tar -C "$work" --sort=name --owner=0 --group=0 --numeric-owner -czf "$out" state
echo "wrote $out ($(stat -c %s "$out") bytes)"
