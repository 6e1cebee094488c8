# The two front-door commands: `make demo` and `make test`. Both create .venv on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The compiled page reader (intacct/_fastpage.pyx): built when a C compiler is there; else the
# app reads pages the general way, slower, and the build says so.
FASTPAGE := intacct/.fastpage-built

.PHONY: demo test bench clean

$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-build.txt
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "ml-connector needs Python 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(FASTPAGE): intacct/_fastpage.pyx intacct/_fastpage_build.py $(VENV)/.installed
	$(PY) -m intacct._fastpage_build
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

demo: $(VENV)/.installed $(FASTPAGE)
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory node_modules/.installed; \
	else echo "npm not found: the demo runs without the Agents Playground"; fi
	$(PY) app.py demo

test: $(VENV)/.installed $(FASTPAGE) node_modules/.installed
	$(PY) -m pytest -q

bench: $(VENV)/.installed $(FASTPAGE)
	for b in bench/[!_]*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) node_modules data appPackage/build .pytest_cache $(FASTPAGE) intacct/_fastpage.*.so intacct/_fastpage.*.pyd
