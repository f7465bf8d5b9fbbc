# Everyday commands. Each target sets up what it needs on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_PY := $(VENV)/.installed
STAMP_JS := node_modules/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
# Test processes side by side (pytest-xdist); each gets its own test database.
TEST_WORKERS ?= 2

# The load test's size: concurrent simulated users and seconds (loadtest/run.py).
LOADTEST_USERS ?= 50
LOADTEST_SECONDS ?= 60

.PHONY: setup run test bench lint format serve loadtest demo-code clean

# Debug mode is for development only: production (no DJANGO_DEBUG) is the settings' default.
run test bench lint demo-code: export DJANGO_DEBUG ?= true
serve: export DJANGO_DEBUG := false

setup: $(STAMP_PY) $(STAMP_JS)

$(STAMP_PY): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(STAMP_JS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

run: setup
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo "Serving the demo clinic at http://$(HOST):$(PORT)/ with the task worker beside it"
	$(BIN)/python manage.py run_huey --quiet & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: setup
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

bench: setup
	$(BIN)/python -m bench

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Production: static files collected, the database migrated, the task worker beside gunicorn (gunicorn.conf.py:
# WEB_CONCURRENCY workers, WEB_THREADS threads each). Behind a proxy that terminates TLS; see the README.
serve: setup
	@test -n "$$DJANGO_SECRET_KEY" || { echo "make serve runs with debug off and needs DJANGO_SECRET_KEY (50 or more characters; make one with: $(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))') and DJANGO_ALLOWED_HOSTS (the site's host names, comma-separated). See the README's Production section." >&2; exit 2; }
	@test -n "$$DJANGO_ALLOWED_HOSTS" || { echo "make serve needs DJANGO_ALLOWED_HOSTS: the host names the site answers to, comma-separated (e.g. book.example.com). See the README's Production section." >&2; exit 2; }
	$(BIN)/python manage.py check --deploy --fail-level ERROR
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py migrate --noinput
	@echo "Serving on http://$(HOST):$(PORT)/ with gunicorn and the task worker (debug off)"
	$(BIN)/python manage.py run_huey --quiet & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn clinic.wsgi --bind $(HOST):$(PORT)

# Locust against `make serve` on a throwaway PostgreSQL database, then the report (loadtest/run.py).
loadtest: setup
	$(BIN)/python loadtest/run.py --users $(LOADTEST_USERS) --seconds $(LOADTEST_SECONDS)

# The demo manager's current two-factor code (the demo clinic of `make run` only).
demo-code: setup
	@$(BIN)/python manage.py demo_code

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) node_modules staticfiles test-output db.sqlite3 task-queue.sqlite3* sent-mail sent-texts
