#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Seed 000's neuron from NumPy arrays: logistic regression on cat/non-cat
64x64 images, full-batch gradient descent, learning rate 0.005, 2000
iterations (the seed reaches 99% train / 70% test accuracy).

    python examples/neuron.py [DATA_DIR]    # holds train_catvnoncat.h5, test_catvnoncat.h5
"""
import os
import sys

import h5py
import fastmlp

data = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "data")
with h5py.File(os.path.join(data, "train_catvnoncat.h5")) as tr, h5py.File(os.path.join(data, "test_catvnoncat.h5")) as te:
    X, y = tr["train_set_x"][:].reshape(209, -1), tr["train_set_y"][:]   # uint8 pixels: no copy, scaled by 1/255
    X_test, y_test = te["test_set_x"][:].reshape(50, -1), te["test_set_y"][:]

neuron = fastmlp.MLPClassifier(hidden_layer_sizes=(), solver="gd", learning_rate_init=0.005, max_iter=2000,
                               alpha=0.0, tol=0.0, random_state=0)
neuron.fit(X, y)
print(f"train accuracy {neuron.score(X, y):.2f}  test accuracy {neuron.score(X_test, y_test):.2f}  "
      f"cost {neuron.loss_curve_[0]:.4f} -> {neuron.loss_curve_[-1]:.4f} in {neuron.n_iter_} iterations")
