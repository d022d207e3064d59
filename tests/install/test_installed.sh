#!/usr/bin/env bash
# An installed modelctl, its build tree out of the way, works as a user gets
# it: it finds its HTTP module through the install layout (Debian's /usr
# puts it under lib/x86_64-linux-gnu), talks to a server, and its man page,
# completions and systemd units are where the tools look for them.
# usage (by dev.sh, which installs and moves the build tree away):
#   INSTALL_ROOT=DESTDIR PREFIX=/usr MODELCTL=INSTALL_ROOT/PREFIX/bin/modelctl MODELSIM=... test_installed.sh
source "$(dirname "$0")/../e2e/lib.sh"
: "${INSTALL_ROOT:?the DESTDIR of the install, / for a package}" "${PREFIX:?the install prefix}"
top="${INSTALL_ROOT%/}$PREFIX"

run "$MODELCTL" --version
check "the installed binary runs" eval 'rc_is 0 && has "$OUT" "modelctl "'
start_sim --speed 50 --vram 16GB
run "$MODELCTL" status --json
check "it loads its HTTP module from the install and reaches the server" eval 'rc_is 0 && jq_out ".server.kind == \"ollama\""'
run "$MODELCTL" load llama3.2:1b
check "and loads a model there" eval 'rc_is 0 && [ "$(curl -s "$SIM_URL/api/ps" | jq -r ".models[0].name")" = llama3.2:1b ]'
if [ -n "${BUILD_TREE:-}" ]; then
    check "with the build tree (and the module in it) out of the way" eval '[ ! -e "$BUILD_TREE/lib/modelctl/modelctl-http.so" ]'
fi
# Debian's /usr: LIBDIR is lib/<multiarch>, where the binary used to miss it.
check "the HTTP module is under Debian's multiarch LIBDIR" eval '[ -f "$top/lib/$(g++ -print-multiarch)/modelctl/modelctl-http.so" ]'

check "man modelctl finds the page" eval 'MANPATH="$top/share/man" man -w modelctl >/dev/null 2>&1 || [ -s "$top/share/man/man1/modelctl.1" ]'
check "bash, zsh and fish completions are installed" eval '[ -s "$top/share/bash-completion/completions/modelctl" ] && [ -s "$top/share/zsh/vendor-completions/_modelctl" ] && [ -s "$top/share/fish/vendor_completions.d/modelctl.fish" ]'
units="$top/lib/systemd"
check "the systemd units start the installed binary" eval 'grep -q "^ExecStart=$PREFIX/bin/modelctl serve$" "$units/system/modelctl-serve.service" && grep -q "^ExecStart=$PREFIX/bin/modelctl serve$" "$units/user/modelctl-serve.service" && grep -q "^ExecStart=$PREFIX/bin/modelctl gc$" "$units/user/modelctl-gc.service"'
if command -v systemd-analyze >/dev/null && [ "$INSTALL_ROOT" = / ]; then
    # verify checks keys and that ExecStart is executable: only where the
    # binary is at its real path (a package), not under a DESTDIR.
    run systemd-analyze verify "$units/system/modelctl-serve.service"
    check "systemd-analyze accepts the system unit" eval 'rc_is 0 && [ -z "$ERR$OUT" ]'
    XDG_RUNTIME_DIR=$SCRATCH run systemd-analyze verify --user "$units/user/modelctl-serve.service" \
        "$units/user/modelctl-gc.service" "$units/user/modelctl-gc.timer"
    check "systemd-analyze accepts the user units" eval 'rc_is 0 && [ -z "$ERR$OUT" ]'
fi
finish
