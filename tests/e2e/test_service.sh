#!/usr/bin/env bash
# modelctl serve as a service (issue 18): systemd's readiness protocol
# (READY=1 once listening, RELOADING=1 and READY=1 around a reload,
# STOPPING=1), SIGHUP reading the config again (a good one applies to the next
# decision, a bad one is refused and the running one kept, a change that needs
# a restart is named), the watcher (memory pressure, backoff after failed
# loads), and `config check`.
source "$(dirname "$0")/lib.sh"
RC=0 ERR= OUT=
start_sim --speed 50 --vram 48GB --max-loaded 8
CONFIG="$XDG_CONFIG_HOME/modelctl/config.json"
mkdir -p "$(dirname "$CONFIG")"
echo '{"budget": {"max_loaded": 8}}' >"$CONFIG"

gen() { curl -s -o /dev/null -w '%{http_code}' "$SERVE_URL/api/generate" -d "{\"model\":\"$1\",\"prompt\":\"hi\",\"stream\":false,\"options\":{\"num_predict\":1}}"; }
loaded() { curl -s "$SIM_URL/api/ps" | jq -r '[.models[].name] | sort | join(" ")'; }
# wait_log TEXT: polls serve's log for TEXT (up to 5 s).
wait_log() {
    for _ in $(seq 1 250); do grep -qF -- "$1" "$SCRATCH/serve.err" && return 0; sleep 0.02; done
    return 1
}

socat -u UNIX-RECV:"$SCRATCH/notify.sock" OPEN:"$SCRATCH/notify.out",creat,append &
SIM_PIDS+=($!)
for _ in $(seq 1 100); do [ -S "$SCRATCH/notify.sock" ] && break; sleep 0.02; done
NOTIFY_SOCKET="$SCRATCH/notify.sock" start_serve
for _ in $(seq 1 100); do grep -q "READY=1" "$SCRATCH/notify.out" 2>/dev/null && break; sleep 0.02; done
check "serve tells systemd it is ready, with where it listens as its status" eval 'grep -q "^READY=1\$" "$SCRATCH/notify.out" && grep -q "^STATUS=listening on ${SERVE_URL}" "$SCRATCH/notify.out"'

# --- SIGHUP with a good config: the next decision follows it ---
check "two models loaded through serve under budget.max_loaded 8" eval '[ "$(gen llama3.2:1b)" = 200 ] && [ "$(gen llama3.2:3b)" = 200 ] && [ "$(loaded)" = "llama3.2:1b llama3.2:3b" ]'
echo '{"budget": {"max_loaded": 1}}' >"$CONFIG"
kill -HUP "$SERVE_PID"
wait_log "config reloaded from $CONFIG" || true
check "SIGHUP reads the config again, and says so" eval 'grep -qF "config reloaded from $CONFIG" "$SCRATCH/serve.err" && ! grep -q "on restart only" "$SCRATCH/serve.err"'
check "the next load follows the new budget.max_loaded 1: one model left" eval '[ "$(gen qwen2.5-coder:1.5b)" = 200 ] && [ "$(loaded)" = "qwen2.5-coder:1.5b" ]'
# (socat writes the datagrams one after another, without separators)
check "around the reload serve told systemd RELOADING=1, then READY=1 again" eval '[ "$(grep -o "READY=1" "$SCRATCH/notify.out" | wc -l)" -ge 2 ] && grep -q "RELOADING=1READY=1" "$SCRATCH/notify.out"'

# --- SIGHUP with a bad config: refused, the running one kept ---
printf '{"budget": {"max_loaded": "two"}}' >"$CONFIG"
kill -HUP "$SERVE_PID"
wait_log "config not reloaded" || true
check "a bad config is refused with the reason, the running one kept" eval 'grep -q "error: config not reloaded, the running one kept: .*max_loaded" "$SCRATCH/serve.err"'
check "serve still answers, by the config it kept (max_loaded 1)" eval '[ "$(gen llama3.2:1b)" = 200 ] && [ "$(loaded)" = "llama3.2:1b" ] && kill -0 "$SERVE_PID"'

# --- a change only a restart can apply is named ---
echo '{"budget": {"max_loaded": 1}, "serve": {"max_queue": 5}}' >"$CONFIG"
kill -HUP "$SERVE_PID"
wait_log "on restart only" || true
check "a setting serve takes at start is named as waiting for a restart" eval 'grep -q "config reloaded from .*; on restart only: serve.max_queue" "$SCRATCH/serve.err"'

stop_serve
for _ in $(seq 1 100); do grep -q "STOPPING=1" "$SCRATCH/notify.out" && break; sleep 0.02; done
check "and that it is stopping, on SIGTERM" eval 'grep -q "STOPPING=1" "$SCRATCH/notify.out" && [ "$SERVE_RC" = 0 ]'

# --- the watcher: memory pressure from a fake /proc/meminfo changed under serve ---
mkdir -p "$SCRATCH/root/proc"
meminfo() { printf 'MemTotal:       67108864 kB\nMemFree:        %s kB\nMemAvailable:   %s kB\n' "$1" "$1" >"$SCRATCH/root/proc/meminfo.new" && mv "$SCRATCH/root/proc/meminfo.new" "$SCRATCH/root/proc/meminfo"; }
meminfo 41943040 # 40 GiB available of 64
echo '{}' >"$CONFIG"
status_serve() { curl -s "$SERVE_URL/modelctl/v1/status"; }
MODELCTL_SYSROOT="$SCRATCH/root" MODELCTL_SERVE_INTERVAL=1s start_serve -v
for m in llama3.2:1b llama3.2:3b llama3.1:8b; do gen "$m" >/dev/null; done
for _ in $(seq 1 150); do [ "$(status_serve | jq -r '.serve.pressure.level // empty')" = ok ] && break; sleep 0.02; done
OUT=$(status_serve)
check "serve's status shows memory pressure ok while 40 GiB are available" eval 'jq_out ".serve.pressure.level == \"ok\" and (.serve.failing | length == 0)" && [ "$(loaded)" = "llama3.1:8b llama3.2:1b llama3.2:3b" ]'
meminfo 1048576 # another program takes memory: 1 GiB left, under the 4 GB min_free
wait_log "evict " || true
meminfo 41943040 # what the unloads gave back
check "under pressure the watcher says so, critical, naming RAM and its min_free" eval 'grep -q "pressure critical: RAM 1.1 GB free, under its min_free 4 GB" "$SCRATCH/serve.err"'
check "and unloads by the policy until 3 GB are free: the models left hold at most 5.3 GB of 8.2" eval 'left=$(curl -s "$SIM_URL/api/ps" | jq "[.models[].size] | add // 0") && [ "$left" -le 5300000000 ] && [ "$left" -lt 8200000000 ] && grep -q "evict .*: memory pressure: " "$SCRATCH/serve.err"'
for _ in $(seq 1 150); do [ "$(status_serve | jq -r '.serve.pressure.level // empty')" = ok ] && break; sleep 0.02; done
OUT=$(curl -s "$SERVE_URL/metrics")
check "back to ok once memory is free again, as a metric too" eval 'grep -q "^modelctl_serve_memory_pressure 0$" <<<"$OUT" && grep -q "pressure ok" "$SCRATCH/serve.err"'
stop_serve

# --- a model whose load fails is backed off, not hammered ---
start_sim --speed 50 --vram 48GB --fault fail=gemma3:12b
requests() { curl -s "$SIM_URL/modelsim/stats" | jq .requests; }
start_serve
check "a load that fails (runner crash) is answered 500 with the server's error" eval '[ "$(gen gemma3:12b)" = 500 ]'
# Two more failures, each once its backoff (1 s, then 2 s) has passed: the
# next wait is 4 s, time enough for the checks below on a slow machine.
for _ in 2 3; do
    for _ in $(seq 1 250); do [ "$(gen gemma3:12b)" = 500 ] && break; sleep 0.02; done
done
before=$(requests)
http_code=$(curl -s -D "$SCRATCH/h" -o "$SCRATCH/b" -w '%{http_code}' "$SERVE_URL/api/generate" -d '{"model":"gemma3:12b","prompt":"hi"}')
after=$(requests)
check "a retry during the backoff is answered 503 with Retry-After, without a call to the server" eval '[ "$http_code" = 503 ] && grep -qiE "^retry-after: [34]" "$SCRATCH/h" && grep -q "gemma3:12b.s last 3 loads failed" "$SCRATCH/b" && [ -n "$before" ] && [ "$after" = "$before" ]'
OUT=$(status_serve)
check "tried again after each backoff, the wait doubling (1, 2, 4 s), as status shows" eval 'jq_out ".serve.failing[0].model == \"gemma3:12b\" and .serve.failing[0].failures == 3 and .serve.failing[0].retry_in_seconds > 2 and (.serve.failing[0].error | contains(\"runner process has terminated\"))"'
check "other models are not held back" eval '[ "$(gen llama3.2:1b)" = 200 ]'
stop_serve

# --- hooks: commands run on events, the event on stdin, without a shell ---
start_sim --speed 50 --vram 48GB
# wait_file FILE TEXT: polls FILE for TEXT (up to 5 s).
wait_file() {
    for _ in $(seq 1 250); do grep -qF -- "$2" "$1" 2>/dev/null && return 0; sleep 0.02; done
    return 1
}
cat >"$CONFIG" <<JSON
{"budget": {"max_loaded": 1},
 "hooks": {"on_load": ["sh", "-c", "cat >>\"\$0\"; echo \"\$MODELCTL_EVENT \$MODELCTL_MODEL \$MODELCTL_SERVER\" >>\"\$0.vars\"", "$SCRATCH/loads.jsonl"],
           "on_evict": ["tee", "-a", "$SCRATCH/evicts.jsonl"],
           "on_refuse": ["false"],
           "on_unload": ["sleep", "5"],
           "timeout": "1s"}}
JSON
MODELCTL_BUDGET_MEMORY=6GB start_serve
gen llama3.2:1b >/dev/null
wait_file "$SCRATCH/loads.jsonl.vars" "load llama3.2:1b" || true
OUT=$(head -1 "$SCRATCH/loads.jsonl" 2>/dev/null || true)
check "on_load gets the event as one JSON line on stdin, as the event stream has it" eval 'jq_out ".type == \"load\" and .model == \"llama3.2:1b\" and .id >= 1 and (.time | length > 0)"'
check "and MODELCTL_EVENT, MODELCTL_MODEL and MODELCTL_SERVER" eval 'grep -qx "load llama3.2:1b $SIM_URL" "$SCRATCH/loads.jsonl.vars"'
gen llama3.2:3b >/dev/null
wait_file "$SCRATCH/evicts.jsonl" "llama3.2:1b" || true
OUT=$(cat "$SCRATCH/evicts.jsonl" 2>/dev/null || true)
check "on_evict runs a program with no shell (tee), the policy's reason in the event" eval 'jq_out ".type == \"evict\" and .model == \"llama3.2:1b\" and (.reason | length > 0)"'
check "a refusal runs on_refuse; its failure is logged, serve answers on" eval '[ "$(gen gemma3:12b)" = 500 ] && wait_log "hook on_refuse failed: false failed (exit status 1)" && [ "$(gen llama3.2:3b)" = 200 ]'
curl -s "$SERVE_URL/api/generate" -d '{"model": "llama3.2:3b", "keep_alive": 0}' >/dev/null
check "a hook past its timeout is killed and logged" eval 'wait_log "hook on_unload failed: sleep did not finish within 1000 ms"'
stop_serve
echo '{}' >"$CONFIG"

# --- predictive preload: this hour's habitual model, loaded with no request ---
start_sim --speed 50 --vram 48GB
hour=$(date -d "$(date '+%F %H:00')" +%s)
{
    for w in 1 2 3; do
        t=$((hour - w * 604800 + 600))
        for _ in 1 2; do printf '{"model":"qwen2.5-coder:7b","latency_ms":500,"at":"%s"}\n' "$(date -u -d "@$t" +%FT%TZ)"; done
    done
} >"$SCRATCH/history.jsonl"
"$MODELCTL" -q record --batch "$SCRATCH/history.jsonl"
echo '{"serve": {"preload": true}}' >"$CONFIG"
MODELCTL_SERVE_INTERVAL=1s start_serve -v
wait_log "load qwen2.5-coder:7b: preload" || true
check "serve.preload: the model used in this hour of past weeks is loaded, no request needed" eval 'grep -q "load qwen2.5-coder:7b: preload: [0-9]*% likely to be used this hour" "$SCRATCH/serve.err" && [ "$(loaded)" = "qwen2.5-coder:7b" ]'
stop_serve
echo '{}' >"$CONFIG"

# --- config check: a file validated as SIGHUP reads it ---
run "$MODELCTL" config check
check "config check: the config in use is fine" eval 'rc_is 0 && has "$OUT" "$CONFIG: ok, 2 endpoints"'
printf '{"budget": {"max_loaded": 1},\n "keep_alive": "5x"}' >"$SCRATCH/bad.json"
run "$MODELCTL" config check "$SCRATCH/bad.json"
check "config check names the bad key and exits 2" eval 'rc_is 2 && has "$ERR" "keep_alive" && [ -z "$OUT" ]'
run "$MODELCTL" --json config check
check "config check --json" eval 'rc_is 0 && jq_out ".schema == \"modelctl.config-check/v1\" and .ok and (.endpoints | length == 2)"'
run "$MODELCTL" config check "$SCRATCH/absent.json"
check "config check of a file that is not there fails" eval 'rc_is 2 && has "$ERR" "cannot read the config file"'

finish
