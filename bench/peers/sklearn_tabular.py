#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# bench/tabular.sh's peer: scikit-learn's defaults on tests/data/tabular.
# For each NAME: MLPClassifier(random_state=SEED) (MLPRegressor for
# diabetes), everything else at its default, fitted on NAME_train.csv and
# scored on NAME_test.csv (accuracy, or R^2), alone and after a
# StandardScaler; penguins_like through its imputer and one-hot encoder.
# The estimators are tests/data/tabular/sklearn_reference.py's (one
# definition of "scikit-learn's defaults" for the reference file and the
# benchmark).  Only fit() is timed (not reading the CSV); the best of
# --repeat fits counts.  Threads: the BLAS's own choice, as a user gets it.
# Usage: sklearn_tabular.py DATA_DIR NAME... [--seed S] [--repeat R]
# Prints, per NAME: PEER name=NAME metric=accuracy|r2 value=V fit_s=T value_scaled=V fit_scaled_s=T
import argparse
import os
import sys
import time
import warnings

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "..", "tests", "data", "tabular"))
import sklearn  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from peer_isa import isa_line  # noqa: E402
from sklearn_reference import SETS, load, model  # noqa: E402


def run(data_dir, name, metric, seed, scale, repeat):
    """(best fit seconds, test score, whether fit() warned ConvergenceWarning)"""
    xtr, ytr = load(data_dir, name, "train")
    xte, yte = load(data_dir, name, "test")
    best, score, warned = float("inf"), None, False
    for _ in range(repeat):
        m = model(xtr, metric, seed, scale)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always", ConvergenceWarning)
            t0 = time.perf_counter()
            m.fit(xtr, ytr)
            dt = time.perf_counter() - t0
        warned = any(issubclass(x.category, ConvergenceWarning) for x in w)
        if dt < best:
            best, score = dt, m.score(xte, yte)
    return best, score, warned


def main():
    ap = argparse.ArgumentParser(description="bench/tabular.sh's peer: scikit-learn defaults")
    ap.add_argument("data_dir")
    ap.add_argument("names", nargs="+")
    ap.add_argument("--seed", type=int, default=0, help="random_state [0]")
    ap.add_argument("--repeat", type=int, default=1, help="fits of each; the fastest counts [1]")
    a = ap.parse_args()
    metrics = dict(SETS)
    print(f"sklearn {sklearn.__version__}: MLPClassifier/MLPRegressor defaults, random_state {a.seed}, "
          f"best of {a.repeat} fit(s)")
    for name in a.names:
        if name not in metrics:
            print(f"{sys.argv[0]}: unknown data set {name}", file=sys.stderr)
            return 64
        t, v, w = run(a.data_dir, name, metrics[name], a.seed, False, a.repeat)
        ts, vs, ws = run(a.data_dir, name, metrics[name], a.seed, True, a.repeat)
        for what, warned in (("", w), ("+scaler", ws)):
            if warned:
                print(f"sklearn {name}{what}: ConvergenceWarning (max_iter 200 reached)")
        print(f"PEER name={name} metric={metrics[name]} value={v:.4f} fit_s={t:.4f} "
              f"value_scaled={vs:.4f} fit_scaled_s={ts:.4f}")
    print(isa_line("sklearn"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
