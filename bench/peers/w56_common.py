# SPDX-License-Identifier: MIT
"""What the W5/W6 peers share: reading Fashion-MNIST's IDX files (gzip or
plain), the BLAS core the process loaded, and latency statistics computed
as fastmlp bench infer computes them (linear interpolation between ranks)."""
import gzip
import os
import re
import struct

import numpy as np


def read_idx(path, limit=None):
    """The array an IDX file holds (uint8 images n x rows x cols, or uint8
    labels), its first `limit` items when limit is given."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        magic = f.read(4)
        if len(magic) != 4 or magic[0] != 0 or magic[1] != 0 or magic[2] != 0x08:
            raise ValueError(f"{path}: not an IDX file of unsigned bytes")
        ndim = magic[3]
        dims = struct.unpack(">" + "I" * ndim, f.read(4 * ndim))
        n = dims[0] if limit is None else min(limit, dims[0])
        per = int(np.prod(dims[1:])) if ndim > 1 else 1
        data = np.frombuffer(f.read(n * per), dtype=np.uint8)
    if data.size != n * per:
        raise ValueError(f"{path}: truncated")
    return data.reshape((n,) + tuple(dims[1:]))


def fashion_path(data_dir, name):
    """DATA_DIR/NAME.gz, or DATA_DIR/NAME when only that is there."""
    gz = os.path.join(data_dir, name + ".gz")
    return gz if os.path.exists(gz) else os.path.join(data_dir, name)


def fashion_test_images(data_dir):
    """The 10000 test images, uint8 10000 x 784."""
    return read_idx(fashion_path(data_dir, "t10k-images-idx3-ubyte")).reshape(-1, 784)


def fashion(data_dir, train_rows=None):
    """(x_train uint8 n x 784, y_train, x_test uint8 10000 x 784, y_test)."""
    def p(name):
        return fashion_path(data_dir, name)
    xtr = read_idx(p("train-images-idx3-ubyte"), train_rows).reshape(-1, 784)
    ytr = read_idx(p("train-labels-idx1-ubyte"), train_rows).astype(np.int64)
    xte = read_idx(p("t10k-images-idx3-ubyte")).reshape(-1, 784)
    yte = read_idx(p("t10k-labels-idx1-ubyte")).astype(np.int64)
    return xtr, ytr, xte, yte


def blas_core():
    """'OpenBLAS ... core=NAME' for the OpenBLAS this process loaded, else
    the BLAS libraries mapped, else 'none loaded'."""
    import ctypes
    with open("/proc/self/maps") as f:
        libs = sorted(set(re.findall(r"(/\S*(?:openblas|blis|mkl_rt|libblas)\S*\.so\S*)", f.read())))
    for lib in libs:
        if "openblas" not in lib:
            continue
        try:
            ob = ctypes.CDLL(lib)
            ob.openblas_get_corename.restype = ctypes.c_char_p
            ob.openblas_get_config.restype = ctypes.c_char_p
            return f"{ob.openblas_get_config().decode()}; core={ob.openblas_get_corename().decode()}"
        except (OSError, AttributeError):
            continue
    return ", ".join(os.path.basename(x) for x in libs) or "none loaded"


def latency_stats(us):
    """median, p90, p99, mean of a list of microsecond timings."""
    a = np.asarray(us, dtype=np.float64)
    med, p90, p99 = np.percentile(a, [50, 90, 99])
    return med, p90, p99, float(a.mean())
