"""Offline corpora and word-vector evaluation sets for chapter 2, from gensim's test data.

gensim ships these files inside its wheel (``gensim/test/test_data``; located with
``gensim.test.utils.datapath``), so nothing is downloaded. gensim's code is LGPL-2.1;
the data files keep their own provenance and licences:

* ``enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2``: a shortened
  dump of 106 English Wikipedia articles (about 453,000 tokens after
  ``gensim.corpora.WikiCorpus`` tokenisation). Wikipedia text is licensed CC BY-SA
  (Wikipedia contributors).
* ``lee_background.cor``: 300 news articles from the Australian Broadcasting Corporation
  (about 60,000 tokens), the background corpus of Lee, Pincombe and Welsh (2005), "An
  empirical evaluation of models of text document similarity"; shipped by gensim for its
  tests and tutorials, research use.
* ``questions-words.txt``: the Google analogy test set of Mikolov et al. (2013), 19,544
  questions in 14 sections, from the original word2vec distribution (Apache 2.0).
* ``wordsim353.tsv``: WordSimilarity-353 (Finkelstein et al., 2002), 353 word pairs with
  mean human relatedness scores from 0 to 10, distributed freely for research.
* ``simlex999.txt``: SimLex-999 (Hill, Reichart and Korhonen, 2015), 999 pairs scored for
  similarity (not relatedness) from 0 to 10, distributed freely for research.
"""

from __future__ import annotations

import gzip
import os
from functools import cache
from pathlib import Path

import numpy as np

from lessonlib._validate import LessonlibInputError, check_positive_int

WIKI_FILE = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
LEE_FILE = "lee_background.cor"
ANALOGY_FILE = "questions-words.txt"
WORDSIM_FILE = "wordsim353.tsv"
SIMLEX_FILE = "simlex999.txt"

#: gensim's word2vec ignores every word of a sentence after the 10,000th; the corpora
#: below are cut into pieces of at most this many tokens so that no word is lost.
MAX_SENTENCE_LENGTH = 10_000


def datapath(name: str) -> Path:
    """Path of one of gensim's shipped test-data files (raises if it is missing)."""
    from gensim.test.utils import datapath as gensim_datapath

    path = Path(gensim_datapath(name))
    if not path.is_file():
        raise LessonlibInputError(f"gensim's test data has no file {name!r} (looked at {path}).")
    return path


def _split(tokens: list[str], max_length: int) -> list[list[str]]:
    return [tokens[i : i + max_length] for i in range(0, len(tokens), max_length)]


def cache_dir() -> Path:
    """Where tokenised corpora are cached: ``$LESSONLIB_CACHE`` or ``~/.cache/lessonlib``."""
    return Path(os.environ.get("LESSONLIB_CACHE") or Path.home() / ".cache" / "lessonlib")


def _cache_file(source: Path) -> Path:
    import gensim

    stat = source.stat()
    return cache_dir() / f"{source.name}.gensim-{gensim.__version__}.{stat.st_size}.tokens.txt.gz"


@cache
def _wiki_articles() -> tuple[tuple[str, ...], ...]:
    """Parse the dump once (4 to 15 s), then read the tokens from a local cache (< 1 s).

    The cache is generated here from the shipped file, never downloaded; it is keyed by
    the gensim version and the file size, and rebuilt if it is missing or unreadable.
    """
    source = datapath(WIKI_FILE)
    cached = _cache_file(source)
    try:
        with gzip.open(cached, "rt", encoding="utf-8") as f:
            return tuple(tuple(line.split()) for line in f)
    except (OSError, EOFError, UnicodeDecodeError):
        pass
    from gensim.corpora import WikiCorpus

    # dictionary={} skips building a gensim Dictionary; one process keeps it deterministic.
    corpus = WikiCorpus(str(source), dictionary={}, processes=1)
    articles = tuple(tuple(article) for article in corpus.get_texts())
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        with gzip.open(partial, "wt", encoding="utf-8") as f:
            f.writelines(" ".join(article) + "\n" for article in articles)
        partial.replace(cached)  # atomic: a parallel reader never sees half a file
    except OSError:  # a read-only home directory only costs the re-parse next time
        pass
    return articles


def wiki_sentences(max_length: int = MAX_SENTENCE_LENGTH) -> list[list[str]]:
    """The Wikipedia sample as lists of lower-case tokens, one list per piece of an article.

    Tokenised by ``gensim.corpora.WikiCorpus`` (markup removed, lower-cased, tokens of 2
    to 15 characters). Articles are cut into pieces of at most ``max_length`` tokens.
    Parsing takes 4 to 15 s the first time; after that the tokens come from a local
    cache file (see :func:`cache_dir`) and stay in memory.
    """
    max_length = check_positive_int("max_length", max_length)
    return [piece for article in _wiki_articles() for piece in _split(list(article), max_length)]


@cache
def _lee_lines() -> tuple[tuple[str, ...], ...]:
    from gensim.utils import simple_preprocess

    with open(datapath(LEE_FILE), encoding="utf-8", errors="replace") as f:
        return tuple(tuple(simple_preprocess(line)) for line in f if line.strip())


def lee_sentences() -> list[list[str]]:
    """The Lee background corpus, one token list per article (``simple_preprocess``)."""
    return [list(line) for line in _lee_lines()]


def analogy_path() -> Path:
    """Path of the Google analogy questions (``questions-words.txt``)."""
    return datapath(ANALOGY_FILE)


def wordsim353_path() -> Path:
    """Path of WordSim-353 (tab-separated: word, word, score; ``#`` comments)."""
    return datapath(WORDSIM_FILE)


def simlex999_path() -> Path:
    """Path of SimLex-999 (tab-separated: word, word, score; ``#`` comments)."""
    return datapath(SIMLEX_FILE)


def read_word_pairs(path: str | Path) -> list[tuple[str, str, float]]:
    """Read a word-similarity file: one ``word<TAB>word<TAB>score`` per line, ``#`` comments."""
    pairs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            a, b, score = line.rstrip("\n").split("\t")
            pairs.append((a, b, float(score)))
    return pairs


def read_analogies(path: str | Path | None = None) -> dict[str, list[tuple[str, str, str, str]]]:
    """The analogy questions by section: ``{section: [(a, b, c, expected), ...]}``.

    Each question reads "a is to b as c is to expected", e.g.
    ``("Athens", "Greece", "Baghdad", "Iraq")``.
    """
    sections: dict[str, list[tuple[str, str, str, str]]] = {}
    current = None
    with open(path or analogy_path(), encoding="utf-8") as f:
        for line in f:
            if line.startswith(": "):
                current = line[2:].strip()
                sections[current] = []
            elif line.strip():
                if current is None:
                    raise LessonlibInputError(f"{path}: a question comes before any ': section' line.")
                a, b, c, d = line.split()
                sections[current].append((a, b, c, d))
    return sections


#: Which analogy sections give which category to their first and second words.
CATEGORY_SOURCES: dict[str, tuple[str, str]] = {
    "capital-common-countries": ("city", "country"),
    "capital-world": ("city", "country"),
    "currency": ("country", "currency"),
    "city-in-state": ("city", "us-state"),
    "gram6-nationality-adjective": ("country", "nationality"),
}


def word_categories() -> tuple[list[str], np.ndarray, list[str]]:
    """A small word-classification task built from the Google analogy file.

    Each word of the sections in :data:`CATEGORY_SOURCES` gets the category of its role
    ("Athens Greece ..." -> Athens is a city, Greece a country), lower-cased; words that
    fall in two categories ("georgia": a country and a US state) are dropped. Returns
    ``(words, labels, class_names)`` with ``labels`` ``(n,)`` int64 indices into
    ``class_names``, words sorted alphabetically. Same source and licence as the
    analogy file.
    """
    found: dict[str, set[str]] = {}
    for section, questions in read_analogies().items():
        if section not in CATEGORY_SOURCES:
            continue
        first, second = CATEGORY_SOURCES[section]
        for a, b, c, d in questions:
            for word, category in ((a, first), (b, second), (c, first), (d, second)):
                found.setdefault(word.lower(), set()).add(category)
    class_names = sorted({c for pair in CATEGORY_SOURCES.values() for c in pair})
    words = sorted(w for w, cats in found.items() if len(cats) == 1)
    labels = np.array([class_names.index(next(iter(found[w]))) for w in words], dtype=np.int64)
    return words, labels, class_names
