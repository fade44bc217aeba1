# Every target does its own set-up on a fresh machine: venv, Python packages, system packages.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SYSSTAMP := $(VENV)/.system-deps
PYTEST_ARGS ?=
# the native build (setup.py: detectors and pipeline compiled with mypyc), its own venv
NATIVE_VENV ?= .venv-native
NATIVE_STAMP := $(NATIVE_VENV)/.installed
SOURCES := $(shell find models detectors engine streams devtools probity simulation triage -name '*.py' -o -name '*.toml' -o -name '*.json' 2>/dev/null)
# the native build runs from here: in the checkout, `python -m` would import the sources
NATIVE_RUN := var/native-run

.PHONY: setup system-deps native run test test-fast test-native bench quality lint typecheck lock clean

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

# The project's dependencies first (mypyc type-checks against them), then the compiled build.
$(NATIVE_STAMP): pyproject.toml setup.py $(SOURCES)
	$(PYTHON) -m venv $(NATIVE_VENV)
	$(NATIVE_VENV)/bin/python -m pip install -q --upgrade pip
	$(NATIVE_VENV)/bin/python -m pip install -q ".[dev]" "mypy>=1.10,<2" setuptools wheel
	PROBITY_MYPYC=1 $(NATIVE_VENV)/bin/python -m pip install -q --no-build-isolation --no-deps --force-reinstall .
	rm -rf build
	mkdir -p $(NATIVE_RUN)
	cd $(NATIVE_RUN) && ../../$(NATIVE_VENV)/bin/python -c "import detectors.access.no_purpose as m, sys; sys.exit(not m.__file__.endswith('.so'))"
	touch $(NATIVE_STAMP)

native: $(NATIVE_STAMP)

system-deps: $(SYSSTAMP)

run: setup
	$(VENV)/bin/probity run

test: setup system-deps test-native
	$(PY) -m pytest $(PYTEST_ARGS)

# The detectors' and pipeline's tests against the compiled build (copied out of the checkout,
# so that they import the installed native modules, not the sources beside them).
test-native: native
	rm -rf $(NATIVE_RUN)/tests && mkdir -p $(NATIVE_RUN)
	cp -r tests pyproject.toml $(NATIVE_RUN)/
	ln -sfn $(abspath ../shared) var/shared  # the contract examples, as beside the checkout
	cd $(NATIVE_RUN) && PROBITY_EXPECT_NATIVE=1 ../../$(NATIVE_VENV)/bin/python -m pytest -q \
	  -p no:cacheprovider tests/detectors tests/engine/test_pipeline.py $(PYTEST_ARGS)

test-fast: setup
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

# Measured on the native build, as deployed (deploy/Dockerfile builds the same way).
bench: native
	mkdir -p $(NATIVE_RUN)
	cd $(NATIVE_RUN) && ../../$(NATIVE_VENV)/bin/probity bench --out ../../bench-results.json
	cd $(NATIVE_RUN) && ../../$(NATIVE_VENV)/bin/probity graph bench --edges 1000000 \
	  --json ../../bench-graph.json

# The image's dependencies pinned with their hashes (deploy/Dockerfile installs with
# --require-hashes), for the image's Python and platform. Run after changing dependencies;
# tests/deploy/test_lock.py checks the lock still satisfies pyproject.toml.
lock: setup
	$(VENV)/bin/uv pip compile pyproject.toml --generate-hashes --python-version 3.11 \
	  --python-platform x86_64-unknown-linux-gnu --no-header -q -o deploy/requirements.lock

# The detection bar over whole simulated forces with IT life, seeds 1-3 and 1,000 staff x 60
# days, clean and noisy (README, "Does it find what matters"): its Markdown table, exit 1 if
# missed. About 15 minutes and 5 GB on the 2-core machine: not part of make test.
quality: setup
	$(PY) -m devtools.quality

lint: setup
	$(VENV)/bin/ruff check .

typecheck: setup
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) $(NATIVE_VENV) var build *.egg-info .pytest_cache .mypy_cache .hypothesis
