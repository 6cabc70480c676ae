"""Fixtures for the browser tests: Debian's Chromium (``/usr/bin/chromium``, installed by
``make browser-deps``) driven by Playwright, the built book served on localhost, and the
report of which checks passed on which page.

Playwright drives the system Chromium through ``executable_path``; its own browser
download (``playwright install``) is never used: it cannot work offline. Playwright was
chosen over Selenium + chromium-driver because it ships its driver in the wheel (one pip
package, no second Debian package whose version must match Chromium's), waits for
elements by itself, and reports console messages, page errors and failed requests as
events, which is most of what these tests check.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import BOOK_HTML, BROWSER_SCREENSHOTS

CHROMIUM = Path(os.environ.get("LESSONLIB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    "--disable-dev-shm-usage",
]
SCREENSHOTS = BROWSER_SCREENSHOTS

# NOTES: page -> check -> what the check counted ("9 solutions"), sent with each test's
# report so the browser report says what each pass covered.
NOTES: dict[str, dict[str, str]] = defaultdict(dict)
TIMINGS: dict[str, float] = {}


def _subject_and_check(item: pytest.Item) -> tuple[str | None, str]:
    params = getattr(getattr(item, "callspec", None), "params", {})
    subject = params.get("page") or params.get("notebook")
    check = item.originalname.removeprefix("test_").replace("_", " ")
    return (None if subject is None else str(getattr(subject, "name", subject))), check


@pytest.fixture
def note(request):
    """``note("9 solutions")``: say in the report what this check covered on its page."""
    subject, check = _subject_and_check(request.node)

    def write(text: str) -> None:
        NOTES[subject or "session"][check] = text

    return write


@pytest.fixture(scope="session")
def chromium():
    """A headless Chromium for the whole session (Playwright, system binary)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing. Install Debian's Chromium with `make browser-deps` "
            "(as root: apt-get install chromium fonts-noto-cjk fonts-noto-color-emoji), or point LESSONLIB_CHROMIUM at a "
            "Chromium binary. `make test` does this itself."
        )
    from playwright.sync_api import sync_playwright

    start = time.perf_counter()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
        TIMINGS["chromium start"] = time.perf_counter() - start
        yield browser
        browser.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Static files, without a log line per request (the browser reports failures)."""

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def book_site(book_build) -> Iterator[str]:
    """The built book (``book/_build/html``) served on a free localhost port; its base URL."""
    if not (BOOK_HTML / "index.html").is_file():
        pytest.fail("the book was not built (see test_book.py):\n" + book_build.stdout[-3000:] + book_build.stderr[-2000:])
    handler = functools.partial(_QuietHandler, directory=str(BOOK_HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Record each browser check's outcome against the page (or notebook) it ran on."""
    outcome = yield
    report = outcome.get_result()
    if not (report.when == "call" or (report.when == "setup" and not report.passed)):
        return
    if "browser" not in item.keywords:
        return
    subject, check = _subject_and_check(item)
    subject = subject or "session"
    # Carried on the report, so that under pytest-xdist the controller, which writes the
    # report, gets every worker's checks (user_properties travel with the test report).
    report.user_properties.append(("browser_check", {
        "subject": subject, "check": check, "outcome": report.outcome,
        "note": NOTES[subject].get(check, ""), "timings": dict(TIMINGS),
    }))


# The report itself is written by tests/conftest.py (the pytest-xdist controller loads only
# that conftest): see pytest_runtest_logreport there.
