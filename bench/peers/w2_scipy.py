#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# W2 (seed 001) in NumPy + SciPy, written here as fastmlp's peer: the galaxy
# network 1024-8-3 (sigmoid hidden, sigmoid outputs), per-class cross-entropy
# with L2 (lambda = 1, biases excluded), trained by scipy.optimize.fmin_cg.
# Seed 001's formulation, with its per-sample gradient loop vectorised:
#     a1 = [1, X]   (the bias column, added once outside the timed call)
#     a2 = [1, g(a1 Theta1^T)];  h = g(a2 Theta2^T)          g = logistic
#     J  = -sum(Y log h + (1 - Y) log(1 - h)) / m
#          + lambda / (2m) (sum Theta1[:, 1:]^2 + sum Theta2[:, 1:]^2)
#     d3 = h - Y;  d2 = (d3 Theta2[:, 1:]) g'(z2)
#     grad Theta2 = d3^T a2 / m,  grad Theta1 = d2^T a1 / m  (+ lambda/m Theta, bias column excluded)
# Start as the seed's: np.random.seed(917), Theta = rand * 0.4 - 0.2.
# Only the fmin_cg call is timed (no per-iteration callback work beyond
# counting iterations).  Prints human lines, then "TIME s" (the best of the
# repeats), "COST J" (fmin_cg's fopt), "ITERS n", "FEVALS n", "GEVALS n".
# Usage: w2_scipy.py CSV [--maxiter 600] [--repeats 3]
#   CSV: first column the label 0/1/2, then 1024 pixels 0..255
import argparse
import time

import numpy as np
import scipy
import scipy.optimize as opt

from peer_isa import isa_line

N_HID, N_OUT = 8, 3
LAMBDA = 1.0


def g(z):
    return 1.0 / (1.0 + np.exp(-z))


def make_fun(a1, Y, n_in):
    m = a1.shape[0]
    ones = np.ones((m, 1))
    k1 = N_HID * (n_in + 1)

    def unflatten(theta):
        return theta[:k1].reshape(N_HID, n_in + 1), theta[k1:].reshape(N_OUT, N_HID + 1)

    def cost(theta):
        T1, T2 = unflatten(theta)
        a2 = np.hstack((ones, g(a1 @ T1.T)))
        h = g(a2 @ T2.T)
        J = -np.sum(Y * np.log(h) + (1.0 - Y) * np.log(1.0 - h)) / m
        return J + LAMBDA / (2 * m) * (np.sum(T1[:, 1:] ** 2) + np.sum(T2[:, 1:] ** 2))

    def grad(theta):
        T1, T2 = unflatten(theta)
        s2 = g(a1 @ T1.T)
        a2 = np.hstack((ones, s2))
        h = g(a2 @ T2.T)
        d3 = h - Y
        d2 = (d3 @ T2[:, 1:]) * s2 * (1.0 - s2)
        G1 = d2.T @ a1 / m
        G2 = d3.T @ a2 / m
        G1[:, 1:] += LAMBDA / m * T1[:, 1:]
        G2[:, 1:] += LAMBDA / m * T2[:, 1:]
        return np.concatenate((G1.ravel(), G2.ravel()))

    return cost, grad


def main():
    ap = argparse.ArgumentParser(description="W2 (seed 001) NumPy + SciPy fmin_cg peer")
    ap.add_argument("csv")
    ap.add_argument("--maxiter", type=int, default=600)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0,
                    help="ignored: NumPy's BLAS threads come from OPENBLAS/OMP_NUM_THREADS")
    a = ap.parse_args()
    D = np.loadtxt(a.csv, delimiter=",")
    labels = D[:, 0].astype(int)
    X = D[:, 1:] / 255.0
    m, n_in = X.shape
    Y = np.zeros((m, N_OUT))
    Y[np.arange(m), labels] = 1.0
    a1 = np.hstack((np.ones((m, 1)), X))
    cost, grad = make_fun(a1, Y, n_in)

    np.random.seed(917)
    T1 = np.random.rand(N_HID, n_in + 1) * 0.4 - 0.2
    T2 = np.random.rand(N_OUT, N_HID + 1) * 0.4 - 0.2
    theta0 = np.concatenate((T1.ravel(), T2.ravel()))
    J0 = cost(theta0)

    times = []
    for _ in range(a.repeats):
        iters = [0]

        def count(_xk):
            iters[0] += 1
        t0 = time.perf_counter()
        xopt, fopt, fc, gc, warn = opt.fmin_cg(cost, theta0.copy(), fprime=grad, maxiter=a.maxiter,
                                               full_output=True, disp=False, callback=count)
        times.append(time.perf_counter() - t0)
    h = g(np.hstack((np.ones((m, 1)), g(a1 @ xopt[:N_HID * (n_in + 1)].reshape(N_HID, -1).T)))
          @ xopt[N_HID * (n_in + 1):].reshape(N_OUT, -1).T)
    acc = np.mean(np.argmax(h, axis=1) == labels)
    print("numpy %s, scipy %s" % (np.__version__, scipy.__version__))
    print("scipy fmin_cg: %d x %d rows, start cost %.6f, %d iterations, %d function / %d gradient evaluations,"
          " warnflag %d, final cost %.17g, train accuracy %.4f"
          % (m, n_in, J0, iters[0], fc, gc, warn, fopt, acc))
    print("scipy fmin_cg: times %s s" % " ".join("%.3f" % t for t in times))
    print(isa_line("scipy"))
    print("TIME %.6f" % min(times))
    print("COST %.17g" % fopt)
    print("ITERS %d" % iters[0])
    print("FEVALS %d" % fc)
    print("GEVALS %d" % gc)


if __name__ == "__main__":
    main()
