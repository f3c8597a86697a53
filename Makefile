# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

# The app fails closed (DEBUG off, SECRET_KEY required unless DEBUG=true).
# make is the laptop's tool: its commands run in development mode. A server
# never runs make; it sets DEBUG=false and its own SECRET_KEY.
export DEBUG ?= true
# ... with the developer tools (followup/devtools): seed_demo, the benchmarks,
# load_test. A server leaves DEVTOOLS unset, so the app is not installed.
export DEVTOOLS ?= true
# make run signs sessions with a key generated once for this checkout.
DEV_SECRET_KEY := var/dev-secret-key

# The web port (`PORT=8100 make run`) and the HL7 listener's port.
PORT     ?= 8000
HL7_PORT ?= 2575
SITE     := http://127.0.0.1:$(PORT)/

.PHONY: run setup test test-fast lint audit messages vendor-static benchmark clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed: set PYTHON=python3.11 (or newer) and try again.")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed-runtime

## setup: install, migrate, compile translations, load demo data
setup: $(VENV)/.installed-runtime
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py compile_translations
	$(BIN)/python manage.py seed_demo --site-url $(SITE)

## run: the app on http://127.0.0.1:$(PORT) with a Celery worker, beat and the HL7
## listener (Ctrl-C stops all). honcho sets PORT for each process itself, so the
## Procfile reads WEB_PORT.
run: setup $(DEV_SECRET_KEY)
	SECRET_KEY="$${SECRET_KEY:-$$(cat $(DEV_SECRET_KEY))}" WEB_PORT=$(PORT) HL7_PORT=$(HL7_PORT) SITE_URL=$(SITE) $(BIN)/honcho --procfile Procfile start

$(DEV_SECRET_KEY):
	@mkdir -p $(@D)
	@umask 077 && $(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))' > $@

## The suite runs in worker processes (pytest-xdist), one per CPU and at
## least two, at most four; a test file stays in one process (its module
## fixtures are set up once). PYTEST_ARGS=-n0 runs it in this process.
PARALLEL_ARGS := --numprocesses $(shell n=$$(nproc 2>/dev/null || echo 2); [ $$n -lt 2 ] && n=2; [ $$n -gt 4 ] && n=4; echo $$n) --dist loadfile
## test: lint, format check and the whole test suite (CI=true: against PostgreSQL and Redis)
test: $(VENV)/.installed-dev
	./scripts/ensure-browser.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/bandit --quiet --recursive --severity-level medium --exclude ./tests,./.venv,./var followup calls complaints interop
	$(BIN)/python manage.py compile_translations
	VAR_DIR=$(CURDIR)/var/test $(BIN)/pytest $(PARALLEL_ARGS) $(PYTEST_ARGS)

## test-fast: the developer's inner loop: the suite without the browser, fault
## (real worker, broker outages, database drops) and load-smoke tests, no lint.
## `make test` and CI run everything.
FAST_ARGS := --ignore=tests/browser --ignore=tests/faults -m "not browser and not worker and not load"
test-fast: $(VENV)/.installed-dev
	$(BIN)/python manage.py compile_translations
	VAR_DIR=$(CURDIR)/var/test $(BIN)/pytest $(PARALLEL_ARGS) $(FAST_ARGS) $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## audit: check every pinned package against the published vulnerability
## advisories (needs the internet: PyPI's per-release JSON, or OSV with
## AUDIT_SERVICE=osv). --strict makes a package that could not be checked a
## failure, so an unreachable advisory source never reads as "no vulnerabilities".
AUDIT_SERVICE ?= pypi
.venv-audit/.installed: requirements-audit.txt
	$(PYTHON) -m venv .venv-audit
	.venv-audit/bin/pip install --quiet -r requirements-audit.txt
	touch $@

audit: .venv-audit/.installed
	.venv-audit/bin/pip-audit --strict --disable-pip --no-deps --vulnerability-service $(AUDIT_SERVICE) \
		--requirement requirements.txt --requirement requirements-dev.txt --requirement requirements-audit.txt

## messages: refresh the zh-hans catalogue after changing UI strings (needs GNU gettext)
messages: $(VENV)/.installed-dev
	$(BIN)/python manage.py makemessages --locale zh_Hans --ignore '.venv/*' --ignore '.venv-audit/*' --ignore 'var/*' --no-obsolete --no-wrap
	$(BIN)/python manage.py compile_translations

vendor-static:
	./scripts/vendor-static.sh

clean:
	rm -rf $(VENV) .venv-audit var
