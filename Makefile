# Two commands on a fresh machine: `make run` and `make test` (README.md).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORTAL_PORT := $(PORT)

.PHONY: run test bench sysdeps sysdeps-test deps deps-dev messages makemessages lock lint prod-check clean backup restore

# manage.py, portal/wsgi.py and the Celery app default to production settings
# (docs/configuration.md, "Settings modules"); what make starts names its own.
# Benchmarks set theirs for every process they start.
run bench messages makemessages: export DJANGO_SETTINGS_MODULE := portal.settings.dev
test: export DJANGO_SETTINGS_MODULE := portal.settings.test

run: sysdeps deps messages
	@$(PY) -c "import socket; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', $(PORT)))" 2>/dev/null \
		|| { echo "Port $(PORT) is in use: stop what uses it, or run: make run PORT=8001"; exit 1; }
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	$(PY) manage.py ensure_admin
	@echo ""
	@echo "Portal: http://127.0.0.1:$(PORT)/   admin: http://127.0.0.1:$(PORT)/admin/"
	@echo "The administrator's first password is in var/admin-password.txt (yours only)."
	@echo "Web server, Celery worker and beat are starting; Ctrl-C stops all three."
	@echo ""
	exec $(VENV)/bin/honcho -f Procfile.dev start

test: sysdeps-test deps-dev messages
	$(PY) -m pytest $(PYTEST_ARGS)

bench: sysdeps deps-dev messages
	$(PY) -m benchmarks.run
	$(PY) -m benchmarks.load
	$(PY) -m benchmarks.certificates
	$(PY) -m benchmarks.talentpool
	$(PY) -m benchmarks.announcements
	$(PY) -m benchmarks.events
	$(PY) -m benchmarks.email_delivery
	$(PY) -m benchmarks.request_cost
	$(PY) -m benchmarks.locust_run

sysdeps:
	@bash scripts/system-deps.sh run

sysdeps-test:
	@bash scripts/system-deps.sh test

$(PY):
	@$(PYTHON) -m venv $(VENV) || { echo "Could not create a virtual environment: install python3.11-venv (sudo apt-get install python3.11-venv)"; exit 1; }
	@$(PY) -m pip install -q --upgrade pip

$(VENV)/.deps: requirements.lock | $(PY)
	$(PY) -m pip install -q --require-hashes -r requirements.lock
	@touch $@

$(VENV)/.deps-dev: requirements-dev.lock | $(PY)
	$(PY) -m pip install -q --require-hashes -r requirements-dev.lock
	@touch $@ $(VENV)/.deps

deps: $(VENV)/.deps
deps-dev: $(VENV)/.deps-dev

# Compiled catalogues are build output: the .po files are checked in.
messages: deps
	@$(PY) manage.py compilemessages -v 0 --ignore=.venv --ignore=var

makemessages: deps
	$(PY) manage.py makemessages -l zh_Hans -l en --no-obsolete --ignore=.venv --ignore=var

lock:
	uv pip compile pyproject.toml --generate-hashes --python-version 3.11 -q -o requirements.lock
	uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -q -o requirements-dev.lock

lint: deps-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-logo

# Production settings as a deployment runs them (scripts/prod-check.sh):
# check --deploy at warning level, no missing migration, collectstatic.
prod-check: deps messages
	bash scripts/prod-check.sh

clean:
	rm -rf var .pytest_cache

# Backups (docs/backups.md): the database and the media files in one archive.
# Settings from the environment when DJANGO_SETTINGS_MODULE is set (production),
# else the embedded default's (portal.settings.dev, as `make run`).
backup restore: export DJANGO_SETTINGS_MODULE ?= portal.settings.dev

backup:
	$(PY) manage.py backup --output var/backups

# YES=1 replaces a database or media folder that is not empty.
restore:
	@test -n "$(ARCHIVE)" || { echo "Name the archive: make restore ARCHIVE=var/backups/portal-backup-YYYYMMDD-HHMMSS.tar [YES=1]"; exit 1; }
	$(PY) manage.py restore "$(ARCHIVE)" $(if $(YES),--yes)
