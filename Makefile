# The two commands of the README: `make book` and `make test`. Each creates .venv (with the
# first of python3.11, python3.12, python3.13, python3 on PATH, or PYTHON=...) and installs
# lessonlib and its pinned dependencies. tools/check-python first says in one sentence which
# Python is needed when that one is outside 3.11-3.13 or cannot create a venv.
PYTHON ?= $(shell for p in python3.11 python3.12 python3.13 python3; do command -v $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

export TF_CPP_MIN_LOG_LEVEL := 3
export PYDEVD_DISABLE_FILE_VALIDATION := 1

# Test workers (pytest-xdist): the book build (and the browser tests that read it) runs on
# one while the other tests share the rest.
TEST_WORKERS ?= 2
comma := ,

.PHONY: book test test-under-load bench lint install clean browser-deps stress-deps sandbox-deps

install: $(STAMP)

# The packages are installed by uv (from PyPI, pinned by constraints.txt as pip would be):
# it downloads in parallel and links from its cache, so creating .venv takes about 35 s
# instead of pip's 85 s on 2 cores, bytecode included (--compile-bytecode: what pip does;
# without it every grading sandbox, which is read-only, would compile TensorFlow again).
# uv itself comes from PyPI into .venv, pinned too.
$(STAMP): pyproject.toml constraints.txt
	@sh tools/check-python "$(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -c constraints.txt -e ".[dev]"
	@# Bytecode for lessonlib (an editable install is not compiled; with PYTHONDONTWRITEBYTECODE
	@# set, every kernel and every grading sandbox, which is read-only, would compile it again).
	$(BIN)/python -m compileall -q lessonlib
	touch $(STAMP)

## Build the published book: every chapter and notebook executed, HTML in book/_build/html.
## Pages are executed again only when their code changed (jupyter-cache), or when anything
## under lessonlib/ or book/data/ changed since the last build: the cache knows a page by its
## code cells alone, and must not serve outputs that older lessonlib code made.
BOOK_CACHE := book/_build/.jupyter_cache
BOOK_STAMP := book/_build/.lessonlib-stamp
book: $(STAMP)
	@if [ -d $(BOOK_CACHE) ] && { [ ! -f $(BOOK_STAMP) ] || [ -n "$$(find lessonlib book/data -newer $(BOOK_STAMP) -type f -not -path "*/__pycache__/*" | head -1)" ]; }; then \
	  echo "lessonlib or book/data changed since the last build: executing every page again"; rm -rf $(BOOK_CACHE); \
	fi
	$(BIN)/jupyter-book build book
	@touch $(BOOK_STAMP)
	@echo "Book written to book/_build/html/index.html"

## Run every test: unit tests, checker proofs, notebooks under nbval, a book build with
## warnings as errors, and the book and notebooks in a real browser (tests/browser).
## No verdict depends on the machine's speed (time budgets are `make bench`'s verdict).
## One BLAS thread per process: two workers on two cores leave no core for more (book: Performance).
test: $(STAMP) browser-deps sandbox-deps
	PATH="$(abspath $(BIN)):$$PATH" OPENBLAS_NUM_THREADS=1 $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup

## `make test` on a busy machine: two CPU-bound processes
## (stress-ng --cpu 2) run beside it on the same cores, started and stopped by .ci/under-load,
## which prints the wall time and fails if the tests fail or take longer than 20 minutes.
test-under-load: stress-deps
	.ci/under-load $(MAKE) test

## Measure performance, all of it in benchmarks/ (numpy vs the libraries, grading
## throughput, every page's time against benchmarks/budgets.toml, the book build): writes
## the one results file benchmarks/results/latest.json (and latest.md, the tables on the
## book's performance page). Fails when a page misses its time budget.
bench: $(STAMP)
	$(BIN)/python -m benchmarks

# $(call debian-packages,PACKAGES,WHAT THEY ARE FOR,HOW TO DO WITHOUT THEM): install the
# Debian packages that are missing (root only; otherwise say how), or do nothing.
APT_INSTALL := DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600
define debian-packages
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null; then \
	  echo "Missing Debian packages$$missing (for $(2)), and this is not a Debian system: install them yourself$(3)."; \
	  exit 1; \
	fi; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "Missing Debian packages$$missing (for $(2)); installing them needs root:"; \
	  echo "  sudo apt-get install -y$$missing"; \
	  echo "then run make again$(3)."; \
	  exit 1; \
	fi; \
	echo "Installing$$missing (Debian packages, for $(2))"; \
	$(APT_INSTALL)$$missing >/dev/null || { apt-get update -q >/dev/null && $(APT_INSTALL)$$missing >/dev/null; }
endef

## Debian packages the browser tests need: Chromium (Playwright in .venv drives it) and a
## CJK font, so the Korean terms of the glossary render as text, not boxes. Installed only
## when missing; that needs root (CI runs as root).
BROWSER_PACKAGES := chromium fonts-noto-cjk fonts-noto-color-emoji

browser-deps:
	$(call debian-packages,$(BROWSER_PACKAGES),the browser tests,$(comma) or skip those tests: .venv/bin/python -m pytest -m 'not browser')

## stress-ng, the CPU load of `make test-under-load` (Debian package), when missing.
stress-deps:
	$(call debian-packages,stress-ng,the test run under load,)

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
