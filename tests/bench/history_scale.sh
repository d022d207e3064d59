#!/usr/bin/env bash
# Benchmark: status, record and recommend with an empty history and with
# 1,000,000 recorded uses, side by side in one run against one modelsim.
# Goal (issue 4): the 1M case no slower than 1.2x the empty case; record
# under 5 ms a call.
# usage: tests/bench/history_scale.sh [BUILD_DIR] [EVENTS]   (default build/release, 1000000)
set -euo pipefail
BUILD=${1:-build/release}
EVENTS=${2:-1000000}
MODELCTL=$(realpath "$BUILD/apps/modelctl/modelctl")
MODELSIM=$(realpath "$BUILD/apps/modelsim/modelsim")
tmp=$(mktemp -d)
trap 'kill $sim 2>/dev/null; wait $sim 2>/dev/null; rm -rf "$tmp"' EXIT

"$MODELSIM" --port 0 --port-file "$tmp/port" --speed 100 --vram 80GB >/dev/null 2>&1 &
sim=$!
for _ in $(seq 1 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
port=$(cat "$tmp/port")
export OLLAMA_HOST="127.0.0.1:$port" MODELCTL_BUDGET_MEMORY=48GB XDG_CONFIG_HOME="$tmp/config"
unset MODELCTL_HOME

# Both stores know the installed models and three loaded ones.
"$MODELCTL" -q load llama3.2:3b llama3.1:8b qwen2.5-coder:7b --keep-alive 1h
for s in empty full; do MODELCTL_HOME="$tmp/$s" "$MODELCTL" -q status --all >/dev/null; done

# The full store: EVENTS uses over 8 weeks, over the dozen models, imported
# in batches of 100,000 (timestamps drawn from 2,000 precomputed ones).
models=$(curl -s "http://127.0.0.1:$port/api/tags" | jq -r '[.models[].name] | join(" ")')
now=$(date +%s)
for i in $(seq 1 2000); do date -u -d "@$((now - RANDOM * 32768 % 4838400 - RANDOM % 3600))" +%FT%TZ; done >"$tmp/times"
t0=$(date +%s.%N)
left=$EVENTS
while [ "$left" -gt 0 ]; do
    n=$((left < 100000 ? left : 100000))
    awk -v n="$n" -v models="$models" -v seed="$left" 'BEGIN {
            srand(seed); m = split(models, name, " ")
            while ((getline t < ARGV[1]) > 0) times[++k] = t
            ARGV[1] = ""
            for (i = 0; i < n; i++) {
                tok = int(20 + rand() * 400)
                printf "{\"model\":\"%s\",\"latency_ms\":%.1f,\"ttft_ms\":%.1f,\"tokens\":%d,\"tokens_in\":%d,\"eval_ms\":%.1f,\"failed\":%s,\"at\":\"%s\"}\n",
                    name[1 + int(rand() * m)], 200 + rand() * 5000, 50 + rand() * 400, tok,
                    int(10 + rand() * 2000), tok * (10 + rand() * 30), rand() < 0.02 ? "true" : "false",
                    times[1 + int(rand() * k)]
            }
        }' "$tmp/times" | MODELCTL_HOME="$tmp/full" "$MODELCTL" -q record --batch -
    left=$((left - n))
done
t1=$(date +%s.%N)
recorded=$(MODELCTL_HOME="$tmp/full" "$MODELCTL" --json stats | jq '[.models[].uses] | add')
echo "machine: $(nproc) cores, $(uname -r); modelsim on 127.0.0.1:$port, 3 models loaded"
printf 'imported %s uses in %.1f s; store: state.json %s, events %s (+ rotated %s)\n' "$recorded" \
    "$(echo "$t1 - $t0" | bc)" "$(du -h "$tmp/full/state.json" | cut -f1)" \
    "$(du -h "$tmp/full/events.jsonl" | cut -f1)" "$(du -h "$tmp/full/events.1.jsonl" 2>/dev/null | cut -f1 || echo 0)"
echo

bench() { # bench NAME COMMAND...: empty vs full store, side by side
    local name=$1
    shift
    hyperfine --warmup 10 --runs "${RUNS:-200}" -N --export-json "$tmp/$name.json" \
        -n "$name (empty)" "env MODELCTL_HOME=$tmp/empty $*" \
        -n "$name (1M)" "env MODELCTL_HOME=$tmp/full $*" | sed -n '1,20p'
    jq -r --arg n "$name" '
        (.results[] | select(.command == "\($n) (empty)") | .mean) as $e |
        (.results[] | select(.command == "\($n) (1M)") | .mean) as $f |
        (.results[] | select(.command == "\($n) (empty)") | .median) as $em |
        (.results[] | select(.command == "\($n) (1M)") | .median) as $fm |
        "\($n): mean: empty \($e * 1000 | . * 100 | round / 100) ms, 1M \($f * 1000 | . * 100 | round / 100) ms, ratio \($f / $e | . * 100 | round / 100); median: empty \($em * 1000 | . * 100 | round / 100) ms, 1M \($fm * 1000 | . * 100 | round / 100) ms, ratio \($fm / $em | . * 100 | round / 100) (goal <= 1.2)"' \
        "$tmp/$name.json" >>"$tmp/summary"
    echo
}
: >"$tmp/summary"
bench status "$MODELCTL" status --json
bench record "$MODELCTL" -q record llama3.1:8b --latency-ms 900 --tokens 100
bench recommend "$MODELCTL" recommend --json
hyperfine --warmup 10 --runs "${RUNS:-200}" -N --export-json "$tmp/start.json" \
    -n "start-up (--version)" "$MODELCTL --version" | sed -n '1,4p'
echo
echo "== summary"
cat "$tmp/summary"
jq -r '.results[0].mean * 1000 | "process start-up alone (modelctl --version): \(. * 100 | round / 100) ms"' "$tmp/start.json"
rec=$(jq '.results[] | select(.command == "record (1M)") | .mean * 1000' "$tmp/record.json")
recm=$(jq '.results[] | select(.command == "record (1M)") | .median * 1000' "$tmp/record.json")
printf 'record with 1M uses: %.2f ms a call, median %.2f ms (goal < 5 ms)\n' "$rec" "$recm"
