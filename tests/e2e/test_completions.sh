#!/usr/bin/env bash
# The shell completions at work (issue 19): bash with and without the
# bash-completion package, its functions directly and on a pty as typed,
# fish through `complete -C`, zsh's model lists;
# against a modelsim, with modelctl on PATH as a user has it. Model names
# come from `list`, which writes nothing, without modelctl's version tags,
# and complete past the colon of name:tag.
source "$(dirname "$0")/lib.sh"
RC=0 OUT= ERR=
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
start_sim --speed 50
mkdir -p "$SCRATCH/bin"
ln -s "$(cd "$(dirname "$MODELCTL")" && pwd)/$(basename "$MODELCTL")" "$SCRATCH/bin/modelctl"
export PATH="$SCRATCH/bin:$PATH"
"$MODELCTL" -q pull llama3.2:3b # keeps the old version under a tag, which completions leave out
check "(a version tag is installed)" eval 'grep -q "^llama3.2:3b-v" <<<"$("$MODELCTL" -q list)"'
store_before=$(sha256sum "$MODELCTL_HOME/state.json")

# bash_complete with|without LINE: what bash offers for LINE, the cursor at
# its end, one per line. COMP_WORDS is split as bash splits it: at blanks,
# and around each ':' (one of COMP_WORDBREAKS).
bash_complete() {
    bash --norc --noprofile -c '
        if [ "$1" = with ]; then source /usr/share/bash-completion/bash_completion || exit 9; fi
        source "$2" || exit 9
        COMP_LINE=$3 COMP_POINT=${#3} COMP_WORDS=()
        for w in $3; do
            while [[ "$w" == *:* ]]; do
                [ -n "${w%%:*}" ] && COMP_WORDS+=("${w%%:*}")
                COMP_WORDS+=(":")
                w=${w#*:}
            done
            [ -n "$w" ] && COMP_WORDS+=("$w")
        done
        [[ "$3" =~ [[:space:]]$ ]] && COMP_WORDS+=("")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        _modelctl modelctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
        printf "%s\n" "${COMPREPLY[@]}"' bash "$1" "$ROOT/completions/modelctl.bash" "$2"
}
for mode in without with; do
    OUT=$(bash_complete $mode "modelctl sta")
    check "bash ($mode bash-completion): commands" eval '[ "$(sort <<<"$OUT" | tr "\n" " ")" = "stats status " ]'
    OUT=$(bash_complete $mode "modelctl load llama3.2:")
    check "bash ($mode): name:tag past the colon, no version tag" eval 'grep -qx 1b <<<"$OUT" && grep -qx 3b <<<"$OUT" && ! grep -q -- "-v" <<<"$OUT"'
    OUT=$(bash_complete $mode "modelctl rm llama3.2:3")
    check "bash ($mode): a tag begun" eval '[ "$OUT" = 3b ]'
    OUT=$(bash_complete $mode "modelctl show llama3.2")
    check "bash ($mode): a name whole" eval 'grep -qx "llama3.2:1b" <<<"$OUT" && grep -qx "llama3.2:3b" <<<"$OUT" && ! grep -q -- "-v" <<<"$OUT"'
    OUT=$(bash_complete $mode "modelctl health --t")
    check "bash ($mode): each option once (--timeout is global and health's own)" eval '[ "$OUT" = --timeout ]'
    OUT=$(bash_complete $mode "modelctl unload --d")
    check "bash ($mode): unload --dry-run" eval '[ "$OUT" = --dry-run ]'
done
check "completing wrote nothing to the store" eval '[ "$(sha256sum "$MODELCTL_HOME/state.json")" = "$store_before" ]'

# bash on a pseudo-terminal, as a person types: readline calls the
# completion, TAB inserts what it completes, TAB TAB lists. `script` (from
# util-linux) gives the interactive bash its terminal. To see the line a TAB
# made, Ctrl-A goes to its start and `printf '<%s>' ` is typed there, so the
# words come back as <modelctl><unload>, which no echo of the typed keys
# contains.
pty_seen() { # PATTERN (a glob): polls the terminal's output for it, up to 10 s
    local out
    for _ in $(seq 1 200); do
        out=$(<"$SCRATCH/pty.out")
        [[ ${out//$'\r'/} == *$1* ]] && return 0
        sleep 0.05
    done
    OUT=$(cat -v "$SCRATCH/pty.out" | tail -c 600)
    return 1
}
for mode in without with; do
    rm -f "$SCRATCH/pty.in" "$SCRATCH/pty.out"
    mkfifo "$SCRATCH/pty.in"
    : >"$SCRATCH/pty.out"
    script -qfec "bash --norc --noprofile -i" /dev/null <"$SCRATCH/pty.in" >"$SCRATCH/pty.out" 2>&1 &
    pty_pid=$!
    exec 3>"$SCRATCH/pty.in"
    setup="PS1='REA''DY> '"
    [ $mode = with ] && setup+="; source /usr/share/bash-completion/bash_completion"
    printf '%s\n' "$setup; source '$ROOT/completions/modelctl.bash'" >&3
    check "bash on a pty ($mode bash-completion): an interactive shell starts" pty_seen 'READY> '
    printf "modelctl unl\t\001printf '<%%s>' \n" >&3
    check "bash on a pty ($mode): TAB completes a command" pty_seen '<modelctl><unload>'
    printf "modelctl load qwen2.5-coder:7\t\001printf '<%%s>' \n" >&3
    check "bash on a pty ($mode): TAB completes name:tag past the colon" pty_seen '<modelctl><load><qwen2.5-coder:7b>'
    printf "modelctl rm --dr\t\001printf '<%%s>' \n" >&3
    check "bash on a pty ($mode): TAB completes a command's option" pty_seen '<modelctl><rm><--dry-run>'
    printf 'modelctl st\t\t' >&3
    check "bash on a pty ($mode): TAB TAB lists the candidates" pty_seen 'stats*status*stop*store'
    printf '\003exit\n' >&3
    exec 3>&-
    wait "$pty_pid" || true
done

if command -v fish >/dev/null; then
    fish_complete() { fish --no-config -c "source '$ROOT/completions/modelctl.fish'; complete -C '$1'" | cut -f1; }
    OUT=$(fish_complete "modelctl sta")
    check "fish: commands" eval '[ "$(sort <<<"$OUT" | tr "\n" " ")" = "stats status " ]'
    OUT=$(fish_complete "modelctl load llama3.2:")
    check "fish: name:tag, no version tag" eval 'grep -qx "llama3.2:1b" <<<"$OUT" && grep -qx "llama3.2:3b" <<<"$OUT" && ! grep -q -- "-v" <<<"$OUT"'
    OUT=$(fish_complete "modelctl unload --")
    check "fish: unload --dry-run" eval 'grep -qx -- "--dry-run" <<<"$OUT"'
else
    OUT="fish is not installed (./dev.sh test installs it)"
    fail "fish is installed"
fi

if command -v zsh >/dev/null; then
    check "zsh: the completion parses" zsh -n "$ROOT/completions/_modelctl"
    # Its model list, with a _describe that prints what it is given.
    OUT=$(zsh -f -c '_describe() { print -rl -- "${(@P)2}" }
        eval "$(sed -n "/^_modelctl_installed()/,/^}/p" "$1")"
        _modelctl_installed' zsh "$ROOT/completions/_modelctl")
    check "zsh: installed names from list, ':' escaped for _describe, no version tag" eval 'grep -qxF "llama3.2\:1b" <<<"$OUT" && ! grep -q -- "-v" <<<"$OUT"'
else
    OUT="zsh is not installed (./dev.sh test installs it)"
    fail "zsh is installed"
fi
finish
