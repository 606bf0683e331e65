# SPDX-License-Identifier: MIT
"""fastmlp: fully-connected neural networks trained and run by a C engine.

    import fastmlp
    clf = fastmlp.MLPClassifier(hidden_layer_sizes=(100,), max_iter=50).fit(X, y)
    clf.predict(X_test); clf.save("model.mlp")       # `fastmlp predict` reads it
    m = fastmlp.load("model.mlp")                    # written by `fastmlp train`
    m.to_onnx("model.onnx"); q = m.quantize("int8")

The estimators follow scikit-learn's conventions (and are scikit-learn
estimators when it is installed); fastmlp.Model is a trained network as the
command line knows it.  Errors from the library are raised as ValueError
(bad input), OSError (files) or MemoryError subclasses of FastmlpError,
carrying the library's one-line message.
"""
from ._lib import (FastmlpDivergedError, FastmlpError, FastmlpMemoryError, FastmlpOSError,  # noqa: F401
                   FastmlpValueError, VERSION)
from ._core import Model, QuantizedModel, load, as_input  # noqa: F401
from ._estimators import MLPClassifier, MLPRegressor  # noqa: F401
from . import _lib

__version__: str = VERSION


def blas_info() -> str:
    """The BLAS the library runs and its kernel core ("OpenBLAS 0.3.21 ... core=Zen")."""
    return _lib.mlp_blas_info().decode()


__all__ = ["MLPClassifier", "MLPRegressor", "Model", "QuantizedModel", "load", "as_input", "blas_info",
           "FastmlpError", "FastmlpValueError", "FastmlpOSError", "FastmlpMemoryError", "FastmlpDivergedError",
           "__version__"]
