#!/usr/bin/env bash
# The shell completions at work (issue 19): bash with and without the
# bash-completion package, fish through `complete -C`, zsh's model lists;
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
