#!/usr/bin/env bash
# Fetches the Redoc bundle the local API's /docs page loads (from npm, served locally: the page
# uses no CDN) into .local/docs, once.
set -euo pipefail
cd "$(dirname "$0")/.."

version=2.5.4
dir=.local/docs
if [ ! -s "$dir/redoc.standalone.js" ] || [ "$(cat "$dir/version" 2>/dev/null)" != "$version" ]; then
  mkdir -p "$dir"
  tarball="$(cd "$dir" && npm pack --silent "redoc@$version")"
  tar -xzf "$dir/$tarball" -C "$dir" --strip-components=2 package/bundles/redoc.standalone.js
  rm "$dir/$tarball"
  echo "$version" >"$dir/version"
fi
