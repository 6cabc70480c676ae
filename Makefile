# The two commands of the README: `make book` and `make test`. Each creates .venv (with the
# first python3.11 / python3 on PATH) and installs lessonlib and its pinned dependencies.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

export TF_CPP_MIN_LOG_LEVEL := 3
export PYDEVD_DISABLE_FILE_VALIDATION := 1

# Test workers (pytest-xdist): the book build runs on one while the other tests share the rest.
TEST_WORKERS ?= 2

.PHONY: book test bench lint install clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	touch $(STAMP)

## Build the published book: every chapter and notebook executed, HTML in book/_build/html.
book: $(STAMP)
	$(BIN)/jupyter-book build book
	@echo "Book written to book/_build/html/index.html"

## Run every test: unit tests, checker proofs, notebooks under nbval, and a book build
## with warnings as errors; every executed page is checked against benchmarks/budgets.toml.
## One BLAS thread per process: two workers on two cores leave no core for more (book: Performance).
test: $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" OPENBLAS_NUM_THREADS=1 $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup

## Run every benchmark (numpy vs the libraries, page and book-build times): writes
## benchmarks/results/latest.json and latest.md, the table on the book's performance page.
bench: $(STAMP)
	$(BIN)/python -m benchmarks

lint: $(STAMP)
	$(BIN)/ruff check lessonlib tests benchmarks

clean:
	rm -rf $(VENV) book/_build .timings
