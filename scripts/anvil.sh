#!/usr/bin/env bash
# Runs Foundry's anvil, a local Ethereum node (chain 31337, ten funded dev accounts), on
# 127.0.0.1:${ANVIL_PORT:-8545} until stopped: the local stack's network for sends. The binary
# comes from npm @foundry-rs/anvil, pinned in tests/clients/package.json (the tests run the
# same one), installed once with npm ci.
set -euo pipefail
cd "$(dirname "$0")/.."

anvil=tests/clients/node_modules/.bin/anvil
if [ ! -x "$anvil" ]; then
  npm ci --prefix tests/clients --no-audit --no-fund --silent >&2
fi
exec "$anvil" --host 127.0.0.1 --port "${ANVIL_PORT:-8545}" --chain-id 31337 --silent
