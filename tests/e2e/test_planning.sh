#!/usr/bin/env bash
# Memory-aware planning against modelsim: load evicts the policy's victim and
# never a pin; refusals exit 4; gc unloads only what is idle; two gcs at once;
# dry runs change nothing; config errors name file and key.
source "$(dirname "$0")/lib.sh"
start_sim --speed 50 --vram 48GB --max-loaded 8
export MODELCTL_BUDGET_MEMORY=20GB
loaded() { "$MODELCTL" -q status | sort | tr '\n' ' '; }

"$MODELCTL" -q load llama3.2:3b
"$MODELCTL" -q pin llama3.2:3b
# qwen used four times, llama3.1 once but last: LRU would evict qwen; the
# policy weighs frequency and evicts llama3.1.
for _ in 1 2 3 4; do "$MODELCTL" -q load qwen2.5-coder:7b; done
"$MODELCTL" -q load llama3.1:8b
before=$(loaded)

run "$MODELCTL" load --dry-run gemma3:12b
check "dry run names the victim with its reasons" eval 'rc_is 0 && has "$OUT" "evict llama3.1:8b: idle" && has "$OUT" "uses/h" && has "$OUT" "KV cache"'
check "dry run changed nothing" eval '[ "$(loaded)" = "$before" ]'

run "$MODELCTL" load --no-evict gemma3:12b
check "--no-evict refuses with exit 4, naming what would go" eval 'rc_is 4 && has "$ERR" "without unloading llama3.1:8b"'
check "the refusal changed nothing" eval '[ "$(loaded)" = "$before" ]'

run "$MODELCTL" --json load gemma3:12b
check "load evicts the policy's victim, keeps the pin and the busy model" eval 'rc_is 0 &&
    [ "$(jq -r ".plan.evicted[].model" <<<"$OUT")" = llama3.1:8b ] && [ "$(loaded)" = "gemma3:12b llama3.2:3b qwen2.5-coder:7b " ]'
check "the plan reports the estimate and its source" eval 'jq -e ".plan.models[0].source | startswith(\"estimated: file 8.1 GB + KV cache\")" <<<"$OUT" >/dev/null'

run "$MODELCTL" load llama3.3:70b
check "a model larger than the budget is refused with exit 4" eval 'rc_is 4 && has "$ERR" "more than the whole budget of 20 GB" && has "$ERR" "hint:"'
"$MODELCTL" -q pin gemma3:12b qwen2.5-coder:7b
run "$MODELCTL" load mistral-small:24b
check "pins filling memory: refused, pins kept" eval 'rc_is 4 && has "$ERR" "pinned and requested models" && [ "$(loaded)" = "gemma3:12b llama3.2:3b qwen2.5-coder:7b " ]'
"$MODELCTL" -q unpin gemma3:12b qwen2.5-coder:7b

run "$MODELCTL" --json load llama3.1:8b qwen2.5-coder:7b
check "several models are planned together: the wanted one stays" eval 'rc_is 0 && [ "$(jq -r ".plan.evicted[].model" <<<"$OUT")" = gemma3:12b ]'

# gc: nothing idle, within budget -> silent (cron).
run "$MODELCTL" gc
check "gc with nothing to do prints nothing" eval 'rc_is 0 && [ -z "$OUT$ERR" ]'
sleep 5 # idle 5s+ against --idle 3s; the model loaded next has 3s of margin
"$MODELCTL" -q load qwen2.5-coder:7b # used just now
before=$(loaded)
run "$MODELCTL" gc --idle 3s --dry-run
check "gc --dry-run lists the idle unpinned model only" eval 'rc_is 0 && has "$OUT" "would unload llama3.1:8b: idle" && ! has "$OUT" "qwen" && ! has "$OUT" "llama3.2"'
check "gc --dry-run changed nothing" eval '[ "$(loaded)" = "$before" ]'
run "$MODELCTL" gc --idle 3s
check "gc unloads only the idle, unpinned model" eval 'rc_is 0 && has "$OUT" "unloaded llama3.1:8b" && [ "$(loaded)" = "llama3.2:3b qwen2.5-coder:7b " ]'

# Over budget: gc brings it back under by the policy.
run "$MODELCTL" --json gc --memory 5GB
check "gc over budget unloads by the policy, keeps the pin" eval 'rc_is 0 && [ "$(jq -r "[.actions[] | select(.why == \"over_budget\") | .model] | join(\",\")" <<<"$OUT")" = qwen2.5-coder:7b ] && [ "$(loaded)" = "llama3.2:3b " ]'

# Two gcs at once: the second exits 0 at once, saying so.
mkdir -p "$MODELCTL_HOME"
flock "$MODELCTL_HOME/gc.lock" sleep 3 &
holder=$!
sleep 0.3
run "$MODELCTL" gc
check "a second gc exits 0 saying another is running" eval 'rc_is 0 && has "$ERR" "another gc is running"'
wait "$holder"
"$MODELCTL" gc --idle 1s & a=$!
"$MODELCTL" gc --idle 1s & b=$!
check "two real gcs at once both succeed" eval 'wait $a && wait $b'

# Pins and priorities: bad input refused.
run "$MODELCTL" pin no-such-model
check "pinning a model that is not installed: exit 1 with a hint" eval 'rc_is 1 && has "$ERR" "not installed" && has "$ERR" "hint:"'
run "$MODELCTL" priority llama3.2:3b 12
check "priority out of range: usage error" eval 'rc_is 2'
run "$MODELCTL" priority llama3.2:3b 8
check "priority set" eval 'rc_is 0 && has "$OUT" "priority 8"'

# Configuration: sources shown, errors name the file and the key.
mkdir -p "$XDG_CONFIG_HOME/modelctl"
echo '{"idle_timeout": "45m", "models": {"qwen2.5-coder:7b": {"pin": true}}}' >"$XDG_CONFIG_HOME/modelctl/config.json"
run "$MODELCTL" --json config show
check "config show: value and source of each key" eval 'rc_is 0 &&
    jq -e "(.settings[] | select(.key == \"idle_timeout\") | .value == \"45m\" and .source == \"file\") and
           (.settings[] | select(.key == \"budget.memory\") | .source == \"env\") and
           (.models[] | select(.model == \"qwen2.5-coder:7b\") | .pinned and .pin_source == \"file\") and
           (.models[] | select(.model == \"llama3.2:3b\") | .priority == 8 and .priority_source == \"store\")" <<<"$OUT" >/dev/null'
run "$MODELCTL" unpin qwen2.5-coder:7b
check "unpin cannot undo a pin in the config file, and says where it is" eval 'rc_is 1 && has "$ERR" "stays pinned by the config file"'
MODELCTL_IDLE_TIMEOUT=10m run "$MODELCTL" --json config show
check "environment beats the file" eval 'jq -e ".settings[] | select(.key == \"idle_timeout\") | .value == \"10m\" and .origin == \"MODELCTL_IDLE_TIMEOUT\"" <<<"$OUT" >/dev/null'
echo '{"budget": {"gpu": {"max_memory_percnt": 80}}}' >"$XDG_CONFIG_HOME/modelctl/config.json"
run "$MODELCTL" status
check "an unknown key is a usage error naming file and key" eval 'rc_is 2 && has "$ERR" "config.json: unknown key '"'"'budget.gpu.max_memory_percnt'"'"'"'

# The budget from this machine's probes, here a fake root: 32 GiB of RAM and
# one 24 GiB GPU reported by a fake nvidia-smi (run without a shell).
unset MODELCTL_BUDGET_MEMORY
rm -f "$XDG_CONFIG_HOME/modelctl/config.json"
root="$SCRATCH/root"
mkdir -p "$root/proc" "$root/bin"
printf 'MemTotal: 33554432 kB\nMemAvailable: 30000000 kB\n' >"$root/proc/meminfo"
printf '#!/bin/sh\necho "0, Fake RTX, 24576, 4000"\n' >"$root/bin/nvidia-smi"
chmod +x "$root/bin/nvidia-smi"
MODELCTL_SYSROOT="$root" PATH="$root/bin:$PATH" run "$MODELCTL" --json load --dry-run gemma3:12b
check "budget from the probes: one GPU, 90% or 1 GB free, minus what others hold" eval 'rc_is 0 &&
    jq -e ".plan.budget.pool == \"gpu\" and (.plan.budget.explanation | startswith(\"1 GPU(s)\")) and .plan.budget.capacity == 25769803776" <<<"$OUT" >/dev/null'
# A model the server lacks is named, and the others are still loaded (as the
# man page says of every command on several models).
export MODELCTL_BUDGET_MEMORY=21GB
"$MODELCTL" -q unload --all
run "$MODELCTL" --json load llama3.2:3b nope qwen2.5-coder:7b
check "load A nope B loads A and B, reports nope, exit 1" eval 'rc_is 1 &&
    has "$ERR" "model '"'"'nope'"'"' is not installed" && [ "$(loaded)" = "llama3.2:3b qwen2.5-coder:7b " ] &&
    jq_out "([.results[] | select(.ok) | .model] == [\"llama3.2:3b\", \"qwen2.5-coder:7b\"]) and
        (.results[] | select(.model == \"nope\") | .ok == false and .error.kind == \"not_found\") and
        .plan.missing[0].model == \"nope\""'

# The count cap binds like memory does, and the reasons say so: 3 models
# hold 13 GB of 21 GB, budget.max_loaded is 3.
"$MODELCTL" -q load llama3.1:8b
run env MODELCTL_BUDGET_MAX_LOADED=3 "$MODELCTL" load --dry-run qwen2.5-coder:1.5b
check "load --dry-run names budget.max_loaded when the count binds, not memory" eval 'rc_is 0 &&
    has "$OUT" "4 models would be loaded, more than budget.max_loaded = 3" &&
    has "$OUT" "slots of budget.max_loaded" && ! has "$OUT" "more than the budget of"'
run env MODELCTL_BUDGET_MAX_LOADED=3 "$MODELCTL" load --no-evict qwen2.5-coder:1.5b
check "--no-evict says which constraint binds" eval 'rc_is 4 && has "$ERR" "budget.max_loaded = 3"'
run env MODELCTL_BUDGET_MAX_LOADED=2 "$MODELCTL" --json gc --dry-run
check "gc over the count cap says so" eval 'rc_is 0 &&
    jq_out "[.actions[] | select(.why == \"over_budget\")] | length == 1 and (.[0].reason | contains(\"budget.max_loaded\"))"'
finish
