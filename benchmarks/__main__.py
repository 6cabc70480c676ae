"""``python -m benchmarks`` (``make bench``): run every benchmark, write
``benchmarks/results/latest.json`` and ``latest.md`` (the table the book's performance
page shows).

Sections (``--only`` picks some): ``recurrent`` (numpy vs Keras forward+backward),
``word2vec`` (numpy vs gensim), ``grading`` (submissions per minute), ``pages`` (every
executed page of the book, once), ``book`` (full build, cold and cached).
A comparison with nothing to measure is listed as not measured, with the reason.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

SECTIONS = ("recurrent", "word2vec", "grading", "pages", "book")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections of {SECTIONS}")
    parser.add_argument("--repeats", type=int, default=7, help="timed repetitions per contender (median kept)")
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes, 2 repetitions, no one-thread-each runs: checks the code runs"
    )
    parser.add_argument("--out", type=Path, default=None, help="directory for the results (default benchmarks/results)")
    parser.add_argument("--stem", default="latest", help="file name stem of the results (default latest)")
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
    if "grading" in sections:
        from benchmarks import grading

        print("grading throughput ...", flush=True)
        rows, missing = grading.run(repeats=repeats, quick=args.quick)
        report.other += rows
        report.missing += missing
    if "pages" in sections:
        from benchmarks import book

        print("executing every page of the book once ...", flush=True)
        report.pages = book.time_pages()
    if "book" in sections:
        from benchmarks import book

        print("building the book, cold then cached ...", flush=True)
        report.book = book.time_book_build()
    json_path, md_path = results.write(report, stem=args.stem, **out)
    print(results.to_markdown(report))
    print(f"written: {json_path} and {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
