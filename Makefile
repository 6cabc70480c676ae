# The two commands of the README: `make book` and `make test`. Each creates .venv (with the
# first python3.11 / python3 on PATH) and installs lessonlib and its pinned dependencies.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

export TF_CPP_MIN_LOG_LEVEL := 3
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: book test lint install clean browser-deps

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	touch $(STAMP)

## Build the published book: every chapter and notebook executed, HTML in book/_build/html.
book: $(STAMP)
	$(BIN)/jupyter-book build book
	@echo "Book written to book/_build/html/index.html"

## Run every test: unit tests, checker proofs, notebooks under nbval, a book build with
## warnings as errors, and the book and notebooks in a real browser (tests/browser).
test: $(STAMP) browser-deps
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m pytest

## Debian packages the browser tests need: Chromium (Playwright in .venv drives it) and a
## CJK font, so the Korean terms of the glossary render as text, not boxes. Installed only
## when missing; that needs root (CI runs as root).
BROWSER_PACKAGES := chromium fonts-noto-cjk
APT_INSTALL := DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600

browser-deps:
	@missing=""; for p in $(BROWSER_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null; then \
	  echo "The browser tests need Chromium at /usr/bin/chromium and a CJK font (Debian:$$missing)."; \
	  echo "This is not a Debian system: install them yourself, or run .venv/bin/python -m pytest -m 'not browser'."; \
	  exit 1; \
	fi; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "The browser tests need the Debian packages$$missing, and installing them needs root:"; \
	  echo "  sudo apt-get install -y$$missing"; \
	  echo "then run make test again (or skip those tests: .venv/bin/python -m pytest -m 'not browser')."; \
	  exit 1; \
	fi; \
	echo "Installing$$missing (Debian packages, for the browser tests)"; \
	$(APT_INSTALL)$$missing >/dev/null || { apt-get update -q >/dev/null && $(APT_INSTALL)$$missing >/dev/null; }

lint: $(STAMP)
	$(BIN)/ruff check lessonlib tests

clean:
	rm -rf $(VENV) book/_build
