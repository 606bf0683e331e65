#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# W3 (seed 002) in NumPy (f64), written here as fastmlp's peer: 784-10 ReLU-10
# softmax, cross-entropy, full-batch gradient descent, lr 0.1, on the first
# LIMIT Fashion-MNIST training images (x/255), init U(-0.5, 0.5).  Seed 002's
# formulation: samples are columns (X is 784 x m), biases are columns,
#     Z1 = W1 X + b1;  A1 = relu(Z1);  Z2 = W2 A1 + b2;  A2 = softmax(Z2)
#     dZ2 = A2 - onehot(Y);  dW2 = dZ2 A1^T / m;  db2 = row sums of dZ2 / m
#     dZ1 = W2^T dZ2 * (Z1 > 0);  dW1 = dZ1 X^T / m;  db1 = row sums of dZ1 / m
# and the softmax is exp(Z) / sum(exp(Z)) as the seed's (no max shift).  The
# cross-entropy is computed every iteration (fastmlp logs it too); the one
# reported is the last iteration's, at the weights before its update.
# Prints human lines, then "TIME s" (best loop time over the repeats), "ITERS n",
# "COST c" and "TEST_ACC a" (after the loop, on the 10000 test images).
# Usage: w3_numpy.py FMNIST_DIR [--limit 41000] [--iters 50] [--repeats 3]
import argparse
import gzip
import os
import time

import numpy as np

from peer_isa import isa_line


def load_idx(path, offset):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def load(d, prefix, limit):
    x = load_idx(os.path.join(d, prefix + "-images-idx3-ubyte.gz"), 16).reshape(-1, 784)
    y = load_idx(os.path.join(d, prefix + "-labels-idx1-ubyte.gz"), 8).astype(np.int64)
    if limit:
        x, y = x[:limit], y[:limit]
    return x, y


def softmax(Z):
    E = np.exp(Z)
    return E / np.sum(E, axis=0, keepdims=True)


def forward(W1, b1, W2, b2, X):
    Z1 = W1.dot(X) + b1
    A1 = np.maximum(Z1, 0)
    Z2 = W2.dot(A1) + b2
    return Z1, A1, softmax(Z2)


def train(X, Y, params, iters, lr):
    W1, b1, W2, b2 = (p.copy() for p in params)
    m = X.shape[1]
    onehot = np.zeros((10, m))
    onehot[Y, np.arange(m)] = 1.0
    cols = np.arange(m)
    cost = float("nan")
    for _ in range(iters):
        Z1, A1, A2 = forward(W1, b1, W2, b2, X)
        cost = -np.mean(np.log(A2[Y, cols]))
        dZ2 = A2 - onehot
        dW2 = dZ2.dot(A1.T) / m
        db2 = np.sum(dZ2, axis=1, keepdims=True) / m
        dZ1 = W2.T.dot(dZ2) * (Z1 > 0)
        dW1 = dZ1.dot(X.T) / m
        db1 = np.sum(dZ1, axis=1, keepdims=True) / m
        W1 = W1 - lr * dW1
        b1 = b1 - lr * db1
        W2 = W2 - lr * dW2
        b2 = b2 - lr * db2
    return (W1, b1, W2, b2), float(cost)


def main():
    ap = argparse.ArgumentParser(description="W3 (seed 002) NumPy f64 peer")
    ap.add_argument("dir", help="directory of the Fashion-MNIST *-ubyte.gz files")
    ap.add_argument("--limit", type=int, default=41000)
    ap.add_argument("--iters", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=0,
                    help="ignored: NumPy's BLAS threads come from OPENBLAS/OMP_NUM_THREADS")
    a = ap.parse_args()
    x, y = load(a.dir, "train", a.limit)
    xt, yt = load(a.dir, "t10k", 0)
    X = x.T / 255.0                       # 784 x m, f64
    Xt = xt.T / 255.0
    rng = np.random.default_rng(a.seed)
    params = (rng.random((10, 784)) - 0.5, rng.random((10, 1)) - 0.5,
              rng.random((10, 10)) - 0.5, rng.random((10, 1)) - 0.5)
    times = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        trained, cost = train(X, y, params, a.iters, a.lr)
        times.append(time.perf_counter() - t0)
    if not np.isfinite(cost):
        raise SystemExit("w3_numpy: the cost is not finite")
    acc = float(np.mean(np.argmax(forward(*trained, Xt)[2], axis=0) == yt))
    best = min(times)
    print("numpy %s (f64): %d x 784, %d iterations, loop times %s s (%.1f ms/iteration),"
          " last cost %.6f, test accuracy %.4f"
          % (np.__version__, X.shape[1], a.iters, " ".join("%.3f" % t for t in times),
             best / a.iters * 1e3, cost, acc))
    print(isa_line("numpy"))
    print("TIME %.6f" % best)
    print("ITERS %d" % a.iters)
    print("COST %.17g" % cost)
    print("TEST_ACC %.4f" % acc)


if __name__ == "__main__":
    main()
