# The two commands of the README: `make demo` and `make test`. Both set up .venv themselves.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,serve,report,browse,spark]'
	touch $(STAMP)

# The demo keeps its own audit file and starts it afresh, so every run prints the same
# (your credit-audit.db is never touched by it).
DEMO_FILES := demo-audit.db demo-audit.db-wal demo-audit.db-shm demo-audit.db.key \
	demo-audit.db.monitor-lock results.jsonl monitor-actions.csv rescore.csv report.html \
	letters letters.csv statements statements.csv
demo: export CREDIT_DB = demo-audit.db
demo: $(STAMP)
	rm -rf $(DEMO_FILES)
	$(BIN)/credit validate rulesets/default
	$(BIN)/credit decide examples/customers/bbb-distributor.json --as-of 2026-11-30
	$(BIN)/credit batch examples/portfolio.csv --out results.jsonl --as-of 2025-12-31
	$(BIN)/credit events ingest examples/events.jsonl
	$(BIN)/credit events ingest examples/dunning-blocks.jsonl
	$(BIN)/credit monitor --as-of 2026-11-30 --csv > monitor-actions.csv
	$(BIN)/credit monitor --as-of 2026-11-30 --worklist
	$(BIN)/credit letters --as-of 2026-11-30 --out letters --csv > letters.csv
	$(BIN)/credit statements --as-of 2026-11-30 --out statements --csv > statements.csv
	$(BIN)/credit rescore --as-of 2026-11-30 --csv > rescore.csv
	$(BIN)/credit audit verify
	$(BIN)/credit replay --all --since 2025-12-31
	$(BIN)/credit audit stats
	$(BIN)/credit report --out report.html --to 2026-11-30

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/bench_targets.py
	$(BIN)/python bench/bench_batch_budget.py
	$(BIN)/python bench/bench_decide.py
	$(BIN)/python bench/bench_audit.py
	$(BIN)/python bench/bench_events.py
	$(BIN)/python bench/bench_monitor.py
	$(BIN)/python bench/bench_simulate.py
	$(BIN)/python bench/bench_orders.py
	$(BIN)/python bench/bench_order_memory.py
	$(BIN)/python bench/bench_serve.py

clean:
	rm -rf $(VENV) $(DEMO_FILES) .pytest_cache
