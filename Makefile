# lucia_pyodide: `make demo` runs the demo app, `make test` runs every test.
# Both set up what they need first, and a second run reuses it. The demo needs only
# Python and Node (Pyodide, MicroPython and PyScript from npm, micropip and flit_core
# from PyPI); the tests add a virtualenv of test tools and Debian's Chromium.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BUILD  := build
DIST   := $(BUILD)/pyodide
WHEEL_DIR := $(BUILD)/wheel
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
WHEEL  := $(WHEEL_DIR)/lucia_pyodide-$(VERSION)-py3-none-any.whl
# The wheel's build backend, run from its own wheel (zip-importable): no virtualenv needed.
FLIT   := $(BUILD)/cache/tools/flit_core-3.12.0-py3-none-any.whl
PORT   ?= 8000
SOURCES := $(shell find lucia_pyodide -name '*.py' -o -name py.typed) pyproject.toml PYPI.md

.PHONY: demo demo-assets test-assets test lint unit pyodide-tests e2e setup chromium wheel bench clean

demo: demo-assets wheel
	$(PYTHON) -m refserver --port $(PORT) --mount /pyscript=$(BUILD)/pyscript --mount /wheels=$(WHEEL_DIR)

test: setup lint unit pyodide-tests e2e

setup: $(VENV)/.ok test-assets wheel chromium

$(VENV)/.ok: requirements-dev.txt
	@echo "setting up $(VENV) (test tools from PyPI)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

# Idempotent: each returns at once when build/ already holds what it needs.
demo-assets:
	@$(PYTHON) tools/setup_assets.py --build $(BUILD) --for demo

test-assets:
	@$(PYTHON) tools/setup_assets.py --build $(BUILD) --for test

wheel: $(WHEEL)

$(FLIT):
	@echo "downloading flit_core 3.12.0 from PyPI (builds the wheel)"
	$(PYTHON) -m pip download -q --no-deps --only-binary=:all: -d $(dir $(FLIT)) flit_core==3.12.0

# Built by the backend pyproject.toml names, as pip and build call it (tools/wheel_backend.py).
$(WHEEL): $(SOURCES) $(FLIT) tools/wheel_backend.py
	rm -rf $(WHEEL_DIR) && mkdir -p $(WHEEL_DIR)
	PYTHONPATH=$(FLIT):tools $(PYTHON) -c "import wheel_backend; wheel_backend.build_wheel('$(WHEEL_DIR)')"

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

# Inside real Pyodide and real MicroPython, each in Node and in headless Chromium,
# against the reference server.
pyodide-tests: setup
	$(PY) -m pytest -q tests/pyodide --dist-dir=$(DIST) --runtime=node,chrome --wheel=$(WHEEL)

# The demo app as a person uses it, and every session state across real tabs, in headless
# Chromium; screenshots go to test-artifacts/.
e2e: setup
	$(PY) -m pytest -q tests/e2e

# What the client costs a page, side by side with bare pyfetch and JS fetch (not a test).
bench: setup
	$(PY) bench/run.py

clean:
	rm -rf $(BUILD) $(VENV) .mypy_cache .ruff_cache .pytest_cache
