"""The one rule for rows of words pretrained vectors lack (chapter 2), and Hangul in figures."""

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lessonlib._validate import LessonlibInputError  # noqa: E402
from lessonlib.data import glove  # noqa: E402
from lessonlib.viz import fonts  # noqa: E402


def _mean_pairwise_cosine(rows: np.ndarray) -> float:
    unit = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return float((unit @ unit.T)[np.triu_indices(len(rows), k=1)].mean())


def test_random_rows_are_centred_with_the_pretrained_spread():
    pretrained = np.random.default_rng(1).normal(0.3, 0.7, size=(500, 40)).astype(np.float32)
    rows = glove.random_rows(300, pretrained, seed=0)
    assert rows.shape == (300, 40) and rows.dtype == np.float32
    assert abs(rows.mean()) < 0.02  # centred on 0, not on the pretrained mean
    assert rows.std() == pytest.approx(pretrained.std(), rel=0.03)
    assert abs(_mean_pairwise_cosine(rows)) < 0.02  # nearly orthogonal to each other
    assert np.array_equal(rows, glove.random_rows(300, pretrained, seed=0))
    assert not np.array_equal(rows, glove.random_rows(300, pretrained, seed=1))


def test_uniform_rows_share_a_direction_the_rule_avoids():
    """What the book says of np.random.rand: pairwise cosine about 0.75."""
    uniform = np.random.default_rng(0).random((300, 50))
    assert _mean_pairwise_cosine(uniform) == pytest.approx(0.75, abs=0.02)


def test_embedding_matrix_uses_the_same_rule():
    vocabulary = ["", "king", "zzqxv", "qqzzx"]
    matrix, missing = glove.embedding_matrix(vocabulary, seed=3)
    expected = glove.random_rows(len(vocabulary), glove.matrix()[:10_000], seed=3)
    assert missing == ["zzqxv", "qqzzx"]
    assert np.array_equal(matrix[2:], expected[2:])


@pytest.mark.parametrize(
    ("n_rows", "pretrained", "message"),
    [
        (-1, np.zeros((3, 2), np.float32), "n_rows must be a non-negative integer"),
        (2.5, np.zeros((3, 2), np.float32), "n_rows must be a non-negative integer"),
        (True, np.zeros((3, 2), np.float32), "n_rows must be a non-negative integer"),
        (2, np.zeros(5, np.float32), r"pretrained must be a float matrix \(n_words, dim\)"),
        (2, np.zeros((3, 2), np.int64), r"pretrained must be a float matrix"),
        (2, np.zeros((1, 2), np.float32), "at least two rows"),
    ],
)
def test_random_rows_rejects_bad_input(n_rows, pretrained, message):
    with pytest.raises(LessonlibInputError, match=message):
        glove.random_rows(n_rows, pretrained)


def _draw_hangul() -> list[warnings.WarningMessage]:
    fig, ax = plt.subplots()
    ax.set_title("띄어쓰기 토큰 나는 학교에")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fonts.use_hangul_font()  # re-applies nothing, but must not undo the filters
        fig.canvas.draw()
    plt.close(fig)
    return [w for w in caught if "missing from font" in str(w.message)]


def test_hangul_draws_without_glyph_warnings():
    family = fonts.hangul_font()
    if family is not None:
        assert family in matplotlib.rcParams["font.family"]
        assert matplotlib.rcParams["font.family"][0] != family  # Latin text keeps its font
    assert _draw_hangul() == [] or family is None


def test_without_a_cjk_font_figures_still_render_quietly(monkeypatch):
    monkeypatch.setattr(fonts, "CANDIDATE_FAMILIES", ("No Such Font Family",))
    monkeypatch.setattr(fonts, "CANDIDATE_FILES", ())
    monkeypatch.setattr(fonts, "_package_font_files", lambda: [])
    monkeypatch.setattr(fonts, "_configured", False)
    monkeypatch.setattr(fonts, "_chosen", None)
    family_before = list(matplotlib.rcParams["font.family"])
    with warnings.catch_warnings():
        warnings.simplefilter("always")  # without the quiet fallback, every glyph would warn
        assert fonts.use_hangul_font() is None
        with matplotlib.rc_context({"font.family": ["DejaVu Sans"]}):
            fig, ax = plt.subplots()
            ax.set_title("나는")
            with warnings.catch_warnings(record=True) as caught:
                fig.canvas.draw()
            plt.close(fig)
    assert [w for w in caught if "HANGUL" in str(w.message)] == []
    assert list(matplotlib.rcParams["font.family"]) == family_before
