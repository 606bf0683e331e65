#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# W6 in NumPy (f32), fastmlp's peer: inference of the W5 network
# (784-256-128-10, ReLU, softmax) written as three matrix products, on the
# 10000 Fashion-MNIST test images, as fastmlp bench infer measures it: the
# whole batch (best of RUNS after an untimed pass) and one image per call
# (median, p90, p99, mean in microseconds, after an untimed sweep).  The
# weights are random (He-uniform): the time does not depend on their values,
# so no accuracy is reported.  Images are f32 /255, converted once untimed.
# Threads: the BLAS's, set through OMP/OPENBLAS/MKL_NUM_THREADS by the caller.
# Usage: w6_numpy.py DATA_DIR [--runs N] [--latency-rows N]
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402

from peer_isa import isa_line  # noqa: E402
from w56_common import blas_core, fashion_test_images, latency_stats  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description="W6 peer: NumPy f32 inference")
    ap.add_argument("data_dir")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--latency-rows", type=int, default=1000)
    a = ap.parse_args()
    rng = np.random.default_rng(1)
    sizes = [784, 256, 128, 10]
    # weights stored transposed (in x out) so that a row batch is x @ W
    ws = [rng.uniform(-1, 1, (i, o)).astype(np.float32) * np.float32(np.sqrt(6.0 / i))
          for i, o in zip(sizes, sizes[1:])]
    bs = [np.zeros(o, np.float32) for o in sizes[1:]]
    x = fashion_test_images(a.data_dir)
    x = x.astype(np.float32) / np.float32(255)
    n = len(x)

    def forward(v):
        h = np.maximum(v @ ws[0] + bs[0], 0)
        h = np.maximum(h @ ws[1] + bs[1], 0)
        z = h @ ws[2] + bs[2]
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    forward(x)  # untimed
    best = float("inf")
    for _ in range(a.runs):
        t0 = time.perf_counter()
        out = forward(x)
        best = min(best, time.perf_counter() - t0)
    assert out.shape == (n, 10) and np.all(np.isfinite(out))
    m = min(a.latency_rows, n)
    rows = [x[i:i + 1] for i in range(m)]
    for r in rows:
        forward(r)
    us = []
    for r in rows:
        t0 = time.perf_counter()
        forward(r)
        us.append((time.perf_counter() - t0) * 1e6)
    med, p90, p99, mean = latency_stats(us)
    print(f"numpy {np.__version__} f32, random weights: {best * 1e3:.3f} ms per pass over {n} rows (best of "
          f"{a.runs}), {n / best:.0f} rows/s; batch 1 over {m} rows: median {med:.2f} us, p90 {p90:.2f} us, "
          f"p99 {p99:.2f} us, mean {mean:.2f} us")
    print(f"numpy BLAS: {blas_core()}")
    print(isa_line("numpy"))
    print(f"PEER rows_per_s={n / best:.0f} latency_us_median={med:.3f} latency_us_p90={p90:.3f} "
          f"latency_us_p99={p99:.3f} latency_us_mean={mean:.3f}")


if __name__ == "__main__":
    main()
