#!/usr/bin/env bash
# serve in front of several servers (issue 18): an Ollama, an LM Studio and a
# second Ollama, each a modelsim; requests go where their model is installed,
# the lists merge, a server that goes down is named while the others serve.
source "$(dirname "$0")/lib.sh"
RC=0 OUT= ERR=

http() {
    STATUS=$(curl -s --max-time 60 -D "$SCRATCH/head" -o "$SCRATCH/body" -w '%{http_code}' "$@" || true)
    OUT=$(cat "$SCRATCH/body")
}
# loaded_on NAME: what endpoint NAME has in memory, as status says.
loaded_on() { "$MODELCTL" --endpoint "$1" status --json | jq -r '[.loaded[].name] | sort | join(" ")'; }
chat() { http "$SERVE_URL/v1/chat/completions" -d "{\"model\":\"$1\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":3}"; }

cat >"$SCRATCH/home.json" <<'JSON'
{"models": [{"name": "alpha:1b", "size": 1000000000, "block_count": 4},
            {"name": "both-model", "size": 1000000000, "block_count": 4},
            {"name": "shared-model", "size": 1000000000, "block_count": 4}]}
JSON
cat >"$SCRATCH/studio.json" <<'JSON'
{"models": [{"name": "beta-lms", "size": 1000000000, "block_count": 4},
            {"name": "both-model", "size": 1000000000, "block_count": 4},
            {"name": "shared-model", "size": 1000000000, "block_count": 4}]}
JSON
cat >"$SCRATCH/gpu.json" <<'JSON'
{"models": [{"name": "gamma:1b", "size": 1000000000, "block_count": 4},
            {"name": "both-model", "size": 1000000000, "block_count": 4}]}
JSON
start_sim --speed 50 --catalog "$SCRATCH/home.json"
HOME_URL=$SIM_URL
start_sim --api lmstudio --speed 50 --catalog "$SCRATCH/studio.json"
STUDIO_URL=$SIM_URL
start_sim --speed 50 --catalog "$SCRATCH/gpu.json"
GPU_URL=$SIM_URL
GPU_PID=${SIM_PIDS[-1]}
unset OLLAMA_HOST
mkdir -p "$XDG_CONFIG_HOME/modelctl"
cat >"$XDG_CONFIG_HOME/modelctl/config.json" <<JSON
{"endpoints": [{"name": "home", "provider": "ollama", "url": "$HOME_URL"},
               {"name": "studio", "provider": "lmstudio", "url": "$STUDIO_URL"},
               {"name": "gpu", "provider": "ollama", "url": "$GPU_URL"}],
 "models": {"shared-model": {"endpoint": "studio"}}}
JSON

start_serve -v
check "serve says it stands in front of the three endpoints" eval 'has "$(cat "$SCRATCH/serve.err")" "in front of ollama at $HOME_URL (home), lmstudio at $STUDIO_URL (studio), ollama at $GPU_URL (gpu)"'

# --- the lists, merged ---
http "$SERVE_URL/api/tags"
# Ollama names both-model both-model:latest, LM Studio both-model: the two
# Ollamas' both-model:latest is the same name, listed once (the first's).
check "/api/tags lists every server's models, in the configured order, a name once" eval '[ "$STATUS" = 200 ] && jq_out "[.models[].name] == [\"alpha:1b\", \"both-model:latest\", \"shared-model:latest\", \"beta-lms\", \"both-model\", \"shared-model\", \"gamma:1b\"]"'
check "an LM Studio model in /api/tags has Ollama's fields" eval 'jq_out ".models[] | select(.name == \"beta-lms\") | .model == \"beta-lms\" and .size > 0 and (.details | has(\"quantization_level\"))"'
http "$SERVE_URL/v1/models"
check "/v1/models lists every server's models, a name once" eval '[ "$STATUS" = 200 ] && jq_out ".object == \"list\" and [.data[].id] == [\"alpha:1b\", \"both-model:latest\", \"shared-model:latest\", \"beta-lms\", \"both-model\", \"shared-model\", \"gamma:1b\"]"'

# --- a request goes where its model is ---
chat beta-lms
check "an OpenAI request for an LM Studio model goes to LM Studio" eval '[ "$STATUS" = 200 ] && [ "$(loaded_on studio)" = "beta-lms" ] && [ -z "$(loaded_on home)" ]'
http "$SERVE_URL/api/generate" -d '{"model":"gamma:1b","prompt":"hi","stream":false,"options":{"num_predict":3}}'
check "an Ollama request for a model of the second Ollama goes there" eval '[ "$STATUS" = 200 ] && [ "$(loaded_on gpu)" = "gamma:1b" ] && [ -z "$(loaded_on home)" ]'
chat both-model
check "a model on three servers goes to the first configured" eval '[ "$STATUS" = 200 ] && [ "$(loaded_on home)" = "both-model:latest" ] && [ "$(loaded_on studio)" = "beta-lms" ] && [ "$(loaded_on gpu)" = "gamma:1b" ]'
chat shared-model
check "the config's models.NAME.endpoint sends it to another" eval '[ "$STATUS" = 200 ] && [ "$(loaded_on studio)" = "beta-lms shared-model" ] && [ "$(loaded_on home)" = "both-model:latest" ]'
http "$SERVE_URL/api/ps"
check "/api/ps lists what every server holds, LM Studio's in Ollama's fields" eval '[ "$STATUS" = 200 ] && jq_out "([.models[].name] | sort) == [\"beta-lms\", \"both-model:latest\", \"gamma:1b\", \"shared-model\"] and (.models[] | select(.name == \"beta-lms\") | .size > 0 and .model == \"beta-lms\")"'
http "$SERVE_URL/api/show" -d '{"model":"gamma:1b"}'
check "a route naming a model in its body (show) goes to the server that has it" eval '[ "$STATUS" = 200 ] && jq_out ".details != null"'
check "each use is recorded under its endpoint" eval '"$MODELCTL" stats --json >"$SCRATCH/stats" && [ -s "$SCRATCH/stats" ] && grep -q "\"gpu\"" "$MODELCTL_HOME/events.jsonl" && awk '"'"'/beta-lms/ && /"studio"/ { found = 1 } END { exit !found }'"'"' "$MODELCTL_HOME/events.jsonl"'

# --- status through serve ---
http "$SERVE_URL/modelctl/v1/status"
check "/modelctl/v1/status shows every endpoint, each with serve's state" eval '[ "$STATUS" = 200 ] && jq_out "[.endpoints[] | select(.reachable and .serve != null) | .name] == [\"home\", \"studio\", \"gpu\"] and .serve != null"'

# --- the management API picks the endpoint ---
http "$SERVE_URL/modelctl/v1/load" -d '{"models":["alpha:1b","beta-lms"]}'
check "a load of models on two endpoints is refused, naming both" eval '[ "$STATUS" = 400 ] && jq_out ".error.message | test(\"alpha:1b is on endpoint home and beta-lms on studio\")"'
http "$SERVE_URL/modelctl/v1/load" -d '{"models":["alpha:1b"]}'
check "a load goes to the model's endpoint" eval '[ "$STATUS" = 200 ] && jq_out ".server.address == \"$HOME_URL\" and .server.kind == \"ollama\"" && [ "$(loaded_on home)" = "alpha:1b both-model:latest" ]'
http "$SERVE_URL/modelctl/v1/unload" -d '{"all":true,"endpoint":"studio"}'
check "unload all on a named endpoint leaves the others" eval '[ "$STATUS" = 200 ] && [ -z "$(loaded_on studio)" ] && [ "$(loaded_on home)" = "alpha:1b both-model:latest" ]'

# --- a server goes down ---
kill -9 "$GPU_PID"
wait "$GPU_PID" 2>/dev/null || true
http "$SERVE_URL/api/tags"
# (a fresh look at every server: the router now knows gpu is down)
check "/api/tags lists the others and names the one down" eval '[ "$STATUS" = 200 ] && jq_out "[.models[].name] | index(\"alpha:1b\") != null and index(\"gamma:1b\") == null" && grep -qi "^X-Modelctl-Unreachable: gpu ($GPU_URL" "$SCRATCH/head"'
http "$SERVE_URL/api/generate" -d '{"model":"gamma:1b","prompt":"hi","stream":false}'
check "a model no answering server has, with a server down: 502 naming that endpoint" eval '[ "$STATUS" = 502 ] && jq_out ".error | test(\"endpoint gpu at $GPU_URL\")"'
http "$SERVE_URL/api/generate" -d '{"model":"alpha:1b","prompt":"hi","stream":false,"options":{"num_predict":3}}'
check "the others keep serving" eval '[ "$STATUS" = 200 ] && jq_out ".done == true"'
http "$SERVE_URL/modelctl/v1/status"
check "status through serve shows the endpoint down" eval '[ "$STATUS" = 200 ] && jq_out ".endpoints[] | select(.name == \"gpu\") | .reachable == false and .error != null"'
stop_serve
check "serve stops cleanly" eval '[ "$SERVE_RC" = 0 ]'

# --- the config's endpoint must name one ---
cat >"$SCRATCH/bad.json" <<JSON
{"endpoints": [{"name": "home", "provider": "ollama", "url": "$HOME_URL"}],
 "models": {"alpha:1b": {"endpoint": "nowhere"}}}
JSON
run "$MODELCTL" config check "$SCRATCH/bad.json"
check "config check refuses a model's endpoint that names none" eval 'rc_is 2 && has "$ERR" "models.alpha:1b.endpoint: no endpoint is named '"'"'nowhere'"'"'" && has "$ERR" "the endpoints are home"'

finish
