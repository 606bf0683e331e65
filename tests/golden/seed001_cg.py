#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Golden results for seed 001 (workload W2): SciPy's fmin_cg on the galaxy network.

The oracle for the W2 check in tests/test_minimize.c, which runs fastmlp's CG on
the same cost from the same start and must end no worse than SciPy:

    data: galaxy_test.csv (first column label 0/1/2, then 1024 pixels), X = pixels / 255
    net:  1024-8-3, sigmoid hidden, sigmoid outputs
    cost: J = -(1/m) sum_rows sum_k [y_k log h_k + (1 - y_k) log(1 - h_k)]
              + lambda/(2m) * (sum W1^2 + sum W2^2)        (biases excluded, lambda = 1)
          with y one-hot; log h = -logaddexp(0, -z), log(1 - h) = -logaddexp(0, z)
    flat parameter vector, fastmlp's layout: W1 (8 x 1024, row-major), b1 (8),
          W2 (3 x 8, row-major), b2 (3): 8227 numbers
    start: theta0[i] = 0.2 * sin(i + 1)   (written into the output, all 8227 values,
          so that the C side starts from the very same doubles)

Runs scipy.optimize.fmin_cg (defaults: gtol 1e-5, norm inf) with maxiter 50 and
600, and L-BFGS-B (maxiter 600) for reference, recording the final cost, the
iterations, and the function/gradient evaluation counts.

Usage: /usr/bin/python3 tests/golden/seed001_cg.py [CSV] [OUT_TXT]
  default data: tests/data/galaxy_test.csv in the repository
  default output: seed001_cg.txt next to this script
"""
import hashlib
import os
import platform
import sys

import numpy as np
import scipy
import scipy.optimize as opt

N_IN, N_HID, N_OUT = 1024, 8, 3
LAMBDA = 1.0


def unflatten(t):
    o = 0
    W1 = t[o:o + N_HID * N_IN].reshape(N_HID, N_IN); o += N_HID * N_IN
    b1 = t[o:o + N_HID]; o += N_HID
    W2 = t[o:o + N_OUT * N_HID].reshape(N_OUT, N_HID); o += N_OUT * N_HID
    b2 = t[o:o + N_OUT]; o += N_OUT
    return W1, b1, W2, b2


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def make_fun(X, Y):
    m = X.shape[0]

    def cost(t):
        W1, b1, W2, b2 = unflatten(t)
        a2 = sigmoid(X @ W1.T + b1)
        z3 = a2 @ W2.T + b2
        ce = np.sum(Y * np.logaddexp(0, -z3) + (1 - Y) * np.logaddexp(0, z3)) / m
        return ce + LAMBDA / (2 * m) * (np.sum(W1 * W1) + np.sum(W2 * W2))

    def grad(t):
        W1, b1, W2, b2 = unflatten(t)
        a2 = sigmoid(X @ W1.T + b1)
        h = sigmoid(a2 @ W2.T + b2)
        d3 = (h - Y) / m                       # dJ/dz3
        d2 = (d3 @ W2) * a2 * (1 - a2)         # dJ/dz2
        gW2 = d3.T @ a2 + (LAMBDA / m) * W2
        gW1 = d2.T @ X + (LAMBDA / m) * W1
        return np.concatenate([gW1.ravel(), d2.sum(0), gW2.ravel(), d3.sum(0)])

    return cost, grad


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    csv = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "tests", "data", "galaxy_test.csv")
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "seed001_cg.txt")
    raw = open(csv, "rb").read()
    D = np.loadtxt(csv, delimiter=",")
    labels = D[:, 0].astype(int)
    X = D[:, 1:] / 255.0
    m = X.shape[0]
    assert X.shape[1] == N_IN
    Y = np.zeros((m, N_OUT))
    Y[np.arange(m), labels] = 1.0
    cost, grad = make_fun(X, Y)

    n = N_HID * N_IN + N_HID + N_OUT * N_HID + N_OUT
    theta0 = 0.2 * np.sin(np.arange(n, dtype=np.float64) + 1.0)
    J0 = cost(theta0)

    # gradient check at the start (central differences on a few coordinates)
    g0 = grad(theta0)
    for i in (0, 5000, N_HID * N_IN + 3, n - 5, n - 1):
        e = np.zeros(n); e[i] = 1e-6
        num = (cost(theta0 + e) - cost(theta0 - e)) / 2e-6
        assert abs(num - g0[i]) <= 1e-7 * max(1.0, abs(num)), (i, num, g0[i])

    runs = []
    for maxiter in (50, 600):
        iters = [0]

        def cb(xk):
            iters[0] += 1
        xopt, fopt, fc, gc, warn = opt.fmin_cg(cost, theta0.copy(), fprime=grad, maxiter=maxiter,
                                               full_output=True, disp=False, callback=cb)
        runs.append(("cg", maxiter, fopt, iters[0], fc, gc, warn, float(np.max(np.abs(grad(xopt))))))
    r = opt.minimize(cost, theta0.copy(), jac=grad, method="L-BFGS-B", options={"maxiter": 600})
    runs.append(("lbfgsb", 600, float(r.fun), int(r.nit), int(r.nfev), int(r.nfev), int(r.status),
                 float(np.max(np.abs(r.jac)))))

    with open(out, "w") as f:
        f.write("# Golden results for seed 001 (W2): SciPy fmin_cg on the galaxy network\n")
        f.write("# produced by tests/golden/seed001_cg.py (independent NumPy/SciPy implementation)\n")
        f.write("# numpy %s, scipy %s, python %s\n" % (np.__version__, scipy.__version__, platform.python_version()))
        f.write("# command: /usr/bin/python3 tests/golden/seed001_cg.py\n")
        f.write("# data: galaxy_test.csv sha256 %s, m %d, x/255\n" % (hashlib.sha256(raw).hexdigest(), m))
        f.write("# net 1024-8-3 sigmoid/sigmoid, per-class cross-entropy summed over outputs, mean over rows,\n")
        f.write("# L2 lambda/(2m) sum w^2 (no biases), lambda 1; flat layout W1 b1 W2 b2 (fastmlp's)\n")
        f.write("# fmin_cg defaults (gtol 1e-5, norm inf, c1 1e-4, c2 0.4); L-BFGS-B defaults, maxiter 600\n")
        f.write("# lines: 'n N', 'cost0 J', then 'run METHOD MAXITER FINAL_COST ITERATIONS FEVALS GEVALS WARNFLAG MAX|G|',\n")
        f.write("# then 'theta0' and the N starting values theta0[i] = 0.2 sin(i + 1), one per line\n")
        f.write("n %d\n" % n)
        f.write("cost0 %.17g\n" % J0)
        for (meth, mi, fo, it, fc, gc, warn, gn) in runs:
            f.write("run %s %d %.17g %d %d %d %d %.6g\n" % (meth, mi, fo, it, fc, gc, warn, gn))
        f.write("theta0\n")
        for v in theta0:
            f.write("%.17g\n" % v)
    for r_ in runs:
        print(*r_)


if __name__ == "__main__":
    main()
