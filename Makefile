# Two commands: `make demo` and `make test`. Both set everything up from a fresh clone.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test setup lint clean bench

demo: setup
	$(VENV)/bin/reclaim demo

test: setup
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy
	scripts/ensure-postgres.sh
	scripts/ensure-browser.sh
	$(PY) scripts/fetch_face_photos.py
	$(PY) -m pytest

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@if [ ! -x $(PY) ]; then python=$$(scripts/find-python.sh) && "$$python" -m venv $(VENV); fi
	$(PY) -m pip install -q --upgrade pip
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

bench: setup
	$(PY) bench/hashing.py
	$(PY) bench/evidence.py

clean:
	rm -rf $(VENV) reclaim-data .pytest_cache .mypy_cache .ruff_cache
