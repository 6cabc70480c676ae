"""word2vec in numpy: pairs, noise, subsampling, losses with numeric gradient checks, trainer."""

from __future__ import annotations

import numpy as np
import pytest

from lessonlib import word2vec as w2v
from lessonlib._validate import LessonlibInputError
from lessonlib.data import corpora
from lessonlib.gradcheck import check_gradients

RNG = np.random.default_rng(0)


def test_skipgram_pairs_of_a_toy_sentence():
    pairs = w2v.skipgram_pairs(np.array([10, 11, 12, 13]), window=1)
    assert pairs.tolist() == [[10, 11], [11, 10], [11, 12], [12, 11], [12, 13], [13, 12]]
    wide = w2v.skipgram_pairs(np.array([5, 6, 7]), window=5)
    assert len(wide) == 6 and pairs.dtype == np.int64


def test_skipgram_pairs_never_pair_a_position_with_itself():
    ids = np.arange(20)  # distinct ids: a centre paired with itself would show as equal ids
    pairs = w2v.skipgram_pairs(ids, window=3)
    assert not (pairs[:, 0] == pairs[:, 1]).any()
    assert len(pairs) == sum(min(i, 3) + min(19 - i, 3) for i in range(20))


def test_cbow_contexts_pad_with_minus_one():
    contexts, centres = w2v.cbow_contexts(np.array([4, 5, 6]), window=2)
    assert contexts.tolist() == [[-1, -1, 5, 6], [-1, 4, 6, -1], [4, 5, -1, -1]]
    assert centres.tolist() == [4, 5, 6]


def test_noise_distribution_is_counts_to_the_three_quarters():
    counts = np.array([100, 10, 1])
    noise = w2v.noise_distribution(counts)
    assert noise.sum() == pytest.approx(1.0)
    assert noise == pytest.approx(counts**0.75 / np.sum(counts**0.75))
    assert noise[0] < counts[0] / counts.sum()  # frequent words are drawn less often than their share


def test_negatives_never_equal_the_true_context_and_follow_the_noise():
    noise = w2v.noise_distribution(np.array([50, 30, 10, 5, 5]))
    contexts = np.zeros(20_000, dtype=int)  # the most frequent word is the true context everywhere
    negatives = w2v.sample_negatives(noise, contexts, 5, np.random.default_rng(1))
    assert negatives.shape == (20_000, 5) and not (negatives == 0).any()
    observed = np.bincount(negatives.ravel(), minlength=5)[1:] / negatives.size
    assert observed == pytest.approx(noise[1:] / noise[1:].sum(), abs=0.01)


def _lee_gensim_vocab(**kwargs):
    from gensim.models import Word2Vec

    model = Word2Vec(vector_size=10, min_count=5, workers=1, **kwargs)
    model.build_vocab(corpora.lee_sentences())
    return model


def test_vocabulary_and_keep_probability_match_gensim():
    sentences = corpora.lee_sentences()
    vocabulary = w2v.build_vocabulary(sentences, min_count=5)
    model = _lee_gensim_vocab(sample=1e-3)
    assert set(vocabulary.words) == set(model.wv.index_to_key)
    counts = {w: model.wv.get_vecattr(w, "count") for w in model.wv.index_to_key}
    assert [counts[w] for w in vocabulary.words] == vocabulary.counts.tolist()
    keep = w2v.keep_probability(vocabulary.counts, 1e-3)
    gensim_keep = np.array([model.wv.get_vecattr(w, "sample_int") for w in vocabulary.words]) / 2**32
    assert keep == pytest.approx(gensim_keep, abs=1e-9)
    assert keep.min() < 0.2 and keep.max() == 1.0  # "the" mostly dropped, rare words kept


def _model(n_words=7, k=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n_words, k)), rng.normal(size=(n_words, k))


def test_sgns_gradients_pass_a_numeric_check():
    rng = np.random.default_rng(1)
    v_c, u_o, U_neg = rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), rng.normal(size=(3, 5, 4))
    g = w2v.sgns_grads(v_c, u_o, U_neg)
    params = {"v_c": v_c, "u_o": u_o, "U_neg": U_neg}
    assert check_gradients(lambda: w2v.sgns_loss(v_c, u_o, U_neg), params, g) == []


def test_gradient_check_names_a_wrong_sign():
    rng = np.random.default_rng(2)
    v_c, u_o, U_neg = rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), rng.normal(size=(2, 4, 3))
    g = w2v.sgns_grads(v_c, u_o, U_neg)
    g["u_o"] = -g["u_o"]
    mismatches = check_gradients(lambda: w2v.sgns_loss(v_c, u_o, U_neg), {"v_c": v_c, "u_o": u_o, "U_neg": U_neg}, g)
    assert [m.name for m in mismatches] == ["u_o"]


def test_skipgram_loss_and_full_gradients_pass_a_numeric_check():
    V, U = _model()
    centres, contexts = np.array([0, 3, 3]), np.array([1, 2, 2])
    negatives = np.array([[4, 5], [6, 0], [1, 1]])  # repeated rows must add up
    loss, dV, dU = w2v.skipgram_loss_and_grads(V, U, centres, contexts, negatives)
    f = lambda: w2v.skipgram_loss_and_grads(V, U, centres, contexts, negatives)[0]
    assert check_gradients(f, {"V": V, "U": U}, {"V": dV, "U": dU}) == []
    assert loss == pytest.approx(w2v.sgns_loss(V[centres], U[contexts], U[negatives]))


def test_cbow_loss_and_gradients_pass_a_numeric_check():
    V, U = _model()
    contexts = np.array([[1, 2, 3, -1], [-1, 0, 0, 5]])
    centres, negatives = np.array([0, 4]), np.array([[5, 6, 2], [1, 2, 3]])
    h = w2v.cbow_hidden(V, contexts)
    assert h[0] == pytest.approx(V[[1, 2, 3]].mean(axis=0)) and h[1] == pytest.approx(V[[0, 0, 5]].mean(axis=0))
    _, dV, dU = w2v.cbow_loss_and_grads(V, U, contexts, centres, negatives)
    f = lambda: w2v.cbow_loss_and_grads(V, U, contexts, centres, negatives)[0]
    assert check_gradients(f, {"V": V, "U": U}, {"V": dV, "U": dU}) == []


def test_pooled_loss_gradients_pass_a_numeric_check():
    rng = np.random.default_rng(3)
    h, U_pos, U_pool = rng.normal(size=(3, 4)), rng.normal(size=(3, 2, 4)), rng.normal(size=(5, 4))
    mask = np.array([[1, 1], [1, 0], [0, 1]], dtype=float)
    weight = rng.random((3, 5))
    _, g = w2v.pooled_ns_loss_and_grads(h, U_pos, mask, U_pool, weight)
    f = lambda: w2v.pooled_ns_loss_and_grads(h, U_pos, mask, U_pool, weight)[0]
    assert check_gradients(f, {"h": h, "U_pos": U_pos, "U_pool": U_pool}, g) == []


def test_pooled_negatives_have_the_expected_loss_of_k_negatives_per_pair():
    """The trainer's shared pool, weighted K/N minus clashes, estimates SGNS with K negatives
    per pair without bias: compare the Monte-Carlo mean with the exact expectation."""
    rng = np.random.default_rng(4)
    n_words, k, K, N = 6, 3, 5, 16
    v, U = rng.normal(size=k), rng.normal(size=(n_words, k))
    o = 0
    noise = w2v.noise_distribution(np.array([40, 20, 10, 10, 5, 5]))
    neg_terms = -w2v.log_sigmoid(-(U @ v))  # (n_words,)
    expected = -w2v.log_sigmoid(U[o] @ v) + K * np.sum(noise * neg_terms * (np.arange(n_words) != o))
    losses = []
    for _ in range(4000):
        pool = rng.choice(n_words, size=N, p=noise)
        weight = (K / N) * (pool != o)[None, :]
        loss, _, _ = w2v.pooled_ns_coefficients(v[None], U[[o]][None], np.ones((1, 1)), U[pool], weight)
        losses.append(loss)
    assert np.mean(losses) == pytest.approx(expected, rel=0.01)


def test_full_softmax_loss_normalises_over_the_vocabulary():
    V, U = _model()
    loss = w2v.softmax_loss(V, U, np.array([2]), np.array([5]))
    scores = U @ V[2]
    assert loss == pytest.approx(-np.log(np.exp(scores[5]) / np.exp(scores).sum()))


TOY = [["the", "cat", "sat", "on", "the", "mat"], ["the", "dog", "sat", "on", "the", "log"]] * 30


@pytest.mark.parametrize("sg", [True, False])
def test_trainer_lowers_the_loss_and_is_deterministic(sg):
    kwargs = dict(sg=sg, dim=8, window=2, negative=3, epochs=4, min_count=1, sample=0.5, progress=False)
    first, second = w2v.train(TOY, **kwargs), w2v.train(TOY, **kwargs)
    assert first.history["loss"][-1] < first.history["loss"][0]
    assert np.array_equal(first.V, second.V) and first.V.dtype == np.float32
    assert first.V.shape == (len(first.vocabulary), 8) and first.words[0] == "the"
    assert first.words_per_second > 0


def test_trainer_learns_that_cat_and_dog_share_contexts():
    result = w2v.train(TOY * 3, dim=10, window=2, negative=3, epochs=10, min_count=1, sample=0.5, progress=False)
    index = result.vocabulary.index
    unit = result.V / np.linalg.norm(result.V, axis=1, keepdims=True)
    cos = lambda a, b: float(unit[index[a]] @ unit[index[b]])
    assert cos("cat", "dog") > cos("cat", "mat") and cos("mat", "log") > cos("mat", "cat")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: w2v.skipgram_pairs(np.array([[1, 2]]), 2), "one sentence, a 1-D array"),
        (lambda: w2v.skipgram_pairs(np.array([1.5, 2.0]), 2), "integer token ids"),
        (lambda: w2v.skipgram_pairs(np.array([1, 2]), 0), "window must be a positive integer"),
        (lambda: w2v.noise_distribution(np.array([-1, 2])), "non-negative word counts"),
        (lambda: w2v.keep_probability(np.array([3, 2]), sample=2), "sample must be between 0 and 1"),
        (lambda: w2v.skipgram_loss_and_grads(*_model(), np.array([0]), np.array([9]), np.array([[1]])),
         "contains id 9"),
        (lambda: w2v.skipgram_loss_and_grads(*_model(), np.array([0, 1]), np.array([1]), np.array([[1]])),
         "contexts must have shape"),
        (lambda: w2v.skipgram_loss_and_grads(np.zeros((3, 2)), np.zeros((4, 2)), [0], [1], [[2]]), "same shape"),
        (lambda: w2v.cbow_hidden(np.zeros((3, 2)), np.array([[-1, -1]])), "no context word"),
        (lambda: w2v.train("the cat sat"), "list of token lists"),
        (lambda: w2v.train(TOY, min_count=1000), "no word occurs"),
        (lambda: w2v.train(TOY, min_count=1, dim=0), "dim must be a positive integer"),
    ],
)
def test_bad_input_gets_a_clear_error(call, message):
    with pytest.raises(LessonlibInputError, match=message):
        call()


def test_progress_can_print_one_line_per_epoch(capsys):
    w2v.train(TOY, dim=4, window=2, epochs=2, min_count=1, sample=0.5, progress="epochs")
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" - ")[0] for line in lines] == ["epoch 1/2", "epoch 2/2"]
    with pytest.raises(LessonlibInputError, match="progress must be True"):
        w2v.train(TOY, min_count=1, progress="bar")


def test_the_scatter_add_methods_agree():
    from benchmarks.word2vec import compare_scatter_adds

    timings = compare_scatter_adds(n_words=50, k=4, rows=200, repeats=1)  # raises if any result differs
    assert set(timings) == {"np.add.at on rows", "np.add.at on the flat view", "sort + np.add.reduceat", "np.bincount"}
    assert all(ms > 0 for ms in timings.values())


def _reference_step(V, U, centre, segment, mask, pool, share, sg):
    """The change in V and U that one mini-batch should make per unit of learning rate,
    built from :func:`w2v.pooled_ns_loss_and_grads` pair by pair (float64, plain loops)."""
    V, U = V.astype(np.float64), U.astype(np.float64)
    P, w = centre.size, mask.shape[1] // 2
    offsets = [*range(-w, 0), *range(1, w + 1)]
    slot_ids = np.array([[segment[p + w + o] for o in offsets] for p in range(P)])  # (P, 2w)
    dV, dU = np.zeros_like(V), np.zeros_like(U)
    if sg:  # h = v_c; the true words are the used slots; a pool word stands for `share`
        h, U_pos, pos_mask = V[centre], U[slot_ids], mask.astype(np.float64)  # negatives of every
        weight = np.array([[share[n] * sum(mask[p, s] and slot_ids[p, s] != pool[n] for s in range(2 * w))
                            for n in range(pool.size)] for p in range(P)])  # pair but its own word
    else:  # h = mean input vector of the used slots; the one true word is the centre
        used = mask.any(axis=1)
        h = np.array([V[slot_ids[p][mask[p]]].mean(axis=0) if used[p] else np.zeros(V.shape[1])
                      for p in range(P)])
        U_pos, pos_mask = U[centre][:, None, :], used[:, None].astype(np.float64)
        weight = np.array([[share[n] * (used[p] and centre[p] != pool[n]) for n in range(pool.size)]
                           for p in range(P)])
    loss, g = w2v.pooled_ns_loss_and_grads(h, U_pos, pos_mask, U[pool], weight)
    for p in range(P):
        if sg:
            dV[centre[p]] += g["h"][p]
            for s in range(2 * w):
                dU[slot_ids[p, s]] += g["U_pos"][p, s]  # zero for unused slots (mask 0)
        else:  # word2vec.c / gensim cbow_mean=1: each context word gets all of dL/dh
            for s in np.flatnonzero(mask[p]):
                dV[slot_ids[p, s]] += g["h"][p]
            dU[centre[p]] += g["U_pos"][p, 0]
    dU[pool] += g["U_pool"]
    return loss, dV, dU


@pytest.mark.parametrize("sg", [True, False])
def test_each_trainer_step_is_minus_lr_times_the_checked_pooled_gradients(sg, monkeypatch):
    """Run the real trainer on a tiny corpus, record every mini-batch update it makes and
    compare it with -lr times the gradients of pooled_ns_loss_and_grads (numerically
    checked above) for the same positions, true words and negative pool."""
    name = "_skipgram_step" if sg else "_cbow_step"
    step, calls = getattr(w2v, name), []

    def recording_step(V, U, centre, segment, mask, pool, share, lr, column):
        before = V.copy(), U.copy()
        loss, n = step(V, U, centre, segment, mask, pool, share, lr, column)
        calls.append((before, (V.copy(), U.copy()), (centre.copy(), segment.copy(), mask.copy(),
                                                    pool.copy(), share.copy()), float(lr), loss, n))
        assert (column == -1).all()  # the scratch array is restored
        return loss, n

    monkeypatch.setattr(w2v, name, recording_step)
    w2v.train(TOY[:6], sg=sg, dim=6, window=2, negative=3, epochs=2, min_count=1, sample=0.5,
              batch_size=8, pool_size=8, progress=False)
    assert len(calls) >= 8
    clashes = 0
    for (V0, U0), (V1, U1), (centre, segment, mask, pool, share), lr, loss, n in calls:
        assert share.sum() == pytest.approx(3)  # the pool stands for K = 3 negatives per pair
        ref_loss, dV, dU = _reference_step(V0, U0, centre, segment, mask, pool, share, sg)
        assert loss == pytest.approx(ref_loss, rel=1e-4)
        assert n == (mask.sum() if sg else mask.any(axis=1).sum())
        scale = max(np.abs(lr * dV).max(), np.abs(lr * dU).max())
        np.testing.assert_allclose(V1 - V0, -lr * dV, rtol=0, atol=1e-4 * scale)
        np.testing.assert_allclose(U1 - U0, -lr * dU, rtol=0, atol=1e-4 * scale)
        clashes += int(np.isin(segment if sg else centre, pool).any())
    assert np.abs(calls[-1][1][0] - calls[-1][0][0]).max() > 0  # V moves once U is no longer zero
    assert clashes > 0  # some true words were in the pool, so their weight was reduced


def test_full_softmax_loss_and_gradient_pass_a_numeric_check():
    """The full softmax's gradient: every row of U gets one, from every pair (the cost that
    negative sampling avoids); the loss equals softmax_loss; one pair equals CS224n's function."""
    rng = np.random.default_rng(3)
    V, U = rng.normal(size=(7, 4)), rng.normal(size=(7, 4))
    centres, contexts = np.array([0, 3, 3, 5]), np.array([1, 2, 6, 0])  # a repeated centre
    loss, dV, dU = w2v.softmax_loss_and_grads(V, U, centres, contexts)
    assert loss == pytest.approx(w2v.softmax_loss(V, U, centres, contexts))
    assert check_gradients(lambda: w2v.softmax_loss(V, U, centres, contexts), {"V": V, "U": U}, {"V": dV, "U": dU}) == []
    assert np.all(np.abs(dU).sum(axis=1) > 0)  # every output vector moves
    v_c = V[3].copy()
    one_loss, dv_c, dU_one = w2v.naive_softmax_loss_and_gradient(v_c, 2, U)
    assert check_gradients(lambda: w2v.naive_softmax_loss_and_gradient(v_c, 2, U)[0], {"v_c": v_c, "U": U},
                           {"v_c": dv_c, "U": dU_one}) == []
    p = np.exp(U @ v_c - np.logaddexp.reduce(U @ v_c))
    np.testing.assert_allclose(dv_c, p @ U - U[2])  # the expected output vector minus the true one
    assert one_loss == pytest.approx(-np.log(p[2]))


def test_sgns_loss_checks_its_shapes():
    with pytest.raises(LessonlibInputError, match=r"U_neg must have shape \(batch, K, k\) = \(2, K, 3\)"):
        w2v.sgns_loss(np.ones((2, 3)), np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(LessonlibInputError, match="v_c contains nan"):
        w2v.sgns_grads(np.full((1, 2), np.nan), np.ones((1, 2)), np.ones((1, 1, 2)))
