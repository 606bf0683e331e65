#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes the tabular test data of issue 15 (item 5) as a user would bring it:
CSV files as pandas writes a DataFrame (to_csv(index=False): a header row of
feature names, floats as pandas formats them, missing values as empty
fields), the label in a column named `target`, last.

Needs scikit-learn, NumPy and pandas only; no download (the four classic
data sets and diabetes ship with scikit-learn; penguins_like is generated
here from a fixed seed).  Deterministic: running it again writes the same
bytes (tests/cli/test_tabular_data.sh checks that, and SHA256SUMS).

    /usr/bin/python3 make_tabular.py [OUT_DIR]     # default: this script's directory

Files (see README.md beside this script for sizes and the label encodings):
  iris_{train,test}.csv            labels: species names (setosa, versicolor, virginica)
  wine_{train,test}.csv            labels: 1, 2, 3 (the UCI original's cultivars)
  breast_cancer_{train,test}.csv   labels: -1 malignant, 1 benign
  digits_{train,test}.csv          labels: 0..9; the 64 pixels written as floats (0.0 .. 16.0)
  diabetes_{train,test}.csv        regression: the real-valued target, unscaled features
  penguins_like_{train,test}.csv   synthetic mixed table: numbers, strings, missing values
  unnamed_header.csv               wine from an unnamed frame: header 0,1,...,13, labels 0..2
Every split: train_test_split(test_size=0.25, random_state=0), stratified
on the label for classification.
"""
import os
import sys

import numpy as np
import pandas as pd
from sklearn import datasets
from sklearn.model_selection import train_test_split

SPLIT_SEED = 0
PENGUIN_SEED = 20240515
PENGUIN_ROWS = 300


def write(df, out_dir, name):
    # "\n" whatever the platform: the bytes are checked against SHA256SUMS
    with open(os.path.join(out_dir, name), "w", newline="", encoding="utf-8") as f:
        df.to_csv(f, index=False, lineterminator="\n")


def split_write(df, out_dir, name, stratify=True):
    tr, te = train_test_split(df, test_size=0.25, random_state=SPLIT_SEED,
                              stratify=df["target"] if stratify else None)
    write(tr, out_dir, f"{name}_train.csv")
    write(te, out_dir, f"{name}_test.csv")
    return tr, te


def frame(bunch, target):
    df = pd.DataFrame(np.asarray(bunch.data, dtype=np.float64), columns=list(bunch.feature_names))
    df["target"] = target
    return df


def penguins_like():
    """A Palmer-penguins-shaped table: species depends on island (Torgersen
    holds Adelie only, Dream Adelie and Chinstrap, Biscoe Adelie and Gentoo)
    and on the measurements (Adelie: short bills; Gentoo: shallow bills, long
    flippers, heavy); males are larger, so sex matters too.  The spread is
    wider than the real birds' so that no single column decides alone.
    `year` is noise.  Missing values are placed after the split (see below)."""
    rng = np.random.default_rng(PENGUIN_SEED)
    n = PENGUIN_ROWS
    island = rng.choice(["Biscoe", "Dream", "Torgersen"], size=n, p=[0.45, 0.37, 0.18])
    u = rng.random(n)
    species = np.where(island == "Torgersen", "Adelie",
                       np.where(island == "Dream", np.where(u < 0.45, "Adelie", "Chinstrap"),
                                np.where(u < 0.25, "Adelie", "Gentoo")))
    sex = rng.choice(["female", "male"], size=n)
    male = (sex == "male").astype(np.float64)
    # per species: bill length, bill depth, flipper length, body mass (female means)
    mean = {"Adelie": (37.3, 17.6, 187.0, 3370.0), "Chinstrap": (46.6, 17.6, 192.0, 3530.0),
            "Gentoo": (45.6, 14.2, 212.0, 4680.0)}
    male_gain = (2.5, 1.4, 5.0, 600.0)
    sd = (2.8, 1.1, 7.0, 380.0)
    cols = np.empty((n, 4))
    for i in range(n):
        m = mean[species[i]]
        for j in range(4):
            cols[i, j] = m[j] + male[i] * male_gain[j] + sd[j] * rng.standard_normal()
    df = pd.DataFrame({
        "island": island,
        "bill_length_mm": np.round(cols[:, 0], 1),
        "bill_depth_mm": np.round(cols[:, 1], 1),
        "flipper_length_mm": np.round(cols[:, 2]).astype(np.int64),
        "body_mass_g": (np.round(cols[:, 3] / 25.0) * 25.0).astype(np.int64),
        "sex": sex,
        "year": rng.choice([2007, 2008, 2009], size=n),
        "target": species,
    })
    return df


# Where penguins_like's missing values go, by row of each split file (0-based
# data rows: file line = row + 2).  Both spellings a user's file carries: an
# empty field and the token NA (pandas reads both as missing by default).
PENGUIN_MISSING = {
    "train": {"body_mass_g": {5: "", 60: "", 140: "NA", 201: "NA"},
              "sex": {17: "", 88: "", 150: "NA", 222: "NA"}},
    "test": {"body_mass_g": {9: "", 40: "NA"},
             "sex": {23: "", 61: "NA"}},
}


def with_missing(df, spots):
    """df as strings where a value is missing: body_mass_g becomes an object
    column, so its numbers are written as their ints ('3750'), the same as
    the column without missing values would be."""
    df = df.reset_index(drop=True).astype({"body_mass_g": object, "sex": object})
    for col, rows in spots.items():
        for r, token in rows.items():
            df.at[r, col] = np.nan if token == "" else token
    return df


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(out, exist_ok=True)

    iris = datasets.load_iris()
    split_write(frame(iris, np.asarray(iris.target_names)[iris.target]), out, "iris")

    wine = datasets.load_wine()
    split_write(frame(wine, wine.target + 1), out, "wine")

    # scikit-learn's 0 malignant, 1 benign -> -1, 1: the same order, so class
    # indices agree with scikit-learn's
    bc = datasets.load_breast_cancer()
    split_write(frame(bc, np.where(bc.target == 0, -1, 1)), out, "breast_cancer")

    digits = datasets.load_digits()
    split_write(frame(digits, digits.target), out, "digits")

    diab = datasets.load_diabetes(scaled=False)
    split_write(frame(diab, diab.target), out, "diabetes", stratify=False)

    pg = penguins_like()
    tr, te = train_test_split(pg, test_size=0.25, random_state=SPLIT_SEED, stratify=pg["target"])
    write(with_missing(tr, PENGUIN_MISSING["train"]), out, "penguins_like_train.csv")
    write(with_missing(te, PENGUIN_MISSING["test"]), out, "penguins_like_test.csv")

    # an unnamed frame: pandas names the columns 0..13 and writes those numbers as the header
    un = pd.DataFrame(np.asarray(wine.data, dtype=np.float64))
    un[un.shape[1]] = wine.target
    write(un, out, "unnamed_header.csv")


if __name__ == "__main__":
    main()
