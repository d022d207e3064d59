#!/usr/bin/env bash
# health: the right exit code and one line per check for a server down, a
# model missing, a model failing with 500, a model too slow, and all good;
# Prometheus output of health and status follows the text format's rules.
source "$(dirname "$0")/lib.sh"

# Server down: a port nothing listens on.
start_sim --fault refuse
run "$MODELCTL" health llama3.2:3b
check "server down: exit 3, the server check fails and says why" eval 'rc_is 3 && has "$OUT" "FAIL  server: cannot reach server" && ! has "$OUT" "llama3.2:3b"'
run "$MODELCTL" health --format prometheus
check "server down in Prometheus form: modelctl_health_server_up 0, exit 3" eval 'rc_is 3 && has "$OUT" "modelctl_health_server_up{server=\"$SIM_URL\"} 0"'
run "$MODELCTL" status --format prometheus
printf '%s\n' "$OUT" >"$SCRATCH/down.prom"
check "status --format prometheus with the server down: up 0, exit 3, still valid" eval 'rc_is 3 && has "$OUT" "modelctl_server_up{endpoint=\"ollama\",server=\"$SIM_URL\"} 0" && prom_valid "$SCRATCH/down.prom"'

start_sim --speed 20 --startup 0.2 --fault fail=gemma3:12b
run "$MODELCTL" health
check "the server alone: exit 0, its version" eval 'rc_is 0 && has "$OUT" "ok    server: Ollama 0.9.6 at $SIM_URL" && has "$OUT" "healthy: 1 of 1 checks passed"'
run "$MODELCTL" health llama3.2:3b
check "all good: installed, loads, answers; exit 0" eval 'rc_is 0 && has "$OUT" "ok    llama3.2:3b installed" && has "$OUT" "ok    llama3.2:3b load: loaded in" && has "$OUT" "ok    llama3.2:3b answer: answered 8 token(s), streamed to the end (length)"'
check "the model was loaded by the check" eval '[ "$(curl -s "$SIM_URL/api/ps" | jq -r ".models[0].name")" = llama3.2:3b ]'
run "$MODELCTL" health nosuch:1b
check "model missing: exit 1, the installed check says so" eval 'rc_is 1 && has "$OUT" "FAIL  nosuch:1b installed: not installed" && ! has "$OUT" "nosuch:1b load"'
run "$MODELCTL" health gemma3:12b llama3.2:3b
check "model failing with 500: exit 1, the load check gives the server's error, the next model is still checked" \
    eval 'rc_is 1 && has "$OUT" "FAIL  gemma3:12b load:" && has "$OUT" "HTTP 500" && has "$OUT" "llama runner process has terminated" && has "$OUT" "ok    llama3.2:3b answer"'
run "$MODELCTL" -q health gemma3:12b llama3.2:3b
check "health -q: the failed checks alone" eval 'rc_is 1 && has "$OUT" "FAIL  gemma3:12b load:" && ! has "$OUT" "ok    " && ! has "$OUT" "checks passed"'
run "$MODELCTL" -q health llama3.2:3b
check "health -q when healthy: nothing, exit 0" eval 'rc_is 0 && [ -z "$OUT" ]'
run "$MODELCTL" health nomic-embed-text
check "an embedding model loads through /api/embed and answers with an embedding" eval 'rc_is 0 && has "$OUT" "ok    nomic-embed-text:latest answer: embedded a line into 768 dimensions"'

run "$MODELCTL" load llama3.1:8b --keep-alive forever
run "$MODELCTL" health --loaded
check "--loaded checks every loaded model" eval 'rc_is 0 && has "$OUT" "ok    llama3.1:8b answer" && has "$OUT" "ok    llama3.2:3b answer" && has "$OUT" "ok    nomic-embed-text:latest answer"'
check "the probe keeps a model's keep-alive (forever stays forever)" eval '[ "$(curl -s "$SIM_URL/api/ps" | jq -r ".models[] | select(.name == \"llama3.1:8b\") | .expires_at[0:4]")" -gt 2100 ]'
check "the probe is not recorded as a use" eval 'jq -e ".endpoints.ollama.models[\"llama3.2:3b\"].usage == null" "$MODELCTL_HOME/state.json" >/dev/null'

run "$MODELCTL" health --format json llama3.2:3b nosuch:1b
check "--format json: healthy, exit_code and the checks" eval 'rc_is 1 && [ -n "$OUT" ] && jq -e ".schema == \"modelctl.health/v2\" and .healthy == false and .exit_code == 1 and .server.version == \"0.9.6\" and .server.kind == \"ollama\" and
    ([.checks[] | select(.ok | not) | .check + \" \" + .model] == [\"installed nosuch:1b\"])" <<<"$OUT" >/dev/null'
run "$MODELCTL" health --format prometheus llama3.2:3b gemma3:12b
printf '%s\n' "$OUT" >"$SCRATCH/health.prom"
check "health --format prometheus follows the format's rules" eval 'rc_is 1 && prom_valid "$SCRATCH/health.prom"'
check "and says which check failed" eval 'has "$OUT" "modelctl_health_check_ok{server=\"$SIM_URL\",check=\"load\",model=\"gemma3:12b\"} 0" && has "$OUT" "modelctl_health_healthy{server=\"$SIM_URL\"} 0"'

run "$MODELCTL" bench llama3.2:3b --runs 1 --num-predict 4
run "$MODELCTL" status --format prometheus
printf '%s\n' "$OUT" >"$SCRATCH/status.prom"
check "status --format prometheus follows the format's rules" eval 'rc_is 0 && prom_valid "$SCRATCH/status.prom"'
vram=$(curl -s "$SIM_URL/api/ps" | jq '.models[] | select(.name == "llama3.2:3b") | .size_vram')
check "bytes in VRAM and RAM per loaded model, as /api/ps says" eval 'has "$OUT" "modelctl_model_memory_bytes{endpoint=\"ollama\",server=\"$SIM_URL\",model=\"llama3.2:3b\",memory=\"vram\"} $vram" && has "$OUT" "modelctl_model_memory_bytes{endpoint=\"ollama\",server=\"$SIM_URL\",model=\"llama3.2:3b\",memory=\"ram\"} 0"'
check "a model kept forever expires at +Inf" eval 'has "$OUT" "modelctl_model_expiry_timestamp_seconds{endpoint=\"ollama\",server=\"$SIM_URL\",model=\"llama3.1:8b\"} +Inf"'
n=$(curl -s "$SIM_URL/api/ps" | jq ".models | length")
check "the loaded count and the last bench figures" eval 'has "$OUT" "modelctl_models_loaded{endpoint=\"ollama\",server=\"$SIM_URL\"} $n" && grep -q "^modelctl_bench_tokens_per_second{endpoint=\"ollama\",model=\"llama3.2:3b\"} [0-9]" <<<"$OUT"'
printf 'bad{x="1"} 1\nbad{x="1"} 2\n' >"$SCRATCH/dup.prom"
printf 'm 1\n# TYPE m gauge\n' >"$SCRATCH/late.prom"
printf 'm{model="a"b"} 1\n' >"$SCRATCH/quote.prom"
check "the format check itself refuses what breaks the rules" eval '! prom_valid "$SCRATCH/dup.prom" >/dev/null && ! prom_valid "$SCRATCH/late.prom" >/dev/null && ! prom_valid "$SCRATCH/quote.prom" >/dev/null'

# A load that must evict names what it unloaded; --no-evict fails the check
# instead; either way the other models' fate is said.
start_sim --speed 20 --startup 0.2
"$MODELCTL" -q load llama3.2:3b qwen2.5-coder:7b
run env MODELCTL_BUDGET_MEMORY=9GB "$MODELCTL" health --no-evict llama3.1:8b
check "health --no-evict: the load check fails naming what it would unload, nothing unloaded" eval 'rc_is 1 &&
    has "$OUT" "FAIL  llama3.1:8b load: not enough room without unloading" && has "$OUT" "(--no-evict)" &&
    [ "$(curl -s "$SIM_URL/api/ps" | jq ".models | length")" = 2 ]'
run env MODELCTL_BUDGET_MEMORY=9GB "$MODELCTL" health llama3.1:8b
check "health names the models it unloaded to load" eval 'rc_is 0 && grep -qE "ok    llama3.1:8b load: loaded in .*; unloaded (llama3.2:3b|qwen2.5-coder:7b)(, (llama3.2:3b|qwen2.5-coder:7b))? to make room" <<<"$OUT"'

# A stream that breaks mid-answer (after 3 tokens) fails the answer check, as
# it fails run: the probe asks for more and reads to the end.
start_sim --speed 20 --startup 0.2 --fault midstream-error
run "$MODELCTL" health llama3.2:3b
check "a stream broken mid-answer: the answer check fails, exit 1" eval 'rc_is 1 && has "$OUT" "FAIL  llama3.2:3b answer:" && has "$OUT" "unexpected EOF"'

# Too slow: real-time loads (1 s start-up + size / 2 GB/s) against a 1 s timeout.
start_sim --speed 1
run "$MODELCTL" health llama3.1:8b --timeout 1s
check "model too slow: exit 1, no answer within the timeout" eval 'rc_is 1 && has "$OUT" "FAIL  llama3.1:8b load: no answer within 1s (timeout)" && has "$OUT" "ok    server"'
run "$MODELCTL" health --timeout soon
check "a bad --timeout is a usage error" eval 'rc_is 2 && has "$ERR" "not a duration"'
finish
