# SPDX-License-Identifier: MIT
"""Model files are shared with the command line, both ways, with identical
predictions (to the CLI's printed digits), quantised models included."""
import csv
import os
import pickle
import subprocess

import numpy as np
import pytest

import fastmlp
from conftest import DATA, read_csv

WINE_TRAIN = os.path.join(DATA, "tabular", "wine_train.csv")
WINE_TEST = os.path.join(DATA, "tabular", "wine_test.csv")


def run(*args):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, check=True).stdout


def read_predictions(text):
    rows = list(csv.reader(text.splitlines()))
    head, body = rows[0], rows[1:]
    p = np.array([[float(r[i]) for i, h in enumerate(head) if h.startswith("p_")] for r in body])
    cls = [r[head.index("class")] for r in body] if "class" in head else None
    return head, cls, p


@pytest.fixture(scope="module")
def cli_model(cli, tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "wine.mlp"
    run(cli, "train", "--train", WINE_TRAIN, "--epochs", "30", "--seed", "3", "-o", path)
    return path


def test_cli_model_predicts_the_same_in_python(cli, cli_model):
    head, cls, p_cli = read_predictions(run(cli, "predict", cli_model, WINE_TEST))
    X, y = read_csv(WINE_TEST)
    for m in (fastmlp.load(cli_model), fastmlp.load(cli_model.read_bytes())):
        assert m.class_names == ["1", "2", "3"] and list(m.classes_) == [1, 2, 3]
        np.testing.assert_allclose(m.predict_proba(X), p_cli, rtol=2e-8, atol=1e-9)
        assert [str(c) for c in m.predict(X)] == cls
    assert head[:3] == ["row", "class", "label"]


def test_python_model_predicts_the_same_in_the_cli(cli, blobs, tmp_path):
    X, y = blobs
    clf = fastmlp.MLPClassifier(hidden_layer_sizes=(16,), max_iter=40, random_state=1).fit(X, y)
    path = tmp_path / "blobs.mlp"
    clf.save(path)
    data = tmp_path / "blobs.csv"  # the schema's layout: the label first
    np.savetxt(data, np.column_stack([y, X.astype(str)]), fmt="%s", delimiter=",")
    head, cls, p_cli = read_predictions(run(cli, "predict", path, data))
    assert head == ["row", "class", "label", "p_cat", "p_dog", "p_emu"]
    np.testing.assert_allclose(p_cli, clf.predict_proba(X), rtol=2e-8, atol=1e-9)
    assert cls == list(clf.predict(X))
    # inputs only (no label column) are read as inputs
    inputs = tmp_path / "inputs.csv"
    np.savetxt(inputs, X, delimiter=",", fmt="%.17g")
    _, cls2, p2 = read_predictions(run(cli, "predict", path, inputs))
    assert cls2 == cls
    np.testing.assert_allclose(p2, p_cli)
    info = run(cli, "info", path)
    assert "cat" in info and "emu" in info
    ev = run(cli, "eval", path, data)
    acc = float(ev.split("accuracy")[1].split()[0])
    assert acc == pytest.approx(clf.score(X, y), abs=1e-4)
    # and back: the file loads in Python with the same predictions
    np.testing.assert_array_equal(fastmlp.load(path).predict_proba(X), clf.predict_proba(X))
    assert list(fastmlp.load(path).predict(X)) == list(clf.predict(X))


def test_python_regressor_in_the_cli(cli, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = X @ [1.0, -2.0, 0.5, 3.0] + 10
    reg = fastmlp.MLPRegressor(hidden_layer_sizes=(32,), max_iter=100, random_state=0).fit(X, y)
    path = tmp_path / "reg.mlp"
    reg.save(path)
    inputs = tmp_path / "x.csv"
    np.savetxt(inputs, X, delimiter=",", fmt="%.17g")
    rows = list(csv.reader(run(cli, "predict", path, inputs).splitlines()))
    assert rows[0][:2] == ["row", "prediction"]
    np.testing.assert_allclose([float(r[1]) for r in rows[1:]], reg.predict(X), rtol=2e-8, atol=1e-8)


@pytest.mark.parametrize("qtype", ["bf16", "int8"])
def test_quantized_like_the_cli(cli, cli_model, qtype):
    _, cls, p_cli = read_predictions(run(cli, "predict", "--quantize", qtype, cli_model, WINE_TEST))
    X, y = read_csv(WINE_TEST)
    m = fastmlp.load(cli_model)
    q = m.quantize(qtype)
    assert q.qtype == qtype and q.kernel and q.weight_bytes > 0
    np.testing.assert_allclose(q.predict_proba(X), p_cli, rtol=2e-8, atol=1e-9)
    assert [str(c) for c in q.predict(X)] == cls
    # close to the full-precision model, not equal to it
    assert np.abs(q.predict_proba(X) - m.predict_proba(X)).max() < 0.05


def test_estimator_quantize_and_pickle(blobs):
    X, y = blobs
    clf = fastmlp.MLPClassifier(hidden_layer_sizes=(32,), max_iter=30, random_state=2).fit(X, y)
    q = clf.quantize("int8", calib=X[:100])
    assert (q.predict(X) == clf.predict(X)).mean() > 0.97
    b = pickle.dumps(clf)
    assert clf.model_.to_bytes() in b  # pickled through the model file's bytes
    clf2 = pickle.loads(b)
    np.testing.assert_array_equal(clf2.predict_proba(X), clf.predict_proba(X))
    assert clf2.get_params() == clf.get_params() and clf2.loss_curve_ == clf.loss_curve_
