#!/bin/sh
# Prints which of the project's modules each module imports, from the `import` lines of its
# sources (not from Package.swift's declarations, which may say more than the code uses).
# With --dot, prints a Graphviz graph instead: scripts/import-graph.sh --dot | dot -Tsvg > g.svg
set -eu
cd "$(dirname "$0")/../Sources"
modules=$(ls -d */ | tr -d / | sort)
is_module() { echo "$modules" | grep -qx "$1"; }
[ "${1:-}" = "--dot" ] && echo "digraph imports {" && echo "  rankdir=LR;"
for m in $modules; do
    imports=$(grep -rhoE '^(@testable )?(@_implementationOnly )?import [A-Za-z_]+' "$m" --include='*.swift' 2>/dev/null \
        | awk '{print $NF}' | sort -u | while read -r i; do is_module "$i" && [ "$i" != "$m" ] && echo "$i"; done | tr '\n' ' ')
    if [ "${1:-}" = "--dot" ]; then
        for i in $imports; do echo "  \"$m\" -> \"$i\";"; done
    else
        printf '%-22s %s\n' "$m" "${imports:-(none)}"
    fi
done
[ "${1:-}" = "--dot" ] && echo "}"
exit 0
