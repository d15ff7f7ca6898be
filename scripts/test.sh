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
trap 'rm -f "$log"' EXIT
# A temporary folder of this run's own (the PostgreSQL clusters and test folders go there),
# traversable by the postgres user that runs the test servers.
TMPDIR=$(mktemp -d /tmp/meetmeter-run.XXXXXX)
chmod 755 "$TMPDIR"
export TMPDIR
limit=${MEETMETER_TEST_TIMEOUT:-2400}
# Into a file, not a pipe: a server a test left behind would hold a pipe open, and whoever reads
# it (CI) would wait for its end forever; tail stops when the test process ends.
timeout --kill-after=30 "$limit" stdbuf -oL -eL swift test --skip-build "$@" >"$log" 2>&1 &
tests=$!
tail -n +1 --pid="$tests" -f "$log"
status=0
wait "$tests" || status=$?
if [[ $status == 124 || $status == 137 ]]; then
    echo "scripts/test.sh: the tests did not end within $limit s; still running:" >&2
    # Swift Testing prints "◇ Test NAME started." and "✔ Test NAME passed after" (or "with N
    # test cases passed", "failed", "skipped"): the started ones without an end are the hung ones.
    sed -E 's/ with [0-9]+ test cases? (passed|failed)/ \1/' "$log" |
        sed -n -E 's/^.*◇ Test (.*) started\.$/S \1/p; s/^.*[✔✘➜] Test (.*) (passed|failed|skipped).*$/E \1/p' |
        awk '/^S / { s[substr($0, 3)] = 1 } /^E / { delete s[substr($0, 3)] } END { for (t in s) print "  " t }' >&2
fi
# The tests stop what they start; whatever is left is a fault to fix, named and stopped here:
# this checkout's binaries, and servers whose folders are in this run's TMPDIR (so that another
# checkout's run on the same machine is left alone).
left=$(pgrep -a -f "$PWD/\.build/|$TMPDIR/meetmeter-" || true)
if [[ -n $left ]]; then
    echo "scripts/test.sh: the tests left these processes running (stopped now):" >&2
    echo "$left" >&2
    pkill -9 -f "$PWD/\.build/|$TMPDIR/meetmeter-" || true
fi
rm -rf "$TMPDIR"
exit "$status"
