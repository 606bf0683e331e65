# SPDX-License-Identifier: MIT
"""The package as installed: its library, version and struct layouts."""
import importlib.metadata
import os

import numpy as np

import fastmlp
from fastmlp import _lib as L


def test_library_is_the_packages_own():
    pkg = os.path.dirname(fastmlp.__file__)
    assert L.LIB_PATH == os.path.join(pkg, "libfastmlp.so")
    with open("/proc/self/maps") as f:
        maps = [line.split()[-1] for line in f if "libfastmlp" in line]
    assert maps and all(m == L.LIB_PATH for m in maps), maps


def test_version_is_the_librarys():
    assert fastmlp.__version__ == L.mlp_version().decode()
    assert fastmlp.__version__ == importlib.metadata.version("fastmlp")


def test_no_sklearn_fallback_fits(monkeypatch, tmp_path):
    """The runtime needs only NumPy: without scikit-learn the estimators
    still fit, predict and score (a fresh interpreter that cannot import it)."""
    import subprocess
    import sys
    code = (
        "import sys, builtins\n"
        "real = builtins.__import__\n"
        "def imp(name, *a, **k):\n"
        "    if name.split('.')[0] == 'sklearn': raise ImportError('no sklearn here')\n"
        "    return real(name, *a, **k)\n"
        "builtins.__import__ = imp\n"
        "import numpy as np, fastmlp\n"
        "from fastmlp import _estimators\n"
        "assert not _estimators.HAVE_SKLEARN\n"
        "rng = np.random.default_rng(0)\n"
        "X = rng.normal(size=(300, 4)); y = np.where(X[:, 0] + X[:, 1] > 0, 'a', 'b')\n"
        "c = fastmlp.MLPClassifier(max_iter=50, random_state=0).fit(X, y)\n"
        "print(c.score(X, y), c.get_params()['max_iter'])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert float(out[0]) > 0.9 and out[1] == "50"


def test_as_input_rule():
    a = np.zeros((3, 4), np.float32)
    assert fastmlp.as_input(a) is a
    for dt in (np.uint8, np.float64):
        b = np.zeros((3, 4), dt)
        assert fastmlp.as_input(b) is b
    f = np.asfortranarray(np.zeros((3, 4)))
    assert fastmlp.as_input(f, np.float64).flags.c_contiguous
    i = np.zeros((3, 4), np.int64)
    assert fastmlp.as_input(i).dtype == np.float32
