#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# W5 in scikit-learn, fastmlp's peer: MLPClassifier 784-256-128-10 (ReLU,
# softmax cross-entropy), solver 'adam', lr 1e-3, batch 64, max_iter = epochs
# (one iteration is one epoch for the stochastic solvers), shuffled.
# Inputs are /255 in float64, scikit-learn's own way.  alpha = 0: no L2
# penalty, the same objective as fastmlp's run (sklearn's default 1e-4 costs
# nothing measurable and changes the accuracy by noise only).  Only fit() is
# timed; samples/s = epochs * rows / fit time.  Threads: the BLAS's, set
# through OMP/OPENBLAS/MKL_NUM_THREADS by the caller.
# Usage: w5_sklearn.py DATA_DIR [--rows N] [--epochs E] [--repeat R]
import argparse
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402

from peer_isa import isa_line  # noqa: E402
from w56_common import blas_core, fashion  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description="W5 peer: scikit-learn MLPClassifier")
    ap.add_argument("data_dir")
    ap.add_argument("--rows", type=int, default=60000, help="training rows [60000]")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1, help="fits; the fastest counts [1]")
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    xtr, ytr, xte, yte = fashion(a.data_dir, a.rows)
    xtr = xtr.astype(np.float64) / 255.0
    xte = xte.astype(np.float64) / 255.0
    best, acc = float("inf"), None
    for r in range(a.repeat):
        clf = MLPClassifier(hidden_layer_sizes=(256, 128), activation="relu", solver="adam", alpha=0.0,
                            batch_size=64, learning_rate_init=1e-3, max_iter=a.epochs, shuffle=True,
                            random_state=a.seed + r)
        with warnings.catch_warnings():
            # max_iter = 2 is the workload, not a failure to converge
            warnings.simplefilter("ignore", ConvergenceWarning)
            t0 = time.perf_counter()
            clf.fit(xtr, ytr)
            dt = time.perf_counter() - t0
        if dt < best:
            best = dt
            acc = float((clf.predict(xte) == yte).mean())
    sps = a.epochs * len(xtr) / best
    print(f"sklearn {sklearn.__version__} MLPClassifier adam, alpha 0, f64: {len(xtr)} rows x {a.epochs} epochs, "
          f"fit {best:.2f} s (best of {a.repeat}), {sps:.0f} samples/s, test accuracy {acc:.4f}")
    print(f"sklearn BLAS: {blas_core()}")
    print(isa_line("sklearn"))
    print(f"PEER sps={sps:.0f} acc={acc:.4f}")


if __name__ == "__main__":
    main()
