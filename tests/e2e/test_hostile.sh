#!/usr/bin/env bash
# Nothing a server sends can exhaust modelctl's memory or time (issue 15):
# each case is a scripted server (tests/tools/hostile_server.cpp) misbehaving,
# and each modelctl run is held to its exit code, message, wall time and
# peak memory (RSS).
source "$(dirname "$0")/lib.sh"
: "${HOSTILE_SERVER:?path to the hostile_server test tool}"

# hostile MODE [options...]: starts a scripted server; sets OLLAMA_HOST.
hostile() {
    local pf="$SCRATCH/hport.$RANDOM$RANDOM"
    "$HOSTILE_SERVER" --port-file "$pf" "$@" >"$SCRATCH/hostile.log" 2>&1 &
    SIM_PIDS+=($!)
    for _ in $(seq 1 200); do
        [ -s "$pf" ] && break
        sleep 0.02
    done
    [ -s "$pf" ] || { echo "hostile_server did not start"; exit 1; }
    export OLLAMA_HOST="127.0.0.1:$(cat "$pf")"
}
# measured CMD...: runs it as run() does; WALL (s) and RSS (KB) as measured.
measured() {
    run /usr/bin/time -f "%e %M" -o "$SCRATCH/time" "$@"
    ERR=$(grep -v '^Command exited' <<<"$ERR" || true)
    read -r WALL RSS <<<"$(tail -1 "$SCRATCH/time")"
    echo "# $(cut -c1-80 <<<"$*"): rc=$RC, ${WALL}s, ${RSS} KB"
}
under() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
# Memory caps in KB; AddressSanitizer's shadow and quarantine take several
# times what the program does, so a sanitized build gets four times as much.
SCALE=1
[ -z "${TEST_SANITIZED:-}" ] || SCALE=4
MB=$((1024 * SCALE))

# A byte every second: --timeout bounds the whole request, not each read.
hostile drip --every 1000 --body "$(dirname "$0")/../data/ollama-ps.json"
measured "$MODELCTL" --timeout 3s status
check "a server dripping a byte a second: status --timeout 3s gives up in time (exit 3)" eval \
    'rc_is 3 && has "$ERR" "within 3s" && under "$WALL" 5'
measured "$MODELCTL" health --timeout 3s
check "... health --timeout 3s too" eval 'rc_is 3 && under "$WALL" 5'

# A body that never ends, and one that inflates: capped at 64 MiB.
hostile endless
measured "$MODELCTL" status
check "a never-ending body is cut off at 64 MiB (exit 1, says so)" eval \
    'rc_is 1 && has "$ERR" "larger than the 67 MB" && under "$RSS" $((300 * MB)) && under "$WALL" 20'
head -c 300000000 /dev/zero | gzip -c >"$SCRATCH/bomb.gz"
hostile normal --body "$SCRATCH/bomb.gz" --header "Content-Encoding: gzip"
measured "$MODELCTL" status
check "a gzip bomb ($(stat -c %s "$SCRATCH/bomb.gz") bytes, 300 MB inflated) is cut off at 64 MiB" eval \
    'rc_is 1 && has "$ERR" "larger than" && under "$RSS" $((300 * MB))'
hostile longline
measured "$GENERATE_PROBE" "http://$OLLAMA_HOST" m hi
check "a stream line that never ends is cut off at 1 MiB" eval \
    'rc_is 1 && has "$ERR" "longer than 1.0 MB" && under "$RSS" $((100 * MB))'

# Broken HTTP is a malformed answer (exit 1), not "unreachable" (exit 3).
for mode in garbage badchunk truncate; do
    hostile "$mode" --body "$(dirname "$0")/../data/ollama-ps.json"
    measured "$MODELCTL" status
    check "$mode: a malformed answer, exit 1, at once" eval \
        'rc_is 1 && has "$ERR" "malformed answer" && under "$WALL" 2'
done
hostile normal --status 301 --header "Location: http://127.0.0.1:9/elsewhere"
measured "$MODELCTL" status
check "a redirect says it is one, and where to" eval \
    'rc_is 1 && has "$ERR" "redirect (HTTP 301) to http://127.0.0.1:9/elsewhere"'

# The last line of a stream need not end with a newline.
printf '%s' '{"model":"m","response":"hello","done":true,"eval_count":1,"eval_duration":1000}' >"$SCRATCH/one-line"
hostile normal --body "$SCRATCH/one-line" --header "Transfer-Encoding: identity"
measured "$GENERATE_PROBE" "http://$OLLAMA_HOST" m hi
check "a stream whose last line has no newline keeps that line" eval \
    'rc_is 0 && has "$OUT" "hello" && has "$OUT" "eval_count=1"'

# Names, numbers and error texts from a server are hostile too.
cat >"$SCRATCH/ps.json" <<'JSON'
{"models": [{"name": "evil\u001b[2J\u001b]0;pwned\u0007:latest", "model": "evil:latest",
  "digest": "abc", "size": 1e300, "size_vram": 1e300, "context_length": 1e300,
  "expires_at": "garbage", "details": {"family": "x\u009by"}}]}
JSON
hostile normal --body "$SCRATCH/ps.json"
measured "$MODELCTL" status
check "status escapes control characters in a server's model names (no raw ESC or BEL)" eval \
    'rc_is 0 && has "$OUT" "evil\\x1b[2J" && ! grep -q $'"'"'[\x1b\x07]'"'"' <<<"$OUT$ERR"'
check "... an expiry that does not parse reads unknown, not Never" eval 'has "$OUT" "unknown"'
measured "$MODELCTL" --json status
check "... and sizes and context lengths of 1e300 are clamped, not converted out of range" eval \
    'rc_is 0 && [ -n "$OUT" ] && jq -e ".models[0].size <= 1e15 and .models[0].context_length <= 1073741824" <<<"$OUT" >/dev/null'
check "... the store keeps no control character either" eval \
    '! grep -q $'"'"'\x1b'"'"' "$MODELCTL_HOME/state.json" 2>/dev/null'
printf '{"error": "\\u001b]0;pwned\\u0007 %s"}' "$(head -c 20000000 /dev/zero | tr '\0' e)" >"$SCRATCH/err.json"
hostile normal --status 500 --body "$SCRATCH/err.json"
measured "$MODELCTL" status
check "a 20 MB error text with controls: one escaped line of at most a few KB" eval \
    'rc_is 1 && has "$ERR" "\\x1b]0;pwned\\x07" && [ "$(wc -l <<<"$ERR")" -eq 1 ] && [ "${#ERR}" -lt 3000 ]'

# LM_API_TOKEN goes to the default LM Studio port only once it has answered
# LM Studio's greeting: whatever else listens on 127.0.0.1:1234 learns nothing.
if "$HOSTILE_SERVER" --port-file "$SCRATCH/p1234" --port 1234 --log "$SCRATCH/requests" normal \
    >/dev/null 2>&1 & then
    pid=$!
    SIM_PIDS+=($pid)
    for _ in $(seq 1 100); do [ -s "$SCRATCH/p1234" ] || ! kill -0 $pid 2>/dev/null && break; sleep 0.02; done
fi
if [ -s "$SCRATCH/p1234" ]; then
    start_sim --speed 50
    LM_API_TOKEN=s3cret-token measured "$MODELCTL" -v status
    check "a server on 1234 that is not LM Studio never sees LM_API_TOKEN, and status goes on" eval \
        'rc_is 0 && has "$(cat "$SCRATCH/requests")" "GET /lmstudio-greeting" && ! grep -q s3cret "$SCRATCH/requests" && has "$ERR" "does not answer as LM Studio"'
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    "$MODELSIM" --api lmstudio --port 1234 --port-file "$SCRATCH/p1234b" --api-token s3cret-token >/dev/null 2>&1 &
    SIM_PIDS+=($!)
    for _ in $(seq 1 200); do [ -s "$SCRATCH/p1234b" ] && break; sleep 0.02; done
    LM_API_TOKEN=s3cret-token measured "$MODELCTL" --endpoint lmstudio status
    check "... while LM Studio itself, greeting first, gets the token (its models listed)" eval 'rc_is 0'
else
    echo "# skipped the LM Studio greeting case: port 1234 is taken"
fi

# A host string long enough to crash the URL regex is refused first.
long=$(head -c 20000 /dev/zero | tr '\0' a)
measured "$MODELCTL" --host "$long" status
check "a 20,000-character --host is refused (exit 2), no crash" eval 'rc_is 2 && has "$ERR" "too long"'
OLLAMA_HOST="$long" measured "$MODELCTL" status
check "... and OLLAMA_HOST too" eval 'rc_is 2 && has "$ERR" "too long"'

finish
