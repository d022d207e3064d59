#!/usr/bin/env bash
# Ctrl-C and SIGTERM (issue 15): every long command exits 130 at once, and
# what it began is undone: a load interrupted mid-way leaves the model
# unloaded, an interrupted run records no use, the store is as it was.
source "$(dirname "$0")/lib.sh"

# caught PID: waits until the process has installed its SIGINT handler
# (SigCgt in /proc), so the signal meets modelctl, not the shell's default.
caught() {
    local pid=$1 mask
    for _ in $(seq 1 500); do
        mask=$(awk '/^SigCgt/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)
        [ $((0x$mask & 2)) -ne 0 ] && return 0
        sleep 0.01
    done
    return 1
}
# in_request PID: waits until the process has a request in flight: its
# HTTP watchdog thread exists exactly as long as one is (http/client.hpp).
in_request() {
    local pid=$1
    for _ in $(seq 1 500); do
        [ "$(ls "/proc/$pid/task" 2>/dev/null | wc -l)" -ge 2 ] && return 0
        sleep 0.01
    done
    return 1
}
# interrupt [--ready] SIGNAL CMD...: starts CMD and signals it once it has a
# request in flight (with --ready: once it has installed its handler, for a
# command that waits on something else), and sets RC, OUT, ERR, WALL
# (seconds from the signal to the exit) and HANDLED.
interrupt() {
    local when=request sig pid t0
    [ "$1" = --ready ] && when=ready && shift
    sig=$1
    shift
    "$@" >"$SCRATCH/out" 2>"$SCRATCH/err" &
    pid=$!
    HANDLED=1
    caught "$pid" || { HANDLED=0; echo "# $1 never installed its handler"; }
    [ "$when" = ready ] || in_request "$pid" || echo "# $1 never sent a request"
    t0=$(date +%s.%N)
    kill -s "$sig" "$pid" 2>/dev/null || true
    set +e
    wait "$pid"
    RC=$?
    set -e
    WALL=$(echo "$(date +%s.%N) - $t0" | bc)
    OUT=$(cat "$SCRATCH/out")
    ERR=$(cat "$SCRATCH/err")
    echo "# $sig to $(basename "$1") ${2:-}: rc=$RC after ${WALL}s"
}
# Exited at once, by its own handler (a shell reports death by SIGINT as
# 130 too: only a caught signal counts).
fast() { [ "$HANDLED" = 1 ] && awk -v a="$WALL" 'BEGIN { exit !(a < 2) }'; }
loaded() { curl -s "$SIM_URL/api/ps" | jq -r '[.models[].name] | join(",")'; }
settled_loaded() { # what is loaded once a load the server may still run is over
    local last="" now
    for _ in $(seq 1 100); do
        now=$(loaded)
        [ "$now" = "$last" ] && [ -n "${seen_once:-}" ] && break
        last=$now seen_once=1
        sleep 0.1
    done
    unset seen_once
    echo "$now"
}

# Loads take 4 s here (runner start-up), answers stream slowly: at least
# 1,000 tokens, seconds long, so a signal sent once a request is in flight
# always lands before the answer ends (the shortest, 24 tokens, once ended
# within the 0.15 s a loaded machine took to notice the request and signal).
start_sim --startup 4 --speed 1 --min-tokens 1000
state_sum() { sha256sum "$MODELCTL_HOME/state.json" 2>/dev/null | cut -d' ' -f1; }

for sig in INT TERM; do
    "$MODELCTL" -q pin llama3.2:3b >/dev/null # a store to keep as it was
    before=$(state_sum)
    interrupt "$sig" "$MODELCTL" load llama3.1:8b
    check "SIG$sig during load: exit 130 at once" eval 'rc_is 130 && fast && has "$ERR" "interrupted"'
    now=$(settled_loaded)
    check "... and llama3.1:8b is not left loaded, the store unchanged" eval \
        '[ "$now" = "" ] && [ "$(state_sum)" = "$before" ]'
done

"$MODELCTL" -q load llama3.2:3b
before=$(state_sum)
interrupt INT "$MODELCTL" run llama3.2:3b "write a long story"
check "SIGINT during run: exit 130 at once, no use recorded" eval \
    'rc_is 130 && fast && [ "$(state_sum)" = "$before" ]'
interrupt TERM "$MODELCTL" bench llama3.2:3b --runs 20
check "SIGTERM during bench: exit 130 at once" eval 'rc_is 130 && fast'
interrupt INT "$MODELCTL" health llama3.1:8b
check "SIGINT during health: exit 130 at once" eval 'rc_is 130 && fast'

# A server that answers nothing for 30 s: the signal does not wait for it.
start_sim --fault delay=30000
for cmd in "status" "unload --all" "pull llama3.2:3b" "gc"; do
    # shellcheck disable=SC2086
    interrupt INT "$MODELCTL" $cmd
    check "SIGINT to $cmd against a stalled server: exit 130 at once" eval 'rc_is 130 && fast'
done

# The lock wait gives up too.
exec 9>"$MODELCTL_HOME/lock"
flock 9
interrupt --ready INT "$MODELCTL" pin llama3.2:3b
check "SIGINT while waiting for the store lock: exit 130 at once" eval 'rc_is 130 && fast'
exec 9>&-

finish
