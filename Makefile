# kape-itops — run `make help` for the list of targets.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DB ?= itops.db

.DEFAULT_GOAL := help
.PHONY: help venv sysdeps demo test lint typecheck unit functional bench clean

help: ## Show this help
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*?## "}{printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP) ## Create .venv and install the package with its dev tools

sysdeps: ## Install the system packages the tests need (Debian, as root)
	@bash tools/sysdeps.sh

demo: venv snmpsim ## Set up and run the main job on built-in defaults (SQLite, sample data, simulated school), then the two-tier flow (TWO_TIER=0 skips it)
	@bash tools/demo.sh

lint: venv ## ruff and mypy --strict
	$(BIN)/ruff check kape_itops tests benchmarks tools
	$(BIN)/mypy --strict kape_itops

unit: venv ## Unit tests only (no sockets, no root)
	$(BIN)/pytest -q tests/unit

test: venv snmpsim sysdeps lint ## Set up and run the whole test suite (lint, unit, functional with real peers)
	$(BIN)/pytest -q

bench: venv sysdeps ## Run the benchmarks (prints ratios against the standard tools)
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

snmpsim: ## Separate venv .venv-snmpsim with snmpsim 1.2.2 (SNMP agent simulator: tests, bench, lab)
	@test -x .venv-snmpsim/bin/snmpsim-command-responder || { $(PY) -m venv .venv-snmpsim && .venv-snmpsim/bin/pip install -q snmpsim==1.2.2 pysmi==2.0.0; }

clean: ## Remove the venv, caches and the demo database
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache $(DB) $(DB)-wal $(DB)-shm
