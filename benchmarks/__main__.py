"""``python -m benchmarks`` (``make bench``): every measurement of the project's performance,
in one place. It writes one results file, ``benchmarks/results/latest.json`` (and
``latest.md``, its tables, which the book's performance page shows).

Sections (``--only`` picks some): ``recurrent`` (numpy vs Keras forward+backward),
``word2vec`` (numpy vs gensim), ``glove`` (lessonlib's word-vector evaluation vs gensim's;
also stored in ``book/data/glove_vs_gensim.json`` for the Performance page), ``scatter`` (numpy
scatter-adds), ``grading`` (submissions per minute), ``pages`` (every executed page of the
book, once, against its budget in ``budgets.toml``), ``book`` (full build, cold and cached).
A run of some sections keeps the other sections' last results in the file.
A comparison with nothing to measure is listed as not measured, with the reason.

Exit status: 0, or 1 when a page misses its time budget (the pages are named); the
results are written either way. This is the performance check: the tests (``make
test``) assert behaviour only, never that the machine was fast enough.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

SECTIONS = ("recurrent", "word2vec", "glove", "scatter", "grading", "pages", "book")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections of {SECTIONS}")
    parser.add_argument("--repeats", type=int, default=7, help="timed repetitions per contender (median kept)")
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes, 2 repetitions, no one-thread-each runs: checks the code runs"
    )
    parser.add_argument("--out", type=Path, default=None, help="directory for the results (default benchmarks/results)")
    parser.add_argument("--stem", default="latest", help="file name stem of the results (default latest)")
    parser.add_argument("--pages", default=None, help="pages section: only these docnames (comma-separated), "
                        "e.g. chapters/06-attention; the file keeps the other pages' last times")
    parser.add_argument("--render", action="store_true", help="measure nothing: re-write <stem>.md from <stem>.json")
    args = parser.parse_args(argv)
    sections = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {unknown}; choose from {', '.join(SECTIONS)}")
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")

    from benchmarks import results

    out = {"out_dir": args.out} if args.out else {}
    if args.render:
        stored = (args.out or results.RESULTS_DIR) / f"{args.stem}.json"
        report = results.report_from_dict(json.loads(stored.read_text(encoding="utf-8")))
        print(f"written: {results.write(report, stem=args.stem, **out)[1]}")
        return 0
    report = results.Report(machine=results.machine_info(), command=results.command_line(argv))
    repeats = 2 if args.quick else args.repeats
    if "recurrent" in sections:
        from benchmarks import recurrent

        print("recurrent layers: numpy vs Keras forward+backward ...", flush=True)
        sizes = ["tiny"] if args.quick else ["standard", "large"]
        comparisons, missing = recurrent.run(sizes, repeats=repeats, one_thread_each=not args.quick)
        report.comparisons += comparisons
        report.missing += missing
    if "word2vec" in sections:
        from benchmarks import word2vec

        print("word2vec: numpy vs gensim ...", flush=True)
        comparisons, missing = word2vec.run(repeats=repeats, quick=args.quick)
        report.comparisons += comparisons
        report.missing += missing
    if "glove" in sections:
        from benchmarks import word2vec

        print("word-vector evaluation: lessonlib vs gensim on GloVe ...", flush=True)
        report.other.append(word2vec.run_glove(store=not args.quick and args.out is None))
    if "scatter" in sections:
        from benchmarks import word2vec

        print("numpy scatter-adds ...", flush=True)
        report.other.append(word2vec.run_scatter())
    if "grading" in sections:
        from benchmarks import grading

        print("grading throughput ...", flush=True)
        rows, missing = grading.run(repeats=repeats, quick=args.quick)
        report.other += rows
        report.missing += missing
    if "pages" in sections:
        from benchmarks import book

        print("executing every page of the book once ...", flush=True)
        report.pages, report.cells = book.time_pages(args.pages.split(",") if args.pages else None)
    pages_now = list(report.pages)
    if "book" in sections:
        from benchmarks import book

        print("building the book, cold then cached ...", flush=True)
        report.book = book.time_book_build()
    report.measured = {section: results.stamp(report.machine, report.command) for section in sections}
    if set(sections) != set(SECTIONS) and not args.quick:
        report = results.merge_stored(report, (args.out or results.RESULTS_DIR) / f"{args.stem}.json")
    json_path, md_path = results.write(report, stem=args.stem, **out)
    print(results.to_markdown(report))
    print(f"written: {json_path} and {md_path}")
    over = [p for p in report.pages if p.page in {q.page for q in pages_now} and not p.within_limit]
    if over:
        print("\nOver budget (benchmarks/budgets.toml; budget x margin) or failed:", file=sys.stderr)
        for p in over:
            why = f"FAILED: {p.error}" if p.error else f"budget {p.budget:g} s x {p.factor:g}"
            print(f"  {p.page}: {p.seconds:.1f} s, {why} ({p.how})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
