"""Every figure of the published book is a real textbook figure: numbered, captioned,
described for a reader who cannot see it, and cited by the text.

Read from the built HTML (the book built once per session, ``book_build``):

* chapter pages (``chapters/*.html``): every image in the article sits in a ``<figure>``
  whose ``<figcaption>`` carries a number ("Figure 4.2") and a caption of a few words, and
  whose ``id`` some page of the book links to (a ``{numref}`` in the text);
* every page: every image in the article has alt text that describes it, not a file name,
  a content hash, matplotlib's ``<Figure size ...>`` or a one-word placeholder; on a
  chapter page no two images share one alt text.

The test writes the table of figures per chapter (number, caption, alt text) to
``book/_build/figures-report.md``.
"""

from __future__ import annotations

import html.parser
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import pytest
from conftest import BOOK_HTML, toc_files

pytestmark = pytest.mark.slow

REPORT = BOOK_HTML.parent / "figures-report.md"
PAGE_BUDGET_BYTES = 5 * 1024 * 1024
"""A page's HTML plus the images it shows (static widgets carry their frames inline)."""
MIN_ALT_WORDS = 6
MIN_CAPTION_WORDS = 5
PLACEHOLDERS = {"figure", "image", "img", "plot", "chart", "graph", "picture", "png", "output", "none"}
IMAGE_FILE = re.compile(r"^\S+\.(png|jpe?g|gif|svg|webp)$", re.IGNORECASE)
HEX_RUN = re.compile(r"[0-9a-f]{16,}", re.IGNORECASE)
FIGURE_NUMBER = re.compile(r"^Figure \d+(\.\d+)*$")


@dataclass
class Image:
    src: str
    alt: str | None
    figure_id: str | None = None  # the enclosing <figure>'s id, if any
    number: str = ""  # "Figure 4.2"
    caption: str = ""


@dataclass
class Page:
    images: list[Image] = field(default_factory=list)
    hrefs: list[str] = field(default_factory=list)


class _PageParser(html.parser.HTMLParser):
    """Images inside ``<article>`` with their enclosing figure's id, number and caption;
    every link target of the page."""

    VOID = {"img", "br", "hr", "meta", "link", "input", "source", "wbr", "area", "col", "embed", "param", "track"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._stack: list[tuple[str, dict[str, str | None]]] = []
        self._figures: list[list[Image]] = []  # images of each open <figure>
        self._figure_ids: list[str | None] = []
        self._caption_depth: int | None = None
        self._caption_parts: dict[str, list[str]] = {"number": [], "text": []}
        self._span: str | None = None

    def _in(self, tag: str) -> bool:
        return any(t == tag for t, _ in self._stack)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href"):
            self.page.hrefs.append(attributes["href"] or "")
        if tag == "img":
            if self._in("article"):
                image = Image(src=attributes.get("src") or "", alt=attributes.get("alt"))
                self.page.images.append(image)
                if self._figures:
                    self._figures[-1].append(image)
            return
        if tag in self.VOID:
            return
        self._stack.append((tag, attributes))
        if tag == "figure":
            self._figures.append([])
            self._figure_ids.append(attributes.get("id"))
        elif tag == "figcaption" and self._figures:
            self._caption_depth = len(self._stack)
            self._caption_parts = {"number": [], "text": []}
        elif tag == "span" and self._caption_depth is not None:
            classes = (attributes.get("class") or "").split()
            if "caption-number" in classes:
                self._span = "number"
            elif "caption-text" in classes:
                self._span = "text"

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        while self._stack:
            open_tag, _ = self._stack.pop()
            if open_tag == "span":
                self._span = None
            if open_tag == "figcaption" and self._caption_depth is not None:
                self._caption_depth = None
            if open_tag == "figure" and self._figures:
                images, figure_id = self._figures.pop(), self._figure_ids.pop()
                number = " ".join("".join(self._caption_parts["number"]).split())
                caption = " ".join("".join(self._caption_parts["text"]).split())
                for image in images:
                    image.figure_id, image.number, image.caption = figure_id, number, caption
                self._caption_parts = {"number": [], "text": []}
            if open_tag == tag:
                break

    def handle_data(self, data):
        in_permalink = any(t == "a" and "headerlink" in (a.get("class") or "") for t, a in self._stack)
        if self._caption_depth is not None and not in_permalink:
            self._caption_parts[self._span or "text"].append(data)


def parse_page(text: str) -> Page:
    parser = _PageParser()
    parser.feed(text)
    parser.close()
    return parser.page


def alt_problem(image: Image) -> str | None:
    """Why ``image``'s alt text does not describe it, or None if it does."""
    alt = " ".join((image.alt or "").split())
    name = PurePosixPath(image.src.split("?")[0]).name
    if not alt:
        return "no alt text"
    if IMAGE_FILE.match(alt) or (name and name in alt):
        return f"alt text is a file name: {alt[:60]!r}"
    if HEX_RUN.search(alt):
        return f"alt text contains a hash: {alt[:60]!r}"
    if alt.startswith("<") or alt.lower().startswith("data:"):
        return f"alt text is markup or a representation, not a description: {alt[:60]!r}"
    if alt.lower().strip(".") in PLACEHOLDERS:
        return f"alt text is a placeholder: {alt!r}"
    if len(alt.split()) < MIN_ALT_WORDS:
        return f"alt text too short to describe the figure ({len(alt.split())} words): {alt!r}"
    return None


def figure_problems(page_name: str, page: Page, cited: set[str]) -> list[str]:
    """Everything wrong with the figures of a chapter page (numbering, caption, citation)."""
    problems = []
    for image in page.images:
        where = f"{page_name}: image {PurePosixPath(image.src).name[:24]}"
        if image.figure_id is None and not image.caption:
            problems.append(f"{where} is not in a captioned figure")
            continue
        if not FIGURE_NUMBER.match(image.number):
            problems.append(f"{where}: figure is not numbered (caption number {image.number!r})")
        if len(image.caption.split()) < MIN_CAPTION_WORDS:
            problems.append(f"{where}: caption too short: {image.caption!r}")
        if not image.figure_id:
            problems.append(f"{where}: figure has no name, so the text cannot cite it")
        elif image.figure_id not in cited:
            problems.append(f"{where}: figure #{image.figure_id} ({image.number}) is never cited by the text")
    return problems


def alt_problems(page_name: str, page: Page, distinct: bool = True) -> list[str]:
    """Images of ``page`` whose alt text does not describe them; with ``distinct``, also
    images that share one alt text (a notebook's loop that draws three figures may)."""
    problems = []
    seen: dict[str, str] = {}
    for image in page.images:
        where = f"{page_name}: image {PurePosixPath(image.src).name[:24]}"
        problem = alt_problem(image)
        if problem:
            problems.append(f"{where}: {problem}")
        alt = " ".join((image.alt or "").split())
        if distinct and alt and alt in seen and seen[alt] != image.src:
            problems.append(f"{where}: same alt text as another image of the page: {alt[:60]!r}")
        seen.setdefault(alt, image.src)
    return problems


# --------------------------------------------------------------------------- the checks can fail


BAD_PAGE = """<html><body><a href="other.html#fig-cited">see</a><article class="bd-article">
<img alt="../_images/81a24e7bc0ffee00112233445566778899aabbccddeeff.png" src="../_images/81a24e7bc0ffee00112233445566778899aabbccddeeff.png" />
<figure id="fig-uncited"><img alt="Figure" src="a.png"/><figcaption><p><span class="caption-text">Short.</span></p></figcaption></figure>
<figure id="fig-cited"><img alt="&lt;Figure size 700x400 with 1 Axes&gt;" src="b.png"/>
<figcaption><p><span class="caption-number">Figure 1.2 </span><span class="caption-text">A caption that is long enough to pass.</span></p></figcaption></figure>
<img src="c.png"/><img alt="A line chart of loss against the epoch, falling." src="d.png"/>
<img alt="A line chart of loss against the epoch, falling." src="e.png"/>
</article></body></html>"""

GOOD_PAGE = """<html><body><article class="bd-article"><p>As <a href="#fig-ch1-memory">Figure 1.1</a> shows</p>
<figure class="align-default" id="fig-ch1-memory"><div class="cell_output"><img alt="A log-log line chart of bytes against the vocabulary size, one rising line." src="../_images/ab.png"/></div>
<figcaption><p><span class="caption-number">Figure 1.1 </span><span class="caption-text">Memory of a batch as the vocabulary grows, with <span class="math">V</span>.</span><a class="headerlink" href="#fig-ch1-memory">#</a></p></figcaption></figure>
</article></body></html>"""


def test_the_figure_checks_reject_what_the_issue_found_and_accept_a_real_figure():
    bad = parse_page(BAD_PAGE)
    cited = {h.partition("#")[2] for h in bad.hrefs}
    figures = "\n".join(figure_problems("bad", bad, cited))
    alts = "\n".join(alt_problems("bad", bad))
    assert "image 81a24e7bc0ffee0011223344 is not in a captioned figure" in figures
    assert "is not numbered" in figures and "caption too short" in figures
    assert "#fig-uncited" in figures and "never cited" in figures
    assert "#fig-cited" not in figures  # cited from another page: fine
    assert "alt text is a file name" in alts and "placeholder: 'Figure'" in alts
    assert "markup or a representation" in alts and "no alt text" in alts
    assert "same alt text as another image" in alts

    good = parse_page(GOOD_PAGE)
    cited = {h.partition("#")[2] for h in good.hrefs}
    assert [(i.number, i.figure_id) for i in good.images] == [("Figure 1.1", "fig-ch1-memory")]
    assert good.images[0].caption == "Memory of a batch as the vocabulary grows, with V."
    assert figure_problems("good", good, cited) == [] and alt_problems("good", good) == []


# --------------------------------------------------------------------------- the built book


def _built_pages() -> dict[str, Page]:
    pages = {}
    for name in toc_files():
        path = BOOK_HTML / f"{name}.html"
        if path.is_file():
            pages[name] = parse_page(path.read_text(encoding="utf-8"))
    return pages


def _cited(pages: dict[str, Page]) -> set[str]:
    return {href.partition("#")[2] for page in pages.values() for href in page.hrefs if "#fig-" in href}


def _write_report(pages: dict[str, Page]) -> None:
    lines = ["# Figures of the book", ""]
    for name, page in pages.items():
        if not name.startswith("chapters/"):
            continue
        lines += [f"## {name} ({len(page.images)} figures)", "", "| number | name | caption | alt text |",
                  "| --- | --- | --- | --- |"]
        for image in page.images:
            cells = [image.number, image.figure_id or "", image.caption, " ".join((image.alt or "").split())]
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        lines.append("")
    REPORT.write_text("\n".join(lines), encoding="utf-8")


def test_every_chapter_figure_is_numbered_captioned_and_cited(book_build):
    assert book_build.returncode == 0, "the book did not build: see test_book_builds_with_warnings_as_errors"
    pages = _built_pages()
    chapters = {name: page for name, page in pages.items() if name.startswith("chapters/")}
    assert chapters, "no chapter page was built"
    _write_report(pages)
    cited = _cited(pages)
    problems = [p for name, page in chapters.items() for p in figure_problems(name, page, cited)]
    assert not problems, f"{len(problems)} figure problems (table: {REPORT}):\n" + "\n".join(problems)
    assert all(page.images for page in chapters.values()), "a chapter page shows no figure at all"


def test_every_image_of_the_book_has_alt_text_that_describes_it(book_build):
    assert book_build.returncode == 0, "the book did not build: see test_book_builds_with_warnings_as_errors"
    pages = _built_pages()
    problems = [p for name, page in pages.items() for p in alt_problems(name, page, distinct=name.startswith("chapters/"))]
    assert not problems, f"{len(problems)} images without a real description:\n" + "\n".join(problems)


def page_bytes(name: str, page: Page) -> int:
    """The page's HTML and every local image it shows, in bytes (shared theme files aside)."""
    path = BOOK_HTML / f"{name}.html"
    total = path.stat().st_size
    for src in {image.src for image in page.images if not image.src.startswith(("data:", "http:", "https:"))}:
        image_file = (path.parent / src.split("?")[0]).resolve()
        if image_file.is_file():
            total += image_file.stat().st_size
    return total


def test_every_page_is_within_its_size_budget(book_build):
    """Static widgets put every frame into the page: the page, with its images, stays
    under PAGE_BUDGET_BYTES. The sizes are written to the figures report."""
    assert book_build.returncode == 0, "the book did not build: see test_book_builds_with_warnings_as_errors"
    pages = _built_pages()
    sizes = {name: page_bytes(name, page) for name, page in pages.items()}
    widgets = {name: (BOOK_HTML / f"{name}.html").read_text(encoding="utf-8").count("lessonlib-static-widget\"")
               for name in pages}
    lines = ["", "# Page sizes (HTML and the images it shows)", "", "| page | MiB | static widgets |", "| --- | --- | --- |"]
    lines += [f"| {name} | {size / 2**20:.2f} | {widgets[name]} |" for name, size in sizes.items()]
    with REPORT.open("a", encoding="utf-8") as report:
        report.write("\n".join(lines) + "\n")
    over = {name: f"{size / 2**20:.1f} MiB" for name, size in sizes.items() if size > PAGE_BUDGET_BYTES}
    assert not over, f"pages over the {PAGE_BUDGET_BYTES / 2**20:.0f} MiB budget: {over}"
