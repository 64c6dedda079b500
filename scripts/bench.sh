#!/usr/bin/env bash
# Runs every benchmark against its own DynamoDB Local: prints a table, writes
# bench/results.json and bench/results.svg; asserts nothing. `--quick` runs a small version.
# The binaries are built with the release profile (what ships); BENCH_PROFILE=dev reuses the
# test build instead (CI runs `BENCH_PROFILE=dev scripts/bench.sh --quick` so the bench never
# rots; its figures mean nothing). Zip sizes come from scripts/package.sh when it has run.
set -euo pipefail
cd "$(dirname "$0")/.."

profile="${BENCH_PROFILE:-release}"
case "$profile" in
  release) dir=release ;;
  dev) dir=debug ;;
  *) echo "BENCH_PROFILE must be release or dev" >&2; exit 2 ;;
esac

scripts/dynamodb-local.sh install
# Every binary: the functions, the floor (bench's bare-lambda), the local API, the bench.
cargo build --profile "$profile" --workspace --bins
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
scripts/dynamodb-local.sh start "$port"
trap 'scripts/dynamodb-local.sh stop "$port"' EXIT
DYNAMODB_ENDPOINT="http://127.0.0.1:$port" LOG_FORMAT=text RUST_LOG=warn "target/$dir/bench" "$@"
