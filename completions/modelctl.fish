# fish completion for modelctl. Install: copy to ~/.config/fish/completions/modelctl.fish

function __modelctl_installed
    modelctl --timeout 2s status --all --json 2>/dev/null | string match -rg '^\s*"name": "(.*)",?$'
end

function __modelctl_loaded
    modelctl --timeout 2s -q status 2>/dev/null
end

set -l subcommands status load unload gc pin unpin priority record stats config simulate store
complete -c modelctl -f
complete -c modelctl -n "not __fish_seen_subcommand_from $subcommands" -a status -d 'Show loaded models, where they sit and until when'
complete -c modelctl -n "not __fish_seen_subcommand_from $subcommands" -a load -d 'Load models and wait until they are ready'
complete -c modelctl -n "not __fish_seen_subcommand_from $subcommands" -a unload -d 'Unload models and wait until their memory is free'
complete -c modelctl -n "not __fish_seen_subcommand_from $subcommands" -a store -d 'Show where modelctl keeps its state, and check it'
complete -c modelctl -n "not __fish_seen_subcommand_from $subcommands" -a gc -d 'Unload idle models, then get back under the budget'
complete -c modelctl -n "not __fish_seen_subcommand_from $subcommands" -a pin -d 'Pin models: load and gc never evict them'
complete -c modelctl -n "not __fish_seen_subcommand_from $subcommands" -a unpin -d 'Unpin models'
complete -c modelctl -n "not __fish_seen_subcommand_from $subcommands" -a priority -d 'Set a model priority, 0-9'
complete -c modelctl -n "not __fish_seen_subcommand_from $subcommands" -a record -d 'Record a use of a model made outside modelctl'
complete -c modelctl -n "not __fish_seen_subcommand_from $subcommands" -a stats -d 'Show recorded usage per model'
complete -c modelctl -n "not __fish_seen_subcommand_from $subcommands" -a config -d 'Show the configuration'
complete -c modelctl -n "not __fish_seen_subcommand_from $subcommands" -a simulate -d 'Replay a request trace, eviction rules side by side'

# Global options
complete -c modelctl -l host -x -d 'Server address (default: $OLLAMA_HOST)'
complete -c modelctl -l config -r -F -d 'Config file'
complete -c modelctl -l timeout -x -d 'Longest wait for one server answer, e.g. 30s'
complete -c modelctl -l json -d 'Machine-readable output'
complete -c modelctl -s q -l quiet -d 'Print only what scripts need'
complete -c modelctl -s v -l verbose -d 'Say what is happening on stderr'
complete -c modelctl -l version -d 'Print the version'
complete -c modelctl -s h -l help -d 'Show help'

complete -c modelctl -n "__fish_seen_subcommand_from status" -s a -l all -d 'Also list installed models'
complete -c modelctl -n "__fish_seen_subcommand_from load" -s k -l keep-alive -x -d 'How long to keep them loaded when idle'
complete -c modelctl -n "__fish_seen_subcommand_from load" -a '(__modelctl_installed)'
complete -c modelctl -n "__fish_seen_subcommand_from unload" -s a -l all -d 'Unload every loaded model'
complete -c modelctl -n "__fish_seen_subcommand_from unload" -a '(__modelctl_loaded)'
complete -c modelctl -n "__fish_seen_subcommand_from store" -l repair -d 'Move an unreadable state file aside'
complete -c modelctl -n "__fish_seen_subcommand_from simulate" -l trace -r -F -d 'CSV of requests: time,model'
complete -c modelctl -n "__fish_seen_subcommand_from simulate" -l catalog -r -F -d 'CSV of models: model,size_bytes,load_s'
complete -c modelctl -n "__fish_seen_subcommand_from simulate" -l memory -x -d 'Memory budgets, e.g. 24GB,48GB'
complete -c modelctl -n "__fish_seen_subcommand_from simulate" -l policy -x -a 'modelctl lru ollama belady' -d 'Rules to compare'
complete -c modelctl -n "__fish_seen_subcommand_from simulate" -l from-history -d 'Replay your own recorded usage'
complete -c modelctl -n "__fish_seen_subcommand_from simulate" -l every -x -d 'Keep every N-th request'
complete -c modelctl -n "__fish_seen_subcommand_from simulate" -l stretch -x -d 'Multiply request times by X'
complete -c modelctl -n "__fish_seen_subcommand_from simulate" -l max-loaded -x -d 'At most N models loaded at once'
complete -c modelctl -n "__fish_seen_subcommand_from load" -l memory -x -d 'Memory budget for loaded models'
complete -c modelctl -n "__fish_seen_subcommand_from load" -s n -l dry-run -d 'Print the plan, change nothing'
complete -c modelctl -n "__fish_seen_subcommand_from load" -l no-evict -d 'Refuse rather than evict'
complete -c modelctl -n "__fish_seen_subcommand_from gc" -l idle -x -d 'Unload models idle longer than this'
complete -c modelctl -n "__fish_seen_subcommand_from gc" -l memory -x -d 'Memory budget for loaded models'
complete -c modelctl -n "__fish_seen_subcommand_from gc" -s n -l dry-run -d 'Print what would be unloaded'
complete -c modelctl -n "__fish_seen_subcommand_from pin unpin priority" -a '(__modelctl_installed)'
complete -c modelctl -n "__fish_seen_subcommand_from config" -a show -d 'Print every effective setting and its source'
complete -c modelctl -n "__fish_seen_subcommand_from record" -l latency-ms -x -d 'Wall time of the request, ms'
complete -c modelctl -n "__fish_seen_subcommand_from record" -l ttft-ms -x -d 'Time to first token, ms'
complete -c modelctl -n "__fish_seen_subcommand_from record" -l tokens -x -d 'Tokens generated'
complete -c modelctl -n "__fish_seen_subcommand_from record" -l tokens-in -x -d 'Prompt tokens'
complete -c modelctl -n "__fish_seen_subcommand_from record" -l failed -d 'The request failed'
complete -c modelctl -n "__fish_seen_subcommand_from record" -l task -x -a 'chat coding vision embedding reasoning tools' -d 'What it was for'
complete -c modelctl -n "__fish_seen_subcommand_from record" -l at -x -d 'When, RFC 3339'
complete -c modelctl -n "__fish_seen_subcommand_from record" -l batch -r -F -d 'Import JSON lines from FILE or -'
complete -c modelctl -n "__fish_seen_subcommand_from record stats" -a '(__modelctl_installed)'
complete -c modelctl -n "__fish_seen_subcommand_from stats" -l since -x -d 'Only the last DURATION'
