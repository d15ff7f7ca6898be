#!/usr/bin/env bash
# Runs every test: unit tests of each module and the end-to-end tests that start the real
# daemons, journald and logrotate. Installs what the tests need first.
#
# The run is bounded (MEETMETER_TEST_TIMEOUT seconds, 40 minutes by default; a whole run takes
# about 8): a test that hangs fails the run with the names of the tests still running, instead
# of holding CI until its own limit says nothing. Lines are flushed as printed (stdbuf), so that
# the log is whole up to the moment a hang is cut off.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh --test
swift build --build-tests
log=$(mktemp /tmp/meetmeter-test-log.XXXXXX)
# A temporary folder of this run's own (the PostgreSQL clusters and test folders go there),
# traversable by the postgres user that runs the test servers.
TMPDIR=$(mktemp -d /tmp/meetmeter-run.XXXXXX)
chmod 755 "$TMPDIR"
export TMPDIR
tests=""
# The tests stop what they start; whatever is left is a fault to fix, named and stopped here:
# this checkout's test and daemon binaries, and servers whose folders are in this run's TMPDIR
# (another checkout's run on the same machine is left alone).
root=$(printf '%s' "$PWD" | sed 's/[][\.*^$+?(){}|]/\\&/g')
leftovers="(^|[ =])$root/\.build/[^ ]*/(meetmeterPackageTests\.xctest|meetmeter-agent|meetmeter-aggregator|meetmeter)( |$)|$(printf '%s' "$TMPDIR" | sed 's/[][\.*^$+?(){}|]/\\&/g')/meetmeter-"
cleanup() {
    [[ -z $tests ]] || kill -TERM "$tests" 2>/dev/null || true
    local left
    left=$(pgrep -a -f "$leftovers" || true)
    if [[ -n $left ]]; then
        echo "scripts/test.sh: the tests left these processes running (stopped now):" >&2
        echo "$left" >&2
        pkill -9 -f "$leftovers" || true
    fi
    rm -rf "$TMPDIR" "$log"
}
trap cleanup EXIT
# Ctrl-C or a TERM reaches the tests too (timeout runs them in a process group of its own).
trap 'exit 130' INT TERM
limit=${MEETMETER_TEST_TIMEOUT:-2400}
# Into a file, not a pipe: a server a test left behind would hold a pipe open, and whoever reads
# it (CI) would wait for its end forever; tail stops when the test process ends.
timeout --kill-after=30 "$limit" stdbuf -oL -eL swift test --skip-build "$@" >"$log" 2>&1 &
tests=$!
tail -n +1 --pid="$tests" -f "$log" || true
status=0
wait "$tests" || status=$?
tests=""
if [[ $status == 124 || $status == 137 ]]; then
    echo "scripts/test.sh: the tests did not end within $limit s (or were killed); still running:" >&2
    # Swift Testing prints "◇ Test NAME started." and "✔ Test NAME passed after" (or "with N
    # test cases passed", "failed", "skipped"): the started ones without an end are the hung ones.
    sed -E 's/ with [0-9]+ test cases? (passed|failed)/ \1/' "$log" |
        sed -n -E 's/^.*◇ Test (.*) started\.$/S \1/p; s/^.*[✔✘➜] Test (.*) (passed|failed|skipped).*$/E \1/p' |
        awk '/^S / { s[substr($0, 3)] = 1 } /^E / { delete s[substr($0, 3)] } END { for (t in s) print "  " t }' >&2
fi
exit "$status"
