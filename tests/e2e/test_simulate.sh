#!/usr/bin/env bash
# simulate: replay a trace, rules side by side; bad input refused with the line.
source "$(dirname "$0")/lib.sh"
DATA=$(cd "$(dirname "$0")/../data/traces" && pwd)

run "$MODELCTL" simulate --trace "$DATA/six.csv" --catalog "$DATA/catalog.csv" --memory 20GB
check "human table with every rule" eval 'rc_is 0 && has "$OUT" "Memory 20 GB:" && has "$OUT" "belady" && has "$OUT" "6 requests"'

run "$MODELCTL" --json simulate --trace "$DATA/six.csv" --catalog "$DATA/catalog.csv" --memory 20GB,30GB
check "json: the hand-checked cold loads (lru 5, modelctl 4, belady 4, ollama 4)" eval 'rc_is 0 &&
    [ "$(jq -c "[.runs[0].results[] | {(.policy): .cold_loads}] | add" <<<"$OUT")" = "{\"modelctl\":4,\"lru\":5,\"ollama\":4,\"belady\":4}" ]'
check "json: 30 GB holds all three, 3 cold loads each" eval '[ "$(jq "[.runs[1].results[].cold_loads] | unique" -c <<<"$OUT")" = "[3]" ]'
check "json: schema named" eval '[ "$(jq -r .schema <<<"$OUT")" = modelctl.simulate/v1 ]'

run "$MODELCTL" --json simulate --trace "$DATA/six.csv" --catalog "$DATA/catalog.csv" --memory 20GB --policy lru --every 2 --stretch 10
check "thinning and one policy" eval 'rc_is 0 && [ "$(jq ".trace.requests" <<<"$OUT")" = 3 ] && [ "$(jq ".runs[0].results | length" <<<"$OUT")" = 1 ]'

# A model that cannot fit is refused, as `load` refuses it (issue 16: the
# replay once loaded it alone, evicting everything, and counted a cold load).
printf 'time,model\n0,a\n1,big\n2,a\n' >"$SCRATCH/big.csv"
run "$MODELCTL" --json simulate --trace "$SCRATCH/big.csv" --catalog "$DATA/catalog.csv" --memory 20GB
check "json: the 43 GB model is refused under every rule; a stays loaded (1 cold load, 1 hit)" eval 'rc_is 0 &&
    jq_out "(.runs[0].results | map(.refused == 1 and .cold_loads == 1) | all and length == 4) and .runs[0].oversize_requests == 1"'
run "$MODELCTL" simulate --trace "$SCRATCH/big.csv" --catalog "$DATA/catalog.csv" --memory 20GB --policy modelctl
check "human: a REFUSED column, and why" eval 'rc_is 0 && has "$OUT" "REFUSED" && has "$OUT" "1 for models larger than the whole budget"'

printf 'time,model\n0,a\n1,zz\n' >"$SCRATCH/bad.csv"
run "$MODELCTL" simulate --trace "$SCRATCH/bad.csv" --catalog "$DATA/catalog.csv" --memory 20GB
check "unknown model: usage error naming file and line" eval 'rc_is 2 && has "$ERR" "bad.csv:3: model '"'"'zz'"'"' is not in the catalog"'
run "$MODELCTL" simulate --trace "$DATA/six.csv" --catalog "$DATA/catalog.csv" --memory lots
check "bad memory: usage error" eval 'rc_is 2 && has "$ERR" "bad memory size"'
run "$MODELCTL" simulate --trace "$DATA/six.csv" --catalog "$DATA/catalog.csv" --memory 20GB --policy fifo
check "unknown policy: usage error" eval 'rc_is 2 && has "$ERR" "unknown policy"'
run "$MODELCTL" simulate --memory 20GB --from-history
check "no history yet: a clear failure" eval 'rc_is 1 && has "$ERR" "no recorded usage"'

# --from-history replays what modelctl recorded.
start_sim --speed 50
"$MODELCTL" -q load llama3.2:3b
"$MODELCTL" -q load qwen2.5-coder:7b
"$MODELCTL" -q unload llama3.2:3b
"$MODELCTL" -q load llama3.2:3b
run "$MODELCTL" --json simulate --from-history --memory 100GB --policy lru
check "from history: three recorded loads, two models" eval 'rc_is 0 && [ "$(jq .trace.requests <<<"$OUT")" = 3 ] && [ "$(jq ".runs[0].results[0].cold_loads" <<<"$OUT")" = 2 ]'
finish
