# Two commands set up a fresh machine: `make run` and `make test`.
# Needs only Python 3.11+, make and apt (for Debian's chromium, used by browser tests, and a C compiler, which
# builds the batch back-end in C: without one batches run with numba).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
HOST   ?= 127.0.0.1
PORT   ?= 8050

.PHONY: run test test-fast lint check bench report clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dashboard]"
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

# Debian's chromium for the Playwright browser tests (never `playwright install`).
/usr/bin/chromium:
	$(SUDO) apt-get update -qq
	$(SUDO) apt-get install -y -qq chromium

# A C compiler and the C library's headers for the lanes back-end (gscsd/engines/fast/lanes.py).
/usr/bin/cc:
	$(SUDO) apt-get update -qq
	$(SUDO) apt-get install -y -qq gcc libc6-dev

run: $(VENV)/.installed
	$(BIN)/python app.py --host $(HOST) --port $(PORT)

# Lint and import order first (seconds): a ruff finding fails `make test` like a failing test.
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

test: lint /usr/bin/chromium /usr/bin/cc
	$(BIN)/python -m pytest

test-fast: lint
	$(BIN)/python -m pytest -m "not slow and not browser"

check: $(VENV)/.installed
	$(BIN)/gscsd check models/gsc.mdl

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/bench_pysd.py

# Sample report: the GSC baseline and two policy scenarios, one offline HTML file.
REPORT_SCENARIOS := models/scenarios/green-push.json models/scenarios/talent-and-collaboration.json
report: $(VENV)/.installed
	mkdir -p build
	$(BIN)/gscsd report models/gsc.mdl $(addprefix --scenario ,$(REPORT_SCENARIOS)) \
		--title "Green Smart City: baseline and two policies" -o build/report.html

clean:
	rm -rf build test-artifacts .pytest_cache
