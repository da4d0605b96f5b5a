# pytest-iterbench: `make run` and `make test` set everything up themselves.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup run test test-serial lint bench clean

setup: $(STAMP)

# torch==2.13.0 first: it is the CPU build on this machine's disk; any other
# torch requirement resolved with no torch installed pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[torch,llm,notebook,dev]'
	touch $(STAMP)

## Run the example workspace's benchmark end to end: results.json + reports/.
## `metrics` names the example's metric tests: the ini's testpaths are the project's own tests.
run: $(STAMP)
	$(BIN)/pytest --iterbench run-002 -n auto --iterbench-plots metrics

## Lint, then the project's own tests on two workers, slow end-to-end checks included.
test: lint
	$(BIN)/pytest -n 2 -q

test-serial: $(STAMP)
	$(BIN)/pytest -q

LINTED := pytest_iterbench tests benchmarks iterations metrics conftest.py

lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_item_overhead.py
	$(BIN)/python benchmarks/bench_isolation.py
	$(BIN)/python benchmarks/bench_timing_agreement.py
	$(BIN)/python benchmarks/bench_xdist_timing.py
	$(BIN)/python benchmarks/bench_xdist_speedup.py
	$(BIN)/python benchmarks/bench_report.py --sizes 100000 1000000
	$(BIN)/python benchmarks/bench_notebooks.py

clean:
	rm -rf $(VENV) .tox .iterbench .pytest_cache
