# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: venv browser postgres demo test test-fast test-spark test-postgres test-hostile lint docs format bench bench-spark bench-serving reliability clean

# (Re)install when pyproject.toml changes; the stamp records the last install.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

venv: $(STAMP)

# tests/report/test_browser.py opens every HTML report in Debian's chromium: install it when
# it is missing (as root, else with sudo; SDS_CHROMIUM names another binary). When it cannot
# be installed, those tests fail and say why.
SDS_CHROMIUM ?= /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

browser:
	@test -x $(SDS_CHROMIUM) || { $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  echo "warning: could not install chromium; tests/report/test_browser.py will fail" >&2

# tests/postgres starts a PostgreSQL server of its own (initdb in a temporary folder, as a
# user that is not root): install Debian's server binaries when they are missing (as root,
# else with sudo). When they cannot be installed, those tests fail and say why.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; } || \
	  echo "warning: could not install postgresql; tests/postgres will fail" >&2

demo: $(STAMP)
	$(BIN)/sds demo --output reports

# The suite runs on TEST_WORKERS processes (pytest-xdist; 2 by default, one per core here),
# each file whole on one worker so its module fixtures (trained models, servers) are built
# once. TEST_WORKERS=0 runs it in this process (for pdb).
TEST_WORKERS ?= 2
PARALLEL := $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)

# pytest exits 5 when it collects no tests: that is a failure here, not a pass. PYTEST runs
# pytest with that rule; make test also names the 20 slowest tests (benchmarks/README.md).
define PYTEST
@$(BIN)/python -m pytest $(1); rc=$$?; \
if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests" >&2; exit 1; fi; \
exit $$rc
endef

test: $(STAMP) browser postgres
	$(call PYTEST,$(PARALLEL) --durations=20)

# The tiers (markers set at collection, tests/tiers.py). test-fast, for development: every
# test not marked slow (no Spark, no simulations, no trained-model sweeps).
test-fast: $(STAMP) browser postgres
	$(call PYTEST,$(PARALLEL) -m fast)

# The local Spark tier (Java 17+), the PostgreSQL tier, the attacker and careless-user tier.
test-spark: $(STAMP)
	$(call PYTEST,$(PARALLEL) -m spark)

test-postgres: $(STAMP) postgres
	$(call PYTEST,$(PARALLEL) -m postgres)

test-hostile: $(STAMP)
	$(call PYTEST,$(PARALLEL) -m hostile)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts docs/*.py
	$(BIN)/ruff format --check src tests benchmarks scripts docs/*.py
	$(BIN)/mypy

# The docs site (mkdocs, Material theme) into site/; --strict fails on any warning (a broken
# link, a missing page, an API entry that does not resolve). The reference pages are
# generated from the code at build time (docs/hooks.py). CI runs this; `mkdocs serve` previews.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks scripts
	$(BIN)/ruff check --fix src tests benchmarks scripts

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	$(BIN)/python benchmarks/profile_bench.py
	$(BIN)/python benchmarks/analysis_bench.py

# Every engine-backed job on 10,000,000 rows on DuckDB and on a local Spark (about 25 min).
bench-spark: $(STAMP)
	$(BIN)/python benchmarks/spark_bench.py

# The model server against FastAPI + scikit-learn and mlflow models serve (installs mlflow
# once into benchmarks/out/mlflow-venv), and the 12-minute reliability run.
bench-serving: $(STAMP)
	$(BIN)/python benchmarks/serving.py
	$(BIN)/python benchmarks/monitor_bench.py

reliability: $(STAMP)
	$(BIN)/python benchmarks/reliability.py

clean:
	rm -rf $(VENV) reports site .pytest_cache .mypy_cache .ruff_cache
