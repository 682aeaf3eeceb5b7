# tracklearn: every target sets up .venv itself (pinned versions, CPU torch from local disk).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA ?= $(or $(TRACKLEARN_DATA),$(abspath ../shared/data))
DEMO := demo-output

.PHONY: setup demo test bench bench-toys readme-numbers lint clean validate-simulation train-default train-gnn train-muon-cnn

setup: $(STAMP)

$(STAMP): requirements.lock requirements-dev.lock pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock -r requirements-dev.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/python scripts/check_env.py
	touch $(STAMP)

demo: $(STAMP)
	rm -rf $(DEMO)
	@if [ -f "$(DATA)/trackml/detectors.csv.gz" ]; then \
	  echo "== tt̄ + μ=200 through the real TrackML geometry, reconstructed by the default method (fullspectrum)" && \
	  $(BIN)/tracklearn simulate --detector trackml --pileup 200 --events 3 --seed 7 --workers 2 \
	    --geometry $(DATA)/trackml/detectors.csv.gz --out $(DEMO)/events && \
	  $(BIN)/tracklearn info $(DEMO)/events && \
	  $(BIN)/tracklearn reconstruct $(DEMO)/events --out $(DEMO)/tracks && \
	  $(BIN)/tracklearn evaluate --truth $(DEMO)/events --tracks $(DEMO)/tracks --out $(DEMO)/report && \
	  $(BIN)/tracklearn display $(DEMO)/events/event000001000 --tracks $(DEMO)/tracks --out $(DEMO)/report/display_event1000.png; \
	else \
	  echo "(no TrackML geometry at $(DATA)/trackml to simulate with: quick toy events instead)" && \
	  $(BIN)/tracklearn simulate --detector quick --events 3 --particles 1000 --seed 7 --out $(DEMO)/events && \
	  $(BIN)/tracklearn reconstruct $(DEMO)/events --out $(DEMO)/tracks && \
	  $(BIN)/tracklearn evaluate --truth $(DEMO)/events --tracks $(DEMO)/tracks --out $(DEMO)/report; \
	fi
	@if [ -f "$(DATA)/trackml/event000000001-hits.csv.gz" ]; then \
	  echo "== real TrackML event (5 % subsample) from $(DATA)/trackml"; \
	  $(BIN)/tracklearn reconstruct $(DATA)/trackml/event000000001 --out $(DEMO)/real/tracks && \
	  $(BIN)/tracklearn evaluate --truth $(DATA)/trackml/event000000001 --tracks $(DEMO)/real/tracks --out $(DEMO)/real/report && \
	  $(BIN)/tracklearn display $(DATA)/trackml/event000000001 --tracks $(DEMO)/real/tracks --out $(DEMO)/real/report/display.png; \
	else echo "(no real data at $(DATA)/trackml: skipped the real event)"; fi
	@echo "Report and plots: $(abspath $(DEMO))/report (report.html, metrics.json, summary.md, *.png)"

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider

# 20 simulated tt̄ + μ=200 events against the real TrackML data (about 3 minutes on 2 cores)
validate-simulation: $(STAMP)  # 20 simulated events vs the real data -> benchmarks/results/simulation-validation.md
	$(BIN)/tracklearn bench --suite simulation-validation

# every suite (several hours on 2 cores); resumable: suites that benchmarks/results/manifest.json
# records as written from this source tree are kept (commit what a stopped run wrote, run again);
# `tracklearn bench --suite NAME` runs one
bench: $(STAMP)
	$(BIN)/tracklearn bench --resume --out benchmarks/results --suite simulation --suite simulation-validation --suite baselines \
	  --suite graphs --suite gnn --suite classical --suite toys --suite hashing --suite scale-out --suite muon-trigger --suite export \
	  --suite uncertainty --suite fullspectrum
	$(MAKE) readme-numbers

# the README's generated blocks (<!-- generated: NAME -->) rewritten from benchmarks/results/*.json
readme-numbers: $(STAMP)
	$(BIN)/python -m tracklearn.bench.readme README.md benchmarks/results

bench-toys: $(STAMP)
	$(BIN)/tracklearn bench --out benchmarks/results --suite toys

train-default: $(STAMP)  # retrain the shipped fullspectrum model (the default method)
	PYTHON=$(abspath $(BIN))/python scripts/train_fullspectrum.sh build/train-fullspectrum

train-gnn: $(STAMP)  # retrain the shipped gnn model (measured: 31 min on 2 cores shared with one other job)
	PYTHON=$(abspath $(BIN))/python scripts/train_default.sh build/train-default

train-muon-cnn: $(STAMP)  # retrain the shipped muon-trigger CNN (about 15 min on one core)
	PYTHON=$(abspath $(BIN))/python scripts/train_muon_cnn.sh build/train-muon-cnn

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .mypy_cache .ruff_cache
