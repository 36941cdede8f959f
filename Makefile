# TicketQ: `make demo` runs a demo drop, `make test` runs the whole suite.
# Both create .venv on first use. REDIS_URL / DATABASE_URL switch from the
# embedded servers (under ./.ticketq/) to existing ones.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Browser libraries (package.json) go to ./node_modules, which npm ci empties first.
NODE_STAMP := node_modules/.installed-stamp
LOCK_VENV := .venv-lock
PYTEST_ARGS ?=
# `make demo ARGS="--cluster --gateways 3"`: options for `ticketq demo`.
ARGS ?=
# Bigger crowds: make bench-scale SCALE_ARGS="--steps 1000,2000,5000,10000,20000 --duration 60"
SCALE_ARGS ?=

.PHONY: install lock demo demo-cluster screenshots test lint simulate bench bench-scale services-stop clean

install: $(STAMP) $(NODE_STAMP)

# constraints.txt pins every Python package of the tested environment (`make lock`).
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

# --ignore-scripts: no package's install hooks run; the gateway serves only listed files.
$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: install Node.js 20+ with npm"; exit 1; }
	npm ci --no-audit --no-fund --ignore-scripts
	touch $(NODE_STAMP)

# Refresh constraints.txt: the newest versions pyproject.toml allows, in a fresh venv.
lock:
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LOCK_VENV)/bin/python -m pip install --quiet -e '.[test]'
	{ echo "# Every Python package of the test environment, pinned. Made by \`make lock\`"; \
	  echo "# (Python $$($(LOCK_VENV)/bin/python -c 'import platform; print(platform.python_version())')); \`make install\` installs with -c constraints.txt."; \
	  $(LOCK_VENV)/bin/python -m pip freeze --all --exclude-editable | grep -v '^ticketq=='; \
	} > constraints.txt.new
	mv constraints.txt.new constraints.txt
	rm -rf $(LOCK_VENV)
	$(MAKE) install

demo: install
	$(BIN)/ticketq demo $(ARGS)

# Production's shape on loopback: Redis Cluster, gateways behind HAProxy, several workers.
demo-cluster: install
	$(BIN)/ticketq demo --cluster $(ARGS)

# Every page, desktop and phone, as PNGs with an index.html (git-ignored folder).
screenshots: install
	$(BIN)/ticketq screenshots --out screenshots

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

simulate: install
	$(BIN)/ticketq simulate

bench: install
	$(BIN)/python -m loadtest.bench

# The same drop at growing crowds (default 500, 1000, 2000 fans): cost per fan per step.
bench-scale: install
	$(BIN)/python -m loadtest.bench_scale $(SCALE_ARGS)

services-stop: install
	$(BIN)/ticketq services stop

clean:
	-test -x $(BIN)/ticketq && $(BIN)/ticketq services stop
	rm -rf .ticketq
