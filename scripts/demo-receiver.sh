#!/usr/bin/env bash
# One command: a webhook receiver on 127.0.0.1:4000 that registers itself with the local API
# (scripts/run-local.sh must be running) and prints each event, verified with the reference
# standardwebhooks library; it answers 400 to a message it cannot verify. Its own small venv
# holds only that library.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.local/receiver-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check standardwebhooks==1.1.0
fi
exec "$venv/bin/python" scripts/demo-receiver.py
