#!/usr/bin/env bash
# Real clients through modelctl serve (issue 17): the official `ollama` and
# `openai` npm packages, pinned in tests/clients/package-lock.json, against
# serve in front of modelsim: list, show, ps, generate and chat streamed and
# not, tools, embed, pull, the OpenAI models list, chat streamed with usage,
# embeddings, a refusal as the client sees it; then with serve in front of
# an Ollama and an LM Studio, the merged lists and a chat with LM Studio. Each case is one run of
# tests/clients/clients.mjs; its checks are there.
source "$(dirname "$0")/lib.sh"
CLIENTS="$(cd "$(dirname "$0")/../clients" && pwd)"
if ! command -v node >/dev/null || [ ! -d "$CLIENTS/node_modules/ollama" ] || [ ! -d "$CLIENTS/node_modules/openai" ]; then
    OUT="install them: npm ci --prefix tests/clients (./dev.sh test does)"
    fail "node and the npm clients are installed"
    finish
fi
start_sim --speed 50 --vram 48GB --max-loaded 8
export MODELCTL_BUDGET_MEMORY=24GB MODELCTL_BUDGET_MAX_LOADED=8
start_serve -v
export SERVE_URL

client() { # client CASE: one case of clients.mjs, its output kept for the report
    OUT=$(node "$CLIENTS/clients.mjs" "$1" 2>&1)
}
for c in list show generate generate_stream ps chat chat_stream chat_tools embed pull \
    openai_models openai_chat openai_chat_stream openai_embeddings refused; do
    check "$c through serve" client "$c"
done
check "serve logged the refusal the client saw" grep -q "^modelctl serve: refuse llama3.3:70b" "$SCRATCH/serve.err"
stop_serve
run "$MODELCTL" --json stats
check "each of the 7 generations of llama3.2:1b was recorded as a use" eval 'rc_is 0 && jq_out "[.models[] | select(.model == \"llama3.2:1b\")][0].uses == 7"'

# serve in front of this Ollama and an LM Studio: one address for both.
OLLAMA_URL=$SIM_URL
start_sim --api lmstudio --speed 50
mkdir -p "$XDG_CONFIG_HOME/modelctl"
cat >"$XDG_CONFIG_HOME/modelctl/config.json" <<JSON
{"endpoints": [{"name": "ollama", "provider": "ollama", "url": "$OLLAMA_URL"},
               {"name": "studio", "provider": "lmstudio", "url": "$SIM_URL"}]}
JSON
start_serve -v
for c in front_list front_openai front_ps; do
    check "$c through serve in front of Ollama and LM Studio" client "$c"
done
stop_serve
finish
