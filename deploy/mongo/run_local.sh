#!/usr/bin/env bash
# `make run-mongo`: the API on a local SecantusDB (MongoDB wire protocol, single-node replica set
# rs0, data in var/mongo), started here and stopped when the API stops. Same steps as `make run`.
set -euo pipefail
cd "$(dirname "$0")/../.."
port="${1:-27017}"
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "Port $port is taken: stop what listens there or choose another (make run-mongo MONGO_PORT=…)." >&2
  exit 1
fi
mkdir -p var/mongo
.venv/bin/python -m testsupport.processes.mongo --port "$port" --storage-path var/mongo &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done
export DATABASE_URL="mongodb://127.0.0.1:$port/etrainer?replicaSet=rs0"
manage=(.venv/bin/python manage.py)
"${manage[@]}" migrate --noinput
"${manage[@]}" ensure_indexes
"${manage[@]}" bootstrap_demo
"${manage[@]}" seed_demo_catalog
"${manage[@]}" setup_schedules
"${manage[@]}" runserver "127.0.0.1:${PORT:-8000}"
