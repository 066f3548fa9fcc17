# Every target installs what it needs first, so each works on a fresh clone.
SHELL := /bin/bash
UV = $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
# The default demo: 3 years of history ending on DEMO_END; backfill all but the last
# day as one batch, then run the last day the way the daily schedule would.
DEMO_END ?= 2026-10-31
DEMO_START ?= 2023-11-02
DEMO_BACKFILL_END ?= 2026-10-30
PYTEST_ARGS ?=
AIRFLOW_PORT ?= 8080
DASHBOARD_PORT ?= 3000
NPM ?= npm

.PHONY: help uv install demo test lint typecheck unit dbt-parse dbt-manifest airflow bench clean openapi dashboard dashboard-build dashboard-test

help:
	@echo "make demo   install, generate the demo ERP, backfill 3 years, train the forecaster, run the last day, list gold"
	@echo "make test   install, lint, type-check and run the whole test suite"
	@echo "make airflow  start Airflow 3 (standalone) with the DAGs on the lake; prints the UI address and login"
	@echo "make dashboard  start the API and the planners' workbench on the demo lake; prints the address and login"
	@echo "make dashboard-test  the workbench's lint, type check, unit tests and browser tests"
	@echo "make bench  run every benchmark under benchmarks/"

uv:
	@command -v $(UV) >/dev/null 2>&1 || python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv
	@command -v $(UV) >/dev/null 2>&1 || (echo "uv not found after install; add ~/.local/bin to PATH" && exit 1)

install: uv
	$(UV) sync --frozen

demo: install
	$(UV) run --no-sync nova demo --end-date $(DEMO_END)
	$(UV) run --no-sync nova backfill --start $(DEMO_START) --end $(DEMO_BACKFILL_END)
	$(UV) run --no-sync nova train --date $(DEMO_BACKFILL_END)
	$(UV) run --no-sync nova run --date $(DEMO_END)
	$(UV) run --no-sync nova gold

lint: install
	$(UV) run --no-sync ruff check .
	$(UV) run --no-sync ruff format --check .

typecheck: install
	$(UV) run --no-sync mypy

# Python first, then the workbench (its browser tests start the API from the same venv).
test: lint typecheck
	$(UV) run --no-sync pytest -n 2 --dist loadfile $(PYTEST_ARGS)
	$(MAKE) dashboard-test

# The API's schema, committed: the dashboard's client is generated from it.
openapi: install
	$(UV) run --no-sync python -m backend.api.openapi

# The manifest the DAGs render the dbt project from: parsing a DAG never runs dbt.
dbt-manifest: install
	$(UV) run --no-sync dbt parse --quiet --project-dir dbt --profiles-dir dbt --target-path target-airflow

airflow: dbt-manifest
	$(UV) run --no-sync python infra/airflow/run.py --port $(AIRFLOW_PORT)

bench: install
	$(UV) run --no-sync python benchmarks/pipeline.py
	$(UV) run --no-sync python benchmarks/forecast_accuracy.py
	$(UV) run --no-sync python benchmarks/extract.py
	$(UV) run --no-sync python benchmarks/orchestration.py
	$(UV) run --no-sync python benchmarks/inventory_policy.py
	$(UV) run --no-sync python benchmarks/api.py
	$(UV) run --no-sync python benchmarks/engines.py
	@echo "the workbench benchmark (on the demo lake after make demo, else on the small lake): $(UV) run --no-sync python benchmarks/dashboard.py"
	@echo "forecast speed needs a trained demo lake: make demo, then $(UV) run --no-sync python benchmarks/forecast_speed.py"

# --- the planners' workbench (dashboard/, Next.js) ---------------------------------------
# npm packages from the committed lock, reinstalled only when the lock changes.
dashboard/node_modules/.installed: dashboard/package-lock.json
	cd dashboard && $(NPM) ci --no-audit --no-fund
	touch $@

dashboard-build: dashboard/node_modules/.installed
	cd dashboard && $(NPM) run build

# The API and the production Next.js server on the lake `make demo` built; creates the demo
# planner the first time and prints the address and the login.
dashboard: install dashboard-build
	$(UV) run --no-sync python dashboard/scripts/demo_stack.py --port $(DASHBOARD_PORT)

# Lint, type check, the generated client's staleness, unit tests (Vitest) and browser tests
# (Playwright on Debian's /usr/bin/chromium against the real API and a Kafka-protocol broker
# on a small gold lake; .ci/run installs the package).
dashboard-test: install dashboard-build
	@test -x /usr/bin/chromium || (echo "the browser tests need Debian's chromium: apt-get install -y chromium" && exit 1)
	cd dashboard && $(NPM) run lint && $(NPM) run typecheck && $(NPM) run api:check && $(NPM) test && $(NPM) run e2e

clean:
	rm -rf .lake .warehouse .demo .airflow dbt/target dbt/target-airflow dbt/logs dashboard/.next dashboard/test-results dashboard/playwright-report dashboard/e2e/.state
