#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster: initdb in a temp dir, started on a free
# loopback port, DATABASE_URL exported to the command, then stopped by pid and deleted. The cluster
# is testsupport.processes.postgres's, the one launcher the tests and the benchmarks use too.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" exec python3 -m testsupport.processes.postgres "$@"
