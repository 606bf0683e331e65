#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# W6 in PyTorch (f32, CPU), fastmlp's peer: inference of the W5 network
# (nn.Linear 784-256-128-10, ReLU, softmax) on the 10000 Fashion-MNIST test
# images under torch.inference_mode, as fastmlp bench infer measures it:
# (a) the whole batch in one call, best of RUNS after an untimed one;
# (b) one image per call over the first LATENCY_ROWS images after an untimed
# sweep, each call timed alone: median, p90, p99, mean in microseconds.
# The weights are random (PyTorch's default init): the time does not depend
# on their values, so no accuracy is reported.  The images are converted to
# f32 /255 once, outside the timing (fastmlp scales its uint8 input inside).
# Usage: w6_torch.py DATA_DIR [--runs N] [--latency-rows N] [--threads T]
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from peer_isa import isa_line  # noqa: E402
from w56_common import blas_core, fashion_test_images, latency_stats  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description="W6 peer: PyTorch f32 CPU inference")
    ap.add_argument("data_dir")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--latency-rows", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    x = fashion_test_images(a.data_dir)
    x = torch.from_numpy(x.astype(np.float32) / 255.0)
    n = len(x)
    net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10),
                        nn.Softmax(dim=1)).eval()
    with torch.inference_mode():
        net(x)  # untimed
        best = float("inf")
        for _ in range(a.runs):
            t0 = time.perf_counter()
            out = net(x)
            best = min(best, time.perf_counter() - t0)
        assert out.shape == (n, 10)
        m = min(a.latency_rows, n)
        rows = [x[i:i + 1] for i in range(m)]  # views made outside the timing
        for r in rows:
            net(r)
        us = []
        for r in rows:
            t0 = time.perf_counter()
            net(r)
            us.append((time.perf_counter() - t0) * 1e6)
    med, p90, p99, mean = latency_stats(us)
    print(f"torch {torch.__version__} f32 CPU inference_mode, {torch.get_num_threads()} thread(s), random weights: "
          f"{best * 1e3:.3f} ms per pass over {n} rows (best of {a.runs}), {n / best:.0f} rows/s; batch 1 over {m} "
          f"rows: median {med:.2f} us, p90 {p90:.2f} us, p99 {p99:.2f} us, mean {mean:.2f} us")
    print(f"torch BLAS: {blas_core()}; OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}")
    print(isa_line("torch", torch=torch))
    print(f"PEER rows_per_s={n / best:.0f} latency_us_median={med:.3f} latency_us_p90={p90:.3f} "
          f"latency_us_p99={p99:.3f} latency_us_mean={mean:.3f}")


if __name__ == "__main__":
    main()
