"""The comparison that stands in for an nbval re-run (tests/notebook_outputs.py) finds what
nbval would find and skips what nbval skips."""

from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output
from notebook_outputs import differences

VERDICT = "application/vnd.lessonlib.outcome+json"


def _nb(*cells):
    return new_notebook(cells=list(cells))


def _cell(source, *outputs):
    return new_code_cell(source, outputs=list(outputs))


def _stream(text, name="stdout"):
    return new_output("stream", name=name, text=text)


def _data(**data):
    return new_output("display_data", data=data)


def test_same_outputs_pass_and_a_changed_number_is_named():
    ref = _nb(_cell("x = 1"), _cell("print(x)", _stream("1\n")))
    assert differences(ref, _nb(_cell("x = 1"), _cell("print(x)", _stream("1\n"))), skip_mime=VERDICT) == []
    found = differences(ref, _nb(_cell("x = 1"), _cell("print(x)", _stream("2\n"))), skip_mime=VERDICT)
    assert len(found) == 1 and "code cell 2" in found[0] and "stdout" in found[0]


def test_streams_split_differently_are_the_same_output():
    ref = _nb(_cell("f()", _stream("a\nb\n")))
    assert differences(ref, _nb(_cell("f()", _stream("a\n"), _stream("b\n"))), skip_mime=VERDICT) == []


def test_a_missing_or_extra_output_is_a_difference():
    ref = _nb(_cell("f()", _stream("a\n"), _data(**{"text/plain": "3"})))
    assert differences(ref, _nb(_cell("f()", _stream("a\n"))), skip_mime=VERDICT)
    assert differences(_nb(_cell("f()", _stream("a\n"))), ref, skip_mime=VERDICT)


def test_what_nbval_does_not_compare_is_not_compared():
    ref = _nb(
        _cell("# NBVAL_IGNORE_OUTPUT\nprint(time())", _stream("1.0\n")),
        _cell("plot()", _data(**{"image/png": "AAAA", "text/plain": "<Figure>"})),
        _cell("check(answer)", _data(**{VERDICT: {"status": "not attempted"}, "text/plain": "not attempted"})),
        _cell("def answer(): ...", _stream("stub\n")),
    )
    run = _nb(
        _cell("# NBVAL_IGNORE_OUTPUT\nprint(time())", _stream("2.0\n")),
        _cell("plot()", _data(**{"image/png": "BBBB", "text/plain": "<Figure>"})),
        _cell("check(answer)", _data(**{VERDICT: {"status": "correct"}, "text/plain": "correct"})),
        _cell("def answer(): return 1", _stream("solved\n")),
    )
    assert differences(ref, run, skip_mime=VERDICT) == []
    run.cells[1].outputs[0]["data"]["text/plain"] = "<Other figure>"
    assert "text/plain" in differences(ref, run, skip_mime=VERDICT)[0]


def test_notebooks_with_different_cells_are_refused():
    import pytest

    with pytest.raises(AssertionError, match="code cells"):
        differences(_nb(_cell("a")), _nb(_cell("a"), _cell("b")), skip_mime=VERDICT)


def test_reads_real_notebook_nodes():
    nb = nbformat.from_dict(_nb(_cell("print(1)", _stream("1\n"))))
    assert differences(nb, nb, skip_mime=VERDICT) == []


def test_cells_that_call_the_learners_functions_are_not_compared_but_the_exercise_attribute_is():
    ref = _nb(
        _cell("print(encode('a'))", _stream("write encode first\n")),
        _cell("ex.encode.statement()", _data(**{"text/markdown": "Write `encode`."})),
    )
    run = _nb(
        _cell("print(encode('a'))", _stream("[1]\n")),
        _cell("ex.encode.statement()", _data(**{"text/markdown": "Write `encode(text)`."})),
    )
    found = differences(ref, run, skip_mime=VERDICT, answers={"encode"})
    assert len(found) == 1 and "code cell 2" in found[0]
