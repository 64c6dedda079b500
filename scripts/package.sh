#!/usr/bin/env bash
# Builds every Lambda of the workspace for Graviton (arm64, cargo-lambda with zig as the
# linker: no Docker), packages each as a Lambda zip under target/lambda/<function>/bootstrap.zip,
# and prints each zip's size. `--x86` builds for x86_64 instead.
set -euo pipefail
cd "$(dirname "$0")/.."

arch=--arm64
target=aarch64-unknown-linux-gnu
if [ "${1:-}" = "--x86" ]; then
  arch=--x86-64
  target=x86_64-unknown-linux-gnu
fi

venv=.local/build-venv
if [ ! -x "$venv/bin/cargo-lambda" ] || ! cmp -s scripts/requirements-build.txt "$venv/.requirements"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r scripts/requirements-build.txt
  cp scripts/requirements-build.txt "$venv/.requirements"
fi
export PATH="$PWD/$venv/bin:$PATH"
rustup target add "$target" >/dev/null

# The developer console, which the console function compiles in.
scripts/console-build.sh

packages=()
for dir in functions/*/; do
  packages+=(--package "$(basename "$dir")")
done
cargo lambda build --release "$arch" --output-format zip "${packages[@]}"

printf '%-24s %12s %12s\n' function "zip bytes" "MB"
for dir in functions/*/; do
  name="$(basename "$dir")"
  zip="target/lambda/$name/bootstrap.zip"
  bytes="$(stat -c %s "$zip")"
  awk -v n="$name" -v b="$bytes" 'BEGIN { printf "%-24s %12d %12.2f\n", n, b, b / 1048576 }' 
done
