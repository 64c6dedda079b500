#!/usr/bin/env bash
# Installs the Python tools the tests use (scripts/requirements.txt) into .local/venv, once;
# again only when the requirements change. Prints the venv's bin directory.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.local/venv
stamp="$venv/.requirements"
if [ ! -x "$venv/bin/python" ] || ! cmp -s scripts/requirements.txt "$stamp"; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r scripts/requirements.txt >&2
  cp scripts/requirements.txt "$stamp"
fi
echo "$PWD/$venv/bin"
