# Two commands on a fresh machine with Python >= 3.10 and make:
#   make demo   runs the sample DAGs against the built-in emulator
#   make test   runs the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Two installs: the demo needs the provider and its emulator only; tests and lint add their tools.
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.installed-demo
DEMO_DIR ?= .demo

.PHONY: install demo test test-unit lint format bench bench-token-cache clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Everything: the provider with the emulator, test and lint extras.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[emulator,test,lint]"
	touch $(STAMP)

# What `make demo` needs: the provider and the emulator extra (a full install has them too).
$(DEMO_STAMP): pyproject.toml | $(BIN)/python
	[ $(STAMP) -nt pyproject.toml ] || $(BIN)/python -m pip install --quiet -e ".[emulator]"
	touch $(DEMO_STAMP)

install: $(STAMP)

demo: $(DEMO_STAMP)
	$(BIN)/python scripts/demo.py --demo-dir $(DEMO_DIR)

test: $(STAMP)
	$(BIN)/python -m pytest

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python bench/run.py

bench-token-cache: $(STAMP)
	$(BIN)/python bench/run.py --token-cache

clean:
	rm -rf $(VENV) .demo .pytest_cache
