#!/usr/bin/env bash
# Installs the Debian packages meetmeter needs to build (and, with --test, to run its tests).
# Runs apt-get only for what is missing, so a second run is quick and needs no network.
set -euo pipefail
packages=(libsystemd-dev libsqlite3-dev pkg-config)
if [[ "${1:-}" == "--test" ]]; then
    # The tests use the real things: journald and journal-remote, logrotate, du.
    packages+=(systemd systemd-journal-remote logrotate coreutils procps gzip mandoc openssl)
fi
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    echo "meetmeter: installing ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [[ "${1:-}" == "--test" && $(id -u) -eq 0 && ! -s /etc/machine-id ]]; then
    # journald needs a machine id to name its folder; a fresh container may have none.
    systemd-machine-id-setup >/dev/null 2>&1 || true
fi
