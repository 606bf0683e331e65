#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Golden results for seed 000 (workload W1): one logistic neuron on cat/non-cat.

An independent NumPy implementation of the seed's algorithm, used as the oracle
for tests/test_seed000.c:

    X: train_set_x (209 x 64 x 64 x 3 uint8), each image flattened in C order
       (row i = image i, 12288 features), divided by 255, f64
    y: train_set_y (209, 0/1)
    w = 0 (12288), b = 0
    for e in 1..2000:            # full-batch gradient descent, lr = 0.005
        a    = sigmoid(X w + b)
        cost = -mean(y log a + (1 - y) log(1 - a))   # recorded as epoch e's cost
        dw   = X^T (a - y) / m
        db   = mean(a - y)
        w   -= lr dw;  b -= lr db

The cost recorded at epoch e is computed at the weights BEFORE the e-th update
(epoch 1's cost is log 2).

Usage: /usr/bin/python3 tests/golden/seed000_logreg.py [DATA_DIR_OR_H5_FILE] [OUT_TXT]
  default data: tests/data/train_catvnoncat.h5 in the repository
  default output: seed000_logreg.txt next to this script
"""
import hashlib
import os
import sys

import h5py
import numpy as np

LR = 0.005
EPOCHS = 2000


def recorded(e):
    return e <= 3 or e == 10 or e % 100 == 0


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    path = argv[1] if len(argv) > 1 else os.path.join(repo, "tests", "data")
    if os.path.isdir(path):
        path = os.path.join(path, "train_catvnoncat.h5")
    out_path = argv[2] if len(argv) > 2 else os.path.join(here, "seed000_logreg.txt")

    with open(path, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    with h5py.File(path, "r") as f:
        x = np.asarray(f["train_set_x"][:])
        y = np.asarray(f["train_set_y"][:])
    if x.shape != (209, 64, 64, 3) or x.dtype != np.uint8 or y.shape != (209,):
        sys.exit("unexpected shapes/dtypes: %s %s %s" % (x.shape, x.dtype, y.shape))
    if not np.all((y == 0) | (y == 1)):
        sys.exit("labels are not 0/1")

    m = x.shape[0]
    X = x.reshape(m, -1).astype(np.float64) / 255.0   # C order: sample-major rows
    Y = y.astype(np.float64)
    w = np.zeros(X.shape[1], dtype=np.float64)
    b = 0.0

    lines = []
    for e in range(1, EPOCHS + 1):
        z = X @ w + b
        a = 1.0 / (1.0 + np.exp(-z))
        cost = -np.mean(Y * np.log(a) + (1.0 - Y) * np.log(1.0 - a))
        if not np.isfinite(cost):
            sys.exit("cost not finite at epoch %d" % e)
        d = a - Y
        dw = X.T @ d / m
        db = np.mean(d)
        w -= LR * dw
        b -= LR * db
        if recorded(e):
            lines.append("%d %.17g" % (e, cost))

    a = 1.0 / (1.0 + np.exp(-(X @ w + b)))
    acc = np.mean((a > 0.5) == (Y == 1.0))
    final_cost = -np.mean(Y * np.log(a) + (1.0 - Y) * np.log(1.0 - a))

    cmd = " ".join(["/usr/bin/python3"] + [os.path.relpath(argv[0], repo)
                                           if os.path.isabs(argv[0]) else argv[0]] + argv[1:])
    with open(out_path, "w") as f:
        f.write("# Golden results for seed 000 (W1): logistic regression on cat/non-cat\n")
        f.write("# produced by tests/golden/seed000_logreg.py (independent NumPy implementation)\n")
        f.write("# numpy %s, h5py %s, python %s\n" % (np.__version__, h5py.__version__,
                                                      sys.version.split()[0]))
        f.write("# command: %s\n" % cmd)
        f.write("# data: train_catvnoncat.h5 sha256 %s\n" % sha)
        f.write("# m %d, n %d, x/255, w = 0, b = 0, full-batch GD, lr %g, %d epochs, f64\n"
                % (m, X.shape[1], LR, EPOCHS))
        f.write("# cost at epoch e = full mean BCE at the weights before the e-th update\n")
        f.write("# final: train accuracy (a > 0.5) %.17g (%d/%d), cost after the last update %.17g\n"
                % (acc, int(round(acc * m)), m, final_cost))
        f.write("# lines: 'epoch cost', then final b, ||w||_2, and w[0], w[100], w[12287]\n")
        for line in lines:
            f.write(line + "\n")
        f.write("b %.17g\n" % b)
        f.write("w_l2 %.17g\n" % np.linalg.norm(w))
        f.write("w0 %.17g w100 %.17g w12287 %.17g\n" % (w[0], w[100], w[12287]))
    print("wrote %s (train accuracy %.4f)" % (out_path, acc))


if __name__ == "__main__":
    main(sys.argv)
