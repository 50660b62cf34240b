# The commands the README names. `make run` and `make test` bootstrap the virtualenv themselves.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MANAGE := $(BIN)/python manage.py
# Compiled catalogs are built, not committed (.gitignore): Babel's pybabel, no GNU gettext needed.
# Every command that serves or tests depends on them, so no run reads a stale .mo.
PO := $(wildcard locale/*/LC_MESSAGES/django.po)
MO := $(PO:.po=.mo)

.DEFAULT_GOAL := help
.PHONY: help venv run test test-postgres lint format migrations mongo-migrations check-mongo
.PHONY: test-mongo test-nginx mongo-venv mongo-server run-mongo
.PHONY: jobs-smoke jobs-smoke-mongo worker beat run-asgi
.PHONY: fuzz audit
.PHONY: bench-access bench-node bench-jobs bench-ws bench
.PHONY: messages check-messages compile-messages

help:
	@echo "make run [PORT=8000]   serve the API on 127.0.0.1:PORT (SQLite, no Redis, eager tasks)"
	@echo "make run-asgi          WebSocket notifications (uvicorn) on 127.0.0.1:8001 (/ws/notifications)"
	@echo "make test              run the whole test suite (needs redis-server installed)"
	@echo "make test-postgres     the suite against a throwaway PostgreSQL cluster"
	@echo "make test-mongo        the suite on MongoDB: a SecantusDB it starts itself, or MONGO_URL"
	@echo "make run-mongo         serve the API on a local SecantusDB (data in var/mongo)"
	@echo "make test-nginx        nginx.conf in a real nginx in front of two gunicorns"
	@echo "make jobs-smoke        real redis + celery worker + beat: a scheduled run, a SIGKILLed worker"
	@echo "make jobs-smoke-mongo  the same with MongoDB (SecantusDB) as the database"
	@echo "make worker / beat     a celery worker / the one beat (set CELERY_BROKER_URL and REDIS_URL)"
	@echo "make fuzz              schemathesis against /api/schema on a live gunicorn (bounded, fixed seed)"
	@echo "make audit             pip-audit --strict over requirements.txt"
	@echo "make bench-access      warm access + plans/courses vs a bare view, granian and gunicorn (wrk)"
	@echo "make bench-node        bench-access plus Express/ioredis/jsonwebtoken on Node's cluster"
	@echo "make bench-ws          10k WebSockets, one notice each: uvicorn vs granian ASGI fan-out"
	@echo "make bench             load + faults + memory + WebSockets on 127.0.0.1 (~15 min): bench/RESULTS.md"
	@echo "make bench-jobs        expiry, token reset, history cleanup on 10k/100k rows: queries, memory"
	@echo "make lint              ruff check + ruff format --check"
	@echo "make migrations        SQL migrations, then the MongoDB set (mongo-migrations)"
	@echo "make messages          extract the translatable strings into locale/*/LC_MESSAGES/django.po"
	@echo "make check-messages    fail on an untranslated, fuzzy or stale msgid (needs GNU gettext)"

MONGO_VENV := .venv-mongo
MONGO_STAMP := $(MONGO_VENV)/.installed

$(STAMP): requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: install Python 3.11"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP) $(MO)

locale/%/LC_MESSAGES/django.mo: locale/%/LC_MESSAGES/django.po | $(STAMP)
	$(BIN)/pybabel compile -l $* -i $< -o $@

compile-messages: $(MO)

# Extract (makemessages: needs GNU gettext's xgettext), then translate the new msgids.
messages: $(STAMP)
	$(BIN)/python -m testsupport.messages extract

# CI: fails listing every msgid without a translation or fuzzy, or when the catalog is stale;
# the committed catalog is put back afterwards, whatever happened.
check-messages: $(STAMP)
	$(BIN)/python -m testsupport.messages check

# SecantusDB, the MongoDB-wire-compatible test server, in a virtualenv of its own: it is GPL-2.0 and
# pins another pymongo, and the project never imports it (testsupport/processes/mongo.py runs it).
$(MONGO_STAMP): requirements-mongo-server.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: install Python 3.11"; exit 1; }
	test -x $(MONGO_VENV)/bin/python || $(PYTHON) -m venv $(MONGO_VENV)
	$(MONGO_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(MONGO_VENV)/bin/python -m pip install --quiet -r requirements-mongo-server.txt
	touch $(MONGO_STAMP)

mongo-venv: $(MONGO_STAMP)

# The port is checked first, so a second `make run` stops at once with a hint, not after migrating.
PORT ?= 8000
run: $(STAMP) $(MO)
	@$(BIN)/python -c 'import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int("$(PORT)")))' 2>/dev/null \
	  || { echo "make run: port $(PORT) on 127.0.0.1 is taken (another make run?) or not a port number. Pick another: make run PORT=8010"; exit 1; }
	mkdir -p var
	$(MANAGE) migrate --noinput
	$(MANAGE) bootstrap_demo
	$(MANAGE) seed_demo_catalog
	$(MANAGE) setup_schedules
	$(MANAGE) runserver 127.0.0.1:$(PORT)

# WebSocket notifications. Without REDIS_URL/CHANNEL_LAYER_URL the channel layer is in-memory: only
# notifications created in this very process reach its sockets (set REDIS_URL beside `make run`).
run-asgi: $(STAMP) $(MO)
	DJANGO_SETTINGS_MODULE=$${DJANGO_SETTINGS_MODULE:-etrainer.settings.local} \
	  $(BIN)/uvicorn etrainer.asgi:application --host 127.0.0.1 --port $${ASGI_PORT:-8001} --reload --no-access-log

jobs-smoke: $(STAMP) $(MO)
	$(BIN)/python -m testsupport.jobs_smoke

jobs-smoke-mongo: $(STAMP) $(MO) $(MONGO_STAMP)
	$(BIN)/python -m testsupport.jobs_smoke --mongodb

worker: $(STAMP) $(MO)
	$(BIN)/celery -A etrainer worker --loglevel=INFO --concurrency=$${CELERY_WORKER_CONCURRENCY:-2}

beat: $(STAMP) $(MO)
	$(BIN)/celery -A etrainer beat --loglevel=INFO

fuzz: $(STAMP) $(MO)
	$(BIN)/python -m etrainer.tests.security.fuzz

audit: $(STAMP)
	bash etrainer/tests/security/dependency_audit.sh

# Two pytest-xdist workers (TEST_WORKERS=0 for one process), each test file on one worker: some
# files share a module-scoped server stack between their tests.
TEST_WORKERS ?= 2
test: $(STAMP) $(MO)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# Two xdist workers here too: pytest-django gives each its own test database (test_etrainer_gw0, …)
# on the one throwaway cluster (PG_WORKERS=0 for one process).
PG_WORKERS ?= 2
test-postgres: $(STAMP) $(MO)
	bash deploy/ci/with_postgres.sh $(BIN)/python -m pytest -n $(PG_WORKERS) --dist loadfile $(PYTEST_ARGS)

# The suite on MongoDB. With MONGO_URL unset it starts its own SecantusDB (a single-node replica set
# on a free port, data in a temp dir); MONGO_URL=mongodb://…?replicaSet=… uses a real server instead
# (the compose replica set, Atlas): a replica set, since transactions need one.
# Two pytest-xdist workers by default (MONGO_WORKERS=0 for one process), each test file on one
# worker: SecantusDB is one Python process per server, and each worker starts its own.
MONGO_URL ?=
MONGO_WORKERS ?= 2
test-mongo: $(STAMP) $(MO)
	@if [ -z "$(MONGO_URL)" ]; then $(MAKE) --no-print-directory mongo-venv; fi
	TEST_DATABASE=mongodb MONGO_URL='$(MONGO_URL)' $(BIN)/python -m pytest -n $(MONGO_WORKERS) --dist loadfile $(PYTEST_ARGS)

# A local MongoDB-compatible server for development: SecantusDB on MONGO_PORT (27017), data kept in
# var/mongo. `make run-mongo` starts it beside the API and stops it when the API stops.
MONGO_PORT ?= 27017
mongo-server: $(STAMP) $(MONGO_STAMP)
	mkdir -p var/mongo
	$(BIN)/python -m testsupport.processes.mongo --port $(MONGO_PORT) --storage-path var/mongo

run-mongo: $(STAMP) $(MO) $(MONGO_STAMP)
	PORT=$(PORT) bash deploy/mongo/run_local.sh $(MONGO_PORT)

test-nginx: $(STAMP) $(MO)
	$(BIN)/python -m pytest deploy/tests/test_nginx.py $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations: $(STAMP)
	$(MANAGE) makemigrations
	$(MAKE) mongo-migrations

# makemigrations under the MongoDB engine needs a live server; the dummy engine does not.
mongo-migrations: $(STAMP)
	DJANGO_SETTINGS_MODULE=etrainer.settings.mongo_offline $(MANAGE) makemigrations

# Warm /api/me/access, /api/plans and /api/courses vs a bare Django JSON view, on granian and
# gunicorn in the same interleaved rounds: ratios to bare and granian / gunicorn (wrk; ~5 minutes).
bench-access: $(STAMP) $(MO)
	$(BIN)/python bench/access.py $(BENCH_ARGS)

# bench-access with the stack this backend replaces beside granian and gunicorn, in the same
# rounds (bench/node: Express, ioredis, jsonwebtoken on Node's cluster; `cd bench/node && npm ci`).
bench-node: $(STAMP) $(MO)
	$(BIN)/python bench/access.py --node $(BENCH_ARGS)

# Three batched jobs on 10 k and 100 k rows: query counts and peak memory (~2 minutes on SQLite;
# PostgreSQL when DATABASE_URL points at one).
bench-jobs: $(STAMP) $(MO)
	$(BIN)/python bench/jobs.py $(BENCH_ARGS)

# 10,000 authenticated /ws/notifications sockets on uvicorn and granian's ASGI interface, one
# notice each (notifications_create_many): connect time, fan-out p50/p99/max, RSS (~5 minutes).
bench-ws: $(STAMP) $(MO)
	$(BIN)/python bench/websocket.py $(BENCH_ARGS)

# Load and resilience suite on granian with gunicorn beside it: throughput at 32/256/10,000
# connections, Zipf cache hit rate, Redis/PostgreSQL/Celery faults, worker memory, WebSocket
# fan-out; writes bench/RESULTS.md (~15 minutes, everything on 127.0.0.1).
bench: $(STAMP) $(MO)
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

# The architecture contracts of pyproject's [tool.importlinter]: one-way app layers, the project
# package importing no app, no API module under the realtime push.
lint-imports: $(STAMP)
	$(BIN)/lint-imports

# mypy with the Django and DRF stubs over every app's services, selectors and apis ([tool.mypy]).
typecheck: $(STAMP)
	$(BIN)/mypy
