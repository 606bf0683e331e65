#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Seed 003's quick benchmark in PyTorch, fastmlp's second peer for W4: a
# batch-1 forward pass through LAYERS dense DIM x DIM layers (torch.addmv:
# bias + W x, then sigmoid or tanh), NEPOCHS times, timed as a whole like
# the seed's quick_benchmark.py, under torch.inference_mode.  -p bf16 keeps
# weights and activations in torch.bfloat16 (PyTorch's CPU kernels for it;
# whether they use AVX512_BF16 is PyTorch's business).
# Usage: quick_torch.py [-n 50] [-p f4|bf16] [-l 100] [-d 1024] [-a sigmoid] [-t T]
import argparse
import time

import torch

from peer_isa import isa_line


def main():
    ap = argparse.ArgumentParser(description="seed 003 quick benchmark, PyTorch peer")
    ap.add_argument("-n", "--nepochs", type=int, default=50)
    ap.add_argument("-p", "--precision", default="f4", choices=["f4", "f32", "f8", "f64", "bf16", "b2"])
    ap.add_argument("-l", "--layers", type=int, default=100)
    ap.add_argument("-d", "--dimension", type=int, default=1024)
    ap.add_argument("-a", "--activation", default="sigmoid", choices=["sigmoid", "tanh"])
    ap.add_argument("-t", "--threads", type=int, default=0, help="0: PyTorch's default")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    dt = {"f4": torch.float32, "f32": torch.float32, "f8": torch.float64, "f64": torch.float64,
          "bf16": torch.bfloat16, "b2": torch.bfloat16}[a.precision]
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    g = torch.Generator().manual_seed(a.seed)
    r = 1.0 / a.dimension ** 0.5
    ws = [((torch.rand(a.dimension, a.dimension, generator=g) * 2 - 1) * r).to(dt) for _ in range(a.layers)]
    bs = [((torch.rand(a.dimension, generator=g) * 2 - 1) * r).to(dt) for _ in range(a.layers)]
    x = torch.rand(a.dimension, generator=g).to(dt)
    act = torch.sigmoid if a.activation == "sigmoid" else torch.tanh

    def forward(v):
        for w, b in zip(ws, bs):
            v = act(torch.addmv(b, w, v))
        return v

    with torch.inference_mode():
        forward(x)  # untimed, as fastmlp's first run
        t0 = time.perf_counter()
        for _ in range(a.nepochs):
            out = forward(x)
        dt_s = time.perf_counter() - t0
    assert bool(torch.isfinite(out.float()).all())
    print(f"Total time for {a.nepochs} run(s) was {dt_s * 1e3:.6f} ms")
    print(f"torch {torch.__version__} threads {torch.get_num_threads()} {dt}")
    print(isa_line("torch", torch=torch))
    print(f"MS {dt_s * 1e3:.6f}")


if __name__ == "__main__":
    main()
