#!/usr/bin/env bash
# Runs the benchmarks (release build) against their own DynamoDB Local. Prints figures;
# asserts none. `scripts/bench.sh --quick` runs a small version.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/dynamodb-local.sh install
cargo build --release -p bench
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
scripts/dynamodb-local.sh start "$port"
trap 'scripts/dynamodb-local.sh stop "$port"' EXIT
DYNAMODB_ENDPOINT="http://127.0.0.1:$port" LOG_FORMAT=text RUST_LOG=warn target/release/bench "$@"
