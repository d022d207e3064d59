#!/usr/bin/env bash
# The store never loses data silently (issue 15): unreadable files are errors,
# not absent ones; bad numbers are refused at every input; a damaged store is
# reported, never trusted, and repair keeps what it can.
source "$(dirname "$0")/lib.sh"

write_catalog "$SCRATCH/catalog.json" 13 model 1000000000
start_sim --speed 200 --catalog "$SCRATCH/catalog.json"
sum() { sha256sum "$1" | cut -d' ' -f1; }
# Memory caps: AddressSanitizer's shadow and quarantine take several times
# what the program does, so a sanitized build gets four times as much.
SCALE=1
[ -z "${TEST_SANITIZED:-}" ] || SCALE=4
# A store that knows 12 pinned models.
seed_store() {
    rm -rf "$MODELCTL_HOME"
    "$MODELCTL" -q pin $(printf "model%d " $(seq 1 12)) >/dev/null
}

# --- Only ENOENT means absent ---------------------------------------------
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
    # One `sudo modelctl` left state.json owned by root: the user's next pin
    # must fail, not replace 12 models with 1.
    seed_store
    chmod o+x "$SCRATCH"
    chown -R nobody "$MODELCTL_HOME"
    chown root:root "$MODELCTL_HOME/state.json"
    chmod 600 "$MODELCTL_HOME/state.json"
    before=$(sum "$MODELCTL_HOME/state.json")
    as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
    run as_nobody env HOME="$SCRATCH" "$MODELCTL" pin model13
    check "an unreadable state.json (EACCES) is an error, exit 1, with a hint" eval \
        'rc_is 1 && has "$ERR" "permission denied" && has "$ERR" "hint:"'
    check "... and it is left as it was (12 pinned models)" eval \
        '[ -s "$MODELCTL_HOME/state.json" ] && [ "$(sum "$MODELCTL_HOME/state.json")" = "$before" ] && jq -e "[.endpoints.ollama.models[] | select(.pinned)] | length == 12" "$MODELCTL_HOME/state.json" >/dev/null'
    run as_nobody env HOME="$SCRATCH" "$MODELCTL" store
    check "store reports it too" eval 'rc_is 1 && has "$ERR" "permission denied"'
    # A config file nobody can read is an error, not "no settings".
    mkdir -p "$XDG_CONFIG_HOME/modelctl"
    echo '{"budget": {"memory": "8GB"}}' >"$XDG_CONFIG_HOME/modelctl/config.json"
    chmod 600 "$XDG_CONFIG_HOME/modelctl/config.json"
    chmod o+x "$XDG_CONFIG_HOME" "$XDG_CONFIG_HOME/modelctl"
    run as_nobody env HOME="$SCRATCH" XDG_CONFIG_HOME="$XDG_CONFIG_HOME" "$MODELCTL" config show
    check "an unreadable config file is an error, not an empty config" eval \
        'rc_is 2 && has "$ERR" "config.json: permission denied"'
    rm -rf "$XDG_CONFIG_HOME/modelctl"
    chown -R root:root "$MODELCTL_HOME"
else
    echo "# skipped the EACCES case: it needs root to act as another user"
fi

# gc run first (the cron case) creates the store directory private.
export MODELCTL_HOME="$SCRATCH/fresh/store"
run "$MODELCTL" gc
check "gc creates a new store directory 0700" eval \
    'rc_is 0 && [ "$(stat -c %a "$MODELCTL_HOME")" = 700 ]'
export MODELCTL_HOME="$SCRATCH/store"

# A FIFO or a directory in place of state.json: refused at once, never hangs.
seed_store
mv "$MODELCTL_HOME/state.json" "$SCRATCH/state.saved"
mkfifo "$MODELCTL_HOME/state.json"
run timeout 10 "$MODELCTL" status
check "a FIFO in place of state.json is refused at once (exit 1)" eval \
    'rc_is 1 && has "$ERR" "not a regular file"'
run timeout 10 "$MODELCTL" pin x
check "... by writers too, and it stays a FIFO" eval \
    'rc_is 1 && [ -p "$MODELCTL_HOME/state.json" ]'
rm "$MODELCTL_HOME/state.json"
mv "$SCRATCH/state.saved" "$MODELCTL_HOME/state.json"

# --- Numbers that are not numbers ------------------------------------------
before=$(sum "$MODELCTL_HOME/state.json")
log_before=$(sum "$MODELCTL_HOME/events.jsonl" 2>/dev/null || echo none)
bad_inputs=0
for v in nan inf -inf 1e300 -1; do
    run "$MODELCTL" record model1 --latency-ms "$v"
    rc_is 2 || { bad_inputs=$((bad_inputs + 1)); echo "# --latency-ms $v: rc=$RC $ERR"; }
    run "$MODELCTL" record model1 --latency-ms 10 --ttft-ms "$v"
    rc_is 2 || { bad_inputs=$((bad_inputs + 1)); echo "# --ttft-ms $v: rc=$RC $ERR"; }
done
RC=$bad_inputs
check "record refuses NaN, infinities and out-of-range latencies (exit 2)" eval 'rc_is 0'
printf '%s\n' '{"model": "model1", "latency_ms": 5}' '{"model": "model1", "latency_ms": 1e400}' >"$SCRATCH/batch"
run "$MODELCTL" record --batch "$SCRATCH/batch"
check "record --batch refuses a line with 1e400, naming it, and records none" eval \
    'rc_is 2 && has "$ERR" "batch:2"'
check "... the store and the log are as they were" eval \
    '[ "$(sum "$MODELCTL_HOME/state.json")" = "$before" ] && [ "$(sum "$MODELCTL_HOME/events.jsonl" 2>/dev/null || echo none)" = "$log_before" ]'
run "$MODELCTL" pin model2
check "pin still works afterwards" eval 'rc_is 0'

# A corrupt histogram in state.json: an error naming it, not SIGSEGV or 8 GB.
for from in 2147483600 -1000000000; do
    seed_store
    jq -c ".endpoints.ollama.models.model1.usage = {uses: 1, failures: 0, latency_ms: {from: $from, counts: \"1\"}, ttft_ms: {from: 0, counts: \"\"}, hour_of_week: \"$(printf '0,%.0s' $(seq 1 167))0\"}" \
        "$MODELCTL_HOME/state.json" >"$SCRATCH/s" && cp "$SCRATCH/s" "$MODELCTL_HOME/state.json"
    before=$(sum "$MODELCTL_HOME/state.json")
    run /usr/bin/time -f "%M" -o "$SCRATCH/rss" "$MODELCTL" pin model3
    check "a histogram from $from: pin exits 1 (no crash), within 50 MB" eval \
        'rc_is 1 && has "$ERR" "malformed model record" && [ "$(tail -1 "$SCRATCH/rss")" -lt $((50000 * SCALE)) ]'
    run "$MODELCTL" store
    check "... store calls it unhealthy, file untouched" eval \
        'rc_is 1 && has "$ERR" "--repair" && [ "$(sum "$MODELCTL_HOME/state.json")" = "$before" ]'
done

# --- Repair rebuilds from the log ------------------------------------------
seed_store
"$MODELCTL" -q record model1 --latency-ms 100
echo '{"schema_version": 7, "endpoints": {' >"$MODELCTL_HOME/state.json"
"$MODELCTL" -q record model1 --latency-ms 200 || true
"$MODELCTL" -q record model2 --latency-ms 300 || true
run "$MODELCTL" store --repair
check "store --repair moves the corrupt state aside and rebuilds 3 uses from the log" eval \
    'rc_is 0 && has "$OUT" "3 use(s) rebuilt" && ls "$MODELCTL_HOME"/state.json.corrupt-* >/dev/null'
run "$MODELCTL" --json stats
check "... stats shows the uses recorded while the state was corrupt" eval \
    'rc_is 0 && [ -n "$OUT" ] && jq -e "(.models[] | select(.model == \"model1:latest\") | .uses) == 2" <<<"$OUT" >/dev/null'

# A log replaced under the state's mark (`cp backup events.jsonl`).
seed_store
"$MODELCTL" -q record model1 --latency-ms 100
cp "$MODELCTL_HOME/events.jsonl" "$SCRATCH/events.backup"
for _ in 1 2 3; do "$MODELCTL" -q record model1 --latency-ms 100; done
"$MODELCTL" -q pin model5 # folds the log into the state
cp "$SCRATCH/events.backup" "$MODELCTL_HOME/events.jsonl"
run "$MODELCTL" stats
check "a log shorter than the state's mark is detected (exit 1, hint)" eval \
    'rc_is 1 && has "$ERR" "shorter" && has "$ERR" "--repair"'
run "$MODELCTL" store --repair
run "$MODELCTL" --json stats
check "... repair resets the mark and keeps the 4 uses" eval \
    'rc_is 0 && [ -n "$OUT" ] && jq -e "(.models[] | select(.model == \"model1:latest\") | .uses) == 4" <<<"$OUT" >/dev/null'

# --- A full disk never swallows a recorded use ------------------------------
if mount -t tmpfs -o size=256k tmpfs "$SCRATCH/fresh" 2>/dev/null; then
    export MODELCTL_HOME="$SCRATCH/fresh/store"
    log="$MODELCTL_HOME/events.jsonl"
    "$MODELCTL" -q record m --latency-ms 1
    s0=$(stat -c %s "$log")
    "$MODELCTL" -q record m --latency-ms 1
    s1=$(stat -c %s "$log")
    # One more use, its model's name padded so that the log ends 60 bytes
    # short of a page: tmpfs allocates pages, so the next line half fits.
    line=$((s1 - s0)) grow=$(((s1 / 4096 + 1) * 4096 - 60 - s1))
    [ "$grow" -ge "$line" ] || grow=$((grow + 4096))
    "$MODELCTL" -q record "m$(head -c $((grow - line)) /dev/zero | tr '\0' a)" --latency-ms 1
    dd if=/dev/zero of="$SCRATCH/fresh/fill" bs=4k 2>/dev/null || true # the disk is full
    run "$MODELCTL" record model1 --latency-ms 2 --task coding
    full_rc=$RC
    rm -f "$SCRATCH/fresh/fill" "$SCRATCH/fresh/fill2"
    run "$MODELCTL" record model1 --latency-ms 3
    uses=$(grep -c '"latency_ms":[23]' "$log" || true)
    RC=$full_rc
    check "record on a full disk fails (exit 1) and leaves no torn line" eval \
        'rc_is 1 && [ "$(tail -c 1 "$MODELCTL_HOME/events.jsonl" | od -An -c | tr -d " ")" = "\n" ] && [ -s "$MODELCTL_HOME/events.jsonl" ] && jq -e . "$MODELCTL_HOME/events.jsonl" >/dev/null'
    RC=0
    check "... and the next use is recorded whole (the failed one is not in the log)" eval '[ "$uses" -eq 1 ]'
    umount "$SCRATCH/fresh"
    export MODELCTL_HOME="$SCRATCH/store"
else
    echo "# skipped the full-disk case: mounting a tmpfs needs root"
fi

# --- The lock is checked before the server is changed -----------------------
seed_store
exec 9>"$MODELCTL_HOME/lock"
flock 9
run env MODELCTL_LOCK_TIMEOUT=300ms "$MODELCTL" load model1
loaded=$(curl -s "$SIM_URL/api/ps" | jq '.models | length')
check "load with the store locked exits 1 and loads nothing" eval \
    'rc_is 1 && has "$ERR" "locked" && [ "$loaded" = 0 ]'
exec 9>&-

finish
