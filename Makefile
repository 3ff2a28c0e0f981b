# Two commands matter: `make run` (one full cycle over feeds.yaml) and `make test`.
# Every target bootstraps .venv first from requirements + the committed constraints file.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_DB ?= sqlite:///data/demo.db

.PHONY: install run demo test lint

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
