# The first two commands of the README: `make run` starts the whole system locally, `make test` runs every check.
# Both create .venv and install what they need on a fresh machine; nothing has to be installed by hand.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export AWS_ACCOUNT_ID_ENDPOINT_MODE := disabled

.PHONY: run test lint typecheck unit integration infra e2e synth bench demo deps dev-deps lock clean

run: deps ## start moto + the HTTP API on 127.0.0.1 ($$PORT, default 8000; $$AWS_PORT, default 4566)
	$(PY) -m local $(ARGS)

test: dev-deps node_modules/.installed lint typecheck unit integration infra e2e synth ## every check

lint: dev-deps
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: dev-deps
	$(PY) -m mypy

unit: dev-deps
	$(PY) -m pytest tests/unit -q

integration: dev-deps
	$(PY) -m pytest tests/integration tests/contracts -q

infra: dev-deps
	$(PY) -m pytest tests/infra -q

e2e: dev-deps
	$(PY) -m pytest tests/e2e -q

synth: dev-deps node_modules/.installed ## cdk synth (offline) with cdk-nag, then cfn-lint on the template
	rm -rf cdk.out
	npx --no-install cdk synth --quiet
	$(VENV)/bin/cfn-lint cdk.out/*.template.json

bench: dev-deps ## print the benchmark table (docs/benchmark.md says how to read it)
	$(PY) -m bench

demo: deps ## run the seed scenario against a running `make run`
	$(PY) -m local.demo

deps: $(VENV)/.run-deps
dev-deps: $(VENV)/.dev-deps

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.run-deps: requirements.txt constraints.txt | $(VENV)/bin/python
	$(PIP) install --quiet -r requirements.txt -c constraints.txt
	touch $@

$(VENV)/.dev-deps: requirements.txt requirements-dev.txt constraints.txt $(VENV)/.run-deps
	$(PIP) install --quiet -r requirements-dev.txt -c constraints.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

lock: ## re-pin every transitive dependency after changing a requirements file
	$(PIP) freeze --exclude-editable | sort > constraints.txt

clean:
	rm -rf $(VENV) node_modules cdk.out .mypy_cache .ruff_cache .pytest_cache
