#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster: initdb in a temp dir, start it on a free
# loopback port, export DATABASE_URL, run the command, then stop the cluster (by its pid) and
# delete it. initdb refuses to run as root, so as root the cluster runs as the `postgres` user.
set -euo pipefail

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -x "$PG_BIN/initdb" ] || { echo "PostgreSQL binaries not found (set PG_BIN)"; exit 1; }

workdir=$(mktemp -d /tmp/etr-pg.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
run_as=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$workdir"
  run_as=(runuser -u postgres --)
fi

cleanup() {
  "${run_as[@]}" "$PG_BIN/pg_ctl" -D "$workdir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$workdir"
}
trap cleanup EXIT

"${run_as[@]}" "$PG_BIN/initdb" -D "$workdir/data" -U etrainer --auth=trust -E UTF8 >/dev/null
"${run_as[@]}" "$PG_BIN/pg_ctl" -D "$workdir/data" -l "$workdir/postgres.log" -w \
  -o "-h 127.0.0.1 -p $port -k $workdir -c fsync=off -c full_page_writes=off -c max_connections=200" start >/dev/null
echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"

# initdb makes only the `postgres` database; manage.py (migrate, runserver, bench) needs the one
# DATABASE_URL names. The test runner creates its own test_etrainer beside it.
"$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U etrainer etrainer

export DATABASE_URL="postgres://etrainer@127.0.0.1:$port/etrainer"
"$@"
