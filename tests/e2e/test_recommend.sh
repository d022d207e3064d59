#!/usr/bin/env bash
# recommend and preload against modelsim: capabilities, memory limits,
# measured history, and loading what the hour-of-week counts predict.
source "$(dirname "$0")/lib.sh"
export TZ=UTC # recorded times below are placed by hour of the week
DATA=$(cd "$(dirname "$0")/../data" && pwd)
start_sim --speed 20 --startup 0.1 --catalog "$DATA/catalog-recommend.json" --vram 24GB
sim_url=$SIM_URL
export MODELCTL_BUDGET_MEMORY=16GB

run "$MODELCTL" recommend
check "with no history it still answers, and says it has none" eval 'rc_is 0 && has "$OUT" "no usage history yet" && has "$OUT" "1. "'
run "$MODELCTL" --json recommend -n 20
check "no history: every estimate is from size; the 70B is left out for the budget" eval 'rc_is 0 && jq -e "
    .history == false and (.recommendations | length > 3) and
    all(.recommendations[]; .tokens_per_second_source == \"estimated\" and (.reasons | length) >= 3) and
    any(.excluded[]; .model == \"llama3.3:70b\" and (.reason | contains(\"budget\")))" <<<"$OUT" >/dev/null'

run "$MODELCTL" --json recommend --task vision -n 20
check "--task vision ranks only vision-capable models" eval 'rc_is 0 && jq -e "
    (.recommendations | length) == 4 and all(.recommendations[]; .capabilities | index(\"vision\")) and
    all(.excluded[]; .reason == \"no vision capability\" or (.reason | contains(\"budget\")))" <<<"$OUT" >/dev/null'
run "$MODELCTL" --json recommend --task vision --max-memory 4GB -n 20
check "--max-memory 4GB never proposes a model that does not fit" eval 'rc_is 0 && jq -e "
    (.recommendations | length) >= 1 and all(.recommendations[]; .bytes <= 4000000000) and
    .recommendations[0].model == \"gemma3:4b\" and
    any(.excluded[]; .model == \"gemma3:12b\" and (.reason | contains(\"--max-memory 4 GB\")))" <<<"$OUT" >/dev/null'
run "$MODELCTL" --json recommend --max-memory 4GB -n 20
check "nor for any task" eval 'rc_is 0 && jq -e "all(.recommendations[]; .bytes <= 4000000000)" <<<"$OUT" >/dev/null'
run "$MODELCTL" -q recommend --task embedding
check "--task embedding: the embedding model only" eval 'rc_is 0 && [ "$OUT" = "nomic-embed-text:latest" ]'
run "$MODELCTL" -q recommend --task coding -n 1
check "--task coding: the code model first" eval 'rc_is 0 && [ "$OUT" = "qwen2.5-coder:7b" ]'
run "$MODELCTL" -q recommend --task reasoning -n 1
check "--task reasoning: the thinking model first" eval 'rc_is 0 && [ "$OUT" = "deepseek-r1:8b" ]'
run "$MODELCTL" -q recommend --prefer quality -n 1
q=$OUT
run "$MODELCTL" -q recommend --prefer speed -n 1
check "--prefer quality picks a larger model than --prefer speed" eval '[ "$q" = "llama3.2-vision:11b" ] || [ "$q" = "gemma3:12b" ] && [ "$OUT" = "llama3.2:3b" ]'
run "$MODELCTL" recommend --task vision --max-memory 1GB
check "nothing suits: exit 1, saying why" eval 'rc_is 1 && has "$ERR" "no installed model suits vision within 1 GB" && has "$OUT" "Left out"'
run "$MODELCTL" recommend --task painting
check "unknown task: exit 2" eval 'rc_is 2 && has "$ERR" "unknown task"'
run "$MODELCTL" recommend --prefer fast
check "unknown preference: exit 2" eval 'rc_is 2'
run "$MODELCTL" recommend --max-memory lots
check "bad size: exit 2" eval 'rc_is 2'

# History: measured speed replaces the estimate; a loaded model needs no cold start.
"$MODELCTL" -q run llama3.1:8b hello >/dev/null
"$MODELCTL" -q run llama3.2:3b hello >/dev/null
run "$MODELCTL" --json recommend -n 20
check "measured models say so, with figures; loaded ones need no load" eval 'rc_is 0 && jq -e "
    .history == true and
    (.recommendations[] | select(.model == \"llama3.1:8b\") | .tokens_per_second_source == \"measured\" and .readiness == \"loaded\" and
        any(.reasons[]; contains(\"tok/s measured over 1 use\")) and any(.reasons[]; . == \"loaded now: no cold start\")) and
    (.recommendations[] | select(.model == \"gemma3:4b\") | any(.reasons[]; contains(\"calibrated on 2 measured models\")))" <<<"$OUT" >/dev/null'
# modelsim reads weights at 400 GB/s, 20x sped up: the calibration carries over.
check "the estimate for an unmeasured model follows the measured bandwidth" eval 'jq -e "
    (.recommendations[] | select(.model == \"gemma3:4b\") | .tokens_per_second * .bytes) as \$e |
    (\$e / (400e9 * 20) - 1 | fabs) < 0.1" <<<"$OUT" >/dev/null'
for _ in 1 2 3; do "$MODELCTL" -q record llama3.1:8b --latency-ms 100 --failed; done
run "$MODELCTL" --json recommend -n 20
check "failures lower a model and are named" eval 'jq -e "
    .recommendations[] | select(.model == \"llama3.1:8b\") | any(.reasons[]; contains(\"3 of 4 uses failed\"))" <<<"$OUT" >/dev/null'
"$MODELCTL" -q unload --all

# preload: uses recorded in the same hour of past weeks.
target=$(date -d "$(date -d '+1 hour' '+%F %H:00')" +%s)
at=$(date -d "@$target" +%H:%M)
{
    for w in 1 2 3; do
        t=$((target - w * 604800 + 1200))
        for _ in 1 2; do printf '{"model":"gemma3:4b","latency_ms":500,"at":"%s"}\n' "$(date -u -d "@$t" +%FT%TZ)"; done
        printf '{"model":"llama3.2:3b","latency_ms":500,"at":"%s"}\n' "$(date -u -d "@$((t + 7200))" +%FT%TZ)"
        printf '{"model":"llama3.2:3b","latency_ms":500,"at":"%s"}\n' "$(date -u -d "@$((t + 7200))" +%FT%TZ)"
    done
    printf '{"model":"llava:7b","latency_ms":500,"at":"%s"}\n' "$(date -u -d "@$((target - 3 * 604800 + 1200))" +%FT%TZ)"
} >"$SCRATCH/history.jsonl"
"$MODELCTL" -q record --batch "$SCRATCH/history.jsonl"
uses_before=$("$MODELCTL" --json stats gemma3:4b | jq '.models[0].uses')

run "$MODELCTL" --json preload --at "$at" --dry-run
check "preload --dry-run: the habitual model is likely, the rare one is not" eval 'rc_is 0 && jq -e "
    (.forecast[] | select(.model == \"gemma3:4b\") | .action == \"load\" and (.probability - (1 - (-6 / .weeks | exp)) | fabs) < 1e-9 and .weeks > 2.9 and .weeks < 3) and
    (.forecast[] | select(.model == \"llava:7b\") | .action == \"unlikely\" and .probability < 0.5) and
    (.forecast[] | select(.model == \"llama3.2:3b\") | .action == \"unlikely\")" <<<"$OUT" >/dev/null'
check "and changes nothing" eval '[ "$(curl -s "$sim_url/api/ps" | jq ".models | length")" = 0 ]'
run "$MODELCTL" preload --at "$(date -d "@$((target + 7200))" +%H:%M)" --dry-run
check "another hour has another habit" eval 'rc_is 0 && has "$OUT" "would load llama3.2:3b" && ! has "$OUT" "gemma3:4b"'

run "$MODELCTL" preload --at "$at"
check "preload loads the likely model and says so" eval 'rc_is 0 && has "$OUT" "loaded gemma3:4b"'
check "kept loaded to the end of that hour at least" eval 'curl -s "$sim_url/api/ps" | jq -e --argjson limit $((target + 3600)) "
    .models[] | select(.name == \"gemma3:4b\") | (.expires_at | sub(\"\\\\.[0-9]+\"; \"\") | fromdateiso8601) >= \$limit - 5" >/dev/null'
check "preloading is not a use" eval '[ "$("$MODELCTL" --json stats gemma3:4b | jq ".models[0].uses")" = "$uses_before" ]'
run "$MODELCTL" preload --at "$at"
check "a second preload has nothing to do and, off a terminal, says nothing" eval 'rc_is 0 && [ -z "$OUT" ]'

"$MODELCTL" -q unload --all
"$MODELCTL" -q load llama3.1:8b
run "$MODELCTL" --json preload --at "$at" --memory 7GB
check "preload never evicts: a model that does not fit in free memory is skipped" eval 'rc_is 0 && jq -e "
    .forecast[] | select(.model == \"gemma3:4b\") | .action == \"skip\" and (.reason | contains(\"never evicts\"))" <<<"$OUT" >/dev/null &&
    [ "$(curl -s "$sim_url/api/ps" | jq -r "[.models[].name] | join(\",\")")" = "llama3.1:8b" ]'
run env MODELCTL_BUDGET_MAX_LOADED=1 "$MODELCTL" preload --at "$at"
check "a likely model skipped for the count cap: budget.max_loaded named, and said even off a terminal (cron)" eval 'rc_is 0 &&
    has "$OUT" "skip gemma3:4b" && has "$OUT" "budget.max_loaded = 1" && has "$OUT" "never evicts" &&
    [ "$(curl -s "$sim_url/api/ps" | jq -r "[.models[].name] | join(\",\")")" = "llama3.1:8b" ]'
run "$MODELCTL" preload --at 25:00
check "a bad --at: exit 2" eval 'rc_is 2 && has "$ERR" "HH:MM"'
finish
