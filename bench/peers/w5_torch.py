#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# W5 in PyTorch (f32, CPU or CUDA), fastmlp's peer: nn.Linear 784-256-128-10 with
# ReLU, CrossEntropyLoss (softmax cross-entropy), Adam lr 1e-3, batch 64,
# rows shuffled each epoch.  The data sits in memory as f32 tensors (/255)
# and each batch is an index_select of a random permutation -- the fastest
# plain-PyTorch loop (a DataLoader would add its own overhead).  Only the
# training loop is timed; samples/s = epochs * rows / loop time.
# --device cuda (G2: W5 on a GPU) moves the data tensors and the network's
# parameters to the GPU once, before any timing (as a user would; each
# epoch's permutation is drawn on the GPU), keeps f32 with TF32 off (exact
# f32 GEMMs, as fastmlp's CUDA default), and trains a throwaway network for a
# few untimed warm-up batches first -- so CUDA context creation, cuBLAS
# initialisation and the first kernel loads are NOT in the loop time -- and
# ends each timed loop with torch.cuda.synchronize() before the clock is
# read.  It prints one more human line, "GPU: NAME ...".  Where torch sees no
# CUDA GPU it says so on stderr and exits with status 2.  --threads still
# sets torch's CPU threads.  On the CPU (the default) nothing changes.
# Usage: w5_torch.py DATA_DIR [--rows N] [--epochs E] [--threads T] [--repeat R] [--device cpu|cuda]
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from peer_isa import isa_line  # noqa: E402
from torch_device import cuda_or_exit  # noqa: E402
from w56_common import blas_core, fashion  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description="W5 peer: PyTorch f32 (CPU or CUDA)")
    ap.add_argument("data_dir")
    ap.add_argument("--rows", type=int, default=60000, help="training rows [60000]")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1, help="training runs; the fastest counts [1]")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="where torch computes [cpu]")
    a = ap.parse_args()
    gpu = a.device == "cuda"
    gpu_line = cuda_or_exit("w5_torch") if gpu else None
    dev = torch.device(a.device)
    torch.set_num_threads(a.threads)
    xtr, ytr, xte, yte = fashion(a.data_dir, a.rows)
    xtr = torch.from_numpy(xtr.astype(np.float32) / 255.0)
    ytr = torch.from_numpy(ytr)
    xte = torch.from_numpy(xte.astype(np.float32) / 255.0)
    yte = torch.from_numpy(yte)
    if gpu:
        # on the GPU once, before any timing
        xtr, ytr, xte, yte = xtr.to(dev), ytr.to(dev), xte.to(dev), yte.to(dev)
    n = len(xtr)

    def mlp():
        return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                             nn.Linear(128, 10)).to(dev)

    if gpu:
        # untimed warm-up on a throwaway network (the timed ones are seeded
        # afresh below): context, cuBLAS, Adam's and the loss's kernels
        net = mlp()
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        loss_fn = nn.CrossEntropyLoss()
        perm = torch.randperm(n, device=dev)
        for b0 in range(0, min(n, 10 * 64), 64):
            idx = perm[b0:b0 + 64]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
        torch.cuda.synchronize()
        del net, opt, loss
    best, acc = float("inf"), None
    for r in range(a.repeat):
        torch.manual_seed(a.seed + r)
        net = mlp()
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        loss_fn = nn.CrossEntropyLoss()
        if gpu:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(a.epochs):
            perm = torch.randperm(n, device=dev)
            for b0 in range(0, n, 64):
                idx = perm[b0:b0 + 64]
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(net(xtr[idx]), ytr[idx])
                loss.backward()
                opt.step()
        if gpu:
            torch.cuda.synchronize()
        dt = time.perf_counter() - t0
        if dt < best:
            best = dt
            with torch.inference_mode():
                acc = float((net(xte).argmax(1) == yte).float().mean())
    sps = a.epochs * n / best
    where = "CUDA, CPU:" if gpu else "CPU,"
    print(f"torch {torch.__version__} f32 {where} {torch.get_num_threads()} thread(s): {n} rows x {a.epochs} epochs, "
          f"loop {best:.2f} s (best of {a.repeat}), {sps:.0f} samples/s, test accuracy {acc:.4f}")
    if gpu:
        print(gpu_line)
    print(f"torch BLAS: {blas_core()}; OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}")
    print(isa_line("torch", torch=torch))
    print(f"PEER sps={sps:.0f} acc={acc:.4f}")


if __name__ == "__main__":
    main()
