# Two commands regenerate and verify everything:  make results  /  make test
# The virtual environment is (re)built from requirements.lock whenever the lock
# or pyproject.toml is newer than the last install.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: venv results test check bench clean-build

$(STAMP): requirements.lock pyproject.toml
	@echo "== setting up $(VENV) from requirements.lock"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

venv: $(STAMP)

## Regenerate every table, figure, notebook and the report into results/.
results: $(STAMP)
	$(PY) -m pipeline run

## Regenerate into a temporary folder and compare with the committed results/.
check: $(STAMP)
	$(PY) -m pipeline check

## The test suite, after the regeneration check.
test: $(STAMP) check
	$(PY) -m pytest

## Scaling benchmark (10x, 100x, 1000x corpora).
bench: $(STAMP)
	$(PY) -m pipeline bench

clean-build:
	rm -rf build
