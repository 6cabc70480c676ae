"""Long-range memory, measured: SimpleRNN vs LSTM vs GRU over several sequence lengths.

The task is :func:`lessonlib.data.synthetic.recall_marked`: a sequence of random symbols, one
of them marked in the first tenth of the sequence. The score is the model's answer at the
*last* step, so it must hold the marked symbol through at least ``0.9 * T`` steps of
distractors; chance is ``1 / n_symbols``. In training the model answers at every step after
the first tenth (``return_sequences=True``, the same target at each of those steps): short
lags teach it to store the symbol, longer ones to keep it, which makes learning far quicker
than a single answer at the end, for every kind of layer alike.

For speed, every (length, model) run is a separate branch of *one* Keras model: each branch
has its own recurrent layer, its own softmax head and its own loss, and the loss trained is
their sum. The branches share no weights, and Adam updates each weight from its own gradient
history, so each branch trains exactly as it would alone (same batches, same optimiser
settings); one model means one compiled training step for all runs instead of one per run.

:func:`run` is called by the tests (a tiny configuration) and by the command line:
``python -m lessonlib.experiments.long_range [book|full] [--json PATH]`` runs a preset and, with
``--json``, stores the accuracies, the curves and the trained LSTMs' parameters. Chapter 4
reads the ``book`` preset's stored results with :func:`load` (training the nine networks
takes minutes)::

    python -m lessonlib.experiments.long_range book --json book/data/long_range.json
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from lessonlib._validate import LessonlibInputError, check_positive_int
from lessonlib.data.synthetic import recall_marked

KINDS = ("SimpleRNN", "LSTM", "GRU")


@dataclass(frozen=True)
class Config:
    """Everything that decides a run; the presets below are the ones the book and the README use."""

    lengths: tuple[int, ...] = (10, 30, 100)
    kinds: tuple[str, ...] = KINDS
    units: int = 32
    n_symbols: int = 4
    n_train: int = 4000
    n_val: int = 1000
    epochs: int = 6
    batch_size: int = 64
    learning_rate: float = 1e-2
    clipnorm: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("units", "n_symbols", "n_train", "n_val", "epochs", "batch_size"):
            check_positive_int(name, getattr(self, name))
        if not self.lengths or any(isinstance(t, bool) or not isinstance(t, int) or t < 2 for t in self.lengths):
            raise LessonlibInputError(f"lengths must be integers of at least 2, got {self.lengths!r}.")
        unknown = [k for k in self.kinds if k not in KINDS]
        if not self.kinds or unknown:
            raise LessonlibInputError(f"kinds must be chosen from {KINDS}, got {self.kinds!r}.")


PRESETS = {
    "tiny": Config(lengths=(5, 12), units=8, n_train=256, n_val=128, epochs=2, batch_size=64),
    "book": Config(),
    "full": Config(lengths=(10, 30, 100, 200), n_train=10_000, epochs=20),
}
"""``tiny`` for the tests, ``book`` for chapter 4 (stored in ``book/data/long_range.json``), ``full`` for a longer run."""


@dataclass
class Result:
    """Validation accuracy per model and length, the per-epoch curves, and the trained model."""

    config: Config
    accuracy: dict[str, dict[int, float]]  # kind -> length -> validation accuracy at the last step
    history: dict[str, dict[str, list[float]]]  # "LSTM_T30" -> {"loss": [...], "val_loss": [...], ...}
    seconds: float
    model: Any = field(default=None, repr=False)  # the trained keras.Model (branches named kind_T<length>)
    lstm_params: dict[int, dict[str, np.ndarray]] = field(default_factory=dict, repr=False)  # of a stored result
    command: str = ""  # the command that made a stored result
    environment: dict[str, Any] = field(default_factory=dict)  # versions and date of a stored result

    @property
    def chance(self) -> float:
        return 1 / self.config.n_symbols

    def rows(self) -> list[list[Any]]:
        """``[length, accuracy of each kind...]`` per length."""
        return [[t, *(round(self.accuracy[k][t], 3) for k in self.config.kinds)] for t in self.config.lengths]

    def to_markdown(self) -> str:
        header = ["length", *self.config.kinds]
        lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
        lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in self.rows()]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready): config, accuracy, history, seconds, chance, and the trained
        LSTMs' parameters per length (``lstm_params``: book names, nested lists), if the model is there."""
        payload = {
            "config": asdict(self.config),
            "accuracy": {k: {str(t): a for t, a in v.items()} for k, v in self.accuracy.items()},
            "history": self.history,
            "seconds": self.seconds,
            "chance": self.chance,
        }
        if self.model is not None and "LSTM" in self.config.kinds:
            from lessonlib.keras_weights import params_from_keras

            payload["lstm_params"] = {
                str(t): {name: np.asarray(v).tolist() for name, v in params_from_keras(self.branch("LSTM", t)).items()}
                for t in self.config.lengths
            }
        return payload

    def branch(self, kind: str, length: int) -> Any:
        """The trained recurrent layer of one branch (e.g. to read an LSTM's gates)."""
        return self.model.get_layer(f"{kind}_T{length}_rnn")


def branch_name(kind: str, length: int) -> str:
    return f"{kind}_T{length}"


def make_data(config: Config, length: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(x_train, y_train, x_val, y_val)`` for one length, from the config's seed; ``y (n,)``."""
    rng = np.random.default_rng([config.seed, length])
    x, y = recall_marked(config.n_train + config.n_val, length, config.n_symbols, rng)
    n = config.n_train
    return x[:n], y[:n], x[n:], y[n:]


def step_targets(y: np.ndarray, length: int, *, final_only: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per-step targets ``(n, length)`` (the marked symbol at every step) and their weights:
    1 at every step after the first tenth (training), or only at the last step (scoring)."""
    weights = np.zeros((len(y), length), dtype=np.float32)
    if final_only:
        weights[:, -1] = 1.0
    else:
        weights[:, max(1, length // 10):] = 1.0  # the mark is always within the first tenth
    return np.repeat(y[:, None], length, axis=1), weights


def build_model(config: Config) -> Any:
    """One Keras model: an input per length, a recurrent layer and a softmax head per (kind, length)."""
    import keras

    inputs, outputs = [], []
    for length in config.lengths:
        x = keras.Input((length, config.n_symbols + 1), name=f"x_T{length}")
        inputs.append(x)
        for kind in config.kinds:
            name = branch_name(kind, length)
            h = getattr(keras.layers, kind)(config.units, return_sequences=True, name=f"{name}_rnn")(x)
            outputs.append(keras.layers.Dense(config.n_symbols, activation="softmax", name=name)(h))  # every step
    model = keras.Model(inputs, outputs)
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate, clipnorm=config.clipnorm),  # clipnorm: per variable
        loss={name: "sparse_categorical_crossentropy" for name in model.output_names},
        weighted_metrics={name: ["accuracy"] for name in model.output_names},  # over the weighted steps
    )
    return model


class _Progress:
    """A Keras callback printing one compact line per epoch: validation accuracy of every run."""

    def __new__(cls, config: Config) -> Any:  # built lazily so that importing this module needs no keras
        import keras

        class Progress(keras.callbacks.Callback):
            def __init__(self) -> None:
                super().__init__()
                self.start = time.perf_counter()

            def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
                logs = logs or {}
                parts = []
                for kind in config.kinds:
                    accs = [logs.get(f"val_{branch_name(kind, t)}_accuracy", float("nan")) for t in config.lengths]
                    parts.append(f"{kind} " + "/".join(f"{a:.2f}" for a in accs))
                print(f"epoch {epoch + 1}/{config.epochs} ({time.perf_counter() - self.start:.0f} s) "
                      f"val accuracy at T = {'/'.join(map(str, config.lengths))}: " + ", ".join(parts), flush=True)

        return Progress()


def run(config: Config | str = "book", *, verbose: bool = True, **overrides: Any) -> Result:
    """Train every (kind, length) run of ``config`` (a :class:`Config` or a preset name) and
    return the validation accuracies; ``overrides`` replace config fields (e.g. ``epochs=3``)."""
    import keras

    if isinstance(config, str):
        if config not in PRESETS:
            raise LessonlibInputError(f"no preset {config!r}; presets are {sorted(PRESETS)}.")
        config = PRESETS[config]
    config = replace(config, **overrides) if overrides else config
    keras.utils.set_random_seed(config.seed)
    data = {t: make_data(config, t) for t in config.lengths}
    model = build_model(config)
    names = model.output_names

    def targets(part: int, final_only: bool) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Targets and weights in the order of the model's outputs."""
        lengths = [int(name.rsplit("T", 1)[1]) for name in names]
        pairs = [step_targets(data[t][part], t, final_only=final_only) for t in lengths]
        return [p[0] for p in pairs], [p[1] for p in pairs]

    x_train = {f"x_T{t}": data[t][0] for t in config.lengths}
    x_val = {f"x_T{t}": data[t][2] for t in config.lengths}
    y_train, w_train = targets(1, final_only=False)
    y_val, w_val = targets(3, final_only=True)  # validation scores the last step only
    start = time.perf_counter()
    fit = model.fit(
        x_train, y_train, sample_weight=w_train, validation_data=(x_val, y_val, w_val), epochs=config.epochs,
        batch_size=config.batch_size, verbose=0, callbacks=[_Progress(config)] if verbose else [],
    )
    seconds = time.perf_counter() - start
    history = {
        name: {f"{prefix}{metric}": [float(v) for v in fit.history[f"{prefix}{name}_{metric}"]]
               for prefix in ("", "val_") for metric in ("loss", "accuracy")}
        for name in names
    }
    accuracy = {kind: {t: history[branch_name(kind, t)]["val_accuracy"][-1] for t in config.lengths}
                for kind in config.kinds}
    return Result(config, accuracy, history, seconds, model)


def load(path: Any) -> Result:
    """A :class:`Result` from a JSON file written by ``main(["book", "--json", path])`` (no model;
    the trained LSTMs' parameters are in ``result.lstm_params``)."""
    import json
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        raise LessonlibInputError(
            f"no results file at {path}; write one with: python -m lessonlib.experiments.long_range book --json {path}"
        )
    payload = json.loads(path.read_text(encoding="utf-8"))
    missing = {"config", "accuracy", "history", "seconds"} - set(payload)
    if missing:
        raise LessonlibInputError(f"{path} is not a long-range results file: it lacks {sorted(missing)}.")
    config = Config(**{k: tuple(v) if isinstance(v, list) else v for k, v in payload["config"].items()})
    accuracy = {k: {int(t): a for t, a in v.items()} for k, v in payload["accuracy"].items()}
    lstm_params = {int(t): {name: np.asarray(v, dtype=np.float32) for name, v in p.items()}
                   for t, p in payload.get("lstm_params", {}).items()}
    return Result(config, accuracy, payload["history"], payload["seconds"], lstm_params=lstm_params,
                  command=payload.get("command", ""), environment=payload.get("environment", {}))


def learned_gates(result: Result, length: int, example: int = 0) -> dict[str, Any]:
    """Run the trained LSTM of ``length`` with :func:`lessonlib.lstm.lstm_forward` on one
    validation sequence: its mark ``(T,)``, gates ``{"i", "f", "g", "o"}`` ``(T, units)``,
    cell states ``(T, units)``, and the largest difference from the Keras layer's output."""
    import keras

    from lessonlib import lstm
    from lessonlib.keras_weights import params_from_keras

    if "LSTM" not in result.config.kinds or length not in result.config.lengths:
        raise LessonlibInputError(f"the result has no LSTM run of length {length}.")
    if result.model is not None:
        layer = result.branch("LSTM", length)
        params = params_from_keras(layer)
    else:  # a stored result: rebuild the Keras layer from the stored parameters
        params = result.lstm_params.get(length)
        if params is None:
            raise LessonlibInputError(f"the stored result has no LSTM parameters for length {length}.")
        layer = keras.layers.LSTM(result.config.units, return_sequences=True)
        layer.build((None, length, result.config.n_symbols + 1))
        from lessonlib.keras_weights import params_to_keras

        params_to_keras(layer, params)
    _, _, x_val, _ = make_data(result.config, length)
    x = x_val[example : example + 1]  # (1, T, n_symbols + 1)
    h_seq, c_seq, cache = lstm.lstm_forward(x, params)
    keras_h = keras.ops.convert_to_numpy(layer(x))[:, -1]  # (1, units): the last hidden state
    gates = dict(zip(lstm.GATES, np.split(cache.gates[0], 4, axis=-1), strict=True))
    return {
        "mark": x[0, :, -1],
        "gates": gates,
        "c_seq": c_seq[0],
        "max_abs_diff": float(np.max(np.abs(h_seq[0, -1] - keras_h[0]))),
    }


def main(argv: Sequence[str] | None = None) -> int:
    import argparse
    import json

    parser = argparse.ArgumentParser(description="SimpleRNN vs LSTM vs GRU on recall-the-marked-symbol.")
    parser.add_argument("preset", nargs="?", default="book", choices=sorted(PRESETS))
    parser.add_argument("--json", help="also write the result (plain data) to this file")
    args = parser.parse_args(argv)
    result = run(args.preset)
    print(result.to_markdown())
    print(f"{result.seconds:.0f} s of training; chance = {result.chance:.2f}")
    if args.json:
        import platform
        import sys

        import keras

        payload = result.to_dict()
        arguments = sys.argv[1:] if argv is None else list(argv)
        payload["command"] = " ".join(["python -m lessonlib.experiments.long_range", *arguments])
        payload["environment"] = {"keras": keras.__version__, "numpy": np.__version__,
                                  "python": platform.python_version(), "date": time.strftime("%Y-%m-%d")}
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(payload, out)
            out.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
