# tracklearn: every target sets up .venv itself (pinned versions, CPU torch from local disk).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA ?= $(or $(TRACKLEARN_DATA),$(abspath ../shared/data))
DEMO := demo-output

.PHONY: setup demo test bench lint clean

setup: $(STAMP)

$(STAMP): requirements.lock requirements-dev.lock pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock -r requirements-dev.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/python scripts/check_env.py
	touch $(STAMP)

demo: $(STAMP)
	rm -rf $(DEMO)
	$(BIN)/tracklearn simulate --detector quick --events 3 --particles 1000 --seed 7 --out $(DEMO)/events
	$(BIN)/tracklearn info $(DEMO)/events
	$(BIN)/tracklearn reconstruct $(DEMO)/events --out $(DEMO)/tracks
	$(BIN)/tracklearn evaluate --truth $(DEMO)/events --tracks $(DEMO)/tracks --out $(DEMO)/report
	$(BIN)/tracklearn display $(DEMO)/events/event000001000 --tracks $(DEMO)/tracks --out $(DEMO)/report/display_event1000.png
	@if [ -f "$(DATA)/trackml/event000000001-hits.csv.gz" ]; then \
	  echo "== real TrackML event (5 % subsample) from $(DATA)/trackml"; \
	  $(BIN)/tracklearn reconstruct $(DATA)/trackml/event000000001 --out $(DEMO)/real/tracks && \
	  $(BIN)/tracklearn evaluate --truth $(DATA)/trackml/event000000001 --tracks $(DEMO)/real/tracks --out $(DEMO)/real/report && \
	  $(BIN)/tracklearn display $(DATA)/trackml/event000000001 --tracks $(DEMO)/real/tracks --out $(DEMO)/real/report/display.png; \
	else echo "(no real data at $(DATA)/trackml: skipped the real event)"; fi
	@echo "Report and plots: $(abspath $(DEMO))/report (metrics.json, summary.md, *.png)"

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/tracklearn bench --out benchmarks/results

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .mypy_cache .ruff_cache
