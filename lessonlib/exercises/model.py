"""Keras model exercises, checked by what the model *does*.

The learner writes ``build_model(...)`` returning a **compiled** ``keras.Model`` (or, for an
exercise with ``takes="trained"``, passes a model they have trained). The check:

1. builds the model with a fixed seed (``keras.utils.set_random_seed``) and inspects it
   (no training yet): it must be a compiled ``keras.Model`` within the exercise's
   parameter budget, use no forbidden shortcut (a ``Lambda`` layer, or a layer whose code
   reaches into ``lessonlib``), give outputs of the stated shape and dtype, and its loss
   must suit the labels and the output (integer labels need a *sparse* loss, probabilities
   need ``from_logits=False``, logits ``from_logits=True``); an exercise can also demand
   that padding does not change the predictions;
2. trains it for a fixed number of epochs on data generated offline from a seed (a
   progress bar in notebooks; no timings in any message, so notebooks compare equal under
   nbval);
3. measures it on held-out data the model never saw: accuracy, and the padding
   invariance again on the trained model.

Full points at or above ``threshold``, half the points at or above ``partial_threshold``
(both measured from the reference over five seeds: see the exercise's ``measured`` line and
``benchmarks/model_exercises.py``), none below. One :class:`Outcome`, as every exercise.

Diagnoses name the usual Keras mistakes from the compiled model (``model.loss``, the
outputs on a probe batch, layer configs) and from behaviour, never from a layer list: a
correct model built differently (other widths, functional or Sequential, other valid layer
orders) passes.

Trust limit: the notebook's check runs the learner's code in the learner's process. It can tell
an honest mistake from a correct model; it cannot stop code written to deceive it (code that
patches this module so the measured numbers are forged). The grader does not trust it
(:mod:`lessonlib.grading.models`): the sandbox only *builds* the model and sends back its
saved form (the ``.keras`` archive: architecture, compile config and weights as plain data);
a clean process that never runs learner code loads it with ``safe_mode=True`` and no custom
objects (so no ``Lambda`` and no custom layer can load), then runs :meth:`ModelExercise.check_built`
on data from a secret seed. Consequence for learners: in a graded notebook the model must use
Keras' own layers and losses (a loss function of one's own passes the notebook's check, judged by
behaviour, but cannot be loaded by the grader, which says so).
"""

from __future__ import annotations

import inspect
import math
import re
import types
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lessonlib.exercises.core import NOT_GIVEN, Exercise, _clean
from lessonlib.exercises.outcome import Cause, Outcome, Status


# --------------------------------------------------------------------------- data
@dataclass(frozen=True)
class ModelData:
    """What a model exercise trains and measures on: ``x_train, y_train`` (training),
    ``x_test, y_test`` (held out: the check measures on these only). Labels are integer
    class ids ``(n,)`` unless the exercise says ``labels="one-hot"``."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    w_train: np.ndarray | None = None  # per-step sample weights (n, time), for per-step targets


@dataclass(frozen=True)
class Measured:
    """What the check measured on one model (plain numbers, as the grader would send back)."""

    accuracy: float
    padding_change: float | None = None  # largest change of an output when padding is added
    n_params: int = 0


class ModelProblem(Exception):
    """A problem found by inspecting or measuring the learner's model (a wrong answer)."""

    def __init__(self, message: str, cause: Cause = Cause.DIAGNOSED) -> None:
        super().__init__(message)
        self.message = message
        self.cause = cause


# --------------------------------------------------------------------------- helpers
RECURRENT = ("SimpleRNN", "LSTM", "GRU")
PADDING_TOLERANCE = 1e-4
"""Largest change of an output allowed when padding is added: a model that masks padding
changes by float32 round-off (below 1e-6); one that reads padding, even untrained, by 1e-3 or more."""


def all_layers(model: Any) -> list[Any]:
    """Every layer inside ``model``, nested models and wrappers (``Bidirectional``) included."""
    found: list[Any] = []
    seen: set[int] = set()

    def walk(layer: Any, depth: int) -> None:
        if id(layer) in seen or depth > 50:
            return
        seen.add(id(layer))
        if layer is not model:
            found.append(layer)
        children: list[Any] = []
        flatten = getattr(layer, "_flatten_layers", None)
        if callable(flatten):
            try:
                children = list(flatten(include_self=False, recursive=False))
            except TypeError:
                children = []
        for attr in ("layers", "layer", "forward_layer", "backward_layer", "cell"):
            value = getattr(layer, attr, None)
            if isinstance(value, (list, tuple)):
                children += list(value)
            elif value is not None and hasattr(value, "weights"):
                children.append(value)
        for child in children:
            walk(child, depth + 1)

    walk(model, 0)
    return found


def _touches_lessonlib(function: Any) -> str | None:
    """Why ``function`` reaches into lessonlib (its module, or a global it reads), or None."""
    function = getattr(function, "__func__", function)
    module = getattr(function, "__module__", "") or ""
    if module.startswith("lessonlib"):
        return f"it is defined in {module}"
    code = getattr(function, "__code__", None)
    scope = getattr(function, "__globals__", {}) or {}
    if code is None:
        return None
    names = set(code.co_names)
    for const in code.co_consts:  # nested functions and lambdas
        if isinstance(const, types.CodeType):
            names |= set(const.co_names)
    for name in sorted(names):
        value = scope.get(name)
        owner = getattr(value, "__name__", "") if isinstance(value, types.ModuleType) else getattr(value, "__module__", "")
        if isinstance(owner, str) and owner.startswith("lessonlib"):
            return f"it uses {name} from {owner}"
    imported = sorted(n for n in names if n == "lessonlib" or n.startswith("lessonlib."))
    if imported:
        return f"it imports {imported[0]}"
    return None


def forbidden_shortcut(model: Any) -> str | None:
    """A message if the model holds a ``Lambda`` layer or a layer whose code comes from or
    calls into ``lessonlib`` (the course's own solutions), else None."""
    import keras

    for layer in [model, *all_layers(model)]:
        name = layer_words(layer).removeprefix("The ")
        if isinstance(layer, keras.layers.Lambda):
            return ("Your model holds a Lambda layer: this exercise asks for Keras' own layers only "
                    "(a Lambda can hide any computation, so the check does not accept one).")
        cls = type(layer)
        if cls.__module__.startswith("lessonlib"):
            return f"Layer {name} is lessonlib's own {cls.__name__}: build the model from Keras layers."
        if not cls.__module__.startswith("keras"):
            for attr in ("call", "build", "__init__"):
                why = _touches_lessonlib(getattr(cls, attr, None))
                if why:
                    return (f"Layer {name} reaches into lessonlib ({why}): build the model "
                            "from Keras layers, without the course's own code.")
    return None


def loss_spec(model: Any) -> tuple[str, bool | None]:
    """``(name, from_logits)`` of a compiled model's loss: name in snake case
    (``sparse_categorical_crossentropy``, ...), from_logits None when the loss does not say."""
    loss = getattr(model, "loss", None)
    if isinstance(loss, (list, tuple)) and len(loss) == 1:
        loss = loss[0]
    if isinstance(loss, dict) and len(loss) == 1:
        loss = next(iter(loss.values()))
    if loss is None:
        return "", None
    if isinstance(loss, str):
        return _snake(loss), False
    from_logits = None
    config: dict[str, Any] = {}
    try:
        config = loss.get_config() or {}
    except Exception:
        config = {}
    if "from_logits" in config:
        from_logits = bool(config["from_logits"])
    fn_kwargs = getattr(loss, "_fn_kwargs", None)
    if isinstance(fn_kwargs, dict) and "from_logits" in fn_kwargs:
        from_logits = bool(fn_kwargs["from_logits"])
    if from_logits is None and callable(loss):  # a loss function: its default (False in Keras)
        try:
            parameter = inspect.signature(loss).parameters.get("from_logits")
        except (TypeError, ValueError):
            parameter = None
        if parameter is not None and isinstance(parameter.default, bool):
            from_logits = parameter.default
    name = getattr(loss, "fn", None)
    name = getattr(name, "__name__", None) or getattr(loss, "__name__", None) or type(loss).__name__
    return _snake(str(name)), from_logits


def _snake(name: str) -> str:
    name = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
    return name.replace("cross_entropy", "crossentropy")


def output_kind(outputs: np.ndarray) -> str:
    """``"probabilities"`` if every row is non-negative and sums to 1 (a softmax),
    ``"sigmoid"`` if values lie in [0, 1] but rows do not sum to 1, else ``"logits"``."""
    flat = outputs.reshape(-1, outputs.shape[-1]).astype(np.float64)
    if np.all(flat >= -1e-6) and np.allclose(flat.sum(axis=-1), 1.0, atol=1e-3):
        return "probabilities"
    if np.all(flat >= -1e-6) and np.all(flat <= 1 + 1e-6):
        return "sigmoid"
    return "logits"


def layer_words(layer: Any) -> str:
    """How messages name a layer: its type, and its name only when the learner chose it (Keras'
    automatic names, e.g. 'embedding_3', change with every model built in a session)."""
    kind = type(layer).__name__
    name = str(getattr(layer, "name", ""))
    auto = re.sub(r"_\d+$", "", name).replace("_", "") == kind.lower()
    return f"The {kind}" if auto or not name else f"The {kind} '{name}'"


def count_params(model: Any) -> int:
    return int(sum(int(np.prod(w.shape)) for w in model.weights))


# --------------------------------------------------------------------------- progress
class _Progress:
    """A text progress bar over epochs, in notebooks only: one block per epoch, printed as the
    epoch ends, on one line. It shows epochs, never times, so the stored output is the same
    every run (nbval compares it; a display updated in place would not be compared)."""

    def __init__(self, title: str, epochs: int) -> None:
        self.epochs = epochs
        try:
            from IPython import get_ipython

            shell = get_ipython()
        except ImportError:  # pragma: no cover
            shell = None
        self.active = shell is not None
        if self.active:
            print(f"{title}: ", end="", flush=True)

    def update(self, done: int) -> None:
        if self.active:
            print("\u2588", end="", flush=True)
            if done == self.epochs:
                print(f" {done}/{self.epochs} epochs", flush=True)

    def callback(self) -> Any:
        import keras

        progress = self

        class Bar(keras.callbacks.Callback):
            def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
                progress.update(epoch + 1)

        return Bar()


# --------------------------------------------------------------------------- exercise
@dataclass(frozen=True)
class Training:
    """How the check trains a built model: fixed epochs and batch size, a fixed seed."""

    epochs: int
    batch_size: int = 64
    seed: int = 0


def _check_output_values(outputs: np.ndarray) -> None:
    """Floats, all finite: what any model's outputs must be before training."""
    if not np.issubdtype(outputs.dtype, np.floating):
        raise ModelProblem(f"Your model's outputs have dtype {outputs.dtype}; they must be floats.", Cause.CONTRACT)
    if not np.all(np.isfinite(outputs)):
        raise ModelProblem("Your model's outputs contain NaN or inf before training.", Cause.STRUCTURE)


def _still_the_stub(function: Any) -> bool:
    """True for a function whose body only raises NotImplementedError (the answer cell as
    shipped): nothing else is named in its code, so calling it could only raise that."""
    import inspect

    code = getattr(function, "__code__", None)
    if code is None or code.co_names != ("NotImplementedError",):
        return False
    arguments = code.co_argcount + code.co_kwonlyargcount
    arguments += bool(code.co_flags & inspect.CO_VARARGS) + bool(code.co_flags & inspect.CO_VARKEYWORDS)
    return code.co_nlocals == arguments  # no variable of its own: no other work


@dataclass(frozen=True)
class ModelExercise(Exercise):
    """The learner builds (``takes="builder"``) or trains (``takes="trained"``) a Keras model;
    the check measures what it does. See the module docstring for the steps.

    ``make_data(seed)`` gives the :class:`ModelData`; ``build_kwargs`` are the arguments the
    check passes to ``build_model``; ``n_classes`` the output width; ``threshold`` and
    ``partial_threshold`` the held-out accuracies for full and half points; ``measured``
    the reference's accuracy over five seeds, in words (shown in failing messages);
    ``max_params`` the parameter budget (keeps the check's time within its statement);
    ``padding_invariant``: added padding (id 0 at the end) must not change a prediction;
    ``embedding_learns``: an ``Embedding`` must be trainable; ``chance``: the accuracy of a
    guess, for messages; ``extra(model, data)`` may return a further problem message
    (e.g. a parameter count the exercise asks for).
    """

    make_data: Callable[[int], ModelData] = field(default=lambda seed: None)  # type: ignore[assignment,return-value]
    build_kwargs: dict[str, Any] = field(default_factory=dict)
    n_classes: int = 2
    training: Training = field(default_factory=lambda: Training(epochs=1))
    threshold: float = 0.9
    partial_threshold: float = 0.7
    measured: str = ""
    max_params: int = 100_000
    padding_invariant: bool = False
    embedding_learns: bool = False
    vocab_size: int | None = None
    chance: float = 0.5
    labels: str = "integer"  # or "one-hot"
    takes: str = "builder"  # or "trained"
    data_seed: int = 0
    extra: Callable[[Any, ModelData], str | None] | None = None
    seconds: str = "about 10 s"  # the check's time on 2 cores, for the statement
    score: Callable[[Any, ModelData], float] | None = None  # measured in place of held-out accuracy
    metric: str = "held-out accuracy"  # what ``threshold`` applies to, in words
    reserved_ids: str = "0 for padding, 1 for unknown words"  # for the vocabulary-size diagnosis
    per_step: bool = False  # outputs (batch, time, n_classes), trained per step, scored at the last step
    failing_note: Callable[[Any], str | None] | None = None  # a hint added when the model scores too low
    companion: str = ""  # a second learner function passed with the builder, e.g. "decoder_inputs"
    companion_args: Callable[[], tuple[Any, ...]] | None = None  # what the check calls the companion with
    companion_verdict: Callable[[Any], str | None] | None = None  # the problem of what it returned, or None

    @property
    def reference(self) -> Any:
        """The reference ``build_model``: the exercise's solution region, run on its own (the
        solutions file holds one ``build_model`` per exercise); with a ``companion``, the pair
        ``(build_model, companion)``, which is how the check takes the answer too."""
        namespace: dict[str, Any] = {"__name__": f"{self.solutions_module}.{self.short_name}"}
        exec(compile(self.solution_code, f"<solution {self.id}>", "exec"), namespace)
        if self.companion:
            return namespace[self.answer_name], namespace[self.companion]
        return namespace[self.answer_name]

    # ------------------------------------------------------------------ statement
    def statement_lines(self) -> list[str]:
        lines = [line for line in super().statement_lines() if not line.startswith("**Accepted**")]
        what = ("trains your model" if self.takes == "builder" else "takes your trained model")
        lines.append(f"**Check** {what} and measures its {self.metric}: full points at "
                     f"{self.threshold:.2f} or more, half points at {self.partial_threshold:.2f} or more")
        lines.append(f"**Check time** {self.seconds} on 2 CPU cores")
        if self.measured:
            lines.append(f"**Reference** {self.measured}")
        return lines

    # ------------------------------------------------------------------ outcomes
    def _fail(self, message: str, cause: Cause = Cause.DIAGNOSED, details: Sequence[str] = ()) -> Outcome:
        return self.outcome(Status.INCORRECT, message, details, cause)

    def _scored(self, measured: Measured) -> Outcome:
        acc = measured.accuracy
        head = f"{self.metric.capitalize()} {acc:.2f}"
        ref = f" (the reference: {self.measured})" if self.measured else ""
        if acc >= self.threshold:
            return self.outcome(Status.CORRECT, f"{head}, at least {self.threshold:.2f}: your model does the task.")
        if acc >= self.partial_threshold:
            return Outcome(self.id, Status.INCORRECT,
                           f"{head}: above {self.partial_threshold:.2f}, half the points, but below the "
                           f"{self.threshold:.2f} of full points{ref}. Train it better: more units, "
                           "another learning rate, or look at the hints.",
                           round(self.points / 2, 4), self.points, (), Cause.DIFFERS)
        guess = abs(acc - self.chance) < 0.05
        why = (f", no better than guessing ({self.chance:.2f}): the model has learned nothing" if guess else "")
        return self._fail(f"{head}{why}; it must reach {self.threshold:.2f} (half points at "
                          f"{self.partial_threshold:.2f}){ref}.", Cause.DIFFERS)

    # ------------------------------------------------------------------ checking
    def check(self, answer: Any = NOT_GIVEN, companion: Any = NOT_GIVEN) -> Outcome:
        """``check(build_model)``; with a companion function, ``check(build_model, decoder_inputs)``
        (or the pair as one answer)."""
        if self.companion and companion is not NOT_GIVEN:
            answer = (answer, companion)
        return super().check(answer)

    def _split(self, answer: Any) -> tuple[Any, Any]:
        """``(builder, companion)`` from an answer; raises :class:`ModelProblem` if the pair is incomplete."""
        if not self.companion:
            return answer, None
        if not (isinstance(answer, tuple) and len(answer) == 2):
            raise ModelProblem(f"Pass both functions: `.check({self.answer_name}, {self.companion})`.",
                               Cause.NOT_CALLABLE)
        return answer

    def _check(self, answer: Any) -> Outcome:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Keras' warnings (e.g. a dropped mask): the check says it
                return self._check_model(answer)
        except ModelProblem as problem:
            return self._fail(problem.message, problem.cause)

    def data(self, seed: int | None = None) -> ModelData:
        """The exercise's data; ``seed`` other than the default draws other sequences (the
        benchmark and the tests use seeds 0-4; a grader would use secret ones)."""
        return self.make_data(self.data_seed if seed is None else seed)

    def check_seed(self, answer: Any, seed: int) -> Outcome:
        """Check ``answer`` with data and training drawn from ``seed`` (the notebook's check
        uses the exercise's fixed seeds). Never raises."""
        if answer is None or answer is Ellipsis:
            return self.check(answer)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return self._check_model(answer, seed=seed, data=self.data(seed))
        except ModelProblem as problem:
            return self._fail(problem.message, problem.cause)
        except Exception as exc:
            return self.internal_error(exc)

    def train_and_measure(self, build_model: Callable[..., Any], *, seed: int | None = None,
                          data: ModelData | None = None) -> tuple[Any, Measured]:
        """Build, inspect, train and measure as the check does, without judging (for the
        benchmark that sets the thresholds); problems raise :class:`ModelProblem`."""
        import keras

        data = self.data() if data is None else data
        seed = self.training.seed if seed is None else seed
        keras.utils.set_random_seed(seed)
        build_model, _ = self._split(build_model)
        model = build_model(**self.build_kwargs)
        self._inspect(model, data)
        self._fit(model, data, seed)
        return model, self.measure(model, data)

    def _check_model(self, answer: Any, seed: int | None = None, data: ModelData | None = None) -> Outcome:
        if self.takes == "builder":
            builder = answer[0] if self.companion and isinstance(answer, tuple) and len(answer) == 2 else answer
            if _still_the_stub(builder):  # said before importing TensorFlow: a numpy-only notebook stays light
                return self.outcome(Status.NOT_ATTEMPTED,
                                    f"`{self.answer_name}` still raises NotImplementedError: replace that line with your code.")
        import keras

        data = self.data() if data is None else data
        run_seed = self.training.seed if seed is None else seed
        answer, companion = self._split(answer)
        if self.companion:
            if answer is None or companion is None:
                missing = self.answer_name if answer is None else self.companion
                return self.outcome(Status.NOT_ATTEMPTED, f"`{missing}` has not been filled in yet.")
            problem = self._companion_problem(companion)
            if problem is not None:
                return problem
        if self.takes == "builder":
            if isinstance(answer, keras.Model):
                raise ModelProblem(
                    f"Pass the function that builds the model, `.check({self.answer_name})`, not a model: "
                    "the check builds and trains it itself, with a fixed seed.", Cause.NOT_CALLABLE)
            if not callable(answer):
                raise ModelProblem(f"Expected a function `{self.answer_name}`, but got a {type(answer).__name__}.",
                                   Cause.NOT_CALLABLE)
            keras.utils.set_random_seed(run_seed)
            try:
                model = answer(**self.build_kwargs)
            except NotImplementedError:
                return self.outcome(Status.NOT_ATTEMPTED,
                                    f"`{self.answer_name}` still raises NotImplementedError: replace that line with your code.")
            except Exception as exc:
                return self._build_raised(exc)
        else:
            model = answer
        return self._check_built(model, data, run_seed)

    def check_built(self, model: Any, seed: int) -> Outcome:
        """Judge a model that is already built (the grader's clean process: a model loaded from
        the learner's saved file, never their code): inspect, train and measure it on the data of
        ``seed``, exactly as the notebook's check does after calling ``build_model``. Never raises."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return self._check_built(model, self.data(seed), seed)
        except ModelProblem as problem:
            return self._fail(problem.message, problem.cause)
        except Exception as exc:
            return self.internal_error(exc)

    def _check_built(self, model: Any, data: ModelData, run_seed: int) -> Outcome:
        self._inspect(model, data)
        if self.takes == "builder":
            try:
                self._fit(model, data, run_seed)
            except ModelProblem:
                raise
            except Exception as exc:
                return self.outcome(Status.ERROR, "Training your model raised " + _short_error(exc), (), Cause.RAISED)
        try:
            measured = self.measure(model, data)
        except ModelProblem:
            raise
        except Exception as exc:
            return self.outcome(Status.ERROR, "Running your trained model raised " + _short_error(exc), (),
                                Cause.RAISED)
        return self._judge_measured(model, measured)

    def _companion_problem(self, companion: Any) -> Outcome | None:
        if not callable(companion):
            return self._fail(f"Expected a function `{self.companion}`, but got a {type(companion).__name__}.",
                              Cause.NOT_CALLABLE)
        try:
            problem = None
            if self.companion_args is not None and self.companion_verdict is not None:
                problem = self.companion_verdict(companion(*self.companion_args()))
        except NotImplementedError:
            return self.outcome(Status.NOT_ATTEMPTED,
                                f"`{self.companion}` still raises NotImplementedError: replace that line with your code.")
        except Exception as exc:
            return self.outcome(Status.ERROR, f"Your {self.companion} raised " + _short_error(exc), (), Cause.RAISED)
        return self._fail(problem) if problem else None

    def _judge_measured(self, model: Any, measured: Measured) -> Outcome:
        if self.padding_invariant and measured.padding_change is not None and measured.padding_change > PADDING_TOLERANCE:
            raise ModelProblem(self._padding_message(model, measured.padding_change, trained=True))
        outcome = self._scored(measured)
        if not outcome.correct and self.takes == "trained":
            iterations = _iterations(model)
            if iterations == 0:
                raise ModelProblem("Your model was never fitted (its optimizer has taken 0 steps): call "
                                   "model.fit(...) on the training data before passing it to the check.")
        if not outcome.correct and self.failing_note is not None:
            note = self.failing_note(model)
            if note:
                return Outcome(outcome.exercise_id, outcome.status, outcome.message + "\n" + note,
                               outcome.points, outcome.max_points, outcome.details, Cause.DIAGNOSED)
        if not outcome.correct and self.embedding_learns:
            frozen = [layer_words(layer) for layer in all_layers(model)
                      if type(layer).__name__ == "Embedding" and not layer.trainable]
            if frozen:
                return Outcome(outcome.exercise_id, outcome.status,
                               outcome.message + f"\n{frozen[0]} is frozen (trainable=False), so its "
                               "vectors stay random: this task needs them to learn.",
                               outcome.points, outcome.max_points, outcome.details, Cause.DIAGNOSED)
        return outcome

    def _build_raised(self, exc: BaseException) -> Outcome:
        text = str(exc)
        if re.search(r"expected ndim=3, found ndim=2", text):
            return self._fail(
                "Building your model failed: a recurrent layer got a 2-D input (batch, units) where it needs "
                "(batch, time, features). The recurrent layer before it returns only its last state: give that "
                "earlier layer return_sequences=True so the next recurrent layer gets the whole sequence.")
        return self.outcome(Status.ERROR, "Your build_model raised " + _short_error(exc), (), Cause.RAISED)

    # ------------------------------------------------------------------ inspection (no training)
    def _inspect(self, model: Any, data: ModelData) -> None:
        import keras

        if not isinstance(model, keras.Model):
            raise ModelProblem(f"`{self.answer_name}` must return a keras.Model (Sequential or functional), "
                               f"got a {type(model).__name__}.", Cause.CONTRACT)
        if getattr(model, "optimizer", None) is None or getattr(model, "loss", None) is None:
            raise ModelProblem("Your model is not compiled: call model.compile(optimizer=..., loss=..., "
                               "metrics=[\"accuracy\"]) before returning it.", Cause.CONTRACT)
        shortcut = forbidden_shortcut(model)
        if shortcut:
            raise ModelProblem(shortcut, Cause.CONTRACT)
        probe = _take(data.x_test, 32)
        self._check_embeddings(model)
        try:
            outputs = np.asarray(model(probe, training=False))
        except Exception as exc:
            raise ModelProblem("Your model cannot read the inputs " + _describe(probe) + ": " + _short_error(exc),
                               Cause.STRUCTURE) from None
        n_params = count_params(model)
        if n_params > self.max_params:
            raise ModelProblem(f"Your model has {n_params:,} parameters; this exercise's budget is "
                               f"{self.max_params:,} (so the check trains in its stated time). Use fewer units "
                               "or a smaller embedding.", Cause.CONTRACT)
        self._check_outputs(model, outputs, _rows(probe), _steps(probe))
        self._check_loss(model, outputs)
        if self.padding_invariant:
            change = self._padding_change(model, probe)
            if change > PADDING_TOLERANCE:
                raise ModelProblem(self._padding_message(model, change, trained=False))
        if self.embedding_learns:
            frozen = [layer_words(layer) for layer in all_layers(model)
                      if type(layer).__name__ == "Embedding" and not layer.trainable]
            if frozen:
                raise ModelProblem(f"{frozen[0]} is frozen (trainable=False): its vectors would "
                                   "stay random. This exercise asks for an embedding that learns: leave "
                                   "trainable=True (the default).")
        if self.extra is not None:
            problem = self.extra(model, data)
            if problem:
                raise ModelProblem(problem)

    def _check_embeddings(self, model: Any) -> None:
        if self.vocab_size is None:
            return
        for layer in all_layers(model):
            if type(layer).__name__ != "Embedding":
                continue
            input_dim = int(layer.input_dim)
            if input_dim < self.vocab_size:
                raise ModelProblem(
                    f"{layer_words(layer)} has input_dim={input_dim}, but the ids go up to "
                    f"{self.vocab_size - 1}: vocab_size={self.vocab_size} already counts the reserved ids "
                    f"({self.reserved_ids}), so the table needs input_dim=vocab_size rows "
                    f"(you are {self.vocab_size - input_dim} short).")

    def _check_outputs(self, model: Any, outputs: np.ndarray, batch: int, steps: int = 0) -> None:
        if self.labels == "binary" and outputs.shape == (batch,):
            outputs = outputs[:, None]
        if self.per_step:
            self._check_step_outputs(model, outputs, batch, steps)
            return
        want = (batch, self.n_classes)
        if outputs.ndim == 3 and outputs.shape[0] == batch:
            rnn = [layer_words(layer) for layer in all_layers(model)
                   if type(layer).__name__ in RECURRENT and getattr(layer, "return_sequences", False)]
            where = f" ({rnn[-1].removeprefix('The ')})" if rnn else ""
            raise ModelProblem(
                f"Your model gives one output per time step, shape {outputs.shape}, where the task needs one per "
                f"sequence, {want}. The last recurrent layer{where} has return_sequences=True: a many-to-one "
                "model keeps only the last state (return_sequences=False, the default) before its Dense layer.")
        if outputs.shape != want:
            last = outputs.shape[-1] if outputs.ndim else "?"
            raise ModelProblem(
                f"Your model's output has shape {outputs.shape}; it must be (batch, {self.n_classes}), one score "
                f"per class: the output layer has {last} units where {self.n_classes} classes need "
                f"{self.n_classes}.")
        _check_output_values(outputs)

    def _check_step_outputs(self, model: Any, outputs: np.ndarray, batch: int, steps: int) -> None:
        """Per-step targets: one output per time step, ``(batch, time, n_classes)``."""
        want = (batch, steps, self.n_classes)
        if outputs.ndim == 2 and outputs.shape[0] == batch:
            rnn = [layer_words(layer) for layer in all_layers(model) if type(layer).__name__ in RECURRENT]
            where = f" ({rnn[-1].removeprefix('The ')})" if rnn else ""
            raise ModelProblem(
                f"Your model gives one output per sequence, shape {outputs.shape}, where this task needs one per "
                f"time step, {want}: the targets are given at every step. The recurrent layer{where} returns only "
                "its last state: give it return_sequences=True, so the Dense layer after it answers at every step.")
        if outputs.ndim != 3 or outputs.shape[:2] != (batch, steps) or outputs.shape[-1] != self.n_classes:
            last = outputs.shape[-1] if outputs.ndim else "?"
            raise ModelProblem(
                f"Your model's output has shape {outputs.shape}; it must be (batch, time, {self.n_classes}), one "
                f"score per class at every step: the output layer has {last} units where {self.n_classes} classes "
                f"need {self.n_classes}.")
        _check_output_values(outputs)

    def _check_loss(self, model: Any, outputs: np.ndarray) -> None:
        name, from_logits = loss_spec(model)
        if self.labels == "binary":
            self._check_binary_loss(name, from_logits, outputs)
            return
        kind = output_kind(outputs)
        if self.labels == "integer" and name == "categorical_crossentropy":
            raise ModelProblem(
                "Your loss is categorical_crossentropy, which expects one-hot labels (batch, classes), but the "
                f"labels here are integer class ids {'(batch, time)' if self.per_step else '(batch,)'}: use "
                "sparse_categorical_crossentropy "
                "(the same loss, reading integer labels).")
        if self.labels == "one-hot" and name == "sparse_categorical_crossentropy":
            raise ModelProblem(
                "Your loss is sparse_categorical_crossentropy, which expects integer class ids, but the labels "
                "here are one-hot (batch, classes): use categorical_crossentropy.")
        if name == "binary_crossentropy" and self.n_classes > 1:
            raise ModelProblem(
                f"Your loss is binary_crossentropy, which is for one sigmoid output and labels 0/1; this model "
                f"has {self.n_classes} outputs, one per class, and integer labels: use "
                "sparse_categorical_crossentropy.")
        if name not in ("sparse_categorical_crossentropy", "categorical_crossentropy"):
            return  # a loss of the learner's own: its behaviour decides
        if from_logits and kind == "probabilities":
            raise ModelProblem(
                "Your output layer gives probabilities (a softmax: every row sums to 1), but the loss has "
                "from_logits=True, so it applies a second softmax to them. Either drop the softmax from the "
                "last layer or use from_logits=False (the default).")
        if not from_logits and kind != "probabilities":
            what = ("non-negative values whose rows do not sum to 1 (a sigmoid or relu, not a softmax)"
                    if kind == "sigmoid"
                    else "unnormalised scores (logits: a Dense layer without softmax)")
            raise ModelProblem(
                f"Your output layer gives {what}, but the loss expects probabilities (from_logits=False). Put "
                "activation=\"softmax\" on the last Dense layer (one class out of several), or keep the logits "
                "and use the loss with from_logits=True.")

    def _check_binary_loss(self, name: str, from_logits: bool | None, outputs: np.ndarray) -> None:
        if name in ("sparse_categorical_crossentropy", "categorical_crossentropy"):
            raise ModelProblem(
                f"Your loss is {name}, for one class out of several; here each example has one score and a "
                "0/1 label (a true pair or a negative sample): use binary_crossentropy.")
        if name != "binary_crossentropy":
            return  # a loss of the learner's own: its behaviour decides
        flat = outputs.astype(np.float64).ravel()
        in_unit = bool(np.all(flat >= -1e-6) and np.all(flat <= 1 + 1e-6))
        if from_logits and in_unit and np.all(flat > 0):
            raise ModelProblem(
                "Your output gives probabilities (values in (0, 1): a sigmoid), but the loss has "
                "from_logits=True, so it applies a second sigmoid to them. Output the dot product itself "
                "(a logit) or use from_logits=False.")
        if not from_logits and not in_unit:
            raise ModelProblem(
                "Your output gives raw scores (a dot product is any real number: a logit), but the loss expects "
                "probabilities (from_logits=False). Use binary_crossentropy with from_logits=True, or put a "
                "sigmoid on the output.")

    @staticmethod
    def _padding_change(model: Any, x: np.ndarray) -> float:
        try:
            return padding_change(model, x)
        except Exception as exc:
            raise ModelProblem(
                f"Your model cannot read longer sequences ({_short_error(exc)}): the check adds padding at the "
                "end of the sequences to see that it changes nothing. Declare the input with a free length, "
                "keras.Input((None,), dtype=\"int64\").", Cause.STRUCTURE) from None

    def _padding_message(self, model: Any, change: float, *, trained: bool) -> str:
        embeddings = [layer for layer in all_layers(model) if type(layer).__name__ == "Embedding"]
        masked = any(getattr(layer, "mask_zero", False) for layer in embeddings) or any(
            type(layer).__name__ == "Masking" for layer in all_layers(model))
        when = "your trained model's" if trained else "your model's"
        head = (f"Adding padding (id 0) at the end of the sequences changes {when} outputs (by up to "
                f"{change:.2g}): padding must be ignored.")
        if not masked:
            return head + (" No layer masks it: give the Embedding mask_zero=True, so the layers after it "
                           "(pooling, recurrent layers) skip id 0.")
        return head + (" The Embedding has mask_zero=True, but a layer after it drops the mask (Flatten, a Dense "
                       "applied per step before pooling, or a pooling that ignores masks): use "
                       "GlobalAveragePooling1D, or a recurrent layer, directly after the Embedding.")

    # ------------------------------------------------------------------ training and measuring
    def _fit(self, model: Any, data: ModelData, seed: int) -> None:
        import keras

        keras.utils.set_random_seed(seed)
        progress = _Progress("Training your model", self.training.epochs)
        x = list(data.x_train) if isinstance(data.x_train, tuple) else data.x_train
        model.fit(x, data.y_train, sample_weight=data.w_train, epochs=self.training.epochs,
                  batch_size=self.training.batch_size, shuffle=True, verbose=0, callbacks=[progress.callback()])

    def measure(self, model: Any, data: ModelData) -> Measured:
        """Accuracy on the held-out data (argmax of the outputs against the labels, computed
        here, not by the model's own metrics) and, where asked, the padding invariance."""
        if self.score is not None:
            value = self.score(model, data)
            if not math.isfinite(value):
                raise ModelProblem("After training, your model's vectors hold NaN or inf: training diverged "
                                   "(try a smaller learning rate).", Cause.STRUCTURE)
            return Measured(round(float(value), 4), None, count_params(model))
        outputs = _predict(model, data.x_test)
        if self.per_step and outputs.ndim == 3:
            outputs = outputs[:, -1]  # scored at the last step only: the answer after the whole sequence
        labels = data.y_test if self.labels == "integer" else np.argmax(data.y_test, axis=-1)
        if outputs.shape != (len(labels), self.n_classes) or not np.all(np.isfinite(outputs)):
            bad = "NaN or inf" if outputs.shape == (len(labels), self.n_classes) else f"shape {outputs.shape}"
            raise ModelProblem(f"After training, your model's outputs have {bad}: training diverged "
                               "(try a smaller learning rate).", Cause.STRUCTURE)
        accuracy = float(np.mean(np.argmax(outputs, axis=-1) == labels))
        change = self._padding_change(model, data.x_test[:64]) if self.padding_invariant else None
        return Measured(round(accuracy, 4), change, count_params(model))


def _iterations(model: Any) -> int | None:
    import keras

    try:
        return int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    except Exception:
        return None


def _take(x: Any, start: int, stop: int | None = None) -> Any:
    """Rows ``start:stop`` (or the first ``start`` rows) of an input: an array, or a tuple of arrays."""
    window = slice(0, start) if stop is None else slice(start, stop)
    if isinstance(x, (tuple, list)):
        return tuple(part[window] for part in x)
    return x[window]


def _rows(x: Any) -> int:
    return len(x[0]) if isinstance(x, (tuple, list)) else len(x)


def _steps(x: Any) -> int:
    """Time steps of the outputs: of the input, or of the last input (a decoder's) when several."""
    first = x[-1] if isinstance(x, (tuple, list)) else x
    return int(first.shape[1]) if getattr(first, "ndim", 0) >= 2 else 0


def _predict(model: Any, x: Any, batch: int = 256) -> np.ndarray:
    n = _rows(x)
    parts = [np.asarray(model(_take(x, i, i + batch), training=False)) for i in range(0, n, batch)]
    return np.concatenate(parts, axis=0)


def padding_change(model: Any, x: np.ndarray, extra: int = 40) -> float:
    """Largest change of the model's outputs when ``extra`` padding ids (0) are appended."""
    padded = np.concatenate([x, np.zeros((len(x), extra), dtype=x.dtype)], axis=1)
    a = _predict(model, x)
    b = _predict(model, padded)
    if a.shape != b.shape:
        return math.inf
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))


def _describe(x: np.ndarray) -> str:
    return f"(shape {x.shape}, dtype {x.dtype})"


def _short_error(exc: BaseException) -> str:
    text = _clean(str(exc)).strip().splitlines()
    first = next((line.strip() for line in text if line.strip()), "")
    first = re.sub(r"\s+", " ", first)
    first = first if len(first) <= 300 else first[:297] + "..."
    return f"{type(exc).__name__}: {first}"
