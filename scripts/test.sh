#!/usr/bin/env bash
# Runs every test: starts its own DynamoDB Local on a free port (in memory), runs the whole
# workspace's tests with nextest (each test makes its own table, so they run in parallel),
# and stops DynamoDB Local whatever happens. Extra arguments go to nextest.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/dynamodb-local.sh install
# Python tools the tests run: the reference webhook verifier, cfn-lint and SAM.
PYTHON_TOOLS_BIN="$(scripts/python-tools.sh)"
export PYTHON_TOOLS_BIN
# The TypeScript client's packages (its quick start runs against the local API in the tests).
npm ci --prefix clients/typescript --no-audit --no-fund --silent
# Build first, so DynamoDB Local is not left idling through a long compile.
cargo nextest run --workspace --no-run

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
scripts/dynamodb-local.sh start "$port"
trap 'scripts/dynamodb-local.sh stop "$port"' EXIT

export DYNAMODB_ENDPOINT="http://127.0.0.1:$port"
cargo nextest run --workspace --no-fail-fast "$@"
