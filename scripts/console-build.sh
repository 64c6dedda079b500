#!/usr/bin/env bash
# Builds the developer console (console/ → console/dist): installs its packages and the
# generated client's, writes the client's types from openapi.yaml, type-checks and bundles.
# Prints the size of the JavaScript a first load fetches; fails over its budget (200 KB gzip).
set -euo pipefail
cd "$(dirname "$0")/.."

npm ci --prefix clients/typescript --no-audit --no-fund --silent
npm run --prefix clients/typescript --silent generate >/dev/null
npm ci --prefix console --no-audit --no-fund --silent
npm run --prefix console --silent build
