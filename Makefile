# Two commands on a brand-new machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONFIG ?= config/default.yaml

.PHONY: run test lint install bench bench-full fuzz clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml summitcol/pdata/_otlp.c | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed-test
	$(BIN)/pip install -q -e '.[test,bench]'
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

# ~2 minutes: the transport ceiling, then S1 (traces) and S3 (logs) ramped to their limit.
bench: $(VENV)/.installed-bench
	$(BIN)/python -m perf.scenarios.run --scenarios s1,s3 --step 5 --start-rate 20000 --growth 1.4 --ceiling-limit 400000

# Everything: micro-benchmarks, S1–S6 ramped to their limit, then S1 and S2 soaked at the
# platform bar (16,700 spans/s, 10 minutes each). About 45 minutes.
bench-full: $(VENV)/.installed-bench
	$(BIN)/python perf/decode_bench.py --seconds 4
	$(BIN)/python perf/redaction_bench.py --seconds 4
	$(BIN)/python perf/storage_bench.py --rows 128000
	$(BIN)/python perf/workers_bench.py --seconds 4
	$(BIN)/python perf/queue_bench.py
	$(BIN)/python perf/sampling_bench.py
	$(BIN)/python -m perf.scenarios.run --scenarios s1,s2,s3,s4,s5,s6 --step 8 --start-rate 10000 --growth 1.2
	$(BIN)/python -m perf.scenarios.run --scenarios s1,s2 --mode soak --rate 16700 --duration 600 --no-ceiling

clean:
	rm -rf $(VENV) data
