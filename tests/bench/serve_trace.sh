#!/usr/bin/env bash
# Benchmark, the headline of issue 17: one real trace replayed against
# modelsim's Ollama rule twice, side by side in one run: directly, and
# through `modelctl serve`; beside what `modelctl simulate` predicts for the
# same trace, budget and model cap. The trace is
# ../shared/traces/multimodel-azure2023.csv, slowed variant (every 10th
# request, times x20: 2,818 requests over 20 simulated hours), compressed
# 1000x (modelsim --speed 1000, tests/tools/replay). Both runs: 48 GB of GPU,
# at most 8 models (OLLAMA_MAX_LOADED_MODELS raised as a serve user would,
# and budget.max_loaded to match), loads of 1 s + 2 GB/s as the catalog's
# load_s assume, a context of 256 so the memory is the catalog's sizes.
# Seconds spent loading and cold loads come from modelsim's own counters
# (GET /modelsim/stats: simulated seconds). Goals: through serve within 10%
# of simulate's figure for the modelctl policy, and at least 15% fewer
# loading seconds than direct.
# usage: tests/bench/serve_trace.sh [BUILD_DIR] [MEMORY]   (default build/release 48GB)
set -euo pipefail
BUILD=${1:-build/release}
MEMORY=${2:-48GB}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TRACES=${TRACES:-$ROOT/../shared/traces}
MODELCTL=$BUILD/apps/modelctl/modelctl
MODELSIM=$BUILD/apps/modelsim/modelsim
REPLAY=$BUILD/tests/replay
for tool in jq curl "$MODELCTL" "$MODELSIM" "$REPLAY"; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done
SPEED=1000 EVERY=10 STRETCH=20 MAX_LOADED=8
tmp=$(mktemp -d)
sim= serve=
trap 'kill $serve $sim 2>/dev/null; wait $serve $sim 2>/dev/null; rm -rf "$tmp"' EXIT

start_sim() {
    rm -f "$tmp/sim.port"
    "$MODELSIM" --port 0 --port-file "$tmp/sim.port" --speed "$SPEED" --vram "$MEMORY" \
        --max-loaded "$MAX_LOADED" --startup 1 --load-bandwidth 2e9 --num-ctx 256 --threads 600 \
        >"$tmp/sim.log" 2>&1 &
    sim=$!
    for _ in $(seq 1 100); do [ -s "$tmp/sim.port" ] && break; sleep 0.05; done
    sp=$(cat "$tmp/sim.port")
}
stop_sim() { kill $sim; wait $sim 2>/dev/null || true; sim=; }

echo "machine: $(nproc) cores; trace: multimodel-azure2023.csv, every $EVERY, times x$STRETCH, at x$SPEED; $MEMORY, at most $MAX_LOADED models"
start_sim
direct=$("$REPLAY" 127.0.0.1 "$sp" "$TRACES/multimodel-azure2023.csv" "$SPEED" "$EVERY" "$STRETCH" || true)
direct_stats=$(curl -s "127.0.0.1:$sp/modelsim/stats")
stop_sim

start_sim
export OLLAMA_HOST="127.0.0.1:$sp" MODELCTL_HOME="$tmp/store" XDG_CONFIG_HOME="$tmp/config"
export MODELCTL_BUDGET_MEMORY=$MEMORY MODELCTL_BUDGET_MAX_LOADED=$MAX_LOADED MODELCTL_NUM_CTX=256
"$MODELCTL" serve --listen 127.0.0.1:0 --port-file "$tmp/serve.port" 2>"$tmp/serve.err" &
serve=$!
for _ in $(seq 1 100); do [ -s "$tmp/serve.port" ] && break; sleep 0.05; done
via=$("$REPLAY" 127.0.0.1 "$(cat "$tmp/serve.port")" "$TRACES/multimodel-azure2023.csv" "$SPEED" "$EVERY" "$STRETCH" || true)
serve_stats=$(curl -s "127.0.0.1:$sp/modelsim/stats")
kill -TERM $serve; wait $serve || true; serve=
stop_sim

sim_json=$("$MODELCTL" --json simulate --trace "$TRACES/multimodel-azure2023.csv" \
    --catalog "$TRACES/catalog.csv" --memory "$MEMORY" --every "$EVERY" --stretch "$STRETCH" \
    --max-loaded "$MAX_LOADED" --policy modelctl,ollama,lru)

printf '\n| run | requests answered | errors | cold loads | seconds loading | evictions |\n|---|---|---|---|---|---|\n'
row() { # row NAME REPLAY_JSON STATS_JSON
    printf '| %s | %s | %s | %s | %.0f | %s |\n' "$1" "$(jq .answered <<<"$2")" \
        "$(jq -c .errors_by_status <<<"$2")" "$(jq .loads <<<"$3")" "$(jq .load_seconds <<<"$3")" \
        "$(jq .evictions <<<"$3")"
}
row "direct (Ollama's rule)" "$direct" "$direct_stats"
row "through modelctl serve" "$via" "$serve_stats"
jq -r '.runs[0].results[] | "| simulate --policy \(.policy) | | | \(.cold_loads) | \(.load_seconds | round) | |"' <<<"$sim_json"
d=$(jq .load_seconds <<<"$direct_stats") s=$(jq .load_seconds <<<"$serve_stats")
p=$(jq '.runs[0].results[] | select(.policy == "modelctl") | .load_seconds' <<<"$sim_json")
printf '\nthrough serve: %.1f%% fewer loading seconds than direct; %+.1f%% against simulate'"'"'s modelctl figure\n' \
    "$(echo "($d - $s) * 100 / $d" | bc -l)" "$(echo "($s - $p) * 100 / $p" | bc -l)"
