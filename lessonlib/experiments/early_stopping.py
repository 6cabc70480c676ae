"""An end-to-end sequence classifier with early stopping (chapter 4).

Token ids -> ``Embedding(mask_zero=True)`` -> ``LSTM`` -> ``Dense(1, sigmoid)``, trained on
:func:`lessonlib.data.synthetic.which_first` (does token A come before token B?). The
training and validation labels carry some label noise, so a model that trains long enough
starts fitting the noise: its validation loss turns up while its training loss keeps
falling. ``keras.callbacks.EarlyStopping(monitor="val_loss", restore_best_weights=True)``
stops a few epochs after the best validation loss and puts the best weights back. The
test labels are clean, so test accuracy measures what the model learnt about order; it is
recorded after every epoch for the figure only (nothing is decided on it), so the cost of
*not* restoring the best weights can be read off.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from lessonlib._validate import check_positive_int
from lessonlib.data.synthetic import which_first


@dataclass(frozen=True)
class Config:
    n_train: int = 300
    n_val: int = 300
    n_test: int = 1000
    max_len: int = 20
    vocab_size: int = 12
    label_noise: float = 0.25
    embedding_dim: int = 16
    units: int = 64
    dropout: float = 0.0
    recurrent_dropout: float = 0.0
    max_epochs: int = 60
    patience: int = 5
    batch_size: int = 16
    learning_rate: float = 1e-2
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("n_train", "n_val", "n_test", "max_len", "embedding_dim", "units", "max_epochs",
                     "patience", "batch_size"):
            check_positive_int(name, getattr(self, name))


@dataclass
class Result:
    config: Config
    history: dict[str, list[float]]  # loss, accuracy, val_loss, val_accuracy, test_accuracy per epoch
    best_epoch: int  # 1-based epoch of the lowest validation loss (the weights kept)
    stopped_epoch: int  # 1-based epoch after which training stopped
    test_accuracy: float  # with the restored (best) weights, on clean labels
    parameters: int
    model: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {"config": asdict(self.config), "history": self.history, "best_epoch": self.best_epoch,
                "stopped_epoch": self.stopped_epoch, "test_accuracy": self.test_accuracy,
                "parameters": self.parameters}


def make_data(config: Config) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Train/validation sets with label noise and a clean test set, from the config's seed."""
    rng = np.random.default_rng(config.seed)
    kw = {"max_len": config.max_len, "vocab_size": config.vocab_size}
    n_noisy = config.n_train + config.n_val
    ids, y = which_first(n_noisy, rng, label_noise=config.label_noise, **kw)
    test = which_first(config.n_test, rng, **kw)
    return {"train": (ids[: config.n_train], y[: config.n_train]),
            "val": (ids[config.n_train:], y[config.n_train:]), "test": test}


def build_model(config: Config) -> Any:
    import keras

    model = keras.Sequential([
        keras.Input((None,), dtype="int64"),
        keras.layers.Embedding(config.vocab_size, config.embedding_dim, mask_zero=True),  # padding id 0 masked
        keras.layers.LSTM(config.units, dropout=config.dropout, recurrent_dropout=config.recurrent_dropout),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


def run(config: Config | None = None, *, verbose: int = 2, **overrides: Any) -> Result:
    """Train with early stopping; ``verbose=2`` prints one line per epoch (Keras' own log)."""
    import keras

    config = replace(config or Config(), **overrides)
    keras.utils.set_random_seed(config.seed)
    data = make_data(config)
    model = build_model(config)
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience,
                                         restore_best_weights=True, verbose=1 if verbose else 0)
    test_accuracy_per_epoch: list[float] = []

    class RecordTest(keras.callbacks.Callback):  # for the figure only: nothing is decided on it
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            test_accuracy_per_epoch.append(float(self.model.evaluate(*data["test"], verbose=0, batch_size=500)[1]))

    fit = model.fit(*data["train"], validation_data=data["val"], epochs=config.max_epochs,
                    batch_size=config.batch_size, callbacks=[RecordTest(), stop], verbose=verbose)
    history = {k: [float(v) for v in values] for k, values in fit.history.items()}
    history["test_accuracy"] = test_accuracy_per_epoch
    best = int(np.argmin(history["val_loss"])) + 1
    _, test_accuracy = model.evaluate(*data["test"], verbose=0, batch_size=500)
    return Result(config, history, best, len(history["val_loss"]), float(test_accuracy), model.count_params(), model)
