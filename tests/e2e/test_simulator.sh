#!/usr/bin/env bash
# modelsim follows Ollama's documented scheduling: at most 3 loaded, eviction
# by shortest keep_alive then model path, GPU/CPU split, out-of-memory error,
# keep_alive expiry, and asynchronous unload.
source "$(dirname "$0")/lib.sh"
# These tests are about the server's own rules: modelctl must not plan
# around them, so no limit on the count on modelctl's side.
export MODELCTL_BUDGET_MAX_LOADED=0

start_sim --speed 50 --vram 48GB
# Ollama (Go's net.Listen) listens with the kernel's somaxconn; cpp-httplib
# 0.11's backlog of 5 made 64 clients connecting at once wait out SYN
# retransmits. ss's Send-Q of a listener is its backlog.
run ss -Hltn "sport = :$SIM_PORT"
check "modelsim listens with a backlog of at least 128, as Ollama does" \
    eval '[ -n "$OUT" ] && [ "$(awk "{ print \$3 }" <<<"$OUT")" -ge 128 ]'
"$MODELCTL" -q load llama3.2:1b --keep-alive 1h
"$MODELCTL" -q load llama3.2:3b --keep-alive 5m
"$MODELCTL" -q load llama3.1:8b --keep-alive 30m
run "$MODELCTL" load qwen2.5-coder:1.5b --keep-alive 2h
run "$MODELCTL" status -q
check "a 4th model evicts the one with the shortest keep_alive" eval '! has "$OUT" "llama3.2:3b" && has "$OUT" "llama3.2:1b" && has "$OUT" "llama3.1:8b" && has "$OUT" "qwen2.5-coder:1.5b"'

start_sim --speed 50 --vram 4GB --ram 64GB
run "$MODELCTL" load llama3.1:8b
check "too big for the GPU alone: split GPU/CPU" eval 'rc_is 0 && has "$OUT" "CPU/GPU"'
run "$MODELCTL" status --json
check "split reported with size_vram < size" eval 'jq -e ".loaded[0].size_vram > 0 and .loaded[0].size_vram < .loaded[0].size" <<<"$OUT" >/dev/null'

start_sim --speed 50 --vram 0 --ram 16GB
run "$MODELCTL" load llama3.2:3b
check "no GPU: 100% CPU" eval 'rc_is 0 && has "$OUT" "100% CPU"'
run "$MODELCTL" load llama3.3:70b
check "bigger than memory: Ollama's out-of-memory error, exit 4" eval 'rc_is 4 && has "$ERR" "requires more system memory"'

start_sim --speed 50
"$MODELCTL" -q load llama3.2:1b --keep-alive 1s
run "$MODELCTL" status --json
check "keep_alive counts down" eval 'jq -e ".loaded[0].expiry == \"at\" and .loaded[0].expires_in_seconds <= 1" <<<"$OUT" >/dev/null'
sleep 1.3
run "$MODELCTL" status --json
check "an expired model is stopping or gone" eval 'jq -e "(.loaded | length) == 0 or .loaded[0].expiry == \"stopping\"" <<<"$OUT" >/dev/null'

start_sim --unload 1.5
curl -s "$SIM_URL/api/generate" -d '{"model":"llama3.2:1b","keep_alive":"10m"}' >/dev/null
curl -s "$SIM_URL/api/generate" -d '{"model":"llama3.2:1b","keep_alive":0}' >/dev/null
run "$MODELCTL" status
check "unload is asynchronous: listed as Stopping... meanwhile, as ollama ps shows it" eval 'has "$OUT" "Stopping..."'
curl -s "$SIM_URL/api/generate" -d '{"model":"llama3.2:1b","keep_alive":"10m"}' >/dev/null
start=$(date +%s%N)
run "$MODELCTL" unload llama3.2:1b
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "modelctl unload returns once the model is gone" eval 'rc_is 0 && [ "$elapsed_ms" -ge 1400 ] && [ -z "$("$MODELCTL" status -q)" ]'

run curl -s "$SIM_URL/api/generate" -d '{"model":"llama3.2:1b","keep_alive":"300"}'
check "a unitless keep_alive string is refused as Ollama does" eval 'has "$OUT" "missing unit in duration"'

start_sim --speed 20
curl -s "$SIM_URL/api/pull" -d '{"model":"llama3.2:1b"}' >"$SCRATCH/pull.ndjson"
run jq -sc '[.[0].status, (.[1] | has("completed")), (.[2].completed > 0), .[-1].status, ([.[] | select(.digest) | .digest | startswith("sha256:")] | all)]' "$SCRATCH/pull.ndjson"
check "pull streams as docs/api.md: manifest, layers (completed once some arrived), success" eval '[ "$OUT" = "[\"pulling manifest\",false,true,\"success\",true]" ]'
run curl -s "$SIM_URL/api/pull" -d '{"model":"nosuch:1b"}'
check "pull of a model the registry lacks: an error line after the manifest line" eval 'has "$OUT" "{\"status\":\"pulling manifest\"}" && has "$OUT" "pull model manifest: file does not exist"'
run curl -s -o /dev/null -w "%{http_code}" "$SIM_URL/api/copy" -d '{"source":"llama3.2:1b","destination":"backup:one"}'
check "copy answers 200 and the copy is listed with the source's digest" eval '[ "$OUT" = 200 ] && [ "$(curl -s "$SIM_URL/api/tags" | jq -r ".models[] | select(.name == \"backup:one\") | .digest")" = "$(curl -s "$SIM_URL/api/tags" | jq -r ".models[] | select(.name == \"llama3.2:1b\") | .digest")" ]'
run curl -s -o /dev/null -w "%{http_code}" -X DELETE "$SIM_URL/api/delete" -d '{"model":"backup:one"}'
code1=$OUT
run curl -s -o /dev/null -w "%{http_code}" -X DELETE "$SIM_URL/api/delete" -d '{"model":"backup:one"}'
check "delete answers 200, then 404 once it is gone" eval '[ "$code1" = 200 ] && [ "$OUT" = 404 ]'
curl -s "$SIM_URL/api/generate" -d '{"model":"llama3.2:1b","keep_alive":"10m"}' >/dev/null
old=$(curl -s "$SIM_URL/api/ps" | jq -r '.models[0].digest')
curl -s "$SIM_URL/api/pull" -d '{"model":"llama3.2:1b"}' >/dev/null
run curl -s "$SIM_URL/api/ps"
check "a loaded model keeps its weights after a pull" eval '[ "$(jq -r ".models[0].digest" <<<"$OUT")" = "$old" ]'
curl -s "$SIM_URL/api/generate" -d '{"model":"llama3.2:1b","prompt":"hi","stream":false}' >/dev/null
run curl -s "$SIM_URL/api/ps"
check "the next request reloads it with the new ones" eval '[ "$(jq -r ".models[0].digest" <<<"$OUT")" = "$(curl -s "$SIM_URL/api/tags" | jq -r ".models[] | select(.name == \"llama3.2:1b\") | .digest")" ]'
finish
