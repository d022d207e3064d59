#!/usr/bin/env bash
# run: loads through the policy, streams the answer to stdout, and records the
# figures modelsim reports; failures are recorded too; keep-alive is kept.
source "$(dirname "$0")/lib.sh"

start_sim --speed 20 --startup 0.2
sim_url=$SIM_URL

run "$MODELCTL" run llama3.2:3b why is the sky blue
check "run streams the answer to stdout" eval 'rc_is 0 && has "$OUT" "The model is loaded and ready" && [ -z "$ERR" ]'
check "the model stays loaded afterwards" eval '[ "$(curl -s "$sim_url/api/ps" | jq -r ".models[0].name")" = llama3.2:3b ]'
check "a cold run counts as one use, not a load plus a use" \
    eval 'jq -e ".endpoints.ollama.models[\"llama3.2:3b\"] | .uses.count < 1.01 and .loads == 1 and .usage.uses == 1" "$MODELCTL_HOME/state.json" >/dev/null'

run "$MODELCTL" --json run --task coding llama3.2:3b "write a haiku"
check "run --json: final metrics, no streaming" eval 'rc_is 0 && jq_out ".schema == \"modelctl.run/v2\" and .load == null and (.response | length > 0) and .metrics.tokens_out > 0"'
doc=$OUT
last=$(tail -n 1 "$MODELCTL_HOME/events.jsonl")
check "the recorded use carries what modelsim reported" eval 'jq -e --argjson d "$doc" "
    .type == \"use\" and .task == \"coding\" and .model == \"llama3.2:3b\" and
    .tokens_out == \$d.metrics.tokens_out and .tokens_in == \$d.metrics.tokens_in and
    (.eval_seconds * 1000 - \$d.metrics.eval_duration_ms | fabs) < 0.001 and
    (.ttft_ms - \$d.metrics.ttft_ms | fabs) < 0.001" <<<"$last" >/dev/null'
# modelsim decodes at 400 GB/s over the model's bytes in VRAM, sped up 20x.
vram=$(curl -s "$sim_url/api/ps" | jq ".models[0].size_vram")
check "tokens/s is what modelsim's speed model implies" eval 'jq -e --argjson v "$vram" "
    (.metrics.tokens_per_second / (400e9 * 20 / \$v) - 1 | fabs) < 0.01" <<<"$doc" >/dev/null'
check "time to first token is before the last token" eval 'jq -e ".metrics.ttft_ms > 0 and .metrics.ttft_ms < .metrics.latency_ms" <<<"$doc" >/dev/null'
# An embedding model cannot generate: refused before anything is evicted or
# recorded (it evicted the others, then failed with the server's error, and
# counted a failed use).
before=$(cat "$MODELCTL_HOME/state.json")
run env MODELCTL_BUDGET_MEMORY=2.6GB "$MODELCTL" run nomic-embed-text "hello"
check "run on an embedding model: exit 1 with a hint, nothing evicted, nothing recorded" eval 'rc_is 1 &&
    has "$ERR" "nomic-embed-text:latest cannot generate text" && has "$ERR" "hint:" &&
    [ "$(curl -s "$sim_url/api/ps" | jq -r "[.models[].name] | join(\",\")")" = llama3.2:3b ] &&
    [ "$(cat "$MODELCTL_HOME/state.json")" = "$before" ]'
run "$MODELCTL" --json stats llama3.2:3b
check "stats adds both runs up" eval 'jq -e --argjson d "$doc" ".models[0] | .uses == 2 and .failures == 0 and .tokens_out > \$d.metrics.tokens_out" <<<"$OUT" >/dev/null'

run bash -c "echo 'from stdin' | '$MODELCTL' run llama3.2:3b"
check "the prompt can come from stdin" eval 'rc_is 0 && has "$OUT" "The model"'
run bash -c "echo 'from stdin' | '$MODELCTL' run llama3.2:3b -"
check "and from - explicitly" eval 'rc_is 0 && has "$OUT" "The model"'
run bash -c "printf '  \n' | '$MODELCTL' run llama3.2:3b"
check "an empty prompt is a usage error" eval 'rc_is 2 && has "$ERR" "prompt is empty"'
run "$MODELCTL" run llama3.2:3b hi --task knitting
check "an unknown task is a usage error" eval 'rc_is 2 && has "$ERR" "unknown task"'

uses_before=$(jq '[.endpoints.ollama.models[].usage.uses] | add' "$MODELCTL_HOME/state.json")
run "$MODELCTL" run no-such-model hi
check "a model not installed: exit 1 with a hint, nothing recorded" eval 'rc_is 1 && has "$ERR" "not installed" && has "$ERR" "modelctl pull" &&
    [ "$(jq "[.endpoints.ollama.models[].usage.uses] | add" "$MODELCTL_HOME/state.json")" = "$uses_before" ]'

# keep-alive: a model loaded to stay forever is not cut back to the default.
"$MODELCTL" -q load -k forever llama3.1:8b
"$MODELCTL" -q run llama3.1:8b hello >/dev/null
check "run keeps the keep-alive the model was loaded with" eval '[ "$(curl -s "$sim_url/api/ps" | jq -r ".models[] | select(.name == \"llama3.1:8b\") | .expires_at" | cut -c1-4)" -gt 2100 ]'

# Under a budget: running a third model evicts by the policy (never a pin),
# and says so on stderr.
"$MODELCTL" -q pin llama3.1:8b
export MODELCTL_BUDGET_MEMORY=9GB
run "$MODELCTL" run --no-evict qwen2.5-coder:1.5b hi
check "--no-evict refuses with exit 4" eval 'rc_is 4 && has "$ERR" "--no-evict"'
run "$MODELCTL" run qwen2.5-coder:1.5b hi
check "run makes room by the policy; the answer alone is on stdout" eval 'rc_is 0 && has "$ERR" "unloaded llama3.2:3b to make room" && ! has "$OUT" "unloaded"'
check "the pinned model was not the victim" eval 'curl -s "$sim_url/api/ps" | jq -e "[.models[].name] | index(\"llama3.1:8b\") != null" >/dev/null'
export MODELCTL_BUDGET_MEMORY=1TB

# A generation that fails mid-stream is recorded as a failed use.
start_sim --speed 20 --startup 0.2 --fault midstream-error
run "$MODELCTL" run llama3.2:1b hi
check "a mid-stream error: exit 1, the server's message" eval 'rc_is 1 && has "$ERR" "unexpected EOF"'
run "$MODELCTL" --json stats llama3.2:1b
check "and a failed use is recorded" eval 'jq -e ".models[0] | .uses == 1 and .failures == 1" <<<"$OUT" >/dev/null'

# Unreachable: exit 3, no use recorded.
uses_before=$(jq '[.endpoints.ollama.models[].usage.uses] | add' "$MODELCTL_HOME/state.json")
run "$MODELCTL" --host 127.0.0.1:1 run llama3.2:1b hi
check "unreachable: exit 3, nothing recorded" eval 'rc_is 3 && [ "$(jq "[.endpoints.ollama.models[].usage.uses] | add" "$MODELCTL_HOME/state.json")" = "$uses_before" ]'

finish
