# Lixiao: `make demo` serves the demo university; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
DATABASE_URL_PG ?= postgres://postgres@127.0.0.1:5432/test
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: demo dev serve install install-dev migrate seed test test-sqlite test-postgres test-cluster lint format bench bench-http bench-login bench-day clean

$(VENV)/bin/activate:
	$(PYTHON) -c 'import sys; sys.exit("Lixiao needs Python >= 3.11" if sys.version_info < (3, 11) else 0)'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/activate
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	@mkdir -p var
	$(PY) manage.py migrate --no-input -v0

seed: migrate
	$(PY) manage.py seed_demo

# The demo serves as production does (DEBUG off, hashed static files through whitenoise, gunicorn
# from deploy/gunicorn.conf.py, the task worker without the autoreloader), on SQLite and one node.
DEMO_ENV := DEBUG=0 LIXIAO_STATIC_MANIFEST=1 LIXIAO_BIND=127.0.0.1:$(PORT)

demo: seed
	@$(DEMO_ENV) $(PY) manage.py collectstatic --no-input -v0
	@echo "Lixiao 离校 demo: http://127.0.0.1:$(PORT)/  (accounts in README.md)"
	$(DEMO_ENV) $(PY) manage.py task_worker --queue-name default --no-reload >var/worker.log 2>&1 & \
	  WORKER=$$!; trap "kill $$WORKER 2>/dev/null" EXIT INT TERM; \
	  $(DEMO_ENV) $(VENV)/bin/gunicorn -c deploy/gunicorn.conf.py

# Development: Django's server with DEBUG on and the autoreloader (code changes apply at once).
dev: seed
	@echo "Lixiao 离校 development server: http://127.0.0.1:$(PORT)/  (DEBUG on)"
	DEBUG=1 $(PY) manage.py task_worker --queue-name default --reload >var/worker.log 2>&1 & \
	  WORKER=$$!; trap "kill $$WORKER 2>/dev/null" EXIT INT TERM; \
	  DEBUG=1 $(PY) manage.py runserver 127.0.0.1:$(PORT)

# The database as it is (migrated, nothing loaded): the task worker and gunicorn, as `demo` serves.
serve: migrate
	@echo "Lixiao 离校: http://127.0.0.1:$(PORT)/"
	@$(DEMO_ENV) $(PY) manage.py collectstatic --no-input -v0
	$(DEMO_ENV) $(PY) manage.py task_worker --queue-name default --no-reload >var/worker.log 2>&1 & \
	  WORKER=$$!; trap "kill $$WORKER 2>/dev/null" EXIT INT TERM; \
	  $(DEMO_ENV) $(VENV)/bin/gunicorn -c deploy/gunicorn.conf.py

test: install-dev
	@bash scripts/test.sh

# One database only, e.g. `make test-sqlite PYTEST_ARGS=tests/tabular`: every test on SQLite; or the
# non-browser tests on PostgreSQL at DATABASE_URL_PG (an unreachable server fails, never skips).
test-sqlite: install-dev
	@LIXIAO_TEST_DATABASES=sqlite bash scripts/test.sh $(PYTEST_ARGS)

test-postgres: install-dev
	@LIXIAO_TEST_DATABASES=postgres bash scripts/test.sh $(PYTEST_ARGS)

# The production shape on this machine (tests/cluster/): nginx (Debian's) in front of two gunicorn
# nodes with their task workers, on PostgreSQL (a database created and dropped on DATABASE_URL_PG's
# server) and Redis (LIXIAO_CLUSTER_REDIS, default redis://127.0.0.1:6379/0, keys under a prefix).
test-cluster: install-dev
	LIXIAO_TEST_CLUSTER=1 DATABASE_URL_PG=$(DATABASE_URL_PG) env -u DATABASE_URL $(PY) -m pytest tests/cluster $(PYTEST_ARGS)

# Style, layers (import-linter contracts in pyproject.toml) and migrations in step with the models.
lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	env -u DATABASE_URL LIXIAO_VAR_DIR="$$(mktemp -d)" $(PY) manage.py makemigrations --check --dry-run -v1

format: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Every benchmark in turn (each seeds its own fresh databases); BENCH_ARGS="--students 5000"
# makes a quick pass. Timings are medians and ratios, never test assertions.
BENCH_SCRIPTS ?= run desk portal console integrations backup archive appointments
bench: install-dev
	@for script in $(BENCH_SCRIPTS); do \
	  echo "== bench/$$script.py"; $(PY) bench/$$script.py $(BENCH_ARGS) || exit 1; \
	done

bench-http: install-dev
	$(PY) bench/http_load.py $(BENCH_ARGS)

# Graduation day under load (Locust): 30,000 students, the demo's shape (SQLite, one node) and the
# cluster's (PostgreSQL + Redis, two nodes behind nginx); bench/day.py --help. Several minutes.
bench-day: install-dev
	DATABASE_URL_PG=$(DATABASE_URL_PG) $(PY) bench/day.py $(BENCH_ARGS)

# Logins per second through gunicorn (Locust, 16 concurrent): bench/login_storm.py --help.
bench-login: install-dev
	$(PY) bench/login_storm.py $(BENCH_ARGS)

clean:
	rm -rf var artifacts
