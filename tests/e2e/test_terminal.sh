#!/usr/bin/env bash
# Terminal behaviour: colour and progress only on a terminal, never in a pipe
# (cron, CI), and never with NO_COLOR. `script` gives the command a pty.
source "$(dirname "$0")/lib.sh"
start_sim --speed 10
"$MODELCTL" -q load llama3.2:1b
esc=$'\033'

on_tty() { script -qec "$*" /dev/null; }

run on_tty "$MODELCTL" status
check "a terminal gets a bold header" eval 'has "$OUT" "${esc}[1mNAME"'
run on_tty env NO_COLOR=1 "$MODELCTL" status
check "NO_COLOR turns colour off" eval '! has "$OUT" "$esc" && has "$OUT" "NAME"'
run on_tty env NO_COLOR= "$MODELCTL" status
check "an empty NO_COLOR does not (no-color.org)" eval 'has "$OUT" "${esc}[1m"'
run "$MODELCTL" status
check "a pipe gets no escape codes" eval '! has "$OUT" "$esc" && has "$OUT" "NAME"'

run on_tty "$MODELCTL" load llama3.1:8b
check "a load on a terminal shows progress" eval 'has "$OUT" "loading llama3.1:8b (" && has "$OUT" "loaded llama3.1:8b"'
run "$MODELCTL" load qwen2.5-coder:1.5b
check "in a pipe (cron) there is no progress, only the result" eval '! has "$OUT$ERR" "loading qwen" && ! has "$OUT$ERR" "$esc" && has "$OUT" "loaded qwen2.5-coder:1.5b"'
run on_tty "$MODELCTL" pull llama3.2:3b
check "a pull on a terminal shows a progress bar" eval 'rc_is 0 && has "$OUT" "pulling manifest" && has "$OUT" "% [" && has "$OUT" "pulled llama3.2:3b"'
run "$MODELCTL" pull llama3.2:3b
check "in a pipe a pull shows only the outcome" eval 'rc_is 0 && [ -z "$ERR" ] && ! has "$OUT" "$esc" && has "$OUT" "pulled llama3.2:3b"'
run "$MODELCTL" -q unload --all
check "-q prints nothing on success" eval 'rc_is 0 && [ -z "$OUT$ERR" ]'
finish
