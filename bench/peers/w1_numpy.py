#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# W1 (seed 000) in NumPy, written here as fastmlp's peer: one logistic neuron
# on cat/non-cat, zero init, full-batch gradient descent, lr 0.005, f64.  The
# epoch is seed 000's vectorised one (X is features x samples, w a column):
#     A = sigmoid(w^T X + b);  cost = -mean(Y log A + (1 - Y) log(1 - A))
#     dw = X (A - Y)^T / m;    db = mean(A - Y);  w -= lr dw;  b -= lr db
# X is converted to f64 / 255 once, outside the timed loop, as the seed does.
# The cost reported is epoch EPOCHS's, i.e. at the weights before the last
# update: the quantity fastmlp logs as the last train_loss.
# Prints human lines, then "TIME s" (the best loop time) and "COST c".
# Usage: w1_numpy.py H5 [--epochs 2000] [--repeats 3]   (threads: OPENBLAS_NUM_THREADS)
import argparse
import time

import h5py
import numpy as np

from peer_isa import isa_line


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def train(X, Y, epochs, lr):
    m = X.shape[1]
    w = np.zeros((X.shape[0], 1))
    b = 0.0
    cost = float("nan")
    for _ in range(epochs):
        A = sigmoid(np.dot(w.T, X) + b)
        cost = -np.sum(Y * np.log(A) + (1.0 - Y) * np.log(1.0 - A)) / m
        dZ = A - Y
        dw = np.dot(X, dZ.T) / m
        db = np.sum(dZ) / m
        w = w - lr * dw
        b = b - lr * db
    return float(cost)


def main():
    ap = argparse.ArgumentParser(description="W1 (seed 000) NumPy peer")
    ap.add_argument("h5")
    ap.add_argument("--epochs", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--lr", type=float, default=0.005)
    ap.add_argument("--threads", type=int, default=0,
                    help="ignored: NumPy's BLAS threads come from OPENBLAS/OMP_NUM_THREADS")
    a = ap.parse_args()
    with h5py.File(a.h5, "r") as f:
        x = np.asarray(f["train_set_x"][:])
        y = np.asarray(f["train_set_y"][:])
    m = x.shape[0]
    X = x.reshape(m, -1).T / 255.0          # features x samples, f64
    Y = y.reshape(1, m).astype(np.float64)
    times = []
    cost = None
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        c = train(X, Y, a.epochs, a.lr)
        times.append(time.perf_counter() - t0)
        if cost is not None and c != cost:
            raise SystemExit("w1_numpy: repeats disagree: %r vs %r" % (cost, c))
        cost = c
    print("numpy %s" % np.__version__)
    print("numpy: %d epochs, loop times %s s, final cost %.17g"
          % (a.epochs, " ".join("%.4f" % t for t in times), cost))
    print(isa_line("numpy"))
    print("TIME %.6f" % min(times))
    print("COST %.17g" % cost)


if __name__ == "__main__":
    main()
