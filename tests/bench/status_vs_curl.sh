#!/usr/bin/env bash
# Benchmark: `modelctl status --json` against `curl` of the same /api/ps, both
# whole processes, side by side in one run against one modelsim.
# Goal (issue 2): modelctl <= 1.3x curl's wall time, peak RSS under 10 MB.
# usage: tests/bench/status_vs_curl.sh [BUILD_DIR]   (default build/release)
set -euo pipefail
BUILD=${1:-build/release}
MODELCTL=$BUILD/apps/modelctl/modelctl
MODELSIM=$BUILD/apps/modelsim/modelsim
tmp=$(mktemp -d)
trap 'kill $sim 2>/dev/null; wait $sim 2>/dev/null; rm -rf "$tmp"' EXIT

"$MODELSIM" --port 0 --port-file "$tmp/port" --speed 100 --vram 80GB >/dev/null 2>&1 &
sim=$!
for _ in $(seq 1 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
port=$(cat "$tmp/port")
export OLLAMA_HOST="127.0.0.1:$port" MODELCTL_HOME="$tmp/store"
# Three models loaded, a store that knows the dozen installed ones.
"$MODELCTL" -q load llama3.2:3b llama3.1:8b qwen2.5-coder:7b --keep-alive 1h
"$MODELCTL" -q status --all >/dev/null

echo "machine: $(nproc) cores, $(uname -r); modelsim on 127.0.0.1:$port, 3 models loaded"
echo
hyperfine --warmup 20 --runs 300 -N --export-json "$tmp/h.json" \
    -n curl "curl -s http://127.0.0.1:$port/api/ps" \
    -n modelctl "$MODELCTL status --json" | sed -n '1,40p'
ratio=$(jq -r '(.results[] | select(.command=="modelctl") | .mean) / (.results[] | select(.command=="curl") | .mean)' "$tmp/h.json")
printf '\nwall-time ratio modelctl/curl (mean): %.2f (goal <= 1.30)\n' "$ratio"

rss() { # peak RSS in kB over 20 runs, the largest
    local max=0 kb
    for _ in $(seq 1 20); do
        kb=$( { /usr/bin/time -f '%M' "$@" >/dev/null; } 2>&1 | tail -1)
        [ "$kb" -gt "$max" ] && max=$kb
    done
    echo "$max"
}
curl_rss=$(rss curl -s "http://127.0.0.1:$port/api/ps")
mc_rss=$(rss "$MODELCTL" status --json)
echo "peak RSS: curl ${curl_rss} kB, modelctl ${mc_rss} kB (goal < 10240 kB)"
