# Two commands matter: `make run` (one full cycle over feeds.yaml) and `make test`.
# Every target bootstraps .venv first from requirements + the committed constraints file.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_DB ?= sqlite:///data/demo.db

.PHONY: install run demo test lint bench audit celery-up celery-down celery-status bench-celery

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

run: install
	$(BIN)/escalation run

# The demo always starts from an empty demo warehouse so it shows the same story every time.
demo: install
	rm -f data/demo.db data/demo.db-wal data/demo.db-shm
	ESCALATION_DB_URL=$(DEMO_DB) $(BIN)/escalation run --feeds samples/demo_feeds.yaml --trigger demo

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

# Every benchmark of BENCHMARKS.md in one go (minutes, not a test). The scorer bench needs the
# labelled sentences; the warehouse bench uses PostgreSQL when BENCH_PG_URL is set.
CAMEO       ?= ../shared/data/cameo_dev.tsv
BENCH_PG_URL ?= $(ESCALATION_TEST_PG_URL)
bench: install
	$(BIN)/python bench/bench_scorer.py $(CAMEO)
	$(BIN)/python bench/bench_detectors.py
	$(BIN)/python bench/bench_ingest.py --stages --profile
	$(BIN)/python bench/bench_concurrency.py
	$(BIN)/python bench/bench_warehouse.py $(if $(BENCH_PG_URL),--postgresql $(BENCH_PG_URL))

# Known vulnerabilities in the installed, pinned dependency set (pip-audit queries PyPI's JSON API /
# OSV, so it needs internet access; on our registry-mirror-only machines it reports "not found").
audit: install
	$(BIN)/python -m pip install --quiet pip-audit
	$(BIN)/pip-audit --local --skip-editable

# CeleryExecutor on this machine without Docker (the compose `celery` profile's services, see
# deploy/celery-local): its own PostgreSQL databases and Redis database, free ports on 127.0.0.1.
# `make celery-down` stops exactly what celery-up started; CELERY_PURGE=1 also drops its databases.
CELERY_WORKERS     ?= 2
CELERY_CONCURRENCY ?= 4
CELERY_STATE       ?= $(or $(TMPDIR),/tmp)/escalation-celery-local-$(shell id -u)
celery-up: install
	$(BIN)/python deploy/celery-local start --state-dir $(CELERY_STATE) --workers $(CELERY_WORKERS) --concurrency $(CELERY_CONCURRENCY) $(CELERY_ARGS)

celery-status:
	$(BIN)/python deploy/celery-local status --state-dir $(CELERY_STATE)

celery-down:
	$(BIN)/python deploy/celery-local stop --state-dir $(CELERY_STATE) $(if $(CELERY_PURGE),--purge)

# escalation_ingest over 200 slow local feeds on 1, 2 and 4 Celery workers (tens of minutes).
bench-celery: install
	$(BIN)/python bench/bench_celery.py
