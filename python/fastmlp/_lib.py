# SPDX-License-Identifier: MIT
"""The C library, bound with ctypes over its public API (include/fastmlp.h).

Only what fastmlp.h declares is used here: the structs below mirror its
layouts field by field (python/tests/test_abi.py compiles a C program
against the header and compares every offset and size), and every call goes through ``call``, which
turns a failed status into a Python exception carrying the library's
one-line message.

ctypes releases the GIL around every foreign call, so training and
prediction run while other Python threads do; a callback from the library
takes the GIL back for as long as it runs.
"""
from __future__ import annotations

import ctypes as C
import os

# ------------------------------------------------------------------ loading

_HERE = os.path.dirname(os.path.abspath(__file__))
LIB_PATH = os.path.join(_HERE, "libfastmlp.so")
if not os.path.exists(LIB_PATH):  # never the system's copy, which may be another version
    raise ImportError(f"fastmlp: {LIB_PATH} is missing: install the package with `pip install ./python`")
lib = C.CDLL(LIB_PATH)

# -------------------------------------------------------------- enums (ints)

MLP_OK, ERR_ARG, ERR_NOMEM, ERR_IO, ERR_OPEN, ERR_FORMAT, ERR_SHAPE, ERR_RANGE, ERR_DIVERGED, ERR_UNSUPPORTED, \
    ERR_STOPPED = range(11)
F32, F64 = 0, 1
ELEM_U8, ELEM_F32, ELEM_F64 = 0, 1, 2
HEAD_SOFTMAX_CE, HEAD_SIGMOID_BCE, HEAD_IDENTITY_MSE = 0, 1, 2
TASK_AUTO, TASK_CLASSIFY, TASK_REGRESS = 0, 1, 2
INIT_XAVIER, INIT_HE = 2, 3
OPT_GD, OPT_SGD, OPT_ADAM, OPT_CG, OPT_LBFGS = range(5)
SCHED_CONSTANT, SCHED_STEP, SCHED_COSINE = range(3)
Q_F32, Q_BF16, Q_INT8 = range(3)

# ------------------------------------------------------------------ structs


class Error(C.Structure):
    _fields_ = [("status", C.c_int), ("msg", C.c_char * 512)]


class Dataset(C.Structure):
    _fields_ = [
        ("n_rows", C.c_uint64),
        ("n_cols", C.c_uint32),
        ("x_type", C.c_int),
        ("x", C.c_void_p),
        ("labels", C.c_void_p),
        ("n_classes", C.c_uint32),
        ("targets", C.c_void_p),
        ("n_targets", C.c_uint32),
        ("sample_shape", C.c_uint32 * 3),
        ("owned", C.c_void_p),
        ("schema", C.c_void_p),
    ]


class LayerSpec(C.Structure):
    _fields_ = [("n_out", C.c_uint32), ("act", C.c_int)]


class ModelParams(C.Structure):
    _fields_ = [
        ("dtype", C.c_int),
        ("n_in", C.c_uint32),
        ("n_hidden", C.c_uint32),
        ("hidden", C.POINTER(LayerSpec)),
        ("n_out", C.c_uint32),
        ("head", C.c_int),
        ("leaky_slope", C.c_double),
        ("input_scale", C.c_double),
        ("ctx", C.c_void_p),
        ("reserved", C.c_uint64 * 8),
    ]


class EpochStats(C.Structure):
    _fields_ = [
        ("epoch", C.c_uint32),
        ("train_loss", C.c_double),
        ("train_acc", C.c_double),
        ("test_loss", C.c_double),
        ("test_acc", C.c_double),
        ("seconds", C.c_double),
        ("samples_per_s", C.c_double),
        ("penalty", C.c_double),
    ]


EPOCH_FN = C.CFUNCTYPE(C.c_int, C.POINTER(EpochStats), C.c_void_p)


class BatchInfo(C.Structure):
    _fields_ = [
        ("epoch", C.c_uint32),
        ("epochs", C.c_uint32),
        ("batch", C.c_uint64),
        ("n_batches", C.c_uint64),
        ("rows_done", C.c_uint64),
        ("loss", C.c_double),
        ("accuracy", C.c_double),
        ("seconds", C.c_double),
    ]


BATCH_FN = C.CFUNCTYPE(C.c_int, C.POINTER(BatchInfo), C.c_void_p)


class TrainParams(C.Structure):
    _fields_ = [
        ("optim", C.c_int),
        ("lr", C.c_double),
        ("momentum", C.c_double),
        ("nesterov", C.c_int),
        ("beta1", C.c_double),
        ("beta2", C.c_double),
        ("eps", C.c_double),
        ("l2", C.c_double),
        ("batch", C.c_uint32),
        ("epochs", C.c_uint32),
        ("shuffle", C.c_int),
        ("seed", C.c_uint64),
        ("schedule", C.c_int),
        ("step_size", C.c_uint32),
        ("gamma", C.c_double),
        ("lr_min", C.c_double),
        ("weight_decay", C.c_double),
        ("gtol", C.c_double),
        ("history", C.c_uint32),
        ("patience", C.c_uint32),
        ("eval_train", C.c_int),
        ("eval", C.POINTER(Dataset)),
        ("on_epoch", EPOCH_FN),
        ("user", C.c_void_p),
        ("comm", C.c_void_p),
        ("reserved", C.c_uint64 * 7),
    ]


class TrainMeta(C.Structure):
    _fields_ = [
        ("seed", C.c_uint64),
        ("optim", C.c_uint32),
        ("epochs", C.c_uint32),
        ("batch", C.c_uint32),
        ("lr", C.c_double),
        ("l2", C.c_double),
        ("momentum", C.c_double),
        ("samples", C.c_uint64),
        ("epoch_kept", C.c_uint32),
        ("stop_reason", C.c_uint32),
    ]


class ContextParams(C.Structure):
    _fields_ = [
        ("size", C.c_uint32),
        ("threads", C.c_int),
        ("kernels", C.c_int),
        ("isa", C.c_int),
        ("device", C.c_int),
        ("device_index", C.c_uint32),
        ("device_math", C.c_int),
        ("reserved", C.c_uint32 * 5),
    ]


class Buffer(C.Structure):
    _fields_ = [("data", C.c_void_p), ("size", C.c_size_t), ("name", C.c_char_p)]


class Rows(C.Structure):
    _fields_ = [("row0", C.c_uint64), ("n", C.c_uint64), ("index", C.c_void_p)]


class Split(C.Structure):
    _fields_ = [("fraction", C.c_double), ("seed", C.c_uint64)]


class SchemaParams(C.Structure):
    _fields_ = [
        ("task", C.c_int),
        ("n_inputs", C.c_uint32),
        ("input_names", C.POINTER(C.c_char_p)),
        ("label_name", C.c_char_p),
        ("n_classes", C.c_uint32),
        ("classes", C.POINTER(C.c_char_p)),
        ("reserved", C.c_uint64 * 4),
    ]


# ------------------------------------------------------------------- errors


class FastmlpError(Exception):
    """A failure the C library reported; ``status`` is its mlp_status name."""

    def __init__(self, msg: str, status: str = "error"):
        super().__init__(msg)
        self.status = status


class FastmlpValueError(FastmlpError, ValueError):
    """Bad input: arguments, shapes, labels, malformed files."""


class FastmlpOSError(FastmlpError, OSError):
    """A file that cannot be opened, read or written."""


class FastmlpMemoryError(FastmlpError, MemoryError):
    """An allocation failed, or a size is beyond the machine's memory."""


class FastmlpDivergedError(FastmlpError, FloatingPointError):
    """Training produced NaN or Inf (the last good weights were kept)."""


_EXC = {
    ERR_NOMEM: FastmlpMemoryError,
    ERR_IO: FastmlpOSError,
    ERR_OPEN: FastmlpOSError,
    ERR_DIVERGED: FastmlpDivergedError,
}


def error_for(status: int, err: Error) -> FastmlpError:
    msg = err.msg.decode("utf-8", "replace") or status_str(status)
    return _EXC.get(status, FastmlpValueError)(msg, status_str(status))


def call(fn, *args):
    """Call a library function whose last argument is a struct mlp_error *;
    raise its exception on a status other than MLP_OK."""
    err = Error()
    st = fn(*args, C.byref(err))
    if st != MLP_OK:
        raise error_for(st, err)


# --------------------------------------------------------------- prototypes

_vp, _u32, _u64, _int, _dbl, _sz = C.c_void_p, C.c_uint32, C.c_uint64, C.c_int, C.c_double, C.c_size_t
_E = C.POINTER(Error)


def _proto(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


mlp_version = _proto("mlp_version", C.c_char_p)
mlp_status_str = _proto("mlp_status_str", C.c_char_p, _int)
mlp_blas_info = _proto("mlp_blas_info", C.c_char_p)
mlp_act_parse = _proto("mlp_act_parse", _int, C.c_char_p)
mlp_act_name = _proto("mlp_act_name", C.c_char_p, _int)
mlp_head_name = _proto("mlp_head_name", C.c_char_p, _int)
mlp_optim_parse = _proto("mlp_optim_parse", _int, C.c_char_p)
mlp_schedule_parse = _proto("mlp_schedule_parse", _int, C.c_char_p)
mlp_qtype_parse = _proto("mlp_qtype_parse", _int, C.c_char_p)
mlp_qtype_name = _proto("mlp_qtype_name", C.c_char_p, _int)

mlp_context_params_default = _proto("mlp_context_params_default", ContextParams)
mlp_context_create = _proto("mlp_context_create", _int, C.POINTER(_vp), C.POINTER(ContextParams), _E)
mlp_context_free = _proto("mlp_context_free", None, _vp)
mlp_context_threads = _proto("mlp_context_threads", _int, _vp)
mlp_context_isa_used = _proto("mlp_context_isa_used", _int, _vp)
mlp_isa_name = _proto("mlp_isa_name", C.c_char_p, _int)

mlp_dataset_free = _proto("mlp_dataset_free", None, C.POINTER(Dataset))
mlp_dataset_split = _proto("mlp_dataset_split", _int, C.POINTER(Dataset), C.POINTER(Split), C.POINTER(Dataset),
                           C.POINTER(Dataset), _E)

mlp_model_params_default = _proto("mlp_model_params_default", ModelParams)
mlp_model_params_from_data = _proto("mlp_model_params_from_data", _int, C.POINTER(ModelParams),
                                    C.POINTER(Dataset), _E)
mlp_model_create = _proto("mlp_model_create", _int, C.POINTER(_vp), C.POINTER(ModelParams), _E)
mlp_model_free = _proto("mlp_model_free", None, _vp)
mlp_model_clone = _proto("mlp_model_clone", _int, C.POINTER(_vp), _vp, _E)
mlp_model_init = _proto("mlp_model_init", _int, _vp, _int, _dbl, _dbl, _u64)
mlp_model_fit_standardize = _proto("mlp_model_fit_standardize", _int, _vp, C.POINTER(Dataset), _E)
mlp_model_set_schema = _proto("mlp_model_set_schema", _int, _vp, _vp, _E)
mlp_model_schema = _proto("mlp_model_schema", _vp, _vp)
mlp_model_train_meta = _proto("mlp_model_train_meta", TrainMeta, _vp)
mlp_model_dtype = _proto("mlp_model_dtype", _int, _vp)
mlp_model_n_in = _proto("mlp_model_n_in", _u32, _vp)
mlp_model_n_out = _proto("mlp_model_n_out", _u32, _vp)
mlp_model_n_layers = _proto("mlp_model_n_layers", _u32, _vp)
mlp_model_layer = _proto("mlp_model_layer", LayerSpec, _vp, _u32)
mlp_model_head = _proto("mlp_model_head", _int, _vp)
mlp_model_input_scale = _proto("mlp_model_input_scale", _dbl, _vp)
mlp_model_n_params = _proto("mlp_model_n_params", _sz, _vp)
mlp_model_params = _proto("mlp_model_params", _vp, _vp)
mlp_model_standardize_mean = _proto("mlp_model_standardize_mean", C.POINTER(_dbl), _vp)
mlp_model_standardize_std = _proto("mlp_model_standardize_std", C.POINTER(_dbl), _vp)
mlp_model_set_context = _proto("mlp_model_set_context", None, _vp, _vp)
mlp_model_w_offset = _proto("mlp_model_w_offset", _sz, _vp, _u32)
mlp_model_b_offset = _proto("mlp_model_b_offset", _sz, _vp, _u32)
mlp_model_check_data = _proto("mlp_model_check_data", _int, _vp, C.POINTER(Dataset), _E)
mlp_model_predict = _proto("mlp_model_predict", _int, _vp, C.POINTER(Dataset), C.POINTER(Rows), _vp, _E)
mlp_model_evaluate = _proto("mlp_model_evaluate", _int, _vp, C.POINTER(Dataset), C.POINTER(_dbl), C.POINTER(_dbl), _E)
mlp_model_save = _proto("mlp_model_save", _int, _vp, C.c_char_p, _E)
mlp_model_load = _proto("mlp_model_load", _int, C.POINTER(_vp), C.c_char_p, _E)
mlp_model_save_mem = _proto("mlp_model_save_mem", _int, _vp, C.POINTER(_vp), C.POINTER(_sz), _E)
mlp_model_load_mem = _proto("mlp_model_load_mem", _int, C.POINTER(_vp), C.POINTER(Buffer), _E)
mlp_model_onnx = _proto("mlp_model_onnx", _int, _vp, C.POINTER(_vp), C.POINTER(_sz), _E)
mlp_model_save_onnx = _proto("mlp_model_save_onnx", _int, _vp, C.c_char_p, _E)

mlp_schema_create = _proto("mlp_schema_create", _int, C.POINTER(_vp), C.POINTER(SchemaParams), _E)
mlp_schema_free = _proto("mlp_schema_free", None, _vp)
mlp_schema_task = _proto("mlp_schema_task", _int, _vp)
mlp_schema_n_classes = _proto("mlp_schema_n_classes", _u32, _vp)
mlp_schema_class = _proto("mlp_schema_class", C.c_char_p, _vp, _u32)

mlp_train_params_default = _proto("mlp_train_params_default", TrainParams)
mlp_trainer_create = _proto("mlp_trainer_create", _int, C.POINTER(_vp), _vp, C.POINTER(Dataset),
                            C.POINTER(TrainParams), _E)
mlp_trainer_free = _proto("mlp_trainer_free", None, _vp)
mlp_trainer_run = _proto("mlp_trainer_run", _int, _vp, _E)
mlp_trainer_continue = _proto("mlp_trainer_continue", _int, _vp, C.POINTER(Dataset), _u32, _E)
mlp_trainer_set_callbacks = _proto("mlp_trainer_set_callbacks", None, _vp, EPOCH_FN, BATCH_FN, _vp)
mlp_trainer_request_stop = _proto("mlp_trainer_request_stop", None, _vp)
mlp_trainer_history = _proto("mlp_trainer_history", C.POINTER(EpochStats), _vp, C.POINTER(_u32))
mlp_trainer_epochs_done = _proto("mlp_trainer_epochs_done", _u32, _vp)
mlp_trainer_stopped_early = _proto("mlp_trainer_stopped_early", _int, _vp)

mlp_qmodel_create = _proto("mlp_qmodel_create", _int, C.POINTER(_vp), _vp, _int, C.POINTER(Dataset), _E)
mlp_qmodel_free = _proto("mlp_qmodel_free", None, _vp)
mlp_qmodel_set_context = _proto("mlp_qmodel_set_context", None, _vp, _vp)
mlp_qmodel_predict = _proto("mlp_qmodel_predict", _int, _vp, C.POINTER(Dataset), C.POINTER(Rows), _vp, _E)
mlp_qmodel_kernel = _proto("mlp_qmodel_kernel", C.c_char_p, _vp)
mlp_qmodel_qtype = _proto("mlp_qmodel_qtype", _int, _vp)
mlp_qmodel_weight_bytes = _proto("mlp_qmodel_weight_bytes", _u64, _vp)

# The C standard library's free, for the buffers *_save_mem and mlp_model_onnx
# return (malloc'd by the library, which links the same libc).
_libc = C.CDLL(None)
libc_free = _libc.free
libc_free.restype = None
libc_free.argtypes = [_vp]


def status_str(status: int) -> str:
    return mlp_status_str(status).decode()


def take_bytes(fn, *args) -> bytes:
    """Run fn(*args, &bytes, &size, &err), copy the result into Python bytes
    and free the library's buffer."""
    p, n = C.c_void_p(), C.c_size_t()
    call(fn, *args, C.byref(p), C.byref(n))
    try:
        return C.string_at(p, n.value)
    finally:
        libc_free(p)


VERSION = mlp_version().decode()
