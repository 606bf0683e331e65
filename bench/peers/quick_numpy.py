#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Seed 003's quick benchmark in NumPy, written here as fastmlp's peer for W4:
# a batch-1 forward pass through LAYERS dense DIM x DIM layers (np.dot, bias,
# sigmoid or tanh), NEPOCHS times, timed as a whole like the seed's
# quick_benchmark.py.  Exponent arguments are clipped, as in the seed, so no
# overflow or underflow warning fires (np.seterr(all="raise") checks it).
# Usage: quick_numpy.py [-n 50] [-p f4] [-l 100] [-d 1024] [-a sigmoid]
import argparse
import time

import numpy as np

from peer_isa import isa_line


def main():
    ap = argparse.ArgumentParser(description="seed 003 quick benchmark, NumPy peer")
    ap.add_argument("-n", "--nepochs", type=int, default=50)
    ap.add_argument("-p", "--precision", default="f4", choices=["f4", "f8", "f32", "f64"])
    ap.add_argument("-l", "--layers", type=int, default=100)
    ap.add_argument("-d", "--dimension", type=int, default=1024)
    ap.add_argument("-a", "--activation", default="sigmoid", choices=["sigmoid", "tanh"])
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    dt = np.float32 if a.precision in ("f4", "f32") else np.float64
    np.seterr(all="raise")
    rng = np.random.default_rng(a.seed)
    r = 1.0 / np.sqrt(a.dimension)
    ws = [rng.uniform(-r, r, (a.dimension, a.dimension)).astype(dt) for _ in range(a.layers)]
    bs = [rng.uniform(-r, r, a.dimension).astype(dt) for _ in range(a.layers)]
    x = rng.uniform(0, 1, a.dimension).astype(dt)
    lim = dt(80 if dt == np.float32 else 700)

    def forward(v):
        for w, b in zip(ws, bs):
            z = np.dot(w, v) + b
            if a.activation == "sigmoid":
                v = 1 / (1 + np.exp(-np.clip(z, -lim, lim)))
            else:
                v = np.tanh(z)
        return v

    forward(x)  # untimed, as fastmlp's first run
    t0 = time.perf_counter()
    for _ in range(a.nepochs):
        out = forward(x)
    dt_s = time.perf_counter() - t0
    assert np.all(np.isfinite(out))
    print(f"Total time for {a.nepochs} run(s) was {dt_s * 1e3:.6f} ms")
    print(f"numpy {np.__version__}")
    print(isa_line("numpy"))
    print(f"MS {dt_s * 1e3:.6f}")


if __name__ == "__main__":
    main()
