# FlashFlow Workers. `make demo` and `make test` are all a new machine needs (Python 3.11+).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: install browser demo test test-embedded services-down doctor eval-deps fixtures bench lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

## install: create .venv and install the package with its test tools
install: $(VENV)/.installed

## demo: start the embedded servers, migrate, and run the Winners Bank on the bundled samples
demo: install
	$(BIN)/flashflow demo

## browser: a Chromium for the console's browser tests: the system one (Debian's `chromium`), else Playwright's
browser: install
	@if [ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1; then :; \
	else $(BIN)/python -m playwright install chromium || \
	  echo "make: no Chromium (apt-get install chromium); the console's browser tests will skip"; fi

## test: the whole suite (system servers when DATABASE_URL/REDIS_URL are set, else embedded ones)
test: install browser
	$(BIN)/pytest $(PYTEST_ARGS)

## test-embedded: the schema and embedded-server tests against the embedded servers
test-embedded: install
	env -u DATABASE_URL -u REDIS_URL $(BIN)/pytest -m embedded $(PYTEST_ARGS)

## lock: regenerate uv.lock (what the images install) after changing a dependency in pyproject.toml
UV_VERSION := 0.13.9
lock: | $(BIN)/python
	$(BIN)/pip install --quiet uv==$(UV_VERSION)
	$(BIN)/uv lock

## services-down: stop the embedded Postgres and Valkey servers
services-down: install
	$(BIN)/flashflow services down

doctor: install
	$(BIN)/flashflow doctor

## eval-deps: what rendering the hook evaluation set needs (run as root): espeak-ng and the DejaVu font
eval-deps:
	apt-get update && apt-get install -y --no-install-recommends espeak-ng fonts-dejavu-core

## fixtures: remake the test videos (needs espeak-ng and ffmpeg: apt-get install espeak-ng ffmpeg)
fixtures:
	bash tests/fixtures/make_fixtures.sh

clean:
	rm -rf $(VENV) .pytest_cache *.egg-info
