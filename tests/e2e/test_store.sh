#!/usr/bin/env bash
# The store under concurrent modelctl processes, crashes and bad files.
source "$(dirname "$0")/lib.sh"

# 16 processes, each loading and unloading its own model 5 times, at once.
write_catalog "$SCRATCH/tiny.json" 16 tiny 100000000
export MODELCTL_BUDGET_MAX_LOADED=0 # 16 at once: no planning between workers
# Every load and unload writes the store under its lock: under ASan on 2 cores
# the queue of 16 workers for it outlasts the default 10 s wait (it did once
# in CI). What is tested is that nothing is lost, not how long the queue is.
export MODELCTL_LOCK_TIMEOUT=120s
start_sim --catalog "$SCRATCH/tiny.json" --max-loaded 32 --vram 100GB --speed 200 --unload 0.01
workers=()
for i in $(seq 1 16); do
    (
        for _ in 1 2 3 4 5; do
            "$MODELCTL" -q load "tiny$i" && "$MODELCTL" -q unload "tiny$i" || exit 1
        done
    ) >"$SCRATCH/worker$i.log" 2>&1 &
    workers+=($!)
done
wait_rc=0
for pid in "${workers[@]}"; do wait "$pid" || wait_rc=1; done
RC=$wait_rc OUT=$(cat "$SCRATCH"/worker*.log) ERR=
check "16 concurrent workers all succeeded" eval 'rc_is 0'
RC=0
OUT=$(cat "$MODELCTL_HOME/state.json")
check "the state file is valid JSON" eval 'jq -e . <<<"$OUT" >/dev/null'
check "no load or unload was lost (80 each)" eval 'jq -e "[.endpoints.ollama.models[] | .loads] | add == 80" <<<"$OUT" >/dev/null && jq -e "[.endpoints.ollama.models[] | .unloads] | add == 80" <<<"$OUT" >/dev/null && jq -e "[.endpoints.ollama.models[] | select(.loads == 5 and .unloads == 5)] | length == 16" <<<"$OUT" >/dev/null'
OUT=$(grep -vc '^{"type":"log"' "$MODELCTL_HOME/events.jsonl") # less the header line
check "the event log holds all 160 events" eval '[ "$OUT" -eq 160 ] && jq -e . "$MODELCTL_HOME/events.jsonl" >/dev/null'

# The SIGKILL loop runs in the Release pass only: under ASan it is 100 s of
# the same file writes, and kills say nothing the sanitizers would see.
if [ -z "${TEST_SANITIZED:-}" ]; then
    # SIGKILL mid-write: a big store (3000 installed models) written by
    # `status --all`, killed at random moments, must always read back whole.
    write_catalog "$SCRATCH/bulk.json" 3000 bulk-model-number- 1000000
    start_sim --catalog "$SCRATCH/bulk.json"
    export MODELCTL_HOME="$SCRATCH/killstore"
    "$MODELCTL" -q status --all >/dev/null
    tmp="$MODELCTL_HOME/state.json.tmp"
    kills=0 torn=0 bad=0
    for i in $(seq 1 40); do
        rm -f "$tmp"
        "$MODELCTL" -q status --all >/dev/null 2>&1 &
        pid=$!
        if [ $((i % 4)) -eq 0 ]; then
            sleep "0.0$((RANDOM % 90 + 10))" # now and then at a random moment
        else
            # Spin until the writer has created its temp file: it is writing now.
            while [ ! -e "$tmp" ] && kill -0 "$pid" 2>/dev/null; do :; done
        fi
        kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
        wait "$pid" 2>/dev/null || true
        [ -e "$tmp" ] && torn=$((torn + 1)) # killed before its rename
        jq -e '.endpoints.ollama.models | length == 3000' "$MODELCTL_HOME/state.json" >/dev/null || bad=$((bad + 1))
    done
    echo "# $kills kills; $torn of them landed mid-write (temp file left, rename not reached)"
    RC=$bad OUT="unreadable after kill: $bad" ERR=
    check "after every SIGKILL the previous store reads back whole" eval 'rc_is 0'
    RC=0 OUT="$torn kills landed mid-write"
    check "the kills did land mid-write (so the check above means something)" eval '[ "$torn" -gt 0 ]'
    run "$MODELCTL" store
    check "a temp file left by a killed writer is harmless" eval 'rc_is 0 && has "$OUT" "3000 models known"'
else
    echo "# the SIGKILL loop runs in the Release pass only"
fi

# A corrupt state file is refused with a hint and left untouched.
export MODELCTL_HOME="$SCRATCH/corrupt"
start_sim --speed 50
mkdir -p "$MODELCTL_HOME"
printf '{"schema_version": 1, "models": {"x": ' >"$MODELCTL_HOME/state.json"
cp "$MODELCTL_HOME/state.json" "$SCRATCH/before"
run "$MODELCTL" load llama3.2:1b
check "a corrupt store is refused: exit 1, one line, hint to repair" eval 'rc_is 1 && has "$ERR" "is corrupt" && has "$ERR" "store --repair" && [ "$(wc -l <<<"$ERR")" -eq 1 ]'
check "the corrupt file was not overwritten" cmp -s "$MODELCTL_HOME/state.json" "$SCRATCH/before"
run "$MODELCTL" store --repair
check "store --repair moves it aside, keeping it" eval 'rc_is 0 && has "$OUT" "moved the unreadable state file" && cmp -s "$MODELCTL_HOME"/state.json.corrupt-* "$SCRATCH/before"'
run "$MODELCTL" load llama3.2:1b
check "after repair, loads are recorded again" eval 'rc_is 0 && jq -e ".endpoints.ollama.models[\"llama3.2:1b\"].loads == 1" "$MODELCTL_HOME/state.json" >/dev/null'

printf '{"schema_version": 8, "models": {}}' >"$MODELCTL_HOME/state.json"
run "$MODELCTL" unload --all
check "a store from a newer modelctl is refused, not rewritten" eval 'rc_is 1 && has "$ERR" "newer modelctl" && [ "$(cat "$MODELCTL_HOME/state.json")" = "{\"schema_version\": 8, \"models\": {}}" ]'

# XDG: without MODELCTL_HOME the store goes to $XDG_STATE_HOME/modelctl.
run env -u MODELCTL_HOME XDG_STATE_HOME="$SCRATCH/xdg" "$MODELCTL" load llama3.2:1b
check "XDG_STATE_HOME/modelctl is used" eval 'rc_is 0 && [ -f "$SCRATCH/xdg/modelctl/state.json" ]'
run env -u MODELCTL_HOME -u XDG_STATE_HOME HOME="$SCRATCH/home" "$MODELCTL" load llama3.2:1b
check "else ~/.local/state/modelctl" eval 'rc_is 0 && [ -f "$SCRATCH/home/.local/state/modelctl/state.json" ]'
# Fields a newer modelctl wrote survive a write by this one (issue 16: no
# schema bump for a new field).
export MODELCTL_HOME="$SCRATCH/newer"
mkdir -p "$MODELCTL_HOME"
echo '{"schema_version":7,"future_top":1,"endpoints":{"ollama":{"future_section":[2],"models":{"m:latest":{"loads":1,"future":"x"}}}}}' >"$MODELCTL_HOME/state.json"
run "$MODELCTL" record m:latest --latency-ms 100
check "record succeeds on a store with fields it does not know" eval 'rc_is 0'
OUT=$(cat "$MODELCTL_HOME/state.json")
check "the unknown fields are written back, beside the new use" eval 'jq_out ".future_top == 1 and .endpoints.ollama.future_section == [2] and .endpoints.ollama.models[\"m:latest\"].future == \"x\" and .endpoints.ollama.models[\"m:latest\"].usage.uses == 1"'

finish
