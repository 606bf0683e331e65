#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# W3 (seed 002) in PyTorch (f32, CPU or CUDA), written here as fastmlp's peer: the
# formulation of bench/peers/w3_numpy.py (seed 002's, samples as columns,
# hand-written backward pass, softmax without a max shift), on tensors:
#     Z1 = W1 X + b1;  A1 = relu(Z1);  Z2 = W2 A1 + b2;  A2 = softmax(Z2)
#     dZ2 = A2 - onehot(Y);  dW2 = dZ2 A1^T / m;  db2 = row sums of dZ2 / m
#     dZ1 = W2^T dZ2 * (Z1 > 0);  dW1 = dZ1 X^T / m;  db1 = row sums of dZ1 / m
# The cost reported is the last iteration's, at the weights before its update.
# Prints human lines, then "TIME s" (best loop time over the repeats), "ITERS n",
# "COST c" and "TEST_ACC a" (after the loop, on the 10000 test images).
# --device cuda (G1: W3 on a GPU) moves the data and the initial weights to
# the GPU once, before any timing (as a user would), keeps f32 with TF32 off
# (exact f32 GEMMs, as fastmlp's CUDA default), runs one untimed warm-up
# iteration first -- so CUDA context creation, cuBLAS initialisation and the
# first kernel loads are NOT in TIME -- and ends each timed loop with
# torch.cuda.synchronize() before the clock is read.  It prints one more human
# line, "GPU: NAME ...".  Where torch sees no CUDA GPU it says so on stderr
# and exits with status 2.  --threads still sets torch's CPU threads.  On the
# CPU (the default) nothing changes: no warm-up, the same lines.
# Usage: w3_torch.py FMNIST_DIR [--limit 41000] [--iters 50] [--repeats 3] [--threads T] [--device cpu|cuda]
import argparse
import gzip
import os
import time

import numpy as np
import torch

from peer_isa import isa_line
from torch_device import cuda_or_exit


def load_idx(path, offset):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def load(d, prefix, limit):
    x = load_idx(os.path.join(d, prefix + "-images-idx3-ubyte.gz"), 16).reshape(-1, 784)
    y = load_idx(os.path.join(d, prefix + "-labels-idx1-ubyte.gz"), 8).astype(np.int64)
    if limit:
        x, y = x[:limit], y[:limit]
    return x, y


def forward(W1, b1, W2, b2, X):
    Z1 = W1 @ X + b1
    A1 = torch.clamp(Z1, min=0)
    E = torch.exp(W2 @ A1 + b2)
    return Z1, A1, E / torch.sum(E, dim=0, keepdim=True)


def train(X, Y, params, iters, lr):
    W1, b1, W2, b2 = (p.clone() for p in params)
    m = X.shape[1]
    onehot = torch.zeros((10, m), dtype=X.dtype, device=X.device)
    cols = torch.arange(m, device=X.device)
    onehot[Y, cols] = 1.0
    cost = float("nan")
    with torch.no_grad():
        for _ in range(iters):
            Z1, A1, A2 = forward(W1, b1, W2, b2, X)
            cost = -torch.mean(torch.log(A2[Y, cols]))
            dZ2 = A2 - onehot
            dW2 = dZ2 @ A1.T / m
            db2 = torch.sum(dZ2, dim=1, keepdim=True) / m
            dZ1 = (W2.T @ dZ2) * (Z1 > 0)
            dW1 = dZ1 @ X.T / m
            db1 = torch.sum(dZ1, dim=1, keepdim=True) / m
            W1 = W1 - lr * dW1
            b1 = b1 - lr * db1
            W2 = W2 - lr * dW2
            b2 = b2 - lr * db2
    return (W1, b1, W2, b2), float(cost)


def main():
    ap = argparse.ArgumentParser(description="W3 (seed 002) PyTorch f32 peer (CPU or CUDA)")
    ap.add_argument("dir", help="directory of the Fashion-MNIST *-ubyte.gz files")
    ap.add_argument("--limit", type=int, default=41000)
    ap.add_argument("--iters", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads; 0 = torch's default")
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="where torch computes [cpu]")
    a = ap.parse_args()
    gpu = a.device == "cuda"
    gpu_line = cuda_or_exit("w3_torch") if gpu else None
    dev = torch.device(a.device)
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    x, y = load(a.dir, "train", a.limit)
    xt, yt = load(a.dir, "t10k", 0)
    X = torch.from_numpy(np.ascontiguousarray(x.T)).float() / 255.0      # 784 x m, f32
    Xt = torch.from_numpy(np.ascontiguousarray(xt.T)).float() / 255.0
    Y = torch.from_numpy(y)
    g = torch.Generator().manual_seed(a.seed)
    params = tuple(torch.rand(s, generator=g) - 0.5 for s in ((10, 784), (10, 1), (10, 10), (10, 1)))
    if gpu:
        # on the GPU once, before any timing; the same initial values as on the CPU
        X, Xt, Y = X.to(dev), Xt.to(dev), Y.to(dev)
        params = tuple(p.to(dev) for p in params)
        train(X, Y, params, 1, a.lr)  # untimed warm-up: context, cuBLAS, kernel loads
        torch.cuda.synchronize()
    times = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        trained, cost = train(X, Y, params, a.iters, a.lr)
        if gpu:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    if not np.isfinite(cost):
        raise SystemExit("w3_torch: the cost is not finite")
    with torch.no_grad():
        pred = torch.argmax(forward(*trained, Xt)[2], dim=0).cpu().numpy()
    acc = float(np.mean(pred == yt))
    best = min(times)
    print("torch %s (f32, %s %d threads): %d x 784, %d iterations, loop times %s s (%.1f ms/iteration),"
          " last cost %.6f, test accuracy %.4f"
          % (torch.__version__, "CUDA, CPU:" if gpu else "CPU,", torch.get_num_threads(), X.shape[1], a.iters,
             " ".join("%.3f" % t for t in times), best / a.iters * 1e3, cost, acc))
    if gpu:
        print(gpu_line)
    print(isa_line("torch", torch=torch))
    print("TIME %.6f" % best)
    print("ITERS %d" % a.iters)
    print("COST %.17g" % cost)
    print("TEST_ACC %.4f" % acc)


if __name__ == "__main__":
    main()
