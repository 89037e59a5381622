# Two commands on a fresh machine with Python >= 3.10 and make:
#   make demo   runs the sample DAGs against the built-in emulator
#   make test   runs the test suite
# Next: make stack (a real deployment: PostgreSQL, scheduler, UI; EXECUTOR=celery for
# Celery workers), make stack-down; make e2e drives it; make test-floor runs the tests on
# the lowest supported Airflow, make test-msal-floor the certificate and token tests on the
# lowest supported MSAL.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Two installs: the demo needs the provider and its emulator only; tests and lint add their tools.
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.installed-demo
DEMO_DIR ?= .demo

.PHONY: install demo check-emulator test test-unit test-slow lint format bench bench-token-cache bench-scale-out clean
.PHONY: stack-deps stack stack-down stack-clean stack-status e2e test-floor test-msal-floor

$(BIN)/python:
	@echo "Creating the virtual environment $(VENV) and upgrading its pip (about 20 s) ..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Everything: the provider with the emulator, test and lint extras.
$(STAMP): pyproject.toml | $(BIN)/python
	@echo "Installing the provider with its emulator, test and lint tools into $(VENV) (a few minutes on a fresh machine) ..."
	$(BIN)/python -m pip install --quiet -e ".[emulator,test,lint,s3]"
	touch $(STAMP)

# What `make demo` needs: the provider and the emulator extra (a full install has them too).
$(DEMO_STAMP): pyproject.toml | $(BIN)/python
	@echo "Installing the provider and its emulator into $(VENV) (about a minute on a fresh machine) ..."
	[ $(STAMP) -nt pyproject.toml ] || $(BIN)/python -m pip install --quiet -e ".[emulator]"
	touch $(DEMO_STAMP)

install: $(STAMP)

demo: $(DEMO_STAMP)
	$(BIN)/python scripts/demo.py --demo-dir $(DEMO_DIR)

# The connection check (airflow-provider-meetings check) against an emulator it starts and stops.
check-emulator: $(DEMO_STAMP)
	$(BIN)/airflow-provider-meetings check --emulator

# The tests run in parallel, one pytest-xdist worker per core (TEST_WORKERS=0: in this process
# only). Each worker starts its own emulator and has its own Airflow home and SQLite database
# (session fixtures: meetings_emulator/pytest_plugin.py, tests/conftest.py). A test file stays
# on one worker (--dist loadfile): its module fixtures (a migrated Airflow home, an emulator of
# its own) are set up once, and the sample DAG tests tell one story in file order. Files go to
# the workers in collection order (--no-loadscope-reorder: not by their number of tests), so
# the long ones that tests/conftest.py puts first start at once instead of running last alone.
TEST_WORKERS ?= auto
XDIST := -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

test: $(STAMP)
	@echo "Running the unit and integration tests on $(TEST_WORKERS) workers (-n; 4 to 5 minutes on 2 cores) ..."
	$(BIN)/python -m pytest $(XDIST) -m "not slow"

# The slow integration tests: every sample DAG run whole with dag.test(), DAG runs that defer,
# the fault storms and the docs' commands run as written (about 8 minutes on 2 cores). make e2e
# runs them too, so CI runs them once.
test-slow: $(STAMP)
	$(BIN)/python -m pytest $(XDIST) -m slow

test-unit: $(STAMP)
	$(BIN)/python -m pytest $(XDIST) tests/unit

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

bench-scale-out: $(STAMP)
	$(BIN)/python bench/run.py --scale-out

# -- a real deployment (scripts/stack.py) and the tests that drive it -------------------
STACK_STAMP := $(VENV)/.installed-stack

$(STACK_STAMP): $(STAMP)
	@echo "Installing the stack's packages (Celery, PostgreSQL drivers, Playwright) into $(VENV) ..."
	$(BIN)/python -m pip install --quiet -e ".[emulator,test,lint,stack,e2e]"
	touch $(STACK_STAMP)

# PostgreSQL, Redis and Chromium from the system's packages (apt-get; skipped when installed).
stack-deps:
	scripts/install_system_packages.sh

# Settings: EXECUTOR=local|celery, STACK_DIR, STACK_PORT_BASE (see scripts/meetings_stack/config.py).
stack: stack-deps $(STACK_STAMP)
	$(BIN)/python scripts/stack.py up

stack-down: $(STAMP)
	$(BIN)/python scripts/stack.py down

stack-clean: $(STAMP)
	$(BIN)/python scripts/stack.py down --wipe

stack-status: $(STAMP)
	$(BIN)/python scripts/stack.py status

# Starts its own stack (.stack-e2e, ports 29xxx) and stops it at the end.
e2e: stack-deps $(STACK_STAMP)
	$(BIN)/python -m pytest tests/e2e
	$(MAKE) test-slow

# The unit and integration tests on the lowest Airflow that pyproject.toml declares. Airflow
# 3.2 does not cap FastAPI; FastAPI >= 0.137 (with Cadwyn 9) breaks its execution API
# ("TITerminalStatePayload needs a discriminator field"), so the cap Airflow 3.3 declares
# is added here.
AIRFLOW_FLOOR ?= 3.2.0
FLOOR_VENV := .venv-floor
FLOOR_STAMP := $(FLOOR_VENV)/.installed-$(AIRFLOW_FLOOR)

$(FLOOR_STAMP): pyproject.toml
	@echo "Creating $(FLOOR_VENV) with Airflow $(AIRFLOW_FLOOR) and the test tools (a few minutes on a fresh machine) ..."
	$(PYTHON) -m venv $(FLOOR_VENV)
	$(FLOOR_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(FLOOR_VENV)/bin/python -m pip install --quiet -e ".[emulator,test]" "apache-airflow==$(AIRFLOW_FLOOR)" "fastapi<0.137"
	touch $(FLOOR_STAMP)

# What depends on Airflow runs there: the hook, operators, links, DAGs, deferral, the CLI,
# the pytest plugin. The emulator's own tests and the client's transport, retry, bulk-engine
# and secrets tests (which reach Airflow only to read a connection, as the hook tests do)
# touch no other Airflow API and run once, in make test.
FLOOR_SKIP := tests/integration/emulator tests/integration/security \
	tests/integration/bulk/test_bulk_against_emulator.py tests/integration/bulk/test_bulk_sync_against_emulator.py \
	tests/integration/reliability/test_bad_input.py tests/integration/reliability/test_failure_paths.py \
	tests/integration/reliability/test_fault_storm.py tests/integration/reliability/test_retry_bounds.py \
	tests/integration/reliability/test_token_endpoint_outage.py
test-floor: $(FLOOR_STAMP)
	$(FLOOR_VENV)/bin/python -c "import airflow, airflow.sdk; print('Airflow', airflow.__version__)"
	$(FLOOR_VENV)/bin/python -m pytest -p no:cacheprovider $(XDIST) -m "not storm and not slow" $(addprefix --ignore=,$(FLOOR_SKIP))

# The certificate and token tests on the lowest MSAL that pyproject.toml declares: 1.35 is
# the first that derives the SHA-256 thumbprint from `public_certificate` (the certificate
# form of auth/certificate.py), and MSAL's answers to a failing token endpoint changed across
# versions (msal/throttled_http_client.py); the shared token cache subclasses MSAL's
# SerializableTokenCache. The rest of the suite runs on the newest MSAL.
MSAL_FLOOR ?= 1.35.0
MSAL_FLOOR_VENV := .venv-msal-floor
MSAL_FLOOR_STAMP := $(MSAL_FLOOR_VENV)/.installed-$(MSAL_FLOOR)
MSAL_FLOOR_TESTS := tests/unit/auth/test_certificate.py tests/unit/auth/test_credentials.py tests/unit/auth/test_token_source.py \
	tests/unit/auth/test_cache_file.py tests/unit/auth/test_token_cache.py \
	tests/integration/hooks/test_token_cache.py tests/integration/hooks/test_token_cache_killed_writer.py \
	tests/integration/hooks/test_certificate_forms.py tests/integration/emulator/test_entra.py \
	tests/integration/reliability/test_token_endpoint_outage.py \
	tests/integration/reliability/test_failure_paths.py::test_a_token_outage_stops_a_bulk_call_within_one_token_retry_cycle \
	tests/integration/reliability/test_failure_paths.py::test_the_bulk_operator_lets_task_retries_apply_after_a_token_outage \
	tests/integration/reliability/test_failure_paths.py::test_thumbprints_in_the_forms_people_copy_work \
	tests/integration/reliability/test_failure_paths.py::test_a_non_json_token_answer_is_a_clear_authentication_error \
	tests/integration/reliability/test_failure_paths.py::test_a_non_json_token_answer_mid_bulk_keeps_what_is_done

$(MSAL_FLOOR_STAMP): pyproject.toml
	@echo "Creating $(MSAL_FLOOR_VENV) with MSAL $(MSAL_FLOOR) and the test tools (a few minutes on a fresh machine) ..."
	$(PYTHON) -m venv $(MSAL_FLOOR_VENV)
	$(MSAL_FLOOR_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(MSAL_FLOOR_VENV)/bin/python -m pip install --quiet -e ".[emulator,test]" "msal==$(MSAL_FLOOR)"
	touch $(MSAL_FLOOR_STAMP)

test-msal-floor: $(MSAL_FLOOR_STAMP)
	$(MSAL_FLOOR_VENV)/bin/python -c "import msal; print('MSAL', msal.__version__)"
	$(MSAL_FLOOR_VENV)/bin/python -m pytest -p no:cacheprovider $(MSAL_FLOOR_TESTS)

clean:
	rm -rf $(VENV) .demo .pytest_cache $(FLOOR_VENV) $(MSAL_FLOOR_VENV)
