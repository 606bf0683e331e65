#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# bench/python.sh's tabular part: fastmlp.MLPClassifier beside
# scikit-learn's MLPClassifier on scikit-learn's bundled data sets (digits,
# breast_cancer, wine: load_*, no download), both with scikit-learn's
# defaults: hidden (100,), relu, adam, lr 1e-3, max_iter 200, alpha 1e-4,
# batch 'auto' (min(200, rows)), tol 1e-4 with n_iter_no_change 10 (the
# same stopping rule in both).  fastmlp standardises float inputs inside the
# model by default (standardize='auto'); scikit-learn gets the same through
# make_pipeline(StandardScaler(), MLPClassifier(...)), the scaler's fit
# timed with it.  fastmlp computes in float64 here, as scikit-learn does
# (dtype None follows X, which is float64) and runs n_threads=--threads;
# scikit-learn's BLAS threads are the caller's OMP/OPENBLAS_NUM_THREADS.
# One split per data set: train_test_split(test_size=0.25, stratify=y,
# random_state=--split-seed); each estimator is fitted once per seed
# (random_state = 0..--seeds-1) on it.  Timed: fit() alone, on arrays
# already in memory.  Reported per data set and estimator: the median fit
# time, the mean test accuracy and the mean n_iter_ (epochs run before the
# stopping rule or max_iter ended the fit).
# Usage: python_tabular.py [NAME...] [--seeds N] [--split-seed S] [--threads T] [--no-sklearn]
# Prints, per NAME: PEER name=NAME rows=R fastmlp_fit_s=T fastmlp_acc=A fastmlp_iter=I
#                   sklearn_fit_s=T sklearn_acc=A sklearn_iter=I   (n/a for a peer left out)
import argparse
import os
import statistics
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn import datasets  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import fastmlp  # noqa: E402
from peer_isa import isa_line  # noqa: E402

LOADERS = {"digits": datasets.load_digits, "breast_cancer": datasets.load_breast_cancer, "wine": datasets.load_wine}


def fastmlp_est(seed, threads):
    return fastmlp.MLPClassifier(random_state=seed, n_threads=threads)


def sklearn_est(seed, threads):
    return make_pipeline(StandardScaler(), MLPClassifier(random_state=seed))


def run(make, xtr, ytr, xte, yte, seeds, threads):
    """(median fit seconds, mean accuracy, mean n_iter_, fits that hit max_iter)"""
    times, accs, iters, capped = [], [], [], 0
    for seed in range(seeds):
        est = make(seed, threads)
        with warnings.catch_warnings():
            # max_iter reached is a result here (counted), not a failure
            warnings.simplefilter("ignore", ConvergenceWarning)
            t0 = time.perf_counter()
            est.fit(xtr, ytr)
            times.append(time.perf_counter() - t0)
        clf = est[-1] if hasattr(est, "steps") else est
        accs.append(est.score(xte, yte))
        iters.append(clf.n_iter_)
        capped += clf.n_iter_ >= clf.max_iter
    return statistics.median(times), float(np.mean(accs)), float(np.mean(iters)), capped


def main():
    ap = argparse.ArgumentParser(description="fastmlp.MLPClassifier beside scikit-learn's on bundled data sets")
    ap.add_argument("names", nargs="*", default=list(LOADERS))
    ap.add_argument("--seeds", type=int, default=5, help="random_state 0..N-1 [5]")
    ap.add_argument("--split-seed", type=int, default=0, help="train_test_split's random_state [0]")
    ap.add_argument("--threads", type=int, default=2, help="fastmlp's n_threads [2]")
    ap.add_argument("--no-sklearn", action="store_true", help="leave scikit-learn's estimator out")
    a = ap.parse_args()
    for name in a.names:
        if name not in LOADERS:
            ap.error(f"unknown data set {name!r}: one of {', '.join(LOADERS)}")
    print(f"fastmlp {fastmlp.__version__} (BLAS {fastmlp.blas_info()}); scikit-learn {sklearn.__version__}; "
          f"split test_size 0.25 stratified, random_state {a.split_seed}; seeds 0..{a.seeds - 1}")
    peers = [("fastmlp", fastmlp_est)] + ([] if a.no_sklearn else [("sklearn", sklearn_est)])
    for name in a.names:
        X, y = LOADERS[name](return_X_y=True)
        X = np.ascontiguousarray(X, dtype=np.float64)
        xtr, xte, ytr, yte = train_test_split(X, y, test_size=0.25, stratify=y, random_state=a.split_seed)
        fields = [f"name={name}", f"rows={len(xtr)}"]
        for who, make in [("fastmlp", fastmlp_est), ("sklearn", sklearn_est)]:
            if (who, make) not in peers:
                fields += [f"{who}_fit_s=n/a", f"{who}_acc=n/a", f"{who}_iter=n/a"]
                continue
            fit_s, acc, it, capped = run(make, xtr, ytr, xte, yte, a.seeds, a.threads)
            print(f"{who} {name}: {len(xtr)} train x {X.shape[1]} features, {len(xte)} test, {len(set(y))} classes: "
                  f"fit {fit_s:.4f} s (median of {a.seeds}), accuracy {acc:.4f} (mean), {it:.1f} epochs (mean; "
                  f"{capped} of {a.seeds} stopped by max_iter)")
            fields += [f"{who}_fit_s={fit_s:.4f}", f"{who}_acc={acc:.4f}", f"{who}_iter={it:.1f}"]
        print("PEER " + " ".join(fields))
    print(isa_line("python-tabular"))


if __name__ == "__main__":
    main()
