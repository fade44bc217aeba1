# Every target does its own set-up on a fresh machine: venv, Python packages, system packages.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SYSSTAMP := $(VENV)/.system-deps
PYTEST_ARGS ?=

.PHONY: setup system-deps run test test-fast bench lint typecheck clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

# Debian packages the tests use (a real Prometheus with promtool; Chromium for browser tests).
$(SYSSTAMP): deploy/system-packages.txt
	bash deploy/install-system-packages.sh deploy/system-packages.txt
	mkdir -p $(VENV) && touch $(SYSSTAMP)

setup: $(STAMP)

system-deps: $(SYSSTAMP)

run: setup
	$(VENV)/bin/probity run

test: setup system-deps
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: setup
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

bench: setup
	$(VENV)/bin/probity bench --out bench-results.json
	$(VENV)/bin/probity graph bench --edges 1000000 --json bench-graph.json

lint: setup
	$(VENV)/bin/ruff check .

typecheck: setup
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) var build *.egg-info .pytest_cache .mypy_cache .hypothesis
