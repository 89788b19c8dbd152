# Two commands on a brand-new machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONFIG ?= config/default.yaml

.PHONY: run test lint install bench fuzz clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml summitcol/pdata/_otlp.c | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/summitcol --config $(CONFIG)

test: $(VENV)/.installed-test
	$(BIN)/ruff check summitcol tests perf
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check summitcol tests perf

fuzz: $(VENV)/.installed-test
	SUMMIT_FUZZ_EXAMPLES=20000 $(BIN)/python -m pytest -q tests/receiver/otlp/test_fuzz.py

bench: $(VENV)/.installed-test
	$(BIN)/python perf/decode_bench.py
	$(BIN)/python perf/storage_bench.py

clean:
	rm -rf $(VENV) data
