#!/usr/bin/env bash
# Installs the seed services' own clients the dialect tests run (tests/clients): original-sdk
# and ost-kit-python (pinned in tests/clients/requirements.txt) into .local/venv-clients, once,
# again only when the requirements change; and @privy-io/node (tests/clients/package-lock.json)
# with npm ci. Prints the venv's python.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.local/venv-clients
stamp="$venv/.requirements"
if [ ! -x "$venv/bin/python" ] || ! cmp -s tests/clients/requirements.txt "$stamp"; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/clients/requirements.txt >&2
  cp tests/clients/requirements.txt "$stamp"
fi
npm ci --prefix tests/clients --no-audit --no-fund --silent >&2
echo "$PWD/$venv/bin/python"
