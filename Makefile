# Consult: `make run` serves the demo on http://127.0.0.1:5000; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi:app

.PHONY: run test test-sqlite test-postgres lint install install-test chromium assets migrate demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

migrate: install
	$(BIN)/flask db upgrade

demo: migrate
	$(BIN)/flask consult seed-demo

run: demo
	$(BIN)/flask run --host 127.0.0.1 --port 5000

# Debian's Chromium for the browser tests (Playwright cannot download a browser here).
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	else \
		echo "The browser tests need Debian's Chromium at /usr/bin/chromium."; \
		echo "Install it with: sudo apt-get install -y chromium"; exit 1; \
	fi

# SQLite: every test, browser journeys included, spread over the cores by pytest-xdist
# (each worker has its own database, outbox folders and ports).
test-sqlite: install-test chromium
	$(BIN)/python -m pytest -q -n auto

# PostgreSQL and Redis: the tests that depend on the database engine or Redis (marked
# `database`); skips when they do not answer (and fails under CI=true).
test-postgres: install-test
	$(BIN)/python -m pytest -q --backend=postgres -m "database and not e2e"

test: test-sqlite test-postgres

# ruff (lint and format) over the repo, mypy over consult/.
lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Rebuild the vendored CSS and JavaScript from the pinned npm packages.
assets:
	cd static/src && npm ci && npm run build

clean:
	rm -rf $(VENV) .pytest_cache
