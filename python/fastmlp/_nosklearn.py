# SPDX-License-Identifier: MIT
"""A NumPy-only stand-in for the few scikit-learn pieces the estimators use,
so that fastmlp needs nothing but NumPy at run time.  With scikit-learn
installed these are not used."""
from __future__ import annotations

import inspect
from types import SimpleNamespace

import numpy as np


class NotFittedError(ValueError, AttributeError):
    pass


class ConvergenceWarning(UserWarning):
    pass


class BaseEstimator:
    @classmethod
    def _get_param_names(cls):
        sig = inspect.signature(cls.__init__)
        return sorted(p.name for p in sig.parameters.values() if p.name != "self" and p.kind != p.VAR_KEYWORD)

    def get_params(self, deep=True):
        return {k: getattr(self, k) for k in self._get_param_names()}

    def set_params(self, **params):
        valid = self._get_param_names()
        for k, v in params.items():
            if k not in valid:
                raise ValueError(f"Invalid parameter {k!r} for estimator {type(self).__name__}")
            setattr(self, k, v)
        return self

    def __sklearn_tags__(self):
        return SimpleNamespace(input_tags=SimpleNamespace(allow_nan=False),
                               target_tags=SimpleNamespace(multi_output=False, single_output=True))

    def __repr__(self):
        return f"{type(self).__name__}()"


class ClassifierMixin:
    def score(self, X, y):
        return float(np.mean(self.predict(X) == np.asarray(y)))


class RegressorMixin:
    def score(self, X, y):
        y = np.asarray(y, dtype=np.float64)
        p = np.asarray(self.predict(X), dtype=np.float64).reshape(y.shape)
        ss_res = ((y - p) ** 2).sum(axis=0)
        ss_tot = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
        r2 = np.where(ss_tot > 0, 1 - ss_res / np.where(ss_tot > 0, ss_tot, 1), np.where(ss_res > 0, 0.0, 1.0))
        return float(np.mean(r2))


def check_is_fitted(est, attr):
    if not hasattr(est, attr):
        raise NotFittedError(f"This {type(est).__name__} instance is not fitted yet. Call 'fit' first.")


def column_or_1d(y, warn=False):
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        return y.ravel()
    if y.ndim != 1:
        raise ValueError(f"y should be a 1d array, got an array of shape {y.shape} instead.")
    return y


def check_classification_targets(y):
    if y.dtype.kind == "f" and np.any(y != np.round(y)):
        raise ValueError("Unknown label type: continuous. Maybe you are trying to fit a classifier, which expects "
                         "discrete classes on a regression target with continuous values.")


def validate_data(est, X, y=None, reset=True, dtype=None, **kw):
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"Expected 2D array, got {X.ndim}D array instead")
    if X.dtype not in [np.dtype(d) for d in dtype]:
        X = X.astype(dtype[0])
    X = np.ascontiguousarray(X)
    if X.dtype.kind == "f" and not np.isfinite(X).all():
        raise ValueError("Input X contains NaN or infinity.")
    if reset:
        est.n_features_in_ = X.shape[1]
    elif X.shape[1] != est.n_features_in_:
        raise ValueError(f"X has {X.shape[1]} features, but {type(est).__name__} is expecting "
                         f"{est.n_features_in_} features as input.")
    if y is None:
        return X
    y = np.asarray(y)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"Found input variables with inconsistent numbers of samples: [{X.shape[0]}, {y.shape[0]}]")
    return X, y
