# SPDX-License-Identifier: MIT
"""ONNX export: every activation and head, checked by onnx's checker and
run by onnxruntime against fastmlp's own predictions (1e-5 for f32)."""
import os
import subprocess

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")  # in requirements-test.txt: present wherever make test runs
ort = pytest.importorskip("onnxruntime")

import fastmlp  # noqa: E402
from conftest import DATA  # noqa: E402

ACTS = ["relu", "logistic", "tanh", "identity", "leaky_relu"]
TOL = {"float32": 1e-5, "float64": 1e-12}


def run_onnx(data: bytes, X: np.ndarray) -> np.ndarray:
    m = onnx.load_from_string(data)
    onnx.checker.check_model(m, full_check=True)
    assert m.opset_import[0].version >= 13
    s = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    return s.run(None, {s.get_inputs()[0].name: X})[0]


def _xy(n=300, d=7, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(2.0, 3.0, size=(n, d))  # not centred: standardisation matters
    y = np.argmax(X[:, :k] + rng.normal(0, 0.5, size=(n, k)), axis=1)
    return X, y


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("kind", ["softmax", "binary", "regress"])
def test_estimator_graphs(kind, act, dtype):
    X, y = _xy()
    kw = dict(hidden_layer_sizes=(12, 9), activation=act, max_iter=20, random_state=0, dtype=dtype)
    if kind == "regress":
        est = fastmlp.MLPRegressor(**kw).fit(X, X[:, 0] * 2 + y)
    else:
        est = fastmlp.MLPClassifier(**kw).fit(X, y if kind == "softmax" else y == 0)
    Xin = X.astype(dtype)
    got = run_onnx(est.to_onnx(), Xin)
    want = est.model_.predict_raw(Xin)
    np.testing.assert_allclose(got, want, rtol=0, atol=TOL[dtype])
    assert est.model_.head == {"softmax": "softmax-ce", "binary": "sigmoid-bce", "regress": "identity-mse"}[kind]


@pytest.mark.parametrize("head", ["sigmoid-mse", "tanh-mse", "softmax-ce", "sigmoid-bce", "identity-mse"])
def test_cli_models_every_head(cli, head, tmp_path):
    """Models the CLI trains (every head, the CSV's standardisation) exported
    by `fastmlp export` and by Python give the same bytes and the same outputs."""
    train = os.path.join(DATA, "tabular", "wine_train.csv")
    model, exported = tmp_path / "m.mlp", tmp_path / "m.onnx"
    extra = ["--task", "regress"] if head == "identity-mse" else []
    subprocess.run([cli, "train", "--train", train, "--head", head, "--epochs", "5", "--activation", "tanh",
                    "-o", str(model)] + extra, check=True, capture_output=True)
    subprocess.run([cli, "export", str(model), "-o", str(exported)], check=True, capture_output=True)
    m = fastmlp.load(model)
    assert exported.read_bytes() == m.to_onnx()
    m.to_onnx(tmp_path / "py.onnx")
    assert (tmp_path / "py.onnx").read_bytes() == exported.read_bytes()
    X = np.loadtxt(train, delimiter=",", skiprows=1)[:, :-1].astype(np.float32)
    np.testing.assert_allclose(run_onnx(exported.read_bytes(), X), m.predict_raw(X), rtol=0, atol=1e-5)


def test_uint8_pixels_scale_inside_the_graph():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(200, 20), dtype=np.uint8)
    y = (X[:, 0] > X[:, 1]).astype(int)
    c = fastmlp.MLPClassifier(hidden_layer_sizes=(10,), max_iter=10, random_state=0).fit(X, y)
    assert c.model_.dtype == np.float32
    got = run_onnx(c.to_onnx(), X.astype(np.float32))  # the graph takes floats: the same numbers
    np.testing.assert_allclose(got, c.model_.predict_raw(X), rtol=0, atol=1e-5)
