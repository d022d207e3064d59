#!/usr/bin/env bash
# record and stats: single and batch records, all-or-nothing batches, 16
# processes recording at once lose nothing, --since reads the log.
source "$(dirname "$0")/lib.sh"

run "$MODELCTL" record llama3.1:8b --latency-ms 1200 --tokens 100 --task coding
check "record one use" eval 'rc_is 0 && has "$OUT" "recorded 1 use"'
"$MODELCTL" -q record llama3.1:8b --latency-ms 800 --failed
printf '{"model":"qwen2.5-coder:7b","latency_ms":300,"tokens":50}\n\n{"model":"qwen2.5-coder:7b","latency_ms":500,"at":"2020-01-06T10:00:00Z"}\n' >"$SCRATCH/batch.jsonl"
run "$MODELCTL" record --batch "$SCRATCH/batch.jsonl"
check "batch import" eval 'rc_is 0 && has "$OUT" "recorded 2 uses"'

run "$MODELCTL" --json stats
check "stats: uses, failures, success rate, tokens" eval 'rc_is 0 && jq -e "
    (.models[] | select(.model == \"llama3.1:8b\") | .uses == 2 and .failures == 1 and .success_rate == 0.5 and .tokens_out == 100) and
    (.models[] | select(.model == \"qwen2.5-coder:7b\") | .uses == 2 and (.latency_ms.p95 > 475 and .latency_ms.p95 < 525))" <<<"$OUT" >/dev/null'
check "an imported use from 2020 barely weighs in the decayed rate" eval 'jq -e ".models[] | select(.model == \"qwen2.5-coder:7b\") | .uses_per_hour < 1.01" <<<"$OUT" >/dev/null'
run "$MODELCTL" -q stats
check "stats -q: the names of the models with recorded usage, alone" eval 'rc_is 0 && [ "$(sort <<<"$OUT" | tr "\n" " ")" = "llama3.1:8b qwen2.5-coder:7b " ]'
run "$MODELCTL" --json stats --since 1d
check "stats --since reads only the window" eval 'rc_is 0 && jq -e ".models[] | select(.model == \"qwen2.5-coder:7b\") | .uses == 1" <<<"$OUT" >/dev/null'
run "$MODELCTL" stats
check "stats table" eval 'rc_is 0 && has "$OUT" "P95" && has "$OUT" "llama3.1:8b"'
check "stats: sub-second latencies in milliseconds, DEMAND/H said what it counts" eval 'grep -qE "^qwen2.5-coder:7b +[0-9]+ +[0-9.]+% +[0-9]+ms +[0-9]+ms" <<<"$OUT" && has "$OUT" "DEMAND/H: uses and explicit loads"'

printf '{"model":"a","latency_ms":1}\n{"model":"b","latency_ms":-4}\n' >"$SCRATCH/bad.jsonl"
before=$(cat "$MODELCTL_HOME/events.jsonl")
run "$MODELCTL" record --batch "$SCRATCH/bad.jsonl"
check "a bad batch line is refused naming the line, and nothing is recorded" eval 'rc_is 2 && has "$ERR" "bad.jsonl:2:" && [ "$(cat "$MODELCTL_HOME/events.jsonl")" = "$before" ]'
run "$MODELCTL" record llama3.1:8b --latency-ms 5 --task knitting
check "unknown task: usage error" eval 'rc_is 2 && has "$ERR" "unknown task"'
run "$MODELCTL" record llama3.1:8b
check "record without latency: usage error" eval 'rc_is 2'
"$MODELCTL" -q record timed --latency-ms 2500 --tokens 100 --eval-ms 2000
printf '{"model":"timed","latency_ms":1000,"tokens":50,"eval_ms":500}\n' | "$MODELCTL" -q record --batch -
run "$MODELCTL" --json stats timed
check "--eval-ms gives tokens/s: 150 tokens in 2.5 s" eval 'jq -e ".models[0].tokens_per_second == 60" <<<"$OUT" >/dev/null'

# Commands that never reach a server do not load the HTTP module (and the
# OpenSSL it brings): that is most of record's start-up time.
run env LD_DEBUG=files "$MODELCTL" -q record lazy --latency-ms 1
check "record does not load the HTTP module" eval 'rc_is 0 && has "$ERR" "libstdc++" && ! has "$ERR" "modelctl-http" && ! has "$ERR" "libssl"'
run env LD_DEBUG=files "$MODELCTL" --host 127.0.0.1:1 status
check "a command that talks to a server does" eval 'rc_is 3 && has "$ERR" "modelctl-http.so"'

# 16 processes recording at once, 20 each: 320 uses, none lost. Each update
# fsyncs; under ASan on 2 cores the queue for the lock grows long, so wait longer.
export MODELCTL_HOME="$SCRATCH/many" MODELCTL_LOCK_TIMEOUT=120s
pids=()
for i in $(seq 1 16); do
    (for _ in $(seq 1 20); do "$MODELCTL" -q record "m$i" --latency-ms "$i" || exit 1; done) &
    pids+=($!)
done
ok_all=0
for p in "${pids[@]}"; do wait "$p" || ok_all=1; done
check "16 concurrent recorders all succeeded" eval '[ $ok_all -eq 0 ]'
run "$MODELCTL" --json stats
check "320 uses in the summaries, 320 events in the log" eval '[ "$(jq "[.models[].uses] | add" <<<"$OUT")" = 320 ] && [ "$(grep -c "\"type\":\"use\"" "$MODELCTL_HOME/events.jsonl")" -eq 320 ]'

# The log is bounded; the summaries are not cut with it.
export MODELCTL_HOME="$SCRATCH/rotating" MODELCTL_HISTORY_MAX_LOG_SIZE=4KB
for i in $(seq 1 60); do printf '{"model":"m","latency_ms":%d}\n' "$i"; done >"$SCRATCH/sixty.jsonl"
for _ in 1 2 3 4 5; do "$MODELCTL" -q record --batch "$SCRATCH/sixty.jsonl"; done
for _ in $(seq 1 30); do "$MODELCTL" -q record m --latency-ms 7; done
check "the log rotates past history.max_log_size" eval '[ -f "$MODELCTL_HOME/events.1.jsonl" ] && [ "$(stat -c %s "$MODELCTL_HOME/events.jsonl")" -le 4000 ]'
run "$MODELCTL" --json stats m
check "the summary still counts all 330 uses" eval 'jq -e ".models[0].uses == 330" <<<"$OUT" >/dev/null'
run "$MODELCTL" --json stats --since 1d m
check "stats --since counts what the log still holds, and says where it starts" eval 'jq -e ".models[0].uses < 330 and .log_starts != null" <<<"$OUT" >/dev/null'
run "$MODELCTL" stats --since 1d
check "in words too" eval 'has "$OUT" "older events were rotated away"'
finish
