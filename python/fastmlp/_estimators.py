# SPDX-License-Identifier: MIT
"""scikit-learn estimators over fastmlp's trainer: MLPClassifier and
MLPRegressor, with scikit-learn's MLP parameters and conventions.

With scikit-learn installed they are BaseEstimator subclasses and validate
their input with scikit-learn's own functions (so pipelines, grid searches,
clone and check_estimator treat them as any estimator); without it they
still fit, predict and score through a small NumPy-only stand-in.
"""
from __future__ import annotations

import ctypes as C
import sys
import time
import warnings
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np

from . import _core
from . import _lib as L

try:  # scikit-learn is optional at run time (1.6 or later: its validate_data and estimator tags)
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

    HAVE_SKLEARN = True
except ImportError:  # none, or one older than 1.6: the NumPy-only stand-ins (the no-sklearn test)
    HAVE_SKLEARN = False
    from ._nosklearn import (BaseEstimator, ClassifierMixin, ConvergenceWarning,  # type: ignore
                             RegressorMixin, check_classification_targets, check_is_fitted, column_or_1d,
                             validate_data)

_ACTS = ("identity", "logistic", "tanh", "relu", "leaky_relu")
# scikit-learn's names first; fastmlp's own are accepted too.
_ACT_C = {"identity": "identity", "logistic": "sigmoid", "sigmoid": "sigmoid", "tanh": "tanh", "relu": "relu",
          "leaky_relu": "leaky-relu", "leaky-relu": "leaky-relu"}
_SOLVERS = {"adam": L.OPT_ADAM, "sgd": L.OPT_SGD, "gd": L.OPT_GD, "cg": L.OPT_CG, "lbfgs": L.OPT_LBFGS}
_SCHEDULES = {"constant": L.SCHED_CONSTANT, "cosine": L.SCHED_COSINE}


def _validate(est, X, y=None, reset=True, **kw):
    """scikit-learn's validate_data (feature names, n_features_in_, NaN,
    sparse and complex refusals with its messages), or its stand-in."""
    dtype = kw.pop("dtype", [np.float64, np.float32, np.uint8])
    args = (X,) if y is None else (X, y)
    return validate_data(est, *args, reset=reset, dtype=dtype, order="C", **kw)


class _BaseMLP(BaseEstimator):
    """What MLPClassifier and MLPRegressor share: parameters, fit, partial_fit."""

    _is_classifier = False

    def __init__(self, *, hidden_layer_sizes: Union[int, Sequence[int]] = (100,), activation: str = "relu",
                 solver: str = "adam", alpha: float = 1e-4, batch_size: Union[int, str] = "auto",
                 learning_rate: str = "constant", learning_rate_init: float = 1e-3, max_iter: int = 200,
                 shuffle: bool = True, random_state: Optional[int] = None, tol: float = 1e-4,
                 verbose: Union[bool, int] = False, warm_start: bool = False, momentum: float = 0.9,
                 nesterovs_momentum: bool = True, early_stopping: bool = False, validation_fraction: float = 0.1,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-8, n_iter_no_change: int = 10,
                 standardize: Union[bool, str] = "auto", dtype: Optional[str] = None,
                 n_threads: Optional[int] = None, callback: Optional[Callable[[dict], Optional[bool]]] = None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.standardize = standardize
        self.dtype = dtype
        self.n_threads = n_threads
        self.callback = callback

    # ------------------------------------------------------------ checks

    def _check_params(self):
        h = self.hidden_layer_sizes
        h = [h] if np.isscalar(h) else list(h)
        if any(int(u) != u or u < 1 for u in h):
            raise ValueError(f"hidden_layer_sizes must be positive integers, got {self.hidden_layer_sizes!r}")
        if self.activation not in _ACT_C:
            raise ValueError(f"activation must be one of {_ACTS}, got {self.activation!r}")
        if self.solver not in _SOLVERS:
            raise ValueError(f"solver must be one of {tuple(_SOLVERS)}, got {self.solver!r}")
        if self.learning_rate not in _SCHEDULES:
            raise ValueError(f"learning_rate must be one of {tuple(_SCHEDULES)}, got {self.learning_rate!r}")
        if not (isinstance(self.max_iter, (int, np.integer)) and self.max_iter >= 1):
            raise ValueError(f"max_iter must be an integer >= 1, got {self.max_iter!r}")
        if not self.alpha >= 0 or not self.learning_rate_init > 0 or not self.tol >= 0:
            raise ValueError("alpha and tol must be >= 0 and learning_rate_init > 0")
        if self.batch_size != "auto" and not (isinstance(self.batch_size, (int, np.integer)) and self.batch_size >= 1):
            raise ValueError(f"batch_size must be 'auto' or an integer >= 1, got {self.batch_size!r}")
        if not 0 < self.validation_fraction < 1:
            raise ValueError(f"validation_fraction must be in (0, 1), got {self.validation_fraction!r}")
        if self.dtype not in (None, "float32", "float64", np.float32, np.float64):
            raise ValueError(f"dtype must be None, 'float32' or 'float64', got {self.dtype!r}")
        if not (isinstance(self.n_iter_no_change, (int, np.integer)) and self.n_iter_no_change >= 1):
            raise ValueError(f"n_iter_no_change must be an integer >= 1, got {self.n_iter_no_change!r}")
        if self.standardize not in ("auto", True, False):
            raise ValueError(f"standardize must be 'auto', True or False, got {self.standardize!r}")
        return [int(u) for u in h]

    def _compute_dtype(self, X: np.ndarray):
        if self.dtype is not None:
            return np.dtype(self.dtype)
        return np.dtype(np.float64 if X.dtype == np.float64 else np.float32)

    def _seed(self) -> int:
        rs = self.random_state
        if rs is None:
            return int(np.random.randint(0, 2**31 - 1))
        if isinstance(rs, (int, np.integer)):
            return int(rs) & 0xFFFFFFFFFFFFFFFF
        if isinstance(rs, np.random.RandomState):
            return int(rs.randint(0, 2**31 - 1))
        if isinstance(rs, np.random.Generator):
            return int(rs.integers(0, 2**31 - 1))
        raise ValueError(f"random_state must be None, an int, a RandomState or a Generator, got {rs!r}")

    # ------------------------------------------------------ the network

    def _new_model(self, view: "_core.DataView", hidden: list, n_out: int, head: int, dtype: np.dtype, seed: int,
                   y_mean: Optional[np.ndarray]) -> "_core.Model":
        act = L.mlp_act_parse(_ACT_C[self.activation].encode())
        specs = (L.LayerSpec * max(1, len(hidden)))(*[L.LayerSpec(u, act) for u in hidden])
        mp = L.mlp_model_params_default()
        mp.dtype = L.F64 if dtype == np.float64 else L.F32
        mp.head = head
        L.call(L.mlp_model_params_from_data, C.byref(mp), view.ref())  # n_in, n_out, 1/255 for uint8
        mp.n_out = n_out
        mp.hidden = specs
        mp.n_hidden = len(hidden)
        m = _core.Model.create(mp, self.n_threads)
        init = L.INIT_HE if self.activation in ("relu", "leaky_relu", "leaky-relu") else L.INIT_XAVIER
        st = L.mlp_model_init(m._h, init, 0.0, 0.0, seed)
        if st != L.MLP_OK:
            raise L.FastmlpValueError(L.status_str(st))
        std = self.standardize
        if std is True or (std == "auto" and view.ds.x_type != L.ELEM_U8):
            L.call(L.mlp_model_fit_standardize, m._h, view.ref())
        if y_mean is not None:  # regression: the output biases start at the targets' means
            flat = m._flat_params()
            b0 = L.mlp_model_b_offset(m._h, len(hidden))
            flat[b0:b0 + n_out] = y_mean
        return m

    def _train_params(self, n_rows: int, epochs: int, seed: int) -> L.TrainParams:
        tp = L.mlp_train_params_default()
        tp.optim = _SOLVERS[self.solver]
        tp.lr = self.learning_rate_init
        tp.momentum = self.momentum
        tp.nesterov = int(bool(self.nesterovs_momentum))
        tp.beta1, tp.beta2, tp.eps = self.beta_1, self.beta_2, self.epsilon
        tp.l2 = self.alpha
        tp.batch = min(200, n_rows) if self.batch_size == "auto" else min(int(self.batch_size), n_rows)
        tp.epochs = epochs
        tp.shuffle = int(bool(self.shuffle))
        tp.seed = seed
        tp.schedule = _SCHEDULES[self.learning_rate]
        tp.eval_train = 0
        if self.solver in ("cg", "lbfgs"):
            tp.gtol = self.tol if self.tol > 0 else 1e-12
        return tp

    def _fit(self, X, y, incremental: bool, classes=None):
        hidden = self._check_params()
        first = not (incremental or self.warm_start) or not hasattr(self, "_model")
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None.")
        y_name = getattr(y, "name", None)  # a pandas Series': the label column's name for the CLI
        X, y = _validate(self, X, y, reset=first, multi_output=not self._is_classifier,
                         y_numeric=not self._is_classifier, dtype=self._accepted_dtypes())
        if X.shape[0] < 1:
            raise ValueError("Found array with 0 sample(s) while a minimum of 1 is required.")
        X = _core.as_input(X, self._accepted_dtypes()[0])  # (sklearn's validation leaves it C-ordered; aligned too)
        labels, n_classes, targets, n_out, head, y_mean = self._encode_y(y, first, classes)
        dtype = self._compute_dtype(X) if first else self._model.dtype
        view = _core.DataView(X, labels, n_classes, targets)
        seed = self._seed()
        if first:
            self._model = self._new_model(view, hidden, n_out, head, dtype, seed, y_mean)
            self._set_schema(X.shape[1], y_name)
            self.loss_curve_ = []
            self.n_iter_ = 0
            self.t_ = 0
            self.best_loss_ = np.inf
            self.validation_scores_ = [] if self.early_stopping else None
            self.best_validation_score_ = None
            self.n_outputs_ = n_out  # output units (one for two classes), or targets
            self.out_activation_ = {L.HEAD_SOFTMAX_CE: "softmax", L.HEAD_SIGMOID_BCE: "logistic"}.get(head, "identity")
            self.n_layers_ = len(hidden) + 2
        elif self._model.n_features_in_ != X.shape[1]:
            raise ValueError(f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                             f"{self._model.n_features_in_} features as input.")
        self._model.set_threads(self.n_threads)
        epochs = 1 if incremental else int(self.max_iter)
        tp = self._train_params(X.shape[0], epochs, seed)
        data = view
        val = None
        if self.early_stopping and not incremental:
            n_val = int(round(self.validation_fraction * X.shape[0]))
            if n_val < 1 or n_val >= X.shape[0]:
                raise ValueError(f"validation_fraction {self.validation_fraction} of {X.shape[0]} samples leaves "
                                 "no validation or no training samples")
            data, val = _core.split(view, self.validation_fraction, seed)
            tp.eval = C.pointer(val.ds)
            tp.patience = int(self.n_iter_no_change)
        # partial_fit goes on with the trainer of the last call (Adam's
        # moments, the shuffle stream); fit starts a fresh one
        trainer = getattr(self, "_trainer", None) if incremental and not first else None
        if trainer is not None:
            try:
                trainer.continue_with(view, 1)
            except L.FastmlpError:  # (cg and lbfgs keep no such state: a fresh trainer each call)
                trainer = None
        if trainer is None:
            trainer = _core.Trainer(self._model, data, tp, keep=val)
        self._trainer = None
        try:
            info = trainer.run(self._epoch_callback(incremental))
        finally:
            if incremental:
                self._trainer = trainer
            else:
                trainer.close()
        # what the model now holds is recorded before anything is raised
        hist = info["history"]
        self.loss_curve_ = list(self.loss_curve_) + [h["train_loss"] + h["penalty"] for h in hist]
        self.n_iter_ += len(hist)
        self.t_ += X.shape[0] * len(hist)
        if self.loss_curve_:
            self.loss_ = self.loss_curve_[-1]
            self.best_loss_ = min(self.best_loss_, min(self.loss_curve_))
        if val is not None:
            scores = self._validation_scores(hist, val)
            self.validation_scores_ = list(self.validation_scores_ or []) + scores
            if self.validation_scores_:
                self.best_validation_score_ = max(self.validation_scores_)
        del val
        if info["interrupted"]:
            self.stop_reason_ = "interrupted"
        elif info["stopped_by_callback"]:
            self.stop_reason_ = "tol" if self._tol_stop else "callback"
        else:
            self.stop_reason_ = _STOP_NAMES[self._model.train_meta["stop_reason"]]
        if info["error"] is not None:
            raise info["error"]
        if info["interrupted"]:
            raise KeyboardInterrupt("fastmlp: training interrupted at a batch boundary; the estimator keeps "
                                    f"the weights reached there ({self.n_iter_} whole epoch(s) before it)")
        if self.stop_reason_ == "max_iter" and not incremental and self.solver in ("adam", "sgd", "gd") \
                and self.tol > 0 and not self.early_stopping:
            warnings.warn(f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                          "optimization hasn't converged yet.", ConvergenceWarning)
        return self

    def _validation_scores(self, hist, val) -> list:
        """scikit-learn's validation_scores_: the validation set's accuracy
        (classifier) or R² (regressor) after each epoch.  R² from the
        trainer's validation loss (1/2 the mean squared error): exact for one
        target, the variance-weighted average for several."""
        if self._is_classifier:
            return [h["test_acc"] for h in hist]
        n, k = int(val.ds.n_rows), int(val.ds.n_targets)
        yv = np.ctypeslib.as_array(C.cast(val.ds.targets, C.POINTER(C.c_double)), shape=(n, k))
        var = float(np.mean(np.var(yv, axis=0)))
        return [1.0 - 2.0 * h["test_loss"] / var if var > 0 else 0.0 for h in hist]

    def _accepted_dtypes(self):
        """The X dtypes read in place; the first is what others become."""
        if self.dtype in ("float32", np.float32):
            return [np.float32, np.float64, np.uint8]
        return [np.float64, np.float32, np.uint8]

    def _epoch_callback(self, incremental: bool):
        self._tol_stop = False
        verbose, user = self.verbose, self.callback
        tol, patience = self.tol, int(self.n_iter_no_change)
        # scikit-learn's convergence rule when not early-stopping: stop after
        # n_iter_no_change epochs whose training loss is not below the best by tol.
        watch = (not incremental and not self.early_stopping and self.solver in ("adam", "sgd", "gd")
                 and tol > 0)
        best = [np.inf, 0]
        t0 = [time.perf_counter()]

        def on_epoch(s: dict) -> bool:
            loss = s["train_loss"] + s["penalty"]
            if verbose:
                val = f", validation loss = {s['test_loss']:.6f}" if s["test_loss"] >= 0 else ""
                print(f"Iteration {s['epoch']}, loss = {loss:.8f}{val} ({s['seconds']:.3f} s)", file=sys.stderr,
                      flush=True)
            stop = False
            if user is not None:
                info = dict(s, loss=loss, elapsed=time.perf_counter() - t0[0])
                stop = bool(user(info))
            if watch:
                if loss > best[0] - tol:
                    best[1] += 1
                else:
                    best[1] = 0
                best[0] = min(best[0], loss)
                if best[1] > patience:  # as scikit-learn: more than n_iter_no_change
                    if verbose:
                        print(f"Training loss did not improve more than tol={tol} for {patience} consecutive "
                              "epochs. Stopping.", file=sys.stderr, flush=True)
                    self._tol_stop = True
                    stop = True
            return stop

        return on_epoch if (verbose or user is not None or watch) else None

    def _set_schema(self, n_features: int, label=None):
        """Keep the task and the class names in the model (its file), so
        that the command line's predict and eval name the classes."""
        p = L.SchemaParams()
        p.n_inputs = n_features
        names = getattr(self, "feature_names_in_", None)
        keep = []
        if isinstance(label, str) and label:
            p.label_name = label.encode()
        if names is not None:
            arr = (C.c_char_p * n_features)(*[str(s).encode() for s in names])
            keep.append(arr)
            p.input_names = arr
        if self._is_classifier:
            p.task = L.TASK_CLASSIFY
            cls = [str(c) for c in self.classes_]
            arr = (C.c_char_p * len(cls))(*[c.encode() for c in cls])
            keep.append(arr)
            p.classes, p.n_classes = arr, len(cls)
        else:
            if self.n_outputs_ != 1:
                return
            p.task = L.TASK_REGRESS
        h = C.c_void_p()
        err = L.Error()
        if L.mlp_schema_create(C.byref(h), C.byref(p), C.byref(err)) != L.MLP_OK:
            return  # names the library cannot keep (empty, repeated once written): the model stays without
        try:
            if self._is_classifier:
                got = [L.mlp_schema_class(h, i).decode() for i in range(L.mlp_schema_n_classes(h))]
                if got != cls:  # the library's order (or names) differ from classes_: keep none rather than wrong ones
                    return
            L.call(L.mlp_model_set_schema, self._model._h, h)
        finally:
            L.mlp_schema_free(h)

    # --------------------------------------------------------- public

    def fit(self, X: Any, y: Any):
        """Train on X (n_samples x n_features) and y; returns self."""
        return self._fit(X, y, incremental=False)

    def _predict_raw(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "_model")
        X = _validate(self, X, reset=False)
        return self._model.predict_raw(X)

    @property
    def model_(self) -> "_core.Model":
        """The trained network (fastmlp.Model): save, to_onnx, quantize."""
        check_is_fitted(self, "_model")
        return self._model

    @property
    def coefs_(self) -> list:
        """Weights per layer, n_in x n_out as scikit-learn shapes them (copies)."""
        return [W.T for W, _ in self.model_.coefs()]

    @property
    def intercepts_(self) -> list:
        return [b for _, b in self.model_.coefs()]

    def save(self, path) -> None:
        """Write the model file that `fastmlp predict/eval/info` read."""
        self.model_.save(path)

    def to_onnx(self, path=None):
        """The network as an ONNX graph (bytes, or written to path)."""
        return self.model_.to_onnx(path)

    def quantize(self, qtype: str = "int8", calib: Any = None) -> "_core.QuantizedModel":
        """An inference model with 'f32', 'bf16' or 'int8' weights (the C engine)."""
        m = self.model_
        if calib is not None:
            calib = _validate(self, calib, reset=False)
        return m.quantize(qtype, calib, classes=self.classes_ if self._is_classifier else None)

    def __getstate__(self):
        state = super().__getstate__() if hasattr(super(), "__getstate__") else self.__dict__.copy()
        state = dict(state)
        state.pop("_trainer", None)  # the optimiser's state is not kept: a partial_fit after loading starts afresh
        if "_model" in state:
            state["_model"] = state["_model"].to_bytes()
        return state

    def __setstate__(self, state):
        state = dict(state)
        state.pop("_trainer", None)  # the optimiser's state is not kept: a partial_fit after loading starts afresh
        if "_model" in state:
            state["_model"] = _core.Model.from_bytes(state["_model"], "<pickle>", n_threads=state.get("n_threads"))
        if hasattr(super(), "__setstate__"):
            super().__setstate__(state)
        else:
            self.__dict__.update(state)

    def __sklearn_is_fitted__(self):
        return hasattr(self, "_model")


_STOP_NAMES = ["none", "max_iter", "early_stopping", "gtol", "max_iter", "line_search", "diverged", "requested"]


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """A multi-layer perceptron classifier trained by fastmlp's C engine.

    Parameters follow scikit-learn's ``MLPClassifier`` (``hidden_layer_sizes``,
    ``activation`` ('relu', 'logistic', 'tanh', 'identity', 'leaky_relu'),
    ``solver`` ('adam', 'sgd', and fastmlp's full-batch 'gd', 'cg' (nonlinear
    conjugate gradient, SciPy's fmin_cg) and 'lbfgs'), ``alpha`` (L2),
    ``batch_size``, ``learning_rate`` ('constant' or 'cosine'),
    ``learning_rate_init``, ``max_iter`` (epochs, or iterations of cg/lbfgs),
    ``shuffle``, ``random_state``, ``tol``, ``verbose``, ``warm_start``,
    ``momentum``, ``nesterovs_momentum``, ``early_stopping``,
    ``validation_fraction``, ``beta_1``, ``beta_2``, ``epsilon``,
    ``n_iter_no_change``), plus:

    standardize : 'auto', True or False
        Standardise the inputs inside the model (mean 0, std 1 over the
        training rows; kept in the model file, the ONNX graph and applied by
        predict).  'auto': for float inputs, not for uint8 ones, which are
        scaled by 1/255 as pixels.
    dtype : None, 'float32' or 'float64'
        The network's arithmetic; None follows X (float64 for float64 X,
        else float32).
    n_threads : None or int
        Threads of the C engine (None: every core).
    callback : callable or None
        Called after each epoch with a dict (epoch, loss, train_loss,
        test_loss, seconds, ...); returning True stops training.

    Two classes are learned with one logistic output, more with a softmax,
    as scikit-learn does.  Training runs without the GIL; Ctrl-C stops it at
    the next batch boundary and raises KeyboardInterrupt, the estimator then
    holding the weights reached.
    """

    _is_classifier = True

    def _encode_y(self, y, first, classes):
        if y is None:
            raise ValueError("requires y to be passed, but the target y is None")
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        idx = None
        if first:
            if classes is not None:
                self.classes_ = np.unique(np.asarray(classes))
            else:  # one sort gives the classes and each label's index
                self.classes_, idx = np.unique(y, return_inverse=True)
            if len(self.classes_) < 2:
                raise ValueError(f"the training labels hold 1 class ({self.classes_[0]!r}): a classifier needs "
                                 "2 classes or more")
        if idx is None:
            idx = np.searchsorted(self.classes_, y)
            idx = np.clip(idx, 0, len(self.classes_) - 1)
            bad = self.classes_[idx] != y
            if np.any(bad):
                raise ValueError(f"y contains labels not in classes_: {np.unique(np.asarray(y)[bad])[:5]!r}")
        labels = np.ascontiguousarray(idx, dtype=np.int32)
        K = len(self.classes_)
        head = L.HEAD_SIGMOID_BCE if K == 2 else L.HEAD_SOFTMAX_CE
        return labels, K, None, (1 if K == 2 else K), head, None

    def partial_fit(self, X: Any, y: Any, classes: Any = None):
        """One epoch over X, y from the current weights (the first call,
        which must name every class in `classes`, creates the network).  The
        optimiser's state (Adam's moments, SGD's velocity) carries over from
        call to call, as in scikit-learn (not for 'cg' and 'lbfgs', which
        keep none; nor across pickling)."""
        if not hasattr(self, "_model"):
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            return self._fit(X, y, incremental=True, classes=classes)
        if classes is not None and not np.array_equal(np.unique(np.asarray(classes)), self.classes_):
            raise ValueError(f"`classes={classes!r}` is not the same as on the first call to partial_fit, "
                             f"which was {self.classes_!r}")
        return self._fit(X, y, incremental=True)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (n_samples x n_classes, in classes_ order)."""
        return _core.class_probabilities(self._predict_raw(X))

    def predict_log_proba(self, X: Any) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each sample (values of classes_)."""
        p = self.predict_proba(X)
        return self.classes_[np.argmax(p, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


class MLPRegressor(RegressorMixin, _BaseMLP):
    """A multi-layer perceptron regressor (squared error) trained by
    fastmlp's C engine.  Parameters as MLPClassifier's.  y may hold several
    targets (n_samples x n_targets); the output biases start at the targets'
    means."""

    def _encode_y(self, y, first, classes):
        if y is None:
            raise ValueError("requires y to be passed, but the target y is None")
        y = np.asarray(y, dtype=np.float64)
        if y.ndim == 1:
            y = y.reshape(-1, 1)
        if first:
            self.n_outputs_ = y.shape[1]
        elif y.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {y.shape[1]} targets, the model {self.n_outputs_}")
        targets = np.ascontiguousarray(y)
        return None, 0, targets, y.shape[1], L.HEAD_IDENTITY_MSE, targets.mean(axis=0)

    def partial_fit(self, X: Any, y: Any):
        """One epoch over X, y from the current weights; the optimiser's
        state carries over from call to call (as MLPClassifier.partial_fit)."""
        return self._fit(X, y, incremental=True)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets: (n_samples,) for one target, else 2-D."""
        p = self._predict_raw(X)
        return p.ravel() if p.shape[1] == 1 else p

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
