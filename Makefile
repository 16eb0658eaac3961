# csp developer commands. `make run` serves the app with demo data; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIND ?= 127.0.0.1:8000

.PHONY: install run test lint format worker beat clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed

# Embedded defaults: SQLite and in-process Celery tasks unless DATABASE_URL / REDIS_URL are set.
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

worker: install
	$(VENV)/bin/celery -A csp worker -l info

beat: install
	$(VENV)/bin/celery -A csp beat -l info

clean:
	rm -rf $(VENV) node_modules db.sqlite3 staticfiles
