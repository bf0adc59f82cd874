# NEOT: two commands for a newcomer. `make demo` runs the whole story, `make test` the whole suite.
# Both create .venv with Python 3.13 and install what they need; nothing else is assumed.

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# python3.13 from PATH, else a pyenv-installed 3.13 (pyenv shims can be present but inactive).
PYTHON313 := $(shell for p in python3.13 $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.13*/bin/python3.13 2>/dev/null); do \
	$$p -c 'import sys; assert sys.version_info[:2] == (3, 13)' >/dev/null 2>&1 && { echo $$p; break; }; done)
STAMP := $(VENV)/.installed

.PHONY: demo test bench lint licenses system-deps clean

$(VENV)/bin/python:
	@if [ -z "$(PYTHON313)" ]; then \
		echo "error: Python 3.13 not found. Install it (e.g. 'pyenv install 3.13', or your distribution's python3.13) and put python3.13 on PATH." >&2; \
		exit 2; fi
	$(PYTHON313) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# Debian tools the tests and the demo drive for real: gpsd/gpsfake (GPS) and Chromium (dashboard).
system-deps:
	@bash scripts/system-deps.sh

demo: $(STAMP) system-deps
	$(VENV)/bin/neot demo

test: lint system-deps
	$(PY) -m pytest -n 2 --dist loadgroup

bench: $(STAMP) system-deps
	@for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# ruff (rules and format), mypy strict, and the import contracts of ARCHITECTURE.md (pyproject.toml).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy neot models migrations protocol vehicle_agent scoring_service insurer_api chain demo
	$(VENV)/bin/lint-imports

licenses: $(STAMP)
	$(VENV)/bin/pip-licenses --from=mixed --format=json --with-urls | $(PY) scripts/licence_table.py > THIRD_PARTY_LICENSES.md

clean:
	rm -rf $(VENV) .neot .pytest_cache
