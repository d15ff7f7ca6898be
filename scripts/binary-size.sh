#!/bin/sh
# What a release binary is made of: its symbols' sizes summed by the module they belong to
# (nm -S), and which of its modules' objects ask the linker for Foundation (their
# .swift1_autolink_entries). The figures behind the README's "Their size".
#
#   scripts/binary-size.sh [BINARY [OBJECTS_DIR]]
#   default: .build-deb/x86_64-unknown-linux-gnu/release/meetmeter-agent and its folder
set -eu
binary=${1:-.build-deb/x86_64-unknown-linux-gnu/release/meetmeter-agent}
objects=${2:-$(dirname "$binary")}
[ -x "$binary" ] || { echo "binary-size.sh: $binary is not built (./packaging/build-debs.sh builds it)" >&2; exit 1; }
echo "$binary: $(stat -c %s "$binary") bytes"
nm -S --size-sort "$binary" 2>/dev/null | python3 -c '
import collections, re, sys
rules = [
    ("ICU data", r"icudt"),
    ("ICU code", r"^(_ZN6icu_|_ZNK6icu_|.*_76$)"),
    ("FoundationInternationalization", r"^\$s30FoundationInternationalization"),
    ("FoundationEssentials", r"^\$s20FoundationEssentials"),
    ("Foundation", r"^\$s10Foundation"),
    ("TOMLKit and toml++", r"^_ZN4toml|^_ZNK4toml|^\$s7TOMLKit"),
    ("NIO", r"^\$s[0-9]+NIO|^\$s6NIOSSL"),
    ("BoringSSL", r"CNIOBoringSSL|ecp_nistz"),
    ("Swift runtime and stdlib", r"^\$ss|^swift_|^_swift|^\$sS|_swift_stdlib|^_ZN5swift|^_ZNK5swift"),
    ("meetmeter", r"^\$s[0-9]+(Collector|Delivery|UsageRecords|LogSources|LogParsers|LogLines|ConfigFiles|HostSampling|SystemCalls|Observability|SystemdIntegration|TransportSecurity|meetmeter)"),
]
sizes = collections.Counter()
for line in sys.stdin:
    parts = line.split()
    if len(parts) < 4:
        continue
    size, name = int(parts[1], 16), parts[3]
    sizes[next((module for module, pattern in rules if re.search(pattern, name)), "other")] += size
for module, size in sizes.most_common():
    print(f"  {module:34s} {size / 1e6:7.1f} MB")
total = "all symbols"
print(f"  {total:34s} {sum(sizes.values()) / 1e6:7.1f} MB")
'
echo "modules whose objects ask for Foundation (autolink):"
for dir in "$objects"/*.build; do
    [ -d "$dir" ] || continue
    wanted=$(for o in "$dir"/*.o; do readelf -p .swift1_autolink_entries "$o" 2>/dev/null; done \
        | grep -o -- '-l[A-Za-z_]*Foundation[A-Za-z_]*' | sort -u | tr '\n' ' ')
    [ -n "$wanted" ] && echo "  $(basename "$dir" .build): $wanted"
done
exit 0
