#!/usr/bin/env bash
# Builds the Debian packages meetmeter-agent and meetmeter-aggregator into packaging/out/:
#
#     ./packaging/build-debs.sh
#
# Needs the Swift toolchain on PATH and nothing else: the Debian build tools it lacks
# (debhelper, dpkg-dev, libsystemd-dev, libsqlite3-dev, zlib1g-dev, pkg-config) are installed through
# scripts/install-deps.sh --package, with sudo when not root.
#
# The Swift build is a static release build (--static-swift-stdlib) in the work tree with its own
# scratch path, .build-deb/, which is kept: a second run only builds what changed and packs again.
# dpkg-buildpackage runs in .build-deb/debian-build/, which holds a copy of packaging/debian as
# debian/, so nothing is written into packaging/debian. Everything runs at nice 19.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

say() { printf 'build-debs: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

command -v swift >/dev/null || die "swift is not on PATH; install the Swift toolchain first"

# The Debian tools it lacks (debhelper, dpkg-dev, fakeroot, the -dev packages, and lintian,
# man-db, debootstrap for scripts/test-package.sh).
./scripts/install-deps.sh --package

version=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
arch=$(dpkg-architecture -q DEB_HOST_ARCH)
stage=.build-deb/debian-build
rm -rf "$stage"
mkdir -p "$stage/meetmeter"
cp -a packaging/debian "$stage/meetmeter/debian"

say "building meetmeter $version for $arch (swift build in .build-deb, at nice 19)"
start=$SECONDS
(
    cd "$stage/meetmeter"
    MEETMETER_SOURCE="$top" nice -n 19 dpkg-buildpackage --build=binary --no-sign
)
debs=("$stage/meetmeter-agent_${version}_${arch}.deb" "$stage/meetmeter-aggregator_${version}_${arch}.deb")
for d in "${debs[@]}"; do [[ -f $d ]] || die "dpkg-buildpackage made no $d"; done

mkdir -p packaging/out
rm -f packaging/out/meetmeter-agent_*.deb packaging/out/meetmeter-aggregator_*.deb
cp "${debs[@]}" packaging/out/
say "done in $((SECONDS - start)) s:"
ls -l packaging/out/*.deb >&2
