#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# W1 (seed 000) in PyTorch (CPU, f64), written here as fastmlp's peer: the
# same vectorised epoch as bench/peers/w1_numpy.py (seed 000's), on tensors:
#     A = sigmoid(w^T X + b);  cost = -mean(Y log A + (1 - Y) log(1 - A))
#     dw = X (A - Y)^T / m;    db = mean(A - Y);  w -= lr dw;  b -= lr db
# X is converted to f64 / 255 once, outside the timed loop.  The cost is
# epoch EPOCHS's (at the weights before the last update), as fastmlp logs it.
# Prints human lines, then "TIME s" (the best loop time) and "COST c".
# Usage: w1_torch.py H5 [--epochs 2000] [--repeats 3] [--threads T]
import argparse
import time

import h5py
import numpy as np
import torch

from peer_isa import isa_line


def train(X, Y, epochs, lr):
    m = X.shape[1]
    w = torch.zeros((X.shape[0], 1), dtype=torch.float64)
    b = torch.zeros((), dtype=torch.float64)
    cost = None
    with torch.no_grad():
        for _ in range(epochs):
            A = torch.sigmoid(w.T @ X + b)
            cost = -torch.sum(Y * torch.log(A) + (1.0 - Y) * torch.log(1.0 - A)) / m
            dZ = A - Y
            dw = (X @ dZ.T) / m
            db = torch.sum(dZ) / m
            w = w - lr * dw
            b = b - lr * db
    return float(cost)


def main():
    ap = argparse.ArgumentParser(description="W1 (seed 000) PyTorch peer")
    ap.add_argument("h5")
    ap.add_argument("--epochs", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--lr", type=float, default=0.005)
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads; 0 = torch's default")
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    with h5py.File(a.h5, "r") as f:
        x = np.asarray(f["train_set_x"][:])
        y = np.asarray(f["train_set_y"][:])
    m = x.shape[0]
    X = torch.from_numpy(np.ascontiguousarray(x.reshape(m, -1).T / 255.0))   # features x samples, f64
    Y = torch.from_numpy(y.reshape(1, m).astype(np.float64))
    times = []
    cost = None
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        c = train(X, Y, a.epochs, a.lr)
        times.append(time.perf_counter() - t0)
        cost = c
    print("torch %s, %d threads" % (torch.__version__, torch.get_num_threads()))
    print("torch: %d epochs, loop times %s s, final cost %.17g"
          % (a.epochs, " ".join("%.4f" % t for t in times), cost))
    print(isa_line("torch", torch=torch))
    print("TIME %.6f" % min(times))
    print("COST %.17g" % cost)


if __name__ == "__main__":
    main()
