#!/usr/bin/env bash
# modelctl's one entry point for people and CI.
#   ./dev.sh demo    build, start modelsim on a free port, run status, load (a plan, a pin),
#                    gc, health, bench, pull/versions/rollback, chain, unload and store
#                    against it
#   ./dev.sh test    build with -Werror (g++), run every test; the installed binary and the
#                    .deb; again under ASan+UBSan (clang), with each fuzz target run from
#                    its seeds; format check
#   ./dev.sh install build for /usr, install under a temporary root and test the installed
#                    binary with the build tree moved away; build the .deb (and, as root,
#                    install, test and remove it)
#   ./dev.sh build   build (Release) into build/release
#   ./dev.sh bench   run the benchmarks in tests/bench/
#   ./dev.sh fuzz [SECONDS]  run each libFuzzer target for SECONDS (default 600)
#   ./dev.sh tsan    the threaded e2e tests (serve among them) under ThreadSanitizer (clang)
# Each installs missing Debian packages when run as root; otherwise it prints
# the exact apt-get line and exits 1.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
JOBS=$(nproc 2>/dev/null || echo 2)

BUILD_PACKAGES=(cmake g++ make pkg-config libcli11-dev nlohmann-json3-dev doctest-dev
    libcpp-httplib-dev libssl-dev)
# prometheus: promtool checks the metrics format; dpkg-dev: cpack's
# dpkg-shlibdeps; systemd: systemd-analyze verifies the units; man-db: man -w.
TEST_PACKAGES=(jq curl clang-format prometheus time gzip bc iproute2 socat dpkg-dev systemd man-db
    zsh fish bash-completion) # the shells the completions are tested in
# Real clients for e2e_clients: the official ollama and openai npm packages,
# at the versions in tests/clients/package-lock.json, run by Node.js.
BENCH_PACKAGES=(hyperfine curl time jq bc)
FUZZ_PACKAGES=(clang libclang-rt-14-dev) # libFuzzer and the sanitizers' runtimes
FUZZ_TARGETS=(ollama_api lmstudio_api lines store text files wire)

need() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -eq 0 ]; then
        echo "dev.sh: installing ${missing[*]}" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "dev.sh: missing Debian packages; install them with:" >&2
        echo "  sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
}

build() { # build DIR [cmake options...] [-- targets...]
    local dir=$1 opts=() targets=()
    shift
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do opts+=("$1"); shift; done
    [ $# -gt 0 ] && shift && targets=(--target "$@")
    echo "== building in $dir" >&2
    mkdir -p "$dir"
    if ! { cmake -S "$ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=Release "${opts[@]}" &&
        cmake --build "$dir" -j "$JOBS" "${targets[@]}"; } >"$dir/build.log" 2>&1; then
        grep -E -A8 'error|Error' "$dir/build.log" | head -80 >&2
        echo "dev.sh: build failed; full log in $dir/build.log" >&2
        exit 1
    fi
}

demo() {
    need "${BUILD_PACKAGES[@]}"
    build build/release -DMODELCTL_TESTS=OFF -DMODELCTL_UNITY=ON
    bin=build/release/apps
    tmp=$(mktemp -d)
    # The demo keeps its own store and config, so it never touches yours, and
    # its budget is the simulated GPU's, not this machine's.
    export MODELCTL_HOME="$tmp/store" XDG_CONFIG_HOME="$tmp/config" MODELCTL_BUDGET_MEMORY=16GB
    "$bin/modelsim/modelsim" --port 0 --port-file "$tmp/port" --speed 4 --vram 16GB >"$tmp/sim.log" 2>&1 &
    sim=$!
    trap 'kill $sim 2>/dev/null; wait $sim 2>/dev/null; rm -rf "$tmp"' EXIT
    for _ in $(seq 1 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
    export OLLAMA_HOST="127.0.0.1:$(cat "$tmp/port")"
    echo "modelsim (a simulated Ollama with a 16 GB GPU, loads sped up 4x) is on $OLLAMA_HOST"
    step() {
        echo
        echo "\$ modelctl $*"
        "$bin/modelctl/modelctl" "$@"
    }
    step status
    step load llama3.2:3b llama3.1:8b --keep-alive 30m
    step status
    echo
    echo "# gemma3:12b (9.6 GB) does not fit in the 16 GB budget beside both."
    echo "# modelctl plans which model to unload, and says why:"
    step load --dry-run gemma3:12b
    step pin llama3.1:8b
    step load gemma3:12b
    step status
    sleep 2
    step gc --idle 1s --dry-run
    step status --json
    echo
    echo "# A CI gate: exit 0 healthy, 1 unhealthy, 3 unreachable."
    step health llama3.1:8b
    step bench llama3.1:8b --runs 3 --num-predict 32
    echo
    echo "# Re-pulling a tag can bring new weights: the installed ones are kept for rollback."
    step pull llama3.1:8b
    step versions llama3.1:8b
    step rollback llama3.1:8b
    echo
    echo "# A chain of steps on models that do not all fit beside the pinned one: modelctl"
    echo "# plans which to keep loaded between steps for the whole chain, then runs it."
    cat >"$tmp/triage.json" <<'EOF'
[{"model": "qwen2.5-coder:7b", "prompt": "Analyse: {input}"},
 {"model": "gemma3:12b", "prompt": "Reason about: {input}"},
 {"model": "llama3.2:3b", "prompt": "Summarise: {input}"},
 {"model": "qwen2.5-coder:7b", "prompt": "Analyse again: {step.3}"},
 {"model": "llama3.2:3b", "prompt": "Summarise: {input} and {step.1}"}]
EOF
    step chain "$tmp/triage.json" --dry-run
    step chain "$tmp/triage.json" --input "why is memory scarce?"
    step unload --all
    step status
    step store
}

run_tests() { # run_tests DIR LABEL [ctest options...]
    local dir=$1 label=$2
    shift 2
    echo "== $label"
    (cd "$dir" && ctest -j "$JOBS" --output-on-failure "$@")
}

# Left out of the sanitized pass to keep CI well under its 20 minutes on 2
# cores: e2e_record, 48 s under the sanitizers (7 s in Release), whose input
# parsing fuzz_store covers and whose code paths the other e2e tests run
# under the sanitizers too. It runs in the Release pass as every test does.
# (With unity builds a fresh-clone ./dev.sh test takes about 15 minutes.)
ASAN_SKIP='^e2e_record$'

# The sanitized tree: clang, ASan + UBSan, with the libFuzzer targets beside
# the tests, so one build serves both (a third build took CI past 20 min).
SANITIZED_OPTIONS=(-DMODELCTL_UNITY=ON -DMODELCTL_WERROR=ON -DMODELCTL_SANITIZE=ON -DMODELCTL_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug)

# npm_clients: installs tests/clients' locked packages (npm ci) unless they
# are there; Node.js and npm from Debian when the machine has none.
npm_clients() {
    command -v node >/dev/null && command -v npm >/dev/null || need nodejs npm
    [ -d tests/clients/node_modules/ollama ] && [ -d tests/clients/node_modules/openai ] && return 0
    echo "== npm ci in tests/clients" >&2
    (cd tests/clients && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}

# install_check DIR: installs the tree (configured for /usr) under a
# temporary DESTDIR, moves the build tree away, and runs the installed binary
# against modelsim (tests/install/test_installed.sh); then builds the .deb
# with cpack and, as root on a machine where no modelctl package is
# installed, installs it, runs the same test on /usr/bin/modelctl, and
# removes it.
install_check() {
    local dir=$1 tmp rc=0
    tmp=$(mktemp -d)
    echo "== install under a temporary DESTDIR, the build tree moved away"
    DESTDIR=$tmp/root cmake --install "$dir" >/dev/null
    cp "$dir/apps/modelsim/modelsim" "$tmp/modelsim"
    mv "$dir" "$dir.away"
    INSTALL_ROOT=$tmp/root PREFIX=/usr BUILD_TREE=$ROOT/$dir MODELCTL=$tmp/root/usr/bin/modelctl \
        MODELSIM=$tmp/modelsim bash tests/install/test_installed.sh || rc=$?
    mv "$dir.away" "$dir"
    [ $rc -eq 0 ] || { rm -rf "$tmp"; echo "dev.sh: the installed modelctl failed" >&2; exit 1; }
    echo "== cpack -G DEB"
    (cd "$dir" && cpack -G DEB >cpack.log 2>&1) || { cat "$dir/cpack.log"; exit 1; }
    local deb
    deb=$(ls "$dir"/modelctl_*.deb)
    dpkg-deb -I "$deb" | sed -n 's/^ \(Package\|Version\|Depends\):/  \1:/p'
    if [ "$(id -u)" -ne 0 ] || dpkg-query -W modelctl >/dev/null 2>&1; then
        echo "  (not installed here: needs root and no modelctl package already installed)"
    else
        echo "== dpkg -i $(basename "$deb"), then the installed-binary test on /usr/bin/modelctl"
        apt-get install -y -qq "./$deb" >/dev/null || dpkg -i "$deb" >/dev/null
        INSTALL_ROOT=/ PREFIX=/usr MODELCTL=/usr/bin/modelctl MODELSIM=$tmp/modelsim \
            bash tests/install/test_installed.sh || rc=$?
        dpkg -r modelctl >/dev/null
        [ $rc -eq 0 ] || { rm -rf "$tmp"; echo "dev.sh: the .deb's modelctl failed" >&2; exit 1; }
    fi
    rm -rf "$tmp"
}

test_all() {
    need "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}" "${FUZZ_PACKAGES[@]}"
    npm_clients
    build build/ci -DMODELCTL_WERROR=ON -DMODELCTL_UNITY=ON -DCMAKE_INSTALL_PREFIX=/usr
    run_tests build/ci "tests (Release, -Werror)"
    install_check build/ci
    CXX=clang++ build build/asan "${SANITIZED_OPTIONS[@]}"
    TEST_SANITIZED=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        run_tests build/asan "tests (ASan + UBSan)" -E "$ASAN_SKIP"
    fuzz_targets runs
    echo "== format check"
    cmake --build build/ci --target check
    echo "all checks passed"
}

# ThreadSanitizer over the threaded parts: modelsim (a thread per
# connection), the HTTP watchdog, and serve (a thread per connection,
# admission, the recorder, the event stream), through the e2e tests that
# load them.
# Not part of `test`: a third full build would take CI past its 20 minutes.
tsan() {
    need "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}" "${FUZZ_PACKAGES[@]}"
    CXX=clang++ build build/tsan -DMODELCTL_WERROR=ON -DMODELCTL_TSAN=ON \
        -- modelctl modelsim generate_probe hostile_server
    echo "== e2e under ThreadSanitizer"
    (cd build/tsan && TEST_SANITIZED=1 TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$ROOT/tests/tsan.supp \
        ctest -j "$JOBS" --output-on-failure -R 'e2e_(basic|simulator|store|hostile|signals|run|faults|serve|clients)$')
}

# fuzz_targets SECONDS|runs: builds the libFuzzer targets (tests/fuzz) and
# runs each from its seeds (tests/fuzz/seeds/<target>); fails on a crash, a
# sanitizer report, a leak or a broken property.
#   SECONDS  a campaign: random, for SECONDS each; inputs that found new
#            coverage go to build/asan/fuzz-corpus/, not the repository.
#   runs     what `test` does: every seed, then FUZZ_RUNS[target] inputs from a
#            fixed random seed, so a CI run is the same every time (a random
#            finding must not fail a change that did not cause it).
# About six seconds each on this project's 2-core machines.
declare -A FUZZ_RUNS=([ollama_api]=6000 [lmstudio_api]=4000 [lines]=50000 [store]=2500
    [text]=100000 [files]=4000 [wire]=6000)
fuzz_targets() {
    local mode=$1 t corpus args
    need "${BUILD_PACKAGES[@]}" "${FUZZ_PACKAGES[@]}"
    CXX=clang++ build build/asan "${SANITIZED_OPTIONS[@]}" -- "${FUZZ_TARGETS[@]/#/fuzz_}"
    mkdir -p build/asan/fuzz-findings
    for t in "${FUZZ_TARGETS[@]}"; do
        if [ "$mode" = runs ]; then
            corpus=$(mktemp -d) # new inputs of a fixed-seed run are thrown away
            args=(-seed=1 -runs="${FUZZ_RUNS[$t]}")
            echo "== fuzz_$t: seeds, then ${FUZZ_RUNS[$t]} runs from seed 1"
        else
            corpus=$ROOT/build/asan/fuzz-corpus/$t
            mkdir -p "$corpus"
            args=(-max_total_time="$mode")
            echo "== fuzz_$t for ${mode}s"
        fi
        if ! (cd build/asan/fuzz-findings && "$ROOT/build/asan/tests/fuzz/fuzz_$t" "${args[@]}" \
            -max_len=65536 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
            "$corpus" "$ROOT/tests/fuzz/seeds/$t") \
            >"build/asan/fuzz_$t.log" 2>&1; then
            grep -E -A30 'ERROR|runtime error|deadly|SUMMARY' "build/asan/fuzz_$t.log" | head -60
            echo "dev.sh: fuzz_$t found a problem; the input is in build/asan/fuzz-findings/" >&2
            exit 1
        fi
        [ "$mode" = runs ] && rm -rf "$corpus"
        grep -E '^stat::number_of_executed_units|^#[0-9]+ +DONE' "build/asan/fuzz_$t.log" | tail -2
    done
}

bench() {
    need "${BUILD_PACKAGES[@]}" "${BENCH_PACKAGES[@]}"
    build build/release -DMODELCTL_UNITY=ON -DMODELCTL_TESTS=ON -- modelctl modelsim loadgen replay chain_plans
    bash tests/bench/status_vs_curl.sh build/release
    bash tests/bench/policy_traces.sh build/release/apps/modelctl/modelctl
    bash tests/bench/history_scale.sh build/release
    bash tests/bench/serve_overhead.sh build/release
    bash tests/bench/serve_trace.sh build/release
    bash tests/bench/serve_idle.sh build/release
    bash tests/bench/chain_plans.sh build/release
}

case "${1:-}" in
    demo) demo ;;
    test) test_all ;;
    build) need "${BUILD_PACKAGES[@]}"; build build/release ;;
    bench) bench ;;
    fuzz) fuzz_targets "${2:-600}" ;;
    tsan) tsan ;;
    install) need "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
        build build/install -DMODELCTL_UNITY=ON -DMODELCTL_TESTS=OFF -DCMAKE_INSTALL_PREFIX=/usr
        install_check build/install ;;
    *) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
