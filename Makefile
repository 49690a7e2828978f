# The two commands of README: `make run` and `make test`. Both need only Python 3.11+.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint format browser manage bench wrk

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m portal.launcher

# One management command on the servers `make run` uses, e.g.
#   make manage ARGS="changepassword bureau_admin"
# With DATABASE_URL / REDIS_URL unset it starts the embedded ones that are not running,
# and stops what it started when the command ends.
manage: $(STAMP)
	$(PY) -m portal.launcher manage $(ARGS)

# The browser tests drive Debian's chromium; `browser` installs it when it is missing and
# we may (root with apt-get). Without it those tests are skipped, unless CI requires them.
browser:
	@test -x /usr/bin/chromium || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null) \
	  || echo "chromium is not installed: browser tests will be skipped"; }

# The suite runs in PYTEST_WORKERS processes (pytest-xdist), each with its own test database
# and Redis databases (portal/testing.py); --dist worksteal hands a worker's remaining tests
# to the other when it runs dry, so the slow browser and Celery tests spread out.
# One file, serially:  make test PYTEST_WORKERS=0 PYTEST_ARGS=tests/portal/test_pages.py
PYTEST_WORKERS ?= 2
PYTEST_DIST ?= worksteal

test: $(STAMP) browser
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist $(PYTEST_DIST) $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Every benchmark under bench/ and one table of their figures: reduced scale (under ten
# minutes on two cores, first fills included) or, with FULL=1, the scale bench/README reports.
# The HTTP benchmarks drive wrk, installed here like chromium when it is missing.
FULL ?=
bench: $(STAMP) wrk
	$(PY) bench/run_all.py $(if $(FULL),--full) $(BENCH_ARGS)

wrk:
	@test -x /usr/bin/wrk || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null) \
	  || { echo "wrk is missing: apt-get install wrk"; exit 1; }; }
