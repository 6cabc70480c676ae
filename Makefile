# The two commands of the README: `make book` and `make test`. Each creates .venv (with the
# first python3.11 / python3 on PATH) and installs lessonlib and its pinned dependencies.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

export TF_CPP_MIN_LOG_LEVEL := 3
export PYDEVD_DISABLE_FILE_VALIDATION := 1

# Test workers (pytest-xdist): the book build (and the browser tests that read it) runs on
# one while the other tests share the rest.
TEST_WORKERS ?= 2

.PHONY: book test bench lint install clean browser-deps sandbox-deps

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
## warnings as errors (every executed page checked against benchmarks/budgets.toml), and
## the book and notebooks in a real browser (tests/browser).
## One BLAS thread per process: two workers on two cores leave no core for more (book: Performance).
test: $(STAMP) browser-deps sandbox-deps
	PATH="$(abspath $(BIN)):$$PATH" OPENBLAS_NUM_THREADS=1 $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup

## Run every benchmark (numpy vs the libraries, page and book-build times): writes
## benchmarks/results/latest.json and latest.md, the table on the book's performance page.
bench: $(STAMP)
	$(BIN)/python -m benchmarks

## Debian packages the browser tests need: Chromium (Playwright in .venv drives it) and a
## CJK font, so the Korean terms of the glossary render as text, not boxes. Installed only
## when missing; that needs root (CI runs as root).
BROWSER_PACKAGES := chromium fonts-noto-cjk fonts-noto-color-emoji
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

## The Debian package the grader's strongest sandbox needs: bubblewrap (bwrap). Without it
## `lessonlib grade` falls back to unshare (said in a warning line); the tests use it.
sandbox-deps:
	@if command -v bwrap >/dev/null; then exit 0; fi; \
	if ! command -v apt-get >/dev/null || [ "$$(id -u)" != 0 ]; then \
	  echo "The grader's sandbox needs bubblewrap (bwrap): sudo apt-get install -y bubblewrap (Debian/Ubuntu), then run make test again."; \
	  exit 1; \
	fi; \
	echo "Installing bubblewrap (Debian package, for the grader's sandbox)"; \
	$(APT_INSTALL) bubblewrap >/dev/null || { apt-get update -q >/dev/null && $(APT_INSTALL) bubblewrap >/dev/null; }

lint: $(STAMP)
	$(BIN)/ruff check lessonlib tests benchmarks

clean:
	rm -rf $(VENV) book/_build .timings
