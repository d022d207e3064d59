#!/usr/bin/env bash
# completions/ and man/ must name every subcommand and option the CLI has.
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
spec=$("$MODELCTL" __spec)
files=("$ROOT/completions/modelctl.bash" "$ROOT/completions/_modelctl" "$ROOT/completions/modelctl.fish" "$ROOT/man/modelctl.1")
for f in "${files[@]}"; do
    RC=0 OUT= ERR=
    missing=()
    # fish and man spell options differently: fish as "-l name", man with \- escapes.
    text=$(sed -e 's/\\-/-/g' "$f")
    for sub in $(jq -r '.subcommands | keys[]' <<<"$spec"); do
        grep -qw -- "$sub" <<<"$text" || missing+=("subcommand $sub")
    done
    for opt in $(jq -r '.global[], (.subcommands[] | .[])' <<<"$spec" | sort -u); do
        [ "$opt" = "--help" ] || [ "$opt" = "-h" ] && continue
        if [[ "$f" == *.fish ]]; then
            if [[ "$opt" == --* ]]; then pat="-l ${opt#--}"; else pat="-s ${opt#-}"; fi
        else
            pat="$opt"
        fi
        grep -qF -- "$pat" <<<"$text" || missing+=("option $opt")
    done
    ERR="missing: ${missing[*]:-}"
    check "$(basename "$f") covers every subcommand and option" eval '[ ${#missing[@]} -eq 0 ]'
done
finish
