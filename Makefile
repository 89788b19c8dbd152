# Two commands on a brand-new machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONFIG ?= config/default.yaml
# The suite runs in two pytest-xdist processes: its tests mostly wait on collectors they start,
# and two halve its time on 2 cores (969 tests: 10 min 10 s in one, 4 min 54 s in two). Tests
# that bound the collector's memory under load (marker `serial`) run after, alone: beside another
# test one peaked at 3.4 GiB against its 1.5 GiB bound.
TEST_WORKERS ?= 2

.PHONY: run test lint install proto proto-baseline bench bench-full fuzz mutation clean

# Each step prints one line first: the first run downloads ~40 packages and compiles the C
# decoder (about a minute), and pip -q is otherwise silent for that long.
$(BIN)/python:
	@echo "==> creating the virtualenv in $(VENV)"
	$(PYTHON) -m venv $(VENV)
	@echo "==> upgrading pip"
	$(BIN)/pip install -q --upgrade pip

# The C decoder is optional to pip (setup.py): without a compiler the install succeeds quietly and
# Summit runs the pure-Python decoder, ~8x slower. `make run` says so and goes on; `make test`
# (and CI) fail, since the C decoder's tests would skip and every end-to-end test would run the
# fallback instead of the code users run.
C_DECODER_CHECK = $(BIN)/python -c 'import summitcol.pdata._otlp' 2>/dev/null
C_DECODER_MISSING = the C decoder (summitcol/pdata/_otlp.c) did not build: install a C compiler and the Python \
headers (Debian/Ubuntu: apt-get install gcc python3-dev; Fedora: dnf install gcc python3-devel), then run \
$(BIN)/pip install -e . (the build log shows with -v)

$(VENV)/.installed: pyproject.toml setup.py summitcol/pdata/_otlp.c | $(BIN)/python
	@echo "==> installing summitcol and its dependencies, building the C decoder (first run: about a minute)"
	$(BIN)/pip install -q -e .
	@$(C_DECODER_CHECK) && echo "==> installed; C decoder built" \
		|| echo "warning: $(C_DECODER_MISSING); running with the Python decoder meanwhile" >&2
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	@echo "==> installing the test dependencies"
	$(BIN)/pip install -q -e '.[test]'
	@touch $@

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed-test
	@echo "==> installing the benchmark dependencies"
	$(BIN)/pip install -q -e '.[test,bench]'
	@touch $@

$(VENV)/.installed-mutation: pyproject.toml $(VENV)/.installed-test
	@echo "==> installing the mutation-testing dependencies"
	$(BIN)/pip install -q -e '.[test,mutation]'
	@touch $@

# The JavaScript tools the tests drive (jest and jest-junit, for real JUnit reports; the Sentry Node
# and browser SDKs, esbuild to bundle the browser one, puppeteer-core to drive Debian's chromium),
# pinned by tests/js/package-lock.json. Needs node and npm (Debian: apt-get install nodejs npm)
# and, for the browser test, chromium.
JS_TOOLS := tests/js/node_modules/.installed
$(JS_TOOLS): tests/js/package.json tests/js/package-lock.json
	@command -v npm >/dev/null || { echo "error: the tests need node and npm (Debian/Ubuntu: apt-get install nodejs npm)" >&2; exit 1; }
	@echo "==> installing the JavaScript test tools (npm ci --prefix tests/js)"
	npm ci --prefix tests/js --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

# The Maven project whose real Surefire report the tests parse, built once online here so ~/.m2
# holds its plugins; the tests build it again with `mvn -o`. Needs Maven and a JDK 17
# (Debian: apt-get install maven openjdk-17-jdk-headless).
JAVA_TOOLS := tests/java/surefire/target/.resolved
$(JAVA_TOOLS): tests/java/surefire/pom.xml
	@command -v mvn >/dev/null || { echo "error: the tests need Maven and a JDK (Debian/Ubuntu: apt-get install maven openjdk-17-jdk-headless)" >&2; exit 1; }
	@echo "==> fetching the Maven plugins of the Surefire test project (mvn -f tests/java/surefire/pom.xml test)"
	mvn -B -q -f tests/java/surefire/pom.xml test >/dev/null
	@touch $@

install: $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/summitcol --config $(CONFIG)

test: $(VENV)/.installed-test $(JS_TOOLS) $(JAVA_TOOLS)
	@$(C_DECODER_CHECK) || { echo "error: $(C_DECODER_MISSING)" >&2; exit 1; }
	$(BIN)/ruff check summitcol tests perf
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) -m "not serial" --durations=15 $(PYTEST_ARGS) || [ $$? -eq 5 ]
	$(BIN)/python -m pytest -q -m serial $(PYTEST_ARGS) || [ $$? -eq 5 ]

lint: $(VENV)/.installed-test
	$(BIN)/ruff check summitcol tests perf

# Regenerate summitcol/cicd/model/ from proto/summit/build/v1/*.proto (grpcio-tools, in the test
# extra); commit the result with the .proto change. tests/cicd/test_codegen.py fails until you do.
proto: $(VENV)/.installed-test
	$(BIN)/python tools/protogen.py

# Accept the current schemas as the new compatibility baseline (proto/summit/build/v1/baseline.txtpb).
# Refused while the check finds a breaking change; ALLOW_BREAKING=1 accepts one deliberately.
proto-baseline: $(VENV)/.installed-test
	$(BIN)/python -m summitcol.cicd.schema_compat --write-baseline $(if $(ALLOW_BREAKING),--allow-breaking)

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

# Mutation testing of the delivery-critical modules ([tool.mutmut] in pyproject.toml); not part of
# `make test`: ~4,300 mutants, from 0.1 to 5 a second per child (hanging mutants wait for the
# timeout; the README lists times per module). Results persist in mutants/, so a
# second run only tests mutants without a verdict (new or changed code); after adding tests, rerun
# a module (MUTANTS='summitcol.processors.batch*') or the survivors by name (MUTANTS='name …').
# MUTATION_CHILDREN sets the parallelism.
MUTATION_CHILDREN ?= 2
mutation: $(VENV)/.installed-mutation
	$(BIN)/mutmut run --max-children $(MUTATION_CHILDREN) $(MUTANTS)
	$(BIN)/python -m tests.mutation_summary

clean:
	rm -rf $(VENV) data mutants
