"""Chapter 3 exercises: language models and recurrent networks.

Each exercise: a contract (what the answer must be), seeded test cases built to separate
every catalogued mistake from the reference and from each other (corpora that do not end
with </s>, vocab_size above the number of distinct tokens, texts of thousands of tokens,
non-square weights, batch and time of 1 and odd sizes, logits near 1000 with T != 1), a
diagnosis that names what is wrong (which term, which gradient, which axis, which time
step), hints from gentle to explicit, and a catalogue of known mistakes with the
diagnostic each must produce. Solutions live in ``lessonlib/exercises/solutions/ch03.py``.

How a diagnosis is found (:func:`named_variant`, :func:`candidates`): each known wrong
answer is recomputed on the case, and its message is a candidate only if it differs from
the right answer there and is the only one matching (or names a catalogued mistake, which
the engine then verifies on every case). After it come facts read off the answer itself
(the implied denominator of a probability, tanh's range, the first wrong time step, the
factor a clipping used, the temperature a softmax implies), so an answer no catalogue
foresaw is still located. The recurrent-cell cases first zero every input but one (only
x_t, only h_prev, only b), as the Coursera sequence-model tests do, so a wrong result there
names the term that is wrong; they are ordinary cases (plain arrays), so the grader, which
runs learner code in another process, gets the same diagnoses.
"""

from __future__ import annotations

import copy
import importlib
import warnings
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np

from lessonlib.exercises.compare import (
    compare_array,
    compare_array_dict,
    compare_int,
    compare_scalar,
    compare_shape,
)
from lessonlib.exercises.contract import Contract
from lessonlib.exercises.core import (
    Case,
    ChoiceExercise,
    Exercise,
    FunctionExercise,
    Mistake,
    ValueExercise,
)

SOLUTIONS = "lessonlib.exercises.solutions.ch03"

# Answers are float arrays of any precision: float32 and float64 are both accepted.
_compare_floats = partial(compare_array, dtype="kind")
_compare_float_dicts = partial(compare_array_dict, dtype="kind")


def _same(got: Any, candidate: Any, rtol: float = 1e-5, atol: float = 1e-7) -> bool:
    """``got`` has ``candidate``'s structure (dict keys, tuple length, array shape) and values.

    NaN and inf count as equal to themselves, so an answer that overflows can be recognised as
    the known overflowing variant.
    """
    try:
        if isinstance(candidate, dict):
            return isinstance(got, dict) and set(got) == set(candidate) and all(
                _same(got[k], candidate[k], rtol, atol) for k in candidate
            )
        if isinstance(candidate, tuple):
            return isinstance(got, (tuple, list)) and len(got) == len(candidate) and all(
                _same(g, c, rtol, atol) for g, c in zip(got, candidate, strict=True)
            )
        if isinstance(got, (dict, tuple, list, str)) or got is None:
            return False
        got_array = np.asarray(got, dtype=np.float64)
        candidate_array = np.asarray(candidate, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return got_array.shape == candidate_array.shape and bool(
        np.allclose(got_array, candidate_array, rtol=rtol, atol=atol, equal_nan=True)
    )


def _close(got: Any, candidate: Any) -> bool:
    """``got`` has ``candidate``'s shape and values (a known wrong answer, recomputed)."""
    return _same(got, candidate)


def same_structure(got: Any, expected: Any) -> bool:
    """``got`` is built like ``expected``: the same container types, keys, lengths and array
    shapes, and numbers where numbers are expected. Only then may a value diagnosis be given;
    otherwise the comparison's own message (wrong type, shape or dtype) is the right one."""
    if isinstance(expected, dict):
        return isinstance(got, dict) and set(got) == set(expected) and all(
            same_structure(got[k], expected[k]) for k in expected
        )
    if isinstance(expected, tuple):
        return isinstance(got, tuple) and len(got) == len(expected) and all(
            same_structure(g, e) for g, e in zip(got, expected, strict=True)
        )
    if isinstance(expected, np.ndarray):
        return isinstance(got, np.ndarray) and got.shape == expected.shape and got.dtype.kind in "fiu"
    if isinstance(got, np.ndarray):
        return got.ndim == 0
    return isinstance(got, (int, float, np.integer, np.floating)) and not isinstance(got, bool)


def named_variant(
    got: Any, expected: Any, variants: dict[str, Callable[[], Any]], *, rtol: float = 1e-5, atol: float = 1e-7,
    catalogued: Callable[[], Sequence[str]] | None = None,
) -> str | list[str] | None:
    """The message of the one known wrong answer that ``got`` equals on this case.

    A variant counts only if it differs from the right answer on this case (a variant that is
    right here cannot explain a wrong value), and a message is given only if exactly one
    variant matches: two different explanations of the same value would make either one a
    guess. One exception: the matching messages that name catalogued mistakes (contain a
    phrase of ``catalogued()``) are returned as candidates, because the engine shows one only
    after checking that the answer behaves like that mistake on every case.
    """
    found: list[str] = []
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for message, compute in variants.items():
            try:
                wrong = compute()
            except (ValueError, FloatingPointError, ZeroDivisionError, IndexError, TypeError, KeyError):
                continue  # this variant cannot run on these shapes
            if _same(wrong, expected, rtol, atol):
                continue
            if _same(got, wrong, rtol, atol) and message not in found:
                found.append(message)
    if len(found) == 1:
        return found[0]
    if len(found) > 1 and catalogued is not None:
        phrases = tuple(catalogued())
        claims = [m for m in found if any(p in m for p in phrases)]
        if claims:
            return claims  # type: ignore[return-value]  # the engine keeps the one that holds on every case
    return None


def candidates(*messages: str | list[str] | None) -> list[str]:
    """The diagnoses to try in order: the engine shows the first one it trusts (a claim of a
    catalogued mistake only if the answer behaves like that mistake on every case)."""
    found: list[str] = []
    for message in messages:
        if isinstance(message, list):
            found += message
        elif message:
            found.append(message)
    return found


def _phrases(exercise_name: str) -> Callable[[], tuple[str, ...]]:
    """The diagnostic phrases of this module's exercise ``exercise_name`` (read when called)."""
    return lambda: tuple(m.diagnostic for m in globals()[exercise_name].mistakes)


def rounded_message(got: Any, expected: float) -> str | None:
    """A number that equals the right one rounded to a few decimals: say so (it is right, but rounded)."""
    value = float(np.asarray(got))
    for digits in range(0, 5):
        if value == round(expected, digits) and not np.isclose(value, expected, rtol=1e-5, atol=1e-6):
            return f"You rounded the result to {digits} decimals ({value!r}); return it unrounded."
    return None


def separating(
    draw: Callable[[], tuple[Any, ...]],
    variants: Callable[..., dict[str, Callable[[], Any]]],
    reference: str,
    tries: int = 200,
) -> tuple[Any, ...]:
    """Draw a case's arguments until every known wrong answer that is wrong on them differs from every
    other one, so that the diagnosis on that case can name one mistake. A seeded search, as hypothesis
    would do it: the same generator gives the same cases. ``reference`` is "module:function"."""
    module, name = reference.split(":")
    solution = getattr(importlib.import_module(module), name)
    for _ in range(tries):
        args = draw()
        expected = solution(*copy.deepcopy(args))
        wrong = []
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for compute in variants(*args).values():
                try:
                    value = compute()
                except (ValueError, FloatingPointError, ZeroDivisionError, IndexError, TypeError, KeyError):
                    continue
                if not _same(value, expected):
                    wrong.append(value)
        if all(not _same(a, b) for i, a in enumerate(wrong) for b in wrong[i + 1:]):
            return args
    raise RuntimeError(f"{reference}: no case separating the known mistakes in {tries} draws")


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-a))


# ------------------------------------------------------------------------------ add_k
_SUBJECTS = ("he", "she", "the cat")
_VERBS = ("is", "was", "sat")
_REST = ("a", "good", "man", "student", "on", "the", "mat", "big")


def _sentences(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` sentences, each ending with </s>: subject, verb, 1-3 other words. "he" and "she"
    only start sentences, so "is he" never occurs and "she is" contains "he is" as text."""
    tokens: list[str] = []
    for _ in range(n):
        tokens += str(rng.choice(_SUBJECTS)).split()
        tokens.append(str(rng.choice(_VERBS)))
        tokens += [str(w) for w in rng.choice(_REST, size=int(rng.integers(1, 4)))]
        tokens.append("</s>")
    return tokens


def _pairs(tokens: list[str]) -> list[tuple[str, str]]:
    return list(zip(tokens[:-1], tokens[1:], strict=True))


def _add_k_cases(rng: np.random.Generator) -> list[Case]:
    def k() -> float:
        return float(rng.choice([0.15, 0.3, 0.7, 1.5, 2.5]))  # never a whole number or 1 / a whole number

    def vocab(tokens: list[str]) -> int:  # always more words than this corpus happens to contain
        return len(set(tokens)) + int(rng.integers(2, 7))

    def seen_pair() -> tuple[Any, ...]:
        # The corpus ends with </s>; "she is" also occurs, so "he is" is inside another pair when counted as text.
        tokens = [*_sentences(rng, 4), "he", "is", "a", "man", "</s>", "she", "is", "big", "</s>",
                  "he", "was", "good", "</s>"]
        return tokens, "he", "is", k(), vocab(tokens)

    def unseen_pair() -> tuple[Any, ...]:
        # prev and word both occur, never as neighbours.
        tokens = _sentences(rng, 5)
        seen = set(_pairs(tokens))
        prev, word = next(((p, w) for p in _REST for w in (*_VERBS, "</s>")
                           if p in tokens and w in tokens and (p, w) not in seen and (w, p) not in seen),
                          ("good", "sat"))
        return tokens, prev, word, k(), vocab(tokens)

    def last_token() -> tuple[Any, ...]:
        # The corpus does not end with </s>: its last token is prev, which starts no pair there.
        tokens = [*_sentences(rng, 4), "the", "cat", "sat", "on", "the", "mat", "the"]
        return tokens, "the", "cat", k(), vocab(tokens)

    def unknown_prev() -> tuple[Any, ...]:
        tokens = _sentences(rng, 3)
        return tokens, "dog", str(rng.choice(tokens)), k(), vocab(tokens)

    def repeated() -> tuple[Any, ...]:
        tokens = [*_sentences(rng, 2), "ha", "ha", "ha", "</s>", *_sentences(rng, 1)]
        return tokens, "ha", "ha", k(), vocab(tokens)

    def case(draw: Callable[[], tuple[Any, ...]], label: Callable[[tuple[Any, ...]], str]) -> Case:
        args = separating(draw, _add_k_variants, f"{SOLUTIONS}:add_k_bigram")
        return Case(args, label(args))

    return [
        case(seen_pair, lambda a: "a seen pair, P(is | he): the corpus also has 'she is'"),
        case(unseen_pair, lambda a: f"an unseen pair, P({a[2]} | {a[1]})"),
        case(last_token, lambda a: "prev is also the last token (the corpus does not end with </s>)"),
        case(unknown_prev, lambda a: "prev never occurs"),
        case(repeated, lambda a: "'ha ha ha': two overlapping pairs (ha, ha)"),
    ]


def _pair_count(tokens, prev, word):
    return sum(1 for i in range(len(tokens) - 1) if tokens[i] == prev and tokens[i + 1] == word)


def _add_k_variants(tokens, prev, word, k, V) -> dict[str, Callable[[], Any]]:
    c_pair = _pair_count(tokens, prev, word)
    c_prev = sum(1 for a in tokens[:-1] if a == prev)
    variants: dict[str, Callable[[], Any]] = {
        "The denominator must grow by k V (k for each of the V words that could follow), not just k: "
        "otherwise the smoothed probabilities sum to more than 1.": lambda: (c_pair + k) / (c_prev + k),
        "You divided by c(word); the context is prev, so divide by c(prev) + k V.":
            lambda: (c_pair + k) / (tokens.count(word) + k * V),
        "You added k to the denominator only: add it to the pair count c(prev word) as well.":
            lambda: c_pair / (c_prev + k * V),
        "You added k to the pair count but not k V to the denominator.": lambda: (c_pair + k) / c_prev,
        "V is the vocabulary size (vocab_size), not the number of tokens in the corpus.":
            lambda: (c_pair + k) / (c_prev + k * len(tokens)),
        "V is vocab_size, the size of the vocabulary, not the number of distinct tokens in this corpus "
        "(words of the vocabulary may not occur in it).": lambda: (c_pair + k) / (c_prev + k * len(set(tokens))),
        "c(prev) counts prev as the FIRST word of a pair: here prev is also the last token, which starts no "
        "pair, so count prev in tokens[:-1], not in all tokens.": lambda: (c_pair + k) / (tokens.count(prev) + k * V),
        "You counted the pair in the reverse order, (word, prev): count positions i with tokens[i] == prev and "
        "tokens[i + 1] == word.": lambda: (_pair_count(tokens, word, prev) + k) / (c_prev + k * V),
        "You counted 'prev word' in the joined text: that also counts it inside longer words ('she is' contains "
        "'he is') and misses overlapping pairs; compare whole tokens at neighbouring positions.":
            lambda: (" ".join(tokens).count(f"{prev} {word}") + k) / (c_prev + k * V),
    }
    if c_pair == 0:  # both "k only in the denominator" and "no smoothing" give 0: one message true of both
        del variants["You added k to the denominator only: add it to the pair count c(prev word) as well."]
        variants["Your probability for this unseen pair is 0: smoothing must add k to the pair count too, "
                 "(0 + k) / (c(prev) + k V)."] = lambda: 0.0
    else:
        variants["That is the unsmoothed estimate c(prev word) / c(prev): add k to every count."] = lambda: c_pair / c_prev
    return variants


def _whole(value: float) -> int | None:
    return int(round(value)) if np.isfinite(value) and abs(value - round(value)) < 1e-6 else None


def _locate_add_k(got: float, expected: float, case: Case) -> str | None:
    """Which part of (c(prev word) + k) / (c(prev) + k V) is wrong, when only one part is."""
    tokens, prev, word, k, V = case.args
    c_pair = _pair_count(tokens, prev, word)
    c_prev = sum(1 for a in tokens[:-1] if a == prev)
    denominator = c_prev + k * V
    if got <= 0 or not np.isfinite(got):
        return None
    unsmoothed = _whole(got * denominator)
    if unsmoothed == c_pair and c_pair > 0:
        return (f"With the right denominator, c(prev) + k * vocab_size = {denominator:g}, your numerator is "
                f"c(prev word) = {c_pair} without the + k: add k to the count of every pair, seen or unseen.")
    pair = _whole(got * denominator - k)
    if pair is not None and pair != c_pair and pair >= 0:
        return (f"With the right denominator, c(prev) + k * vocab_size = {denominator:g}, your answer implies a pair "
                f"count c(prev word) of {pair}, but ({prev!r}, {word!r}) occurs {c_pair} times as neighbours: count "
                "the positions i with tokens[i] == prev and tokens[i + 1] == word.")
    implied = (c_pair + k) / got
    count = _whole(implied - k * V)
    if count is not None and count != c_prev:
        return (f"The numerator is right, but your denominator implies c(prev) = {count}: prev = {prev!r} starts "
                f"{c_prev} pairs here (count it in tokens[:-1]), and the denominator is c(prev) + k * vocab_size "
                f"= {denominator:g}.")
    return (f"Your value {got:.6g} is not (c(prev word) + k) / (c(prev) + k * vocab_size) = {c_pair + k:g} / "
            f"{denominator:g}: with that numerator it would need the denominator {implied:.6g}, with that denominator "
            f"the numerator {got * denominator:.6g}. Here c(prev word) = {c_pair}, c(prev) = {c_prev} (prev as the "
            f"first word of a pair), V = vocab_size = {V}.")


def _diagnose_add_k(got: Any, expected: float, case: Case) -> str | None:
    if not same_structure(got, expected):
        return None
    value = float(np.asarray(got))
    return candidates(named_variant(got, expected, _add_k_variants(*case.args), catalogued=_phrases("ADD_K")),
                      rounded_message(value, expected), _locate_add_k(value, expected, case))


def _mistake_add_k_none(tokens, prev, word, k, vocab_size):
    return _pair_count(tokens, prev, word) / sum(1 for a in tokens[:-1] if a == prev)


def _mistake_add_k_only(tokens, prev, word, k, vocab_size):
    pair = _pair_count(tokens, prev, word)
    return (pair + k) / (sum(1 for a in tokens[:-1] if a == prev) + k)


def _mistake_add_k_word(tokens, prev, word, k, vocab_size):
    pair = _pair_count(tokens, prev, word)
    return (pair + k) / (tokens.count(word) + k * vocab_size)


def _mistake_add_k_numerator(tokens, prev, word, k, vocab_size):
    pair = _pair_count(tokens, prev, word)
    return pair / (sum(1 for a in tokens[:-1] if a == prev) + k * vocab_size)


def _mistake_add_k_len(tokens, prev, word, k, vocab_size):
    pair = _pair_count(tokens, prev, word)
    return (pair + k) / (sum(1 for a in tokens[:-1] if a == prev) + k * len(tokens))


def _mistake_add_k_prev_anywhere(tokens, prev, word, k, vocab_size):
    pairs = list(zip(tokens, tokens[1:], strict=False))
    return (pairs.count((prev, word)) + k) / (tokens.count(prev) + k * vocab_size)


def _mistake_add_k_distinct(tokens, prev, word, k, vocab_size):
    pairs = list(zip(tokens, tokens[1:], strict=False))
    return (pairs.count((prev, word)) + k) / (tokens[:-1].count(prev) + k * len(set(tokens)))


def _mistake_add_k_reversed(tokens, prev, word, k, vocab_size):
    pairs = list(zip(tokens, tokens[1:], strict=False))
    return (pairs.count((word, prev)) + k) / (tokens[:-1].count(prev) + k * vocab_size)


def _mistake_add_k_text(tokens, prev, word, k, vocab_size):
    text = " ".join(tokens)
    return (text.count(prev + " " + word) + k) / (tokens[:-1].count(prev) + k * vocab_size)


ADD_K = FunctionExercise(
    id="ch03.add_k",
    title="A bigram probability with add-k smoothing",
    points=2,
    answer_name="add_k_bigram",
    hints=(
        "Count two things in the token list: how often the pair (prev, word) occurs as "
        "neighbours, c(prev word), and how often prev starts a pair, c(prev).",
        "Add-k smoothing pretends every one of the vocab_size possible next words was seen k "
        "extra times after prev: P = (c(prev word) + k) / (c(prev) + k * vocab_size).",
        "Position i starts the pair (tokens[i], tokens[i + 1]), for i from 0 to len(tokens) - 2: "
        "the last token starts no pair.",
    ),
    mistakes=(
        Mistake("adds k to the denominator instead of k V", _mistake_add_k_only, "must grow by k V"),
        Mistake("divides by the count of word", _mistake_add_k_word, "divide by c(prev)"),
        Mistake("smooths the denominator only", _mistake_add_k_numerator, "denominator only"),
        Mistake("uses the corpus length as V", _mistake_add_k_len, "not the number of tokens"),
        Mistake("counts prev anywhere, also as the last token", _mistake_add_k_prev_anywhere,
                "counts prev as the FIRST word of a pair"),
        Mistake("uses the number of distinct tokens as V", _mistake_add_k_distinct, "not the number of distinct tokens"),
        Mistake("counts the reversed pair", _mistake_add_k_reversed, "reverse order"),
        Mistake("counts the pair in the joined text", _mistake_add_k_text, "in the joined text"),
        Mistake("no smoothing at all", _mistake_add_k_none, "unsmoothed estimate"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_add_k_cases,
    contract=Contract(
        kind="float",
        returns="a single number (a Python float): (c(prev word) + k) / (c(prev) + k * vocab_size)",
        inputs=(
            "`tokens`: a list of str; it may or may not end with `'</s>'`, and `prev` may be its last token "
            "(which starts no pair)",
            "`prev`, `word`: str; either may be missing from tokens, and they may be the same word",
            "`k`: a positive float; `vocab_size`: an int, at least (often more than) the number of distinct tokens",
        ),
    ),
    compare=compare_scalar,
    diagnose=_diagnose_add_k,
)


# ------------------------------------------------------------------------- perplexity
_LONG_TEXT = 5000  # tokens: a product of this many probabilities is 0 in float64


def _perplexity_cases(rng: np.random.Generator) -> list[Case]:
    m = int(rng.integers(3, 9))
    certain = rng.uniform(0.05, 0.9, size=int(rng.integers(4, 8)))
    certain[int(rng.integers(0, certain.size))] = 1.0
    return [
        Case((np.full(m, 1 / m),), f"{m} tokens of probability 1/{m}"),
        Case((rng.uniform(0.02, 0.95, size=int(rng.integers(5, 9))),), "a few unequal probabilities"),
        Case((rng.uniform(0.05, 0.9, size=1),), "a text of one token"),
        Case((certain,), "one token the model was certain of (p = 1)"),
        Case((rng.uniform(0.001, 0.2, size=_LONG_TEXT),), f"a long text: {_LONG_TEXT} tokens"),
    ]


def _perplexity_variants(p: np.ndarray) -> dict[str, Callable[[], Any]]:
    mean_log = float(np.mean(np.log(p)))
    return {
        "That is the cross-entropy -mean(log p); perplexity is its exponential, exp(-mean(log p)).": lambda: -mean_log,
        "You exponentiated the sum of the logs: take the mean over tokens, so the value does not grow with the length.":
            lambda: float(np.exp(-np.sum(np.log(p)))),
        "The sign is flipped: that is exp(mean(log p)) = 1 / perplexity; perplexity is exp(-mean(log p)).":
            lambda: float(np.exp(mean_log)),
        "You mixed bases: with the natural log, exponentiate with e (np.exp), not 2.": lambda: float(2 ** (-mean_log)),
        "You mixed bases: the mean of log2 must be exponentiated in base 2, 2 ** (...), not with np.exp.":
            lambda: float(np.exp(-np.mean(np.log2(p)))),
        "That is 1 / mean(p); perplexity averages the logs: exp(-mean(log p)).": lambda: float(1 / np.mean(p)),
        "That is mean(1 / p), the average of the inverse probabilities; perplexity averages the logs: "
        "exp(-mean(log p)).": lambda: float(np.mean(1 / p)),
        "You mixed bases: a mean of log10 values must be exponentiated in base 10, 10 ** (...); np.exp undoes "
        "only the natural log.":
            lambda: float(np.exp(-np.mean(np.log10(p)))),
        "That is the exponential of the entropy of the list of probabilities, -sum(p log p); perplexity uses "
        "each token's probability once, exp(-mean(log p)).": lambda: float(np.exp(-np.sum(p * np.log(p)))),
        "You divided the sum of the logs by n - 1; the mean over n tokens divides by n.":
            lambda: float(np.exp(-np.sum(np.log(p)) / (p.size - 1))),
    }


def _diagnose_perplexity(got: Any, expected: float, case: Case) -> str | None:
    (p,) = case.args
    if not same_structure(got, expected):
        return None
    value = float(np.asarray(got))
    if p.size >= _LONG_TEXT and value == 0:
        return (f"Your result is 0.0: over {p.size} tokens a product of probabilities underflows to 0, and a "
                "perplexity is at least 1 anyway. Average the logs instead: exp(-mean(log p)).")
    if p.size >= _LONG_TEXT and not np.isfinite(value):
        return (f"Your result is {value}: over {p.size} tokens the product of the probabilities underflows to 0 "
                "(and 0 to a negative power is inf), or exp of the sum of their logs overflows. Average the logs "
                "first: exp(-mean(log p)).")
    found = [named_variant(got, expected, _perplexity_variants(p), catalogued=_phrases("PERPLEXITY")),
             rounded_message(value, expected)]
    if value < 1:
        found.append("A perplexity is at least 1 (1 means the model was certain of every token), and yours is below 1: "
                     "check the sign of the exponent, exp(-mean(log p)).")
    ratio = np.log(value) / np.log(expected) if expected > 1 and value > 0 else np.nan
    if np.isfinite(ratio) and not np.isclose(ratio, 1.0, rtol=1e-4):
        found.append(f"log(your value) is {ratio:.4g} times the right log-perplexity, -mean(log p): check the mean "
                     "(divide the sum of the logs by the number of tokens) and that the log and the exponential use "
                     "the same base.")
    return candidates(*found)


def _mistake_perplexity_product(probs):
    return float(np.prod(probs) ** (-1 / len(probs)))


PERPLEXITY = FunctionExercise(
    id="ch03.perplexity",
    title="Perplexity from the probabilities a model gave each token",
    points=2,
    answer_name="perplexity",
    hints=(
        "Perplexity is the exponential of the average negative log-probability per token.",
        "`np.exp(-np.mean(np.log(probs)))`: the mean, not the sum, so that long texts are comparable with short ones "
        "(and a product of thousands of probabilities would underflow to 0).",
    ),
    mistakes=(
        Mistake("returns the cross-entropy", lambda probs: float(-np.mean(np.log(probs))), "cross-entropy"),
        Mistake("sum instead of mean", lambda probs: float(np.exp(-np.sum(np.log(probs)))), "take the mean"),
        Mistake("drops the minus sign", lambda probs: float(np.exp(np.mean(np.log(probs)))), "sign is flipped"),
        Mistake("base 2 with natural logs", lambda probs: float(2 ** (-np.mean(np.log(probs)))), "not 2"),
        Mistake("log2 with np.exp", lambda probs: float(np.exp(-np.mean(np.log2(probs)))), "not with np.exp"),
        Mistake("one over the mean probability", lambda probs: float(1 / np.mean(probs)), "1 / mean(p)"),
        Mistake("mean of the inverse probabilities", lambda probs: float(np.mean(1 / probs)), "mean(1 / p)"),
        Mistake("product of the probabilities", _mistake_perplexity_product, "0 to a negative power is inf"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_perplexity_cases,
    contract=Contract(
        kind="float",
        returns="a single number (a Python float), at least 1",
        inputs=("`probs`: a 1-D float64 array of probabilities in (0, 1], from 1 to several thousand tokens",),
        notes=("A text of thousands of tokens must work: a product of that many probabilities is 0 in floating point.",),
    ),
    compare=compare_scalar,
    diagnose=_diagnose_perplexity,
)


# ----------------------------------------------------------------------- cell_forward
_ONLY_X, _ONLY_H, _ONLY_B = "only x_t (h_prev = 0, b = 0)", "only h_prev (x_t = 0, b = 0)", "only b (x_t = 0, h_prev = 0)"


def _cell_cases(rng: np.random.Generator) -> list[Case]:
    def weights(features: int, units: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (rng.normal(size=(features, units)), rng.normal(size=(units, units)) * 0.7, rng.normal(size=units))

    # The probes are square (features = units) so that swapped or transposed weights still run and can be named.
    W_x, W_h, b = weights(4, 4)
    x, h = rng.normal(size=(3, 4)), np.tanh(rng.normal(size=(3, 4)))
    zero = np.zeros((3, 4))
    W_x5, W_h5, b5 = weights(5, 2)
    W_x1, W_h1, b1 = weights(2, 3)
    return [
        Case((x, zero, W_x, W_h, np.zeros(4)), _ONLY_X),
        Case((zero, h, W_x, W_h, np.zeros(4)), _ONLY_H),
        Case((zero, zero, W_x, W_h, b), _ONLY_B),
        Case((x, h, W_x, W_h, b), "all terms"),
        Case((rng.normal(size=(5, 5)), np.tanh(rng.normal(size=(5, 2))), W_x5, W_h5, b5), "batch 5, 5 features, 2 units"),
        Case((rng.normal(size=(1, 2)), np.tanh(rng.normal(size=(1, 3))), W_x1, W_h1, b1), "one sequence (batch 1), 2 features, 3 units"),
    ]


def _cell_variants(x, h, W_x, W_h, b) -> dict[str, Callable[[], Any]]:
    return {
        "You dropped the h_prev W_h term: without it the cell forgets everything before x_t and is not "
        "recurrent at all (the erratum of note 000: H_t = tanh(W_hh H_(t-1) + W_xh X_t + b)).":
            lambda: np.tanh(x @ W_x + b),
        "You dropped the x_t W_x term: the new input must enter every step.": lambda: np.tanh(h @ W_h + b),
        "x_t went through W_h and h_prev through W_x: x_t (features) is multiplied by W_x (features, units), "
        "h_prev by W_h (units, units). (If you concatenate [x_t, h_prev], stack the weights in the same order, "
        "[W_x; W_h].)": lambda: np.tanh(x @ W_h + h @ W_x + b),
        "tanh is missing: h_t = tanh(x_t W_x + h_prev W_h + b), the activation squashes the sum into (-1, 1).":
            lambda: x @ W_x + h @ W_h + b,
        "The bias is added outside the tanh: it belongs inside, h_t = tanh(x_t W_x + h_prev W_h + b).":
            lambda: np.tanh(x @ W_x + h @ W_h) + b,
        "The bias b is missing: add it inside the tanh.": lambda: np.tanh(x @ W_x + h @ W_h),
        "You used a sigmoid; a SimpleRNN's default activation is tanh.": lambda: _sigmoid(x @ W_x + h @ W_h + b),
        "You applied tanh to each term separately; the cell takes one tanh of the sum, "
        "tanh(x_t W_x + h_prev W_h + b).": lambda: np.tanh(x @ W_x) + np.tanh(h @ W_h) + np.tanh(b),
        "You applied tanh to each product separately and added b outside; the cell takes one tanh of the sum.":
            lambda: np.tanh(x @ W_x) + np.tanh(h @ W_h) + b,
        "You multiplied h_prev by W_h.T: with row vectors (batch, units) it is h_prev @ W_h, as Keras stores W_h.":
            lambda: np.tanh(x @ W_x + h @ W_h.T + b),
        "You multiplied x_t by W_x.T: with row vectors it is x_t @ W_x, W_x having shape (features, units).":
            lambda: np.tanh(x @ W_x.T + h @ W_h + b),
        "You used the element-wise product h_prev * W_h; the recurrent term is the matrix product h_prev @ W_h.":
            lambda: np.tanh(x @ W_x + h * W_h + b),
        "x_t was multiplied by W_h as well; x_t takes the input weights W_x (features, units).":
            lambda: np.tanh(x @ W_h + h @ W_h + b),
        "h_prev was multiplied by W_x as well; h_prev takes the recurrent weights W_h (units, units).":
            lambda: np.tanh(x @ W_x + h @ W_x + b),
        "You added b twice: h_t = tanh(x_t W_x + h_prev W_h + b) has one bias.": lambda: np.tanh(x @ W_x + h @ W_h + 2 * b),
        "You used ReLU, np.maximum(0, ...); a SimpleRNN's default activation is tanh.":
            lambda: np.maximum(0, x @ W_x + h @ W_h + b),
    }


_PROBE_TERMS = {
    _ONLY_X: "With h_prev = 0 and b = 0 only the term x_t W_x is left, h_t = tanh(x_t @ W_x), and your value "
    "differs: check how you use x_t and W_x.",
    _ONLY_H: "With x_t = 0 and b = 0 only the term h_prev W_h is left, h_t = tanh(h_prev @ W_h), and your value "
    "differs: check how you use h_prev and W_h.",
    _ONLY_B: "With x_t = 0 and h_prev = 0 only the bias is left: h_t must be tanh(b) in every row, and your value "
    "differs: check how you add b.",
}


def _diagnose_cell(got: Any, expected: np.ndarray, case: Case) -> str | None:
    if not same_structure(got, expected):
        return None
    x, h, W_x, W_h, b = case.args
    if case.label == _ONLY_B:
        # With x_t = h_prev = 0, "no tanh at all" and "b outside the tanh" give the same value: name what is
        # true of both (this probe comes after the x_t one, where a missing tanh already shows).
        if _same(got, np.broadcast_to(b, expected.shape)):
            return ("With x_t = 0 and h_prev = 0, h_t must be tanh(b) in every row; you returned b itself: the "
                    "bias did not go through the tanh, h_t = tanh(x_t W_x + h_prev W_h + b).")
    specific = named_variant(got, expected, _cell_variants(x, h, W_x, W_h, b), catalogued=_phrases("CELL_FORWARD"))
    return candidates(specific, batch_rows_message(got, expected, "h_t"), _tanh_range(got, expected),
                      _PROBE_TERMS.get(case.label))


def _tanh_range(got: np.ndarray, expected: np.ndarray) -> str | None:
    """True statements about the range of the values, whatever the code behind them."""
    if np.abs(got).max() > 1 + 1e-9:
        return ("Some of your values lie outside (-1, 1), tanh's range: the whole sum x_t W_x + h_prev W_h + b must "
                "go through one tanh, and nothing may be added after it.")
    if got.min() >= 0 and expected.min() < 0:
        return "Your h_t has no negative values where tanh gives some: is the activation tanh (not a sigmoid or ReLU)?"
    return None


def batch_rows_message(got: np.ndarray, expected: np.ndarray, name: str) -> str | None:
    """Rows of a batch mixed up: every row equal, or rows in the wrong order."""
    if got.ndim < 2 or got.shape[0] < 2:
        return None
    if np.allclose(got, got[:1]) and not np.allclose(expected, expected[:1]):
        return (f"Every row of your {name} is the same, but the sequences of the batch differ: each row must be "
                "computed from its own row of the inputs (no mean or sum over the batch axis 0).")
    if _same(got, expected[::-1]):
        return f"The rows of your {name} are in reverse order: row j belongs to sequence j of the batch."
    return None


def _cell_mistake(message_start: str) -> Callable[..., Any]:
    def answer(x_t, h_prev, W_x, W_h, b):
        variants = _cell_variants(x_t, h_prev, W_x, W_h, b)
        return next(compute for message, compute in variants.items() if message.startswith(message_start))()

    return answer


CELL_FORWARD = FunctionExercise(
    id="ch03.cell_forward",
    title="One step of a SimpleRNN cell",
    points=2,
    answer_name="rnn_cell_forward",
    hints=(
        "The new hidden state mixes the current input and the previous hidden state, then squashes the sum.",
        "h_t = tanh(x_t W_x + h_prev W_h + b): x_t (batch, features) @ W_x (features, units), "
        "h_prev (batch, units) @ W_h (units, units), plus b (units,).",
        "`np.tanh(x_t @ W_x + h_prev @ W_h + b)`.",
    ),
    mistakes=(
        Mistake("drops h_prev W_h (note 000)", lambda x_t, h_prev, W_x, W_h, b: np.tanh(x_t @ W_x + b), "dropped the h_prev W_h term"),
        Mistake("drops x_t W_x", lambda x_t, h_prev, W_x, W_h, b: np.tanh(h_prev @ W_h + b), "dropped the x_t W_x term"),
        Mistake("swaps W_x and W_h", lambda x_t, h_prev, W_x, W_h, b: np.tanh(x_t @ W_h + h_prev @ W_x + b), "x_t went through W_h"),
        Mistake("concatenates [h_prev, x_t] against [W_x; W_h]",
                lambda x_t, h_prev, W_x, W_h, b: np.tanh(np.concatenate([h_prev, x_t], axis=1) @ np.vstack([W_x, W_h]) + b),
                "stack the weights in the same order"),
        Mistake("forgets tanh", lambda x_t, h_prev, W_x, W_h, b: x_t @ W_x + h_prev @ W_h + b, "tanh is missing"),
        Mistake("bias outside the tanh", lambda x_t, h_prev, W_x, W_h, b: np.tanh(x_t @ W_x + h_prev @ W_h) + b,
                "the bias did not go through the tanh"),
        Mistake("forgets the bias", lambda x_t, h_prev, W_x, W_h, b: np.tanh(x_t @ W_x + h_prev @ W_h), "bias b is missing"),
        Mistake("sigmoid instead of tanh", lambda x_t, h_prev, W_x, W_h, b: _sigmoid(x_t @ W_x + h_prev @ W_h + b), "used a sigmoid"),
        Mistake("tanh of each term", _cell_mistake("You applied tanh to each term"), "tanh to each term separately"),
        Mistake("transposes W_h", lambda x_t, h_prev, W_x, W_h, b: np.tanh(x_t @ W_x + h_prev @ W_h.T + b), "h_prev by W_h.T"),
        Mistake("transposes W_x", lambda x_t, h_prev, W_x, W_h, b: np.tanh(x_t @ W_x.T + h_prev @ W_h + b), "x_t by W_x.T"),
        Mistake("scales h_prev W_h by half", lambda x_t, h_prev, W_x, W_h, b: np.tanh(x_t @ W_x + 0.5 * h_prev @ W_h + b),
                "only the term h_prev W_h is left"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_cell_cases,
    contract=Contract(
        kind="array",
        returns="h_t, a float array of shape (batch, units)",
        dtype="float",
        inputs=(
            "`x_t`: (batch, features); `h_prev`: (batch, units); batch 1 or more, features and units may differ",
            "`W_x`: (features, units); `W_h`: (units, units); `b`: (units,); all float64",
        ),
    ),
    compare=_compare_floats,
    diagnose=_diagnose_cell,
)


# ---------------------------------------------------------------------- layer_forward
def _reference_layer(x, W_x, W_h, b, *, carry=True, time_first=False, reverse=False, h0=0.0):
    xs = np.swapaxes(x, 0, 1) if not time_first else x  # (time, batch, features) as the loop sees it
    h = np.full((xs.shape[1], W_h.shape[0]), h0)
    out = []
    for x_t in (xs[::-1] if reverse else xs):
        h = np.tanh(x_t @ W_x + (h if carry else 0 * h) @ W_h + b)
        out.append(h)
    return np.stack(out, axis=0 if time_first else 1)


def _layer_cases(rng: np.random.Generator) -> list[Case]:
    def case(batch, time, features, units, return_sequences, label):
        args = (rng.normal(size=(batch, time, features)), rng.normal(size=(features, units)) * 0.6,
                rng.normal(size=(units, units)) * 0.6, rng.normal(size=units) * 0.3, return_sequences)
        return Case(args, label)

    return [
        case(3, 5, 2, 4, True, "return_sequences=True: batch 3, time 5, 2 features, 4 units"),
        case(3, 5, 2, 4, False, "return_sequences=False: batch 3, time 5"),
        case(2, 7, 3, 5, False, "the last state of 2 sequences of 7 steps"),
        case(1, 1, 3, 2, True, "one sequence of one step"),
        case(5, 3, 4, 3, True, "batch 5, time 3 (more sequences than steps)"),
        case(1, int(rng.integers(4, 9)), 3, 2, False, "one sequence (batch 1), the last state"),
    ]


def _layer_variants(x, W_x, W_h, b, return_sequences) -> dict[str, Callable[[], Any]]:
    pick = (lambda h: h) if return_sequences else (lambda h: h[:, -1])
    full = _reference_layer(x, W_x, W_h, b)  # (batch, time, units)
    batch, time, _ = x.shape
    units = W_h.shape[0]
    return {
        "h_prev is not carried from step to step: each step must feed the h_t it just computed into the next one.":
            lambda: pick(_reference_layer(x, W_x, W_h, b, carry=False)),
        "You treated axis 0 as time: Keras layers are batch-major, x has shape (batch, time, features), so "
        "step t is x[:, t], not x[t].":
            lambda: (lambda h: h if return_sequences else h[-1])(_reference_layer(x, W_x, W_h, b, time_first=True)),
        "You returned the first hidden state, h_1; the many-to-one output is the last one, h_T = h_seq[:, -1].":
            lambda: full[:, 0],
        "You read the sequence backwards, from the last step to the first: step t = 0 comes first.":
            lambda: pick(_reference_layer(x, W_x, W_h, b, reverse=True)),
        "You read the sequence backwards and then returned the states in the order they were computed: "
        "step t = 0 comes first.": lambda: pick(_reference_layer(x, W_x, W_h, b, reverse=True)[:, ::-1]),
        "You reshaped the time-major stack (time, batch, units) into (batch, time, units): reshape does not move "
        "axes, it mixes states of different sequences. Stack on axis 1 (np.stack(states, axis=1)) or transpose.":
            lambda: pick(np.swapaxes(full, 0, 1).reshape(batch, time, units)),
        "h_0 must be zeros: you started from ones.": lambda: pick(_reference_layer(x, W_x, W_h, b, h0=1.0)),
    }


def _diagnose_layer(got: Any, expected: np.ndarray, case: Case) -> str | None:
    x, W_x, W_h, b, return_sequences = case.args
    if not isinstance(got, np.ndarray):
        return None
    batch, time, _ = x.shape
    units = W_h.shape[0]
    if not return_sequences and got.shape == (batch, time, units):
        return ("You returned every hidden state h_seq (batch, time, units), but return_sequences=False asks "
                "for the last one only, h_seq[:, -1], shape (batch, units).")
    if return_sequences and got.shape == (batch, units) and time > 1:
        return "return_sequences=True asks for every hidden state, (batch, time, units); you returned only the last."
    if got.shape == (time, batch, units) and time != batch:
        return "Your output is time-major (time, batch, units): stack the steps on axis 1, as Keras returns (batch, time, units)."
    if not same_structure(got, expected):
        return None
    return candidates(
        named_variant(got, expected, _layer_variants(x, W_x, W_h, b, return_sequences), catalogued=_phrases("LAYER_FORWARD")),
        _locate_layer(got, expected, case), batch_rows_message(got, expected, "result"))


def _locate_layer(got: np.ndarray, expected: np.ndarray, case: Case) -> str | None:
    """The first wrong time step (every state returned), or which state was returned (the last one asked)."""
    x, W_x, W_h, b, return_sequences = case.args
    full = _reference_layer(x, W_x, W_h, b)
    time = x.shape[1]
    if not return_sequences:
        for t in range(time - 1):
            if _same(got, full[:, t]):
                return (f"You returned the state after step t = {t} (counting from 0); the last one is t = {time - 1}, "
                        "h_seq[:, -1]: have you run the loop over every step?")
        return None
    wrong = [t for t in range(time) if not _same(got[:, t], expected[:, t])]
    if not wrong:
        return None
    t = wrong[0]
    if t == 0:
        return ("Your very first state, h_seq[:, 0], is already wrong: it is tanh(x[:, 0] @ W_x + h_0 @ W_h + b) with "
                "h_0 = 0 (h_0 itself is not returned); check the first step and the cell.")
    return (f"Your states are right for steps 0 to {t - 1} and wrong from step t = {t}: look at what changes from "
            "step to step (the input x[:, t] and the state h carried from the step before).")


def _mistake_all_states(x, W_x, W_h, b, return_sequences):
    return _reference_layer(x, W_x, W_h, b)


def _mistake_no_carry(x, W_x, W_h, b, return_sequences):
    h = _reference_layer(x, W_x, W_h, b, carry=False)
    return h if return_sequences else h[:, -1]


def _mistake_time_first(x, W_x, W_h, b, return_sequences):
    h = np.zeros((x.shape[1], W_h.shape[0]))
    out = []
    for t in range(x.shape[0]):  # loops over the batch axis as if it were time
        h = np.tanh(x[t] @ W_x + h @ W_h + b)
        out.append(h)
    return np.stack(out) if return_sequences else out[-1]


def _mistake_time_major_output(x, W_x, W_h, b, return_sequences):
    h = _reference_layer(x, W_x, W_h, b)
    return np.swapaxes(h, 0, 1) if return_sequences else h[:, -1]


def _mistake_first_state(x, W_x, W_h, b, return_sequences):
    h = _reference_layer(x, W_x, W_h, b)
    return h if return_sequences else h[:, 0]


def _mistake_reshape(x, W_x, W_h, b, return_sequences):
    batch, time, _ = x.shape
    h = np.zeros((batch, W_h.shape[0]))
    states = []
    for t in range(time):
        h = np.tanh(x[:, t] @ W_x + h @ W_h + b)
        states.append(h)
    h_seq = np.array(states).reshape(batch, time, -1)  # (time, batch, units) reshaped, not transposed
    return h_seq if return_sequences else h_seq[:, -1]


def _mistake_backwards(x, W_x, W_h, b, return_sequences):
    h = _reference_layer(x, W_x, W_h, b, reverse=True)
    return h if return_sequences else h[:, -1]


def _mistake_h0_ones(x, W_x, W_h, b, return_sequences):
    h = _reference_layer(x, W_x, W_h, b, h0=1.0)
    return h if return_sequences else h[:, -1]


LAYER_FORWARD = FunctionExercise(
    id="ch03.layer_forward",
    title="A SimpleRNN layer over a batch of sequences, with return_sequences",
    points=2,
    answer_name="rnn_layer_forward",
    hints=(
        "Start from h_0 = zeros (batch, units) and apply the cell once per time step, feeding each h_t into the next step.",
        "x is batch-major, (batch, time, features): the input of step t is x[:, t]. Collect every h_t and "
        "stack them on axis 1 to get (batch, time, units).",
        "Return the stacked states if return_sequences, else only the last one, h_seq[:, -1].",
    ),
    mistakes=(
        Mistake("returns h_seq where the last state is asked", _mistake_all_states, "return_sequences=False asks"),
        Mistake("does not carry h", _mistake_no_carry, "not carried from step to step"),
        Mistake("time axis first", _mistake_time_first, "treated axis 0 as time"),
        Mistake("stacks the steps on axis 0", _mistake_time_major_output, "time-major"),
        Mistake("returns the first state", _mistake_first_state, "returned the first hidden state"),
        Mistake("reshapes instead of transposing", _mistake_reshape, "reshape does not move axes"),
        Mistake("reads the sequence backwards", _mistake_backwards, "read the sequence backwards, from the last"),
        Mistake("starts from h_0 = 1", _mistake_h0_ones, "h_0 must be zeros"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_layer_cases,
    contract=Contract(
        kind="array",
        returns="(batch, time, units) if return_sequences else (batch, units), a float array",
        dtype="float",
        inputs=(
            "`x`: (batch, time, features), float64; batch and time from 1 up, in any proportion",
            "`W_x`: (features, units); `W_h`: (units, units); `b`: (units,)",
            "`return_sequences`: a bool",
        ),
    ),
    compare=_compare_floats,
    diagnose=_diagnose_layer,
)


# ------------------------------------------------------------------------ param_count
def compare_count(got: Any, expected: int) -> str | None:
    """A count must be a whole number of type int: 12480.0 is a float that happens to be whole."""
    if isinstance(got, (float, np.floating)):
        return (f"Give the count as a whole number, an int such as {expected:,}; you gave the float {got!r} "
                "(a division, or np.prod of a float array?). Convert with int(...) once you are sure.")
    return compare_int(got, expected)


def _diagnose_param_count(got: Any) -> str | None:
    known = {
        100 * 64 + 64 * 64: "You left out the bias b: one number per unit, 64 more.",
        100 * 64: "That is only W_x (the kernel, 100 x 64); the layer also has W_h (64 x 64) and b (64).",
        100 * 64 + 64: "You left out the recurrent weights W_h (64 x 64): they are what makes the layer recurrent.",
        64 * 64 + 64: "You left out the input weights W_x (the kernel, 100 x 64).",
        4 * (100 * 64 + 64 * 64 + 64): "That is an LSTM(64), four weight blocks; a SimpleRNN has one.",
        2 * (100 * 64 + 64 * 64 + 64): "That is a Bidirectional SimpleRNN (two layers); the question asks for one.",
        100 * 64 + 64 * 64 + 2 * 64: "You counted two bias vectors, as PyTorch's nn.RNN has (b_ih and b_hh); "
        "Keras' SimpleRNN has one bias b of 64.",
        (100 + 64) * 64 + 100: "The bias has one entry per unit (64), not per input feature.",
    }
    return known.get(got) if isinstance(got, int) else None


PARAM_COUNT = ValueExercise(
    id="ch03.param_count",
    title="Parameters of SimpleRNN(64) reading 100-dimensional inputs",
    points=1,
    answer_name="n_params",
    hints=(
        "The layer has three weights: the kernel W_x, the recurrent kernel W_h and the bias b. What are their shapes?",
        "W_x is (features, units) = (100, 64), W_h is (units, units) = (64, 64), b is (64,).",
    ),
    mistakes=(
        Mistake("no bias", 100 * 64 + 64 * 64, "left out the bias"),
        Mistake("kernel only", 100 * 64, "only W_x"),
        Mistake("no recurrent kernel", 100 * 64 + 64, "left out the recurrent weights"),
        Mistake("LSTM count", 4 * (100 * 64 + 64 * 64 + 64), "an LSTM(64)"),
        Mistake("no input weights", 64 * 64 + 64, "left out the input weights"),
        Mistake("bidirectional count", 2 * (100 * 64 + 64 * 64 + 64), "Bidirectional SimpleRNN"),
        Mistake("two bias vectors (PyTorch)", 100 * 64 + 64 * 64 + 2 * 64, "two bias vectors"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(kind="int", returns="a whole number, an int (not a float such as 10560.0)"),
    compare=compare_count,
    diagnose=_diagnose_param_count,
)


# ---------------------------------------------------------------- bidirectional_shape
def _compare_shape_tuple(got: Any, expected: tuple[int, ...]) -> str | None:
    """A shape is a tuple, as ``array.shape`` gives it (a list is not a shape)."""
    if isinstance(got, list):
        return f"Store the shape as a tuple, as array.shape gives it: ({', '.join(map(str, got))}), not a list."
    return compare_shape(got, expected)


def _diagnose_bidirectional(got: Any) -> str | None:
    if not isinstance(got, (tuple, list)):
        return None
    known = {
        (32, 20, 64): "merge_mode='concat' (the default) puts the forward and backward outputs side by side: 64 + 64 = 128.",
        (32, 128): "return_sequences=True keeps the time axis: one output per step, (batch, time, ...).",
        (32, 64): "return_sequences=True keeps the time axis, and concat doubles the units.",
        (32, 40, 64): "concat joins the two directions along the last axis (units), not along time.",
        (20, 32, 128): "Keras layers are batch-major: (batch, time, units), batch first.",
        (32, 20, 100): "The output size is set by the units (64 each way), not by the 100 input features.",
        (64, 20, 64): "concat joins the two directions along the last axis (units), not along the batch.",
        (32, 20, 200): "The output size is set by the units (64 each way), not by the 100 input features.",
    }
    try:
        return known.get(tuple(int(d) for d in got))
    except (TypeError, ValueError):
        return None


BIDIRECTIONAL_SHAPE = ValueExercise(
    id="ch03.bidirectional_shape",
    title="Output shape of Bidirectional(SimpleRNN(64, return_sequences=True))",
    points=1,
    answer_name="bidirectional_shape",
    hints=(
        "Each direction is a SimpleRNN(64) that returns one 64-vector per step; what does the default merge_mode do with two of them?",
        "The default merge_mode='concat' concatenates along the last axis; return_sequences=True keeps (batch, time).",
    ),
    mistakes=(
        Mistake("forgets the concatenation", (32, 20, 64), "64 + 64 = 128"),
        Mistake("forgets return_sequences", (32, 128), "keeps the time axis"),
        Mistake("concatenates along time", (32, 40, 64), "not along time"),
        Mistake("time first", (20, 32, 128), "batch-major"),
        Mistake("concatenates along the batch", (64, 20, 64), "not along the batch"),
        Mistake("sizes from the features", (32, 20, 100), "not by the 100 input features"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(kind="tuple", returns="a tuple of ints, as array.shape gives it (not a list)"),
    compare=_compare_shape_tuple,
    diagnose=_diagnose_bidirectional,
)


# ---------------------------------------------------------------------- step_backward
def _step_backward_cases(rng: np.random.Generator) -> list[Case]:
    def case(batch, features, units, label):
        W_x, W_h, b = rng.normal(size=(features, units)), rng.normal(size=(units, units)) * 0.7, rng.normal(size=units) * 0.3
        x_t, h_prev = rng.normal(size=(batch, features)), np.tanh(rng.normal(size=(batch, units)))
        h_t = np.tanh(x_t @ W_x + h_prev @ W_h + b)
        return Case((rng.normal(size=(batch, units)), h_t, h_prev, x_t, W_x, W_h), label)

    return [
        case(2, 3, 3, "batch 2, 3 features, 3 units"),
        case(5, 4, 3, "batch 5, 4 features, 3 units"),
        case(1, 2, 4, "a single sequence (batch 1), 2 features, 4 units"),
        case(3, 6, 2, "batch 3, 6 features, 2 units"),
    ]


def _step_backward_variants(dh_t, h_t, h_prev, x_t, W_x, W_h) -> dict[str, Callable[[], Any]]:
    def grads(da, *, dx=None, dh=None, dWx=None, dWh=None, db=None):
        return {
            "dx_t": da @ W_x.T if dx is None else dx,
            "dh_prev": da @ W_h.T if dh is None else dh,
            "dW_x": x_t.T @ da if dWx is None else dWx,
            "dW_h": h_prev.T @ da if dWh is None else dWh,
            "db": da.sum(axis=0) if db is None else db,
        }

    da = dh_t * (1 - h_t**2)
    return {
        "Every gradient is missing the tanh derivative: first da = dh_t * (1 - h_t**2), then use da everywhere.":
            lambda: grads(dh_t),
        "The tanh derivative uses this step's output h_t, 1 - h_t**2, not h_prev.":
            lambda: grads(dh_t * (1 - h_prev**2)),
        "h_t is already tanh(a): its derivative is 1 - h_t**2, not 1 - tanh(h_t)**2 (that applies tanh twice).":
            lambda: grads(dh_t * (1 - np.tanh(h_t) ** 2)),
        "h_t * (1 - h_t) is the sigmoid's derivative; for tanh it is 1 - h_t**2.": lambda: grads(dh_t * h_t * (1 - h_t)),
        "The tanh derivative is 1 - h_t**2 (h_t squared), not (1 - h_t)**2.": lambda: grads(dh_t * (1 - h_t) ** 2),
        "dh_prev needs the transpose: dh_prev = da @ W_h.T, since h_t used h_prev @ W_h.":
            lambda: grads(da, dh=da @ W_h),
        "dx_t needs the transpose: dx_t = da @ W_x.T, shape (batch, features).": lambda: grads(da, dx=da @ W_x),
        "dW_x is transposed: it must have W_x's shape (features, units), x_t.T @ da.": lambda: grads(da, dWx=da.T @ x_t),
        "dW_h pairs da with the state that was multiplied by W_h, h_prev: h_prev.T @ da, not h_t.T @ da.":
            lambda: grads(da, dWh=h_t.T @ da),
        "dW_h is transposed: h_prev.T @ da, shape (units, units).": lambda: grads(da, dWh=da.T @ h_prev),
        "db is the mean of da over the batch; the loss sums over the batch, so db = da.sum(axis=0).":
            lambda: grads(da, db=da.mean(axis=0)),
        "dh_prev is the gradient at h_prev itself, da @ W_h.T: do not multiply by 1 - h_prev**2 here (that belongs to "
        "the previous step's own backward pass).": lambda: grads(da, dh=(da @ W_h.T) * (1 - h_prev**2)),
        "dW_x pairs x_t with da, the gradient after the tanh derivative: x_t.T @ da, not x_t.T @ dh_t.":
            lambda: grads(da, dWx=x_t.T @ dh_t),
        "dW_h pairs h_prev with da, the gradient after the tanh derivative: h_prev.T @ da, not h_prev.T @ dh_t.":
            lambda: grads(da, dWh=h_prev.T @ dh_t),
    }


def _diagnose_step_backward(got: Any, expected: dict[str, np.ndarray], case: Case) -> str | None:
    dh_t, h_t, h_prev, x_t, W_x, W_h = case.args
    if not isinstance(got, dict) or set(got) != set(expected):
        return None
    batch, units = dh_t.shape
    db_shape = np.shape(got["db"])
    if db_shape == (batch, units) and batch != 1:
        return "db must be summed over the batch: the same b is added to every sequence, so db = da.sum(axis=0), shape (units,)."
    if db_shape == (batch,) and batch != units:
        return "db was summed over the units axis: sum over the batch, db = da.sum(axis=0), shape (units,)."
    if db_shape == (1, units):
        return "db has shape (1, units): sum over the batch without keepdims, db = da.sum(axis=0), shape (units,) like b."
    if not same_structure(got, expected):
        return None
    return candidates(named_variant(got, expected, _step_backward_variants(*case.args), catalogued=_phrases("STEP_BACKWARD")),
                      _locate_step_backward(got, expected, case))


_STEP_FORMULAS = {
    "dx_t": "dx_t = da @ W_x.T, shape (batch, features)",
    "dh_prev": "dh_prev = da @ W_h.T, shape (batch, units): the gradient at h_prev itself (the previous step's tanh is "
    "handled when that step is processed)",
    "dW_x": "dW_x = x_t.T @ da, shape (features, units): pair da with the input that W_x multiplied, x_t",
    "dW_h": "dW_h = h_prev.T @ da, shape (units, units): pair da with the state that W_h multiplied, h_prev",
    "db": "db = da.sum(axis=0), shape (units,)",
}


def _locate_step_backward(got: dict[str, np.ndarray], expected: dict[str, np.ndarray], case: Case) -> str | None:
    """Which gradients are wrong; if only some, the formulas of those (da itself is right if db is)."""
    wrong = [k for k in _STEP_FORMULAS if not _same(got[k], expected[k])]
    if not wrong:
        return None
    if len(wrong) == len(_STEP_FORMULAS):
        return ("Every gradient is wrong, so start with the one they share: da = dh_t * (1 - h_t**2), the gradient at "
                "the pre-activation a = x_t W_x + h_prev W_h + b.")
    right = [k for k in _STEP_FORMULAS if k not in wrong]
    formulas = "; ".join(_STEP_FORMULAS[k] for k in wrong)
    return f"{', '.join(right)} {'are' if len(right) > 1 else 'is'} right, so da is; check {formulas}."


def _step_with(da_rule, dh_prev_rule=None, dW_h_rule=None, db_rule=None, dW_x_rule=None, dx_rule=None):
    def answer(dh_t, h_t, h_prev, x_t, W_x, W_h):
        da = da_rule(dh_t, h_t, h_prev)
        return {
            "dx_t": (dx_rule or (lambda da, W_x: da @ W_x.T))(da, W_x),
            "dh_prev": (dh_prev_rule or (lambda da, W_h: da @ W_h.T))(da, W_h),
            "dW_x": (dW_x_rule or (lambda x_t, da: x_t.T @ da))(x_t, da),
            "dW_h": (dW_h_rule or (lambda h_prev, h_t, da: h_prev.T @ da))(h_prev, h_t, da),
            "db": (db_rule or (lambda da: da.sum(axis=0)))(da),
        }

    return answer


_TANH = lambda dh_t, h_t, h_prev: dh_t * (1 - h_t**2)  # noqa: E731

STEP_BACKWARD = FunctionExercise(
    id="ch03.step_backward",
    title="Backward through one step of the RNN cell",
    points=3,
    answer_name="rnn_step_backward",
    hints=(
        "Go back through the tanh first: with h_t = tanh(a), da = dh_t * (1 - h_t**2). Every other gradient follows from da.",
        "a = x_t W_x + h_prev W_h + b, so dx_t = da @ W_x.T, dh_prev = da @ W_h.T, dW_x = x_t.T @ da, "
        "dW_h = h_prev.T @ da.",
        "The bias is shared by every sequence of the batch: db = da.sum(axis=0). Return the five arrays in a dict.",
    ),
    mistakes=(
        Mistake("forgets the tanh derivative", _step_with(lambda dh_t, h_t, h_prev: dh_t), "missing the tanh derivative"),
        Mistake("derivative from h_prev", _step_with(lambda dh_t, h_t, h_prev: dh_t * (1 - h_prev**2)), "not h_prev"),
        Mistake("tanh applied twice", _step_with(lambda dh_t, h_t, h_prev: dh_t * (1 - np.tanh(h_t) ** 2)), "applies tanh twice"),
        Mistake("sigmoid derivative", _step_with(lambda dh_t, h_t, h_prev: dh_t * h_t * (1 - h_t)), "sigmoid's derivative"),
        Mistake("(1 - h)**2", _step_with(lambda dh_t, h_t, h_prev: dh_t * (1 - h_t) ** 2), "not (1 - h_t)**2"),
        Mistake("dh_prev without the transpose", _step_with(_TANH, dh_prev_rule=lambda da, W_h: da @ W_h), "dh_prev needs the transpose"),
        Mistake("dx_t without the transpose", _step_with(_TANH, dx_rule=lambda da, W_x: da @ W_x), "dx_t needs the transpose"),
        Mistake("dW_h from h_t", _step_with(_TANH, dW_h_rule=lambda h_prev, h_t, da: h_t.T @ da), "not h_t.T @ da"),
        Mistake("dW_h transposed", _step_with(_TANH, dW_h_rule=lambda h_prev, h_t, da: da.T @ h_prev), "dW_h is transposed"),
        Mistake("db not summed over the batch", _step_with(_TANH, db_rule=lambda da: da), "summed over the batch"),
        Mistake("db summed over the units", _step_with(_TANH, db_rule=lambda da: da.sum(axis=1)), "summed over the units axis"),
        Mistake("db as a mean", _step_with(_TANH, db_rule=lambda da: da.mean(axis=0)), "mean of da over the batch"),
        Mistake("dW_x transposed", _step_with(_TANH, dW_x_rule=lambda x_t, da: da.T @ x_t), "dW_x is transposed"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_step_backward_cases,
    contract=Contract(
        kind="dict",
        returns="a dict with keys 'dx_t', 'dh_prev', 'dW_x', 'dW_h', 'db': float arrays shaped like x_t, h_prev, "
        "W_x, W_h and b (units,)",
        inputs=(
            "`dh_t`, `h_t`, `h_prev`: (batch, units); `x_t`: (batch, features); batch 1 or more",
            "`W_x`: (features, units); `W_h`: (units, units); float64; features and units may differ",
        ),
    ),
    compare=_compare_float_dicts,
    diagnose=_diagnose_step_backward,
)


# -------------------------------------------------------------------------- clip_norm
def _global_norm(grads: dict[str, np.ndarray]) -> float:
    return float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))


def _clip_cases(rng: np.random.Generator) -> list[Case]:
    big = {"W_x": rng.normal(size=(3, 4)) * 3, "W_h": rng.normal(size=(4, 4)) * 5, "b": rng.normal(size=4)}
    small = {"W_x": rng.normal(size=(2, 3)) * 0.1, "b": rng.normal(size=3) * 0.1}
    one = {"W": rng.normal(size=(5, 3)) * float(rng.uniform(2, 4))}
    mixed = {"W_x": rng.normal(size=(4, 2)) * 2, "W_h": rng.normal(size=(2, 2)) * 0.01, "b": np.zeros(2)}

    def with_norm(norm: float) -> dict[str, np.ndarray]:
        grads = {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=2)}
        return {k: g * (norm / _global_norm(grads)) for k, g in grads.items()}

    big_max = float(rng.uniform(2.0, 4.0))  # the norm is below max_norm, its square above
    small_max = float(rng.uniform(0.2, 0.4))  # the norm is above max_norm, its square below
    return [
        Case((big, float(rng.uniform(0.5, 2.0))), "an exploding gradient of three arrays"),
        Case((small, float(rng.uniform(1.0, 3.0))), "a gradient already below max_norm"),
        Case((one, 1.0), "a single array, clipped to norm 1"),
        Case((mixed, float(rng.uniform(0.5, 1.5))), "one large and two small arrays (b all zeros)"),
        Case((with_norm(0.8 * big_max), big_max), "a norm just below a max_norm above 1"),
        Case((with_norm(1.25 * small_max), small_max), "a norm just above a max_norm below 1"),
    ]


def _clip_variants(grads: dict[str, np.ndarray], max_norm: float) -> dict[str, Callable[[], Any]]:
    norm = _global_norm(grads)
    squared = norm**2

    def scaled(scale: float) -> dict[str, np.ndarray]:
        return {k: g * scale for k, g in grads.items()}

    return {
        "You clipped each gradient by its own norm (what Keras' clipnorm does); clipping by the global norm "
        "scales all of them by one factor, max_norm / global_norm, so the update keeps its direction.":
            lambda: {k: g * min(1.0, max_norm / np.linalg.norm(g)) if np.linalg.norm(g) else g for k, g in grads.items()},
        "You clipped the values one by one (np.clip, Keras' clipvalue); scale the whole gradient instead.":
            lambda: {k: np.clip(g, -max_norm, max_norm) for k, g in grads.items()},
        "This gradient's norm was already below max_norm, so it must be returned unchanged: scale by "
        "min(1, max_norm / norm), never up.": lambda: scaled(max_norm / norm),
        "The global norm is the square root of the sum of squares of every entry: you forgot the square root.":
            lambda: scaled(min(1.0, max_norm / squared)),
        "The global norm is sqrt of the sum of the squares of EVERY entry of every array, not the sum of the "
        "arrays' norms.": lambda: scaled(min(1.0, max_norm / sum(np.linalg.norm(g) for g in grads.values()))),
        "The global norm sums the squares (np.sum), not their means: a mean divides by the number of entries.":
            lambda: scaled(min(1.0, max_norm / np.sqrt(sum(np.mean(g**2) for g in grads.values())))),
        "The factor is upside down: scale by max_norm / norm (which is below 1 when clipping), not norm / max_norm.":
            lambda: scaled(min(1.0, norm / max_norm)) if norm <= max_norm else scaled(norm / max_norm),
        "You compared the squared norm with max_norm: clip when sqrt(sum of squares) exceeds max_norm.":
            lambda: scaled(max_norm / norm) if squared > max_norm else scaled(1.0),
        "max(1, ...) scales small gradients up and leaves large ones alone; use min(1, max_norm / norm).":
            lambda: scaled(max(1.0, max_norm / norm)),
        "You measured the gradients by their largest absolute entry (the max norm); the global norm is the square "
        "root of the sum of the squares of every entry.":
            lambda: scaled(min(1.0, max_norm / max(np.abs(g).max() for g in grads.values()))),
        "You measured the gradients by the sum of the absolute values (an L1 norm); the global norm is the square "
        "root of the sum of the squares of every entry (L2).":
            lambda: scaled(min(1.0, max_norm / sum(np.abs(g).sum() for g in grads.values()))),
    }


def _diagnose_clip(got: Any, expected: dict[str, np.ndarray], case: Case) -> str | None:
    grads, max_norm = case.args
    if not same_structure(got, expected):
        return None
    return candidates(named_variant(got, expected, _clip_variants(grads, max_norm), catalogued=_phrases("CLIP_NORM")),
                      _locate_clip(got, expected, case))


def _locate_clip(got: dict[str, np.ndarray], expected: dict[str, np.ndarray], case: Case) -> str | None:
    """Is the answer one factor times the gradients? Then name the factor and the norm it implies."""
    grads, max_norm = case.args
    norm = _global_norm(grads)
    right = min(1.0, max_norm / norm)
    factors = {}
    for name, g in grads.items():
        if np.abs(g).max() > 0:
            factor = float(np.sum(got[name] * g) / np.sum(g * g))
            factors[name] = factor if _same(got[name], g * factor) else None
    if any(f is None for f in factors.values()):
        odd = sorted(k for k, f in factors.items() if f is None)
        return (f"{', '.join(odd)} {'is' if len(odd) == 1 else 'are'} not a multiple of the gradient you were given: "
                "clipping only rescales, every array by the same factor min(1, max_norm / norm).")
    values = sorted(set(round(f, 9) for f in factors.values()))
    if len(values) > 1:
        return ("You scaled the arrays by different factors (" + ", ".join(f"{k}: {f:.4g}" for k, f in factors.items())
                + "): clipping by the global norm scales all of them by one factor, min(1, max_norm / norm).")
    factor = values[0]
    if factor > 0:
        return (f"You scaled every array by {factor:.4g}; the factor is min(1, max_norm / norm) = {right:.4g} with the "
                f"global norm sqrt(sum of the squares of every entry) = {norm:.4g}; your factor implies a norm of "
                f"{max_norm / factor:.4g}.")
    return None


def _mistake_clip_each(grads, max_norm):
    return {k: g * min(1.0, max_norm / np.linalg.norm(g)) for k, g in grads.items()}


def _mistake_clip_values(grads, max_norm):
    return {k: np.clip(g, -max_norm, max_norm) for k, g in grads.items()}


def _mistake_clip_always(grads, max_norm):
    norm = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
    return {k: g * max_norm / norm for k, g in grads.items()}


def _mistake_clip_no_sqrt(grads, max_norm):
    norm = sum(np.sum(g**2) for g in grads.values())
    return {k: g * min(1.0, max_norm / norm) for k, g in grads.items()}


def _mistake_clip_sum_of_norms(grads, max_norm):
    norm = sum(np.linalg.norm(g) for g in grads.values())
    return {k: g * min(1.0, max_norm / norm) for k, g in grads.items()}


def _mistake_clip_mean(grads, max_norm):
    norm = np.sqrt(sum(np.mean(g**2) for g in grads.values()))
    return {k: g * min(1.0, max_norm / norm) for k, g in grads.items()}


def _mistake_clip_squared_test(grads, max_norm):
    squared = sum(np.sum(g**2) for g in grads.values())
    scale = max_norm / np.sqrt(squared) if squared > max_norm else 1.0
    return {k: g * scale for k, g in grads.items()}


def _mistake_clip_max(grads, max_norm):
    norm = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
    return {k: g * max(1.0, max_norm / norm) for k, g in grads.items()}


CLIP_NORM = FunctionExercise(
    id="ch03.clip_norm",
    title="Clip gradients by their global norm",
    points=2,
    answer_name="clip_by_global_norm",
    hints=(
        "The global norm treats all gradients as one long vector: the square root of the sum of the squares of every entry.",
        "If that norm is above max_norm, multiply every gradient by max_norm / norm; otherwise leave them alone.",
        "`scale = min(1.0, max_norm / norm)` does both; return a new dict with the same keys (do not scale the "
        "arrays you were given in place).",
    ),
    mistakes=(
        Mistake("clips each gradient separately", _mistake_clip_each, "its own norm"),
        Mistake("clips values", _mistake_clip_values, "clipped the values one by one"),
        Mistake("always rescales", _mistake_clip_always, "already below max_norm"),
        Mistake("forgets the square root", _mistake_clip_no_sqrt, "forgot the square root"),
        Mistake("sums the arrays' norms", _mistake_clip_sum_of_norms, "not the sum of the arrays' norms"),
        Mistake("means of squares", _mistake_clip_mean, "not their means"),
        Mistake("max instead of min", _mistake_clip_max, "max(1, ...)"),
        Mistake("compares the squared norm", _mistake_clip_squared_test, "compared the squared norm"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_clip_cases,
    contract=Contract(
        kind="dict",
        returns="a new dict with the same keys, every array scaled by one factor min(1, max_norm / global norm)",
        inputs=(
            "`grads`: a dict of float64 arrays of any shapes (one or several keys; some may be all zeros)",
            "`max_norm`: a positive float; the global norm may be above or below it",
        ),
    ),
    compare=_compare_float_dicts,
    diagnose=_diagnose_clip,
)


# ------------------------------------------------------------------------ temperature
def _temperature_cases(rng: np.random.Generator) -> list[Case]:
    small = rng.normal(size=int(rng.integers(4, 8))) * 2
    tied = np.full(int(rng.integers(3, 6)), float(rng.normal()))
    return [
        Case((small, float(rng.uniform(0.3, 0.8))), "T < 1 sharpens"),
        Case((small, float(rng.uniform(1.5, 3.0))), "T > 1 flattens"),
        Case((rng.normal(size=int(rng.integers(5, 30))) * 3, 1.0), "T = 1: the plain softmax"),
        Case((tied, float(rng.uniform(0.5, 2.0))), "tied logits: every token equally likely"),
        Case((np.array([float(rng.normal())]), float(rng.uniform(0.5, 2.0))), "a single logit"),
        Case((rng.uniform(990.0, 1000.0, size=5), float(rng.uniform(0.2, 0.6))), "large logits (about 1000) with T < 1"),
        Case((-rng.uniform(990.0, 1000.0, size=4), float(rng.uniform(1.1, 1.3))), "large negative logits with T > 1"),
        Case((np.array([600.0, -600.0, 0.0, float(rng.uniform(-5, 5))]), float(rng.uniform(0.2, 0.5))),
             "logits far apart (600 and -600) with T < 1"),
    ]


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def _temperature_variants(logits: np.ndarray, T: float) -> dict[str, Callable[[], Any]]:
    return {
        "You multiplied the logits by the temperature; divide them: softmax(logits / T).": lambda: _softmax(logits * T),
        "These do not sum to 1: normalise, e / e.sum().": lambda: np.exp(logits / T),
        "These do not sum to 1: normalise, e / e.sum(), after subtracting the maximum.":
            lambda: np.exp(logits / T - np.max(logits / T)),
        "You divided the probabilities by T after the softmax; the temperature divides the logits, before it.":
            lambda: _softmax(logits) / T,
        "You raised the logits to the power 1 / T; divide them by T.":
            lambda: _softmax(np.sign(logits) * np.abs(logits) ** (1 / T)),
        "The temperature has no effect in your result: that is softmax(logits); take the softmax of logits / T.":
            lambda: _softmax(logits),
        "You raised the probabilities to the power T; the temperature divides the logits: softmax(logits / T).":
            lambda: _softmax(logits) ** T,
        "logits // T is floor division (it rounds down); divide with /: softmax(logits / T).":
            lambda: _softmax(logits // T),
        "You returned log-probabilities (a log-softmax); return the probabilities themselves.":
            lambda: np.log(_softmax(logits / T)),
        "You took np.exp of logits / T directly: for large logits it overflows to inf (and inf / inf is NaN). "
        "Subtract the largest value of logits / T before np.exp; the softmax does not change.":
            lambda: np.exp(logits / T) / np.exp(logits / T).sum(),
        "You subtracted the smallest value of logits / T: when the logits are far apart, exp of the differences "
        "still overflows; only subtracting the LARGEST value keeps every exponent at most 0.":
            lambda: np.exp(logits / T - (logits / T).min()) / np.exp(logits / T - (logits / T).min()).sum(),
        "You normalised by the sum of exp(logits), without the temperature; use the same exponentials above and "
        "below: e = exp(logits / T - max), e / e.sum().": lambda: np.exp(logits / T) / np.exp(logits).sum(),
    }


def _diagnose_temperature(got: Any, expected: np.ndarray, case: Case) -> str | None:
    logits, T = case.args
    if not same_structure(got, expected):
        return None
    return candidates(named_variant(got, expected, _temperature_variants(logits, T), catalogued=_phrases("TEMPERATURE")),
                      _locate_temperature(got, expected, case))


def _locate_temperature(got: np.ndarray, expected: np.ndarray, case: Case) -> str | None:
    """True statements about the result: sum, one-hot, all equal, or the temperature it implies."""
    logits, T = case.args
    if not np.isfinite(got).all():
        z = logits / T
        if np.ptp(z) > 700:
            return ("Your result contains NaN or inf: logits / T span more than 700 here, so np.exp of the differences "
                    "leaves the floating-point range unless every exponent is at most 0: subtract max(logits / T) "
                    "(not the smallest value, not the mean, not a constant).")
        return ("Your result contains NaN or inf: np.exp of values this large leaves the floating-point range (inf, "
                "or 0 and then 0 / 0 = NaN). Subtract the largest value of logits / T before np.exp.")
    total = float(got.sum())
    if not np.isclose(total, 1.0, rtol=1e-6):
        return f"Your probabilities sum to {total:.6g}, not 1: divide the exponentials by their sum."
    if got.size > 1 and np.ptp(logits) > 0:
        if np.allclose(got, got[0]):
            return ("All your probabilities are equal although the logits differ: were the logits clipped, or lost "
                    "to an overflow? Subtract the largest value of logits / T before np.exp instead.")
        if np.count_nonzero(got) == 1 and np.count_nonzero(expected > 1e-12) > 1:
            return ("You returned a one-hot vector (the argmax): return the whole distribution softmax(logits / T), "
                    "from which a token is then sampled.")
        positive = (got > 1e-300) & (expected > 1e-300)
        i, j = int(np.argmax(np.where(positive, logits, -np.inf))), int(np.argmin(np.where(positive, logits, np.inf)))
        if logits[i] != logits[j] and got[i] > 0 and got[j] > 0 and np.log(got[i] / got[j]) > 0:
            implied = (logits[i] - logits[j]) / np.log(got[i] / got[j])
            with np.errstate(all="ignore"):
                if _same(got, _softmax(logits / implied), 1e-4, 1e-9):
                    return (f"Your probabilities are softmax(logits / T') with T' = {implied:.4g}, but T = {T:.4g}: "
                            "check how the temperature enters (logits / temperature, before the softmax).")
    return None


def _mistake_temperature_overflow(logits, temperature):
    e = np.exp(logits / temperature)
    return e / e.sum()


def _mistake_temperature_min(logits, temperature):
    z = logits / temperature
    e = np.exp(z - z.min())
    return e / e.sum()


def _mistake_temperature_times(logits, temperature):
    z = logits * temperature
    e = np.exp(z - z.max())
    return e / e.sum()


def _mistake_temperature_after(logits, temperature):
    e = np.exp(logits - logits.max())
    return e / e.sum() / temperature


def _mistake_temperature_ignored(logits, temperature):
    z = logits / temperature  # noqa: F841  (computed, then not used)
    e = np.exp(logits - logits.max())
    return e / e.sum()


def _mistake_temperature_power(logits, temperature):
    e = np.exp(logits - logits.max())
    return (e / e.sum()) ** temperature


def _mistake_temperature_log(logits, temperature):
    z = logits / temperature
    return z - z.max() - np.log(np.sum(np.exp(z - z.max())))


TEMPERATURE = FunctionExercise(
    id="ch03.temperature",
    title="Sampling probabilities at a temperature",
    points=2,
    answer_name="apply_temperature",
    hints=(
        "Divide the logits by the temperature, then take the softmax.",
        "A stable softmax subtracts the largest value first: e = np.exp(z - z.max()); return e / e.sum().",
    ),
    mistakes=(
        Mistake("multiplies by T", _mistake_temperature_times, "divide them"),
        Mistake("no normalisation", lambda logits, temperature: np.exp(logits / temperature), "do not sum to 1"),
        Mistake("divides the probabilities", _mistake_temperature_after, "after the softmax"),
        Mistake("unstable softmax", _mistake_temperature_overflow, "You took np.exp of logits / T directly"),
        Mistake("subtracts the minimum", _mistake_temperature_min, "only subtracting the LARGEST value"),
        Mistake("ignores the temperature", _mistake_temperature_ignored, "no effect"),
        Mistake("powers the probabilities", _mistake_temperature_power, "raised the probabilities to the power T"),
        Mistake("returns log-probabilities", _mistake_temperature_log, "log-probabilities"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_temperature_cases,
    contract=Contract(
        kind="array",
        returns="a float array of the shape of logits, non-negative, summing to 1",
        dtype="same:logits",
        dtype_note="float32 cannot hold logits / T of a few thousand precisely enough for the probabilities",
        inputs=(
            "`logits`: a 1-D float64 array of 1 or more values, possibly tied, possibly as large as +-1000",
            "`temperature`: a positive float, below, equal to or above 1",
        ),
        notes=("Large logits must not overflow: no NaN or inf for logits / T of any size.",),
    ),
    compare=_compare_floats,
    diagnose=_diagnose_temperature,
)


# ---------------------------------------------------------------------------- choices
VANISHING = ChoiceExercise(
    id="ch03.vanishing",
    title="Which activation makes gradients vanish faster over time?",
    points=1,
    answer_name="answer_vanishing",
    hints=(
        "Each step back multiplies the gradient by W_h and by the activation's derivative. How large can each derivative be?",
    ),
    mistakes=(
        Mistake("tanh because negative", "a", "sign"),
        Mistake("neither", "c", "multiplied once per step"),
        Mistake("sigmoid because of its range", "d", "range of the outputs"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(kind="str", returns="one letter as a string: 'a', 'b', 'c' or 'd'"),
    options={
        "a": "tanh, because its outputs can be negative, so gradients cancel out.",
        "b": "sigmoid: its derivative is at most 0.25, so each step back multiplies the gradient by at most "
        "0.25 ||W_h||, while tanh's derivative reaches 1.",
        "c": "Neither: the weights are shared over time, so the gradient is the same at every distance.",
        "d": "sigmoid, because its outputs lie between 0 and 1.",
    },
    feedback={
        "a": "The sign does not shrink anything: the size of the derivative does. tanh's reaches 1, the sigmoid's only 0.25.",
        "c": "Shared weights mean the same Jacobian factor is multiplied once per step, so the product shrinks (or grows) "
        "geometrically with the distance.",
        "d": "The range of the outputs is not what backpropagation multiplies by; the derivative is (at most 0.25 for the sigmoid).",
    },
)

CAPTIONING = ChoiceExercise(
    id="ch03.captioning",
    title="The shape of image captioning",
    points=1,
    answer_name="answer_captioning",
    hints=("How many inputs does a captioning model read, and how many outputs does it write? Is the image read "
           "one piece at a time, step after step?",),
    mistakes=(
        Mistake("one-to-one (note 004)", "a", "Note 004"),
        Mistake("many-to-one", "c", "reads a sequence and writes one output"),
        Mistake("many-to-many", "d", "features of one input"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(kind="str", returns="one letter as a string: 'a', 'b', 'c' or 'd'"),
    options={
        "a": "one-to-one: one image in, one caption out.",
        "b": "one-to-many: one input, the image, and a sequence of words out, one per step.",
        "c": "many-to-one: the model reads many words to produce the caption of one image.",
        "d": "many-to-many: the image is made of many pixels and the caption of many words.",
    },
    feedback={
        "a": "A caption is not one output but a sequence of words, written one step at a time. (Note 004 calls "
        "captioning one-to-one; that is an erratum.)",
        "c": "many-to-one reads a sequence and writes one output (e.g. the sentiment of a review); captioning "
        "reads one image and writes many words, the reverse.",
        "d": "The pixels are the features of one input, read all at once (by a CNN, say), not a sequence read step "
        "by step: the input side is 'one'. Only the output is a sequence.",
    },
)


EXERCISES: tuple[Exercise, ...] = (
    ADD_K,
    PERPLEXITY,
    CAPTIONING,
    CELL_FORWARD,
    LAYER_FORWARD,
    PARAM_COUNT,
    BIDIRECTIONAL_SHAPE,
    STEP_BACKWARD,
    VANISHING,
    CLIP_NORM,
    TEMPERATURE,
)
