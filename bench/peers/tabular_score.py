#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# bench/tabular.sh's scorer of fastmlp's predictions (Python's standard
# library only, so fastmlp's figure needs no NumPy): PRED.csv as `fastmlp
# predict -o` writes it, against the `target` column of TEST.csv.
#   classification: PRED's `class` column (the predicted class by the name
#                   the training table gave it: the original label value;
#                   its `label` column is the truth predict read, unused)
#   regression:     PRED's `prediction` column, scored as R^2
# Labels compare as numbers when both sides are numbers ("1" == "1.0"),
# else as strings.
# Usage: tabular_score.py PRED.csv TEST.csv TRAIN.csv
# Prints "accuracy V" or "r2 V"; exits 1 with one stderr line when PRED does
# not fit TEST.
import csv
import sys


def column(path, name):
    """The named column of a CSV file with a header row, or None when absent."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise ValueError(f"{path}: empty")
    head = [h.strip() for h in rows[0]]
    if name not in head:
        return None
    j = head.index(name)
    return [r[j] for r in rows[1:] if r]


def num(s):
    try:
        return float(s)
    except ValueError:
        return None


def same(a, b):
    x, y = num(a), num(b)
    return x == y if x is not None and y is not None else a.strip() == b.strip()


def main():
    if len(sys.argv) != 4:
        print("usage: tabular_score.py PRED.csv TEST.csv TRAIN.csv", file=sys.stderr)
        return 64
    pred, test, _train = sys.argv[1:]
    truth = column(test, "target")
    if truth is None:
        print(f"{test}: no target column", file=sys.stderr)
        return 1
    got = column(pred, "prediction")
    if got is not None:
        if len(got) != len(truth):
            print(f"{pred}: {len(got)} predictions for {len(truth)} rows", file=sys.stderr)
            return 1
        y = [float(v) for v in truth]
        p = [float(v) for v in got]
        mean = sum(y) / len(y)
        ss_tot = sum((v - mean) ** 2 for v in y)
        ss_res = sum((a - b) ** 2 for a, b in zip(y, p))
        print(f"r2 {1.0 - ss_res / ss_tot:.4f}")
        return 0
    # `class` is the predicted class as the training table named it (the
    # original label value); `label`, when there, is the truth predict read
    got = column(pred, "class")
    if got is None:
        with open(pred, encoding="utf-8-sig") as f:
            head = f.readline().strip()
        print(f"{pred}: no class or prediction column (header: {head[:80]})", file=sys.stderr)
        return 1
    if len(got) != len(truth):
        print(f"{pred}: {len(got)} predictions for {len(truth)} rows", file=sys.stderr)
        return 1
    right = sum(same(a, b) for a, b in zip(got, truth))
    print(f"accuracy {right / len(truth):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
