# The two commands of the README: `make run` and `make test`. Everything they need is
# installed from pyproject.toml into .venv; nothing is installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# django-stubs imports the settings, which refuse to load without a secret.
MYPY := SECRET_KEY=mypy-type-checks-only-never-serves-requests $(BIN)/mypy
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint typecheck check clean-data

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,spark]'
	touch $(STAMP)

# Demo mode: a generated secret kept in data/, cookies usable over plain http on loopback.
# The worker (e-mail, reminders) runs beside the server; Ctrl-C stops both (a
# background job of a non-interactive shell ignores SIGINT, hence the trap).
run: $(STAMP)
	LIMBGUARD_DEMO=1 $(BIN)/limbguard migrate --no-input
	LIMBGUARD_DEMO=1 $(BIN)/limbguard demo
	LIMBGUARD_DEMO=1 $(BIN)/limbguard worker --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	LIMBGUARD_DEMO=1 $(BIN)/limbguard serve --bind $(HOST):$(PORT) --access-log

test: $(STAMP)
	$(BIN)/pytest --cov --cov-report=term:skip-covered --cov-report=xml:artifacts/coverage.xml
	$(BIN)/coverage report --include='src/limbguard/vascular/*' --fail-under=95
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MYPY)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(MYPY)
