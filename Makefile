# lucia_pyodide: `make demo` runs the demo app, `make test` runs every test.
# Both set up what they need first, and a second run reuses it. The demo needs only
# Python and Node (Pyodide, MicroPython and PyScript from npm, micropip and flit_core
# from PyPI); the tests add a virtualenv of test tools and Debian's browsers: Chromium,
# Firefox ESR and WebKitGTK (with Xvfb, its virtual screen).

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
# The other interpreter releases the in-interpreter suite runs on (tools/setup_assets.py names them).
PYODIDE_RELEASES := $(shell $(PYTHON) tools/setup_assets.py --list pyodide)
MICROPYTHON_RELEASES := $(shell $(PYTHON) tools/setup_assets.py --list micropython)
NODE_RUNS := $(foreach r,$(PYODIDE_RELEASES),pyodide-$(r)-node) \
	$(foreach r,$(MICROPYTHON_RELEASES),micropython-$(r)-node)
CHROME_RUNS := pyodide-$(firstword $(PYODIDE_RELEASES))-chrome \
	micropython-$(firstword $(MICROPYTHON_RELEASES))-chrome
RELEASE_RUNS := $(NODE_RUNS) $(CHROME_RUNS)
# The browser engines of the end-to-end tests (tools/browser.py), one run each; Firefox's,
# the longest by minutes, as two: its lab suites (real tabs through every session state)
# and its pages (the demo and the rest).
ENGINES := chromium firefox webkit
SPLIT_ENGINES := firefox
LAB_MODULES := tests/e2e/test_reload_truth.py tests/e2e/test_session_truth.py
E2E_WHOLE_RUNS := $(foreach e,$(filter-out $(SPLIT_ENGINES),$(ENGINES)),e2e-$(e))
E2E_LAB_RUNS := $(foreach e,$(SPLIT_ENGINES),e2e-$(e)-labs)
E2E_PAGE_RUNS := $(foreach e,$(SPLIT_ENGINES),e2e-$(e)-pages)
E2E_RUNS := $(E2E_WHOLE_RUNS) $(E2E_LAB_RUNS) $(E2E_PAGE_RUNS)

.PHONY: demo demo-assets test-assets release-assets test checks pages-then-checks lint unit \
	pyodide-tests releases e2e setup $(E2E_RUNS) pyodide-node pyodide-chrome \
	browsers wheel bench clean

demo: demo-assets wheel
	$(PYTHON) -m refserver --port $(PORT) --mount /pyscript=$(BUILD)/pyscript --mount /wheels=$(WHEEL_DIR)

# Everything, in the four lanes of `make e2e`: the shortest end-to-end run (Firefox's
# pages, about 3.5 min idle) is followed in its lane by the checks that need no e2e
# browser (about 5 min idle, one after another), which otherwise ran before the
# e2e runs and added their minutes to the longest lane's (about 10 min).
test: setup release-assets
	$(MAKE) --no-print-directory -j$(words $(E2E_RUNS)) -O \
		$(filter-out $(E2E_PAGE_RUNS),$(E2E_RUNS)) pages-then-checks

# The checks' own side-by-side runs (-j2, -j9) are counted as if they were alone: their
# make starts without this one's job slots (which would warn and reset), keeping the
# one-letter flags given (-s, -n, -k). They run at a lower priority than the e2e runs,
# whose tests bound how soon a page shows what it should (a burst of nine Node runs at
# equal priority delayed a Chromium page's look at the server past its 2 s).
FLAG_LETTERS = $(filter-out -%,$(firstword $(MAKEFLAGS)))
pages-then-checks:
	$(MAKE) --no-print-directory $(E2E_PAGE_RUNS)
	MAKEFLAGS=$(FLAG_LETTERS) nice -n 10 $(MAKE) --no-print-directory checks

checks: lint unit pyodide-tests releases

setup: $(VENV)/.ok test-assets wheel browsers

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

release-assets:
	@$(PYTHON) tools/setup_assets.py --build $(BUILD) --for releases

wheel: $(WHEEL)

$(FLIT):
	@echo "downloading flit_core 3.12.0 from PyPI (builds the wheel)"
	$(PYTHON) -m pip download -q --no-deps --only-binary=:all: -d $(dir $(FLIT)) flit_core==3.12.0

# Built by the backend pyproject.toml names, as pip and build call it (tools/wheel_backend.py),
# next to the old one and renamed over it: a page served the wheel meanwhile always finds one.
$(WHEEL): $(SOURCES) $(FLIT) tools/wheel_backend.py
	rm -rf $(WHEEL_DIR).new && mkdir -p $(WHEEL_DIR).new
	PYTHONPATH=$(FLIT):tools $(PYTHON) -c "import wheel_backend; wheel_backend.build_wheel('$(WHEEL_DIR).new')"
	mkdir -p $(WHEEL_DIR) && mv -f $(WHEEL_DIR).new/$(notdir $(WHEEL)) $(WHEEL) && rmdir $(WHEEL_DIR).new
	find $(WHEEL_DIR) -name '*.whl' ! -name $(notdir $(WHEEL)) -delete

# Debian's browsers and drivers; never a browser download of a test tool's own. Firefox
# has no driver in any registry: tools/marionette.py speaks its own protocol.
BROWSER_FILES := /usr/bin/chromium /usr/bin/chromedriver /usr/bin/firefox-esr /usr/bin/WebKitWebDriver \
	/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser /usr/bin/Xvfb
browsers:
	@if ! ls $(BROWSER_FILES) >/dev/null 2>&1; then \
		echo "installing Debian chromium, chromium-driver, firefox-esr, webkit2gtk-driver, xvfb"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			chromium chromium-driver firefox-esr webkit2gtk-driver xvfb >/dev/null; \
	fi

lint: $(VENV)/.ok
	$(PY) -m ruff check .
	$(PY) -m mypy

unit: $(VENV)/.ok
	$(PY) -m pytest -q tests/unit

# Inside real Pyodide and real MicroPython, each in Node and in headless Chromium (the two
# side by side), against the reference server.
pyodide-tests: setup release-assets
	$(MAKE) --no-print-directory -j2 -O pyodide-node pyodide-chrome

pyodide-node pyodide-chrome:
	$(PY) -m pytest -q -p no:cacheprovider tests/pyodide --dist-dir=$(DIST) \
		--runtime=$(@:pyodide-%=%) --wheel=$(WHEEL)

# The same suite on every other Pyodide and MicroPython release in Node, all at once
# (mostly waiting on timers: four at a time left the cores half idle; nine took 112 s
# where four at a time took 3 min), then the oldest of each in Chromium, one at a time
# (side by side, a Chromium renderer crashed once); the newest are a step from the main
# tier's, which runs in Chromium.
releases: setup release-assets
	$(MAKE) --no-print-directory -j$(words $(NODE_RUNS)) -O $(NODE_RUNS)
	$(MAKE) --no-print-directory $(CHROME_RUNS)

# Each run is named <interpreter>-<release>-<runtime>.
RUNTIME_OF = $(lastword $(subst -, ,$@))
RELEASE_TEST = $(PY) -m pytest -q -p no:cacheprovider tests/pyodide --wheel=$(WHEEL) --runtime=$(RUNTIME_OF)
$(filter pyodide-%,$(RELEASE_RUNS)):
	$(RELEASE_TEST) --interpreters=pyodide --dist-dir=$(BUILD)/releases/$(@:-$(RUNTIME_OF)=)
$(filter micropython-%,$(RELEASE_RUNS)):
	$(RELEASE_TEST) --interpreters=micropython --dist-dir=$(DIST) \
		--micropython=$(BUILD)/releases/$(@:-$(RUNTIME_OF)=)/micropython.mjs

# The demo app as a person uses it, and every session state across real tabs, in Chromium,
# Firefox ESR and WebKitGTK, the four runs side by side (each mostly waits on its timers;
# six, each engine split, kept the cores so busy that a Pyodide boot took over 30 s).
# Screenshots go to test-artifacts/. A test during which the engine failed under the page
# runs once more, on fresh tabs, and the report marks it R: Chromium's renderer crashed
# ("tab crashed", seen about once in a few runs, in lab tabs that had passed the same steps
# before), or a WebKit page's Pyodide "fatally failed" (a trap in the wasm; the report and
# test-artifacts/replaced-tabs.log keep the page's own account of it).
e2e: setup release-assets
	$(MAKE) --no-print-directory -j$(words $(E2E_RUNS)) -O $(E2E_RUNS)

# The tests that need no browser run with the first engine's (its pages, if it is split).
E2E_TEST = $(PY) -m pytest -q -p no:cacheprovider --only-rerun "tab crashed|fatally failed" --reruns 1
BROWSER_ONLY = $(if $(filter $(1),$(firstword $(ENGINES))),,--browser-tests-only)
$(E2E_WHOLE_RUNS): e2e-%:
	$(E2E_TEST) tests/e2e --engines=$* $(call BROWSER_ONLY,$*)
$(E2E_LAB_RUNS): e2e-%-labs:
	$(E2E_TEST) $(LAB_MODULES) --engines=$* --browser-tests-only
$(E2E_PAGE_RUNS): e2e-%-pages:
	$(E2E_TEST) tests/e2e $(LAB_MODULES:%=--ignore=%) --engines=$* $(call BROWSER_ONLY,$*)

# What the client costs a page, side by side with bare pyfetch and JS fetch (not a test).
bench: setup
	$(PY) bench/run.py

clean:
	rm -rf $(BUILD) $(VENV) .mypy_cache .ruff_cache .pytest_cache
