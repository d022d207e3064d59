#!/usr/bin/env bash
# The dependency rule of docs/ARCHITECTURE.md: a libcore folder includes only
# folders of lower layers, or of its own layer without a cycle, apart from the
# exceptions listed there; and each listed exception is still needed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DOC=$ROOT/docs/ARCHITECTURE.md
block() { awk -v tag="$1" '$0 == "```" tag { on = 1; next } on && /^```/ { exit } on' "$DOC"; }

declare -A layer
while read -r n folders; do
    for f in $folders; do layer[$f]=$n; done
done < <(block layers)
[ ${#layer[@]} -gt 0 ] || { echo "no layers block in $DOC"; exit 1; }
declare -A allowed
while read -r from to _; do
    [ -n "$from" ] && allowed["$from $to"]=1
done < <(block layer-exceptions)

# Edges "from to", one per folder pair, from the #include lines.
edges=$(cd "$ROOT/libcore" && grep -HoE '^#include "[a-z_]+[/.]' -- */*.cpp */*.hpp ./*.cpp ./*.hpp |
    sed -E 's|^\./||; s|^([a-z_]+)[/.][^:]*:#include "([a-z_]+)[/.]$|\1 \2|' | awk '$1 != $2' | sort -u)
[ -n "$edges" ] || { echo "no includes found: the check would pass on nothing"; exit 1; }

fail=0
declare -A used
while read -r from to; do
    for f in "$from" "$to"; do
        [ -n "${layer[$f]:-}" ] || { echo "libcore/$f is in no layer of $DOC"; fail=1; }
    done
    [ -n "${layer[$from]:-}" ] && [ -n "${layer[$to]:-}" ] || continue
    if [ "${layer[$to]}" -gt "${layer[$from]}" ]; then
        if [ -n "${allowed["$from $to"]:-}" ]; then
            used["$from $to"]=1
        else
            echo "libcore/$from (layer ${layer[$from]}) includes libcore/$to (layer ${layer[$to]}):"
            grep -nE "^#include \"$to[/.]" "$ROOT/libcore/$from"/* | sed 's/^/    /'
            fail=1
        fi
    fi
done <<<"$edges"
for e in "${!allowed[@]}"; do
    [ -n "${used[$e]:-}" ] || { echo "exception '$e' is no longer needed: remove it from $DOC"; fail=1; }
done
# Folders of one layer may use each other, but not in a cycle.
if ! cycle=$(tsort <<<"$edges" 2>&1 >/dev/null); then
    echo "a cycle between libcore folders:"; echo "$cycle"; fail=1
fi
[ $fail -eq 0 ] && echo "layers: $(wc -l <<<"$edges") folder dependencies, all downward"
exit $fail
