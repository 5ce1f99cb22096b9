# lucia_pyodide: `make demo` runs the demo app, `make test` runs every test.
# Both set up what they need first (venv, Pyodide + PyScript from npm, wheels from PyPI,
# Debian's Chromium); a second run reuses it.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BUILD  := build
DIST   := $(BUILD)/pyodide
WHEEL_DIR := $(BUILD)/wheel
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
WHEEL  := $(WHEEL_DIR)/lucia_pyodide-$(VERSION)-py3-none-any.whl
PORT   ?= 8000
SOURCES := $(shell find lucia_pyodide -name '*.py' -o -name py.typed) pyproject.toml PYPI.md

.PHONY: demo test lint unit pyodide-tests e2e setup chromium wheel bench clean

demo: setup
	$(PY) -m refserver --port $(PORT) --mount /pyscript=$(BUILD)/pyscript --mount /wheels=$(WHEEL_DIR)

test: setup lint unit pyodide-tests e2e

setup: $(VENV)/.ok $(BUILD)/.lucia-assets wheel chromium

$(VENV)/.ok: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

$(BUILD)/.lucia-assets: tools/setup_assets.py | $(VENV)/.ok
	mkdir -p $(BUILD)
	$(PY) tools/setup_assets.py --build $(BUILD)

wheel: $(WHEEL)

$(WHEEL): $(SOURCES) | $(VENV)/.ok
	rm -rf $(WHEEL_DIR)
	$(PY) -m flit_core.wheel --outdir $(WHEEL_DIR) .

# Debian's browser and driver; never a browser download of a test tool's own.
chromium:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
		echo "installing Debian chromium + chromium-driver"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	fi

lint: $(VENV)/.ok
	$(PY) -m ruff check .
	$(PY) -m mypy

unit: $(VENV)/.ok
	$(PY) -m pytest -q tests/unit

# Inside real Pyodide, in Node and in headless Chromium, against the reference server.
pyodide-tests: setup
	$(PY) -m pytest -q tests/pyodide --dist-dir=$(DIST) --runtime=node,chrome --wheel=$(WHEEL)

# The demo app as a person uses it, in headless Chromium; screenshots go to test-artifacts/.
e2e: setup
	$(PY) -m pytest -q tests/e2e

# What the client costs a page, side by side with bare pyfetch and JS fetch (not a test).
bench: setup
	$(PY) bench/run.py

clean:
	rm -rf $(BUILD) $(VENV) .mypy_cache .ruff_cache .pytest_cache
