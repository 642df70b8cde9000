# Two commands regenerate and verify everything:  make results  /  make test
# The virtual environment is (re)built from requirements.lock whenever the lock
# or pyproject.toml is newer than the last install.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# The Jupyter kernel the notebooks name; registered inside .venv, so nothing
# outside the project folder changes.
KERNEL := governance-study

.PHONY: venv results test check bench lab browser clean-build

$(STAMP): requirements.lock pyproject.toml
	@echo "== setting up $(VENV) from requirements.lock"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@# pip 23 (Python 3.11's bundled pip) fails to resolve lxml[html_clean] asked for by two packages; 25.3 does.
	$(PY) -m pip install --quiet --disable-pip-version-check pip==25.3
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (governance study)" > /dev/null
	@touch $(STAMP)

venv: $(STAMP)

## Regenerate every table, figure, notebook and the report into results/.
results: $(STAMP)
	$(PY) -m pipeline run

## Regenerate into a temporary folder and compare with the committed results/.
check: $(STAMP)
	$(PY) -m pipeline check

## The test suite; the regeneration check (`make check`) is one of its tests (tests/run/test_check.py).
# The tests run on pytest-xdist workers, one test module per worker at a time (--dist loadfile), so that
# a module's fixtures (the warm project the fault tests share, the check's regeneration) are built once
# and the tests sharing them never run at the same time; the modules with slow tests start first
# (tests/conftest.py, kept in that order by --no-loadscope-reorder). One worker per core, at most 4: the
# slow tests start processes of their own (dask workers, kernels, the benchmark's tasks), and past 4
# workers the longest module (tests/run/test_faults_processes.py, about 2 minutes) bounds the time anyway.
# `pytest` alone still runs everything in one process.
TEST_WORKERS ?= -n auto --maxprocesses=4
test: $(STAMP) browser
	$(PY) -m pytest $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

## The browser the page tests drive: Debian's Chromium (installed when missing
## and this is root; otherwise the browser test says what is missing).
browser:
	@command -v chromium > /dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get > /dev/null; then \
	    echo "== installing chromium (Debian package) for the browser test"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    (apt-get install -y -q chromium > /dev/null 2>&1 || \
	     (apt-get update -q > /dev/null && apt-get install -y -q chromium > /dev/null)); \
	  else echo "== chromium is not installed and cannot be installed here: the browser test will fail"; fi; }

## The notebooks in JupyterLab, on the study's own kernel.
lab: $(STAMP)
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

## Scaling benchmark (10x, 100x, 1000x corpora).
bench: $(STAMP)
	$(PY) -m pipeline bench

## Remove build/: the stage cache, jieba's cache and the startup artifacts
## (build/artifacts/, keyed by their inputs and used by every run, --no-cache too).
clean-build:
	rm -rf build
