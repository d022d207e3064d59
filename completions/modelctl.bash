# bash completion for modelctl                               -*- shell-script -*-
# Install: copy to /usr/share/bash-completion/completions/modelctl
# (or ~/.local/share/bash-completion/completions/modelctl), or source it from
# ~/.bashrc. The bash-completion package is used when it is there, not needed.

_modelctl_models() {
    # Installed model names, from `list` (which writes nothing), without the
    # version tags modelctl keeps (NAME:TAG-v<12 hex>); silent when the
    # server is down.
    modelctl --timeout 2s -q list 2>/dev/null | grep -v -- '-v[0-9a-f]\{12\}$'
}

_modelctl_files() {
    if declare -F _filedir >/dev/null; then
        _filedir "$@"
    else
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}

# Without the bash-completion package: the words of the line up to the
# cursor, split on blanks only, so that name:tag stays one word (':' is one
# of bash's word breaks).
_modelctl_split() {
    local line=${COMP_LINE:0:COMP_POINT}
    read -ra words <<<"$line"
    [[ "$line" =~ [[:space:]]$ ]] && words+=("")
    cword=$((${#words[@]} - 1))
    cur=${words[cword]}
    prev=${words[cword - 1]:-}
}

_modelctl() {
    local cur prev words cword
    if declare -F _init_completion >/dev/null; then
        _init_completion -n : || return
    else
        _modelctl_split
    fi

    local global="--host --endpoint --timeout --config --json -q --quiet -v --verbose --version --help -h"
    local subcommands="status ps list ls load unload stop rm show gc pin unpin priority pull versions rollback run record stats chain recommend preload bench health serve endpoints config simulate store help"
    local sub="" i
    for ((i = 1; i < cword; i++)); do
        case "${words[i]}" in
            status | ps | list | ls | load | unload | stop | rm | show | gc | pin | unpin | priority | pull | versions | rollback | run | chain | record | stats | recommend | preload | bench | health | serve | endpoints | config | simulate | store | help) sub="${words[i]}"; break ;;
        esac
    done

    case "$prev" in
        --config) _modelctl_files json; return ;;
        --endpoint) COMPREPLY=($(compgen -W "$(modelctl -q endpoints 2>/dev/null)" -- "$cur")); return ;;
        --host | --timeout | -k | --keep-alive | --idle | --memory | --every | --stretch | --max-loaded | --to) return ;;
        --trace | --catalog) _modelctl_files csv; return ;;
        --batch) _modelctl_files; return ;;
        --task) COMPREPLY=($(compgen -W "chat coding vision embedding reasoning tools" -- "$cur")); return ;;
        --latency-ms | --ttft-ms | --tokens | --tokens-in | --eval-ms | --at | --since) return ;;
        --policy) COMPREPLY=($(compgen -W "modelctl lru ollama belady" -- "$cur")); return ;;
        --prefer) COMPREPLY=($(compgen -W "speed quality balanced" -- "$cur")); return ;;
        --max-memory | -n | --count) [[ "$sub" == recommend ]] && return ;;
        --ctx) COMPREPLY=($(compgen -W "max 4096 8192 16384 32768" -- "$cur")); return ;;
    esac

    case "$sub" in
        "")
            COMPREPLY=($(compgen -W "$subcommands $global" -- "$cur")) ;;
        list | ls)
            COMPREPLY=($(compgen -W "$global" -- "$cur")) ;;
        status | ps)
            if [[ "$prev" == --format ]]; then
                COMPREPLY=($(compgen -W "text json prometheus" -- "$cur"))
            else
                COMPREPLY=($(compgen -W "-a --all --format $global" -- "$cur"))
            fi ;;
        load)
            if [[ "$cur" == -* ]]; then
                COMPREPLY=($(compgen -W "-k --keep-alive --memory -n --dry-run --no-evict --ctx $global" -- "$cur"))
            else
                COMPREPLY=($(compgen -W "$(_modelctl_models)" -- "$cur"))
            fi ;;
        unload | stop)
            if [[ "$cur" == -* ]]; then
                COMPREPLY=($(compgen -W "-a --all --dry-run $global" -- "$cur"))
            else
                COMPREPLY=($(compgen -W "$(modelctl --timeout 2s -q ps 2>/dev/null)" -- "$cur"))
            fi ;;
        store)
            COMPREPLY=($(compgen -W "--repair $global" -- "$cur")) ;;
        help) # the command to describe
            COMPREPLY=($(compgen -W "$subcommands" -- "$cur")) ;;
        endpoints)
            COMPREPLY=($(compgen -W "$global" -- "$cur")) ;;
        gc)
            COMPREPLY=($(compgen -W "--idle --memory --versions -n --dry-run $global" -- "$cur")) ;;
        pull | versions | show)
            if [[ "$cur" == -* ]]; then
                COMPREPLY=($(compgen -W "$global" -- "$cur"))
            else
                COMPREPLY=($(compgen -W "$(_modelctl_models)" -- "$cur"))
            fi ;;
        rm)
            if [[ "$cur" == -* ]]; then
                COMPREPLY=($(compgen -W "-f --force -n --dry-run $global" -- "$cur"))
            else
                COMPREPLY=($(compgen -W "$(_modelctl_models)" -- "$cur"))
            fi ;;
        rollback)
            if [[ "$cur" == -* ]]; then
                COMPREPLY=($(compgen -W "--to --reload $global" -- "$cur"))
            else
                COMPREPLY=($(compgen -W "$(_modelctl_models)" -- "$cur"))
            fi ;;
        pin | unpin | priority)
            if [[ "$cur" == -* ]]; then
                COMPREPLY=($(compgen -W "$global" -- "$cur"))
            else
                COMPREPLY=($(compgen -W "$(_modelctl_models)" -- "$cur"))
            fi ;;
        config)
            if [ "$prev" = check ]; then
                _modelctl_files json
            else
                COMPREPLY=($(compgen -W "show check $global" -- "$cur"))
            fi ;;
        record)
            if [[ "$cur" == -* ]]; then
                COMPREPLY=($(compgen -W "--latency-ms --ttft-ms --tokens --tokens-in --eval-ms --failed --task --at --batch $global" -- "$cur"))
            else
                COMPREPLY=($(compgen -W "$(_modelctl_models)" -- "$cur"))
            fi ;;
        run)
            if [[ "$cur" == -* ]]; then
                COMPREPLY=($(compgen -W "--task -k --keep-alive --memory --no-evict $global" -- "$cur"))
            else
                COMPREPLY=($(compgen -W "$(_modelctl_models)" -- "$cur"))
            fi ;;
        chain)
            if [[ "$cur" == -* ]]; then
                COMPREPLY=($(compgen -W "--input -n --dry-run --keep-going --leave-loaded --retries --step-timeout --memory $global" -- "$cur"))
            else
                _modelctl_files json
            fi ;;
        recommend)
            COMPREPLY=($(compgen -W "--task --prefer --max-memory -n --count $global" -- "$cur")) ;;
        preload)
            COMPREPLY=($(compgen -W "--at --memory -n --dry-run $global" -- "$cur")) ;;
        bench)
            if [[ "$prev" == --prompt-file ]]; then
                COMPREPLY=($(compgen -f -- "$cur"))
            elif [[ "$cur" == -* ]]; then
                COMPREPLY=($(compgen -W "--compare -r --runs -p --prompt --prompt-file --num-predict --ctx --cold --fail-on-regression --memory --no-evict $global" -- "$cur"))
            else
                COMPREPLY=($(compgen -W "$(_modelctl_models)" -- "$cur"))
            fi ;;
        health)
            if [[ "$prev" == --format ]]; then
                COMPREPLY=($(compgen -W "text json prometheus" -- "$cur"))
            elif [[ "$cur" == -* ]]; then
                COMPREPLY=($(compgen -W "--loaded --timeout --format --no-evict $global" -- "$cur"))
            else
                COMPREPLY=($(compgen -W "$(_modelctl_models)" -- "$cur"))
            fi ;;
        serve)
            if [[ "$prev" == --port-file ]]; then
                COMPREPLY=($(compgen -f -- "$cur"))
            else
                COMPREPLY=($(compgen -W "--listen --port-file $global" -- "$cur"))
            fi ;;
        stats)
            if [[ "$cur" == -* ]]; then
                COMPREPLY=($(compgen -W "--since $global" -- "$cur"))
            else
                COMPREPLY=($(compgen -W "$(_modelctl_models)" -- "$cur"))
            fi ;;
        simulate)
            COMPREPLY=($(compgen -W "--trace --catalog --memory --policy --from-history --every --stretch --max-loaded $global" -- "$cur")) ;;
    esac

    # Each candidate once (an option both global and the command's, e.g.
    # --timeout for health).
    local -A seen=()
    local c unique=()
    for c in "${COMPREPLY[@]}"; do
        [[ -n "${seen[$c]:-}" ]] || unique+=("$c")
        seen[$c]=1
    done
    COMPREPLY=("${unique[@]}")
    # bash replaces only the part of a name:tag after its last ':'.
    if [[ "$cur" == *:* && "$COMP_WORDBREAKS" == *:* ]]; then
        local before_colon=${cur%"${cur##*:}"}
        COMPREPLY=("${COMPREPLY[@]#"$before_colon"}")
    fi
}
complete -F _modelctl modelctl
