#!/usr/bin/env bash
# Policy benchmark: replays ../shared/traces/multimodel-azure2023.csv (the
# full trace, and the slowed-down variant: every 10th request, times x20) at
# 24, 48 and 80 GB with every rule side by side, and prints a Markdown table
# with the gap closed: (LRU - modelctl) / (LRU - belady).
#
#   tests/bench/policy_traces.sh [path/to/modelctl]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MODELCTL=${1:-$ROOT/build/ci/apps/modelctl/modelctl}
TRACES=${TRACES:-$ROOT/../shared/traces}
for tool in jq "$MODELCTL"; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done
echo "| variant | memory | modelctl s | lru s | ollama s | belady s | modelctl cold | lru cold | ollama cold | belady cold | gap closed |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
sum=0 n=0
for variant in full slow; do
    args=()
    [ "$variant" = slow ] && args=(--every 10 --stretch 20)
    out=$("$MODELCTL" --json simulate --trace "$TRACES/multimodel-azure2023.csv" \
        --catalog "$TRACES/catalog.csv" --memory 24GB,48GB,80GB "${args[@]}")
    while read -r line; do
        echo "$line"
        c=$(sed 's/.*| \([-0-9.]*\) |$/\1/' <<<"$line")
        sum=$(echo "$sum + $c" | bc -l) n=$((n + 1))
    done < <(jq -r --arg v "$variant" '.runs[] |
        (.results | map({(.policy): .}) | add) as $r |
        "| \($v) | \(.memory / 1e9 | floor) GB | \($r.modelctl.load_seconds | round) | \($r.lru.load_seconds | round) | \($r.ollama.load_seconds | round) | \($r.belady.load_seconds | round) | \($r.modelctl.cold_loads) | \($r.lru.cold_loads) | \($r.ollama.cold_loads) | \($r.belady.cold_loads) | \((($r.lru.load_seconds - $r.modelctl.load_seconds) / ($r.lru.load_seconds - $r.belady.load_seconds)) * 100 | round / 100) |"' <<<"$out")
done
printf '\nmean gap closed: %.2f over %d cases\n' "$(echo "$sum / $n" | bc -l)" "$n"
