#!/usr/bin/env bash
# Runs every test: unit tests of each module and the end-to-end tests that start the real
# daemons, journald and logrotate. Installs what the tests need first.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh --test
swift build --build-tests
swift test --skip-build "$@"
