# Rapport: two commands. `make run` serves the demo; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
REQ_HASH := $(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)
RUNTIME_STAMP := $(VENV)/.runtime-$(REQ_HASH)
DEV_STAMP := $(VENV)/.dev-$(REQ_HASH)

# The suite runs on the real parts: PostgreSQL and Redis on loopback, production-mode settings.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
TEST_REDIS_URL ?= redis://127.0.0.1:6379/9
TEST_ENV := DEBUG=0 HTTPS=0 SECRET_KEY=test-only-secret-key-not-for-deployment-0123456789abcdefghij \
	EVALUATION_PSEUDONYM_KEY=test-only-pseudonym-key-not-for-deployment-0123456789 \
	ALLOWED_HOSTS=127.0.0.1,localhost,testserver DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL)
PYTEST_ARGS ?=

.PHONY: run test bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RUNTIME_STAMP): requirements.txt | $(VENV)/bin/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(RUNTIME_STAMP)

run: $(RUNTIME_STAMP)
	mkdir -p var
	DEBUG=1 $(BIN)/python manage.py migrate --noinput -v0
	DEBUG=1 $(BIN)/python manage.py seed_demo --cohort 200
	@echo
	@echo "Rapport is starting at http://127.0.0.1:8000/  (API docs: http://127.0.0.1:8000/api/docs/)"
	@echo "Log in with any account above. Stop with Ctrl+C."
	@command -v janus >/dev/null && echo "Group sessions: Janus on 127.0.0.1:8188 (docker/janus/local.sh)" || echo "Group sessions: not available on this server (install Debian's janus to try them)"
	eval "$$(sh docker/janus/local.sh)"; DEBUG=1 $(BIN)/uvicorn backend.asgi:application --host 127.0.0.1 --port 8000 --no-server-header

test: $(DEV_STAMP)
	bash tests/setup_services.sh
	$(TEST_ENV) $(BIN)/python manage.py collectstatic --noinput -v0
	$(TEST_ENV) $(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var node_modules tests/browser/node_modules

bench: $(DEV_STAMP)
	bash tests/setup_services.sh
	$(BIN)/python bench/audit.py
	$(BIN)/python bench/call_setup.py
	$(BIN)/python bench/signalling.py
	$(BIN)/python bench/outcomes.py
	$(BIN)/python bench/export.py
	$(BIN)/python bench/messaging.py
	$(BIN)/python bench/group.py
