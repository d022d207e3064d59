#!/usr/bin/env bash
# modelctl serve (issue 17) with curl: everything passes through as the
# server sent it, streams flow piece by piece, requests that load a model are
# admitted by the policy (evictions, refusals, busy models never evicted), body
# caps, unloads, keep_alive handed to modelctl, every answer recorded as a
# use, SIGTERM drains and exits 0.
source "$(dirname "$0")/lib.sh"
start_sim --speed 50 --vram 48GB --max-loaded 8
export MODELCTL_BUDGET_MEMORY=12GB
export MODELCTL_BUDGET_MAX_LOADED=8

RC=0 ERR=
# http ARGS...: curl, setting STATUS and OUT (the body).
http() {
    STATUS=$(curl -s --max-time 60 -o "$SCRATCH/body" -w '%{http_code}' "$@" || true)
    OUT=$(cat "$SCRATCH/body")
}
loaded() { curl -s "$SIM_URL/api/ps" | jq -r '[.models[].name] | sort | join(" ")'; }

start_serve -v

# --- pass-through ---
http "$SERVE_URL/"
check "GET / passes through" eval '[ "$STATUS" = 200 ] && [ "$OUT" = "Ollama is running" ]'
direct=$(curl -s "$SIM_URL/api/tags?x=1" | jq -S .)
http "$SERVE_URL/api/tags?x=1"
check "/api/tags through serve is the server's, byte for byte" eval '[ "$STATUS" = 200 ] && [ -n "$direct" ] && [ "$(jq -S . <<<"$OUT")" = "$direct" ]'
http -X POST "$SERVE_URL/api/show" -d '{"model":"llama3.2:1b"}'
check "POST /api/show passes through" eval '[ "$STATUS" = 200 ] && jq_out ".model_info[\"general.parameter_count\"] > 1000000000"'
http "$SERVE_URL/api/nothing"
check "an unknown route gets the server's own 404" eval '[ "$STATUS" = 404 ]'
head=$(curl -s -I "$SERVE_URL/")
check "HEAD / answers 200 with no body" eval 'has "$head" "HTTP/1.1 200" && has "$head" "Content-Length: 17"'
http -X POST "$SERVE_URL/api/generate" -d '{"prompt":"no model"}'
check "a model route without a model: the server answers the mistake" eval '[ "$STATUS" = 400 ] && jq_out ".error == \"model is required\""'

# --- a stream through serve ---
curl -sN "$SERVE_URL/api/generate" -d '{"model":"llama3.2:1b","prompt":"hi","options":{"num_predict":40}}' |
    while IFS= read -r line; do echo "$(date +%s.%N) $line"; done >"$SCRATCH/stream"
check "the stream ends with the server's done line" eval '[ -s "$SCRATCH/stream" ] && tail -1 "$SCRATCH/stream" | cut -d" " -f2- | jq -e ".done == true and .eval_count == 40" >/dev/null'
ps=$(curl -s "$SIM_URL/api/ps")
check "residency is modelctl's: the request carried keep_alive forever" eval '[ -n "$ps" ] && jq -e ".models[0].expires_at | startswith(\"23\")" <<<"$ps" >/dev/null'

# --- OpenAI-compatible routes ---
http "$SERVE_URL/v1/chat/completions" -d '{"model":"llama3.2:1b","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}'
check "an OpenAI stream passes through as SSE, usage included" eval '[ "$STATUS" = 200 ] && grep -q "^data: \[DONE\]" <<<"$OUT" && grep "completion_tokens" <<<"$OUT" | grep -q "^data: "'
ps=$(curl -s "$SIM_URL/api/ps")
check "after a /v1 request serve put the keep_alive back" eval '[ -n "$ps" ] && jq -e ".models[0].expires_at | startswith(\"23\")" <<<"$ps" >/dev/null'

# --- admission: evictions and refusals by the policy ---
curl -s "$SERVE_URL/api/generate" -d '{"model":"llama3.1:8b","prompt":"a","stream":false}' >/dev/null
curl -s "$SERVE_URL/api/generate" -d '{"model":"qwen2.5-coder:7b","prompt":"a","stream":false}' >/dev/null
check "two models that fit the 12 GB budget together are both loaded" eval '[ "$(loaded)" = "llama3.1:8b qwen2.5-coder:7b" ] || [ "$(loaded)" = "llama3.1:8b llama3.2:1b qwen2.5-coder:7b" ]'
http "$SERVE_URL/api/generate" -d '{"model":"mistral-small:24b","prompt":"a"}'
check "a model larger than the budget is refused as Ollama refuses a load: 500 and why" eval '[ "$STATUS" = 500 ] && jq_out ".error | test(\"mistral-small:24b needs .* more than the whole budget\")"'
http "$SERVE_URL/v1/chat/completions" -d '{"model":"mistral-small:24b","messages":[{"role":"user","content":"a"}]}'
check "on /v1 the refusal comes in the OpenAI error envelope" eval '[ "$STATUS" = 500 ] && jq_out ".error.type == \"api_error\" and (.error.message | contains(\"budget\"))"'
check "the refusal is logged" eval 'grep -q "refuse mistral-small:24b" "$SCRATCH/serve.err"'
http "$SERVE_URL/api/generate" -d '{"model":"gemma3:12b","prompt":"a","stream":false}'
now=$(loaded)
check "a model that needs room evicts by the policy, then answers" eval '[ "$STATUS" = 200 ] && has "$now" gemma3:12b && ! has "$now" llama3.1:8b && ! has "$now" qwen2.5-coder:7b && grep -q "evict llama3.1:8b" "$SCRATCH/serve.err"'
http "$SERVE_URL/api/chat" -d '{"model":"nope:1b","messages":[{"role":"user","content":"a"}]}'
check "a model not installed: Ollama's 404" eval '[ "$STATUS" = 404 ] && jq_out ".error == \"model \\\"nope:1b\\\" not found, try pulling it first\""'

# --- a client's unload ---
http "$SERVE_URL/api/generate" -d '{"model":"gemma3:12b","keep_alive":0}'
check "an empty prompt with keep_alive 0 unloads, answered as Ollama does" eval '[ "$STATUS" = 200 ] && jq_out ".done_reason == \"unload\"" && ! has "$(loaded)" gemma3:12b'

# --- management: status and metrics ---
http "$SERVE_URL/modelctl/v1/status"
check "/modelctl/v1/status is the status --json document" eval '[ "$STATUS" = 200 ] && jq_out ".schema == \"modelctl.status/v1\" and (.loaded | map(.name) | index(\"qwen2.5-coder:14b\") == null)"'
curl -s "$SERVE_URL/metrics" >"$SCRATCH/metrics.prom"
check "/metrics is valid Prometheus text" prom_valid "$SCRATCH/metrics.prom"
check "/metrics counts requests by model, route and status" eval 'grep -q "^modelctl_serve_requests_total{model=\"llama3.2:1b\",route=\"/api/generate\",status=\"200\"} 1$" "$SCRATCH/metrics.prom"'
check "/metrics counts admission's loads, evictions and refusals" eval 'grep -q "^modelctl_serve_admission_total{action=\"refuse\",model=\"mistral-small:24b\"} 2$" "$SCRATCH/metrics.prom" && grep -q "^modelctl_serve_admission_total{action=\"evict\"" "$SCRATCH/metrics.prom" && grep -q "^modelctl_serve_time_to_first_token_seconds_bucket{model=\"llama3.2:1b\",le=\"+Inf\"} 2$" "$SCRATCH/metrics.prom"'
curl -s "$SERVE_URL/no/such/$RANDOM" >/dev/null; curl -s "$SERVE_URL/other/$RANDOM" >/dev/null
check "random paths do not make new series" eval '[ "$(curl -s "$SERVE_URL/metrics" | grep -c "^modelctl_serve_requests_total{model=\"-\",route=\"other\"")" = 1 ]'

# --- management: load, unload, gc, and the event stream ---
curl -sN --max-time 60 "$SERVE_URL/modelctl/v1/events" >"$SCRATCH/events.sse" &
ev=$!
for _ in $(seq 1 200); do [ -s "$SCRATCH/events.sse" ] && break; sleep 0.01; done
http "$SERVE_URL/modelctl/v1/load" -d '{"models":["llama3.1:8b"]}'
check "POST load loads, answering load's document" eval '[ "$STATUS" = 200 ] && jq_out ".schema == \"modelctl.load/v2\" and .results[0].ok" && has "$(loaded)" llama3.1:8b'
before=$(loaded)
http "$SERVE_URL/modelctl/v1/load" -d '{"models":["gemma3:12b"],"dry_run":true}'
check "POST load with dry_run: load's plan, with the policy's reasons, and nothing changed" eval '[ "$STATUS" = 200 ] && jq_out ".schema == \"modelctl.load/v2\" and .dry_run and .plan.feasible and (.plan.evict | length > 0) and (.plan.evict[0].reason | length > 0)" && [ "$(loaded)" = "$before" ]'
http "$SERVE_URL/modelctl/v1/load" -d '{"models":["gemma3:12b"]}'
check "POST load evicts by the policy and loads" eval '[ "$STATUS" = 200 ] && jq_out ".results[0].ok and (.plan.evicted | length > 0)" && has "$(loaded)" gemma3:12b'
http "$SERVE_URL/modelctl/v1/load" -d '{"models":["mistral-small:24b"]}'
check "POST load of a plan that cannot fit: 409, the plan and why" eval '[ "$STATUS" = 409 ] && jq_out ".plan.feasible == false and .error.kind == \"refused\""'
http "$SERVE_URL/modelctl/v1/load" -d '{"models":["nope:1b"]}'
check "POST load of a model the server lacks: 404 and a failed result" eval '[ "$STATUS" = 404 ] && jq_out ".results[0].ok == false and .results[0].error.kind == \"not_found\""'
http "$SERVE_URL/modelctl/v1/load" -d '{"model":"gemma3:12b"}'
check "a misspelt field is refused, not ignored: 400 in the error document" eval '[ "$STATUS" = 400 ] && jq_out ".schema == \"modelctl.error/v1\" and (.error.message | contains(\"unknown field\"))"'
head -c 1100000 /dev/zero | tr '\0' ' ' >"$SCRATCH/big.json"
http "$SERVE_URL/modelctl/v1/load" --data-binary @"$SCRATCH/big.json"
check "a management body over 1 MiB: 413 in the error document" eval '[ "$STATUS" = 413 ] && jq_out ".schema == \"modelctl.error/v1\" and .error.kind == \"usage\""'
http "$SERVE_URL/modelctl/v1/gc"
check "GET on a management action: 405" eval '[ "$STATUS" = 405 ]'
http "$SERVE_URL/modelctl/v1/gc" -d '{"idle":"1h","dry_run":true}'
check "POST gc answers gc's document" eval '[ "$STATUS" = 200 ] && jq_out ".schema == \"modelctl.gc/v2\" and .dry_run and (.actions | type == \"array\")"'
http "$SERVE_URL/modelctl/v1/unload" -d '{"models":["gemma3:12b"]}'
check "POST unload unloads" eval '[ "$STATUS" = 200 ] && jq_out ".schema == \"modelctl.unload/v2\" and .results[0].was_loaded" && ! has "$(loaded)" gemma3:12b'
for _ in $(seq 1 200); do grep -q "^event: unload" "$SCRATCH/events.sse" && break; sleep 0.01; done
kill $ev 2>/dev/null; wait $ev 2>/dev/null || true
sse_data() { grep "^data: " "$SCRATCH/events.sse" | cut -c7- | jq -c "select($1)"; }
check "the event stream tells the eviction with its reason, the load, the refusal and the unload, numbered" eval '[ -n "$(sse_data ".type == \"evict\" and (.reason | length > 0)")" ] && [ -n "$(sse_data ".type == \"load\" and .model == \"gemma3:12b\"")" ] && [ -n "$(sse_data ".type == \"refuse\"")" ] && [ -n "$(sse_data ".type == \"unload\" and .model == \"gemma3:12b\"")" ] && grep "^id: " "$SCRATCH/events.sse" | cut -c5- | sort -n -u -c'
ids=$(grep "^id: " "$SCRATCH/events.sse" | head -2 | tail -1 | cut -c5-)
curl -sN --max-time 1 -H "Last-Event-ID: $((ids - 1))" "$SERVE_URL/modelctl/v1/events" >"$SCRATCH/again.sse" || true
check "a listener that reconnects with Last-Event-ID gets what it missed" eval '[ -n "$ids" ] && grep -q "^id: $ids$" "$SCRATCH/again.sse" && ! grep -q "^id: $((ids - 1))$" "$SCRATCH/again.sse"'

stop_serve
check "SIGTERM: serve exits 0" eval '[ "$SERVE_RC" = 0 ]'
run "$MODELCTL" --json stats
check "every answer was recorded as a use, with the server's token counts" eval 'rc_is 0 && jq_out "[.models[] | select(.model == \"llama3.2:1b\")][0] | .uses == 2 and .tokens_out == 200"'
# events MATCH: the events of the log that MATCH (a jq condition), one a line.
events() { jq -c "select($1)" "$MODELCTL_HOME/events.jsonl"; }
check "a recorded use has tokens and time to first token" eval '[ -n "$(events ".type == \"use\" and .model == \"llama3.2:1b\" and .tokens_out == 40 and .ttft_ms > 0")" ]'
check "the refusal and the 404 are not uses" eval '[ -n "$(events ".type == \"use\"")" ] && [ -z "$(events ".type == \"use\" and (.model == \"mistral-small:24b\" or .model == \"nope:1b\")")" ]'

# --- streams and clients that leave, at real speed: every answer is 200
# tokens, 2.5 seconds of llama3.1:8b, time enough for the checks made while
# one runs, however slow the machine ---
start_sim --startup 0 --min-tokens 200
MODELCTL_BUDGET_MEMORY=8GB start_serve -v
sim_stats() { curl -s "$SIM_URL/modelsim/stats"; }
curl -s "$SERVE_URL/api/generate" -d '{"model":"llama3.1:8b"}' >/dev/null # loaded first
# Pieces arrive as they are made, not all at once: the first line within a
# third of the answer's time, the last at its end.
t0=$(date +%s.%N)
curl -sN "$SERVE_URL/api/generate" -d '{"model":"llama3.1:8b","prompt":"hi"}' |
    while IFS= read -r line; do echo "$(date +%s.%N) $line"; done >"$SCRATCH/stream"
first=$(head -1 "$SCRATCH/stream" | cut -d' ' -f1)
last=$(tail -1 "$SCRATCH/stream" | cut -d' ' -f1)
check "the stream arrives line by line, as the server makes it" eval '[ "$(wc -l <"$SCRATCH/stream")" -ge 20 ] && awk -v t="$t0" -v a="$first" -v b="$last" "BEGIN { exit !(b - t > 0.5 && a - t < (b - t) / 3) }"'
curl -sN --max-time 0.4 "$SERVE_URL/api/generate" -d '{"model":"llama3.1:8b","prompt":"x"}' >"$SCRATCH/cut" || true
for _ in $(seq 1 100); do grep -q "cancelled" "$SCRATCH/serve.err" && break; sleep 0.02; done
check "a client that leaves is logged as cancelled, having had part of the answer" eval 'grep -q "model=llama3.1:8b status=200 .*cancelled" "$SCRATCH/serve.err" && [ -s "$SCRATCH/cut" ]'
# The server's stream stops too: its model is released and can be unloaded
# at once (modelsim unloads a model in use only once its requests end).
http "$SIM_URL/api/generate" -d '{"model":"llama3.1:8b","keep_alive":0}'
for _ in $(seq 1 100); do [ -z "$(loaded)" ] && break; sleep 0.05; done
check "leaving cancelled the request at the server" eval '[ -z "$(loaded)" ]'
# A busy model is never evicted: qwen2.5-coder:7b needs llama3.1:8b's room
# (8 GB hold one of them), so its request waits until llama's answer ends.
curl -s "$SERVE_URL/api/generate" -d '{"model":"llama3.1:8b"}' >/dev/null
( curl -sN "$SERVE_URL/api/generate" -d '{"model":"llama3.1:8b","prompt":"long"}' >"$SCRATCH/a_out"
  date +%s.%N >"$SCRATCH/a_done" ) &
a=$!
for _ in $(seq 1 500); do [ -s "$SCRATCH/a_out" ] && break; sleep 0.01; done # answering now
http "$SERVE_URL/modelctl/v1/unload" -d '{"models":["llama3.1:8b"]}'
check "POST unload of a model answering a request: 503 busy, and it stays" eval '[ "$STATUS" = 503 ] && jq_out ".results[0].error.kind == \"busy\"" && [ "$(loaded)" = "llama3.1:8b" ]'
http "$SERVE_URL/modelctl/v1/load" -d '{"models":["qwen2.5-coder:7b"]}'
check "POST load that needs a busy model's room: refused, the busy model kept as a pin" eval '[ "$STATUS" = 409 ] && jq_out ".plan.feasible == false" && [ "$(loaded)" = "llama3.1:8b" ]'
curl -s "$SERVE_URL/api/generate" -d '{"model":"qwen2.5-coder:7b","prompt":"b","stream":false}' >/dev/null
date +%s.%N >"$SCRATCH/b_done"
wait $a
check "a load that needs a busy model's room waits for its answer to end" eval '[ -s "$SCRATCH/a_out" ] && tail -1 "$SCRATCH/a_out" | jq -e ".done == true" >/dev/null && awk -v a="$(cat "$SCRATCH/a_done")" -v b="$(cat "$SCRATCH/b_done")" "BEGIN { exit !(b > a) }" && [ "$(loaded)" = "qwen2.5-coder:7b" ]'
stop_serve
run "$MODELCTL" --json stats
check "the cancelled answer is recorded as cancelled, not failed" eval '[ -n "$(events ".type == \"use\" and .cancelled == true and .failed == false")" ]'

# A client that leaves while its request waits behind another model's load
# starts no load: llama3.2:1b takes over 2 s to load here; a request for
# qwen2.5-coder:1.5b waits its turn behind it, and its client gives up first.
start_sim --startup 2
start_serve -v
depth() { curl -s "$SERVE_URL/metrics" | sed -n 's/^modelctl_serve_queue_depth //p'; }
curl -s "$SERVE_URL/api/generate" -d '{"model":"llama3.2:1b"}' >"$SCRATCH/first" &
first=$!
for _ in $(seq 1 300); do [ "$(depth)" = 1 ] && break; sleep 0.01; done # deciding: loading
curl -s --max-time 0.5 "$SERVE_URL/api/generate" -d '{"model":"qwen2.5-coder:1.5b","prompt":"x"}' >/dev/null || true
wait $first
for _ in $(seq 1 300); do [ "$(depth)" = 0 ] && break; sleep 0.01; done
check "a request whose client left before its turn loaded nothing" eval '[ -s "$SCRATCH/first" ] && [ "$(depth)" = 0 ] && [ "$(loaded)" = "llama3.2:1b" ] && grep -q "model=qwen2.5-coder:1.5b status=- .*cancelled" "$SCRATCH/serve.err" && ! grep -q "^modelctl serve: load qwen2.5-coder" "$SCRATCH/serve.err"'
stop_serve

# --- body cap ---
MODELCTL_SERVE_MAX_BODY=1KiB start_serve
big=$(printf '{"model":"llama3.2:1b","prompt":"%s"}' "$(head -c 2000 /dev/zero | tr '\0' a)")
http "$SERVE_URL/api/generate" -d "$big"
check "a body past serve.max_body: 413 with a JSON error" eval '[ "$STATUS" = 413 ] && jq_out ".error | contains(\"serve.max_body\")"'
http "$SERVE_URL/api/generate" -H "Transfer-Encoding: chunked" -d "$big"
check "the cap holds for a chunked body too" eval '[ "$STATUS" = 413 ]'
http "$SERVE_URL/api/generate" -d '{"model":"llama3.2:1b","prompt":"small","stream":false}'
check "a body under the cap goes through" eval '[ "$STATUS" = 200 ] && jq_out ".done == true"'
stop_serve

# --- CORS, as Ollama decides it ---
OLLAMA_ORIGINS="https://app.example" start_serve
h=$(curl -s -D - -o /dev/null -H "Origin: http://localhost:5173" "$SERVE_URL/api/tags")
check "an allowed origin gets Access-Control-Allow-Origin" eval 'has "$h" "Access-Control-Allow-Origin: http://localhost:5173"'
h=$(curl -s -D - -o /dev/null -H "Origin: https://app.example" "$SERVE_URL/api/tags")
check "OLLAMA_ORIGINS adds origins" eval 'has "$h" "HTTP/1.1 200" && has "$h" "Access-Control-Allow-Origin: https://app.example"'
http -H "Origin: https://evil.example" "$SERVE_URL/api/tags"
check "an origin not allowed: 403" eval '[ "$STATUS" = 403 ] && jq_out ".error | contains(\"OLLAMA_ORIGINS\")"'
h=$(curl -s -D - -o /dev/null -X OPTIONS -H "Origin: vscode-webview://abc" -H "Access-Control-Request-Method: POST" -H "Access-Control-Request-Headers: x-stainless-os" "$SERVE_URL/v1/chat/completions")
check "a preflight is answered 204 with the OpenAI SDK's headers allowed" eval 'has "$h" "HTTP/1.1 204" && has "$h" "x-stainless-os" && has "$h" "Access-Control-Allow-Methods:"'
stop_serve

# --- tokens ---
run timeout 10 "$MODELCTL" serve --listen 0.0.0.0:0
check "off loopback serve refuses to start without a token" eval 'rc_is 2 && has "$ERR" "without a token" && has "$ERR" "MODELCTL_SERVE_TOKEN"'
MODELCTL_SERVE_TOKEN=s3cret MODELCTL_SERVE_ADMIN_TOKEN_ENV=ADMIN_TOKEN ADMIN_TOKEN=root start_serve
http "$SERVE_URL/api/tags"
check "with a token, a request without it: 401" eval '[ "$STATUS" = 401 ] && jq_out ".error | startswith(\"unauthorized\")"'
http -H "Authorization: Bearer wrong" "$SERVE_URL/api/tags"
check "a wrong token: 401" eval '[ "$STATUS" = 401 ]'
http -H "Authorization: Bearer s3cret" "$SERVE_URL/api/tags"
check "the right token: the server's answer" eval '[ "$STATUS" = 200 ] && jq_out ".models | length > 0"'
http -H "Authorization: Bearer s3cret" "$SERVE_URL/metrics"
check "the management routes want their own token" eval '[ "$STATUS" = 401 ]'
stop_serve

# --- Host: Ollama's guard against DNS rebinding, and serve's rewrite ---
http -H "Host: evil.example" "$SIM_URL/api/tags"
check "modelsim on loopback answers a foreign Host 403, as Ollama does" eval '[ "$STATUS" = 403 ]'
http -H "Host: gpu-box.lan:11434" "$SIM_URL/api/tags"
check "... a name of another network too" eval '[ "$STATUS" = 403 ]'
start_serve
http -H "Host: evil.example" "$SERVE_URL/api/tags"
check "serve on loopback refuses a foreign Host itself: 403 and why" eval '[ "$STATUS" = 403 ] && jq_out ".error | startswith(\"host not allowed\")"'
http -H "Host: localhost:11434" "$SERVE_URL/api/tags"
check "serve on loopback takes localhost" eval '[ "$STATUS" = 200 ]'
stop_serve
# Off loopback (a token then) serve takes any Host, as Ollama does there, and
# gives the server its own: the Host clients send would be refused.
MODELCTL_SERVE_TOKEN=s3cret SERVE_HOST=0.0.0.0 start_serve
SERVE_URL="http://127.0.0.1:${SERVE_URL##*:}"
http -H "Authorization: Bearer s3cret" -H "Host: gpu-box.lan:11435" "$SERVE_URL/api/tags"
check "serve rewrites Host to the server's: a request as gpu-box.lan gets the server's answer" eval '[ "$STATUS" = 200 ] && jq_out ".models | length > 0"'
stop_serve

# --- LM Studio behind serve: its own chat route, its token, its stats ---
start_sim --api lmstudio --speed 50 --api-token studio-secret
mkdir -p "$XDG_CONFIG_HOME/modelctl"
cat >"$XDG_CONFIG_HOME/modelctl/config.json" <<JSON
{"endpoints": [{"name": "studio", "provider": "lmstudio", "url": "$SIM_URL", "token_env": "STUDIO_TOKEN"}]}
JSON
STUDIO_TOKEN=studio-secret start_serve -v --endpoint studio
http "$SERVE_URL/api/v1/chat" -d '{"model":"llama3.1-8b","input":"hi"}'
check "LM Studio's /api/v1/chat through serve: loaded by admission, the token injected" eval '[ "$STATUS" = 200 ] && jq_out ".stats.total_output_tokens > 0" && grep -q "model=llama3.1-8b status=200" "$SCRATCH/serve.err"'
lms_out=$(jq .stats.total_output_tokens <<<"$OUT")
http "$SERVE_URL/api/v1/chat" -d '{"model":"llama3.2-1b","input":"hi","stream":true}'
OUT=$(sed -n 's/^data: \(.*"type":"chat.end".*\)$/\1/p' <<<"$OUT")
check "LM Studio's /api/v1/chat streamed through serve: named events up to chat.end" eval '[ "$STATUS" = 200 ] && jq_out ".result.stats.total_output_tokens > 0"'
lms_stream_out=$(jq .result.stats.total_output_tokens <<<"$OUT")
# LM Studio's OpenAI-compatible routes, through serve.
http "$SERVE_URL/v1/models"
check "LM Studio's /v1/models through serve lists its downloaded models (JIT)" eval '[ "$STATUS" = 200 ] && jq_out "[.data[].id] | index(\"qwen2.5-coder-7b\") != null"'
http "$SERVE_URL/v1/chat/completions" -d '{"model":"qwen2.5-coder-7b","messages":[{"role":"user","content":"hi"}],"max_tokens":5}'
check "LM Studio's /v1/chat/completions through serve: admitted, loaded, answered" eval '[ "$STATUS" = 200 ] && jq_out ".object == \"chat.completion\" and .usage.completion_tokens == 5" && grep -q "model=qwen2.5-coder-7b status=200 .*loaded" "$SCRATCH/serve.err"'
http "$SERVE_URL/v1/chat/completions" -d '{"model":"qwen2.5-coder-7b","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}'
check "and streamed, ending in [DONE]" eval '[ "$STATUS" = 200 ] && [ "$(grep -c "^data: {" <<<"$OUT")" -gt 2 ] && [ "$(grep "^data: " <<<"$OUT" | tail -1)" = "data: [DONE]" ]'
http "$SERVE_URL/v1/embeddings" -d '{"model":"nomic-embed-text","input":["a","b"]}'
check "LM Studio's /v1/embeddings through serve" eval '[ "$STATUS" = 200 ] && jq_out ".data | length == 2 and (.[0].embedding | length > 0)"'
stop_serve
rm "$XDG_CONFIG_HOME/modelctl/config.json"
check "the use is recorded with LM Studio's own stats: tokens and time to first token" eval '[ -n "$lms_out" ] && [ -n "$(events ".type == \"use\" and .model == \"llama3.1-8b\" and .tokens_out == $lms_out and .ttft_ms > 0")" ]'
check "a streamed /api/v1/chat use is recorded from its chat.end: tokens in and out, generation time" eval '[ -n "$lms_stream_out" ] && [ -n "$(events ".type == \"use\" and .model == \"llama3.2-1b\" and .tokens_out == $lms_stream_out and .tokens_in > 0 and .ttft_ms > 0 and .eval_seconds > 0")" ]'

# --- refusing to loop ---
run timeout 10 "$MODELCTL" serve --listen "127.0.0.1:$SIM_PORT"
check "serve refuses to listen on its own server's address" eval 'rc_is 2 && has "$ERR" "every request would come back to it"'
run timeout 10 "$MODELCTL" serve --listen nonsense
check "a bad --listen is refused" eval 'rc_is 2 && has "$ERR" "is not HOST:PORT"'

finish
