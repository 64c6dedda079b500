#!/usr/bin/env bash
# Starts the whole API locally, no AWS account needed: DynamoDB Local on :8000 (in memory),
# anvil (a local Ethereum node, chain 31337) on :8545, the table, a demo app with an API key
# (printed, and saved to .local/api-key) whose networks include anvil's, the API on
# http://127.0.0.1:3000 and its console at http://127.0.0.1:3000/console, the wallet creator
# and the event publisher on the table's stream, and webhook deliveries. Ctrl-C stops
# everything.
set -euo pipefail
cd "$(dirname "$0")/.."

ddb_port="${DYNAMODB_PORT:-8000}"
cargo build -p local-api
# The developer console, served at http://127.0.0.1:3000/console.
scripts/console-build.sh
# Redoc's bundle for the /docs page (from npm, served locally).
scripts/docs-assets.sh
scripts/dynamodb-local.sh start "$ddb_port"
anvil_port="${ANVIL_PORT:-8545}"
ANVIL_PORT="$anvil_port" scripts/anvil.sh &
anvil_pid=$!
trap 'kill "$anvil_pid" 2>/dev/null; scripts/dynamodb-local.sh stop "$ddb_port"' EXIT
# The demo app sends through it (its networks: Ethereum, and this node as chain 31337).
export LOCAL_CHAIN_RPC_URL="http://127.0.0.1:$anvil_port"

export DYNAMODB_ENDPOINT="http://127.0.0.1:$ddb_port"
export TABLE_NAME="${TABLE_NAME:-wallet-users-local}"
export LOG_FORMAT="${LOG_FORMAT:-text}"
# The dev-only key-encryption key that stands in for KMS locally (owner-only, like the demo
# API key local-api saves). Never use it for real funds.
scripts/dev-kek.sh
export LOCAL_KEY_ENCRYPTION_KEY="$(cat .local/dev-kek)"
target/debug/local-api --demo-app
