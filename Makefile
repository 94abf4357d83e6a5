# Two entry points: `make book` builds the course site, `make test` runs the tests.
# Both create .venv with the pinned dependencies and fetch the weights and reveal.js first.
PYTHON ?= $(shell for p in python3.11 python3.10 python3; do \
    command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 11))' 2>/dev/null \
    && echo $$p && break; done)
PROFILE ?=  # empty: book.toml's profile
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: book pdf test fetch browser clean

book: fetch
	$(PY) build.py $(if $(strip $(PROFILE)),--profile $(PROFILE))

# the site and the whole book as one PDF, printed by Chromium
pdf: fetch browser
	$(PY) build.py --pdf $(if $(strip $(PROFILE)),--profile $(PROFILE))

test: fetch browser
	$(PY) -m pytest $(PYTEST_ARGS)

# The site's tests drive Debian's Chromium (Playwright's own browser download needs a network).
# Installed here when missing and we are root, as in CI; otherwise those tests skip (or fail
# in CI, where CI=true).
CHROMIUM := /usr/bin/chromium
browser:
	@test -x $(CHROMIUM) || { if [ "$$(id -u)" = 0 ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	    else echo "note: $(CHROMIUM) missing; the browser tests will skip (apt-get install chromium)"; fi; }

fetch: $(VENV)/.installed  # once: the weights, reveal.js and minisearch (slides and search, with npm)
	$(PY) -m d2lstyle.weights vgg19 vgg16
	@command -v npm >/dev/null || { if [ "$$(id -u)" = 0 ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y npm; \
	    else echo "error: npm is needed once, to fetch reveal.js and minisearch for the site (apt-get install npm)"; exit 1; fi; }
	$(PY) -m builder.npm

$(VENV)/.installed: requirements.txt pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: d2lstyle needs Python 3.10 or 3.11 (MXNet 1.9.1 imports distutils, removed in 3.12); none found on PATH. Install python3.11 or use environment.yml (conda), or run make PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -qq --upgrade pip
	$(PY) -m pip install -qq -r requirements.txt
	$(PY) -m pip install -qq --no-deps -e .
	touch $@

clean:
	rm -rf _build
