#!/usr/bin/env bash
# Runs every test: starts its own DynamoDB Local on a free port (in memory), runs the whole
# workspace's tests with nextest (each test makes its own table, so they run in parallel),
# and stops DynamoDB Local whatever happens. Extra arguments go to nextest. After the tests, a
# scan of every table item, stream record and captured log line must find no secret (see
# tests/src/secrets.rs).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/dynamodb-local.sh install
# Python tools the tests run: the reference webhook verifier, cfn-lint and SAM.
PYTHON_TOOLS_BIN="$(scripts/python-tools.sh)"
export PYTHON_TOOLS_BIN
# The seed services' own clients (original-sdk, ost-kit-python, @privy-io/node), which the
# dialect tests run unchanged against the local API.
SEED_CLIENTS_PYTHON="$(scripts/seed-clients.sh)"
export SEED_CLIENTS_PYTHON
# The TypeScript client's packages (its quick start runs against the local API in the tests),
# and the developer console built on it (served by the local API and compiled into the console
# function; its browser tests need Debian's chromium: `apt-get install chromium`).
scripts/console-build.sh
# Build first, so DynamoDB Local is not left idling through a long compile. This also builds
# the secrets scan (a binary of the api-tests package, which its integration tests need).
cargo nextest run --workspace --no-run
# Every function binary: the emulator test runs each under cargo-lambda's Runtime API.
cargo build --workspace --bins
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
secrets_scan="$target_dir/debug/secrets-scan"

# Every test process writes its log lines here (JSON, our crates at DEBUG), for the scan.
export TEST_LOG_DIR="$PWD/.local/test-logs"
rm -rf "$TEST_LOG_DIR"
mkdir -p "$TEST_LOG_DIR"

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
scripts/dynamodb-local.sh start "$port"
trap 'scripts/dynamodb-local.sh stop "$port"' EXIT

export DYNAMODB_ENDPOINT="http://127.0.0.1:$port"
cargo nextest run --workspace --no-fail-fast "$@"

# No plaintext private key, API key or webhook secret in any table item, stream record or log
# line the suite left. A run narrowed by arguments may have made no table: that is no failure.
scan_args=()
if [ "$#" -gt 0 ]; then scan_args=(--allow-empty); fi
"$secrets_scan" "${scan_args[@]}"
