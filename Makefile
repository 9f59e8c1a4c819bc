# Two commands: `make reports` (set up + run the quarterly job on the demo data)
# and `make test` (every test). Python 3.11, a venv, pinned pip packages.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

VENV_LATEST  := .venv-latest
STAMP_LATEST := $(VENV_LATEST)/.installed-stamp

.PHONY: reports test test-latest demo ingest kpi setup bench strip clean-data screenshots

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

setup: $(STAMP)

## The main job: demo data on first use, then the quarterly reports.
reports: $(STAMP)
	@test -d data/raw/demo || $(BIN)/jeugdlib demo
	$(BIN)/jeugdlib reports

## Every test (the same command CI runs).
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile tests notebooks/reports --nbval-lax --nbval-sanitize-with tests/nbval_sanitize.cfg

## The tests again on the newest versions pyproject.toml's ranges allow (no pins): CI runs
## both, so a range is never claimed untested. The venv is made anew when pyproject changes.
$(STAMP_LATEST): pyproject.toml
	rm -rf $(VENV_LATEST)
	$(PYTHON) -m venv $(VENV_LATEST)
	$(VENV_LATEST)/bin/python -m pip install --quiet --upgrade pip
	$(VENV_LATEST)/bin/python -m pip install --quiet --upgrade -e ".[test]"
	$(VENV_LATEST)/bin/python -m pip list --format=freeze | grep -iE '^(pandas|numpy|pyarrow|statsmodels|scipy|lxml|matplotlib)=='
	touch $(STAMP_LATEST)

test-latest: $(STAMP_LATEST)
	$(VENV_LATEST)/bin/python -m pytest -n 2 --dist loadfile tests

demo: $(STAMP)
	$(BIN)/jeugdlib demo

ingest: $(STAMP)
	@test -d data/raw/demo || $(BIN)/jeugdlib demo
	$(BIN)/jeugdlib ingest data/raw/demo

kpi: $(STAMP)
	@test -d data/raw/demo || $(BIN)/jeugdlib demo
	$(BIN)/jeugdlib kpi data/raw/demo --peildatum 2024-08-01 --out data/processed/kpis.csv

## Benchmarks (not part of the tests): figures for the closing notes.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_kpi.py data/processed/demo --repeat 3

## Strip outputs from notebooks before committing.
strip: $(STAMP)
	$(BIN)/nbstripout notebooks/reports/*.ipynb notebooks/exploratory/*.ipynb 2>/dev/null || true

## Render the HTML reports to PNG with headless Chromium (needs apt package chromium).
screenshots:
	bash scripts/screenshots.sh

clean-data:
	rm -rf data/processed/* reports/*
