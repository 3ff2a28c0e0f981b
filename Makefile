# Two commands matter: `make run` (one full cycle over feeds.yaml) and `make test`.
# Every target bootstraps .venv first from requirements + the committed constraints file.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_FILE ?= data/demo.db
DEMO_DB ?= sqlite:///$(DEMO_FILE)
DEMO_PAGES_PORT ?= 8765

.PHONY: install run demo test lint bench audit celery-up celery-down celery-status bench-celery

install: $(STAMP)

# setup.py compiles score.py and matching.py (mypyc) and stores the packaged lexicon's parse: an edit of
# any of them builds again.
$(STAMP): requirements.txt requirements-dev.txt constraints.txt pyproject.toml setup.py pipeline/score.py pipeline/matching.py \
		pipeline/data/lexicon.yaml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m pip check  # --no-deps above: fail here if pyproject declares what the requirements lack
	touch $(STAMP)

run: install
	$(BIN)/escalation run

# The demo always starts from an empty demo warehouse so it shows the same story every time.
# samples/pages/ is served on 127.0.0.1:$(DEMO_PAGES_PORT) for the run (the teaser-only demo item links
# there; samples/make_demo_feeds.py PAGES_ORIGIN), and loopback is allowed for article pages.
demo: install
	rm -f $(DEMO_FILE) $(DEMO_FILE)-wal $(DEMO_FILE)-shm
	$(BIN)/python -m http.server $(DEMO_PAGES_PORT) --bind 127.0.0.1 --directory samples/pages >/dev/null 2>&1 & \
	server=$$!; trap 'kill $$server' EXIT; \
	for i in $$(seq 50); do $(BIN)/python -c "import socket; socket.create_connection(('127.0.0.1', $(DEMO_PAGES_PORT)), 1)" \
	  2>/dev/null && break; sleep 0.1; done; \
	ESCALATION_ARTICLE_ALLOWED_NETWORKS=127.0.0.0/8 \
	  $(BIN)/python -m pipeline.cli --db $(DEMO_DB) run --feeds samples/demo_feeds.yaml --trigger demo
	@# A way on: the commands to try next, with the demo's own days (its data is not "the last 30 days").
	@span=$$($(BIN)/python -m pipeline.cli --db $(DEMO_DB) query data_range --format csv | sed -n 2p); \
	first=$$(echo "$$span" | cut -d, -f1); last=$$(echo "$$span" | cut -d, -f2); \
	week=$$($(BIN)/python -c "import datetime as d, sys; print(d.date.fromisoformat(sys.argv[1]) - d.timedelta(6))" $$last); \
	esc="$(BIN)/escalation --db $(DEMO_DB)"; \
	echo; echo "Now try (the demo's articles are from $$first to $$last):"; \
	echo "  $$esc alerts --since $$first --until $$last"; \
	echo "  $$esc query top_escalating_actors -p since=$$week -p until=$$last"; \
	echo "  $$esc report --since $$first --until $$last --out report.html"; \
	echo "  $$esc score \"Militias fired rockets at the base and vowed more attacks.\""

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

# Every benchmark of BENCHMARKS.md in one go (minutes, not a test). The scorer bench needs the
# labelled sentences; the warehouse bench uses PostgreSQL when BENCH_PG_URL is set.
CAMEO       ?= ../shared/data/cameo_dev.tsv
NEWS        ?= ../shared/data/world_news_2021_2022.jsonl.gz
EXTRACTION_DEV ?= ../shared/data/extraction_dev
BENCH_PG_URL ?= $(ESCALATION_TEST_PG_URL)
bench: install
	$(BIN)/python bench/bench_scorer.py $(CAMEO)
	$(BIN)/python bench/bench_score_process.py $(NEWS)
	$(BIN)/python bench/bench_extract.py $(EXTRACTION_DEV) --validate
	$(BIN)/python bench/bench_detectors.py
	$(BIN)/python bench/bench_ingest.py --stages --profile
	$(BIN)/python bench/bench_concurrency.py
	$(BIN)/python bench/bench_pages.py $(if $(wildcard pipeline/extract.py),--extract)
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
