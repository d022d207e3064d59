#!/usr/bin/env bash
# Model versions on Ollama: pull keeps the installed version under a version
# tag, re-pull brings a new digest, versions lists them, rollback restores an
# old digest under the name, gc --versions keeps exactly keep_versions; a
# pull that fails or is interrupted changes nothing, on the server or in the store.
# On LM Studio, pull downloads through its REST API and keeps no versions.
source "$(dirname "$0")/lib.sh"

# name digest, sorted: what the server has installed.
tags() { curl -sf "$SIM_URL/api/tags" | jq -r '.models[] | .name + " " + .digest' | sort; }
digest_of() { curl -sf "$SIM_URL/api/tags" | jq -r --arg n "$1" '.models[] | select(.name == $n) | .digest'; }
state() { cat "$MODELCTL_HOME/state.json" 2>/dev/null || echo "(no store)"; }

start_sim --speed 20
D0=$(digest_of llama3.2:3b)
TAG0="llama3.2:3b-v${D0:0:12}"

run "$MODELCTL" pull llama3.2:3b --json
check "pull: a new digest, the installed version kept under its version tag" eval 'rc_is 0 &&
    jq -e --arg d0 "$D0" --arg t "$TAG0" ".schema == \"modelctl.pull/v1\" and .results[0].changed and
        .results[0].before == \$d0 and .results[0].after != \$d0 and .results[0].kept_by == \$t" <<<"$OUT" >/dev/null &&
    [ "$(digest_of "$TAG0")" = "$D0" ]'
D1=$(digest_of llama3.2:3b)
check "in a pipe a pull shows no progress" eval '[ -z "$ERR" ]'

run "$MODELCTL" pull llama3.2:3b
D2=$(digest_of llama3.2:3b)
check "re-pull: another new digest, the one before kept" eval 'rc_is 0 && [ "$D2" != "$D1" ] &&
    has "$OUT" "pulled llama3.2:3b ${D2:0:12}" && has "$OUT" "kept as llama3.2:3b-v${D1:0:12}" &&
    [ "$(digest_of "llama3.2:3b-v${D1:0:12}")" = "$D1" ]'

run "$MODELCTL" versions llama3.2:3b --json
check "versions lists the three, newest first, the current one marked" eval 'rc_is 0 &&
    jq -e --arg d0 "$D0" --arg d1 "$D1" --arg d2 "$D2" "[.versions[].digest] == [\$d2, \$d1, \$d0] and
        .versions[0].current and ([.versions[] | select(.current)] | length) == 1 and
        all(.versions[]; .installed and .size > 0 and .pulled_at != null) and .keep_versions == 2" <<<"$OUT" >/dev/null'
run "$MODELCTL" versions llama3.2:3b
check "versions as a table" eval 'rc_is 0 && has "$OUT" "${D2:0:12}   current" && has "$OUT" "llama3.2:3b-v${D1:0:12}" &&
    has "$OUT" "3 installed; keep_versions 2: modelctl gc --versions deletes the oldest"'
check "the store records the versions (schema 7)" eval 'jq -e --arg d0 "$D0" --arg d2 "$D2" ".schema_version == 7 and
    ([.endpoints.ollama.models[\"llama3.2:3b\"].versions[].digest] | index(\$d0) != null and index(\$d2) != null) and
    .endpoints.ollama.models[\"llama3.2:3b\"].digest == \$d2" "$MODELCTL_HOME/state.json" >/dev/null'

run "$MODELCTL" rollback llama3.2:3b
check "rollback: the newest earlier version is current again, the one it replaced kept" eval 'rc_is 0 &&
    [ "$(digest_of llama3.2:3b)" = "$D1" ] && [ "$(digest_of "llama3.2:3b-v${D2:0:12}")" = "$D2" ] &&
    has "$OUT" "rolled back llama3.2:3b to ${D1:0:12}"'
run "$MODELCTL" rollback llama3.2:3b --to "${D0:0:6}" --json
check "rollback --to a digest prefix restores that digest under the name" eval 'rc_is 0 &&
    [ "$(digest_of llama3.2:3b)" = "$D0" ] &&
    jq -e --arg d0 "$D0" --arg d1 "$D1" ".changed and .from == \$d1 and .to == \$d0 and .reloaded == null" <<<"$OUT" >/dev/null'
run "$MODELCTL" rollback llama3.2:3b --to "${D0:0:6}"
check "rolling back to the current version changes nothing" eval 'rc_is 0 && has "$OUT" "already at ${D0:0:12}"'
run "$MODELCTL" rollback llama3.2:3b --to ffffffff
check "an unknown digest is refused" eval 'rc_is 1 && has "$ERR" "no version of llama3.2:3b has a digest starting with" && [ "$(digest_of llama3.2:3b)" = "$D0" ]'
run "$MODELCTL" rollback llama3.2:3b --to zz
check "a digest that is not hex is a usage error" eval 'rc_is 2'

before=$(tags)
run "$MODELCTL" gc --versions --dry-run
check "gc --versions --dry-run names what it would delete and deletes nothing" eval 'rc_is 0 &&
    has "$OUT" "would delete llama3.2:3b-v" && [ "$(tags)" = "$before" ]'
run "$MODELCTL" gc --versions --json
check "gc --versions keeps exactly keep_versions (2): the current and the newest other" eval 'rc_is 0 &&
    [ "$("$MODELCTL" versions llama3.2:3b --json | jq "[.versions[] | select(.installed)] | length")" = 2 ] &&
    [ "$(digest_of llama3.2:3b)" = "$D0" ] && [ -n "$(digest_of "llama3.2:3b-v${D2:0:12}")" ] &&
    [ -z "$(digest_of "llama3.2:3b-v${D1:0:12}")" ] &&
    jq -e ".versions and (.actions | length) == 1 and .actions[0].ok and .actions[0].why == \"versions\"" <<<"$OUT" >/dev/null'
run "$MODELCTL" versions llama3.2:3b --json
check "a deleted version stays in the history, not installed" eval 'jq -e --arg d1 "$D1" "[.versions[] | select(.digest == \$d1)][0] | .installed == false and .kept_by == null" <<<"$OUT" >/dev/null'

# Per model keep_versions; a pinned version is never deleted.
"$MODELCTL" -q pull llama3.2:1b
"$MODELCTL" -q pull llama3.2:1b
P1=$("$MODELCTL" versions llama3.2:1b --json | jq -r '.versions[1].kept_by')
P2=$("$MODELCTL" versions llama3.2:1b --json | jq -r '.versions[2].kept_by')
"$MODELCTL" -q pin "$P2"
mkdir -p "$XDG_CONFIG_HOME/modelctl"
echo '{"models": {"llama3.2:1b": {"keep_versions": 1}}}' >"$XDG_CONFIG_HOME/modelctl/config.json"
run "$MODELCTL" gc --versions
check "keep_versions per model (1), and the pinned version stays" eval 'rc_is 0 && has "$OUT" "deleted $P1" &&
    [ -z "$(digest_of "$P1")" ] && [ -n "$(digest_of "$P2")" ] && ! has "$OUT" "llama3.2:3b"'
rm "$XDG_CONFIG_HOME/modelctl/config.json"

run "$MODELCTL" recommend --json -n 50
check "recommend leaves version tags out: they are old weights, not models" eval 'rc_is 0 &&
    jq -e "([.recommendations[].model] | length) > 0 and ([.recommendations[].model, .excluded[]?.model] | map(select(test(\"-v[0-9a-f]{12}$\"))) | length) == 0" <<<"$OUT" >/dev/null'

# --reload: a loaded model serves its old weights until reloaded.
"$MODELCTL" -q load qwen2.5-coder:1.5b # the first version
"$MODELCTL" -q pull qwen2.5-coder:1.5b
Q1=$(digest_of qwen2.5-coder:1.5b)
"$MODELCTL" -q pull qwen2.5-coder:1.5b
Q2=$(digest_of qwen2.5-coder:1.5b)
run "$MODELCTL" rollback qwen2.5-coder:1.5b
check "rollback of a loaded model says it runs the weights it was loaded with" eval 'rc_is 0 &&
    [ "$(digest_of qwen2.5-coder:1.5b)" = "$Q1" ] && has "$OUT" "until it is reloaded (--reload"'
run "$MODELCTL" rollback qwen2.5-coder:1.5b --to "${Q2:0:12}" --reload --json
check "rollback --reload reloads it with the rolled-back weights" eval 'rc_is 0 &&
    jq -e --arg q "$Q2" ".loaded and .reloaded.digest == \$q" <<<"$OUT" >/dev/null &&
    [ "$(curl -sf "$SIM_URL/api/ps" | jq -r ".models[] | select(.name == \"qwen2.5-coder:1.5b\") | .digest")" = "$Q2" ]'
"$MODELCTL" -q unload qwen2.5-coder:1.5b
run "$MODELCTL" rollback qwen2.5-coder:1.5b --to "${Q1:0:12}" --reload
check "rollback --reload of a model not loaded says there was nothing to reload" eval 'rc_is 0 &&
    has "$OUT" "rolled back qwen2.5-coder:1.5b" && has "$OUT" "not reloaded: qwen2.5-coder:1.5b is not loaded"'

# A version pulled without modelctl enters the history when status --all sees it.
"$MODELCTL" -q status --all >/dev/null
G0=$(digest_of gemma3:12b)
curl -sf "$SIM_URL/api/pull" -d '{"model":"gemma3:12b"}' >/dev/null
"$MODELCTL" -q status --all >/dev/null
run "$MODELCTL" versions gemma3:12b --json
check "a pull outside modelctl is in the history once status --all has seen it" eval 'rc_is 0 &&
    jq -e --arg g0 "$G0" --arg g1 "$(digest_of gemma3:12b)" "[.versions[].digest] == [\$g1, \$g0] and
        .versions[0].current and (.versions[1].installed | not)" <<<"$OUT" >/dev/null'

# Failures change nothing: an unknown model, a pull failing mid-stream, a full disk.
before=$(tags)
store_before=$(state)
run "$MODELCTL" pull nosuch:1b
check "pull of a model the registry lacks: exit 1, nothing changed" eval 'rc_is 1 &&
    has "$ERR" "no model '"'"'nosuch:1b'"'"' in the registry" && [ "$(tags)" = "$before" ] && [ "$(state)" = "$store_before" ]'
run "$MODELCTL" pull "bad name"
check "a name Ollama refuses is a usage error" eval 'rc_is 2 && has "$ERR" "invalid model name"'

start_sim --speed 20 --fault pull-fail
before=$(tags)
store_before=$(state)
run "$MODELCTL" pull llama3.1:8b
check "a pull failing mid-stream: exit 1, no version tag left, store unchanged" eval 'rc_is 1 &&
    has "$ERR" "max retries exceeded" && [ "$(tags)" = "$before" ] && [ "$(state)" = "$store_before" ]'

start_sim --speed 20 --disk 120GB
before=$(tags)
run "$MODELCTL" pull llama3.1:8b
check "a full disk: exit 1 with a hint, nothing changed" eval 'rc_is 1 && has "$ERR" "no space left on device" &&
    has "$ERR" "free space" && [ "$(tags)" = "$before" ] && [ "$(state)" = "$store_before" ]'

# Ctrl-C mid-pull: exit 130, the server's names and the store as they were.
start_sim --pull-bandwidth 200MB
before=$(tags)
"$MODELCTL" pull llama3.1:8b >"$SCRATCH/int.out" 2>"$SCRATCH/int.err" &
pid=$!
for _ in $(seq 1 100); do # until the download is under way
    [ -n "$(digest_of llama3.1:8b-v"$(digest_of llama3.1:8b | cut -c1-12)")" ] && break
    sleep 0.02
done
sleep 0.3
interrupt "$pid"
check "an interrupted pull exits 130 and leaves versions and store as they were" eval 'rc_is 130 &&
    has "$ERR" "interrupted" && [ "$(tags)" = "$before" ] && [ "$(state)" = "$store_before" ]'

start_sim --speed 20 --repull same
before=$(tags)
run "$MODELCTL" pull llama3.2:1b
check "a model already at its newest version is up to date, no tag left behind" eval 'rc_is 0 &&
    has "$OUT" "llama3.2:1b is up to date" && [ "$(tags)" = "$before" ]'

# rm: the model and the tags that keep its versions; never a pinned or loaded one without --force.
names() { curl -sf "$SIM_URL/api/tags" | jq -r '.models[].name' | sort | tr '\n' ' '; }
start_sim --speed 20
run "$MODELCTL" pull llama3.2:3b
check "(a pull of a new version keeps the old one under a tag)" eval 'rc_is 0 && grep -q "llama3.2:3b-v" <<<"$(names)"'
"$MODELCTL" pin llama3.2:3b >/dev/null
before=$(names)
run "$MODELCTL" rm llama3.2:3b
check "rm refuses a pinned model, exit 4, deleting nothing" eval 'rc_is 4 && has "$ERR" "llama3.2:3b is pinned: rm never deletes it" && has "$ERR" "modelctl unpin llama3.2:3b first, or --force" && [ "$(names)" = "$before" ]'
"$MODELCTL" unpin llama3.2:3b >/dev/null
"$MODELCTL" load llama3.2:3b >/dev/null
run "$MODELCTL" rm llama3.2:3b
check "rm refuses a loaded model, exit 4" eval 'rc_is 4 && has "$ERR" "llama3.2:3b is loaded" && [ "$(names)" = "$before" ]'
run "$MODELCTL" rm --dry-run --force --json llama3.2:3b
check "rm --dry-run names the kept version and the name, and changes nothing" eval 'rc_is 0 && jq_out ".dry_run and (.results[0].deleted | length) == 2 and (.results[0].deleted[0] | test(\"^llama3.2:3b-v\")) and .results[0].deleted[1] == \"llama3.2:3b\" and .results[0].size > 0" && [ "$(names)" = "$before" ] && [ "$("$MODELCTL" -q ps)" = llama3.2:3b ]'
run "$MODELCTL" rm -f llama3.2:3b
check "rm --force unloads it and deletes it with its kept version" eval 'rc_is 0 && has "$OUT" "deleted llama3.2:3b and 1 kept version" && has "$OUT" "unloaded first" && ! grep -q "llama3.2:3b" <<<"$(names)" && [ -z "$("$MODELCTL" -q ps)" ]'
run "$MODELCTL" rm llama3.2:3b
check "rm of a model no longer there: not found, exit 1" eval 'rc_is 1 && has "$ERR" "not installed"'

run "$MODELCTL" --endpoint lmstudio versions llama3.2:1b
check "LM Studio keeps no versions: a usage error naming it" eval 'rc_is 2 && has "$ERR" "LM Studio, whose API neither copies nor deletes models"'

# LM Studio: pull downloads through its REST API (POST /api/v1/models/download,
# then GET .../download/status/:job_id); it keeps no versions.
cat >"$SCRATCH/one.json" <<'EOF'
{"models": [{"name": "llama3.2:1b", "size": 1300000000, "family": "llama", "parameter_size": "1.2B"}]}
EOF
studio() { # start_sim's options: an LM Studio modelsim with one model, as endpoint "studio"
    start_sim --api lmstudio --catalog "$SCRATCH/one.json" "$@"
    printf '{"endpoints": [{"name": "studio", "provider": "lmstudio", "url": "%s"}]}' "$SIM_URL" >"$SCRATCH/studio.json"
}
lms() { "$MODELCTL" --config "$SCRATCH/studio.json" "$@"; }
keys() { curl -sf "$SIM_URL/api/v1/models" | jq -r '.models[].key' | sort | paste -sd' '; }
downloads() { curl -sf "$SIM_URL/modelsim/stats" | jq -r .downloads; }

studio --speed 20
run lms pull qwen2.5-coder-7b --json
check "LM Studio: pull downloads a model of its catalog, which is then installed" eval 'rc_is 0 &&
    jq_out ".schema == \"modelctl.pull/v1\" and .endpoint == \"studio\" and .results[0].ok and .results[0].changed and
        .results[0].before == null and .results[0].after == null and .results[0].size == 4700000000" &&
    [ "$(keys)" = "llama3.2-1b qwen2.5-coder-7b" ] && [ "$(downloads)" = 1 ]'
run lms pull qwen2.5-coder-7b
check "... again: installed already, and not downloaded again" eval 'rc_is 0 &&
    has "$OUT" "qwen2.5-coder-7b is installed already" && [ "$(downloads)" = 1 ]'
store_before=$(state)
run lms pull no-such-model
check "a model the catalog lacks: exit 1, how LM Studio names models, nothing changed" eval 'rc_is 1 &&
    has "$ERR" "found no model '"'"'no-such-model'"'"' to download" && has "$ERR" "publisher/model" &&
    [ "$(state)" = "$store_before" ]'

studio --speed 20 --fault pull-fail
run lms pull gemma3-12b
check "a download LM Studio reports failed: exit 1 with its job, nothing installed" eval 'rc_is 1 &&
    has "$ERR" "LM Studio'"'"'s download of '"'"'gemma3-12b'"'"' failed after 4.0 GB of 8.1 GB (job job_" &&
    [ "$(keys)" = "llama3.2-1b" ]'

studio --lmstudio-v0
run lms pull gemma3-12b
check "LM Studio before 0.4 cannot download: exit 1, saying so" eval 'rc_is 1 &&
    has "$ERR" "downloading a model needs LM Studio 0.4 or newer" && has "$ERR" "lms get"'

# Ctrl-C stops following the download; LM Studio's API cannot cancel it.
studio --pull-bandwidth 200MB
store_before=$(state)
# (modelctl itself in the background: a shell function would be a subshell, which ignores SIGINT)
"$MODELCTL" --config "$SCRATCH/studio.json" pull qwen2.5-coder-7b >"$SCRATCH/int.out" 2>"$SCRATCH/int.err" &
pid=$!
for _ in $(seq 1 250); do # until the download is under way
    [ "$(downloads)" = 1 ] && break
    sleep 0.02
done
interrupt "$pid"
job=$(curl -sf "$SIM_URL/api/v1/models/download" -d '{"model": "qwen2.5-coder-7b"}' | jq -r .job_id)
check "Ctrl-C: exit 130, naming the job LM Studio goes on with; the store as it was" eval 'rc_is 130 &&
    has "$ERR" "stopped following the download of '"'"'qwen2.5-coder-7b'"'"'" &&
    has "$ERR" "LM Studio goes on with it (job $job): its API cannot cancel a download" &&
    [ -n "$job" ] && [ "$(state)" = "$store_before" ]'
finish
