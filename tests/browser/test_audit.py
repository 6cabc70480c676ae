"""The accessibility audit of the book's pages (:func:`test_book_pages.audit`) measures colour
contrast on one element per look, not on each of thousands of code tokens: here it must
find every contrast failure that axe-core finds when it measures every element, on pages
written to hide one (a faint token among hundreds of good ones, the same colour over a
darker block or under a faded ancestor, a look whose first element is hidden)."""

from __future__ import annotations

import pytest

from .test_book_pages import AXE, AXE_OPTIONS, CONTRAST_SAMPLES_JS, audit

pytestmark = [pytest.mark.browser]

GOOD = " ".join(f'<span class="tok" style="color:#333">token{k}</span>' for k in range(400))
FAILURES = {
    "faint": '<p>A faint token among good ones: <span id="faint" style="color:#bbb">faint</span></p>',
    "on-dark": '<div style="background:#555;color:#fff"><p>Same colour, darker block: '
               '<span id="on-dark" style="color:#333">token</span></p></div>',
    "faded": '<div style="opacity:0.3"><p id="faded" style="color:#333">The same colour, faded by an ancestor</p></div>',
    "hidden-twin": '<p><span style="color:#c0c0c0;display:none">hidden first</span>'
                   '<span style="color:#c0c0c0;visibility:hidden">invisible second</span> and '
                   '<span id="hidden-twin" style="color:#c0c0c0">the visible third</span></p>',
}


def _load(chromium, body: str):
    page = chromium.new_page()
    page.set_content(f'<!doctype html><html lang="en"><head><title>Audit</title></head>'
                     f'<body style="background:#fff;color:#222"><main><h1>Audit</h1><p>{GOOD}</p>{body}</main></body></html>')
    return page


def _contrast_failures(violations: list[dict]) -> set[str]:
    return {" ".join(node["target"]).lstrip("#") for v in violations if v["id"] == "color-contrast" for node in v["nodes"]}


def _both(chromium, body: str) -> tuple[list[dict], list[dict], dict]:
    """(every element measured, the audit's sampled measure, the sampler's counts), each on a fresh page."""
    page = _load(chromium, body)
    try:
        full = AXE.run(page, options=AXE_OPTIONS).response["violations"]
    finally:
        page.close()
    page = _load(chromium, body)
    try:
        counts = page.evaluate(CONTRAST_SAMPLES_JS)  # what audit() will mark (marking twice is harmless)
        sampled = audit(page)
    finally:
        page.close()
    return full, sampled, counts


def test_audit_finds_every_contrast_failure_axe_finds_on_every_element(chromium):
    full, sampled, counts = _both(chromium, "".join(FAILURES.values()))
    assert _contrast_failures(full) == set(FAILURES)  # the page really hides these four
    assert _contrast_failures(sampled) == set(FAILURES)
    assert {v["id"] for v in sampled} == {v["id"] for v in full}
    # and it measured a few looks, not the 400 tokens
    assert counts["withText"] > 400 and counts["marked"] < 15, counts


@pytest.mark.parametrize("name", sorted(FAILURES))
def test_each_hidden_failure_is_found_alone(chromium, name):
    _, sampled, _ = _both(chromium, FAILURES[name])
    assert _contrast_failures(sampled) == {name}


def test_a_page_without_failures_passes_both_ways(chromium):
    full, sampled, _ = _both(chromium, '<p style="color:#000">Plain text.</p><pre style="background:#f8f8f8">'
                                       + GOOD + "</pre>")
    assert _contrast_failures(full) == _contrast_failures(sampled) == set()
