# SPDX-License-Identifier: MIT
"""Models, data views and training over the C library (the layer under the
estimators): no scikit-learn here, NumPy only."""
from __future__ import annotations

import ctypes as C
import os
import signal
import threading
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np

from . import _lib as L

# ---------------------------------------------------------------- handles


class _Owned:
    """An object that owns one library handle (self._h) and frees it once,
    with the library function named by _free, when it is collected (or
    closed).  Never copied: two objects must not own one handle."""

    _free = ""
    _h = None

    def close(self) -> None:
        h, self._h = self._h, None
        if h and L is not None:
            getattr(L, self._free)(h)

    def __del__(self):
        self.close()

    def __reduce__(self):
        raise TypeError(f"a {type(self).__name__} cannot be copied or pickled")


# -------------------------------------------------------------- contexts


class Context(_Owned):
    """A library context (thread pool and kernels) of its own for each
    model: two models never share a pool, so that one's work never finds
    the other's pool busy (the library then runs a pass on one thread by
    another stage, whose rounding differs), and a model's results depend
    only on its own thread count.  Creating one costs ~20 us; its threads
    start on first use.  Kept alive by every model and quantised model made
    on it (the library requires the context to outlive them)."""

    def __init__(self, n_threads: Optional[int]):
        n = 0 if n_threads is None else n_threads
        if not isinstance(n, (int, np.integer)) or n < 0 or n > 64:
            raise ValueError(f"n_threads must be None or 1..64, not {n_threads!r}")
        p = L.mlp_context_params_default()
        p.threads = int(n)
        h = C.c_void_p()
        L.call(L.mlp_context_create, C.byref(h), C.byref(p))
        self._h, self.n_threads = h.value, int(n)

    _free = "mlp_context_free"

    @property
    def h(self) -> int:
        return self._h

    @property
    def threads(self) -> int:
        return int(L.mlp_context_threads(self._h))


# ------------------------------------------------------------- data views

#: The element types the library reads as they are (no copy) from a
#: C-contiguous array.
NATIVE = {np.dtype(np.uint8): L.ELEM_U8, np.dtype(np.float32): L.ELEM_F32, np.dtype(np.float64): L.ELEM_F64}


def as_input(X: Any, convert_to: Any = np.float32) -> np.ndarray:
    """X as the library reads it.  A C-contiguous, aligned 2-D uint8,
    float32 or float64 array is returned as it is (the library reads its
    memory in place); anything else (another dtype, Fortran order, a strided
    view, an unaligned buffer, a list) is converted once to a C-contiguous
    array of `convert_to`."""
    a = np.asarray(X)
    if a.ndim != 2:
        raise ValueError(f"expected a 2-D array of samples x features, got {a.ndim} dimension(s)")
    if a.dtype in NATIVE and a.flags.c_contiguous and a.flags.aligned:
        return a
    return np.ascontiguousarray(a, dtype=convert_to)


class DataView:
    """A struct mlp_dataset over NumPy arrays, without copying them: X as
    as_input leaves it, int32 labels or float64 targets.  Keeps the arrays
    alive as long as the view."""

    def __init__(self, X: np.ndarray, labels: Optional[np.ndarray] = None, n_classes: int = 0,
                 targets: Optional[np.ndarray] = None):
        if X.dtype not in NATIVE or not X.flags.c_contiguous or not X.flags.aligned or X.ndim != 2:
            raise TypeError("DataView needs a C-contiguous 2-D uint8/float32/float64 array (as_input)")
        self._keep = (X, labels, targets)
        ds = L.Dataset()
        ds.n_rows = X.shape[0]
        ds.n_cols = X.shape[1]
        ds.x_type = NATIVE[X.dtype]
        ds.x = X.ctypes.data
        if labels is not None:
            assert labels.dtype == np.int32 and labels.flags.c_contiguous and labels.shape == (X.shape[0],)
            ds.labels = labels.ctypes.data
            ds.n_classes = n_classes
        if targets is not None:
            assert targets.dtype == np.float64 and targets.flags.c_contiguous and targets.shape[0] == X.shape[0]
            ds.targets = targets.ctypes.data
            ds.n_targets = targets.shape[1]
        self.ds = ds

    @property
    def x_address(self) -> int:
        """Where the library reads the inputs (the array's own buffer)."""
        return int(self.ds.x)

    def ref(self):
        return C.byref(self.ds)


class OwnedData:
    """A data set the library made (a split): freed with the object."""

    def __init__(self):
        self.ds = L.Dataset()

    def __reduce__(self):
        raise TypeError("a library-owned data set cannot be copied or pickled")

    def ref(self):
        return C.byref(self.ds)

    def __del__(self):
        if getattr(self, "ds", None) is not None and L is not None:
            L.mlp_dataset_free(C.byref(self.ds))


def split(view: DataView, fraction: float, seed: int):
    """The library's seeded split (mlp_dataset_split): (train, validation)."""
    a, b = OwnedData(), OwnedData()
    how = L.Split(fraction, seed)
    L.call(L.mlp_dataset_split, view.ref(), C.byref(how), a.ref(), b.ref())
    return a, b


# ------------------------------------------------------------------ models

_CLASSIFY_HEADS = {L.HEAD_SOFTMAX_CE, L.HEAD_SIGMOID_BCE, 3, 4}  # ce heads, sigmoid-mse, tanh-mse


def _class_values(names: Sequence[str]) -> np.ndarray:
    """Class names as a file gave them, back as numbers (or booleans) where
    they all are."""
    if sorted(names) == ["False", "True"]:
        return np.array([n == "True" for n in names])
    try:
        ints = [int(s) for s in names]
        if all(str(i) == s for i, s in zip(ints, names)):
            return np.array(ints)
    except ValueError:
        pass
    try:
        return np.array([float(s) for s in names])
    except ValueError:
        return np.array(list(names), dtype=object)


def class_probabilities(p: np.ndarray, is_classifier: bool = True) -> np.ndarray:
    """A classifier's outputs as class probabilities: one logistic output
    (two classes) becomes the two columns [1 - p, p]; softmax outputs are
    already that."""
    return np.hstack([1.0 - p, p]) if is_classifier and p.shape[1] == 1 else p


class _Predictor:
    """predict_raw, predict_proba and predict over one library call
    (_predict_into), for a model and a quantised model alike; they provide
    n_features_in_, n_outputs, is_classifier, classes_ and _input_dtype."""

    def predict_raw(self, X: Any) -> np.ndarray:
        """The output layer's activations, n x n_outputs float64 (for a
        classifier the probabilities: softmax, or the sigmoid of one output)."""
        X = as_input(X, self._input_dtype)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but the model expects {self.n_features_in_}")
        out = np.empty((X.shape[0], self.n_outputs), dtype=np.float64)
        if X.shape[0]:
            self._predict_into(DataView(X), out)
        return out

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, n x n_classes (two columns for one output)."""
        return class_probabilities(self.predict_raw(X), self.is_classifier)

    def predict(self, X: Any) -> np.ndarray:
        """Classes (as classes_ names them) or regression values."""
        if not self.is_classifier:
            p = self.predict_raw(X)
            return p.ravel() if p.shape[1] == 1 else p
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class Model(_Owned, _Predictor):
    """A trained network in the C library: what `fastmlp train` writes and
    `fastmlp.load` reads.  Predicts from NumPy arrays, saves model files the
    command line reads, converts to ONNX and to int8/bf16 inference models."""

    def __init__(self, handle: int, n_threads: Optional[int] = None, ctx: Optional[Context] = None):
        if not handle:
            raise ValueError("no model")
        self._h = handle
        self._ctx = ctx if ctx is not None else Context(n_threads)
        # One call at a time into this model (a fit, a prediction): two at
        # once would find its pool busy, and the second would run by another
        # stage with other rounding.  Held without the GIL.
        self._lock = threading.Lock()
        L.mlp_model_set_context(self._h, self._ctx.h)

    _free = "mlp_model_free"

    # -- making
    @classmethod
    def create(cls, mp: L.ModelParams, n_threads: Optional[int] = None) -> "Model":
        h = C.c_void_p()
        ctx = Context(n_threads)
        mp.ctx = ctx.h
        L.call(L.mlp_model_create, C.byref(h), C.byref(mp))
        return cls(h.value, ctx=ctx)

    @classmethod
    def from_bytes(cls, data: bytes, name: str = "<bytes>", n_threads: Optional[int] = None) -> "Model":
        buf = C.create_string_buffer(bytes(data), len(data))
        b = L.Buffer(C.cast(buf, C.c_void_p), len(data), name.encode())
        h = C.c_void_p()
        L.call(L.mlp_model_load_mem, C.byref(h), C.byref(b))
        return cls(h.value, n_threads)

    @classmethod
    def from_file(cls, path: Union[str, os.PathLike], n_threads: Optional[int] = None) -> "Model":
        h = C.c_void_p()
        L.call(L.mlp_model_load, C.byref(h), os.fsencode(path))
        return cls(h.value, n_threads)

    def copy(self) -> "Model":
        h = C.c_void_p()
        with self._lock:
            L.call(L.mlp_model_clone, C.byref(h), self._h)
        return Model(h.value, self._ctx.n_threads)

    def set_threads(self, n_threads: Optional[int]) -> None:
        """Run on n_threads threads (None: every core) from now on."""
        n = 0 if n_threads is None else n_threads
        if n != self._ctx.n_threads:
            ctx = Context(n_threads)
            with self._lock:
                L.mlp_model_set_context(self._h, ctx.h)
                self._ctx = ctx  # the old one lives on in quantised models made on it

    # -- what it is
    @property
    def n_features_in_(self) -> int:
        return int(L.mlp_model_n_in(self._h))

    @property
    def n_outputs(self) -> int:
        return int(L.mlp_model_n_out(self._h))

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.float64 if L.mlp_model_dtype(self._h) == L.F64 else np.float32)

    @property
    def head(self) -> str:
        return L.mlp_head_name(L.mlp_model_head(self._h)).decode()

    @property
    def layers(self) -> list:
        """(units, activation) of each layer, the output layer last."""
        out = []
        for i in range(L.mlp_model_n_layers(self._h)):
            s = L.mlp_model_layer(self._h, i)
            out.append((int(s.n_out), L.mlp_act_name(s.act).decode()))
        return out

    @property
    def is_classifier(self) -> bool:
        s = L.mlp_model_schema(self._h)
        if s:
            return L.mlp_schema_task(s) == L.TASK_CLASSIFY
        return L.mlp_model_head(self._h) in _CLASSIFY_HEADS

    @property
    def class_names(self) -> Optional[list]:
        """The class names the model's table gave (a file's label values, or
        an estimator's classes_ as text); None when it has none."""
        s = L.mlp_model_schema(self._h)
        if not s or L.mlp_schema_task(s) != L.TASK_CLASSIFY:
            return None
        return [L.mlp_schema_class(s, i).decode("utf-8", "replace") for i in range(L.mlp_schema_n_classes(s))]

    @property
    def classes_(self) -> Optional[np.ndarray]:
        """The classes predict() returns: the names in the model file
        (numbers where they all are), else 0..K-1; None for regression."""
        if not self.is_classifier:
            return None
        names = self.class_names
        if names is not None:
            return _class_values(names)
        return np.arange(max(2, self.n_outputs))

    @property
    def train_meta(self) -> dict:
        t = L.mlp_model_train_meta(self._h)
        return {f: getattr(t, f) for f, _ in L.TrainMeta._fields_}

    def coefs(self) -> list:
        """Copies of the weights and biases, per layer: [(W (n_out x n_in), b)]."""
        flat, out, n_in = self._flat_params(), [], self.n_features_in_
        for i, (units, _) in enumerate(self.layers):
            w0, b0 = L.mlp_model_w_offset(self._h, i), L.mlp_model_b_offset(self._h, i)
            out.append((flat[w0:w0 + units * n_in].reshape(units, n_in).copy(), flat[b0:b0 + units].copy()))
            n_in = units
        return out

    def _flat_params(self) -> np.ndarray:
        n = L.mlp_model_n_params(self._h)
        ct = C.c_double if self.dtype == np.float64 else C.c_float
        return np.ctypeslib.as_array(C.cast(L.mlp_model_params(self._h), C.POINTER(ct)), shape=(n,))

    # -- computing (predict_raw, predict_proba, predict: _Predictor)
    @property
    def _input_dtype(self) -> np.dtype:
        return self.dtype

    def _predict_into(self, v: DataView, out: np.ndarray) -> None:
        with self._lock:
            L.call(L.mlp_model_predict, self._h, v.ref(), None, out.ctypes.data)

    # -- files
    def to_bytes(self) -> bytes:
        """The model file's bytes (what save writes)."""
        with self._lock:
            return L.take_bytes(L.mlp_model_save_mem, self._h)

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Write the model file (atomically: on failure an old file stays);
        `fastmlp predict/eval/info` read it."""
        with self._lock:
            L.call(L.mlp_model_save, self._h, os.fsencode(path))

    def to_onnx(self, path: Union[str, os.PathLike, None] = None) -> Optional[bytes]:
        """The model as an ONNX graph (opset 13), preprocessing included:
        written to `path`, or returned as bytes when path is None."""
        with self._lock:
            if path is None:
                return L.take_bytes(L.mlp_model_onnx, self._h)
            L.call(L.mlp_model_save_onnx, self._h, os.fsencode(path))
        return None

    def quantize(self, qtype: str = "int8", calib: Any = None,
                 classes: Optional[np.ndarray] = None) -> "QuantizedModel":
        """A read-only inference copy with weights in 'f32', 'bf16' or 'int8',
        run by the C engine's kernels for this CPU; `calib` (inputs) fixes the
        int8 activation ranges, else each sample's own range is used;
        `classes` names what predict returns (else the file's class names)."""
        return QuantizedModel(self, qtype, calib, classes)

    def __reduce__(self):
        # pickle, copy and deepcopy: through the model file's bytes, into a
        # model of its own (handle, context and lock)
        return (Model.from_bytes, (self.to_bytes(), "<pickle>", self._ctx.n_threads or None))

    def __repr__(self):
        return (f"<fastmlp.Model {self.n_features_in_}->" + "->".join(f"{u}:{a}" for u, a in self.layers)
                + f" head={self.head} dtype={self.dtype.name}>")


class QuantizedModel(_Owned, _Predictor):
    """A model's weights converted once for inference (f32, bf16 or int8)."""

    _input_dtype = np.dtype(np.float32)

    def __init__(self, model: Model, qtype: str, calib: Any = None, classes: Optional[np.ndarray] = None):
        q = L.mlp_qtype_parse(str(qtype).encode())
        if q < 0:
            raise ValueError(f"unknown quantisation {qtype!r}: use 'f32', 'bf16' or 'int8'")
        self.n_features_in_, self.n_outputs = model.n_features_in_, model.n_outputs
        self.is_classifier = model.is_classifier
        # an estimator's classes_ (any labels) where it makes one, else the model file's
        self.classes_ = classes if classes is not None else model.classes_
        cal = None
        if calib is not None:
            cal = DataView(as_input(calib, model.dtype))
        h = C.c_void_p()
        with model._lock:
            L.call(L.mlp_qmodel_create, C.byref(h), model._h, q, cal.ref() if cal else None)
        # its model's context, kept alive here (quantised kernels run their
        # tasks alike on a busy pool: concurrent predictions need no lock)
        self._h, self._ctx = h.value, model._ctx
        L.mlp_qmodel_set_context(self._h, self._ctx.h)

    _free = "mlp_qmodel_free"

    def __reduce__(self):
        # (copy and deepcopy come here too) two objects must never own one
        # mlp_qmodel; quantising again from the model is cheap
        raise TypeError("a QuantizedModel cannot be pickled or copied: pickle the model (or estimator) and "
                        "call quantize() again")

    @property
    def qtype(self) -> str:
        return L.mlp_qtype_name(L.mlp_qmodel_qtype(self._h)).decode()

    @property
    def kernel(self) -> str:
        """The kernel that runs it on this CPU ("avx512-vnni", "avx2", ...)."""
        return L.mlp_qmodel_kernel(self._h).decode()

    @property
    def weight_bytes(self) -> int:
        return int(L.mlp_qmodel_weight_bytes(self._h))

    def _predict_into(self, v: DataView, out: np.ndarray) -> None:
        L.call(L.mlp_qmodel_predict, self._h, v.ref(), None, out.ctypes.data)

    def __repr__(self):
        return f"<fastmlp.QuantizedModel {self.qtype} kernel={self.kernel}>"


def load(source: Union[str, os.PathLike, bytes, bytearray, memoryview], n_threads: Optional[int] = None) -> Model:
    """Read a model: a path to a file `fastmlp train` (or Model.save) wrote,
    or that file's bytes."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return Model.from_bytes(bytes(source), n_threads=n_threads)
    return Model.from_file(source, n_threads=n_threads)


# ---------------------------------------------------------------- training

EpochCallback = Callable[[dict], Optional[bool]]


class Trainer(_Owned):
    """The library's trainer for one model (mlp_trainer): created on a data
    set, run, and, for SGD, Adam and GD, continued on further data with the
    optimiser's state kept (partial_fit).  It keeps alive what the library
    reads while it lives: the model, the data set it was last given, the
    validation set and the callback."""

    def __init__(self, model: Model, data, tp: L.TrainParams, keep: Any = None):
        self._model, self._data, self._keep = model, data, keep
        self._tp = tp
        self._failure: list = []
        self._state: dict = {}
        self._on_epoch: Optional[EpochCallback] = None
        self._cb = L.EPOCH_FN(self._epoch_cb)
        tp.on_epoch = self._cb
        h = C.c_void_p()
        with model._lock:
            L.call(L.mlp_trainer_create, C.byref(h), model._h, data.ref(), C.byref(tp))
        self._h = h.value

    _free = "mlp_trainer_free"

    def close(self) -> None:
        """Free the library's trainer now (and what it kept alive)."""
        super().close()
        self._cb = self._data = self._keep = self._on_epoch = None  # (the callback refers back to self)

    def _epoch_cb(self, sp, _user):
        try:
            s = sp.contents
            stats = {f: getattr(s, f) for f, _ in L.EpochStats._fields_}
            if self._on_epoch is not None and self._on_epoch(stats):
                self._state["stopped_by_callback"] = True
                return 1
            return 0
        except BaseException as e:  # noqa: B902 - handed to the caller's thread
            self._failure.append(e)
            return 1

    def continue_with(self, data, epochs: int) -> None:
        """Go on with `epochs` more epochs on `data` (mlp_trainer_continue)."""
        with self._model._lock:
            L.call(L.mlp_trainer_continue, self._h, data.ref(), epochs)
        self._data = data

    def run(self, on_epoch: Optional[EpochCallback] = None) -> dict:
        """Run the trainer's epochs in a worker thread while this one waits
        (the GIL is free meanwhile).

        Ctrl-C: on the main thread, while Python's default SIGINT handler is
        in place, a handler of ours replaces it for the run: it only asks
        the trainer to stop at its next batch boundary (async-signal-safe,
        and raising nothing, so that no KeyboardInterrupt can land between
        two statements here and free the trainer under the worker).  A
        second Ctrl-C asks again.  on_epoch(stats) runs after each epoch and
        may return True to stop.

        Never raises for how the run ended: returns this run's history, the
        status, an exception to raise (`error`: a callback's, or the
        library's) and whether it was interrupted, so that the caller
        records what the model holds before raising."""
        self._on_epoch = on_epoch
        # no Python call per epoch when nobody listens
        L.mlp_trainer_set_callbacks(self._h, self._cb if on_epoch is not None else L.EPOCH_FN(), L.BATCH_FN(), None)
        self._failure = []
        self._state = state = {"stopped_by_callback": False, "interrupted": False}
        t = self._h
        n0 = C.c_uint32()
        L.mlp_trainer_history(t, C.byref(n0))
        result: dict = {}
        done = threading.Event()

        def work():
            try:
                err = L.Error()
                result["status"] = L.mlp_trainer_run(t, C.byref(err))
                result["err"] = err
            finally:
                done.set()

        def on_sigint(signum, frame):
            state["interrupted"] = True
            L.mlp_trainer_request_stop(t)

        with self._model._lock:
            old = None
            if threading.current_thread() is threading.main_thread() and \
                    signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                old = signal.signal(signal.SIGINT, on_sigint)
            started = False
            try:
                worker = threading.Thread(target=work, name="fastmlp-train", daemon=True)
                worker.start()
                started = True
                # An Event, not Thread.join: Python 3.11's join can mark a
                # running thread finished when an exception lands inside it.
                while not done.wait(0.05):
                    pass
            except BaseException:
                # Only an exception we did not make (a SIGINT handler of the
                # caller's raising, say): stop the run and wait for its end,
                # so that nothing is freed under it.
                if started:
                    L.mlp_trainer_request_stop(t)
                    while not done.is_set():
                        try:
                            done.wait(0.05)
                        except BaseException:  # noqa: B902 - keep waiting: the stop is coming
                            L.mlp_trainer_request_stop(t)
                raise
            finally:
                if old is not None:
                    signal.signal(signal.SIGINT, old)
            n = C.c_uint32()
            hp = L.mlp_trainer_history(t, C.byref(n))
            hist = [{f: getattr(hp[i], f) for f, _ in L.EpochStats._fields_} for i in range(n0.value, n.value)]
            info = {"history": hist, "epochs_done": int(L.mlp_trainer_epochs_done(t)),
                    "stopped_early": bool(L.mlp_trainer_stopped_early(t)),
                    "stopped_by_callback": state["stopped_by_callback"], "interrupted": state["interrupted"],
                    "status": result.get("status", L.ERR_STOPPED), "error": None}
        st = info["status"]
        if self._failure:
            info["error"] = self._failure[0]
        elif st not in (L.MLP_OK, L.ERR_STOPPED):
            info["error"] = L.error_for(st, result["err"])
        return info
