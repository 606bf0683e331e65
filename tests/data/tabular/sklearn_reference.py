#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""scikit-learn's figures on this directory's data, the reference of issue
15's target ("fastmlp's test accuracy with no flags beyond --train/--test is
within one point of scikit-learn's defaults or better"): writes
sklearn_reference.txt.

For every data set and random_state 0..4: MLPClassifier() (MLPRegressor()
for diabetes) with every other argument at its default, fitted on
NAME_train.csv (read by pandas.read_csv, defaults), scored on NAME_test.csv:
accuracy, or R^2 for diabetes.  Two rows per data set:
  NAME          the estimator alone, on the features as the file holds them
  NAME+scaler   make_pipeline(StandardScaler(), estimator): what the
                scikit-learn user guide tells a user to do
penguins_like has strings and missing values, which MLPClassifier cannot
take, so both of its rows go through a ColumnTransformer: numeric columns
SimpleImputer(mean) (then StandardScaler in the +scaler row), string columns
SimpleImputer(most_frequent) then OneHotEncoder(handle_unknown='ignore').

    /usr/bin/python3 sklearn_reference.py [DATA_DIR] > sklearn_reference.txt

Output: '#' comment lines (versions, the ConvergenceWarnings seen), then
one 'NAME SEED VALUE' line per fit and a 'NAME mean VALUE' line per row."""
import os
import sys
import warnings

import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

SEEDS = range(5)
SETS = [("iris", "accuracy"), ("wine", "accuracy"), ("breast_cancer", "accuracy"),
        ("digits", "accuracy"), ("penguins_like", "accuracy"), ("diabetes", "r2")]


def load(data_dir, name, part):
    df = pd.read_csv(os.path.join(data_dir, f"{name}_{part}.csv"))
    return df.drop(columns="target"), df["target"]


def model(x, metric, seed, scale):
    est = MLPRegressor(random_state=seed) if metric == "r2" else MLPClassifier(random_state=seed)
    strings = [c for c in x.columns if x[c].dtype == object]
    if strings:
        numbers = [c for c in x.columns if c not in strings]
        num = [SimpleImputer(strategy="mean")] + ([StandardScaler()] if scale else [])
        pre = ColumnTransformer([
            ("num", make_pipeline(*num), numbers),
            ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                  OneHotEncoder(handle_unknown="ignore")), strings)])
        return make_pipeline(pre, est)
    return make_pipeline(StandardScaler(), est) if scale else est


def fit_score(data_dir, name, metric, seed, scale):
    """(test accuracy or R^2, n_iter_, whether fit() warned ConvergenceWarning)"""
    xtr, ytr = load(data_dir, name, "train")
    xte, yte = load(data_dir, name, "test")
    m = model(xtr, metric, seed, scale)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always", ConvergenceWarning)
        m.fit(xtr, ytr)
    warned = any(issubclass(x.category, ConvergenceWarning) for x in w)
    est = m[-1] if hasattr(m, "steps") else m
    return m.score(xte, yte), est.n_iter_, warned


def blas():
    """The BLAS this process loaded and its core, as threadpoolctl reports them."""
    try:
        import threadpoolctl
    except ImportError:
        return "unknown (no threadpoolctl)"
    libs = [f"{i.get('internal_api')} {i.get('version')} core={i.get('architecture')}, "
            f"{i.get('num_threads')} threads"
            for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
    return "; ".join(libs) or "none loaded"


def main():
    data_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    rows, notes = [], []
    for name, metric in SETS:
        for scale in (False, True):
            label = name + ("+scaler" if scale else "")
            vals, iters, warned = [], [], []
            for seed in SEEDS:
                v, it, wd = fit_score(data_dir, name, metric, seed, scale)
                vals.append(v)
                iters.append(it)
                if wd:
                    warned.append(seed)
                rows.append(f"{label} {seed} {v:.6f}")
            rows.append(f"{label} mean {np.mean(vals):.6f}")
            notes.append(f"# {label}: {metric}, n_iter_ {' '.join(map(str, iters))}; ConvergenceWarning "
                         + (f"(max_iter 200 reached) for seeds {' '.join(map(str, warned))}" if warned
                            else "for no seed"))
    print("# scikit-learn defaults on tests/data/tabular (written by sklearn_reference.py)")
    print(f"# scikit-learn {sklearn.__version__}, numpy {np.__version__}, pandas {pd.__version__}, "
          f"python {sys.version.split()[0]}")
    print(f"# BLAS: {blas()} (the figures may move in the last digits with another BLAS core)")
    print("# MLPClassifier()/MLPRegressor(): hidden (100,), relu, adam lr 1e-3, alpha 1e-4, batch min(200, n),")
    print("# max_iter 200, tol 1e-4, n_iter_no_change 10, early_stopping False; random_state = SEED.")
    print("# NAME: the estimator alone; NAME+scaler: StandardScaler first. penguins_like (both rows): numeric")
    print("# columns mean-imputed, string columns most-frequent-imputed and one-hot encoded.")
    print("# VALUE: test accuracy; for diabetes, test R^2.")
    for n in notes:
        print(n)
    print("# NAME SEED VALUE")
    for r in rows:
        print(r)


if __name__ == "__main__":
    main()
