#!/usr/bin/env bash
# Usage errors: one line on stderr, exit 2, nothing touched.
source "$(dirname "$0")/lib.sh"
start_sim --speed 20

run "$MODELCTL"
check "no subcommand: usage error" eval 'rc_is 2 && has "$ERR" "modelctl: error:" && [ "$(wc -l <<<"$ERR")" -eq 1 ]'
run "$MODELCTL" frobnicate
check "unknown subcommand: usage error" eval 'rc_is 2 && has "$ERR" "modelctl: error:"'
run "$MODELCTL" load
check "load without a model: usage error" eval 'rc_is 2'
run "$MODELCTL" load llama3.2:3b --keep-alive soon
check "bad keep-alive: usage error saying what is wrong, with examples" eval 'rc_is 2 && has "$ERR" "--keep-alive: " && has "$ERR" "is not a keep-alive of at most 36500d (e.g. 30m"'
run "$MODELCTL" unload
check "unload without target: usage error" eval 'rc_is 2 && has "$ERR" "or use --all"'
run "$MODELCTL" unload llama3.2:3b --all
check "unload with both: usage error" eval 'rc_is 2'
run "$MODELCTL" status --timeout 0s
check "zero timeout: usage error" eval 'rc_is 2 && has "$ERR" "--timeout"'
run "$MODELCTL" status --timeout 106751991168d
check "a timeout past 100 years: usage error naming the maximum (was negative, failed at once)" eval 'rc_is 2 && has "$ERR" "--timeout" && has "$ERR" "at most 36500d"'
run env MODELCTL_LOCK_TIMEOUT=106751991168d "$MODELCTL" pin llama3.2:3b
check "... lock_timeout likewise" eval 'rc_is 2 && has "$ERR" "at most 36500d"'
run "$MODELCTL" health --timeout 106751991168d
check "... health --timeout likewise" eval 'rc_is 2 && has "$ERR" "at most 36500d"'
run "$MODELCTL" --version
check "--version" eval 'rc_is 0 && has "$OUT" "modelctl "'
run "$MODELCTL" --help
check "--help lists the subcommands" eval 'rc_is 0 && has "$OUT" "status" && has "$OUT" "load" && has "$OUT" "unload"'
check "usage errors never created a store" eval '[ ! -e "$MODELCTL_HOME/state.json" ]'
finish
