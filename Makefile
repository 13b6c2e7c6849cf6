# Verbund — one entry point for people and CI. Every target bootstraps what it needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MEMBERS := -e ./schemas -e ./runtime -e ./services/matcher -e ./services/notifier -e ./services/console -e '.[dev]'
PYTEST_ARGS ?=

.PHONY: help venv bytecode tools jars demo test test-unit chaos lint docs stack-up stack-down clean

help:
	@echo "make demo        run the plastics-network demo on the embedded defaults (local Kafka, SQLite, SMTP sink)"
	@echo "make test        install everything needed and run unit, integration and end-to-end tests (a skip fails)"
	@echo "make test-unit   the unit tests only: no broker, no database"
	@echo "make chaos       faults under load, long variants (about 20 min): prints the fault table"
	@echo "make lint        ruff + mypy"
	@echo "make docs        regenerate JSON Schema and AsyncAPI documents"
	@echo "make stack-up    start the local Kafka broker (and PostgreSQL with STACK_ARGS=--postgres)"
	@echo "make stack-down  stop it"

venv: $(STAMP)

# uv when it can be had (fast, resolves the workspace), pip otherwise.
$(STAMP): pyproject.toml schemas/pyproject.toml runtime/pyproject.toml services/matcher/pyproject.toml services/notifier/pyproject.toml services/console/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@if command -v uv >/dev/null 2>&1; then UV=uv; \
	elif $(BIN)/python -m pip install -q uv >/dev/null 2>&1; then UV=$(BIN)/uv; \
	else UV=; fi; \
	if [ -n "$$UV" ]; then VIRTUAL_ENV=$(VENV) $$UV pip install -q --compile-bytecode $(MEMBERS); \
	else $(BIN)/python -m pip install -q --upgrade pip && $(BIN)/python -m pip install -q $(MEMBERS); fi
	@touch $@

# Bytecode of the project's own sources (the installers compile the dependencies). Where
# PYTHONDONTWRITEBYTECODE is set nothing else writes it, and every process start (the services, the CLI
# in the end-to-end tests) would compile every module again: seconds each. Up-to-date files are skipped.
bytecode: venv
	@$(BIN)/python -m compileall -q schemas runtime services src tests bench >/dev/null

# System tools the tests use: kcat and a PostgreSQL server (Debian packages, installed when missing and root).
tools:
	@bash infra/install-tools.sh

# Apache Kafka's broker jars from Maven Central into .cache/kafka (once).
jars: venv
	@$(BIN)/verbund stack fetch

demo: venv bytecode jars
	@$(BIN)/verbund demo

test: venv bytecode tools jars
	@$(BIN)/python -m pytest -q -ra $(PYTEST_ARGS)

test-unit: venv bytecode
	@$(BIN)/python -m pytest -q -ra tests/unit $(PYTEST_ARGS)

# Kills the services, a broker and a PostgreSQL server of its own while records flow; CHAOS_ARGS="--help" lists options.
chaos: venv bytecode tools jars
	@$(BIN)/python bench/chaos.py $(CHAOS_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

docs: venv
	@env -u VERBUND_TOPIC_PREFIX $(BIN)/python -m verbund.docs_gen

stack-up: venv jars
	@$(BIN)/verbund stack up $(STACK_ARGS)

stack-down: venv
	@$(BIN)/verbund stack down

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
