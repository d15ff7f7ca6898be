#!/usr/bin/env bash
# Builds the libFuzzer targets (Fuzz/, with -sanitize=fuzzer,address) and runs each for a set
# number of inputs, one target at a time.
#
#   scripts/fuzz.sh [--runs N] [--build-only] [--list] [TARGET...]
#
# N defaults to 1,000,000 inputs a target; no TARGET runs them all. The seed corpus is built at
# run time from Fuzz/corpus/ (committed, small) and, when present, the real excerpts in
# $MEETMETER_LOG_EXCERPTS (default /work/shared/data/logs) and samples/, into .build-fuzz/corpus/
# (libFuzzer adds what it finds there too). A crash, a sanitizer report or a broken property
# keeps its input in .build-fuzz/crashes/TARGET/ and makes the script exit non-zero.
# MEETMETER_FUZZ_SCRATCH names another folder than .build-fuzz (two runs side by side).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scratch="${MEETMETER_FUZZ_SCRATCH:-$root/.build-fuzz}"
runs=1000000
build_only=0
list_only=0
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs="$2"; shift 2 ;;
        --runs=*) runs="${1#--runs=}"; shift ;;
        --build-only) build_only=1; shift ;;
        --list) list_only=1; shift ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done

# libFuzzer without its main: the driver (Fuzz/Sources/meetmeter-fuzz/main.swift) has one.
swiftc_path=$(readlink -f "$(command -v swiftc)")
fuzzer_lib=$(ls "$(dirname "$swiftc_path")"/../lib/swift/clang/lib/linux/libclang_rt.fuzzer_no_main-*.a 2>/dev/null | head -1 || true)
if [ -z "$fuzzer_lib" ]; then
    echo "fuzz.sh: this toolchain has no libclang_rt.fuzzer_no_main (looked next to $swiftc_path)" >&2
    exit 1
fi

started=$(date +%s)
build_log="$scratch/build.log"
mkdir -p "$scratch"
if ! swift build --package-path Fuzz --scratch-path "$scratch" -c release --product meetmeter-fuzz \
    -Xlinker "$fuzzer_lib" > "$build_log" 2>&1; then
    grep -v 'warning: Cannot export local symbol' "$build_log" | tail -40 >&2
    echo "fuzz.sh: the build failed (log: $build_log)" >&2
    exit 1
fi
bin="$scratch/release/meetmeter-fuzz"
echo "build: $(( $(date +%s) - started )) s"
[ "$build_only" = 1 ] && exit 0
all=$("$bin" --list)
[ "$list_only" = 1 ] && { echo "$all"; exit 0; }
[ ${#targets[@]} -eq 0 ] && read -r -a targets <<< "$all"

# Longest input each target gets: a few lines for the line targets, more for the streams.
max_len() {
    case "$1" in
        line-frame|stream-lines) echo 65536 ;;
        config) echo 8192 ;;
        *) echo 4096 ;;
    esac
}

# Seeds: whole excerpts for the stream targets, single lines for the line targets, both for
# the parsers (state across lines matters there).
excerpts="${MEETMETER_LOG_EXCERPTS:-/work/shared/data/logs}"
seed() {
    local target="$1" dir="$scratch/corpus/$1" n=0
    mkdir -p "$dir"
    if [ -d "Fuzz/corpus/$target" ]; then cp -f Fuzz/corpus/"$target"/* "$dir"/ 2>/dev/null || true; fi
    local sources=()
    [ -d "$excerpts" ] && sources+=("$excerpts")
    sources+=("samples")
    case "$target" in
        bbb|bbb-prefilter|jitsi|auto|rules|line-frame|stream-lines|timestamp)
            for f in $(find "${sources[@]}" -type f \( -name '*.log' -o -name '*.jsonl' \) | sort); do
                local base
                base=$(basename "$f")
                case "$target" in
                    line-frame) { printf '\377\020'; cat "$f"; } > "$dir/file-$base" ;;
                    stream-lines) { printf '\377'; cat "$f"; } > "$dir/file-$base" ;;
                    timestamp) ;;
                    auto) { printf '\000'; head -c 4000 "$f"; } > "$dir/file-$base" ;;
                    *) head -c 4000 "$f" > "$dir/file-$base" ;;
                esac
                # One file a line, short lines only (the 4 KiB limit).
                if [ "$target" != line-frame ] && [ "$target" != stream-lines ]; then
                    n=0
                    while IFS= read -r line && [ $n -lt 40 ]; do
                        n=$((n + 1))
                        [ ${#line} -gt 4000 ] && continue
                        if [ "$target" = timestamp ]; then
                            printf '%s' "${line:0:60}" > "$dir/line-$base-$n"
                        elif [ "$target" = auto ]; then
                            printf '\000%s' "$line" > "$dir/line-$base-$n"
                        else
                            printf '%s' "$line" > "$dir/line-$base-$n"
                        fi
                    done < "$f"
                fi
            done ;;
        config)
            for f in etc/meetmeter/*.toml; do cp -f "$f" "$dir/"; done ;;
    esac
}

status=0
printf '%-14s %12s %10s %8s %s\n' target inputs execs/s crashes note
for target in "${targets[@]}"; do
    seed "$target"
    crashes="$scratch/crashes/$target"
    mkdir -p "$crashes"
    log="$scratch/logs/$target.log"
    mkdir -p "$(dirname "$log")"
    rc=0
    # Swift's backtracer would spend a minute on each crash libFuzzer is about to report itself.
    SWIFT_BACKTRACE=enable=no ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}" \
        "$bin" "$target" -runs="$runs" -max_len="$(max_len "$target")" -timeout=30 -rss_limit_mb=4096 \
        -print_final_stats=1 -artifact_prefix="$crashes/" "$scratch/corpus/$target" > "$log" 2>&1 || rc=$?
    inputs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    note=""
    if [ "$rc" != 0 ]; then
        status=1
        note="FAILED (exit $rc): $(grep -m1 -e 'fuzz property violated' -e 'ERROR: AddressSanitizer' -e 'Fatal error' -e 'deadly signal' "$log" || true); inputs in $crashes, log $log"
    fi
    printf '%-14s %12s %10s %8s %s\n' "$target" "${inputs:-?}" "${speed:-?}" "$([ "$rc" = 0 ] && echo 0 || echo 1)" "$note"
done
exit $status
