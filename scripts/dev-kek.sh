#!/usr/bin/env bash
# Makes .local/dev-kek (under the current directory) unless it exists: the dev-only
# key-encryption key that stands in for KMS locally. Never use it for real funds.
set -euo pipefail
# The key, and the directory if this makes it, are for their owner alone.
umask 077
mkdir -p .local
if [ ! -s .local/dev-kek ]; then
  python3 -c 'import secrets; print(secrets.token_hex(32))' >.local/dev-kek
fi
# A key made before the umask was set here may be readable by others.
chmod 600 .local/dev-kek
