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
# Mistakes in modelctl's words: what was meant, what is missing, no CLI11 wording.
run "$MODELCTL" stauts
check "a misspelt command: unknown, and the one meant" eval 'rc_is 2 && has "$ERR" "unknown command '"'"'stauts'"'"'" && has "$ERR" "did you mean '"'"'status'"'"'?"'
run "$MODELCTL" --host 127.0.0.1:1 lod llama3.2:3b
check "... after a global option and its value" eval 'rc_is 2 && has "$ERR" "did you mean '"'"'load'"'"'?"'
run "$MODELCTL" status --al
check "a misspelt option: the one meant" eval 'rc_is 2 && has "$ERR" "status: unknown option '"'"'--al'"'"'" && has "$ERR" "did you mean '"'"'--all'"'"'?"'
run "$MODELCTL" load
check "a missing model: what is missing and the usage line" eval 'rc_is 2 && has "$ERR" "load needs at least one MODEL" && has "$ERR" "usage: modelctl load [OPTIONS] MODEL..."'
run "$MODELCTL" config check a b
check "an argument too many, with the usage line of the command given" eval 'rc_is 2 && has "$ERR" "config check: unexpected argument '"'"'b'"'"'" && has "$ERR" "usage: modelctl config check [OPTIONS] [FILE]"'
raw_cli11() { grep -qE "is required|not expected|not in range|required [A-Z]+|excludes|Could not convert|1\.79|e\+308|subcommand" <<<"$ERR"; }
for args in "" "frobnicate" "config" "priority llama3.2:3b 11" "recommend -n 0" "recommend -n abc" \
    "record x --latency-ms -1" "health --format xml" "status --format" "gc --idle" "--timeout" \
    "bench --prompt a --prompt-file b x" "unpin" "status extra"; do
    # shellcheck disable=SC2086
    run "$MODELCTL" $args
    check "'modelctl $args': one line, exit 2, no CLI11 wording" eval 'rc_is 2 && [ "$(wc -l <<<"$ERR")" -eq 1 ] && has "$ERR" "modelctl: error: " && has "$ERR" "(hint: " && ! raw_cli11'
done
run "$MODELCTL" priority llama3.2:3b 11
check "a value out of range says the range" eval 'has "$ERR" "'"'"'11'"'"' is not a whole number from 0 to 9"'
run "$MODELCTL" recommend -n 0
check "a number that must be above 0 says so" eval 'has "$ERR" "--count: '"'"'0'"'"' is not a number above 0"'

# --json: a failure is a JSON document on stdout too.
run "$MODELCTL" stauts --json
check "--json: a usage error is an error document on stdout" eval 'rc_is 2 && jq_out ".schema == \"modelctl.error/v1\" and .error.kind == \"usage\" and .error.exit_code == 2 and (.error.hint | test(\"status\"))"'
run "$MODELCTL" --host 127.0.0.1:1 status --json
check "--json: an unreachable server is an error document, exit 3" eval 'rc_is 3 && jq_out ".error.kind == \"unreachable\" and .error.exit_code == 3" && has "$ERR" "modelctl: error:"'
run "$MODELCTL" --host 127.0.0.1:1 status --format json
check "... and with --format json" eval 'rc_is 3 && jq_out ".error.kind == \"unreachable\""'
run "$MODELCTL" --host 127.0.0.1:1 status
check "without --json stdout stays empty" eval 'rc_is 3 && [ -z "$OUT" ]'

# help, as `ollama help`: what --help prints, on stdout.
run "$MODELCTL" help
check "help: modelctl's help on stdout, exit 0" eval 'rc_is 0 && has "$OUT" "Usage: modelctl [OPTIONS] SUBCOMMAND" && has "$OUT" "status" && [ -z "$ERR" ]'
run "$MODELCTL" help config check
check "help COMMAND...: that command's help" eval 'rc_is 0 && has "$OUT" "Usage: modelctl config check [OPTIONS] [file]"'
run "$MODELCTL" help ps
check "help ALIAS: the command's help" eval 'rc_is 0 && has "$OUT" "Usage: modelctl status [OPTIONS]"'
run "$MODELCTL" help stauts
check "help of no command: exit 2 with the nearest" eval 'rc_is 2 && has "$ERR" "no command '"'"'stauts'"'"'" && has "$ERR" "did you mean '"'"'status'"'"'?" && [ -z "$OUT" ]'

check "usage errors never created a store" eval '[ ! -e "$MODELCTL_HOME/state.json" ]'
finish
