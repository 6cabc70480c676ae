"""Bad input to every public function of the numpy layers and their helpers gets a
LessonlibInputError that names the argument and says what was given and what was expected:
never a raw numpy error, a silent broadcast, or NaN passed on. One table, one row per probe.

    python tests/test_bad_inputs.py > tests/bad_inputs.md   # the table with today's messages
"""

from __future__ import annotations

import re
import sys

import numpy as np
import pytest

from lessonlib import (
    activations,
    attention,
    gradcheck,
    gru,
    keras_weights,
    lstm,
    recurrent,
    representations,
    rnn,
    text,
    word2vec,
    word_vectors,
)
from lessonlib import gradient_flow as gf
from lessonlib._validate import LessonlibInputError
from lessonlib.experiments import agreement

_rng = np.random.default_rng(0)
NAN = np.float32("nan")


def _p(features, units, gates, b_h=False):
    p = agreement.random_params(np.random.default_rng(1), features, units, gates, recurrent_bias=b_h)
    return p


NS = {
    "np": np, "rnn": rnn, "lstm": lstm, "gru": gru, "recurrent": recurrent, "attention": attention,
    "representations": representations, "word2vec": word2vec, "word_vectors": word_vectors, "text": text,
    "gf": gf, "gradcheck": gradcheck, "activations": activations, "keras_weights": keras_weights,
    "agreement": agreement, "NAN": NAN,
    "x": _rng.normal(size=(2, 3, 4)).astype(np.float32),  # (batch, time, features)
    "x_nan": np.where(np.arange(24).reshape(2, 3, 4) == 5, NAN, 1).astype(np.float32),
    "h": np.zeros((2, 5), np.float32),  # (batch, units)
    "P1": _p(4, 5, 1), "P4": _p(4, 5, 4), "P3": _p(4, 5, 3, True), "P3v1": _p(4, 5, 3),
    "P3other": _p(4, 6, 3, True),
    "q": _rng.normal(size=(2, 3, 4)), "K": _rng.normal(size=(2, 5, 4)), "V": _rng.normal(size=(2, 5, 6)),
    "W": _rng.normal(size=(10, 3)).astype(np.float32),  # embedding table (V, k)
    "vocab": text.build_vocabulary(["the cat sat", "the dog"]),
    "words": ["a", "b", "c", "d", "e"], "vecs": _rng.normal(size=(5, 3)),
    "MHA": {"W_q": np.ones((4, 12)), "b_q": np.ones(12), "W_k": np.ones((6, 12)), "b_k": np.ones(12),
            "W_v": np.ones((6, 12)), "b_v": np.ones(12), "W_o": np.ones((12, 4)), "b_o": np.ones(4)},
}
NS["MHA2"] = attention.MHAParams(NS["MHA"], 2)
NS["cache"] = rnn.rnn_forward(NS["x"], NS["P1"])[1]
NS["bicache"] = recurrent.bidirectional_forward(rnn.simple_rnn, NS["x"], NS["P1"], NS["P1"], return_sequences=True)[1]

# (module, call, what the message must say). The issue's own cases come first in each module.
PROBES = [
    # ---------------------------------------------------------------- rnn
    ("rnn", "rnn.rnn_cell_forward(np.ones(4), h, P1['W_x'], P1['W_h'], P1['b'])", r"x_t must have shape \(batch, features\).*x_t\[None\]"),
    ("rnn", "rnn.rnn_cell_forward(np.ones((2, 6)), h, P1['W_x'], P1['W_h'], P1['b'])", r"x_t has 6 features.*W_x has shape \(4, 5\)"),
    ("rnn", "rnn.rnn_cell_forward(np.ones((2, 4)), np.ones((3, 5)), P1['W_x'], P1['W_h'], P1['b'])", r"h_prev must have shape \(batch, units\) = \(2, 5\)"),
    ("rnn", "rnn.rnn_cell_forward(np.ones((2, 4)), h, P1['W_x'], P1['W_h'], np.ones(4))", r"b must have shape \(units,\) = \(5,\)"),
    ("rnn", "rnn.rnn_cell_forward(np.full((2, 4), NAN), h, P1['W_x'], P1['W_h'], P1['b'])", r"x_t contains nan at position \(0, 0\)"),
    ("rnn", "rnn.init_params(3, 4, 0)", r"rng must be a numpy random Generator.*got int 0"),
    ("rnn", "rnn.init_params(0, 4, np.random.default_rng(0))", r"features must be a positive integer, got int 0"),
    ("rnn", "rnn.init_params(3, -2, np.random.default_rng(0))", r"units must be a positive integer, got int -2"),
    ("rnn", "rnn.simple_rnn(np.ones((2, 3, 6)), P1)", r"x has 6 features \(its last axis\), but W_x has shape \(4, 5\)"),
    ("rnn", "rnn.simple_rnn(x_nan, P1)", r"x contains nan at position \(0, 1, 1\)"),
    ("rnn", "rnn.simple_rnn(np.ones((3, 4)), P1)", r"x must have shape \(batch, time, features\).*x\[None\]"),
    ("rnn", "rnn.simple_rnn(np.ones((2, 3, 0)), P1)", r"x has no features"),
    ("rnn", "rnn.simple_rnn(np.ones((0, 3, 4)), P1)", r"x has no batch"),
    ("rnn", "rnn.simple_rnn(x, P1, mask=np.ones((2, 4), bool))", r"mask must have shape \(batch, time\) = \(2, 3\)"),
    ("rnn", "rnn.simple_rnn(x, P1, mask=np.full((2, 3), 0.5))", r"mask must be boolean.*or 0/1 integers, got array of shape \(2, 3\) and dtype float64"),
    ("rnn", "rnn.simple_rnn(x, P1, h0=np.zeros(5))", r"h0 must have shape \(batch, units\) = \(2, 5\).*np.tile"),
    ("rnn", "rnn.simple_rnn(x, P1, h0=np.full((2, 5), np.inf))", r"h0 contains inf"),
    ("rnn", "rnn.simple_rnn(x, P1, activation='softmax')", r"activation must be one of"),
    ("rnn", "rnn.simple_rnn(x, P1, return_sequences='yes')", r"return_sequences must be True or False, got str 'yes'"),
    ("rnn", "rnn.simple_rnn(x, {**P1, 'W_h': np.ones((5, 4))})", r"W_h must have shape \(units, units\) = \(5, 5\)"),
    ("rnn", "rnn.simple_rnn(x, {**P1, 'W_x': np.full((4, 5), np.nan)})", r"W_x contains nan"),
    ("rnn", "rnn.simple_rnn(x, [1, 2])", r"params must be a dict with keys"),
    ("rnn", "rnn.simple_rnn('abc', P1)", r"x must be a numeric array, got str 'abc'"),
    ("rnn", "rnn.simple_rnn([[[1], [2, 3]]], P1)", r"x must be a numeric array; could not convert it"),
    ("rnn", "rnn.rnn_forward(x, P1, input_mask=np.ones((2, 5)))", r"input_mask must have shape \(batch, features\) = \(2, 4\)"),
    ("rnn", "rnn.rnn_backward(np.ones((2, 3, 4)), cache)", r"dh_seq must have shape \(batch, time, units\), like h_seq = \(2, 3, 5\)"),
    ("rnn", "rnn.rnn_backward(np.ones((2, 3, 5)), 'cache')", r"cache must be the RNNCache that rnn_forward returned, got str"),
    ("rnn", "rnn.rnn_backward(np.full((2, 3, 5), NAN), cache)", r"dh_seq contains nan"),
    ("rnn", "rnn.rnn_step_backward(np.ones((2, 5)), np.ones((2, 4)), P1['W_h'])", r"h_t must have shape \(batch, units\), like dh_t = \(2, 5\)"),
    ("rnn", "rnn.rnn_step_backward(np.ones((2, 5)), np.ones((2, 5)), np.ones((5, 4)))", r"W_h must have shape \(units, units\) = \(5, 5\)"),
    ("rnn", "rnn.rnn_cell_backward(np.ones((2, 4)), np.ones((2, 4)), h, h, P1['W_x'], P1['W_h'], P1['b'])", r"dh_t must have shape \(batch, units\), like h_prev = \(2, 5\)"),
    ("rnn", "rnn.activate(np.ones(3), 'gelu')", r"activation must be one of"),
    ("rnn", "rnn.simple_rnn(x, P1, activation=np.ones(3))", r"activation must be one of .*got array of shape \(3,\)"),
    ("rnn", "rnn.activation_derivative('h')", r"h must be a numeric array, got str 'h'"),
    ("rnn", "rnn.hidden_state_gradients(np.ones((2, 3)), cache)", r"dh_seq must have shape"),
    # ---------------------------------------------------------------- lstm
    ("lstm", "lstm.lstm_cell_forward(np.ones((2, 4)), h, np.ones((2, 4)), P4['W_x'], P4['W_h'], P4['b'])", r"c_prev must have shape \(batch, units\), like h_prev = \(2, 5\)"),
    ("lstm", "lstm.lstm_cell_forward(np.ones(4), h, h, P4['W_x'], P4['W_h'], P4['b'])", r"x_t must have shape \(batch, features\).*x_t\[None\]"),
    ("lstm", "lstm.lstm_cell_forward(np.ones((2, 4)), h, h, P4['W_x'], P1['W_h'], P4['b'])", r"W_h must have shape \(units, 4 \* units\) = \(5, 20\)"),
    ("lstm", "lstm.init_params(3, 4, 0)", r"rng must be a numpy random Generator"),
    ("lstm", "lstm.init_params(3, 4, np.random.default_rng(0), unit_forget_bias='no')", r"unit_forget_bias must be True or False"),
    ("lstm", "lstm.lstm(np.ones((2, 3, 0)), P4)", r"x has no features: its shape is \(2, 3, 0\)"),
    ("lstm", "lstm.lstm(np.ones((2, 3, 6)), P4)", r"x has 6 features.*W_x has shape \(4, 20\) = \(features, 4 \* units\)"),
    ("lstm", "lstm.lstm(x, P4, c0=np.ones((2, 4)))", r"c0 must have shape \(batch, units\) = \(2, 5\)"),
    ("lstm", "lstm.lstm(x, P4, mask=np.array([[1, 2, 1], [1, 1, 1]]))", r"mask must hold only True/False or 0/1, got the value 2"),
    ("lstm", "lstm.lstm(x, P1)", r"W_h must have shape \(units, 4 \* units\) = \(5, 20\)"),
    ("lstm", "lstm.lstm_forward(x, P4, input_mask=np.ones((3, 2, 4)))", r"input_mask must have shape \(batch, features\) or, one per gate, \(4, batch, features\)"),
    ("lstm", "lstm.lstm_backward(np.ones((2, 3, 5)), cache)", r"cache must be the LSTMCache that lstm_forward returned, got RNNCache"),
    ("lstm", "lstm.lstm_gates(np.ones((2, 6)))", r"z must have shape \(batch, 4 \* units\)"),
    ("lstm", "lstm.lstm_state_update({'i': h}, h)", r"gates must be a dict with keys \['i', 'f', 'g', 'o'\]"),
    ("lstm", "lstm.lstm_step_backward(h, h, h, np.ones((2, 4)), lstm.lstm_gates(np.ones((2, 20))), P4['W_h'])", r"dh_t must have shape \(batch, units\), like c_t = \(2, 4\)"),
    ("lstm", "lstm.lstm_cell_backward(np.ones((2, 5)), np.ones((2, 3)), np.ones((2, 4)), h, h, P4['W_x'], P4['W_h'], P4['b'])", r"dc_t must have shape \(batch, units\), like h_prev = \(2, 5\)"),
    # ---------------------------------------------------------------- gru
    ("gru", "gru.gru(x, P3, reset_after='yes')", r"reset_after must be True or False, got str 'yes'"),
    ("gru", "gru.gru_cell_forward(np.ones((2, 4)), h, P3['W_x'], P3['W_h'], P3['b'], P3['b_h'], reset_after='yes')", r"reset_after must be True or False"),
    ("gru", "gru.gru_cell_forward(np.ones(4), h, P3['W_x'], P3['W_h'], P3['b'])", r"x_t must have shape \(batch, features\).*x_t\[None\]"),
    ("gru", "gru.gru_cell_forward(np.ones((2, 4)), h, P3['W_x'], P3['W_h'], P3['b'], np.ones(5))", r"b_h must have shape \(3 \* units,\) = \(15,\)"),
    ("gru", "gru.gru_cell_forward(np.ones((2, 4)), h, P3['W_x'], P3['W_h'], P3['b'], P3['b_h'], reset_after=False)", r"b_h, the recurrent bias, exists only with reset_after=True"),
    ("gru", "gru.gru(x, P3, reset_after=False)", r"reset_after=False needs params without 'b_h'"),
    ("gru", "gru.gru(np.ones((2, 3, 6)), P3)", r"x has 6 features.*W_x has shape \(4, 15\) = \(features, 3 \* units\)"),
    ("gru", "gru.gru(x, P4)", r"params must be a dict with keys \['W_h', 'W_x', 'b', 'b_h'\]|W_h must have shape \(units, 3 \* units\)"),
    ("gru", "gru.gru(x, P3, h0=np.ones((2, 6)))", r"h0 must have shape \(batch, units\) = \(2, 5\)"),
    ("gru", "gru.gru_forward(x, P3, recurrent_mask=np.ones((2, 6)))", r"recurrent_mask must have shape \(batch, units\) = \(2, 5\)"),
    ("gru", "gru.init_params(3, 4, 0)", r"rng must be a numpy random Generator"),
    ("gru", "gru.param_count(3, 4, reset_after='no')", r"reset_after must be True or False"),
    ("gru", "gru.gru_step(np.ones((2, 14)), h, P3['W_h'])", r"xw_t must have shape \(batch, 3 \* units\), x_t W_x \+ b = \(2, 15\)"),
    ("gru", "gru.gru_step_backward(h, h, h, h, np.ones((2, 4)), P3['W_h'], None)", r"h_tilde must have shape \(batch, units\), like h_prev = \(2, 5\)"),
    ("gru", "gru.gru_backward(np.ones((2, 3, 5)), cache)", r"cache must be the GRUCache that gru_forward returned"),
    ("gru", "gru.gru_cell_backward(np.ones((2, 3)), np.ones((2, 4)), h, P3['W_x'], P3['W_h'], P3['b'], P3['b_h'])", r"dh_t must have shape \(batch, units\), like h_prev = \(2, 5\)"),
    # ---------------------------------------------------------------- recurrent (Bidirectional and helpers)
    ("recurrent", "recurrent.bidirectional(gru.gru, x, P3, P3other, merge_mode='sum')", r"params_forward and params_backward must be weights of the same layer"),
    ("recurrent", "recurrent.bidirectional(rnn.simple_rnn, x, P1, P1, merge_mode='max')", r"merge_mode must be one of"),
    ("recurrent", "recurrent.bidirectional(rnn.simple_rnn, x, P1, P1, h0=np.zeros((2, 5)))", r"h0 must be a pair \(h0_forward, h0_backward\)"),
    ("recurrent", "recurrent.bidirectional(lstm.lstm, x, P4, P4, initial_state=[h, h])", r"initial_state must be a list \[h0_forward, c0_forward, h0_backward, c0_backward\]"),
    ("recurrent", "recurrent.bidirectional(rnn.simple_rnn, x, P1, P1, h0=(h, h), initial_state=[h, h])", r"either as initial_state=\[\.\.\.\] or as h0=/c0=, not both"),
    ("recurrent", "recurrent.bidirectional(rnn.simple_rnn, x, P1, P1, c0=(h, h))", r"c0 is the LSTM's cell state"),
    ("recurrent", "recurrent.bidirectional('simple_rnn', x, P1, P1)", r"layer must be a layer function"),
    ("recurrent", "recurrent.bidirectional_forward(len, x, P1, P1)", r"layer must be lessonlib.rnn.simple_rnn, lessonlib.lstm.lstm or lessonlib.gru.gru, got len"),
    ("recurrent", "recurrent.bidirectional_backward(np.ones((2, 3, 5)), bicache)", r"d_output must have shape like the merged output = \(2, 3, 10\)"),
    ("recurrent", "recurrent.bidirectional_backward(np.ones((2, 3, 10)), cache)", r"cache must be the BidirectionalCache"),
    ("recurrent", "recurrent.merge_backward(np.ones((2, 5)), h, h, None)", r"with merge_mode=None the output is a pair"),
    ("recurrent", "recurrent.merge(h, h, 'max')", r"merge_mode must be one of"),
    ("recurrent", "recurrent.bidirectional(rnn.simple_rnn, x, P1, P1, merge_mode=np.ones(2))", r"merge_mode must be one of .*got array"),
    ("recurrent", "recurrent.sequence_gradient(np.ones((2, 5)), np.array([3]), False)", r"time must be a positive integer"),
    ("recurrent", "recurrent.sequence_gradient(np.ones((2, 4, 5)), 3, True)", r"d_output must have shape \(batch, time, units\) = \(any, 3, any\)"),
    ("recurrent", "recurrent.keras_outputs(np.ones((2, 3, 5)), [], return_sequences=1, return_state=False)", r"return_sequences must be True or False, got int 1"),
    ("recurrent", "recurrent.check_mask(np.ones((2, 3), 'U1'), 2, 3)", r"mask must be boolean"),
    # ---------------------------------------------------------------- attention
    ("attention", "attention.masked_softmax(np.ones((2, 3, 0)))", r"scores has no keys \(its last axis is empty"),
    ("attention", "attention.keras_attention(q, np.ones((2, 0, 6)))", r"V must have shape \(batch, time, dv\) with no empty axis"),
    ("attention", "attention.multi_head_attention(q, V, MHA2, 3)", r"num_heads=3, but these params are a layer with 2 heads"),
    ("attention", "attention.multi_head_attention(q, V, MHA, 5)", r"a multiple of num_heads \(5\)"),
    ("attention", "attention.multi_head_attention(q, V, MHA, 2, key_mask=np.ones((2, 4), bool))", r"key_mask must have shape \(2, 5\)"),
    ("attention", "attention.multi_head_attention(q, V, MHA, 0)", r"num_heads must be a positive integer, got int 0"),
    ("attention", "attention.multi_head_attention_backward(np.ones((2, 3, 5)), q, V, MHA, 2)", r"d_output must have shape \(2, 3, 4\)"),
    ("attention", "attention.keras_attention(np.where(q > 0, np.nan, q), V, K)", r"q contains nan"),
    ("attention", "attention.keras_attention(q, V, K, value_mask=np.array([[1, 2, 0, 0, 1]] * 2))", r"value_mask must hold only True/False or 0/1, got the value 2"),
    ("attention", "attention.keras_attention(q, V, K, value_mask=np.ones((2, 5)))", r"value_mask must be boolean.*0/1 integers.*astype\(bool\)"),
    ("attention", "attention.keras_attention(q, V, np.ones((2, 4, 4)))", r"K and V must have the same number of time steps"),
    ("attention", "attention.keras_attention_backward(np.ones((2, 3, 6)), np.ones((2, 3, 5)), q, V, K, score_mode='general')", r"score_mode must be 'dot' or 'concat'"),
    ("attention", "attention.keras_attention_backward(np.ones((2, 3, 6)), np.ones((2, 3, 4)), q, V, K)", r"weights must have shape \(2, 3, 5\)"),
    ("attention", "attention.keras_additive_attention_backward(np.ones((2, 3, 6)), np.ones((2, 3, 5)), q, V, K, scale=np.ones(3))", r"scale must have shape \(4,\)"),
    ("attention", "attention.additive_score_backward(np.ones((2, 3, 4)), q, K, np.ones((4, 2)), np.ones((4, 2)), np.ones(2))", r"d_scores must have shape \(2, 3, 5\)"),
    ("attention", "attention.scaled_dot_product_attention_backward(np.ones((2, 3, 6)), np.ones((2, 3, 5)), q, K, V, mask=np.ones((2, 5)))", r"mask must be boolean"),
    ("attention", "attention.scaled_dot_score_backward(np.ones((2, 3, 5)), q, np.ones((2, 5, 3)))", r"q and K must have the same feature size d"),
    ("attention", "attention.split_heads(np.ones((2, 3)), 2)", r"x must have shape \(batch, time, num_heads \* depth\)"),
    ("attention", "attention.merge_heads(np.ones((2, 3, 4)))", r"x must have 4 dimension\(s\)"),
    ("attention", "attention.causal_mask(0)", r"Tq must be a positive integer, got int 0"),
    ("attention", "attention.score_mask(np.ones(2), 3, 5)", r"batch must be a positive integer, got array"),
    ("attention", "attention.keras_attention_backward(np.ones((2, 3, 6)), np.ones((2, 3, 5)), q, V, K, score_mode=np.ones(2))", r"score_mode must be 'dot' or 'concat', got array"),
    ("attention", "attention.keras_attention(q, V, K, score_mode=np.ones(2))", r"score_mode must be 'dot' or 'concat', got array"),
    ("attention", "attention.keras_attention(q, V, K, fully_masked=np.ones(2))", r"fully_masked must be 'keras', 'uniform' or 'zero', got array"),
    ("attention", "attention.score_mask(2, 3, 5, value_mask=np.ones((2, 4), bool))", r"value_mask must have shape \(2, 5\)"),
    ("attention", "attention.context_vector(np.ones((2, 3, 5)), np.ones((3, 5, 6)))", r"batch sizes differ"),
    ("attention", "attention.attention_decoder_step(np.ones(4), np.ones((2, 5, 4)), np.ones((8, 3)), np.ones(3), np.ones((3, 7)), np.ones(7))", r"h_t must have 2 dimension\(s\)"),
    ("attention", "attention.check_mha_params({**MHA, 'W_o': np.ones((11, 4))}, 2)", r"W_o must have 12 rows"),
    ("attention", "attention.general_score(q, K, np.full((4, 4), np.inf))", r"W_a contains inf"),
    ("attention", "attention.dot_score(q, np.ones((2, 5, 3)))", r"q and K must have the same feature size d"),
    ("attention", "attention.scaled_dot_score(np.ones((2, 3)), K)", r"q must have shape \(batch, time, d\)"),
    ("attention", "attention.additive_score(q, K, np.ones((4, 2)), np.ones((4, 3)), np.ones(2))", r"W_2 must have shape \(4, 2\)"),
    ("attention", "attention.scaled_dot_product_attention(q, K, np.ones((2, 4, 6)))", r"weights has 5 key positions but V has 4 time steps"),
    ("attention", "attention.keras_additive_attention(q, V, np.ones((2, 5, 3)))", r"K must have q's feature size and V's time steps"),
    ("attention", "attention.dot_score_backward(np.ones((2, 3, 4)), q, K)", r"d_scores must have shape \(batch, Tq, Tv\) = \(batch, 3, 5\)"),
    ("attention", "attention.masked_softmax_backward(np.ones((2, 3, 5)), np.ones((2, 3, 4)))", r"d_weights must have the shape of weights \(2, 3, 4\)"),
    ("attention", "attention.context_vector_backward(np.ones((2, 3, 6)), np.ones((2, 3, 4)), V)", r"d_context must be \(batch, Tq, dv\)"),
    # ---------------------------------------------------------------- representations
    ("representations", "representations.cosine_similarity(np.array([1.0, NAN]), np.array([1.0, 0.0]))", r"a contains nan at position \(1,\)"),
    ("representations", "representations.cosine_similarity(np.ones(3), np.ones(4))", r"a and b must be vectors of the same shape"),
    ("representations", "representations.cosine_similarity(np.ones(0), np.ones(0))", r"a and b must be vectors of the same shape"),
    ("representations", "representations.cosine_matrix(np.ones(3))", r"vectors must have 2 dimension\(s\)"),
    ("representations", "representations.embedding_lookup(W, np.array([1, 10]))", r"ids contains id 10 at position \(1,\).*valid ids are 0 to 9"),
    ("representations", "representations.embedding_lookup(W, np.array([1.5]))", r"ids must hold integer token ids"),
    ("representations", "representations.embedding_lookup(np.ones((0, 3)), np.array([0]))", r"W must be an embedding table of shape \(vocab_size, dim\), both at least 1"),
    ("representations", "representations.embedding_lookup(np.ones(3), [0])", r"W must be an embedding table"),
    ("representations", "representations.embedding_backward(np.ones((2, 3)), np.array([0, 1, 2]), 10)", r"d_out must have shape ids.shape \+ \(k,\)"),
    ("representations", "representations.embedding_backward(np.ones((2, 3)), np.array([0, 11]), 10)", r"ids contains id 11"),
    ("representations", "representations.embedding_backward(np.ones((2, 3)), np.array([0, 1]), 0)", r"vocab_size must be a positive integer"),
    ("representations", "representations.one_hot(np.array([-1, 2]), 3)", r"ids contains id -1 at position \(0,\)"),
    ("representations", "representations.one_hot(np.array([1]), 2.0)", r"vocab_size must be a positive integer, got float 2.0"),
    ("representations", "representations.one_hot_matmul(W, None)", r"ids must be an array of integer ids, got NoneType"),
    ("representations", "representations.representation_bytes(10, 0, 3)", r"vocab_size must be a positive integer"),
    ("representations", "representations.embedding_param_count(-1, 3)", r"input_dim must be a positive integer"),
    ("representations", "representations.format_bytes(-5)", r"n must be a number of bytes, an integer >= 0, got int -5"),
    # ---------------------------------------------------------------- word2vec
    ("word2vec", "word2vec.sgns_loss(np.ones((2, 3)), np.ones((2, 4)), np.ones((2, 5, 3)))", r"u_o must have v_c's shape \(batch, k\) = \(2, 3\)"),
    ("word2vec", "word2vec.sgns_loss(np.ones(3), np.ones(3), np.ones((5, 3)))", r"v_c must have shape \(batch, k\).*v_c\[None\]"),
    ("word2vec", "word2vec.sgns_loss(np.ones((2, 3)), np.ones((2, 3)), np.ones((2, 5, 4)))", r"U_neg must have shape \(batch, K, k\) = \(2, K, 3\)"),
    ("word2vec", "word2vec.sgns_grads(np.full((2, 3), NAN), np.ones((2, 3)), np.ones((2, 5, 3)))", r"v_c contains nan"),
    ("word2vec", "word2vec.softmax_loss_and_grads(np.ones((4, 3)), np.ones((4, 3)), [0, 4], [1, 2])", r"centres contains id 4"),
    ("word2vec", "word2vec.softmax_loss_and_grads(np.ones((4, 3)), np.ones((4, 3)), [0, 1], [1])", r"contexts must have shape \(2,\)"),
    ("word2vec", "word2vec.softmax_loss_and_grads(np.ones((4, 3)), np.ones((5, 3)), [0], [1])", r"V \(input vectors\) and U \(output vectors\) must have the same shape"),
    ("word2vec", "word2vec.naive_softmax_loss_and_gradient(np.ones(3), 7, np.ones((4, 3)))", r"o contains id 7"),
    ("word2vec", "word2vec.naive_softmax_loss_and_gradient(np.ones(2), 1, np.ones((4, 3)))", r"v_c must be one vector \(k,\) with k = U's columns \(3\)"),
    ("word2vec", "word2vec.skipgram_loss_and_grads(np.ones((4, 3)), np.ones((4, 3)), [0], [1], [[2, 5]])", r"negatives contains id 5"),
    ("word2vec", "word2vec.skipgram_pairs(np.array([[1, 2]]), 2)", r"ids must be one sentence, a 1-D array"),
    ("word2vec", "word2vec.skipgram_pairs(np.array([1, 2]), 0)", r"window must be a positive integer"),
    ("word2vec", "word2vec.cbow_hidden(np.ones((4, 3)), np.array([[-1, -1]]))", r"contexts row 0 has no context word"),
    ("word2vec", "word2vec.noise_distribution(np.array([-1.0, 2.0]))", r"counts must be a 1-D array of non-negative word counts"),
    ("word2vec", "word2vec.keep_probability(np.array([3, 4]), sample=2)", r"sample must be between 0 and 1"),
    ("word2vec", "word2vec.keep_probability(np.array([3, 4]), sample=None)", r"sample must be between 0 and 1"),
    ("word2vec", "word2vec.sample_negatives('abc', np.array([0]), 2, np.random.default_rng(0))", r"noise must be a numeric array, got str 'abc'"),
    ("word2vec", "word2vec.sample_negatives(np.array([1.0, 0.0]), np.array([0]), 2, np.random.default_rng(0))", r"noise must give a positive probability to at least two words"),
    ("word2vec", "word2vec.build_vocabulary('the cat')", r"sentences must be a list of token lists"),
    ("word2vec", "word2vec.build_vocabulary([['a']], min_count=2)", r"no word occurs at least min_count=2 times"),
    ("word2vec", "word2vec.train([['a', 'b']] * 5, min_count=1, dim=0, progress=False)", r"dim must be a positive integer"),
    ("word2vec", "word2vec.softmax_loss(np.ones((4, 3)), np.ones((4, 3)), [0, 1], [1, -1])", r"contexts contains id -1"),
    ("word2vec", "word2vec.cbow_loss_and_grads(np.ones((4, 3)), np.ones((4, 3)), [[0, 1]], [2], [[9]])", r"negatives contains id 9"),
    ("word2vec", "word2vec.cbow_contexts(np.array([0, 1]), -1)", r"window must be a positive integer"),
    ("word2vec", "word2vec.encode_corpus([['a']], 'vocabulary')", r"vocabulary must be the Vocabulary that build_vocabulary returned"),
    ("word2vec", "word2vec.log_sigmoid('a')", r"a must be a numeric array"),
    ("word2vec", "word2vec.pooled_ns_coefficients(np.ones((2, 3)), np.ones((2, 4, 3)), np.ones((2, 4)), np.ones((5, 3)), np.ones((2, 6)))", r"pool_weight must have shape \(P, N\) = \(2, 5\)"),
    ("word2vec", "word2vec.pooled_ns_loss_and_grads(np.ones((2, 3)), np.ones((2, 4, 2)), np.ones((2, 4)), np.ones((5, 3)), np.ones((2, 5)))", r"U_pos must have shape \(P, S, k\) = \(2, S, 3\)"),
    # ---------------------------------------------------------------- word_vectors
    ("word_vectors", "word_vectors.analogy(['a', 'b', 'c'], np.eye(3), 'a', 'b', 'c')", r"there are 3 word\(s\) and 3 of them are in the question"),
    ("word_vectors", "word_vectors.analogy(words, vecs, 'a', 'b', 'zebra')", r"'zebra' is not in the vocabulary"),
    ("word_vectors", "word_vectors.analogy(words, np.where(vecs > 0, np.nan, vecs), 'a', 'b', 'c')", r"vectors contains nan"),
    ("word_vectors", "word_vectors.nearest_neighbours(['a'], np.ones((1, 3)), 'a')", r"there are 1 word\(s\) and 1 of them are in the question"),
    ("word_vectors", "word_vectors.nearest_neighbours(words, vecs, 'a', topn=0)", r"topn must be a positive integer"),
    ("word_vectors", "word_vectors.nearest_neighbours(words, vecs[:4], 'a')", r"vectors must have one row per word \(5 words\)"),
    ("word_vectors", "word_vectors.nearest_neighbours('abcde', vecs, 'a')", r"words must be a list of strings"),
    ("word_vectors", "word_vectors.nearest_neighbours(words, vecs, 3)", r"a query word must be a string, got int 3"),
    ("word_vectors", "word_vectors.spearman([1, 2, 3], [1, 2])", r"x and y must be 1-D arrays of the same length"),
    ("word_vectors", "word_vectors.pearson([1, 1, 1], [1, 2, 3])", r"x or y is constant"),
    ("word_vectors", "word_vectors.pearson([1, NAN], [1, 2])", r"x contains nan"),
    ("word_vectors", "word_vectors.rank_average(np.ones((2, 2)))", r"x must be a 1-D array"),
    ("word_vectors", "word_vectors.unit_rows(np.ones(3))", r"vectors must have 2 dimension\(s\)"),
    ("word_vectors", "word_vectors.evaluate_word_pairs(words, vecs, [('a', 'b', 1.0)])", r"fewer than two pairs"),
    ("word_vectors", "word_vectors.from_keyed_vectors({'a': 1})", r"kv must be a gensim KeyedVectors"),
    ("word_vectors", "word_vectors.to_keyed_vectors(['a', 'a'], np.ones((2, 3)))", r"words must be distinct"),
    # ---------------------------------------------------------------- text
    ("text", "text.encode('a b', [])", r"vocabulary must start with the padding token '' \(id 0\) and '\[UNK\]' \(id 1\)"),
    ("text", "text.encode('a b', ['a', 'b'])", r"vocabulary must start with the padding token"),
    ("text", "text.encode(3, vocab)", r"text must be a string, got int 3"),
    ("text", "text.encode_batch(['a b'], vocab, length=0)", r"length must be a positive integer"),
    ("text", "text.encode_batch('a b', vocab)", r"texts must be a list of strings"),
    ("text", "text.word_index(['', '[UNK]', 'a', 'a'])", r"vocabulary lists 'a' twice"),
    ("text", "text.word_index(['', '[UNK]', 3])", r"vocabulary\[2\] must be a string token, got int 3"),
    ("text", "text.build_vocabulary(['a'], max_tokens=2)", r"max_tokens must be at least 3"),
    ("text", "text.padding_mask(np.array([1.0, 0.0]))", r"ids must hold integer token ids"),
    ("text", "text.padding_mask(np.array([3, -1]))", r"ids must be token ids >= 0"),
    ("text", "text.tokenize(None)", r"text must be a string, got NoneType"),
    # ---------------------------------------------------------------- gradient_flow, gradcheck, activations
    ("gradient_flow", "gf.clip_by_global_norm({'w': np.array([np.inf, 1.0])}, 1.0)", r"global norm is inf"),
    ("gradient_flow", "gf.clip_by_global_norm({'w': np.ones(3)}, 0)", r"max_norm must be a positive number"),
    ("gradient_flow", "gf.clip_by_value({'w': np.ones(3)}, -1)", r"clip_value must be a positive number, got int -1"),
    ("gradient_flow", "gf.clip_by_value([np.ones(3)], 1.0)", r"grads must be a non-empty dict of gradient arrays"),
    ("gradient_flow", "gf.global_norm({'w': 'abc'})", r"grads\['w'\] must be a numeric array, got str 'abc'"),
    ("gradient_flow", "gf.spectral_radius(np.ones((2, 3)))", r"W must have shape \(units, units\) = \(2, 2\)"),
    ("gradient_flow", "gf.with_spectral_radius(np.eye(2), -1.0)", r"radius must be a finite number >= 0"),
    ("gradient_flow", "gf.with_spectral_radius(np.eye(2), None)", r"radius must be a finite number >= 0, got NoneType None"),
    ("gradient_flow", "gf.jacobian_norms(np.ones((2, 3, 6)), P1)", r"x has 6 features"),
    ("gradient_flow", "gf.cell_path_norms(x, P1)", r"W_h must have shape \(units, 4 \* units\) = \(5, 20\)"),
    ("gradient_flow", "gf.cell_path_norms(x, P4, seed=-1)", r"seed must be an integer >= 0, got int -1"),
    ("gradient_flow", "gf.state_gradient_norms('LSTM', x, P4, seed='a')", r"seed must be an integer >= 0, got str 'a'"),
    ("gradient_flow", "gf.state_gradient_norms('GRU', x, P3)", r"kind must be one of \('SimpleRNN', 'LSTM'\)"),
    ("gradient_flow", "gf.train_regressor(lambda r: None, P1, steps=0, lr=0.1, rng=np.random.default_rng(0))", r"steps must be a positive integer"),
    ("gradcheck", "gradcheck.numeric_gradient(lambda: 0.0, np.ones(3, np.float32))", r"x must be a float64 numpy array"),
    ("gradcheck", "gradcheck.check_gradients(lambda: 0.0, {'w': np.ones(3)}, {})", r"grads has no entry for \['w'\]"),
    ("gradcheck", "gradcheck.check_gradients(lambda: 0.0, {'w': np.ones(3)}, {'w': np.ones(2)})", r"grads\['w'\] has shape \(2,\), but params\['w'\] has shape \(3,\)"),
    ("activations", "activations.softmax(np.array([]))", r"a must have at least one entry along axis -1"),
    ("gradient_flow", "gf.state_gradient_norms(np.ones(2), x, P1)", r"kind must be one of \('SimpleRNN', 'LSTM'\), got array"),
    ("recurrent", "recurrent.bidirectional_forward(np.ones(2), x, P1, P1)", r"layer must be lessonlib.rnn.simple_rnn.*got array"),
    ("activations", "activations.sigmoid('a')", r"a must be a numeric array, got str 'a'"),
    ("activations", "activations.softmax(np.array([[1, 2], [3]], dtype=object))", r"a must be a numeric array"),
    # ---------------------------------------------------------------- keras_weights, agreement
    ("keras_weights", "keras_weights.split_gates(np.ones((3, 10)), 'ifgo')", r"the last axis must hold 4 equal gate blocks"),
    ("keras_weights", "keras_weights.join_gates({'i': np.ones(2)}, 'ifgo')", r"blocks lacks gate\(s\) \['f', 'g', 'o'\]"),
    ("keras_weights", "keras_weights.params_from_keras(object())", r"expected a keras SimpleRNN, LSTM or GRU layer"),
    ("keras_weights", "keras_weights.mha_params_from_keras(object())", r"expected a built keras MultiHeadAttention layer"),
    ("agreement", "agreement.max_differences('Transformer')", r"kind must be one of"),
    ("agreement", "agreement.masked_differences('Transformer')", r"kind must be one of"),
    ("agreement", "agreement.masked_differences('LSTM', bidirectional='yes')", r"bidirectional must be True or False"),
    ("agreement", "agreement.attention_differences(batch=0)", r"batch must be a positive integer"),
    ("agreement", "agreement.embedding_differences(vocab_size=1)", r"need vocab_size >= 2"),
    ("agreement", "agreement.padded_lengths(0, 5, np.random.default_rng(0))", r"batch must be a positive integer"),
    ("agreement", "agreement.random_params(0, 3, 4)", r"rng must be a numpy random Generator"),
    ("keras_weights", "keras_weights.params_to_keras(object(), {})", r"expected a keras SimpleRNN, LSTM or GRU layer"),
    ("keras_weights", "keras_weights.mha_params_to_keras(object(), MHA)", r"expected a built keras MultiHeadAttention layer"),
    ("activations", "activations.dsigmoid_from_output('s')", r"s must be a numeric array, got str 's'"),
    ("activations", "activations.dtanh_from_output(None)", r"t must be a numeric array, got NoneType None"),
    ("gradcheck", "gradcheck.relative_error(np.ones(3), np.ones(4))", r"a and b must have the same shape"),
    ("gradcheck", "gradcheck.check_gradients(3, {'w': np.ones(3)}, {'w': np.ones(3)})", r"loss must be a function of no arguments"),
    ("gradient_flow", "gf.step_jacobians(x, P1, activation='swish')", r"activation must be one of"),
    ("word_vectors", "word_vectors.check_words_and_vectors(words, np.ones((5, 3, 1)))", r"vectors must have 2 dimension\(s\)"),
    ("word_vectors", "word_vectors.evaluate_analogies(words, vecs, {'s': [('a', 'b', 'c', 'd')]}, restrict_vocab=0)", r"restrict_vocab must be a positive integer"),
]


def message(call: str) -> str:
    """The error message ``call`` gives (or what happened instead, for the table)."""
    try:
        eval(call, dict(NS))  # noqa: S307 - the calls are this file's own table
    except LessonlibInputError as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - reported as a failure by the test
        return f"RAW {type(exc).__name__}: {exc}"
    return "NO ERROR"


@pytest.mark.parametrize(("module", "call", "expected"), PROBES, ids=[f"{m}:{c[:60]}" for m, c, _ in PROBES])
def test_bad_input_gets_a_clear_lessonlib_error(module, call, expected):
    got = message(call)
    assert not got.startswith(("RAW ", "NO ERROR")), f"{call} -> {got}"
    assert re.search(expected, got), f"{call} -> {got}"
    assert "\n" not in got and "0x" not in got  # one line, no memory addresses (deterministic for nbval)


def test_every_public_function_of_the_layers_is_probed():
    """A new public function of these modules needs a row in the table."""
    import inspect

    modules = {"rnn": rnn, "lstm": lstm, "gru": gru, "recurrent": recurrent, "attention": attention,
               "representations": representations, "word2vec": word2vec, "text": text,
               "word_vectors": word_vectors, "gf": gf, "gradcheck": gradcheck, "activations": activations,
               "keras_weights": keras_weights, "agreement": agreement}
    checks_only = {"check_params", "check_activation", "check_sequence", "check_mask", "check_gate_params",
                   "check_features", "check_step", "initial_state", "check_mha_params", "dropout_mask",
                   "dropout_masks"}
    probed = " ".join(call for _, call, _ in PROBES)
    missing = []
    for name, module in modules.items():
        for fn_name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ != module.__name__ or fn_name.startswith("_") or fn_name in checks_only:
                continue
            if f"{name}.{fn_name}(" not in probed:
                missing.append(f"{name}.{fn_name}")
    assert missing == []


if __name__ == "__main__":  # pragma: no cover - writes the markdown table
    out = sys.stdout
    out.write("# Bad inputs to lessonlib's numpy layers and helpers, and the message each gets\n\n")
    out.write("Generated by `python tests/test_bad_inputs.py` from the table that the tests assert on.\n\n")
    current = None
    for module, call, _ in PROBES:
        if module != current:
            out.write(f"\n## {module}\n\n| call | message |\n|---|---|\n")
            current = module
        escaped = message(call).replace("|", r"\|")
        out.write(f"| `{call}` | {escaped} |\n")
