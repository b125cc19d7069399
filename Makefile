# The two commands of the README: `make demo` and `make test`. Both set up .venv first.
# Set-up is idempotent: pip runs again only when a pyproject or the constraints change.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.cjm-installed
PLUGINS := $(sort $(dir $(wildcard plugins/*/pyproject.toml)))
DEPS := pyproject.toml requirements/constraints.txt $(addsuffix pyproject.toml,$(PLUGINS))

DEMO_DATA := data/banking
# root (containers, CI machines) must say so to start JupyterLab
LAB_ARGS := $(if $(filter 0,$(shell id -u)),--allow-root)
DEMO_CUSTOMERS := 5000
DEMO_SEED := 7

.PHONY: setup demo test lint lab bench constraints clean

setup: $(STAMP)

$(STAMP): $(DEPS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing cjm_core and plugins into $(VENV) (first run takes a minute)..."
	@$(BIN)/python -m pip install -q --disable-pip-version-check -c requirements/constraints.txt \
		-e ".[dev,spark]" $(addprefix -e ,$(PLUGINS)) > $(VENV)/pip.log 2>&1 \
		|| { grep -v "^WARNING: Location" $(VENV)/pip.log; echo "Set-up failed: pip output above."; exit 1; }
	@touch $(STAMP)

$(DEMO_DATA)/truth.json: $(STAMP)
	$(BIN)/cjm generate banking --customers $(DEMO_CUSTOMERS) --seed $(DEMO_SEED) --out $(DEMO_DATA)

demo: $(DEMO_DATA)/truth.json
	$(BIN)/cjm study run before_after -p data_dir=$(DEMO_DATA)
	$(BIN)/cjm study run voice_of_customer -p data_dir=$(DEMO_DATA) -p map_dir=reports/journey_map

test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check cjm_core plugins tests benchmarks

lab: setup
	$(BIN)/jupyter lab --notebook-dir=. $(LAB_ARGS)

bench: setup
	$(BIN)/python benchmarks/bench_validate.py
	$(BIN)/python benchmarks/bench_generate.py
	$(BIN)/python benchmarks/bench_journeys.py --events 1000000 10000000 --repeats 3 --impl cjm pandas sql

constraints: setup
	@{ sed -n '1,3p' requirements/constraints.txt; \
	   $(BIN)/python -m pip freeze --exclude-editable | grep -v -i '^cjm'; } > requirements/constraints.new
	@mv requirements/constraints.new requirements/constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
