#!/usr/bin/env bash
# Runs every shell example of the README and docs/ as printed (scripts/docs-test.py), twice in
# a row, against one fresh scripts/run-local.sh: the second run shows that the examples can be
# run again as printed. Starts and stops the local stack itself (ports 8000 and 3000).
set -euo pipefail
cd "$(dirname "$0")/.."

log=.local/docs-test-stack.log
mkdir -p .local
# The admin CLI the docs run, and the API run-local.sh starts: built here, before the wait for
# the stack below starts counting (a build of its own can take minutes on a cold machine).
cargo build -q -p wallet-users-admin
cargo build -q -p local-api
setsid scripts/run-local.sh >"$log" 2>&1 &
stack=$!
trap 'kill -TERM -- "-$stack" 2>/dev/null; wait "$stack" 2>/dev/null || true' EXIT
for _ in $(seq 1 240); do
  if grep -q '^API listening' "$log" 2>/dev/null; then break; fi
  if ! kill -0 "$stack" 2>/dev/null; then cat "$log"; echo "run-local.sh stopped" >&2; exit 1; fi
  sleep 0.5
done
grep -q '^API listening' "$log" || { cat "$log"; echo "the local stack did not start" >&2; exit 1; }
python3 scripts/docs-test.py --runs 2 "$@"
