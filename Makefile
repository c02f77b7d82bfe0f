# Two commands set everything up on a fresh machine: `make run` and `make test`.
# Both install the locked, hash-checked dependency set (requirements.lock), then the project
# itself without dependencies; `make lock` refreshes the lock from pyproject.toml.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
LOCK   := requirements.lock
# pytest-xdist workers for `make test` (0 runs in one process). Most of the slow tests wait on
# servers, outages and browsers rather than compute, so a second worker uses those waits.
TEST_WORKERS ?= 2

.PHONY: run test lint bench clips clean lock

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml $(LOCK) | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r $(LOCK)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/hall demo

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) benchmarks/policy.py

# Regenerates the committed voice clip pack from Debian's espeak-ng.
clips: $(STAMP)
	$(PY) -m displays.voice.generate

# Re-resolves every dependency (runtime, test, bench and cluster extras) with hashes into requirements.lock.
lock: | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check pip-tools
	$(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
		--no-emit-find-links --extra test --extra bench --extra cluster -o $(LOCK) pyproject.toml

clean:
	rm -rf $(VENV) .pytest_cache
