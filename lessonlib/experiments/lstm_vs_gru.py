"""LSTM vs GRU, measured side by side on the same tasks (chapter 5).

For every task, cell (``LSTM``, ``GRU``), regularisation variant and seed, one small Keras
model (the recurrent layer, then a dense head) is trained with early stopping on the
validation loss, and this module records its parameter count, training seconds per epoch,
epochs run and test score. The runs are interleaved (for each seed: every task, cell and
variant) so that both cells see the same machine load.

Variants: ``none``; ``dropout`` (``dropout=0.2``: a mask on the inputs ``x_t``) and
``recurrent_dropout`` (``recurrent_dropout=0.2``: a mask on ``h_prev`` inside the
recurrence; Keras then uses its slower per-gate implementation, and on a GPU loses cuDNN).

Tasks (all offline, generated from a seed by :mod:`lessonlib.data.synthetic`):

* ``adding``: the adding problem; regression, score = test mean squared error (always
  predicting 1 scores 1/6 ≈ 0.167), lower is better;
* ``recall``: recall the first of ``time`` symbols; classification, score = test accuracy
  (chance = 1 / n_symbols), higher is better.

Initialisation controls. Keras starts the two cells differently: the LSTM's forget gate
bias is 1 (``unit_forget_bias=True``, so ``f`` starts near sigmoid(1) = 0.73), the GRU's
update gate bias is 0 (``z`` starts near 0.5). Two more cells separate that from the
architecture: ``GRU_zbias1`` (the GRU with its update-gate bias set to 1, so ``z`` starts near
0.73 like the LSTM's ``f``) and ``LSTM_nofb`` (``unit_forget_bias=False``: ``f`` starts near 0.5
like the GRU's ``z``).

Run the full grid and write it to JSON (the book shows the stored file and re-runs a
small part live)::

    python -m lessonlib.experiments.lstm_vs_gru --out book/data/lstm_vs_gru.json

and the initialisation controls, on the same tasks, seeds and settings::

    python -m lessonlib.experiments.lstm_vs_gru --cells GRU_zbias1 LSTM_nofb --variants none \
        --out book/data/lstm_vs_gru_init.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time as _time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lessonlib._validate import LessonlibInputError, check_positive_int
from lessonlib.data.synthetic import ADDING_BASELINE_MSE, adding_problem, recall_first

CELLS = ("LSTM", "GRU")
"""The two cells of the main grid, with Keras' default initialisation."""
CONTROL_CELLS = ("GRU_zbias1", "LSTM_nofb")
"""The same two cells with the gate that keeps the past started like the other cell's (see above)."""
ALL_CELLS = CELLS + CONTROL_CELLS
SOLVED = {"adding": 0.01, "recall": 0.9}
"""A run *solved* its task if its test MSE is below 0.01 (adding: 6% of the baseline's
1/6) or its test accuracy above 0.9 (recall)."""
VARIANTS = {
    "none": {},
    "dropout": {"dropout": 0.2},
    "recurrent_dropout": {"recurrent_dropout": 0.2},
}


@dataclass(frozen=True)
class Task:
    """A data set (train / validation / test) and how its score is read."""

    name: str
    x: dict[str, np.ndarray]
    y: dict[str, np.ndarray]
    kind: str  # "regression" or "classification"
    n_classes: int = 0
    baseline: float = 0.0  # score of a model that learned nothing
    description: str = ""

    @property
    def score_name(self) -> str:
        return "test MSE" if self.kind == "regression" else "test accuracy"

    @property
    def higher_is_better(self) -> bool:
        return self.kind == "classification"


def _split(x: np.ndarray, y: np.ndarray, n_train: int, n_val: int) -> tuple[dict, dict]:
    parts = {"train": slice(0, n_train), "val": slice(n_train, n_train + n_val), "test": slice(n_train + n_val, None)}
    return {k: x[s] for k, s in parts.items()}, {k: y[s] for k, s in parts.items()}


def make_task(name: str, *, time: int, n_train: int = 2000, n_val: int = 500, n_test: int = 1000,
              n_symbols: int = 8, seed: int = 0) -> Task:
    """The task ``name`` (``"adding"`` or ``"recall"``) with sequences of length ``time``."""
    n = check_positive_int("n_train", n_train) + check_positive_int("n_val", n_val) + check_positive_int("n_test", n_test)
    rng = np.random.default_rng(seed)
    if name == "adding":
        x, y = adding_problem(n, time, rng)
        xs, ys = _split(x, y, n_train, n_val)
        return Task(name, xs, ys, "regression", baseline=ADDING_BASELINE_MSE,
                    description=f"adding problem, length {time}: sum of the two marked numbers")
    if name == "recall":
        ids, y = recall_first(n, time, n_symbols, rng)
        x = np.eye(n_symbols, dtype=np.float32)[ids]  # (n, time, n_symbols) one-hot
        xs, ys = _split(x, y, n_train, n_val)
        return Task(name, xs, ys, "classification", n_classes=n_symbols, baseline=1 / n_symbols,
                    description=f"recall the first of {time} symbols ({n_symbols} kinds)")
    raise LessonlibInputError(f"task must be 'adding' or 'recall', got {name!r}.")


def build_model(cell: str, task: Task, units: int, variant: str = "none") -> Any:
    """``Input -> LSTM/GRU(units, **variant) -> Dense`` for ``task``, compiled with Adam."""
    import keras

    if cell not in ALL_CELLS:
        raise LessonlibInputError(f"cell must be one of {ALL_CELLS}, got {cell!r}.")
    if variant not in VARIANTS:
        raise LessonlibInputError(f"variant must be one of {sorted(VARIANTS)}, got {variant!r}.")
    layer = make_layer(cell, units, **VARIANTS[variant])
    inputs = keras.Input(shape=task.x["train"].shape[1:])
    h = layer(inputs)
    if task.kind == "regression":
        model = keras.Model(inputs, keras.layers.Dense(1)(h))
        model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    else:
        model = keras.Model(inputs, keras.layers.Dense(task.n_classes, activation="softmax")(h))
        model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
    return model


def update_gate_bias(value: float) -> Any:
    """A Keras bias initializer for a GRU: ``value`` in the update-gate (z) block, 0 elsewhere.

    Keras' GRU bias is ``(2, 3 * units)`` with ``reset_after=True`` (input-side and recurrent-side
    rows, added together for the gates) or ``(3 * units,)``; its blocks are z, r, h. Only the
    input-side row gets ``value``, so ``z`` starts near ``sigmoid(value)``.
    """
    import keras

    def initializer(shape: tuple[int, ...], dtype: Any = None) -> Any:
        bias = np.zeros(shape, dtype="float32")  # (2, 3 * units) or (3 * units,)
        units = shape[-1] // 3
        if len(shape) == 2:
            bias[0, :units] = value  # input-side row, z block
        else:
            bias[:units] = value
        return keras.ops.convert_to_tensor(bias, dtype=dtype)

    return initializer


def make_layer(cell: str, units: int, **options: Any) -> Any:
    """The Keras recurrent layer of ``cell`` (one of :data:`ALL_CELLS`), named ``cell.lower()``."""
    import keras

    if cell not in ALL_CELLS:
        raise LessonlibInputError(f"cell must be one of {ALL_CELLS}, got {cell!r}.")
    if cell == "LSTM":
        return keras.layers.LSTM(units, **options, name="lstm")
    if cell == "LSTM_nofb":
        return keras.layers.LSTM(units, unit_forget_bias=False, **options, name="lstm_nofb")
    if cell == "GRU":
        return keras.layers.GRU(units, **options, name="gru")
    return keras.layers.GRU(units, bias_initializer=update_gate_bias(1.0), **options, name="gru_zbias1")


@dataclass
class RunResult:
    """One trained model: what the comparison table is made of."""

    task: str
    cell: str
    variant: str
    seed: int
    params: int  # trainable parameters of the recurrent layer alone
    model_params: int  # of the whole model (with the dense head)
    epochs: int  # epochs run before early stopping
    best_epoch: int  # epoch whose weights were kept (1-based)
    seconds_per_epoch: float  # median over the epochs after the first (which traces the graph)
    first_epoch_seconds: float
    score: float  # test MSE (adding) or test accuracy (recall)
    history: dict[str, list[float]] = field(default_factory=dict)


def train_one(task: Task, cell: str, variant: str, seed: int, *, units: int = 32, epochs: int = 40,
              patience: int = 8, batch_size: int = 64, verbose: int = 0) -> RunResult:
    """Train one model with early stopping (best validation loss restored) and score it on the test set."""
    import keras

    keras.utils.set_random_seed(seed)
    model = build_model(cell, task, units, variant)
    epoch_times: list[float] = []

    class _Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.start = _time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            epoch_times.append(_time.perf_counter() - self.start)

    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
    history = model.fit(task.x["train"], task.y["train"], validation_data=(task.x["val"], task.y["val"]),
                        epochs=epochs, batch_size=batch_size, callbacks=[_Clock(), stop], verbose=verbose)
    curves = {k: [float(v) for v in vs] for k, vs in history.history.items()}
    evaluated = model.evaluate(task.x["test"], task.y["test"], verbose=0, return_dict=True)
    score = evaluated["loss"] if task.kind == "regression" else evaluated["accuracy"]
    best = int(np.argmin(curves["val_loss"])) + 1
    later = epoch_times[1:] or epoch_times
    return RunResult(
        task=task.name, cell=cell, variant=variant, seed=seed,
        params=model.get_layer(cell.lower()).count_params(), model_params=model.count_params(),
        epochs=len(epoch_times), best_epoch=best, seconds_per_epoch=statistics.median(later),
        first_epoch_seconds=epoch_times[0], score=float(score), history=curves,
    )


@dataclass(frozen=True)
class Config:
    """Everything that decides the numbers (stored with the results)."""

    tasks: tuple[str, ...] = ("adding", "recall")
    time: int = 40
    cells: tuple[str, ...] = CELLS
    variants: tuple[str, ...] = tuple(VARIANTS)
    seeds: tuple[int, ...] = (0, 1, 2)
    units: int = 32
    epochs: int = 40
    patience: int = 8
    batch_size: int = 64
    n_train: int = 2000
    n_val: int = 500
    n_test: int = 1000


def run(config: Config = Config(), *, progress: Callable[[RunResult], None] | None = None) -> list[RunResult]:
    """Every (task, cell, variant, seed) of ``config``, interleaved; calls ``progress`` after each."""
    tasks = {name: make_task(name, time=config.time, n_train=config.n_train, n_val=config.n_val,
                             n_test=config.n_test) for name in config.tasks}
    results = []
    for seed in config.seeds:
        for name in config.tasks:
            for variant in config.variants:
                for cell in config.cells:
                    result = train_one(tasks[name], cell, variant, seed, units=config.units, epochs=config.epochs,
                                       patience=config.patience, batch_size=config.batch_size)
                    results.append(result)
                    if progress is not None:
                        progress(result)
    return results


def solved(task: str, score: float) -> bool:
    """Whether a run with this test ``score`` solved ``task`` (see :data:`SOLVED`)."""
    if task not in SOLVED:
        raise LessonlibInputError(f"task must be one of {sorted(SOLVED)}, got {task!r}.")
    return score < SOLVED[task] if task == "adding" else score > SOLVED[task]


def summarize(results: Sequence[RunResult | dict]) -> list[dict[str, Any]]:
    """One row per (task, variant, cell): parameters, median seconds per epoch, mean epochs,
    how many seeds solved the task, and the score's mean, standard deviation, min and max
    over the seeds."""
    rows: dict[tuple[str, str, str], list[dict]] = {}
    for r in results:
        r = asdict(r) if isinstance(r, RunResult) else r
        rows.setdefault((r["task"], r["variant"], r["cell"]), []).append(r)
    table = []
    for (task, variant, cell), runs in rows.items():
        scores = [r["score"] for r in runs]
        table.append({
            "task": task, "variant": variant, "cell": cell, "seeds": len(runs), "params": runs[0]["params"],
            "seconds_per_epoch": statistics.median(r["seconds_per_epoch"] for r in runs),
            "epochs": statistics.mean(r["epochs"] for r in runs),
            "solved": sum(solved(task, score) for score in scores),
            "score_mean": statistics.mean(scores),
            "score_std": statistics.stdev(scores) if len(scores) > 1 else 0.0,
            "score_min": min(scores), "score_max": max(scores),
        })
    return table


def format_table(table: Sequence[dict[str, Any]]) -> str:
    """The summary as a fixed-width text table."""
    head = (f"{'task':<8} {'variant':<18} {'cell':<5} {'params':>7} {'s/epoch':>8} {'epochs':>6} {'solved':>6}  "
            "score mean ± std [min, max]")
    lines = [head, "-" * len(head)]
    for row in table:
        lines.append(
            f"{row['task']:<8} {row['variant']:<18} {row['cell']:<5} {row['params']:>7,} {row['seconds_per_epoch']:>8.2f} "
            f"{row['epochs']:>6.1f} {str(row['solved']) + '/' + str(row['seeds']):>6}  "
            f"{row['score_mean']:.3g} ± {row['score_std']:.2g} [{row['score_min']:.3g}, {row['score_max']:.3g}]"
        )
    return "\n".join(lines)


def environment() -> dict[str, Any]:
    """Versions and machine facts stored with the results."""
    import keras
    import tensorflow as tf

    import lessonlib

    return {
        "lessonlib": lessonlib.__version__, "keras": keras.__version__, "tensorflow": tf.__version__,
        "numpy": np.__version__, "python": platform.python_version(), "cpu_count": os.cpu_count(),
        "machine": platform.machine(), "date": _time.strftime("%Y-%m-%d"),
    }


def save(path: Path, config: Config, results: Sequence[RunResult], elapsed: float, command: str | None = None) -> None:
    """Write ``config``, the results and the environment to ``path``; ``command`` is the command
    line that made them (by default the one for the full grid)."""
    payload = {
        "command": command or "python -m lessonlib.experiments.lstm_vs_gru --out " + str(path),
        "config": asdict(config), "environment": environment(), "elapsed_seconds": elapsed,
        "results": [asdict(r) for r in results],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")


def load(path: Path | str) -> dict[str, Any]:
    """A results file written by :func:`save` (``config``, ``environment``, ``results``, ...)."""
    path = Path(path)
    if not path.is_file():
        raise LessonlibInputError(f"no results file at {path}; write one with: python -m lessonlib.experiments.lstm_vs_gru --out {path}")
    payload = json.loads(path.read_text(encoding="utf-8"))
    missing = {"config", "environment", "results"} - set(payload)
    if missing:
        raise LessonlibInputError(f"{path} is not an LSTM-vs-GRU results file: it lacks {sorted(missing)}.")
    return payload


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lessonlib.experiments.lstm_vs_gru", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=None, help="write every run and the config to this JSON file")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(Config.seeds))
    parser.add_argument("--tasks", nargs="+", default=list(Config.tasks), choices=["adding", "recall"])
    parser.add_argument("--variants", nargs="+", default=list(Config.variants), choices=list(VARIANTS))
    parser.add_argument("--cells", nargs="+", default=list(Config.cells), choices=list(ALL_CELLS))
    parser.add_argument("--time", type=int, default=Config.time)
    parser.add_argument("--epochs", type=int, default=Config.epochs)
    parser.add_argument("--patience", type=int, default=Config.patience)
    parser.add_argument("--units", type=int, default=Config.units)
    args = parser.parse_args(argv)
    config = Config(tasks=tuple(args.tasks), variants=tuple(args.variants), cells=tuple(args.cells), seeds=tuple(args.seeds),
                    time=args.time, epochs=args.epochs, patience=args.patience, units=args.units)
    start = _time.perf_counter()

    def progress(r: RunResult) -> None:
        print(f"{r.task:<7} {r.variant:<18} {r.cell:<5} seed {r.seed}: score {r.score:.4f}, {r.epochs} epochs, "
              f"{r.seconds_per_epoch:.2f} s/epoch", flush=True)

    results = run(config, progress=progress)
    elapsed = _time.perf_counter() - start
    print(format_table(summarize(results)))
    print(f"{len(results)} runs in {elapsed:.0f} s")
    if args.out is not None:
        arguments = sys.argv[1:] if argv is None else list(argv)
        save(args.out, config, results, elapsed, command=" ".join(["python -m lessonlib.experiments.lstm_vs_gru", *arguments]))
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
