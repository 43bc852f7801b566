# Every target creates .venv from pyproject.toml when it is missing or older than pyproject.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EVP := $(BIN)/evp
PACKAGES := shared/evp codegen/evp_codegen services/shop

.PHONY: install test lint typecheck unit demo chaos bench codegen gate up clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(EVP) schemas lint

typecheck: $(STAMP)
	$(BIN)/mypy $(PACKAGES) tests/typing

unit: $(STAMP)
	$(BIN)/pytest -q

test: $(STAMP)
	$(MAKE) --no-print-directory lint
	$(EVP) codegen --check
	$(MAKE) --no-print-directory typecheck
	$(MAKE) --no-print-directory unit

codegen: $(STAMP)
	$(EVP) codegen

# The schema compatibility gate: against the previous commit and against a live registry.
gate: $(STAMP)
	.ci/gate

demo: $(STAMP)
	$(EVP) demo

# 500 orders while every process is SIGKILLed three times and one is paused (README, `evp chaos`).
chaos: $(STAMP)
	$(EVP) chaos --pause --faults 21

bench: $(STAMP)
	$(BIN)/python -m evp.bench

# The whole platform as supervised processes until Ctrl-C (see README, `evp up`).
up: $(STAMP)
	$(EVP) up

clean:
	rm -rf $(VENV) .evp .mypy_cache .ruff_cache .hypothesis
