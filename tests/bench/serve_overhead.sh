#!/usr/bin/env bash
# Benchmark: what `modelctl serve` adds to a request, side by side in one run
# against one modelsim: a one-token non-streamed generate, direct and through
# serve, at 1 and 64 concurrent clients flat out and at 64 clients paced to
# half of serve's flat-out throughput (tests/tools/loadgen: p50/p99 latency,
# throughput); then 256 concurrent streaming clients through serve, with
# serve's peak RSS. Goals (issue 17): p50 added <= 0.5 ms, p99 <= 2 ms,
# throughput >= 0.9x direct; 256 streams with no error in <= 64 MB.
# usage: tests/bench/serve_overhead.sh [BUILD_DIR]   (default build/release)
set -euo pipefail
BUILD=${1:-build/release}
MODELCTL=$BUILD/apps/modelctl/modelctl
MODELSIM=$BUILD/apps/modelsim/modelsim
LOADGEN=$BUILD/tests/loadgen
tmp=$(mktemp -d)
trap 'kill $serve $sim 2>/dev/null; wait $serve $sim 2>/dev/null; rm -rf "$tmp"' EXIT

"$MODELSIM" --port 0 --port-file "$tmp/sim.port" --speed 1000 --threads 600 --vram 80GB \
    >/dev/null 2>&1 &
sim=$!
for _ in $(seq 1 100); do [ -s "$tmp/sim.port" ] && break; sleep 0.05; done
sp=$(cat "$tmp/sim.port")
export OLLAMA_HOST="127.0.0.1:$sp" MODELCTL_HOME="$tmp/store" MODELCTL_BUDGET_MEMORY=60GB
"$MODELCTL" serve --listen 127.0.0.1:0 --port-file "$tmp/serve.port" 2>"$tmp/serve.err" &
serve=$!
for _ in $(seq 1 100); do [ -s "$tmp/serve.port" ] && break; sleep 0.05; done
pp=$(cat "$tmp/serve.port")
one='{"model":"llama3.2:1b","prompt":"hi","stream":false,"options":{"num_predict":1}}'
curl -s "127.0.0.1:$pp/api/generate" -d "$one" >/dev/null # loaded, through serve

echo "machine: $(nproc) cores, $(uname -r); modelsim --speed 1000"
printf '\n%-8s %-11s %-7s %9s %9s %9s %7s\n' clients load via p50_ms p99_ms req/s errors
# $1 clients, $2 requests, $3 rate (0: closed loop), $4 label
compare() {
    for via in direct serve; do
        port=$([ $via = direct ] && echo "$sp" || echo "$pp")
        r=$("$LOADGEN" 127.0.0.1 "$port" /api/generate "$one" "$1" "$2" "$3")
        echo "$r" >"$tmp/$via.json"
        printf '%-8s %-11s %-7s %9.3f %9.3f %9.0f %7d\n' "$1" "$4" "$via" "$(jq .p50_ms <<<"$r")" \
            "$(jq .p99_ms <<<"$r")" "$(jq .per_second <<<"$r")" "$(jq .errors <<<"$r")"
    done
    jq -rn --slurpfile d "$tmp/direct.json" --slurpfile s "$tmp/serve.json" \
        '"  added p50 \(($s[0].p50_ms - $d[0].p50_ms) * 1000 | round / 1000) ms, p99 \(($s[0].p99_ms - $d[0].p99_ms) * 1000 | round / 1000) ms, throughput \(($s[0].per_second / $d[0].per_second) * 100 | round / 100)x direct"'
}
compare 1 3000 0 saturating
compare 64 8000 0 saturating
# The closed loop above keeps the two cores busy, so its latencies are mostly
# queueing for the CPU, and serve's share of that CPU halves throughput.
# Paced, the same 64 clients offer half of what serve answered flat out: the
# latency the proxy adds when the machine has room.
half=$(jq '.per_second / 2 | floor' "$tmp/serve.json")
compare 64 8000 "$half" "$half/s"

# 256 streaming answers at once (about 1.5 s each at --speed 20).
kill $sim; wait $sim 2>/dev/null || true
"$MODELSIM" --port "$sp" --speed 20 --threads 600 --vram 80GB >/dev/null 2>&1 &
sim=$!
for _ in $(seq 1 100); do curl -s "127.0.0.1:$sp/" >/dev/null && break; sleep 0.05; done
stream='{"model":"llama3.2:1b","prompt":"hi"}'
curl -s "127.0.0.1:$pp/api/generate" -d "$stream" >/dev/null
r=$("$LOADGEN" 127.0.0.1 "$pp" /api/generate "$stream" 256 512)
printf '\n256 concurrent streams through serve: %s\n' "$r"
printf 'serve peak RSS: %s kB\n' "$(awk '/^VmHWM/ { print $2 }' "/proc/$serve/status")"
