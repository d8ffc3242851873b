# The two commands: `make run` and `make test`. Only Python (3.11) is needed to start.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install run test lint bench services chromium schema worker beat

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
	$(PY) -m pip install --quiet -e ".[test]" 2>&1 | grep -v "^WARNING: Location" || true
	$(PY) -c "import django, rest_framework, allauth, celery, playwright" # fail loudly if the install did
	touch $(STAMP)

install: $(STAMP)

# Local: SQLite, in-process background jobs, emails in var/emails/, simulated payments.
# `make run PORT=8001` serves another port; emails written outside a request (the
# in-process sweeps) link to it too (SITE_PORT).
PORT ?= 8000
run: install
	DJANGO_DEBUG=1 $(PY) manage.py migrate --noinput
	DJANGO_DEBUG=1 $(PY) manage.py seed_demo
	DJANGO_DEBUG=1 USDOCTORS_INPROCESS_BEAT=1 SITE_PORT=$(PORT) $(PY) manage.py runserver [::]:$(PORT)

# Full suite against real PostgreSQL, Redis and headless Chromium on localhost.
test: install services chromium
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports --no-cache
	DJANGO_DEBUG=1 $(PY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null
	$(PY) -m pytest -m "not benchmark" -n auto --dist loadfile

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

bench: install services
	$(PY) scripts/bench.py
	$(PY) -m pytest tests/benchmarks -m benchmark --benchmark-only -q

services:
	@bash scripts/ensure_services.sh

chromium:
	@bash scripts/ensure_chromium.sh

# Full stack by hand (see README): a worker and beat against Redis.
worker: install
	$(VENV)/bin/celery -A usdoctors worker -l info

beat: install
	$(VENV)/bin/celery -A usdoctors beat -l info
