"""What every recurrent layer shares: Keras' output conventions and the bidirectional wrapper.

Each layer module (``rnn``, ``lstm``, ``gru``) computes every hidden state of a sequence,
``h_seq`` of shape ``(batch, time, units)``. What a Keras layer *returns* is then only a
matter of which of those to hand back:

* ``return_sequences=False``: the last hidden state ``(batch, units)`` (many-to-one);
* ``return_sequences=True``: all of them ``(batch, time, units)`` (many-to-many);
* ``return_state=True``: a list ``[output, *final_states]`` (``h_T``, and ``c_T`` for the LSTM).

``go_backwards=True`` reads the sequence from the end; Keras then returns the outputs in
the order they were computed (reversed). :func:`bidirectional` runs one layer forwards
and one backwards, re-aligns the backward outputs in time, and merges them;
:func:`bidirectional_forward` and :func:`bidirectional_backward` are the same with a
backward pass.

A padding ``mask`` ``(batch, time)`` (``True`` or 1 at real steps, what
``Embedding(mask_zero=True)`` passes on) has Keras' meaning in every layer: at a masked
step the states are kept and the previous output is repeated (zeros before a row's first
real step); backwards, a masked step adds nothing to the weight gradients and hands its
gradient unchanged to the step before. ``go_backwards`` reverses the whole padded row and
its mask, so with right padding the backward layer starts at each row's last real step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lessonlib._validate import (
    LessonlibInputError,
    as_float_array,
    as_mask,
    check_bool,
    check_choice,
    check_positive_int,
    check_shape,
    describe,
)

MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def check_sequence(x: Any) -> np.ndarray:
    """Validate a batch of sequences ``(batch, time, features)``; return it as a float array.

    Empty axes, NaN and infinity are refused here, once, at the layer's boundary.
    """
    x = as_float_array("x", x)
    if x.ndim == 2:
        raise LessonlibInputError(
            f"x must have shape (batch, time, features), got {describe(x)}. One sequence "
            "(time, features) needs the batch axis too: x[None]; one feature per step: x[..., None]."
        )
    check_shape("x", x, (None, None, None), "(batch, time, features)")
    for axis, name in enumerate(("batch", "time", "features")):
        if x.shape[axis] == 0:
            raise LessonlibInputError(
                f"x has no {'time steps' if name == 'time' else name}: its shape is {x.shape} = (batch, time, features)."
            )
    return as_float_array("x", x, finite=True)


def check_mask(mask: Any, batch: int, time: int) -> np.ndarray | None:
    """A padding mask ``(batch, time)`` as booleans (``True`` = a real step), or ``None``.

    Accepts what Keras accepts from ``Embedding(mask_zero=True)`` or by hand: booleans or
    0/1 integers (``text.padding_mask(ids)`` gives one).
    """
    if mask is None:
        return None
    return as_mask("mask", mask, (batch, time), "(batch, time)")


def _masked_outputs(h_seq: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """What a Keras layer outputs at each step, given every state ``h_seq`` ``(batch, time, units)``.

    At a masked step Keras keeps the state and repeats the previous *output*; before the
    first real step of a row there is no previous output and it gives zeros (even with a
    non-zero ``h0``). Afterwards the repeated output equals the kept state.
    """
    if mask is None:
        return h_seq
    started = np.logical_or.accumulate(mask, axis=1)  # (batch, time): a real step at or before t
    return np.where(started[:, :, None], h_seq, 0).astype(h_seq.dtype, copy=False)


def _masked_output_gradient(dh_seq: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """dLoss/d(state) from dLoss/d(output): zero where :func:`_masked_outputs` gave a constant 0."""
    if mask is None:
        return dh_seq
    started = np.logical_or.accumulate(mask, axis=1)
    return np.where(started[:, :, None], dh_seq, 0).astype(dh_seq.dtype, copy=False)


def _reverse_time(x: np.ndarray, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """``go_backwards``: ``x`` and its mask read from the last step to the first (Keras
    reverses the whole padded row, so right padding comes first and is skipped by the mask)."""
    return x[:, ::-1], None if mask is None else mask[:, ::-1]


def initial_state(name: str, h0: Any, batch: int, units: int, dtype: np.dtype) -> np.ndarray:
    """``h0`` (or ``c0``) validated as ``(batch, units)``; zeros when ``None``, as in Keras."""
    if h0 is None:
        return np.zeros((batch, units), dtype=dtype)
    h0 = as_float_array(name, h0)
    if h0.ndim == 1 and h0.shape == (units,):
        raise LessonlibInputError(
            f"{name} must have shape (batch, units) = ({batch}, {units}), got {describe(h0)}: "
            f"one state per sequence of the batch (np.tile({name}, ({batch}, 1)) repeats one)."
        )
    check_shape(name, h0, (batch, units), "(batch, units)")
    return as_float_array(name, h0, finite=True)


def keras_outputs(
    h_seq: np.ndarray,
    final_states: Sequence[np.ndarray],
    *,
    return_sequences: bool,
    return_state: bool,
    mask: np.ndarray | None = None,
    zero_output_for_mask: bool = False,
) -> np.ndarray | list[np.ndarray]:
    """What a Keras recurrent layer returns, given every output ``h_seq`` ``(batch, time, units)``.

    ``zero_output_for_mask`` (with a ``mask``): masked steps of the returned sequence are
    zeros instead of the repeated previous output.
    """
    check_bool("return_sequences", return_sequences)
    check_bool("return_state", return_state)
    if check_bool("zero_output_for_mask", zero_output_for_mask) and mask is not None and return_sequences:
        h_seq = np.where(mask[:, :, None], h_seq, 0).astype(h_seq.dtype, copy=False)
    output = h_seq if return_sequences else h_seq[:, -1]  # (batch, time, units) or (batch, units)
    if zero_output_for_mask and mask is not None and not return_sequences:
        output = np.where(mask[:, -1, None], output, 0).astype(output.dtype, copy=False)
    return [output, *final_states] if return_state else output


def sequence_gradient(d_output: np.ndarray, time: int, return_sequences: bool) -> np.ndarray:
    """dLoss/dh_t for every step, ``(batch, time, units)``, from the gradient of the layer's output.

    With ``return_sequences=False`` only the last step reaches the loss directly, so
    every other step starts with a zero gradient (it still gets one through time).
    """
    d_output = as_float_array("d_output", d_output)
    time = check_positive_int("time", time)
    if check_bool("return_sequences", return_sequences):
        check_shape("d_output", d_output, (None, time, None), "(batch, time, units)")
        return d_output
    check_shape("d_output", d_output, (None, None), "(batch, units)")
    dh_seq = np.zeros((d_output.shape[0], time, d_output.shape[1]), dtype=d_output.dtype)
    dh_seq[:, -1] = d_output
    return dh_seq


def merge(forward: np.ndarray, backward: np.ndarray, mode: str | None) -> np.ndarray | list[np.ndarray]:
    """Combine the two directions as ``keras.layers.Bidirectional(merge_mode=mode)`` does."""
    check_choice("merge_mode", mode, MERGE_MODES)
    if mode == "concat":
        return np.concatenate([forward, backward], axis=-1)  # units -> 2 * units
    if mode == "sum":
        return forward + backward
    if mode == "mul":
        return forward * backward
    if mode == "ave":
        return (forward + backward) / 2
    if mode is None:
        return [forward, backward]
    raise LessonlibInputError(f"merge_mode must be one of {MERGE_MODES}, got {describe(mode)}.")


def _layer_functions(layer: Callable[..., Any]) -> tuple[str, Callable[..., Any], Callable[..., Any]]:
    """``(kind, forward, backward)`` of a layer function (``simple_rnn``, ``lstm`` or ``gru``)."""
    from lessonlib import gru, lstm, rnn

    if not callable(layer):
        raise LessonlibInputError(f"layer must be lessonlib.rnn.simple_rnn, lessonlib.lstm.lstm or lessonlib.gru.gru, got {describe(layer)}.")
    known = {
        rnn.simple_rnn: ("SimpleRNN", rnn.rnn_forward, rnn.rnn_backward),
        lstm.lstm: ("LSTM", lstm.lstm_forward, lstm.lstm_backward),
        gru.gru: ("GRU", gru.gru_forward, gru.gru_backward),
    }
    if layer not in known:
        raise LessonlibInputError(
            "layer must be lessonlib.rnn.simple_rnn, lessonlib.lstm.lstm or lessonlib.gru.gru, "
            f"got {getattr(layer, '__name__', describe(layer))}."
        )
    return known[layer]


def _check_pair(params_forward: Any, params_backward: Any) -> None:
    """Keras' ``Bidirectional`` runs two copies of one layer: the same keys and shapes both ways."""
    if not isinstance(params_forward, Mapping) or not isinstance(params_backward, Mapping):
        raise LessonlibInputError(
            f"params_forward and params_backward must be dicts of weights, got {describe(params_forward)} "
            f"and {describe(params_backward)}."
        )
    shapes_fw = {k: np.shape(v) for k, v in params_forward.items()}
    shapes_bw = {k: np.shape(v) for k, v in params_backward.items()}
    if shapes_fw != shapes_bw:
        raise LessonlibInputError(
            "params_forward and params_backward must be weights of the same layer (same keys and shapes: "
            f"the backward layer is a copy of the forward one), got {shapes_fw} and {shapes_bw}."
        )


def _initial_states(
    kind: str, initial_state: Any, h0: Any, c0: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Keyword arguments ``(forward, backward)`` for the two layers' initial states."""
    n = 2 if kind == "LSTM" else 1
    if initial_state is not None:
        if h0 is not None or c0 is not None:
            raise LessonlibInputError("pass the initial states either as initial_state=[...] or as h0=/c0=, not both.")
        if not isinstance(initial_state, (list, tuple)) or len(initial_state) != 2 * n:
            want = "[h0_forward, c0_forward, h0_backward, c0_backward]" if n == 2 else "[h0_forward, h0_backward]"
            raise LessonlibInputError(f"initial_state must be a list {want}, as Keras takes it, got {describe(initial_state)}.")
        states = list(initial_state)
    else:
        states = []
        for name, pair in (("h0", h0), ("c0", c0))[:n]:
            if pair is None:
                states.append(None)
                continue
            if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                raise LessonlibInputError(f"{name} must be a pair ({name}_forward, {name}_backward), got {describe(pair)}.")
            states.append(pair)
        if kind != "LSTM" and c0 is not None:
            raise LessonlibInputError(f"c0 is the LSTM's cell state; a {kind} has only h0.")
        states = [None if p is None else p[d] for d in (0, 1) for p in states]
    names = ("h0", "c0")[:n]
    return dict(zip(names, states[:n], strict=True)), dict(zip(names, states[n:], strict=True))


def bidirectional(
    layer: Callable[..., Any],
    x: np.ndarray,
    params_forward: Mapping[str, np.ndarray],
    params_backward: Mapping[str, np.ndarray],
    *,
    merge_mode: str | None = "concat",
    return_sequences: bool = False,
    return_state: bool = False,
    mask: np.ndarray | None = None,
    initial_state: Sequence[np.ndarray] | None = None,
    h0: tuple[np.ndarray, np.ndarray] | None = None,
    c0: tuple[np.ndarray, np.ndarray] | None = None,
) -> Any:
    """Run ``layer`` (e.g. :func:`lessonlib.rnn.simple_rnn`) both ways over ``x`` and merge.

    Returns what ``keras.layers.Bidirectional(layer, merge_mode=...)`` returns: the merged
    output, then (with ``return_state``) the forward layer's final states followed by the
    backward layer's.

    ``mask`` ``(batch, time)`` is the padding mask, as Keras passes it to both layers: the
    backward layer reverses each whole row and mask, so it starts at each row's last real
    step. With ``return_sequences`` Keras makes masked steps output zeros in both
    directions. Initial states: ``initial_state=[h0_fw, h0_bw]`` (LSTM: ``[h0_fw, c0_fw,
    h0_bw, c0_bw]``) as Keras takes them, or the pairs ``h0=(h0_fw, h0_bw)``,
    ``c0=(c0_fw, c0_bw)``.
    """
    check_choice("merge_mode", merge_mode, MERGE_MODES)
    if not callable(layer):
        raise LessonlibInputError(f"layer must be a layer function such as lessonlib.rnn.simple_rnn, got {describe(layer)}.")
    check_bool("return_sequences", return_sequences)
    check_bool("return_state", return_state)
    _check_pair(params_forward, params_backward)
    kind = getattr(layer, "__name__", "")
    kind = "LSTM" if kind == "lstm" else kind
    extra: dict[str, Any] = {"mask": mask, "zero_output_for_mask": return_sequences} if mask is not None else {}
    states_fw, states_bw = ({}, {})
    if initial_state is not None or h0 is not None or c0 is not None:
        states_fw, states_bw = _initial_states(kind, initial_state, h0, c0)
    fw_out, *fw_states = layer(
        x, params_forward, return_sequences=return_sequences, return_state=True, **extra, **states_fw
    )
    bw_out, *bw_states = layer(
        x, params_backward, return_sequences=return_sequences, return_state=True, go_backwards=True,
        **extra, **states_bw,
    )
    if return_sequences:
        bw_out = bw_out[:, ::-1]  # computed last-to-first: put step t back at position t
    merged = merge(fw_out, bw_out, merge_mode)
    if not return_state:
        return merged
    outputs = merged if merge_mode is None else [merged]
    return [*outputs, *fw_states, *bw_states]


@dataclass(frozen=True)
class BidirectionalCache:
    """What :func:`bidirectional_backward` needs from :func:`bidirectional_forward`."""

    kind: str
    cache_forward: Any
    cache_backward: Any
    out_forward: np.ndarray  # (batch, time, units) or (batch, units), as merged
    out_backward: np.ndarray  # the backward layer's output, re-aligned in time
    merge_mode: str | None
    return_sequences: bool
    mask: np.ndarray | None  # (batch, time)


def bidirectional_forward(
    layer: Callable[..., Any],
    x: np.ndarray,
    params_forward: Mapping[str, np.ndarray],
    params_backward: Mapping[str, np.ndarray],
    *,
    merge_mode: str | None = "concat",
    return_sequences: bool = False,
    mask: np.ndarray | None = None,
    initial_state: Sequence[np.ndarray] | None = None,
    h0: tuple[np.ndarray, np.ndarray] | None = None,
    c0: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[Any, BidirectionalCache]:
    """:func:`bidirectional`'s output (without states) and the cache for :func:`bidirectional_backward`.

    ``layer`` is :func:`lessonlib.rnn.simple_rnn`, :func:`lessonlib.lstm.lstm` or
    :func:`lessonlib.gru.gru`; the other arguments as for :func:`bidirectional`.
    """
    kind, forward, _ = _layer_functions(layer)
    check_choice("merge_mode", merge_mode, MERGE_MODES)
    return_sequences = check_bool("return_sequences", return_sequences)
    _check_pair(params_forward, params_backward)
    x = check_sequence(x)
    mask = check_mask(mask, x.shape[0], x.shape[1])
    states_fw, states_bw = _initial_states(kind, initial_state, h0, c0)
    runs = []
    for params, states, backwards in ((params_forward, states_fw, False), (params_backward, states_bw, True)):
        *outputs, cache = forward(x, params, **states, mask=mask, go_backwards=backwards)
        runs.append((outputs[0], cache))  # outputs[0]: h_seq, in the order this layer read x
    (out_fw, cache_fw), (out_bw, cache_bw) = runs
    if return_sequences:
        out_bw = out_bw[:, ::-1]  # back in x's order
        if mask is not None:  # Bidirectional sets zero_output_for_mask when it returns sequences
            out_fw = np.where(mask[:, :, None], out_fw, 0).astype(out_fw.dtype, copy=False)
            out_bw = np.where(mask[:, :, None], out_bw, 0).astype(out_bw.dtype, copy=False)
    else:
        out_fw, out_bw = out_fw[:, -1], out_bw[:, -1]
    cache = BidirectionalCache(kind, cache_fw, cache_bw, out_fw, out_bw, merge_mode, return_sequences, mask)
    return merge(out_fw, out_bw, merge_mode), cache


def merge_backward(d_output: Any, out_forward: np.ndarray, out_backward: np.ndarray, mode: str | None) -> tuple[np.ndarray, np.ndarray]:
    """dLoss/d(each direction's output) from dLoss/d(merged output): the inverse of :func:`merge`."""
    check_choice("merge_mode", mode, MERGE_MODES)
    if mode is None:
        if not isinstance(d_output, (list, tuple)) or len(d_output) != 2:
            raise LessonlibInputError(
                f"with merge_mode=None the output is a pair, so d_output must be a pair [d_forward, d_backward], got {describe(d_output)}."
            )
        d_fw, d_bw = (as_float_array(f"d_output[{i}]", d, finite=True) for i, d in enumerate(d_output))
        check_shape("d_output[0]", d_fw, out_forward.shape, "like the forward output")
        check_shape("d_output[1]", d_bw, out_backward.shape, "like the backward output")
        return d_fw, d_bw
    d = as_float_array("d_output", d_output, finite=True)
    units = out_forward.shape[-1]
    expected = (*out_forward.shape[:-1], 2 * units if mode == "concat" else units)
    check_shape("d_output", d, expected, "like the merged output")
    if mode == "concat":
        return d[..., :units], d[..., units:]
    if mode == "sum":
        return d, d
    if mode == "mul":
        return d * out_backward, d * out_forward
    return d / 2, d / 2  # ave


def bidirectional_backward(
    d_output: Any, cache: BidirectionalCache
) -> tuple[np.ndarray, tuple[dict[str, np.ndarray], dict[str, np.ndarray]], tuple[Any, Any]]:
    """The backward pass of :func:`bidirectional_forward`.

    ``d_output`` is dLoss/d(merged output), shaped like it (a pair for ``merge_mode=None``).
    Returns ``(dx, (grads_forward, grads_backward), (d_states_forward, d_states_backward))``:
    ``dx`` ``(batch, time, features)`` sums both directions; the state gradients are ``dh0``
    (and ``(dh0, dc0)`` for the LSTM) of each direction.
    """
    if not isinstance(cache, BidirectionalCache):
        raise LessonlibInputError(f"cache must be the BidirectionalCache that bidirectional_forward returned, got {describe(cache)}.")
    from lessonlib import gru, lstm, rnn

    backward = {"SimpleRNN": rnn.rnn_backward, "LSTM": lstm.lstm_backward, "GRU": gru.gru_backward}[cache.kind]
    d_fw, d_bw = merge_backward(d_output, cache.out_forward, cache.out_backward, cache.merge_mode)
    time = cache.cache_forward.h_seq.shape[1]
    if cache.return_sequences:
        if cache.mask is not None:  # zero outputs at masked steps: no gradient from there
            d_fw, d_bw = d_fw * cache.mask[:, :, None], d_bw * cache.mask[:, :, None]
        d_bw = d_bw[:, ::-1]  # into the order the backward layer read x
    results = []
    for d, c in ((d_fw, cache.cache_forward), (d_bw, cache.cache_backward)):
        dx, grads, *d_states = backward(sequence_gradient(d, time, cache.return_sequences), c)
        results.append((dx, grads, d_states[0] if len(d_states) == 1 else tuple(d_states)))
    (dx_fw, g_fw, s_fw), (dx_bw, g_bw, s_bw) = results
    return dx_fw + dx_bw, (g_fw, g_bw), (s_fw, s_bw)  # each dx is already in x's order


def _gate_dropout_masks(name: str, mask: object, batch: int, size: int, axis: str, gates: int) -> np.ndarray | None:
    """A dropout mask as ``(gates, batch, size)``, one per gate block, or ``None``.

    Keras draws one mask ``(batch, size)`` shared by the blocks when only ``dropout`` is
    set, and one per block when ``recurrent_dropout`` is set too (the LSTM's 4, the GRU's
    3); both forms are accepted (a shared mask is repeated).
    """
    if mask is None:
        return None
    mask = as_float_array(name, mask, finite=True)
    if mask.ndim == 2:
        check_shape(name, mask, (batch, size), f"(batch, {axis})")
        return np.broadcast_to(mask, (gates, batch, size))
    check_shape(name, mask, (gates, batch, size), f"(batch, {axis}) or, one per gate, ({gates}, batch, {axis})")
    return mask


def _blockwise(a: np.ndarray, masks: np.ndarray | None, W: np.ndarray) -> np.ndarray:
    """``a @ W`` for ``a`` ``(..., batch, n)`` (one step, or every step time-major), where gate
    block k of ``W`` (one per mask) sees ``a * masks[k]`` (its dropout mask ``(batch, n)``), if any."""
    if masks is None:
        return (a.reshape(-1, a.shape[-1]) @ W).reshape(*a.shape[:-1], W.shape[-1])  # one matmul over all rows
    return np.concatenate([(a * m) @ W_k for m, W_k in zip(masks, np.split(W, len(masks), axis=-1), strict=True)], axis=-1)


def _blockwise_transposed(dz: np.ndarray, masks: np.ndarray | None, W: np.ndarray) -> np.ndarray:
    """dLoss/da for ``z = _blockwise(a, masks, W)``: ``dz W^T``, block by block through the masks."""
    if masks is None:
        return (dz.reshape(-1, dz.shape[-1]) @ W.T).reshape(*dz.shape[:-1], W.shape[0])
    parts = zip(np.split(dz, len(masks), axis=-1), np.split(W, len(masks), axis=-1), masks, strict=True)
    return sum((dz_k @ W_k.T) * m for dz_k, W_k, m in parts)


def _weight_gradient(a: np.ndarray, masks: np.ndarray | None, dz: np.ndarray) -> np.ndarray:
    """dLoss/dW for ``z = _blockwise(a, masks, W)``, summed over batch and time: ``a^T dz`` per block."""
    n = a.shape[-1]
    if masks is None:
        return a.reshape(-1, n).T @ dz.reshape(-1, dz.shape[-1])
    blocks = zip(masks, np.split(dz, len(masks), axis=-1), strict=True)
    return np.concatenate([(a * m).reshape(-1, n).T @ dz_k.reshape(-1, dz_k.shape[-1]) for m, dz_k in blocks], axis=-1)


def _time_major(a: np.ndarray) -> np.ndarray:
    """``(batch, time, n) -> (time, batch, n)``, contiguous, so that the loops read and write
    every step as one contiguous ``(batch, n)`` block."""
    return np.ascontiguousarray(a.transpose(1, 0, 2))


def check_gate_params(
    params: Any, gates: int, features: int | None = None, x_name: str = "x"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(W_x, W_h, b)`` from a dict ``{"W_x", "W_h", "b"}`` of ``gates`` blocks side by side.

    Shapes are checked against each other (and ``features``): ``W_h (units, gates * units)``,
    ``W_x (features, gates * units)``, ``b (gates * units,)``. The LSTM has 4 blocks.
    """
    if not isinstance(params, Mapping) or set(params) != {"W_x", "W_h", "b"}:
        got = sorted(params) if isinstance(params, Mapping) else type(params).__name__
        raise LessonlibInputError(f"params must be a dict with keys ['W_h', 'W_x', 'b'], got {got}.")
    W_h = as_float_array("W_h", params["W_h"], ndim=2, finite=True)
    units = W_h.shape[0]
    blocks = f"{gates} * units" if gates > 1 else "units"
    if units == 0:
        raise LessonlibInputError(f"W_h must have shape (units, {blocks}) with units >= 1, got {describe(W_h)}.")
    check_shape("W_h", W_h, (units, gates * units), f"(units, {blocks})")
    W_x = as_float_array("W_x", params["W_x"], ndim=2, finite=True)
    check_shape("W_x", W_x, (None, gates * units), f"(features, {blocks})")
    check_features(W_x, features, blocks, x_name)
    b = as_float_array("b", params["b"], finite=True)
    check_shape("b", b, (gates * units,), f"({blocks},)")
    return W_x, W_h, b


def check_features(W_x: np.ndarray, features: int | None, blocks: str = "units", x_name: str = "x") -> None:
    """Blame the input, not the weights, when ``x`` has another feature size than ``W_x`` expects."""
    if features is not None and W_x.shape[0] != features:
        axes = "(batch, time, " if x_name == "x" else "(batch, "
        raise LessonlibInputError(
            f"{x_name} has {features} features (its last axis), but W_x has shape {W_x.shape} = (features, {blocks}), "
            f"made for {W_x.shape[0]} features: {x_name} must have shape {axes}{W_x.shape[0]})."
        )


def check_step(
    x_t: Any, h_prev: Any, params: Any, gates: int, state_names: Sequence[str] = ("h_prev",)
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Inputs of one cell step: ``x_t`` ``(batch, features)``, ``h_prev`` ``(batch, units)``
    and the weights ``(W_x, W_h, b)``, checked against each other (what the layers check
    once before their loops). A 1-D ``x_t`` is refused: it would silently give ``(units,)``."""
    x_t = as_float_array("x_t", x_t, finite=True)
    if x_t.ndim != 2:
        raise LessonlibInputError(
            f"x_t must have shape (batch, features), got {describe(x_t)}"
            + (": one example needs the batch axis too, x_t[None]." if x_t.ndim == 1 else ".")
        )
    if 0 in x_t.shape:
        raise LessonlibInputError(f"x_t must have at least one example and one feature, got {describe(x_t)}.")
    W_x, W_h, b = check_gate_params(params, gates, x_t.shape[1], "x_t")
    units = W_h.shape[0]
    h_prev = as_float_array(state_names[0], h_prev, finite=True)
    check_shape(state_names[0], h_prev, (x_t.shape[0], units), "(batch, units)")
    return x_t, h_prev, (W_x, W_h, b)
