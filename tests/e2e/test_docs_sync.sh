#!/usr/bin/env bash
# completions/ and man/ must cover every subcommand and option the CLI has,
# each option in its own subcommand's part of the file (not merely somewhere).
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
spec=$("$MODELCTL" __spec)

# listed KIND FILE SUB: whether the file's list of subcommands names SUB.
listed() {
    case $1 in
        bash) grep -E '^ *local subcommands="' "$2" | grep -qw -- "$3" ;;
        zsh) grep -qE "^ +'$3:" "$2" ;;
        fish) grep -qE -- "^complete -c modelctl -n \"not __fish_seen_subcommand_from [^\"]*\" -a $3 " "$2" ;;
        man) section man "$2" "$3" | grep -q . ;;
    esac
}

# section KIND FILE SUB: the part of the file for SUB.
section() {
    case $1 in
        bash) # the arms of `case "$sub" in` whose patterns name SUB
            awk -v s="$3" '
                /case "\$sub" in/ { on = 1; next }
                on && /^        [^ ].*\)/ {
                    pat = $0; sub(/\).*/, "", pat); n = split(pat, w, /[ |]+/); cur = 0
                    for (i = 1; i <= n; i++) if (w[i] == s) cur = 1
                }
                on && cur { print }' "$2" ;;
        zsh) # the arms of `case $line[1] in`
            awk -v s="$3" '
                /case \$line\[1\] in/ { on = 1; next }
                on && /^                [a-z|]+\)/ {
                    pat = $0; sub(/^ +/, "", pat); sub(/\).*/, "", pat); n = split(pat, w, /\|/); cur = 0
                    for (i = 1; i <= n; i++) if (w[i] == s) cur = 1
                }
                on && cur { print }' "$2" ;;
        fish) # lines for SUB
            awk -v s="$3" '
                /__fish_seen_subcommand_from [a-z ]+"/ && !/not __fish_seen/ {
                    list = $0; sub(/.*__fish_seen_subcommand_from /, "", list); sub(/".*/, "", list)
                    n = split(list, w, / +/)
                    for (i = 1; i <= n; i++) if (w[i] == s) { print; break }
                }' "$2" ;;
        man) # entries of SUBCOMMANDS whose .B line names SUB
            sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$2" | awk -v s="$3" '
                /^\.SH/ { on = ($0 ~ /^\.SH SUBCOMMANDS/); cur = 0; next }
                on && /^\.TP/ { hdr = 1; next }
                on && hdr {
                    hdr = 0; line = $0; sub(/^\.B /, "", line)
                    n = split(line, w, /[ ,.|\[\]]+/); cur = 0
                    for (i = 1; i <= n; i++) if (w[i] == s) cur = 1
                }
                on && cur { print }' ;;
    esac
}

# mentions KIND TEXT OPTION: whether TEXT names the option, as that file spells it.
mentions() {
    local opt=$3
    if [ "$1" = fish ]; then
        if [[ "$opt" == --* ]]; then grep -qE -- "-l ${opt#--}( |$)" <<<"$2"; else grep -qE -- "-s ${opt#-}( |$)" <<<"$2"; fi
    else
        grep -qE -- "(^|[^-[:alnum:]])${opt}([^-[:alnum:]]|$)" <<<"$2"
    fi
}

declare -A kinds=([modelctl.bash]=bash [_modelctl]=zsh [modelctl.fish]=fish [modelctl.1]=man)
for f in "$ROOT/completions/modelctl.bash" "$ROOT/completions/_modelctl" "$ROOT/completions/modelctl.fish" "$ROOT/man/modelctl.1"; do
    kind=${kinds[$(basename "$f")]}
    RC=0 OUT=
    missing=()
    whole=$(sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$f")
    for opt in $(jq -r '.global[]' <<<"$spec"); do
        [ "$opt" = "--help" ] || [ "$opt" = "-h" ] && continue
        mentions "$kind" "$whole" "$opt" || missing+=("global $opt")
    done
    for sub in $(jq -r '.subcommands | keys[]' <<<"$spec"); do
        listed "$kind" "$f" "$sub" || { missing+=("subcommand $sub"); continue; }
        text=$(section "$kind" "$f" "$sub")
        for opt in $(jq -r --arg s "$sub" '.subcommands[$s][]' <<<"$spec"); do
            [ "$opt" = "--help" ] || [ "$opt" = "-h" ] && continue
            mentions "$kind" "$text" "$opt" || missing+=("$sub $opt")
        done
    done
    ERR="missing: ${missing[*]:-}"
    check "$(basename "$f") covers every subcommand and its options" eval '[ ${#missing[@]} -eq 0 ]'
done

# The README's usage block and the man page's SYNOPSIS: every subcommand (and
# alias) has an entry, naming each of its long options; the first entry
# names the global ones. An entry starts "modelctl NAME" (NAME may be
# "status|ps"), and goes on over the indented lines below it.
# usage_entries KIND FILE: one line per entry, "NAMES<TAB>TEXT" ("-" for the global one).
usage_entries() {
    case $1 in
        readme) awk '/^## Usage/ { on = 1; next } on && /^```/ { if (inblock) exit; inblock = 1; next }
                     inblock { print }' "$2" ;;
        synopsis) sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$2" |
                  awk '/^\.SH SYNOPSIS/ { on = 1; next } on && /^\.SH/ { on = 0 }
                       on { sub(/^\.(B|I|br|PP)( |$)/, ""); print }' ;; # reads to the end:
                  # an awk that exits early could leave sed writing into a closed pipe
                  # (SIGPIPE, status 141 under pipefail: the test would stop there)
    esac | awk '
        /^modelctl( |$)/ {
            if (name != "") print name "\t" text
            split($0, w, / +/); name = (w[2] ~ /^[a-z]/) ? w[2] : "-"; text = $0; next }
        name != "" { text = text " " $0 }
        END { if (name != "") print name "\t" text }'
}
for kind in readme synopsis; do
    file=$ROOT/README.md
    [ $kind = synopsis ] && file=$ROOT/man/modelctl.1
    entries=$(usage_entries $kind "$file")
    missing=()
    global=$(awk -F '\t' '$1 == "-"' <<<"$entries")
    for opt in $(jq -r '.global[] | select(startswith("--") and . != "--help")' <<<"$spec"); do
        mentions man "$global" "$opt" || missing+=("global $opt")
    done
    for sub in $(jq -r '.subcommands | keys[]' <<<"$spec"); do
        text=$(awk -F '\t' -v s="$sub" '{ n = split($1, w, "|"); for (i = 1; i <= n; i++) if (w[i] == s) print $2 }' <<<"$entries")
        [ -n "$text" ] || { missing+=("subcommand $sub"); continue; }
        for opt in $(jq -r --arg s "$sub" '.subcommands[$s][] | select(startswith("--") and . != "--help")' <<<"$spec"); do
            mentions man "$text" "$opt" || missing+=("$sub $opt")
        done
    done
    RC=0 OUT="$entries"
    ERR="missing: ${missing[*]:-}"
    check "the $kind usage names every subcommand and its options" eval '[ ${#missing[@]} -eq 0 ] && [ -n "$global" ]'
done

# The test itself must be able to fail: a file without `gc --idle` is caught.
sed 's/--idle/--idel/g; s/\\-\\-idle/\\-\\-idel/g; s/-l idle /-l idel /g' "$ROOT/completions/modelctl.fish" >"$SCRATCH/broken.fish"
text=$(section fish "$SCRATCH/broken.fish" gc)
check "a missing option is noticed" eval '! mentions fish "$text" --idle'
finish
