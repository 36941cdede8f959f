# TicketQ: `make demo` runs a demo drop, `make test` runs the whole suite.
# Both create .venv on first use. REDIS_URL / DATABASE_URL switch from the
# embedded servers (under ./.ticketq/) to existing ones.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Browser libraries (package.json) go to ./node_modules, which npm ci empties first.
NODE_STAMP := node_modules/.installed-stamp
PYTEST_ARGS ?=

.PHONY: install demo test lint simulate bench services-stop clean

install: $(STAMP) $(NODE_STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# --ignore-scripts: no package's install hooks run; the gateway serves only listed files.
$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: install Node.js 20+ with npm"; exit 1; }
	npm ci --no-audit --no-fund --ignore-scripts
	touch $(NODE_STAMP)

demo: install
	$(BIN)/ticketq demo

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

simulate: install
	$(BIN)/ticketq simulate

bench: install
	$(BIN)/python -m loadtest.bench

services-stop: install
	$(BIN)/ticketq services stop

clean:
	-test -x $(BIN)/ticketq && $(BIN)/ticketq services stop
	rm -rf .ticketq
