#!/usr/bin/env bash
# The soak (not in CI): the whole local stack under a mixed load for SECONDS (default 600) with
# 8 clients; prints requests, errors and each process's resident memory after a warm-up and at
# the end. Release build, its own DynamoDB Local.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-600}"
scripts/dynamodb-local.sh install
cargo build --release --workspace --bins
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
scripts/dynamodb-local.sh start "$port"
trap 'scripts/dynamodb-local.sh stop "$port"' EXIT
DYNAMODB_ENDPOINT="http://127.0.0.1:$port" LOG_FORMAT=text RUST_LOG=warn target/release/bench --soak "$seconds"
