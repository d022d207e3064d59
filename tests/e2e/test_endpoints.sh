#!/usr/bin/env bash
# Several servers at once: an Ollama-mode and an LM-Studio-mode modelsim (and
# an endpoint that is down); status, load, unload, gc and pins on LM Studio;
# the store keyed by endpoint; the LM Studio token reaching the server only.
source "$(dirname "$0")/lib.sh"

TOKEN="tok-$RANDOM$RANDOM-secret"
start_sim --speed 50
WORK_URL=$SIM_URL
start_sim --api lmstudio --speed 50 --api-token "$TOKEN"
STUDIO_URL=$SIM_URL
start_sim --api lmstudio --lmstudio-v0 --speed 50
OLD_URL=$SIM_URL
unset OLLAMA_HOST
mkdir -p "$XDG_CONFIG_HOME/modelctl"
cat >"$XDG_CONFIG_HOME/modelctl/config.json" <<JSON
{"endpoints": [
  {"name": "work", "provider": "ollama", "url": "$WORK_URL"},
  {"name": "studio", "provider": "lmstudio", "url": "$STUDIO_URL", "token_env": "STUDIO_TOKEN",
   "memory": {"vram": "24GB"}},
  {"name": "down", "provider": "ollama", "url": "127.0.0.1:1"}
],
 "models": {"llama3.1-8b": {"num_ctx": 8192}}}
JSON
export STUDIO_TOKEN=$TOKEN
ALL_OUT="$SCRATCH/all-output"
keep() { printf '%s\n%s\n' "$OUT" "$ERR" >>"$ALL_OUT"; }

run "$MODELCTL" --json endpoints
keep
check "endpoints: each with reachability, provider, version; one down gives exit 3" eval 'rc_is 3 && jq -e "
    (.selected == \"work\") and
    (.endpoints[] | select(.name == \"work\") | .reachable and .provider == \"ollama\" and .version == \"0.9.6\") and
    (.endpoints[] | select(.name == \"studio\") | .reachable and .provider == \"lmstudio\" and .version == \"REST API v1\" and .token_env == \"STUDIO_TOKEN\" and .token_set and .budget.pool == \"configured\") and
    (.endpoints[] | select(.name == \"down\") | (.reachable | not) and .error.kind == \"unreachable\")" <<<"$OUT" >/dev/null && has "$ERR" "endpoint down:"'

run "$MODELCTL" -q load llama3.2:3b
check "load goes to the first endpoint by default" eval 'rc_is 0'
run "$MODELCTL" --host "$STUDIO_URL" status
check "--host with endpoints configured is refused, not ignored (exit 2)" eval 'rc_is 2 &&
    has "$ERR" "--host does not apply: endpoints are configured in" && has "$ERR" "--endpoint NAME"'
run env OLLAMA_HOST=127.0.0.1:1 "$MODELCTL" -q --endpoint work status
check "OLLAMA_HOST, as the config file says, gives way to the endpoints" eval 'rc_is 0 && has "$OUT" "llama3.2:3b"'
run "$MODELCTL" --endpoint studio load llama3.1-8b
keep
check "load on LM Studio, saying what it does not report" eval 'rc_is 0 && has "$OUT" "loaded llama3.1-8b" && has "$OUT" "file size"'
run curl -sf -H "Authorization: Bearer $TOKEN" "$STUDIO_URL/api/v1/models"
check "a per-model num_ctx applies to an LM Studio model (its key is read by LM Studio's rule)" eval 'rc_is 0 && jq_out "
    .models[] | select(.key == \"llama3.1-8b\") | .loaded_instances[0].config.context_length == 8192"'
run "$MODELCTL" --endpoint studio --json config show
check "config show names it as LM Studio does, not llama3.1-8b:latest" eval 'rc_is 0 &&
    jq_out "[.models[].model] == [\"llama3.1-8b\"] and .models[0].num_ctx == 8192"'
run env MODELCTL_ENDPOINT=studio "$MODELCTL" -q load llama3.2-3b
check "MODELCTL_ENDPOINT picks the endpoint too" eval 'rc_is 0'
run "$MODELCTL" --endpoint studio load -k 30m llama3.1-8b
check "a keep-alive on LM Studio is ignored with a warning; no second instance" eval 'rc_is 0 && has "$ERR" "--keep-alive does not apply" && has "$OUT" "llama3.1-8b was already loaded (" && ! has "$OUT" "keep-alive refreshed"'
run curl -sf -H "Authorization: Bearer $TOKEN" "$STUDIO_URL/api/v1/models"
check "LM Studio lists both as loaded instances" eval 'jq -e "[.models[] | select(.loaded_instances | length == 1) | .key] | sort == [\"llama3.1-8b\", \"llama3.2-3b\"]" <<<"$OUT" >/dev/null'
run "$MODELCTL" --endpoint studio load no-such-model
check "a model LM Studio lacks: exit 1 with a hint for lms" eval 'rc_is 1 && has "$ERR" "not installed" && has "$ERR" "lms get"'

run "$MODELCTL" --json status
keep
check "status across endpoints: every one, the down one marked, exit 3" eval 'rc_is 3 && jq -e "
    (.endpoints | length == 3) and
    (.endpoints[0].name == \"work\" and (.endpoints[0].loaded | map(.name) == [\"llama3.2:3b\"])) and
    (.endpoints[1] | .name == \"studio\" and (.loaded | length == 2) and
        all(.loaded[]; .size_reported == false and .expiry == \"unknown\" and .processor == \"unknown\" and .known.loads == 1)) and
    (.endpoints[2] | .name == \"down\" and .reachable == false and .error.exit_code == 3) and
    (.loaded | map(.name) == [\"llama3.2:3b\"])" <<<"$OUT" >/dev/null && has "$ERR" "endpoint down:"'
run "$MODELCTL" status
keep
check "status text: a section per endpoint, the unreachable one named" eval 'rc_is 3 && has "$OUT" "studio (lmstudio at $STUDIO_URL):" && has "$OUT" "down (ollama at http://127.0.0.1:1): unreachable" && has "$OUT" "does not report the memory"'
run "$MODELCTL" --endpoint studio status
check "--endpoint shows that endpoint alone" eval 'rc_is 0 && has "$OUT" "llama3.1-8b" && ! has "$OUT" "llama3.2:3b"'
run "$MODELCTL" status --format prometheus
check "Prometheus: per-endpoint labels, no invented memory for LM Studio, still valid" eval 'rc_is 3 && has "$OUT" "modelctl_server_up{endpoint=\"studio\",server=\"$STUDIO_URL\"} 1" && has "$OUT" "modelctl_server_up{endpoint=\"down\"" && ! grep -q "modelctl_model_memory_bytes{endpoint=\"studio\"" <<<"$OUT" && printf "%s\n" "$OUT" >"$SCRATCH/m.prom" && prom_valid "$SCRATCH/m.prom"'

run jq -e '(.endpoints.studio.models["llama3.1-8b"].loads == 1) and (.endpoints.work.models["llama3.2:3b"].loads == 1) and (.endpoints.work.models["llama3.1-8b"] == null)' "$MODELCTL_HOME/state.json"
check "the store keys models by endpoint" eval 'rc_is 0'

run "$MODELCTL" --endpoint studio pin llama3.1-8b
check "pin on LM Studio" eval 'rc_is 0'
sleep 1.1
run "$MODELCTL" --json gc --idle 1s
keep
check "gc through every endpoint: idle models go, the pinned one stays, the down one is named" eval 'rc_is 3 && jq -e "
    ([.actions[] | select(.ok) | .endpoint + \"/\" + .model] | sort == [\"studio/llama3.2-3b\", \"work/llama3.2:3b\"]) and
    (.endpoints[] | select(.endpoint == \"down\") | .error.kind == \"unreachable\")" <<<"$OUT" >/dev/null'
run curl -sf -H "Authorization: Bearer $TOKEN" "$STUDIO_URL/api/v1/models"
check "LM Studio kept the pinned model only" eval 'jq -e "[.models[] | select(.loaded_instances | length == 1) | .key] == [\"llama3.1-8b\"]" <<<"$OUT" >/dev/null'
run "$MODELCTL" --endpoint studio unload llama3.1-8b
check "unload on LM Studio (by instance id)" eval 'rc_is 0 && [ "$(curl -sf -H "Authorization: Bearer $TOKEN" "$STUDIO_URL/api/v1/models" | jq "[.models[].loaded_instances[]] | length")" = 0 ]'

run "$MODELCTL" --endpoint studio health llama3.2-3b
check "health on LM Studio: the server, the load, a one-token answer through /api/v1/chat" eval 'rc_is 0 && has "$OUT" "server: LM Studio REST API v1" && has "$OUT" "llama3.2-3b answer: answered"'
run env -u STUDIO_TOKEN "$MODELCTL" --endpoint studio status
check "without the token: unauthorized, the hint says to set the variable" eval 'rc_is 1 && has "$ERR" "unauthorized (HTTP 401)" && has "$ERR" "set STUDIO_TOKEN to an API token"'
run env STUDIO_TOKEN=wrong "$MODELCTL" --endpoint studio status
check "with a wrong token: unauthorized, the hint says it was sent and refused" eval 'rc_is 1 && has "$ERR" "unauthorized (HTTP 401)" && has "$ERR" "the token in \$STUDIO_TOKEN was sent and refused" && ! has "$ERR" "set STUDIO_TOKEN"'
run env STUDIO_TOKEN=wrong "$MODELCTL" --json endpoints
check "endpoints: the state is unauthorized, not unreachable; kind unauthorized, exit 1" eval 'rc_is 1 && jq_out ".endpoints[] | select(.name == \"studio\") | .reachable == false and .error.kind == \"unauthorized\" and .error.exit_code == 1"'
run env STUDIO_TOKEN=wrong "$MODELCTL" endpoints
check "... and in its table" eval 'rc_is 1 && grep -qE "studio +lmstudio +[^ ]+ +unauthorized" <<<"$OUT"'
run "$MODELCTL" -vv --endpoint studio load llama3.2-3b
keep
check "verbose output names the token's variable, never the token" eval 'rc_is 0 && has "$ERR" "\$STUDIO_TOKEN"'
run grep -rlF "$TOKEN" "$MODELCTL_HOME" "$ALL_OUT"
check "the token appears in no output, store or log" eval 'rc_is 1'

cat >"$XDG_CONFIG_HOME/modelctl/config.json" <<JSON
{"endpoints": [{"name": "old", "provider": "lmstudio", "url": "$OLD_URL"}]}
JSON
run "$MODELCTL" --json status --all
check "an LM Studio before 0.4 is listed through the v0 API" eval 'rc_is 0 && jq -e ".endpoints[0].version == \"REST API v0\" and (.loaded | length == 0)" <<<"$OUT" >/dev/null'
run "$MODELCTL" load llama3.2-3b
check "and loading there says a newer LM Studio is needed" eval 'rc_is 1 && has "$ERR" "needs LM Studio 0.4 or newer"'

rm "$XDG_CONFIG_HOME/modelctl/config.json"
export OLLAMA_HOST=${WORK_URL#http://}
run "$MODELCTL" --json endpoints
check "no config: Ollama at OLLAMA_HOST first, LM Studio at its default port optional" eval 'rc_is 0 && jq -e ".selected == \"ollama\" and .endpoints[0].url == \"$WORK_URL\" and .endpoints[1].name == \"lmstudio\" and .endpoints[1].url == \"http://127.0.0.1:1234\" and .endpoints[1].optional" <<<"$OUT" >/dev/null'
run "$MODELCTL" --endpoint nowhere status
check "an unknown endpoint is a usage error listing the names" eval 'rc_is 2 && has "$ERR" "no endpoint named" && has "$ERR" "ollama, lmstudio"'
printf '{"endpoints": [{"name": "x", "provider": "vllm", "url": "h"}]}' >"$SCRATCH/bad.json"
run "$MODELCTL" --config "$SCRATCH/bad.json" status
check "a bad endpoint in the config is refused naming it" eval 'rc_is 2 && has "$ERR" "endpoints.x.provider"'

# The default endpoint configured under a new name for the same server: what
# modelctl knew follows the server (it vanished, and gc unloaded a model
# pinned a minute earlier).
export MODELCTL_HOME="$SCRATCH/renamed"
"$MODELCTL" -q load llama3.2:3b qwen2.5-coder:7b
"$MODELCTL" -q pin llama3.2:3b
"$MODELCTL" -q priority qwen2.5-coder:7b 8
"$MODELCTL" -q record llama3.2:3b --latency-ms 120
cat >"$XDG_CONFIG_HOME/modelctl/config.json" <<JSON
{"endpoints": [{"name": "local", "provider": "ollama", "url": "$WORK_URL"}]}
JSON
run "$MODELCTL" --json status
check "a renamed endpoint keeps pins and priorities, saying so once" eval 'rc_is 0 &&
    has "$ERR" "endpoint '"'"'local'"'"' takes over what modelctl knew as '"'"'ollama'"'"'" &&
    jq_out "(.loaded[] | select(.name == \"llama3.2:3b\") | .pinned) and
        (.loaded[] | select(.name == \"qwen2.5-coder:7b\") | .priority == 8)"'
run "$MODELCTL" --json gc --idle 1ms
check "gc after the rename keeps the pinned model" eval 'rc_is 0 &&
    [ "$(curl -s "$WORK_URL/api/ps" | jq -r "[.models[].name] | index(\"llama3.2:3b\") != null")" = true ]'
run "$MODELCTL" --json stats llama3.2:3b
check "usage recorded under the old name still counts" eval 'rc_is 0 && ! has "$ERR" "takes over" && jq_out ".models[0].uses == 1"'
run "$MODELCTL" --json stats --since 1d llama3.2:3b
check "and so does the log under the old name (stats --since)" eval 'rc_is 0 && jq_out ".models[0].uses == 1"'

# Two servers on this machine under budget.memory share it: what one's models
# hold comes off the other's budget, so the sum is planned against.
start_sim --speed 50
SHARED_OLLAMA=$SIM_URL
start_sim --api lmstudio --speed 50
SHARED_STUDIO=$SIM_URL
cat >"$XDG_CONFIG_HOME/modelctl/config.json" <<JSON
{"endpoints": [{"name": "gpu-ollama", "provider": "ollama", "url": "$SHARED_OLLAMA"},
               {"name": "gpu-studio", "provider": "lmstudio", "url": "$SHARED_STUDIO"}]}
JSON
export MODELCTL_BUDGET_MEMORY=12GB
run "$MODELCTL" --endpoint gpu-ollama --json load --dry-run gemma3:12b
check "alone on the machine, gemma3:12b fits the 12 GB budget" eval 'rc_is 0 && jq_out ".plan.feasible and .plan.budget.bytes == 12000000000"'
"$MODELCTL" -q --endpoint gpu-studio load llama3.1-8b
run "$MODELCTL" --endpoint gpu-ollama --json load --dry-run gemma3:12b
check "with LM Studio holding llama3.1-8b, Ollama's budget is what is left of the machine's" eval 'jq_out "(.plan.feasible | not) and .plan.budget.bytes < 8000000000 and .plan.budget.others > 4000000000 and (.plan.budget.explanation | contains(\"the models of gpu-studio on this machine hold\"))"'
"$MODELCTL" -q --endpoint gpu-studio unload llama3.1-8b
export MODELCTL_BUDGET_MEMORY=1TB
export OLLAMA_HOST=${WORK_URL#http://} # start_sim set its own; as it was above

# A store from before urls were recorded: its default section names no
# server, and is taken as the default endpoint's (OLLAMA_HOST) on the first
# read under the new name, not only after a command under the old one.
export MODELCTL_HOME="$SCRATCH/nourl"
rm -f "$XDG_CONFIG_HOME/modelctl/config.json"
"$MODELCTL" -q pin llama3.2:3b
jq -c 'del(.endpoints.ollama.url)' "$MODELCTL_HOME/state.json" >"$SCRATCH/nourl.json"
mv "$SCRATCH/nourl.json" "$MODELCTL_HOME/state.json"
RC=0 OUT=$(cat "$MODELCTL_HOME/state.json")
check "(the store holds the pin, and no url)" eval 'jq_out ".endpoints.ollama.models[\"llama3.2:3b\"].pinned and (.endpoints.ollama | has(\"url\") | not)"'
cat >"$XDG_CONFIG_HOME/modelctl/config.json" <<JSON
{"endpoints": [{"name": "local", "provider": "ollama", "url": "$WORK_URL"}]}
JSON
run "$MODELCTL" --json status
check "a section without a url is the default endpoint's: taken over at once" eval 'rc_is 0 &&
    has "$ERR" "takes over what modelctl knew as" &&
    jq_out ".loaded[] | select(.name == \"llama3.2:3b\") | .pinned"'

finish
