# csp developer commands. `make run` serves the app with demo data; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIND ?= 127.0.0.1:8000

.PHONY: install lock run test lint format worker beat clean

# Exact versions with their hashes from requirements-dev.lock (pyproject.toml keeps the ranges), then the project.
$(VENV)/.installed: pyproject.toml requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed

# Refresh the locks from pyproject.toml's ranges (newest allowed versions); commit both files.
# `make lock LOCK_ARGS=--upgrade-package=django` moves one package only.
LOCK_ARGS ?= --upgrade
COMPILE := $(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
	--no-emit-find-links $(LOCK_ARGS)
lock: $(VENV)/.installed
	CUSTOM_COMPILE_COMMAND="make lock" $(COMPILE) --output-file requirements.lock pyproject.toml
	CUSTOM_COMPILE_COMMAND="make lock" $(COMPILE) --extra dev --output-file requirements-dev.lock pyproject.toml

# Embedded defaults unless DATABASE_URL / REDIS_URL are set: SQLite, and a Celery worker + beat started beside
# the web server on an embedded (filesystem) broker, see csp/embedded.py.
run: install
	DEBUG=$${DEBUG:-true} $(PY) manage.py run_demo --bind $(BIND)

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache  # the layer contract in .importlinter (docs/architecture.md)

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Workers by queue (CELERY_TASK_ROUTES in csp/settings.py): `ingest` and `default` in one worker, `long` (history
# recomputes, imports) in its own, so a long task never holds up event -> CTA. Ctrl-C stops both.
WORKER_CONCURRENCY ?= 2
LONG_CONCURRENCY ?= 1
CELERY := $(VENV)/bin/celery -A csp
worker: install
	@test -n "$$REDIS_URL" || { echo "make worker needs REDIS_URL (e.g. redis://127.0.0.1:6379/0)"; exit 1; }
	trap 'kill 0' INT TERM; \
	$(CELERY) worker -l info -Q ingest,default -n main@%h -c $(WORKER_CONCURRENCY) & \
	$(CELERY) worker -l info -Q long -n long@%h -c $(LONG_CONCURRENCY) & \
	wait

beat: install
	$(CELERY) beat -l info

clean:
	rm -rf $(VENV) node_modules db.sqlite3 db.sqlite3-wal db.sqlite3-shm staticfiles .embedded-broker
