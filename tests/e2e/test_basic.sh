#!/usr/bin/env bash
# status, load and unload against modelsim, in human and JSON form.
source "$(dirname "$0")/lib.sh"
start_sim --speed 20

run "$MODELCTL" status
check "status with nothing loaded" eval 'rc_is 0 && has "$OUT" "No models loaded on $SIM_URL"'

run "$MODELCTL" load llama3.1:8b --keep-alive 10m
check "load prints time and placement" eval 'rc_is 0 && has "$OUT" "loaded llama3.1:8b in" && has "$OUT" "100% GPU" && has "$OUT" "until: 9 minutes from now"'

run "$MODELCTL" status
check "status shows the loaded model like ollama ps" eval 'rc_is 0 && has "$OUT" "NAME" && has "$OUT" "PROCESSOR" && has "$OUT" "llama3.1:8b" && has "$OUT" "100% GPU" && has "$OUT" "4096"'

run "$MODELCTL" status --json
check "status --json: schema, model, sizes, expiry" eval 'rc_is 0 && jq -e ".schema == \"modelctl.status/v1\" and (.loaded | length == 1) and .loaded[0].name == \"llama3.1:8b\" and .loaded[0].size_vram == .loaded[0].size and .loaded[0].expiry == \"at\" and .loaded[0].expires_in_seconds > 500 and .loaded[0].known.loads == 1 and .loaded[0].known.last_load.seconds > 0 and (.loaded[0].known.capabilities | index(\"tools\"))" <<<"$OUT" >/dev/null'

run "$MODELCTL" load llama3.1:8b
check "loading a loaded model only refreshes it" eval 'rc_is 0 && has "$OUT" "was already loaded"'
run "$MODELCTL" status --json
check "a refresh is not counted as a load" eval 'jq -e ".loaded[0].known.loads == 1" <<<"$OUT" >/dev/null'

run "$MODELCTL" load qwen2.5-coder:1.5b --keep-alive forever --json
check "load --json reports each model" eval 'rc_is 0 && jq_out ".schema == \"modelctl.load/v2\" and .results[0].ok and (.results[0].was_loaded | not) and .results[0].observed.expiry == \"forever\""'
run "$MODELCTL" status
check "a forever keep-alive shows as Forever" eval 'has "$OUT" "Forever"'

run "$MODELCTL" status -q
check "status -q prints names only" eval 'rc_is 0 && [ "$(sort <<<"$OUT")" = "$(printf "llama3.1:8b\nqwen2.5-coder:1.5b")" ]'

run "$MODELCTL" status --all --json
check "status --all lists installed models, marking the loaded" eval 'rc_is 0 && jq -e "(.installed | length) == 12 and ([.installed[] | select(.loaded)] | length) == 2" <<<"$OUT" >/dev/null'

run "$MODELCTL" unload llama3.1:8b
check "unload waits until the model is gone" eval 'rc_is 0 && has "$OUT" "unloaded llama3.1:8b in" && has "$OUT" "freed 5.4 GB"'
run "$MODELCTL" status --json
check "the unloaded model is no longer listed" eval 'jq -e "[.loaded[].name] == [\"qwen2.5-coder:1.5b\"]" <<<"$OUT" >/dev/null'

run "$MODELCTL" unload llama3.1:8b
check "unloading a model not loaded says so" eval 'rc_is 0 && has "$OUT" "llama3.1:8b was not loaded"'

run "$MODELCTL" unload nosuch:1b
check "unloading a model not installed: exit 1, not a hint to pull it" eval 'rc_is 1 && has "$ERR" "nosuch:1b" && has "$ERR" "modelctl ps lists what is loaded" && ! has "$ERR" "pull"'

run "$MODELCTL" unload --all --json
check "unload --all --json" eval 'rc_is 0 && jq_out ".schema == \"modelctl.unload/v2\" and (.results | length) == 1 and .results[0].was_loaded and .results[0].freed > 0"'

run "$MODELCTL" store --json
check "the store holds each load and unload as an event" eval 'rc_is 0 && jq -e ".events.count == 4 and .state.schema_version == 7 and .events.unreadable == 0" <<<"$OUT" >/dev/null'
check "store files are private" eval '[ "$(stat -c %a "$MODELCTL_HOME")" = 700 ] && [ "$(stat -c %a "$MODELCTL_HOME/state.json")" = 600 ] && [ "$(stat -c %a "$MODELCTL_HOME/events.jsonl")" = 600 ]'

# Addresses: --host wins over OLLAMA_HOST; a bind-all address means loopback.
run env OLLAMA_HOST="0.0.0.0:$SIM_PORT" "$MODELCTL" status
check "OLLAMA_HOST=0.0.0.0:PORT connects to loopback" eval 'rc_is 0 && has "$OUT" "127.0.0.1:$SIM_PORT"'
run env OLLAMA_HOST="http://127.0.0.1:1" "$MODELCTL" --host "http://localhost:$SIM_PORT" status
check "--host overrides OLLAMA_HOST" eval 'rc_is 0'
run env OLLAMA_HOST="\"http://127.0.0.1:$SIM_PORT\"" "$MODELCTL" status
check "OLLAMA_HOST with quotes, as Ollama accepts it" eval 'rc_is 0'

# The habits of ollama: ps, list/ls, stop; unload --dry-run; pin alone lists.
run "$MODELCTL" ls
check "ls lists the installed models as ollama list" eval 'rc_is 0 && has "$(head -1 <<<"$OUT")" "NAME" && has "$OUT" "llama3.2:1b" && has "$OUT" "llama3.1:8b" && ! has "$OUT" "No models loaded"'
check "ls shows MODIFIED as ollama list does" eval 'grep -qE "llama3.2:1b .* (months|years|weeks|days) ago" <<<"$OUT"'
run "$MODELCTL" list -q
check "list -q: the installed names alone" eval 'rc_is 0 && [ "$(head -1 <<<"$OUT")" = llama3.2:1b ] && [ "$(wc -l <<<"$OUT")" -gt 5 ]'
run "$MODELCTL" list --json
check "list --json: the status document with its installed models" eval 'rc_is 0 && jq_out ".schema == \"modelctl.status/v1\" and (.installed | length) > 5"'
"$MODELCTL" load llama3.2:1b >/dev/null
run "$MODELCTL" ps -q
check "ps is status" eval 'rc_is 0 && [ "$OUT" = llama3.2:1b ]'
run "$MODELCTL" stop --dry-run llama3.2:1b llama3.1:8b
check "unload --dry-run says what would be unloaded and freed" eval 'rc_is 0 && has "$OUT" "would unload llama3.2:1b (frees " && has "$OUT" "llama3.1:8b is not loaded" && [ "$("$MODELCTL" -q ps)" = llama3.2:1b ]'
run "$MODELCTL" unload --dry-run --all --json
check "... and as JSON, changing nothing" eval 'rc_is 0 && jq_out ".dry_run == true and .results[0].model == \"llama3.2:1b\" and .results[0].was_loaded and .results[0].freed > 0" && [ "$("$MODELCTL" -q ps)" = llama3.2:1b ]'
run "$MODELCTL" pin
check "pin alone with none pinned says so" eval 'rc_is 0 && has "$OUT" "No models are pinned"'
"$MODELCTL" pin llama3.2:3b >/dev/null
run "$MODELCTL" pin -q
check "pin alone lists the pinned models" eval 'rc_is 0 && [ "$OUT" = llama3.2:3b ]'
run "$MODELCTL" unpin llama3.1:8b
check "unpin of a model not pinned says so" eval 'rc_is 0 && has "$OUT" "llama3.1:8b was not pinned"'
run "$MODELCTL" show llama3.2:1b
check "show: the model as ollama show shows it, then what modelctl knows" eval 'rc_is 0 && has "$OUT" "architecture        llama" && has "$OUT" "context length" && has "$OUT" "completion" && has "$OUT" "loaded              " && has "$OUT" "100% GPU" && has "$OUT" "loads               1"'
run "$MODELCTL" show --json llama3.2:1b
check "show --json" eval 'rc_is 0 && jq_out ".schema == \"modelctl.show/v2\" and .model == \"llama3.2:1b\" and .context_length > 0 and .loaded.name == \"llama3.2:1b\" and .pinned == false and .loads == 1"'
run "$MODELCTL" stop llama3.2:1b
check "stop is unload" eval 'rc_is 0 && has "$OUT" "unloaded llama3.2:1b" && [ -z "$("$MODELCTL" -q ps)" ]'

# load --ctx, as lms load --context-length.
run "$MODELCTL" load --ctx 8192 llama3.2:1b
check "load --ctx N loads at that context length" eval 'rc_is 0 && [ "$("$MODELCTL" --json status | jq ".loaded[] | select(.name == \"llama3.2:1b\") | .context_length")" = 8192 ]'
run env MODELCTL_BUDGET_MEMORY=8GB "$MODELCTL" load --ctx max llama3.1:8b
ctx_max=$("$MODELCTL" --json status | jq ".loaded[] | select(.name == \"llama3.1:8b\") | .context_length")
check "load --ctx max: the longest context that fits the budget, below the model's own" eval 'rc_is 0 && has "$OUT" "llama3.1:8b: context $ctx_max, the longest that fits the budget of 8 GB (131072 would not)" && [ "$ctx_max" -ge 2048 ] && [ "$ctx_max" -lt 131072 ] && [ $((ctx_max % 1024)) = 0 ]'
run env MODELCTL_BUDGET_MEMORY=1TB "$MODELCTL" load --ctx max --dry-run llama3.2:3b
check "... or the model's own when that fits" eval 'rc_is 0 && has "$OUT" "llama3.2:3b: context 131072, the model'"'"'s longest"'
run "$MODELCTL" load --ctx lots llama3.2:1b
check "a bad --ctx is a usage error" eval 'rc_is 2 && has "$ERR" "--ctx: '"'"'lots'"'"' is not a context length"'
"$MODELCTL" -q unload --all

finish
