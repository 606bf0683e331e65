#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# W6 in PyTorch (f32, CPU or CUDA), fastmlp's peer: inference of the W5 network
# (nn.Linear 784-256-128-10, ReLU, softmax) on the 10000 Fashion-MNIST test
# images under torch.inference_mode, as fastmlp bench infer measures it:
# (a) the whole batch in one call, best of RUNS after an untimed one;
# (b) one image per call over the first LATENCY_ROWS images after an untimed
# sweep, each call timed alone: median, p90, p99, mean in microseconds.
# The weights are random (PyTorch's default init): the time does not depend
# on their values, so no accuracy is reported.  The images are converted to
# f32 /255 once, outside the timing (fastmlp scales its uint8 input inside).
# --device cuda (W6 on a GPU) moves the images and the network's parameters
# to the GPU once, before any timing (as a user would), keeps f32 with TF32
# off (exact f32 GEMMs, as fastmlp's CUDA default); the untimed pass and the
# untimed sweep above are the warm-up -- so CUDA context creation, cuBLAS
# initialisation and the first kernel loads are NOT timed -- and every timed
# call, the whole batch and each batch-1 call alike, ends with
# torch.cuda.synchronize() before the clock is read.  The outputs stay on
# the GPU: no host<->GPU copy is timed.  It prints one more human line,
# "GPU: NAME ...".  Where torch sees no CUDA GPU it says so on stderr and
# exits with status 2.  --threads still sets torch's CPU threads.  On the
# CPU (the default) nothing changes.
# Usage: w6_torch.py DATA_DIR [--runs N] [--latency-rows N] [--threads T] [--device cpu|cuda]
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
from w56_common import blas_core, fashion_test_images, latency_stats  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description="W6 peer: PyTorch f32 inference (CPU or CUDA)")
    ap.add_argument("data_dir")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--latency-rows", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="where torch computes [cpu]")
    a = ap.parse_args()
    gpu = a.device == "cuda"
    gpu_line = cuda_or_exit("w6_torch") if gpu else None
    dev = torch.device(a.device)
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    x = fashion_test_images(a.data_dir)
    x = torch.from_numpy(x.astype(np.float32) / 255.0)
    n = len(x)
    net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10),
                        nn.Softmax(dim=1)).eval()
    if gpu:
        # on the GPU once, before any timing
        x, net = x.to(dev), net.to(dev)
    with torch.inference_mode():
        net(x)  # untimed
        if gpu:
            torch.cuda.synchronize()
        best = float("inf")
        for _ in range(a.runs):
            t0 = time.perf_counter()
            out = net(x)
            if gpu:
                torch.cuda.synchronize()
            best = min(best, time.perf_counter() - t0)
        assert out.shape == (n, 10)
        m = min(a.latency_rows, n)
        rows = [x[i:i + 1] for i in range(m)]  # views made outside the timing
        for r in rows:
            net(r)
        us = []
        if gpu:
            sync = torch.cuda.synchronize
            sync()
            for r in rows:
                t0 = time.perf_counter()
                net(r)
                sync()
                us.append((time.perf_counter() - t0) * 1e6)
        else:
            for r in rows:
                t0 = time.perf_counter()
                net(r)
                us.append((time.perf_counter() - t0) * 1e6)
    med, p90, p99, mean = latency_stats(us)
    where = "CUDA inference_mode, CPU:" if gpu else "CPU inference_mode,"
    print(f"torch {torch.__version__} f32 {where} {torch.get_num_threads()} thread(s), random weights: "
          f"{best * 1e3:.3f} ms per pass over {n} rows (best of {a.runs}), {n / best:.0f} rows/s; batch 1 over {m} "
          f"rows: median {med:.2f} us, p90 {p90:.2f} us, p99 {p99:.2f} us, mean {mean:.2f} us")
    if gpu:
        print(gpu_line)
    print(f"torch BLAS: {blas_core()}; OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}")
    print(isa_line("torch", torch=torch))
    print(f"PEER rows_per_s={n / best:.0f} latency_us_median={med:.3f} latency_us_p90={p90:.3f} "
          f"latency_us_p99={p99:.3f} latency_us_mean={mean:.3f}")


if __name__ == "__main__":
    main()
