# Two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test test-slow lint bench bench-peer clean browser postgres messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[fast,report,stats,excel]'
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(STAMP)

DEMO_OUT := demo-out
Q3_DATA := $(foreach s,interactions surveys inspections complaints,$(s)=data/sample/q3/$(s).csv)

demo: $(STAMP)
	@echo "== 1. check the bundled schemes"
	$(BIN)/qualiscore validate rules/
	$(BIN)/qualiscore test rules/
	@echo "== 2. score the sample quarter (April-June 2026) with cs-quality 2026Q2"
	$(BIN)/qualiscore evaluate rules/cs-quality/2026Q2.yaml data/sample/interactions.csv -o $(DEMO_OUT) --report \
	  --format xlsx
	@echo "== 3. why did the first agent get this grade?"
	$(BIN)/qualiscore explain $(DEMO_OUT) --subject A001/2026-04
	@echo "== 4. can an auditor confirm the run? (recomputes it from the scheme and data)"
	$(BIN)/qualiscore verify $(DEMO_OUT)
	@echo "== 5. July-September with cs-quality 2026Q3, from four exports joined by the scheme itself"
	$(BIN)/qualiscore validate rules/cs-quality/2026Q3.yaml $(Q3_DATA:%=--data %)
	$(BIN)/qualiscore evaluate rules/cs-quality/2026Q3.yaml $(Q3_DATA) -o $(DEMO_OUT)-q3 --report
	$(BIN)/qualiscore verify $(DEMO_OUT)-q3
	@echo "== 6. one week of quality inspection: the sample, the reviewers' results, their agreement"
	$(BIN)/qualiscore sample rules/cs-quality/2026Q3.yaml interactions=data/sample/q3/interactions.csv \
	  --period 2026-W28 -o $(DEMO_OUT)-w28 --format xlsx
	$(BIN)/qualiscore evaluate rules/cs-inspection/2026Q3.yaml sample=$(DEMO_OUT)-w28/sample.csv \
	  reviews=data/sample/q3/reviews-2026-W28.csv -o $(DEMO_OUT)-w28-reviews
	@$(BIN)/qualiscore calibrate rules/qa-form/2026Q2.yaml data/sample/qa-reviews.csv \
	  || echo "(exit 1: some items are not calibrated yet; docs/inspection.md says what to do)"
	$(BIN)/qualiscore verify $(DEMO_OUT)-w28
	@echo
	@echo "Results are in $(DEMO_OUT)/: report.html (open it in a browser), scorecards.xlsx and"
	@echo "scorecards.csv (one line per agent and month, each value with its 95% interval and each grade's"
	@echo "stability: docs/confidence.md), scorecards.jsonl (every number explained), rejects.csv (rows not scored,"
	@echo "with reasons), manifest.json (scheme, input and output hashes), row-digests.bin (a digest per"
	@echo "input line, so verify can name a line changed later). The third quarter, scored from the"
	@echo "call log, surveys, QA inspections and complaint tickets, is in $(DEMO_OUT)-q3/; week 28's"
	@echo "inspection sample in $(DEMO_OUT)-w28/ (sample.xlsx for the reviewers) and their findings per agent"
	@echo "in $(DEMO_OUT)-w28-reviews/. The whole inspection week is walked through in docs/inspection.md."

# After adding or changing a message: extract every message, merge it into each language's catalog
# (src/qualiscore/locale/*/LC_MESSAGES/qualiscore.po), compile the .mo; lists what still needs translating.
messages: $(TEST_STAMP)
	$(BIN)/python -m qualiscore.i18n.catalog

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

# The report's browser test needs Chromium; install it from Debian's packages when we can.
browser:
	@if command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi cjk; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk) \
	    >/dev/null 2>&1 || echo "note: Chromium could not be installed; the browser test will be skipped"; \
	else echo "note: no Chromium and no way to install it; the browser test will be skipped"; fi

# The database tests start a real PostgreSQL server (tests/pgserver.py); install Debian's when we can.
postgres:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) \
	    >/dev/null 2>&1 || echo "note: PostgreSQL could not be installed; the database tests will be skipped"; \
	else echo "note: no PostgreSQL and no way to install it; the database tests will be skipped"; fi

# Two workers (pytest-xdist): the CI machine has two cores; `pytest -q` alone runs the suite serially.
test: $(TEST_STAMP) lint browser postgres
	$(BIN)/python -m pytest -q -n 2

test-slow: $(TEST_STAMP)
	QUALISCORE_SLOW=1 $(BIN)/python -m pytest -q -m slow

bench: $(TEST_STAMP)
	$(BIN)/python bench/run.py

# qualiscore against cs-quality 2026Q2 written by hand as one DuckDB query (bench/README.md).
bench-peer: $(TEST_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/peer.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache .mypy_cache demo-out demo-out-q3 demo-out-w28 demo-out-w28-reviews
