#!/usr/bin/env bash
# Starts the whole API locally, no AWS account needed: DynamoDB Local on :8000 (in memory),
# the table, a demo app with an API key (printed, and saved to .local/api-key), the API on
# http://127.0.0.1:3000, the wallet creator and the event publisher on the table's stream, and
# webhook deliveries. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."

ddb_port="${DYNAMODB_PORT:-8000}"
cargo build -p local-api
# Redoc's bundle for the /docs page (from npm, served locally).
scripts/docs-assets.sh
scripts/dynamodb-local.sh start "$ddb_port"
trap 'scripts/dynamodb-local.sh stop "$ddb_port"' EXIT

export DYNAMODB_ENDPOINT="http://127.0.0.1:$ddb_port"
export TABLE_NAME="${TABLE_NAME:-wallet-users-local}"
export LOG_FORMAT="${LOG_FORMAT:-text}"
# The dev-only key-encryption key that stands in for KMS locally. Never use it for real funds.
if [ ! -s .local/dev-kek ]; then
  python3 -c 'import secrets; print(secrets.token_hex(32))' >.local/dev-kek
fi
export LOCAL_KEY_ENCRYPTION_KEY="$(cat .local/dev-kek)"
target/debug/local-api --demo-app
