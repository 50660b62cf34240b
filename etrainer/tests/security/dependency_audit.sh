#!/usr/bin/env bash
# pip-audit over the pinned runtime requirements (`make audit`, .ci/run).
#
# --strict: a package the advisory feed cannot answer for fails the audit; without it pip-audit
# reports "No known vulnerabilities found" after skipping every package. Where PyPI's advisory feed
# (its per-release JSON, /pypi/<name>/<version>/json) does not answer, the audit cannot run: this
# says so loudly and exits 0, rather than fail every CI run for a network limit or pass as if
# audited. (Some registry mirrors serve /simple and /pypi/<name>/json but not the per-release one.)
# Accepted advisories go in pip-audit-exceptions.txt beside this file: "ID  reason", one a line.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/../../.."

feed_check='
import re, urllib.request
name, version = re.search(r"^([A-Za-z0-9_.-]+)==(\S+)", open("requirements.txt").read(), re.M).groups()
urllib.request.urlopen(f"https://pypi.org/pypi/{name}/{version}/json", timeout=15).close()
'
if ! .venv/bin/python -c "$feed_check" 2>/dev/null; then
  echo "!! pip-audit NOT RUN: PyPI's vulnerability feed is unreachable from this machine."
  echo "!! Nothing was audited; run 'make audit' where https://pypi.org/pypi/<name>/<version>/json answers."
  exit 0
fi

ignores=()
while read -r id _reason; do
  [[ -z "$id" || "$id" == \#* ]] || ignores+=(--ignore-vuln "$id")
done < "$here/pip-audit-exceptions.txt"

.venv/bin/pip-audit --strict --progress-spinner off -r requirements.txt "${ignores[@]}"
