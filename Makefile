# framework-bench. Every target sets itself up: only python3 (3.11+) and make are needed.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
# uv must use the machine's python3, never download an interpreter.
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

APP ?= fastapi
SCENARIO ?= mixed
REF ?= HEAD~1
ARGS ?=

.PHONY: help setup test lint serve ui bench bench-quick bench-latency bench-versions report check baseline clean

help: ## list the targets
	@echo "framework-bench: FastAPI, Flask or Django, measured."
	@echo
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'
	@echo
	@echo "Variables: APP=fastapi|flask|django  SCENARIO=<name>  REF=<git revision>  ARGS='extra options'"

$(UV):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "python3 3.11 or newer is needed")'
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

setup: $(VENV)/.synced ## create .venv with the locked dependencies

test: setup ## run the whole test suite (contract suite on SQLite and PostgreSQL included)
	$(PY) -m pytest -p tests.contract.recorder $(ARGS)

lint: setup ## ruff, ruff format --check, mypy on bench/, lint-imports, zizmor on the example CI workflow
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(VENV)/bin/zizmor --offline --quiet docs/ci/github-workflow.yml

serve: setup ## serve one app in the foreground: make serve APP=flask ARGS='--db postgres'
	$(PY) -m bench serve --app $(APP) $(ARGS)

ui: setup ## Locust's web UI against one app: make ui APP=django SCENARIO=api
	$(PY) -m bench ui --app $(APP) --scenario $(SCENARIO) $(ARGS)

bench: setup ## the default profile on every app, then the HTML report
	$(PY) -m bench run --profile default $(ARGS)
	$(PY) -m bench report

bench-quick: setup ## the quick profile (a few minutes), then the report
	$(PY) -m bench run --profile quick $(ARGS)
	$(PY) -m bench report

bench-latency: setup ## open-loop rate sweeps and the wrk yardstick (under 15 minutes), then the report
	$(PY) -m bench run --profile latency $(ARGS)
	$(PY) -m bench report

bench-versions: setup ## each framework across releases and Pythons (uv builds the environments), then the report
	$(PY) -m bench run --profile versions $(ARGS)
	$(PY) -m bench report

report: setup ## rebuild the report of a saved run: make report ARGS=reports/<run-id>
	$(PY) -m bench report $(ARGS)

check: setup ## CI regression gate: this tree against REF (default HEAD~1), instructions per request (valgrind) or wall-clock pairs
	$(PY) -m bench check --ab $(REF) $(ARGS)

baseline: setup ## save the latest run as the regression baseline
	$(PY) -m bench baseline save $(ARGS)

clean: ## remove .venv, caches and generated reports
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache .hypothesis .import_linter_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find reports -mindepth 1 -not -name .gitkeep -exec rm -rf {} + 2>/dev/null || true
