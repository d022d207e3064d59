#!/usr/bin/env bash
# Issue 20: loading seconds of modelctl chain's planner against unloading
# after every step and keeping a model only for an identical next step, on
# the shared catalog (../shared/traces/catalog.csv: sizes and load times of
# ten models). The figures are the planner's own arithmetic on each chain,
# not timings, so they are the same on every machine. Fails when the plan
# loads more than either rule on any chain.
# Usage: tests/bench/chain_plans.sh BUILD_DIR
set -euo pipefail
BUILD=${1:?usage: chain_plans.sh BUILD_DIR}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CATALOG="$ROOT/../shared/traces/catalog.csv"
[ -f "$CATALOG" ] || { echo "chain_plans: no $CATALOG (see ../shared/README.md)" >&2; exit 1; }
echo "== chain planner vs the naive rules ($CATALOG)"
"$BUILD/tests/chain_plans" "$CATALOG"
