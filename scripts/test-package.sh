#!/usr/bin/env bash
# Tests the Debian packages as an operator meets them:
#
#     ./scripts/test-package.sh [--no-build] [--keep]
#
#  1. builds the .debs (packaging/build-debs.sh, which reuses .build-deb/), or with --no-build
#     takes those in packaging/out/;
#  2. lintian on both: no error, no warning (what is accepted is overridden, with the reason, in
#     packaging/debian/*.lintian-overrides);
#  3. installs both with apt into a clean Debian 12 tree made by debootstrap (minbase, plus systemd
#     and man-db, the tools of the checks; whatever the packages need must come through their
#     Depends). The tree is made once and kept in .build-deb/debootstrap/base; each run works on a
#     fresh copy of it;
#  4. in the tree: users, conffiles, the meetmeter alternative, enabled units,
#     `systemd-analyze verify` of both units, `systemd-analyze security` (exposure 4.9 at most,
#     "OK" or better, printed), `man -l` of every installed page without a warning (and mandoc
#     -Tlint), `--check-config` of the shipped configuration as each service's user, a bad
#     configuration refused with 78;
#  5. runs both daemons in the tree as their users in a network namespace of their own, with a
#     notify socket and a watchdog as systemd gives them: READY=1, WATCHDOG=1, RELOADING=1 on
#     SIGHUP (agent), STOPPING=1 and exit 0 on SIGTERM, state written under /var/lib;
#  5b. boots a copy of the tree with systemd-nspawn: the units start at boot with their whole
#     sandbox, the agent reloads (a broken configuration is refused and it keeps running), both
#     stop with exit 0;
#  6. purges both (and what apt installed for them) and checks that nothing is left in the tree
#     but the two system users, which Debian leaves in place.
#
# Prints one line per check and "N passed, N failed"; exits 1 when a check failed. Needs root
# (debootstrap, chroot, namespaces, systemd-nspawn). --keep keeps the tree of this run in .build-deb/debootstrap/run.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

build=1
keep=0
for a in "$@"; do
    case $a in
        --no-build) build=0 ;;
        --keep) keep=1 ;;
        *) echo "usage: $0 [--no-build] [--keep]" >&2; exit 64 ;;
    esac
done
[[ $(id -u) -eq 0 ]] || { echo "test-package: needs root (debootstrap, chroot, namespaces)" >&2; exit 1; }

t0=$SECONDS
work=.build-deb/debootstrap
base=$work/base
run=$work/run
logs=$work/logs
mirror=${MEETMETER_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
includes=systemd,man-db
passed=0
failed=0
failures=()
timings=()

say() { printf 'test-package: %s\n' "$*" >&2; }
phase() { timings+=("$(printf '%-28s %4d s' "$1" $((SECONDS - ${phase_start:-$t0})))"); phase_start=$SECONDS; }

# check NAME COMMAND...: runs COMMAND, keeps its output in $logs, prints ok or FAIL (with the
# end of the output).
check() {
    local name=$1; shift
    local log="$logs/$(printf '%02d' $((passed + failed + 1)))-${name//[^A-Za-z0-9._-]/_}.log"
    if "$@" >"$log" 2>&1; then
        passed=$((passed + 1)); printf 'ok    %s\n' "$name"
    else
        failed=$((failed + 1)); failures+=("$name"); printf 'FAIL  %s\n' "$name"
        tail -n 40 "$log" | sed 's/^/      | /'
    fi
}

# in_tree [--net] COMMAND...: COMMAND chrooted into the run tree, in a mount namespace of its own
# (so /proc and the apt cache mounted for it vanish with it and never show on the host) and a PID
# namespace of its own (so every process it starts, daemons included, is killed when it ends, or
# when this script is killed); --net adds a network namespace with only lo.
in_tree() {
    local net=()
    if [[ ${1:-} == --net ]]; then net=(--net); shift; fi
    NET=${net[*]} unshare --mount --propagation private --pid --fork --kill-child "${net[@]}" -- bash -c '
        set -e
        root=$1; shift
        [[ -z $NET ]] || ip link set lo up
        mount -t proc proc "$root/proc"
        mount --bind /dev/pts "$root/dev/pts"
        mount --bind "$ARCHIVES" "$root/var/cache/apt/archives"
        exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
            HOME=/root TERM=dumb DEBIAN_FRONTEND=noninteractive "$@"
    ' in_tree "${tree:-$run}" "$@"
}
export ARCHIVES="$top/$work/archives"

# What runs in the background (notify listeners, the booted container) is stopped on any exit.
listeners=()
boot_pid=
stop_boot() {
    [[ -n $boot_pid ]] || return 0
    if kill -0 "$boot_pid" 2>/dev/null; then
        # systemd-nspawn turns SIGTERM into a poweroff of the container.
        kill -TERM "$boot_pid" 2>/dev/null || true
        for _ in $(seq 1 30); do kill -0 "$boot_pid" 2>/dev/null || break; sleep 1; done
        kill -KILL "$boot_pid" 2>/dev/null || true
    fi
    wait "$boot_pid" 2>/dev/null || true
    boot_pid=
}
trap 'stop_listeners; stop_boot' EXIT

# --- 1. build -----------------------------------------------------------------------------
if ((build)); then
    ./packaging/build-debs.sh
fi
shopt -s nullglob
debs=(packaging/out/meetmeter-agent_*.deb packaging/out/meetmeter-aggregator_*.deb)
shopt -u nullglob
((${#debs[@]} == 2)) || { say "want one meetmeter-agent and one meetmeter-aggregator .deb in packaging/out, found: ${debs[*]:-none}"; exit 1; }
phase "build"

# The tools of the checks (lintian, man-db, mandoc, debootstrap, systemd-nspawn...), which
# build-debs.sh installed already unless --no-build.
./scripts/install-deps.sh --package

rm -rf "$logs"
mkdir -p "$logs" "$ARCHIVES/partial"

# --- 2. lintian ---------------------------------------------------------------------------
check "lintian (no error, no warning)" lintian --info --display-info --fail-on error,warning "${debs[@]}"
phase "lintian"

# --- 3. a clean Debian 12 tree --------------------------------------------------------------
stamp="$suite minbase $includes $mirror"
if [[ ! -f $base/.meetmeter-base || $(cat "$base/.meetmeter-base") != "$stamp" ]]; then
    say "making a Debian $suite tree with debootstrap in $base (once; kept for the next runs)"
    rm -rf "$base"
    mkdir -p "$base"
    debootstrap --variant=minbase --include="$includes" "$suite" "$base" "$mirror" >"$logs/debootstrap.log" 2>&1 \
        || { tail -n 30 "$logs/debootstrap.log"; say "debootstrap failed"; exit 1; }
    cat >"$base/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb http://deb.debian.org/debian-security $suite-security main
EOF
    cp /etc/resolv.conf "$base/etc/resolv.conf"
    tree=$base in_tree apt-get update -qq >>"$logs/debootstrap.log" 2>&1 \
        || { tail -n 30 "$logs/debootstrap.log"; say "apt-get update in the tree failed"; exit 1; }
    rm -f "$base"/var/cache/apt/archives/*.deb
    echo "$stamp" >"$base/.meetmeter-base"
fi
if grep -q " $top/$run[/ ]" /proc/self/mounts; then say "something is mounted under $run; not touching it"; exit 1; fi
rm -rf "$run"
cp -a "$base" "$run"
cp /etc/resolv.conf "$run/etc/resolv.conf"
mkdir -p "$run/tmp/debs"
cp "${debs[@]}" "$run/tmp/debs/"
chmod 0755 "$run/tmp/debs"; chmod 0644 "$run"/tmp/debs/*.deb
phase "debootstrap tree"

# What the tree holds before the install, to compare after the purge. Left out: what apt and
# dpkg keep about themselves, logs, caches, and the scratch space of this test.
snapshot() {
    (cd "$run" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./run -o -path ./tmp \
        -o -path ./var/lib/dpkg -o -path ./var/lib/apt -o -path ./var/cache -o -path ./var/log \) -prune \
        -o -print | LC_ALL=C sort)
}
snapshot >"$logs/files-before"
cp "$run/etc/passwd" "$logs/passwd-before"; cp "$run/etc/group" "$logs/group-before"

# --- 4. install and look --------------------------------------------------------------------
install_debs() {
    local debs_in_tree=("/tmp/debs/${debs[0]##*/}" "/tmp/debs/${debs[1]##*/}")
    # The package lists of the cached tree may be older than the mirror: update once when needed.
    in_tree apt-get install -y --no-install-recommends "${debs_in_tree[@]}" >"$logs/install.txt" 2>&1 \
        || { in_tree apt-get update -qq && in_tree apt-get install -y --no-install-recommends "${debs_in_tree[@]}" >"$logs/install.txt" 2>&1; } \
        || { cat "$logs/install.txt"; return 1; }
    cat "$logs/install.txt"
}
check "apt install of both packages into the tree" install_debs
# dpkg and the maintainer scripts say nothing alarming.
check "the install said no warning and no error" bash -c "! grep -inE '^[EW]: |(^|[^a-z-])(warning|error)' '$logs/install.txt'"

installed() {
    for p in meetmeter-agent meetmeter-aggregator; do
        in_tree dpkg-query -W -f='${Package} ${Version} ${Status}\n' "$p" | grep -q 'install ok installed' || return 1
    done
    in_tree dpkg-query -W -f='${Package} ${Version} ${Depends}\n' meetmeter-agent meetmeter-aggregator
}
check "both packages installed; Depends (from dpkg-shlibdeps)" installed

system_users() {
    for u in meetmeter-agent meetmeter-aggregator; do
        local e; e=$(in_tree getent passwd "$u") || { echo "no user $u"; return 1; }
        echo "$e"
        IFS=: read -r _ _ uid gid _ home shell <<<"$e"
        ((uid < 1000)) || { echo "$u is not a system user"; return 1; }
        [[ $shell == /usr/sbin/nologin ]] || { echo "$u has a login shell"; return 1; }
        [[ $home == /var/lib/$u ]] || { echo "$u: home $home"; return 1; }
        in_tree getent group "$u" >/dev/null || { echo "no group $u"; return 1; }
    done
}
check "system users and groups made by postinst" system_users

conffiles() {
    local c; c=$(in_tree dpkg-query -W -f='${Conffiles}\n' meetmeter-agent meetmeter-aggregator)
    echo "$c"
    for f in agent.toml aggregator.toml billing.toml; do
        grep -q "^ /etc/meetmeter/$f " <<<"$c" || { echo "/etc/meetmeter/$f is not a conffile"; return 1; }
    done
}
check "configuration installed as conffiles" conffiles

dashboard() {
    in_tree test -s /usr/share/meetmeter/grafana-dashboard.json &&
        in_tree grep -q '"uid": "meetmeter"' /usr/share/meetmeter/grafana-dashboard.json
}
check "the Grafana dashboard in the aggregator's package" dashboard

alternative() {
    in_tree update-alternatives --display meetmeter
    local t; t=$(in_tree readlink -f /usr/bin/meetmeter)
    [[ $t == /usr/lib/meetmeter-agent/meetmeter || $t == /usr/lib/meetmeter-aggregator/meetmeter ]] || return 1
    local m; m=$(in_tree readlink -f /usr/share/man/man1/meetmeter.1.gz)
    [[ $m == "${t%/meetmeter}/meetmeter.1.gz" ]] || { echo "meetmeter.1.gz -> $m"; return 1; }
    in_tree meetmeter --help
}
check "meetmeter alternative and its page; meetmeter --help runs" alternative

enabled() {
    for u in meetmeter-agent meetmeter-aggregator; do
        [[ -L $run/etc/systemd/system/multi-user.target.wants/$u.service ]] || { echo "$u.service not enabled"; return 1; }
        [[ -f $run/lib/systemd/system/$u.service ]] || { echo "no /lib/systemd/system/$u.service"; return 1; }
    done
}
check "units installed and enabled" enabled

verify_units() {
    local out
    out=$(in_tree systemd-analyze verify /lib/systemd/system/meetmeter-agent.service /lib/systemd/system/meetmeter-aggregator.service 2>&1) || { echo "$out"; return 1; }
    echo "$out"
    [[ -z $out ]]
}
check "systemd-analyze verify of both units: clean" verify_units

security() {
    local rc=0
    for u in meetmeter-agent meetmeter-aggregator; do
        in_tree systemd-analyze security --offline=yes --threshold=49 --no-pager "/lib/systemd/system/$u.service" >"$logs/security-$u.txt" 2>&1 || rc=1
        grep -F '✗' "$logs/security-$u.txt" || true
        grep 'Overall exposure' "$logs/security-$u.txt"
    done
    return $rc
}
check "systemd-analyze security: exposure 4.9 at most" security

manpages() {
    local pages rc=0
    pages=$(in_tree dpkg-query -L meetmeter-agent meetmeter-aggregator | grep -E '^/usr/share/man/.*\.gz$|/meetmeter\.1\.gz$' | LC_ALL=C sort -u)
    [[ -n $pages ]] || return 1
    for p in $pages; do
        # As lintian reads them: warnings on, UTF-8, 80 columns.
        local err
        err=$(in_tree env MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$p" 2>&1 >/dev/null) || { echo "$p: man failed"; rc=1; }
        if [[ -n $err ]]; then echo "$p:"; echo "$err"; rc=1; else echo "$p: clean"; fi
        if command -v mandoc >/dev/null; then
            mandoc -Tlint -Wwarning "$run$p" || rc=1
        fi
    done
    return $rc
}
check "man -l of every installed page: no warning (and mandoc -Tlint)" manpages

check_config() {
    in_tree setpriv --reuid=meetmeter-agent --regid=meetmeter-agent --init-groups \
        /usr/sbin/meetmeter-agent --config /etc/meetmeter/agent.toml --check-config || return 1
    in_tree setpriv --reuid=meetmeter-aggregator --regid=meetmeter-aggregator --init-groups \
        /usr/sbin/meetmeter-aggregator --config /etc/meetmeter/aggregator.toml --check-config || return 1
    in_tree meetmeter check-config /etc/meetmeter/agent.toml /etc/meetmeter/aggregator.toml /etc/meetmeter/billing.toml
}
check "--check-config of the shipped configuration" check_config

bad_config() {
    printf '[aggregator]\naddress = 7800\n' >"$run/tmp/agent.toml"
    chmod 0644 "$run/tmp/agent.toml"
    local rc=0 out
    out=$(in_tree setpriv --reuid=meetmeter-agent --regid=meetmeter-agent --init-groups \
        /usr/sbin/meetmeter-agent --config /tmp/agent.toml --check-config 2>&1) || rc=$?
    echo "exit $rc: $out"
    ((rc == 78)) && grep -q '/tmp/agent.toml:2' <<<"$out"
}
check "--check-config refuses a bad file with 78 and file:line" bad_config
phase "install and checks"

# --- 5. the daemons as systemd runs them ----------------------------------------------------
# A notify socket per daemon, read on the host; the daemons run chrooted, as their users, with
# NOTIFY_SOCKET and WATCHDOG_USEC (2 s: a ping a second), in a network namespace of their own.
notify_listener() {
    python3 -c '
import socket, sys, os, time
path, log = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path); os.chmod(path, 0o777)
with open(log, "a", buffering=1) as f:
    while True:
        data = s.recv(4096).decode(errors="replace")
        f.write("%.3f %s\n" % (time.monotonic(), data.replace("\n", " ")))
' "$1" "$2" &
    listeners+=($!)
}
stop_listeners() { for p in "${listeners[@]}"; do kill "$p" 2>/dev/null || true; done; listeners=(); }
for d in agent aggregator; do
    rm -f "$run/run/notify-$d.sock" "$logs/notify-$d.txt"; : >"$logs/notify-$d.txt"
    notify_listener "$run/run/notify-$d.sock" "$logs/notify-$d.txt"
done
sleep 1

cat >"$run/tmp/daemons.sh" <<'EOF'
#!/bin/bash
# Runs inside the tree: StateDirectory= as systemd would make it, then both daemons.
set -u
for d in agent aggregator; do
    install -d -m 0700 -o meetmeter-$d -g meetmeter-$d /var/lib/meetmeter-$d
done
groups=adm; getent group systemd-journal >/dev/null && groups=systemd-journal,adm
env NOTIFY_SOCKET=/run/notify-aggregator.sock WATCHDOG_USEC=2000000 \
    setpriv --reuid=meetmeter-aggregator --regid=meetmeter-aggregator --clear-groups \
    /usr/sbin/meetmeter-aggregator --config /etc/meetmeter/aggregator.toml >/tmp/aggregator.log 2>&1 &
aggregator=$!
sleep 3
env NOTIFY_SOCKET=/run/notify-agent.sock WATCHDOG_USEC=2000000 \
    setpriv --reuid=meetmeter-agent --regid=meetmeter-agent --groups="$groups" \
    /usr/sbin/meetmeter-agent --config /etc/meetmeter/agent.toml >/tmp/agent.log 2>&1 &
agent=$!
sleep 5
kill -HUP $agent
sleep 4
kill -TERM $agent $aggregator
status=0
for p in agent aggregator; do
    pid=${!p}
    for i in $(seq 1 30); do kill -0 $pid 2>/dev/null || break; sleep 1; done
    if kill -0 $pid 2>/dev/null; then echo "$p: still running 30 s after SIGTERM"; kill -KILL $pid; status=1; fi
    wait $pid; rc=$?
    echo "$p: exit $rc"; ((rc == 0)) || status=1
    echo "--- $p's output:"; cat /tmp/$p.log
done
echo "--- state:"; find /var/lib/meetmeter-agent /var/lib/meetmeter-aggregator -printf '%M %u %p\n'
exit $status
EOF
chmod 0755 "$run/tmp/daemons.sh"
check "both daemons start, reload (agent) and stop with exit 0 as their users" in_tree --net /tmp/daemons.sh
sleep 1
stop_listeners

notified() {
    local d=$1; shift
    echo "--- notify-$d:"; cat "$logs/notify-$d.txt"
    for want in "$@"; do
        grep -q "$want" "$logs/notify-$d.txt" || { echo "$d never sent $want"; return 1; }
    done
}
check "aggregator: sd_notify READY=1, WATCHDOG=1, STOPPING=1" notified aggregator READY=1 WATCHDOG=1 STOPPING=1
check "agent: sd_notify READY=1, WATCHDOG=1, RELOADING=1, STOPPING=1" notified agent READY=1 WATCHDOG=1 RELOADING=1 STOPPING=1
state_written() {
    in_tree find /var/lib/meetmeter-aggregator /var/lib/meetmeter-agent -printf '%M %u %p\n'
    [[ -f $run/var/lib/meetmeter-aggregator/meetmeter.sqlite ]] && [[ -n $(ls -A "$run/var/lib/meetmeter-agent") ]]
}
check "state written under /var/lib (store, spool)" state_written
phase "daemons"

# --- 5b. the units under systemd ------------------------------------------------------------
# A copy of the tree, packages installed, booted with systemd-nspawn (systemd as PID 1, a network
# of its own): the units start at boot with their whole sandbox, the agent reloads (and refuses a
# broken configuration without stopping), both stop with success. The copy is thrown away, so
# what the boot writes (journal, timers) never reaches the purge check.
boot=$work/boot
if grep -q " $top/$boot[/ ]" /proc/self/mounts; then say "something is mounted under $boot; not touching it"; exit 1; fi
rm -rf "$boot"
cp -a "$run" "$boot"
boot_init=
in_boot() {
    nsenter -t "$boot_init" -a /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
        SYSTEMD_PAGER=cat SYSTEMD_COLORS=0 "$@"
}
booted() {
    command -v systemd-nspawn >/dev/null || { echo "no systemd-nspawn (systemd-container)"; return 1; }
    systemd-nspawn -q -D "$boot" --boot --register=no --keep-unit --private-network \
        --machine=meetmeter-test </dev/null >"$logs/boot-console.txt" 2>&1 &
    boot_pid=$!
    for _ in $(seq 1 50); do
        boot_init=$(pgrep -P "$boot_pid" | head -n 1) || true
        [[ -n $boot_init ]] && break
        sleep 0.2
    done
    [[ -n $boot_init ]] || { echo "the container did not start"; cat "$logs/boot-console.txt"; return 1; }
    # The manager's bus comes up a moment after PID 1 starts: ask again until it answers.
    local state=""
    for _ in $(seq 1 90); do
        state=$(timeout 90 nsenter -t "$boot_init" -a systemctl is-system-running --wait 2>&1) || true
        [[ $state == *"Failed to connect to bus"* ]] || break
        sleep 1
    done
    echo "system: $state"
    [[ $state == running || $state == degraded ]] || { tail -n 30 "$logs/boot-console.txt"; return 1; }
    in_boot systemctl --no-pager --failed
}
check "systemd boots the tree (systemd-nspawn)" booted

units_up() {
    local rc=0
    for u in meetmeter-aggregator meetmeter-agent; do
        # Type=notify: active only once the daemon said READY=1.
        for _ in $(seq 1 30); do in_boot systemctl -q is-active $u && break; sleep 1; done
        in_boot systemctl --no-pager status $u || true
        in_boot systemctl -q is-active $u || { echo "$u is not active"; rc=1; }
        in_boot systemctl show -p NRestarts -p StatusText $u
    done
    return $rc
}
check "both units started at boot with their sandbox, READY=1 (active)" units_up

reload_agent() {
    local pid; pid=$(in_boot systemctl show -p MainPID --value meetmeter-agent)
    in_boot systemctl reload meetmeter-agent || { echo "reload failed"; return 1; }
    # The journal has the agent's line once journald has taken it in: wait for it a while.
    local heard=0
    for _ in $(seq 1 30); do
        if in_boot journalctl --no-pager -u meetmeter-agent | grep -q 'SIGHUP: reading the configuration again'; then heard=1; break; fi
        sleep 1
    done
    ((heard)) || { in_boot journalctl --no-pager -u meetmeter-agent | tail -n 20; echo "the agent never heard SIGHUP"; return 1; }
    # A broken configuration: the reload fails on --check-config, the agent keeps running.
    cp "$boot/etc/meetmeter/agent.toml" "$boot/etc/meetmeter/agent.toml.good"
    printf '[aggregator]\naddress = 7800\n' >>"$boot/etc/meetmeter/agent.toml"
    local rc=0
    in_boot systemctl reload meetmeter-agent && { echo "a broken configuration was reloaded"; rc=1; }
    mv "$boot/etc/meetmeter/agent.toml.good" "$boot/etc/meetmeter/agent.toml"
    in_boot systemctl -q is-active meetmeter-agent || { echo "the agent stopped"; return 1; }
    [[ $(in_boot systemctl show -p MainPID --value meetmeter-agent) == "$pid" ]] || { echo "the agent was restarted"; return 1; }
    return $rc
}
check "systemctl reload of the agent: SIGHUP; a broken file refused, the agent still running" reload_agent

units_stop() {
    local rc=0
    in_boot systemctl stop meetmeter-agent meetmeter-aggregator || rc=1
    for u in meetmeter-agent meetmeter-aggregator; do
        local r; r=$(in_boot systemctl show -p Result -p ExecMainCode -p ExecMainStatus $u | tr '\n' ' ')
        echo "$u: $r"
        # Exited (code 1) with status 0 on SIGTERM: not killed, not by seccomp, not by the watchdog.
        [[ $r == *Result=success* && $r == *ExecMainCode=1* && $r == *ExecMainStatus=0* ]] || rc=1
    done
    in_boot journalctl --no-pager -b -u meetmeter-agent -u meetmeter-aggregator >"$logs/boot-journal.txt"
    if grep -iE 'watchdog timeout|core-dump|code=killed|code=dumped|status=(31|SYS)' "$logs/boot-journal.txt"; then rc=1; fi
    return $rc
}
check "systemctl stop of both: exit 0 (no seccomp kill, no watchdog)" units_stop
stop_boot
if grep -q " $top/$boot[/ ]" /proc/self/mounts; then say "something is mounted under $boot; left in place"
else rm -rf "$boot"; fi
phase "under systemd (nspawn)"

# --- 6. upgrade, remove, purge ---------------------------------------------------------------
# The same packages again, as an upgrade: the maintainer scripts run with their upgrade arguments.
reinstall() {
    in_tree dpkg -i "/tmp/debs/${debs[0]##*/}" "/tmp/debs/${debs[1]##*/}" || return 1
    in_tree update-alternatives --query meetmeter | grep -c '^Alternative:' | grep -qx 2 \
        || { echo "the meetmeter alternative lost a member"; return 1; }
    in_tree getent passwd meetmeter-agent meetmeter-aggregator
}
check "reinstall over itself (the upgrade path of the maintainer scripts)" reinstall

# A remove keeps the configuration and the state; only a purge takes them.
echo '# changed by the operator' >>"$run/etc/meetmeter/agent.toml"
remove() {
    in_tree apt-get remove -y meetmeter-agent meetmeter-aggregator || return 1
    for f in /etc/meetmeter/agent.toml /etc/meetmeter/aggregator.toml /etc/meetmeter/billing.toml \
        /var/lib/meetmeter-aggregator/meetmeter.sqlite /var/lib/meetmeter-agent/spool; do
        [[ -e $run$f ]] || { echo "$f is gone after a remove"; return 1; }
    done
    grep -q '^# changed by the operator' "$run/etc/meetmeter/agent.toml"
    [[ ! -e $run/usr/bin/meetmeter && ! -e $run/usr/sbin/meetmeter-agent ]] || { echo "programs left after a remove"; return 1; }
    [[ ! -e $run/etc/systemd/system/multi-user.target.wants/meetmeter-agent.service ]] || { echo "unit still enabled"; return 1; }
}
check "remove keeps the configuration (changed) and the state" remove

purge() {
    in_tree apt-get purge -y meetmeter-agent meetmeter-aggregator && in_tree apt-get autoremove --purge -y
}
check "purge of both, and autoremove of what they pulled in" purge

leftovers() {
    snapshot >"$logs/files-after"
    local d; d=$(diff "$logs/files-before" "$logs/files-after" | grep '^[<>]' \
        | grep -vE '^> \./etc/(passwd|group|shadow|gshadow)-$' || true)
    [[ -z $d ]] || { echo "files that differ after the purge (< gone, > new):"; echo "$d"; return 1; }
    local owned; owned=$(in_tree find / -xdev \( -path /proc -o -path /dev -o -path /sys \) -prune -o \
        \( -user meetmeter-agent -o -user meetmeter-aggregator -o -group meetmeter-agent -o -group meetmeter-aggregator \) -print) \
        || { echo "cannot look for files of the service users"; return 1; }
    [[ -z $owned ]] || { echo "still owned by the service users:"; echo "$owned"; return 1; }
    in_tree update-alternatives --query meetmeter >/dev/null 2>&1 && { echo "the meetmeter alternative is still registered"; return 1; }
    [[ ! -e $run/var/lib/dpkg/alternatives/meetmeter ]] || return 1
    ls "$run/var/lib/systemd/deb-systemd-helper-enabled" 2>/dev/null | grep meetmeter && return 1
    echo "users and groups that stay (Debian keeps system users after a purge):"
    diff "$logs/passwd-before" "$run/etc/passwd" | grep '^>' || true
    diff "$logs/group-before" "$run/etc/group" | grep '^>' || true
    # Nothing else changed in passwd and group.
    [[ -z $(diff "$logs/passwd-before" "$run/etc/passwd" | grep '^[<>]' | grep -v '^> meetmeter-') ]] || return 1
    [[ -z $(diff "$logs/group-before" "$run/etc/group" | grep '^[<>]' | grep -v '^> meetmeter-') ]] || return 1
}
check "nothing left after the purge but the two system users" leftovers
phase "upgrade, remove, purge"

if ((keep == 0)); then
    if grep -q " $top/$run[/ ]" /proc/self/mounts; then say "something is mounted under $run; left in place"
    else rm -rf "$run"; fi
fi

echo
echo "meetmeter packages: $(printf '%s ' "${debs[@]##*/}")"
for f in "$logs"/security-*.txt; do grep -h 'Overall exposure' "$f" || true; done
for l in "${timings[@]}"; do echo "  $l"; done
echo "  total                        $(printf '%4d' $((SECONDS - t0))) s"
echo "logs: $logs/"
((failed == 0)) || printf 'failed: %s\n' "${failures[@]}"
echo "$passed passed, $failed failed"
((failed == 0))
