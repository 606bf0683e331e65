# SPDX-License-Identifier: MIT
"""Shared fixtures: where the repository and its CLI are, small data sets."""
import os
import shutil

import numpy as np
import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DATA = os.path.join(ROOT, "tests", "data")


def pytest_report_header(config):
    import fastmlp
    return [f"fastmlp {fastmlp.__version__} from {os.path.dirname(fastmlp.__file__)}", fastmlp.blas_info()]


@pytest.fixture(scope="session")
def cli():
    """The fastmlp command line of this tree: $FASTMLP_CLI (make test sets it
    to build/fastmlp), else build/fastmlp, else one on PATH.  Missing is a
    failure, not a skip: the round trips are part of what is tested."""
    for c in (os.environ.get("FASTMLP_CLI"), os.path.join(ROOT, "build", "fastmlp"), shutil.which("fastmlp")):
        if c and os.access(c, os.X_OK):
            return c
    pytest.fail("no fastmlp CLI: build it (cmake --build build) or set FASTMLP_CLI")


@pytest.fixture(scope="session")
def blobs():
    """Three Gaussian blobs in 6 dimensions, float64, labelled with strings."""
    rng = np.random.default_rng(0)
    centers = rng.normal(0, 3, size=(3, 6))
    X = np.concatenate([c + rng.normal(size=(200, 6)) for c in centers])
    y = np.repeat(np.array(["cat", "dog", "emu"]), 200)
    p = rng.permutation(len(X))
    return X[p], y[p]


def read_csv(path):
    """A numeric CSV with a header and the label column named target: X, y (as text)."""
    with open(path) as f:
        header = f.readline().strip().split(",")
        rows = [line.strip().split(",") for line in f if line.strip()]
    t = header.index("target")
    X = np.array([[float(v) for i, v in enumerate(r) if i != t] for r in rows])
    y = np.array([r[t] for r in rows])
    return X, y
