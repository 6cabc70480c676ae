"""Chapter 2's measurements against gensim 4, run by ``make bench`` (``python -m benchmarks``):

* ``word2vec`` section: numpy word2vec vs gensim 4, side by side on gensim's offline
  Wikipedia sample (:func:`compare_with_gensim`);
* ``glove`` section: lessonlib's evaluation functions vs gensim's own on the GloVe vectors
  (:func:`compare_glove_evaluation`); its result is also stored in
  ``book/data/glove_vs_gensim.json``, which the Performance page shows;
* ``scatter`` section: the pure-numpy scatter-adds the trainer could use
  (:func:`compare_scatter_adds`), which chapter 2 discusses.

``python -m benchmarks.word2vec [--repeats 3] [--epochs 5] [--cbow]`` runs the trainer
comparison alone with other settings and prints its table (nothing is written).

Both trainers get the same corpus (:func:`lessonlib.data.corpora.wiki_sentences`), the
same vocabulary (``min_count``), dimension, window, negatives, subsampling, learning
rate and epochs, and one thread each: gensim with ``workers=1``, numpy with
``OMP_NUM_THREADS=OPENBLAS_NUM_THREADS=MKL_NUM_THREADS=1``, each in a fresh subprocess.
Only training is timed (not parsing or vocabulary building); words per second count the
corpus' in-vocabulary tokens times the epochs, the same number for both. The vectors
are scored with :mod:`lessonlib.word_vectors` on WordSim-353 and SimLex-999. The row of
the results table states numpy's training time over gensim's for the same words.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.results import Comparison, Missing
from benchmarks.timing import Timing

ROOT = Path(__file__).resolve().parents[1]
SINGLE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                 "TF_CPP_MIN_LOG_LEVEL": "3"}
GLOVE_RESULT = ROOT / "book" / "data" / "glove_vs_gensim.json"
"""Where the ``glove`` section stores its result (chapter 2 prints it)."""
GOAL = 4.0  # numpy at least a quarter of gensim's speed: at most 4x its time
QUALITY_GOAL = 0.05  # WordSim-353 / SimLex-999 Spearman within 0.05 of gensim's
DEFAULTS: dict[str, Any] = {"sg": True, "dim": 100, "window": 5, "negative": 5, "epochs": 5,
                            "min_count": 5, "sample": 1e-3, "alpha": 0.025, "min_alpha": 0.0001, "seed": 1}


def _scores(words: list[str], vectors) -> dict[str, float]:
    from lessonlib.data import corpora
    from lessonlib.word_vectors import evaluate_word_pairs

    return {
        "wordsim353": evaluate_word_pairs(words, vectors, corpora.wordsim353_path())["spearman"],
        "simlex999": evaluate_word_pairs(words, vectors, corpora.simlex999_path())["spearman"],
    }


def run_one(trainer: str, settings: dict[str, Any]) -> dict[str, Any]:
    """Train once in this process with ``trainer`` ("numpy" or "gensim"); time and score it."""
    from lessonlib import word2vec as w2v
    from lessonlib.data import corpora

    s = {**DEFAULTS, **settings}
    sentences = corpora.wiki_sentences()
    if trainer == "numpy":
        vocabulary = w2v.build_vocabulary(sentences, s["min_count"])
        corpus = w2v.encode_corpus(sentences, vocabulary)
        result = w2v.train(corpus=corpus, vocabulary=vocabulary, sg=s["sg"], dim=s["dim"], window=s["window"],
                           negative=s["negative"], epochs=s["epochs"], sample=s["sample"], alpha=s["alpha"],
                           min_alpha=s["min_alpha"], seed=s["seed"], progress=False)
        words, vectors, seconds, n_tokens = result.words, result.V, result.seconds, corpus.n_tokens
    elif trainer == "gensim":
        from gensim.models import Word2Vec

        model = Word2Vec(vector_size=s["dim"], window=s["window"], negative=s["negative"], hs=0,
                         sg=int(s["sg"]), min_count=s["min_count"], sample=s["sample"], alpha=s["alpha"],
                         min_alpha=s["min_alpha"], seed=s["seed"], workers=1)
        model.build_vocab(sentences)
        n_tokens = sum(model.wv.get_vecattr(w, "count") for w in model.wv.index_to_key)
        start = time.perf_counter()
        model.train(sentences, total_examples=model.corpus_count, epochs=s["epochs"])
        seconds = time.perf_counter() - start
        words, vectors = list(model.wv.index_to_key), model.wv.vectors
    else:
        raise ValueError(f"trainer must be 'numpy' or 'gensim', got {trainer!r}")
    return {"trainer": trainer, "seconds": seconds, "n_tokens": int(n_tokens), "n_words": len(words),
            "words_per_second": n_tokens * s["epochs"] / seconds, **_scores(words, vectors)}


def _subprocess(trainer: str, settings: dict[str, Any]) -> dict[str, Any]:
    code = ("import json, sys; from benchmarks.word2vec import run_one; "
            "print(json.dumps(run_one(sys.argv[1], json.loads(sys.argv[2]))))")
    out = subprocess.run([sys.executable, "-c", code, trainer, json.dumps(settings)], capture_output=True,
                         text=True, check=True, env={**os.environ, **SINGLE_THREAD}, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def compare_with_gensim(repeats: int = 3, **settings: Any) -> dict[str, Any]:
    """Train numpy and gensim ``repeats`` times each, alternating, one thread each.

    Returns the settings, every run, and per trainer the median seconds, words/s and
    Spearman scores, plus ``speed_ratio`` (numpy words/s over gensim's, medians) and the
    Spearman differences (numpy minus gensim).
    """
    s = {**DEFAULTS, **settings}
    runs: list[dict[str, Any]] = []
    for _ in range(repeats):
        for trainer in ("numpy", "gensim"):
            runs.append(_subprocess(trainer, s))
    summary: dict[str, Any] = {"settings": s, "runs": runs}
    for trainer in ("numpy", "gensim"):
        mine = [r for r in runs if r["trainer"] == trainer]
        summary[trainer] = {key: statistics.median(r[key] for r in mine)
                            for key in ("seconds", "words_per_second", "wordsim353", "simlex999")}
        summary[trainer]["n_words"] = mine[0]["n_words"]
        summary[trainer]["n_tokens"] = mine[0]["n_tokens"]
    summary["speed_ratio"] = summary["numpy"]["words_per_second"] / summary["gensim"]["words_per_second"]
    for key in ("wordsim353", "simlex999"):
        summary[f"{key}_difference"] = summary["numpy"][key] - summary["gensim"][key]
    return summary


def compare_glove_evaluation(restrict_vocab: int = 30_000) -> dict[str, Any]:
    """GloVe 6B-50d scored by lessonlib and by gensim's own evaluation functions, on the same
    vectors and all 19,544 analogy questions (gensim answers them one by one: half a minute)."""
    from lessonlib.data import corpora, glove
    from lessonlib.word_vectors import evaluate_analogies, evaluate_word_pairs, to_keyed_vectors

    words, vectors = glove.words_and_vectors()
    kv = to_keyed_vectors(words, vectors)
    out: dict[str, Any] = {"restrict_vocab": restrict_vocab}
    start = time.perf_counter()
    mine = evaluate_analogies(words, vectors, corpora.analogy_path(), restrict_vocab=restrict_vocab)
    out["lessonlib_analogy"] = {k: mine[k] for k in ("accuracy", "correct", "asked", "n_oov", "n_questions")}
    out["lessonlib_analogy_seconds"] = time.perf_counter() - start
    start = time.perf_counter()
    score, sections = kv.evaluate_word_analogies(str(corpora.analogy_path()), restrict_vocab=restrict_vocab)
    out["gensim_analogy"] = {"accuracy": score, "correct": len(sections[-1]["correct"]),
                             "asked": len(sections[-1]["correct"]) + len(sections[-1]["incorrect"])}
    out["gensim_analogy_seconds"] = time.perf_counter() - start
    for name, path in (("wordsim353", corpora.wordsim353_path()), ("simlex999", corpora.simlex999_path())):
        mine = evaluate_word_pairs(words, vectors, path)
        pearson, spearman, oov = kv.evaluate_word_pairs(str(path))
        out[name] = {"lessonlib": mine["spearman"], "gensim": float(spearman.statistic),
                     "lessonlib_oov_ratio": mine["oov_ratio"], "gensim_oov_ratio": oov}
    return out


def compare_scatter_adds(n_words: int = 9_000, k: int = 100, rows: int = 6_000, repeats: int = 20,
                         seed: int = 0) -> dict[str, float]:
    """Milliseconds per call of the pure-numpy ways to do ``M[rows] += values`` with repeated
    rows (Zipf-distributed, like word ids in a mini-batch); every method gives the same ``M``.

    Run it with one BLAS thread (the command line does) for numbers comparable to training.
    """
    import numpy as np

    from lessonlib.word2vec import _scatter_add

    rng = np.random.default_rng(seed)
    p = 1 / np.arange(1, n_words + 1)
    idx = rng.choice(n_words, size=rows, p=p / p.sum())
    G = rng.normal(size=(rows, k)).astype(np.float32)

    def add_at_rows(M):
        np.add.at(M, idx, G)

    def add_at_flat(M):  # what the trainer uses
        _scatter_add(M, idx, G)

    def sorted_reduceat(M):
        order = np.argsort(idx, kind="stable")
        s = idx[order]
        starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
        M[s[starts]] += np.add.reduceat(G[order], starts, axis=0)

    def bincount(M):
        flat = (idx[:, None] * k + np.arange(k)).ravel()
        M += np.bincount(flat, weights=G.ravel(), minlength=n_words * k).reshape(n_words, k).astype(M.dtype)

    methods = {"np.add.at on rows": add_at_rows, "np.add.at on the flat view": add_at_flat,
               "sort + np.add.reduceat": sorted_reduceat, "np.bincount": bincount}
    reference = np.zeros((n_words, k), dtype=np.float32)
    add_at_rows(reference)
    out = {}
    for name, method in methods.items():
        M = np.zeros((n_words, k), dtype=np.float32)
        method(M)
        if not np.allclose(M, reference, atol=1e-4):
            raise AssertionError(f"{name} gives a different result")
        start = time.perf_counter()
        for _ in range(repeats):
            method(M)
        out[name] = (time.perf_counter() - start) / repeats * 1000
    return out


def format_table(summary: dict[str, Any]) -> str:
    """The side-by-side table as Markdown."""
    n, g = summary["numpy"], summary["gensim"]
    s = summary["settings"]
    lines = [
        f"{'skip-gram' if s['sg'] else 'CBOW'}, dim {s['dim']}, window {s['window']}, negative {s['negative']}, "
        f"epochs {s['epochs']}, min_count {s['min_count']}, sample {s['sample']}, one thread each; "
        f"{n['n_tokens']:,} in-vocabulary tokens, {n['n_words']:,} words; medians of "
        f"{len(summary['runs']) // 2} runs",
        "",
        "| trainer | seconds | words/s | WordSim-353 | SimLex-999 |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| numpy (lessonlib) | {n['seconds']:.1f} | {n['words_per_second']:,.0f} | {n['wordsim353']:.3f} | {n['simlex999']:.3f} |",
        f"| gensim 4 | {g['seconds']:.1f} | {g['words_per_second']:,.0f} | {g['wordsim353']:.3f} | {g['simlex999']:.3f} |",
        f"| numpy / gensim | | {summary['speed_ratio']:.2f} | {summary['wordsim353_difference']:+.3f} | "
        f"{summary['simlex999_difference']:+.3f} |",
    ]
    return "\n".join(lines)


def comparison_from_summary(summary: dict[str, Any]) -> Comparison:
    """A :class:`Comparison` from what ``compare_with_gensim`` returns."""
    s = summary["settings"]
    runs = summary["runs"]
    timings = {
        "numpy (lessonlib)": Timing("numpy (lessonlib)", [r["seconds"] for r in runs if r["trainer"] == "numpy"]),
        "gensim 4, workers=1": Timing("gensim 4, workers=1", [r["seconds"] for r in runs if r["trainer"] == "gensim"]),
    }
    n, g = summary["numpy"], summary["gensim"]
    return Comparison(
        id=f"word2vec.{'skipgram' if s['sg'] else 'cbow'}",
        title=f"word2vec training ({'skip-gram' if s['sg'] else 'CBOW'}, negative sampling), one thread each",
        size=(
            f"{n['n_tokens']:,} tokens x {s['epochs']} epochs, {n['n_words']:,} words, dim {s['dim']}, "
            f"window {s['window']}, {s['negative']} negatives"
        ),
        subject="numpy (lessonlib)",
        baseline="gensim 4, workers=1",
        timings=timings,
        goal=GOAL,
        metrics={
            "numpy words/s": float(n["words_per_second"]),
            "gensim words/s": float(g["words_per_second"]),
            "WordSim-353 Spearman, numpy": float(n["wordsim353"]),
            "WordSim-353 Spearman, gensim": float(g["wordsim353"]),
            "SimLex-999 Spearman, numpy": float(n["simlex999"]),
            "SimLex-999 Spearman, gensim": float(g["simlex999"]),
        },
        notes=["benchmarks.word2vec.compare_with_gensim; medians of the runs"],
    )


def run(*, repeats: int, quick: bool = False) -> tuple[list[Comparison], list[Missing]]:
    """The ``word2vec`` section: numpy vs gensim as a row of the table."""
    settings = {"epochs": 1} if quick else {}
    return [comparison_from_summary(compare_with_gensim(repeats=min(repeats, 3), **settings))], []


def run_glove(*, store: bool = True) -> dict[str, Any]:
    """The ``glove`` section: :func:`compare_glove_evaluation`, stored where chapter 2 reads it."""
    result = compare_glove_evaluation()
    if store:
        GLOVE_RESULT.parent.mkdir(parents=True, exist_ok=True)
        GLOVE_RESULT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    ours, theirs = result["lessonlib_analogy"], result["gensim_analogy"]
    text = "\n".join([
        f"GloVe 6B-50d, analogies among the {result['restrict_vocab']:,} most frequent words, and word similarity"
        + (f" (stored in `{GLOVE_RESULT.relative_to(ROOT)}`, which chapter 2 prints)." if store else "."),
        "",
        "| evaluation | lessonlib | gensim |",
        "| --- | --- | --- |",
        f"| analogy accuracy ({ours['asked']:,} asked) | {ours['accuracy']:.4f} | {theirs['accuracy']:.4f} |",
        f"| analogy time | {result['lessonlib_analogy_seconds']:.1f} s | {result['gensim_analogy_seconds']:.1f} s |",
        *(f"| {name} Spearman | {result[name]['lessonlib']:.4f} | {result[name]['gensim']:.4f} |"
          for name in ("wordsim353", "simlex999")),
    ])
    return {"id": "glove", "title": "Word-vector evaluation, lessonlib vs gensim", "text": text, "data": result}


def run_scatter() -> dict[str, Any]:
    """The ``scatter`` section: :func:`compare_scatter_adds` in a one-thread subprocess."""
    code = "import json; from benchmarks.word2vec import compare_scatter_adds as f; print(json.dumps(f()))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, **SINGLE_THREAD}, cwd=ROOT)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    lines = ["`M[rows] += values` with 6,000 Zipf-distributed rows of 100 floats into 9,000 rows, one BLAS "
             "thread (the word2vec trainer uses `np.add.at` on the flat view).", "",
             "| method | ms per call |", "| --- | --- |"]
    lines += [f"| {name} | {ms:.2f} |" for name, ms in result.items()]
    return {"id": "scatter", "title": "numpy scatter-adds", "text": "\n".join(lines), "data": result}


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.word2vec``: the trainer comparison alone, with other settings."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.word2vec", description=main.__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=DEFAULTS["epochs"])
    parser.add_argument("--cbow", action="store_true", help="CBOW instead of skip-gram")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    summary = compare_with_gensim(args.repeats, epochs=args.epochs, sg=not args.cbow)
    print(json.dumps(summary, indent=2) if args.json else format_table(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
