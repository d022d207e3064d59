#!/usr/bin/env bash
# modelctl chain (issue 20) against modelsim, with a budget that holds two of
# its three models: the loads modelsim counts are the plan's, in its order;
# answers thread through {input} and {step.N}; every step is a use; a 503
# storm is retried, then reported; Ctrl-C leaves no model the chain loaded;
# "num_ctx": "max" fits beside what the plan keeps; a prompt longer than the
# context and a bad chain file are refused before anything is loaded.
source "$(dirname "$0")/lib.sh"
RC=0 OUT= ERR=

cat >"$SCRATCH/triage.json" <<'EOF'
{"name": "triage", "steps": [
  {"model": "qwen2.5-coder:7b", "prompt": "Analyse: {input}"},
  {"model": "llama3.1:8b", "prompt": "Reason deeply about: {input}"},
  {"model": "llama3.2:3b", "prompt": "Summarise: {input}"},
  {"model": "qwen2.5-coder:7b", "prompt": "Analyse again: {step.3}"},
  {"model": "llama3.1:8b", "prompt": "Reason: {input}"},
  {"model": "llama3.2:3b", "prompt": "Summarise: {input} and {step.1}", "task": "summary"}
]}
EOF
sim_stat() { curl -sf "$SIM_URL/modelsim/stats" | jq -r ".$1"; }
# The models the store saw loaded, in order.
loads_logged() { jq -sc '[.[] | select(.type == "load") | .model]' "$MODELCTL_HOME/events.jsonl"; }
# The names loaded now; "(ps failed)" when ps fails, so that an empty answer
# means nothing is loaded.
loaded_now() {
    local names
    names=$("$MODELCTL" -q ps) || { echo "(ps failed)"; return; }
    sort <<<"$names" | paste -sd' '
}

start_sim --speed 20
run "$MODELCTL" chain "$SCRATCH/triage.json" --memory 11GB --dry-run --json
check "dry run: 4 loads planned, 6 for each naive rule, nothing loaded" eval 'rc_is 0 &&
    jq_out ".schema == \"modelctl.chain/v1\" and .dry_run and .name == \"triage\" and .plan.feasible and
        .plan.expected.loads == 4 and .plan.unload_every_step.loads == 6 and .plan.keep_if_next_same.loads == 6 and
        [.plan.steps[].load] == [true, true, true, false, true, false] and
        .plan.steps[1].resident == [\"qwen2.5-coder:7b\"] and (.steps | not)" &&
    [ "$(sim_stat loads)" = 0 ]'
planned=$(jq -c '[.plan.steps[] | select(.load) | .model]' <<<"$OUT")
run "$MODELCTL" chain "$SCRATCH/triage.json" --memory 11GB --dry-run
check "dry run, text: the plan with its reasons, the naive rules beside it" eval 'rc_is 0 &&
    has "$OUT" "chain triage: 6 steps, 3 models; room for 11 GB" &&
    has "$OUT" "qwen2.5-coder:7b kept loaded since step 1" && has "$OUT" "does not fit" &&
    grep -q "^expected loading: .* in 4 loads$" <<<"$OUT" && grep -q "unload after every step: .* in 6 loads$" <<<"$OUT"'

run "$MODELCTL" chain "$SCRATCH/triage.json" --memory 11GB --input "what is memory for?" --json
doc=$OUT
check "run: modelsim loads what the plan loads, in its order" eval 'rc_is 0 &&
    [ "$(sim_stat loads)" = 4 ] && [ "$(loads_logged)" = "$planned" ] && [ -n "$doc" ] &&
    jq -e "[.steps[] | .load != null] == [true, true, true, false, true, false] and all(.steps[]; .ok)" <<<"$doc" >/dev/null'
# modelsim counts a prompt as (bytes + 3) / 4 tokens: each step's prompt
# tokens say what its prompt was.
threaded='
    def tokens(p): ((p | length) + 3) / 4 | floor;
    .steps as $s |
    $s[0].tokens_in == tokens("Analyse: what is memory for?") and
    $s[1].tokens_in == tokens("Reason deeply about: " + $s[0].response) and
    $s[3].tokens_in == tokens("Analyse again: " + $s[2].response) and
    $s[5].tokens_in == tokens("Summarise: " + $s[4].response + " and " + $s[0].response) and
    .answer == $s[5].response and (.answer | length) > 0'
check "answers thread through {input} and {step.N}" eval '[ -n "$doc" ] && jq -e "$threaded" <<<"$doc" >/dev/null'
check "every step is a use, tagged with the chain's name unless it names a task" eval '
    [ "$(jq -sc "[.[] | select(.type == \"use\") | .task]" "$MODELCTL_HOME/events.jsonl")" = "[\"triage\",\"triage\",\"triage\",\"triage\",\"triage\",\"summary\"]" ]'
check "no model the chain loaded is left loaded" eval '[ -z "$(loaded_now)" ]'

run "$MODELCTL" chain "$SCRATCH/triage.json" --memory 11GB --input "again"
check "text: the last answer alone on stdout" eval 'rc_is 0 && [ -n "$OUT" ] && [ "$(wc -l <<<"$OUT")" = 1 ] && ! has "$OUT" "step"'

# A pinned model outside the chain holds: the chain has what is left.
"$MODELCTL" pin llama3.2:1b >/dev/null
"$MODELCTL" load llama3.2:1b >/dev/null
run "$MODELCTL" chain "$SCRATCH/triage.json" --memory 11GB --dry-run --json
check "a pinned model outside the chain is taken from the room" eval 'rc_is 0 &&
    jq_out ".plan.pinned_outside == [\"llama3.2:1b\"] and .plan.capacity < 11000000000"'
run "$MODELCTL" chain "$SCRATCH/triage.json" --memory 11GB
check "... and is still loaded after the chain" eval 'rc_is 0 && [ "$(loaded_now)" = "llama3.2:1b" ]'

# Ctrl-C mid-chain: exit 130 naming the step; what the chain loaded goes.
start_sim --speed 1
"$MODELCTL" pin llama3.2:1b >/dev/null
"$MODELCTL" load llama3.2:1b >/dev/null
"$MODELCTL" chain "$SCRATCH/triage.json" --memory 11GB >"$SCRATCH/int.out" 2>"$SCRATCH/int.err" &
pid=$!
for _ in $(seq 1 500); do # until the chain has a model of its own loaded
    [[ "$(loaded_now)" == *qwen2.5-coder:7b* ]] && break
    sleep 0.02
done
interrupt "$pid"
check "Ctrl-C: exit 130 naming the step, no model the chain loaded left, the pin kept" eval 'rc_is 130 &&
    has "$ERR" "step 1/6 (qwen2.5-coder:7b)" && [ "$(loaded_now)" = "llama3.2:1b" ]'

# A 503 storm: each request to Ollama retries a 503 four times with jitter;
# past that, the step is tried again a second later.
cat >"$SCRATCH/one.json" <<'EOF'
[{"model": "llama3.2:3b", "prompt": "Say hi about {input}"}]
EOF
start_sim --speed 20 --fault queue-full=7
run "$MODELCTL" chain "$SCRATCH/one.json" --json
check "busy 7 times: the step tried again once, then answered" eval 'rc_is 0 && jq_out ".steps[0].ok and .steps[0].retries == 1"'
start_sim --speed 20 --fault queue-full
run "$MODELCTL" chain "$SCRATCH/one.json" --retries 1
check "busy throughout: reported after the retries, naming the step, exit 1" eval 'rc_is 1 &&
    has "$ERR" "step 1/1 (llama3.2:3b)" && has "$ERR" "busy" && [ -z "$(loaded_now)" ]'

# --keep-going: the failed step is reported, the next gets an empty {input}.
start_sim --speed 20 --fault fail=llama3.1:8b
cat >"$SCRATCH/three.json" <<'EOF'
[{"model": "llama3.2:3b", "prompt": "First: {input}"},
 {"model": "llama3.1:8b", "prompt": "Second: {input}"},
 {"model": "qwen2.5-coder:7b", "prompt": "Third: [{input}]"}]
EOF
run "$MODELCTL" chain "$SCRATCH/three.json" --json
check "a failed step stops the chain, naming it; nothing left loaded" eval 'rc_is 1 &&
    has "$ERR" "step 2/3 (llama3.1:8b)" && jq_out ".schema == \"modelctl.error/v1\"" && [ -z "$(loaded_now)" ]'
run "$MODELCTL" chain "$SCRATCH/three.json" --keep-going --json
check "--keep-going: goes on with an empty {input}, exit 1 at the end" eval 'rc_is 1 &&
    jq_out "[.steps[].ok] == [true, false, true] and .steps[1].error.kind == \"failed\" and
        .steps[2].tokens_in == (((\"Third: []\" | length) + 3) / 4 | floor)" && has "$ERR" "step 2/3"'

# A bad chain is refused before anything happens.
printf '[{"model": "llama3.2:3b", "prompt": "x {step.1}"}]' >"$SCRATCH/bad.json"
run "$MODELCTL" chain "$SCRATCH/bad.json"
check "a {step.N} that is not an earlier step: exit 2, naming the step" eval 'rc_is 2 &&
    has "$ERR" "chain step 1: {step.1} is not an earlier step"'
printf '[{"model": "llama3.2:3b", "promt": "x"}]' >"$SCRATCH/bad.json"
run "$MODELCTL" chain "$SCRATCH/bad.json"
check "an unknown field: exit 2" eval 'rc_is 2 && has "$ERR" "unknown field \"promt\""'
printf '[{"model": "llama3.2:3b", "prompt": "x"},]' >"$SCRATCH/bad.json"
run "$MODELCTL" chain "$SCRATCH/bad.json"
check "not JSON: line and column, and the trailing comma" eval 'rc_is 2 && has "$ERR" "line 1, column 42" && has "$ERR" "remove the comma"'
run "$MODELCTL" chain "$SCRATCH/triage.json" --memory 4GB
check "a step whose model alone exceeds the room: refused, exit 4" eval 'rc_is 4 && has "$ERR" "step 1 needs qwen2.5-coder:7b"'

# "num_ctx": "max": the largest context that fits beside what the plan keeps.
start_sim --speed 20
cat >"$SCRATCH/max.json" <<'EOF'
[{"model": "qwen2.5-coder:7b", "prompt": "Analyse: {input}"},
 {"model": "llama3.1:8b", "prompt": "Reason: {input}", "num_ctx": "max"},
 {"model": "qwen2.5-coder:7b", "prompt": "Again: {input}"}]
EOF
run "$MODELCTL" chain "$SCRATCH/max.json" --memory 16GB --dry-run --json
check "num_ctx max: beside the model kept through it, within the room, below the model's own" eval 'rc_is 0 &&
    jq_out ".plan.steps[1].resident == [\"qwen2.5-coder:7b\"] and .plan.steps[1].num_ctx > 4096 and
        .plan.steps[1].num_ctx < 131072 and .plan.steps[1].num_ctx % 1024 == 0 and
        .plan.steps[1].held <= .plan.capacity and (.plan.steps[1].num_ctx_why | test(\"beside what the chain keeps\"))"'
ctx_max=$(jq -r '.plan.steps[1].num_ctx' <<<"$OUT")
run "$MODELCTL" chain "$SCRATCH/max.json" --memory 16GB --leave-loaded
check "... and the model is loaded at that context" eval 'rc_is 0 &&
    [ "$("$MODELCTL" status --json | jq -r ".loaded[] | select(.name == \"llama3.1:8b\") | .context_length")" = "$ctx_max" ]'
"$MODELCTL" unload --all >/dev/null

# A step past its timeout fails, naming it, and is not tried again.
start_sim --speed 1
printf '[{"model": "llama3.2:3b", "prompt": "hi {input}"}]' >"$SCRATCH/slow.json"
run "$MODELCTL" chain "$SCRATCH/slow.json" --step-timeout 300ms
check "--step-timeout: the step fails past it, exit 1, not tried again, nothing left loaded" eval 'rc_is 1 &&
    has "$ERR" "step 1/1 (llama3.2:3b): no complete answer within the step'"'"'s timeout of 300ms" &&
    [ -z "$(loaded_now)" ]'
start_sim --speed 20

# A prompt longer than the context is refused before the step's model loads.
printf '[{"model": "llama3.2:3b", "prompt": "%s {input}", "num_ctx": 64}]' "$(printf 'word %.0s' $(seq 1 100))" >"$SCRATCH/long.json"
loads_before=$(sim_stat loads)
run "$MODELCTL" chain "$SCRATCH/long.json"
check "a prompt longer than the context: refused with the figures, exit 4, nothing loaded" eval 'rc_is 4 &&
    has "$ERR" "step 1/1 (llama3.2:3b): the prompt is about 126 tokens (501 bytes), more than the context of 64 llama3.2:3b would be loaded with" &&
    [ "$(sim_stat loads)" = "$loads_before" ]'
finish
