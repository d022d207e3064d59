#!/usr/bin/env bash
# Benchmark: what serve's watcher costs while no request comes (issue 18:
# under 1% of a core). serve in front of modelsim with three models loaded,
# idle: its CPU time (utime + stime from /proc) over a window, at
# serve.interval 1s (thirty times the default, so each look is measured
# often) and at the default 30s. Each look: the server's /api/ps, a probe of
# this machine (/proc/meminfo, cgroups; nvidia-smi where it is installed),
# the pressure check.
# usage: tests/bench/serve_idle.sh [BUILD_DIR] [SECONDS]   (default build/release, 20)
set -euo pipefail
BUILD=${1:-build/release}
WINDOW=${2:-20}
MODELCTL=$BUILD/apps/modelctl/modelctl
MODELSIM=$BUILD/apps/modelsim/modelsim
tmp=$(mktemp -d)
serve=
trap 'kill $serve $sim 2>/dev/null; wait $serve $sim 2>/dev/null; rm -rf "$tmp"' EXIT
"$MODELSIM" --port 0 --port-file "$tmp/sim.port" --speed 100 --vram 48GB >/dev/null 2>&1 &
sim=$!
for _ in $(seq 1 100); do [ -s "$tmp/sim.port" ] && break; sleep 0.05; done
export OLLAMA_HOST="127.0.0.1:$(cat "$tmp/sim.port")" MODELCTL_HOME="$tmp/store"
export XDG_CONFIG_HOME="$tmp/config"
hz=$(getconf CLK_TCK)
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

echo "machine: $(nproc) cores, $(uname -r); idle window ${WINDOW}s; nvidia-smi: $(command -v nvidia-smi || echo none)"
printf '%-16s %12s %14s\n' serve.interval cpu_seconds percent_of_core
for interval in 1s 30s; do
    rm -f "$tmp/serve.port"
    MODELCTL_SERVE_INTERVAL=$interval "$MODELCTL" serve --listen 127.0.0.1:0 \
        --port-file "$tmp/serve.port" 2>"$tmp/serve.err" &
    serve=$!
    for _ in $(seq 1 100); do [ -s "$tmp/serve.port" ] && break; sleep 0.05; done
    url="http://127.0.0.1:$(cat "$tmp/serve.port")"
    for m in llama3.2:1b llama3.2:3b llama3.1:8b; do
        curl -s "$url/api/generate" -d "{\"model\":\"$m\",\"prompt\":\"hi\",\"stream\":false}" >/dev/null
    done
    # The requests' own work done: their uses written to the store.
    for _ in $(seq 1 200); do
        grep -q '^modelctl_serve_uses_recorded_total 3$' <<<"$(curl -s "$url/metrics")" && break
        sleep 0.05
    done
    a=$(ticks $serve)
    sleep "$WINDOW"
    b=$(ticks $serve)
    kill $serve && wait $serve 2>/dev/null || true
    serve=
    echo "$interval $((b - a))" | awk -v hz="$hz" -v w="$WINDOW" \
        '{ s = $2 / hz; printf "%-16s %12.3f %13.3f%%\n", $1, s, 100 * s / w }'
done
