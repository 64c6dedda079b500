#!/usr/bin/env bash
# One command: a webhook receiver on 127.0.0.1:4000 that registers itself with the local API
# (scripts/run-local.sh must be running) and prints each event, verified with the reference
# standardwebhooks library.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(scripts/python-tools.sh)"
exec "$bin/python" scripts/demo-receiver.py
