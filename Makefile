# The commands the README names. `make run` and `make test` bootstrap the virtualenv themselves.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MANAGE := $(BIN)/python manage.py

.DEFAULT_GOAL := help
.PHONY: help venv run test test-postgres lint format migrations mongo-migrations check-mongo

help:
	@echo "make run               serve the API on 127.0.0.1:8000 (SQLite, no Redis, eager tasks)"
	@echo "make test              run the whole test suite (needs redis-server installed)"
	@echo "make test-postgres     the suite against a throwaway PostgreSQL cluster"
	@echo "make lint              ruff check + ruff format --check"
	@echo "make migrations        SQL migrations, then the MongoDB set (mongo-migrations)"

$(STAMP): requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: install Python 3.11"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	mkdir -p var
	$(MANAGE) migrate --noinput
	$(MANAGE) bootstrap_demo
	$(MANAGE) runserver 127.0.0.1:8000

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: $(STAMP)
	bash deploy/ci/with_postgres.sh $(BIN)/python -m pytest $(PYTEST_ARGS)

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
