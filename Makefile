# Two commands do all set-up on a fresh machine (see README.md):
#   make serve   – install, build the sample GeoPackage if absent, serve http://127.0.0.1:8000
#   make test    – install, install/start PostGIS (Debian packages), run the whole test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: serve test install bench

$(BIN)/.installed: pyproject.toml scripts/fetch-map-assets.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	bash scripts/fetch-map-assets.sh
	touch $@

install: $(BIN)/.installed

serve: $(BIN)/.installed
	$(BIN)/landgis serve

test: $(BIN)/.installed
	bash scripts/ensure-test-services.sh
	$(BIN)/python -m pytest -n 2 --dist loadfile -q -p no:cacheprovider

bench: $(BIN)/.installed
	bash scripts/ensure-test-services.sh
	status=0; for b in bench/bench_*.py; do $(BIN)/python $$b || status=1; done; exit $$status
