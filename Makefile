# The first two commands of the README: `make run` starts the whole system locally, `make test` runs every check.
# Both create .venv and install what they need on a fresh machine; nothing has to be installed by hand.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export AWS_ACCOUNT_ID_ENDPOINT_MODE := disabled

.PHONY: run test lint typecheck unit integration infra e2e synth bench demo shop screenshot rebuild replay verify-archive browser deps dev-deps lock clean

run: deps ## start moto + the HTTP API on 127.0.0.1 ($$PORT, default 8000; $$AWS_PORT, default 4566)
	$(PY) -m local $(ARGS)

test: dev-deps node_modules/.installed browser lint typecheck unit integration infra e2e synth ## every check

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

e2e: dev-deps browser
	$(PY) -m pytest tests/e2e -q

synth: dev-deps node_modules/.installed ## cdk synth (offline) with cdk-nag, then cfn-lint on the template
	rm -rf cdk.out
	npx --no-install cdk synth --quiet
	$(VENV)/bin/cfn-lint cdk.out/*.template.json

bench: dev-deps ## print the benchmark table (docs/benchmark.md says how to read it)
	$(PY) -m bench

demo: deps ## run the seed scenarios (an account, an order) against a running `make run`
	$(PY) -m local.demo

shop: deps ## shop traffic against a running `make run` (ARGS="--rate 5 --duration 60"), to watch /dashboard move
	$(PY) -m local.shop $(ARGS)

screenshot: dev-deps browser ## docs/dashboard.png: sell for a while on a runtime of its own, photograph /dashboard
	$(PY) -m local.screenshot $(ARGS)

rebuild: deps ## rebuild read models against a running `make run` (ARGS="accounts alerts", default all; $$AWS_PORT)
	$(PY) -m local.tools ledger.rebuild $(ARGS)

# TARGET: read models (default all); FROM: the first UTC day, without a reset (docs/archive.md says which can)
replay: deps ## replay the event archive into read models of a running `make run` (TARGET=reports FROM=2026-12-01)
	$(PY) -m local.tools ledger.replay $(or $(TARGET),all) $(if $(FROM),--from $(FROM))

verify-archive: deps ## compare the event archive with the event store of a running `make run` ($$AWS_PORT)
	$(PY) -m local.tools ledger.archive verify $(ARGS)

# The dashboard's browser test drives Debian's headless Chromium: installed here when missing (CI runs as root;
# elsewhere through sudo).
CHROMIUM := /usr/bin/chromium
CHROMEDRIVER := /usr/bin/chromedriver
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

browser: ## headless Chromium and chromedriver (Debian's chromium, chromium-driver), installed when missing
	@if [ ! -x $(CHROMIUM) ] || [ ! -x $(CHROMEDRIVER) ]; then \
		echo "installing chromium and chromium-driver (apt-get)"; \
		$(SUDO) apt-get update -q && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver; \
	fi

deps: $(VENV)/.run-deps $(VENV)/.functions-path
dev-deps: $(VENV)/.dev-deps $(VENV)/.functions-path

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.run-deps: requirements.txt constraints.txt | $(VENV)/bin/python
	$(PIP) install --quiet -r requirements.txt -c constraints.txt
	touch $@

$(VENV)/.dev-deps: requirements.txt requirements-dev.txt constraints.txt $(VENV)/.run-deps
	$(PIP) install --quiet -r requirements-dev.txt -c constraints.txt
	touch $@

# functions/ on the venv's path (a .pth file), so that `python -m ledger.rebuild` and any `import ledger` work from
# the repository's root (or anywhere) with the venv's python, as they do in the functions' packages.
$(VENV)/.functions-path: | $(VENV)/bin/python
	echo "$(CURDIR)/functions" > "$$($(PY) -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/ledger-functions.pth"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

lock: ## re-pin every transitive dependency after changing a requirements file
	$(PIP) freeze --exclude-editable | sort > constraints.txt

clean:
	rm -rf $(VENV) node_modules cdk.out .mypy_cache .ruff_cache .pytest_cache
