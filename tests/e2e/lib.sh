# Shared helpers for the end-to-end tests. Each test sources this file; it runs
# the real modelctl against a real modelsim on 127.0.0.1 with a port the
# kernel picks, in a scratch directory removed afterwards.
set -euo pipefail

: "${MODELCTL:?path to the modelctl binary}"
: "${MODELSIM:?path to the modelsim binary}"

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/modelctl-e2e.XXXXXX")
export MODELCTL_HOME="$SCRATCH/store"
export XDG_CONFIG_HOME="$SCRATCH/config" # never the user's own config
# The memory budget would otherwise come from this machine's probes: tests
# must not depend on the host. Tests of budgets set their own.
export MODELCTL_BUDGET_MEMORY=1TB
unset OLLAMA_HOST NO_COLOR XDG_STATE_HOME MODELCTL_SYSROOT LM_API_TOKEN || true
for v in $(env | sed -n 's/^\(MODELCTL_[A-Z_]*\)=.*/\1/p'); do
    case $v in MODELCTL_HOME | MODELCTL_BUDGET_MEMORY) ;; *) unset "$v" ;; esac
done
SIM_PIDS=()
PASSED=0
FAILED=0

cleanup() {
    for pid in "${SIM_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${SIM_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$SCRATCH"
}
trap cleanup EXIT

# start_sim [modelsim options...]: starts modelsim; sets SIM_PORT and SIM_URL.
start_sim() {
    local pf="$SCRATCH/port.$RANDOM$RANDOM"
    "$MODELSIM" --port 0 --port-file "$pf" "$@" >"$SCRATCH/sim.log" 2>&1 &
    SIM_PIDS+=($!)
    for _ in $(seq 1 200); do
        [ -s "$pf" ] && break
        sleep 0.02
    done
    [ -s "$pf" ] || { echo "modelsim did not start"; cat "$SCRATCH/sim.log"; exit 1; }
    SIM_PORT=$(cat "$pf")
    SIM_URL="http://127.0.0.1:$SIM_PORT"
    export OLLAMA_HOST="127.0.0.1:$SIM_PORT"
}

SERVE_PID=
# start_serve [modelctl options...]: starts serve on a free port of
# SERVE_HOST (127.0.0.1); sets SERVE_URL. Its stderr goes to $SCRATCH/serve.err.
start_serve() {
    local pf="$SCRATCH/serve.port.$RANDOM"
    "$MODELCTL" "$@" serve --listen "${SERVE_HOST:-127.0.0.1}:0" --port-file "$pf" 2>"$SCRATCH/serve.err" &
    SERVE_PID=$!
    SIM_PIDS+=("$SERVE_PID") # stopped with the simulators at the end
    for _ in $(seq 1 300); do
        [ -s "$pf" ] && break
        sleep 0.02
    done
    [ -s "$pf" ] || { echo "serve did not start"; cat "$SCRATCH/serve.err"; exit 1; }
    SERVE_URL="http://127.0.0.1:$(cat "$pf")"
}
stop_serve() {
    kill -TERM "$SERVE_PID"
    SERVE_RC=0
    wait "$SERVE_PID" || SERVE_RC=$?
}

# write_catalog FILE COUNT PREFIX SIZE_STEP: a modelsim catalog of COUNT models
# named PREFIX<i>, model i weighing i * SIZE_STEP bytes.
write_catalog() {
    local file=$1 count=$2 prefix=$3 step=$4 i
    {
        echo '{"models": ['
        for i in $(seq 1 "$count"); do
            printf '{"name": "%s%d", "size": %d, "block_count": 4}%s\n' "$prefix" "$i" \
                $((i * step)) "$([ "$i" -lt "$count" ] && echo , || true)"
        done
        echo ']}'
    } >"$file"
}

# run CMD...: runs a command, capturing OUT, ERR and RC.
run() {
    set +e
    "$@" >"$SCRATCH/out" 2>"$SCRATCH/err"
    RC=$?
    set -e
    OUT=$(cat "$SCRATCH/out")
    ERR=$(cat "$SCRATCH/err")
}

# interrupt PID: Ctrl-C for a command started in the background with its
# output in $SCRATCH/int.out and int.err; sets RC, OUT and ERR as run does.
interrupt() {
    kill -INT "$1"
    set +e
    wait "$1"
    RC=$?
    set -e
    OUT=$(cat "$SCRATCH/int.out")
    ERR=$(cat "$SCRATCH/int.err")
}

ok() { PASSED=$((PASSED + 1)); echo "ok - $1"; }
fail() {
    FAILED=$((FAILED + 1))
    echo "not ok - $1"
    echo "  rc=${RC-}" # (unset when the check ran no command)
    local out=${OUT-} err=${ERR-}
    echo "  stdout: ${out:0:600}"
    echo "  stderr: ${err:0:600}"
}

# check NAME CONDITION...: passes when the condition (a command) succeeds.
check() {
    local name=$1
    shift
    if "$@"; then ok "$name"; else fail "$name"; fi
}

has() { grep -qF -- "$2" <<<"$1"; }
# jq_out FILTER: stdout is not empty and FILTER holds on it (jq 1.6's -e
# exits 0 on empty input, so the emptiness is checked first).
jq_out() { [ -n "$OUT" ] && jq -e "$1" <<<"$OUT" >/dev/null; }
rc_is() { [ "$RC" -eq "$1" ]; }

finish() {
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
}

# prom_valid FILE: the Prometheus text format's rules (exposition format
# 0.0.4): every line a HELP, a TYPE or a sample with a valid name, labels and
# value; one TYPE per family, before its samples; a family's samples together;
# no series twice; a final newline. Then promtool's own check when installed.
prom_valid() {
    local file=$1
    [ -s "$file" ] && [ "$(tail -c 1 "$file" | od -An -c | tr -d ' ')" = '\n' ] || return 1
    awk '
        function fam(n) { sub(/_(total|count|sum|bucket)$/, "", n); return n }
        /^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* / { next }
        /^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped)$/ {
            if ($3 in typed) { print "TYPE twice: " $3; bad = 1 }
            if ($3 in seen) { print "TYPE after samples: " $3; bad = 1 }
            typed[$3] = 1; next
        }
        /^#/ { print "bad comment: " $0; bad = 1; next }
        {
            if ($0 !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")*\})? ([-+]?[0-9.]+([eE][-+]?[0-9]+)?|[-+]Inf|NaN)$/) {
                print "bad sample: " $0; bad = 1; next
            }
            name = $0; sub(/[{ ].*/, "", name)
            series = $0; sub(/ [^ ]*$/, "", series)
            if (series in have) { print "series twice: " series; bad = 1 }
            have[series] = 1
            f = fam(name) # _bucket, _sum and _count of a histogram are one family
            if (f != last && (f in seen)) { print "family split: " name; bad = 1 }
            seen[f] = 1; seen[name] = 1; last = f
        }
        END { exit bad }' "$file" || return 1
    if command -v promtool >/dev/null; then
        promtool check metrics <"$file" || return 1
    fi
}
