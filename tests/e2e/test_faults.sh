#!/usr/bin/env bash
# Every fault modelsim can inject gives its documented message and exit code.
source "$(dirname "$0")/lib.sh"

start_sim --fault refuse
run "$MODELCTL" status
check "refused connection: exit 3 naming the address" eval 'rc_is 3 && has "$ERR" "modelctl: error: cannot reach server at http://127.0.0.1:$SIM_PORT" && has "$ERR" "hint:"'
run "$MODELCTL" load llama3.2:3b
check "refused connection on load: exit 3" eval 'rc_is 3'

start_sim --fault delay=3000
run "$MODELCTL" --timeout 1s status
check "slow server past --timeout: exit 3, says timeout" eval 'rc_is 3 && has "$ERR" "within 1s"'

start_sim --fault busy=2 --speed 20
run "$MODELCTL" load llama3.2:3b
check "503 twice then OK: retried, succeeds" eval 'rc_is 0 && has "$OUT" "loaded llama3.2:3b"'

start_sim --fault busy
run "$MODELCTL" status
check "503 for good: gives up after bounded retries, exit 1" eval 'rc_is 1 && has "$ERR" "is busy" && has "$ERR" "gave up after 5 attempts"'

start_sim --fault oom
run "$MODELCTL" load llama3.3:70b
check "500 out of memory: exit 4 with a hint" eval 'rc_is 4 && has "$ERR" "out of memory loading '"'"'llama3.3:70b'"'"'" && has "$ERR" "requires more system memory" && has "$ERR" "unload other models"'
run "$MODELCTL" load nope:1b
check "not installed: exit 1, hint to pull" eval 'rc_is 1 && has "$ERR" "not installed" && has "$ERR" "modelctl pull nope:1b"'

start_sim --fault malformed
run "$MODELCTL" status
check "malformed JSON: exit 1, says so" eval 'rc_is 1 && has "$ERR" "not valid JSON"'

start_sim --fault truncate --speed 50
run "$GENERATE_PROBE" "$SIM_URL" llama3.2:3b "hello"
check "truncated stream: a clear error, not a hang" eval 'rc_is 1 && has "$ERR" "cut short" && has "$OUT" "The model is"'

start_sim --fault midstream-error --speed 50
run "$GENERATE_PROBE" "$SIM_URL" llama3.2:3b "hello"
check "error line mid-stream: its message" eval 'rc_is 1 && has "$ERR" "unexpected EOF"'

start_sim --speed 50
run "$GENERATE_PROBE" "$SIM_URL" llama3.2:3b "hello"
check "a clean stream ends with its metrics" eval 'rc_is 0 && has "$OUT" "done_reason=stop"'

# Several models in one call: the failing one is reported, the others loaded.
run "$MODELCTL" load llama3.2:1b nope:1b llama3.2:3b --json
check "one bad model among several: exit 1, others loaded" eval 'rc_is 1 && jq -e "[.results[].ok] == [true,false,true] and .results[1].error.kind == \"not_found\"" <<<"$OUT" >/dev/null'
finish
