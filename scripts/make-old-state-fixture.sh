#!/bin/bash
# Writes tests/fixtures/old-state.tar.gz: a state directory made by an older particle binary, which
# every later binary must open, verify and replay bit for bit (tests/it/compat.rs).
#
#   scripts/make-old-state-fixture.sh OLD_PARTICLE OUT.tar.gz
#
# The packages are two tiny ones built here and served from a signed local archive, so that the
# whole state directory (store, repository, journal) is a few hundred kilobytes. The fixture in
# the repository was made with the binary of commit ad013ff (before the engine crate took the
# transaction protocol out of the command line, issue #16).
set -euo pipefail

old=$(realpath "$1")
out=$(realpath -m "$2")
work=$(mktemp -d /tmp/particle-fixture.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

export GNUPGHOME=$work/gnupg
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
    --quick-gen-key 'particle fixture <fixture@particle.invalid>' ed25519 sign never
mkdir -p archive
gpg --batch --export > archive/keyring.gpg

# Two packages: a needs b; b ships a script, a a document.
build() { # name version depends files...
    local name=$1 version=$2 depends=$3
    shift 3
    local dir=pkg/$name
    mkdir -p "$dir/DEBIAN"
    {
        echo "Package: $name"
        echo "Version: $version"
        echo "Architecture: all"
        echo "Maintainer: particle <fixture@particle.invalid>"
        [ -n "$depends" ] && echo "Depends: $depends"
        echo "Description: particle's compatibility fixture ($name)"
    } > "$dir/DEBIAN/control"
    for f in "$@"; do
        mkdir -p "$dir/$(dirname "$f")"
        echo "$name $version: $f" > "$dir/$f"
        case $f in usr/bin/*) chmod 755 "$dir/$f" ;; esac
    done
    mkdir -p archive/pool/main
    SOURCE_DATE_EPOCH=1700000000 dpkg-deb --root-owner-group -Zxz -b "$dir" \
        "archive/pool/main/${name}_${version}_all.deb" > /dev/null
}
build fixture-b 1.0 "" usr/bin/fixture-b
build fixture-a 1.0 "fixture-b (>= 1.0)" usr/share/doc/fixture-a/README

idx=archive/dists/fixture/main/binary-amd64
mkdir -p "$idx"
(cd archive && dpkg-scanpackages --multiversion pool > "../$idx/Packages" 2> /dev/null)
size=$(stat -c %s "$idx/Packages")
sum=$(sha256sum "$idx/Packages" | cut -d' ' -f1)
cat > archive/Release <<EOF
Origin: particle-fixture
Suite: fixture
Codename: fixture
Date: Tue, 14 Nov 2023 22:13:20 UTC
Architectures: amd64
Components: main
SHA256:
 $sum $size main/binary-amd64/Packages
EOF
gpg --batch --quiet --yes --pinentry-mode loopback --passphrase '' --digest-algo SHA256 \
    --output archive/dists/fixture/InRelease --clearsign archive/Release

p() { "$old" --root "$work/state" "$@"; }
p init
p repo add fixture --uri "file://$work/archive" --suite fixture --keyring "$work/archive/keyring.gpg"
p repo update
p txn install --reason "fixture: install" fixture-a
p txn kargs --append quiet
p txn sysctl --set vm.swappiness=10
p variant create child --from base
p txn remove --variant child --reason "fixture: remove in the child" fixture-a
p txn rollback
p txn verify
p txn log

tar --sort=name --owner=0 --group=0 --numeric-owner -czf "$out" state archive
echo "wrote $out ($(stat -c %s "$out") bytes)"
