#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Peer for bench/csv_load: numpy.loadtxt on the same CSV (delimiter ',',
best of 3), printed as MB/s (file bytes / wall time, 1 MB = 10^6 bytes).
Usage: csv_numpy.py FILE [REPEATS]"""
import os
import sys
import time

import numpy as np

from peer_isa import isa_line


def main():
    path = sys.argv[1]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    mb = os.path.getsize(path) / 1e6
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        a = np.loadtxt(path, delimiter=",")
        best = min(best, time.perf_counter() - t0)
    print(f"numpy {np.__version__} loadtxt: {path}: {mb:.1f} MB, {a.shape[0]} x {a.shape[1]} "
          f"(f64): best of {repeats} {best * 1e3:.0f} ms = {mb / best:.0f} MB/s")
    print(isa_line("numpy"))  # loadtxt uses no BLAS: printed for the header's ISA= only
    print(f"MBPS {mb / best:.1f}")


if __name__ == "__main__":
    main()
