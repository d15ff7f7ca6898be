#!/usr/bin/env bash
# Installs the Debian packages meetmeter needs to build. Options add to that set:
#
#     ./scripts/install-deps.sh              # build: libsystemd-dev libsqlite3-dev zlib1g-dev pkg-config
#     ./scripts/install-deps.sh --test       # and what the tests use for real (scripts/test.sh)
#     ./scripts/install-deps.sh --package    # and what building and checking the .debs uses
#                                            # (packaging/build-debs.sh, scripts/test-package.sh)
#
# Runs apt-get (non-interactive, with sudo when not root) only for what is missing, so a second
# run is quick and needs no network.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(libsystemd-dev libsqlite3-dev zlib1g-dev pkg-config)
test=0
for a in "$@"; do
    case $a in
        --test)
            # The tests use the real things: journald and journal-remote, logrotate, du, and a
            # PostgreSQL server (initdb and pg_ctl; the tests make and stop their own cluster).
            test=1
            # python3-venv: a virtual environment in .build/python with schemathesis and selenium
            # from PyPI, which check the console's API against its OpenAPI document and drive
            # its pages in Debian's headless chromium (with chromium-driver).
            packages+=(systemd systemd-journal-remote logrotate coreutils procps gzip mandoc openssl postgresql util-linux
                       python3-venv chromium chromium-driver) ;;
        --package)
            # dpkg-buildpackage with debhelper; lintian; man-db (man -l) and mandoc (-Tlint) for the
            # pages; debootstrap for the clean Debian tree the packages are installed into;
            # systemd (systemd-analyze), util-linux (unshare, setpriv, nsenter) and python3 (a
            # notify socket) for running the daemons as systemd would; systemd-container
            # (systemd-nspawn) for booting that tree with systemd.
            packages+=(debhelper dpkg-dev fakeroot lintian man-db mandoc debootstrap systemd util-linux python3 systemd-container) ;;
        *)
            echo "usage: $0 [--test] [--package]" >&2
            exit 64 ;;
    esac
done
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    echo "meetmeter: installing ${missing[*]}" >&2
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ((test)) && [[ $(id -u) -eq 0 && ! -s /etc/machine-id ]]; then
    # journald needs a machine id to name its folder; a fresh container may have none.
    systemd-machine-id-setup >/dev/null 2>&1 || true
fi
if ((test)); then
    # The test tools from PyPI, in a folder of the build's own (never the system's Python). A
    # machine without PyPI goes on: the tests that need them skip, saying why.
    venv=.build/python
    if [[ ! -x $venv/bin/schemathesis ]] || ! "$venv/bin/python" -c "import selenium" 2>/dev/null; then
        echo "meetmeter: installing schemathesis and selenium into $venv" >&2
        { python3 -m venv "$venv" && "$venv/bin/pip" install -q --disable-pip-version-check --timeout 30 --retries 2 "schemathesis>=4,<5" "selenium>=4,<5"; } >&2 ||
            echo "meetmeter: warning: cannot install schemathesis and selenium from PyPI; the tests that use them will be skipped" >&2
    fi
fi
