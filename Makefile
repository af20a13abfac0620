# Consult: `make run` serves the demo on http://127.0.0.1:$(PORT); `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := wsgi:app

# The lock: exact versions with hashes, made from pyproject's ranges by `make lock`.
LOCK := requirements/runtime.txt
LOCK_TEST := requirements/test.txt
UV_VERSION := 0.13.9
# The database that reset-demo may drop: the default one, when DATABASE_URL is unset.
DEMO_DATABASE := instance/consult.sqlite3

.PHONY: run test test-sqlite test-postgres lint install install-test chromium nginx pg-client bench-tools assets \
	migrate demo \
	reset-demo lock clean screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Locked versions only (every file's hash checked), then Consult itself without dependencies,
# built by the locked setuptools.
$(VENV)/.installed: pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(LOCK_TEST) $(VENV)/.installed
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK_TEST)
	touch $@

# Remake the lock from pyproject.toml: versions already locked stay while they still fit;
# `make lock UPGRADE=1` moves everything to the newest versions the ranges allow.
# uv resolves one lock for every platform and Python from 3.11 (markers kept); pip installs it.
$(BIN)/uv: | $(BIN)/python
	$(BIN)/pip install --quiet 'uv==$(UV_VERSION)'

lock: $(BIN)/uv
	$(BIN)/uv pip compile --quiet --universal --generate-hashes $(if $(UPGRADE),--upgrade) \
		--custom-compile-command 'make lock' \
		pyproject.toml requirements/build.in --extra test -o $(LOCK_TEST)
	$(BIN)/uv pip compile --quiet --universal --generate-hashes $(if $(UPGRADE),--upgrade) \
		--custom-compile-command 'make lock' \
		pyproject.toml requirements/build.in -c $(LOCK_TEST) -o $(LOCK)

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

migrate: install
	$(BIN)/flask db upgrade

demo: migrate
	$(BIN)/flask consult seed-demo

run: demo
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

# Start again from the demo: drop the default SQLite database, migrate, load the demo.
reset-demo: install
	@if [ -n "$$DATABASE_URL" ] && [ "$$DATABASE_URL" != "sqlite:///$(CURDIR)/$(DEMO_DATABASE)" ]; then \
		echo "reset-demo only resets the demo's SQLite database ($(DEMO_DATABASE))."; \
		echo "DATABASE_URL points at another database, which is left alone. Unset it to reset the demo."; \
		exit 1; \
	fi
	rm -f $(DEMO_DATABASE) $(DEMO_DATABASE)-wal $(DEMO_DATABASE)-shm
	$(BIN)/flask db upgrade
	$(BIN)/flask consult seed-demo

# wrk, for bench/throughput.py (Debian's package).
bench-tools:
	@if command -v wrk >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk; \
	else \
		echo "bench/throughput.py needs wrk. Install it with: sudo apt-get install -y wrk"; exit 1; \
	fi

# Debian's Chromium for the browser tests (Playwright cannot download a browser here).
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	else \
		echo "The browser tests need Debian's Chromium at /usr/bin/chromium."; \
		echo "Install it with: sudo apt-get install -y chromium"; exit 1; \
	fi

# Debian's nginx for the deployment tests (tests/deploy), which run deploy/nginx/consult.conf in
# an nginx process of their own: the system's nginx service is not used (where installing the
# package starts it, it serves Debian's default page on port 80 until you stop it).
nginx:
	@if [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx; \
	else \
		echo "The deployment tests need Debian's nginx."; \
		echo "Install it with: sudo apt-get install -y nginx"; exit 1; \
	fi

# pg_dump and pg_restore for the backup and restore tests, of the server's major version
# (PostgreSQL 15: Debian 12's postgresql-client is 15).
pg-client:
	@if command -v pg_dump >/dev/null && command -v pg_restore >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql-client; \
	else \
		echo "The PostgreSQL backup tests need pg_dump and pg_restore (PostgreSQL 15)."; \
		echo "Install them with: sudo apt-get install -y postgresql-client"; exit 1; \
	fi

# SQLite: every test, browser journeys included, spread over the cores by pytest-xdist
# (each worker has its own database, outbox folders and ports).
test-sqlite: install-test chromium nginx
	$(BIN)/python -m pytest -q -n auto

# PostgreSQL and Redis: the tests that depend on the database engine or Redis (marked
# `database`), the two app hosts behind nginx with browser pages among them; skips when they
# do not answer (and fails under CI=true). Spread over the cores too: each worker creates a
# database of its own and keeps its rate limits and live channels under names of its own.
test-postgres: install-test pg-client chromium nginx
	$(BIN)/python -m pytest -q -n auto --backend=postgres -m "database and not e2e"

test: test-sqlite test-postgres

# The README's screenshots, made from the demo (see tests/screenshots.py).
screenshots: install-test chromium
	$(BIN)/python -m tests.screenshots

# ruff (lint and format) over the repo, mypy over consult/, bandit (no high-severity finding
# in consult/) and the local source rules (.ci/source_rules.py: Markup, |safe, redirects).
lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/bandit -q -r consult --severity-level high
	$(BIN)/python .ci/source_rules.py

# Rebuild the vendored CSS and JavaScript from the pinned npm packages.
assets:
	cd static/src && npm ci && npm run build

clean:
	rm -rf $(VENV) .pytest_cache
