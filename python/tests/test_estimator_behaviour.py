# SPDX-License-Identifier: MIT
"""What the estimators do beyond scikit-learn's checks: solvers, progress,
callbacks, warm starts, early stopping's attributes, the arrays they pass,
and what their model files record."""
import copy
import pickle
import subprocess

import numpy as np
import pytest
from sklearn.datasets import load_wine
from sklearn.exceptions import ConvergenceWarning

import fastmlp
from fastmlp import _core


@pytest.fixture(scope="module")
def wine():
    return load_wine(return_X_y=True)


@pytest.mark.parametrize("solver", ["cg", "lbfgs", "gd", "sgd", "adam"])
def test_every_solver(wine, solver):
    X, y = wine
    lr = {"gd": 0.5, "sgd": 0.05}.get(solver, 1e-3)
    c = fastmlp.MLPClassifier(solver=solver, learning_rate_init=lr, max_iter=300, random_state=0).fit(X, y)
    assert c.score(X, y) > 0.95, (solver, c.score(X, y), c.stop_reason_)
    assert c.n_iter_ == len(c.loss_curve_) >= 1 and c.loss_curve_[-1] < c.loss_curve_[0]
    if solver in ("cg", "lbfgs"):
        assert c.stop_reason_ in ("gtol", "max_iter", "line_search")


def test_verbose_prints_one_line_per_epoch(wine, capfd):
    X, y = wine
    fastmlp.MLPClassifier(max_iter=4, tol=0, verbose=1, random_state=0).fit(X, y)
    out, err = capfd.readouterr()
    lines = [x for x in err.splitlines() if x.startswith("Iteration")]
    assert out == "" and len(lines) == 4 and lines[0].startswith("Iteration 1, loss = ")


def test_callback_sees_each_epoch_and_can_stop(wine):
    X, y = wine
    seen = []
    c = fastmlp.MLPClassifier(max_iter=50, tol=0, random_state=0,
                              callback=lambda s: seen.append(s) or s["epoch"] == 3).fit(X, y)
    assert [s["epoch"] for s in seen] == [1, 2, 3] and c.n_iter_ == 3 and c.stop_reason_ == "callback"
    assert all(s["loss"] == pytest.approx(s["train_loss"] + s["penalty"]) for s in seen)
    meta = c.model_.train_meta
    assert meta["epochs"] == 3 and meta["optim"] == 2 and meta["stop_reason"] == 7  # adam, requested


def test_callback_exception_is_raised_after_recording(wine):
    X, y = wine

    def boom(s):
        if s["epoch"] == 2:
            raise RuntimeError("boom")

    c = fastmlp.MLPClassifier(max_iter=50, tol=0, random_state=0, callback=boom)
    with pytest.raises(RuntimeError, match="boom"):
        c.fit(X, y)
    assert c.n_iter_ == 2 and len(c.loss_curve_) == 2 and c.predict(X).shape == (len(X),)


def test_tol_rule_and_convergence_warning(wine):
    X, y = wine
    c = fastmlp.MLPClassifier(max_iter=500, random_state=0).fit(X, y)
    assert c.stop_reason_ == "tol" and c.n_iter_ < 500
    # the file says how it was trained although the run was stopped
    meta = c.model_.train_meta
    assert meta["optim"] == 2 and meta["lr"] == 1e-3 and meta["samples"] == len(X) and meta["epochs"] == c.n_iter_
    with pytest.warns(ConvergenceWarning):
        fastmlp.MLPClassifier(max_iter=3, random_state=0).fit(X, y)


def test_warm_start_and_partial_fit_accumulate(wine):
    X, y = wine
    c = fastmlp.MLPClassifier(max_iter=5, tol=0, warm_start=True, random_state=0)
    c.fit(X, y)
    w = c.coefs_[0].copy()
    c.fit(X, y)
    assert c.n_iter_ == 10 and len(c.loss_curve_) == 10 and not np.array_equal(w, c.coefs_[0])
    p = fastmlp.MLPRegressor(random_state=0)
    for _ in range(3):
        p.partial_fit(X, y.astype(float))
    assert p.n_iter_ == 3 and len(p.loss_curve_) == 3


def test_early_stopping_attributes(wine):
    X, y = wine
    c = fastmlp.MLPClassifier(early_stopping=True, max_iter=300, n_iter_no_change=5, random_state=0).fit(X, y)
    v = c.validation_scores_
    assert len(v) == c.n_iter_ and all(0 <= a <= 1 for a in v) and c.best_validation_score_ == max(v)
    assert c.stop_reason_ in ("early_stopping", "max_iter")
    rng = np.random.default_rng(0)
    Xr = rng.normal(size=(600, 5))
    yr = Xr @ [1.0, 2.0, -1.0, 0.5, 0.0] + 0.1 * rng.normal(size=600)
    r = fastmlp.MLPRegressor(early_stopping=True, max_iter=200, random_state=0).fit(Xr, yr)
    assert 0.9 < r.best_validation_score_ <= 1.0, r.validation_scores_[-5:]  # R²
    with pytest.raises(ValueError, match="n_iter_no_change"):
        fastmlp.MLPClassifier(early_stopping=True, n_iter_no_change=0).fit(X, y)


def test_the_estimator_hands_the_library_the_callers_array(wine, monkeypatch):
    """Through fit and predict (scikit-learn's validation included), the
    library reads the very buffer of a C-contiguous float32/float64/uint8 X."""
    X, y = wine
    seen = []
    real = _core.DataView.__init__

    def spy(self, X, *a, **k):
        real(self, X, *a, **k)
        seen.append(self.x_address)

    monkeypatch.setattr(_core.DataView, "__init__", spy)
    for Xd in (np.ascontiguousarray(X, np.float32), np.ascontiguousarray(X), (X * 255 / X.max()).astype(np.uint8)):
        seen.clear()
        c = fastmlp.MLPClassifier(max_iter=2, tol=0).fit(Xd, y)
        c.predict_proba(Xd)
        assert seen == [Xd.ctypes.data] * 2
    seen.clear()
    fastmlp.MLPClassifier(max_iter=2, tol=0).fit(np.asfortranarray(X), y)
    assert seen and seen[0] != X.ctypes.data  # converted once


def test_unaligned_arrays_are_converted():
    buf = np.zeros(8 * 40 + 1, np.uint8)
    X = np.frombuffer(buf.data, dtype=np.float64, count=40, offset=1).reshape(10, 4)
    assert not X.flags.aligned and X.flags.c_contiguous
    A = fastmlp.as_input(X)
    assert A is not X and A.flags.aligned


def test_quantized_models_refuse_copies(wine):
    X, y = wine
    q = fastmlp.MLPClassifier(max_iter=2, tol=0).fit(X, y).quantize("int8")
    for f in (pickle.dumps, copy.copy, copy.deepcopy):
        with pytest.raises(TypeError, match="quantize"):
            f(q)
    assert q.predict(X).shape == (len(X),)


def test_boolean_and_numeric_classes_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = X[:, 0] > 0
    c = fastmlp.MLPClassifier(max_iter=20, random_state=0).fit(X, y)
    assert c.classes_.dtype == bool
    c.save(tmp_path / "b.mlp")
    m = fastmlp.load(tmp_path / "b.mlp")
    assert m.classes_.dtype == bool and list(m.predict(X)) == list(c.predict(X))


def test_dataframe_model_reads_a_headed_csv(cli, tmp_path):
    pd = pytest.importorskip("pandas")
    X, y = load_wine(return_X_y=True, as_frame=True)
    c = fastmlp.MLPClassifier(max_iter=30, random_state=0).fit(X, y)
    c.save(tmp_path / "w.mlp")
    path = tmp_path / "w.csv"
    assert y.name == "target"
    pd.concat([y, X], axis=1).to_csv(path, index=False)  # the label first, as the schema has it
    out = subprocess.run([cli, "eval", str(tmp_path / "w.mlp"), str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    acc = float(out.stdout.split("accuracy")[1].split()[0])
    assert acc == pytest.approx(c.score(X, y), abs=1e-4)
    X.iloc[:, ::-1].to_csv(tmp_path / "swapped.csv", index=False)  # named inputs out of order: refused
    out = subprocess.run([cli, "predict", str(tmp_path / "w.mlp"), str(tmp_path / "swapped.csv")],
                         capture_output=True, text=True)
    assert out.returncode != 0 and "column 1" in out.stderr


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_partial_fit_keeps_the_optimizer(wine, solver):
    """Three partial_fit calls over the data are three epochs of one run:
    the same bits as fit with max_iter=3 (Adam's moments, SGD's velocity and
    the shuffle stream carry over between calls)."""
    X, y = wine
    kw = dict(solver=solver, max_iter=3, tol=0, random_state=4, batch_size=32, learning_rate_init=0.01)
    whole = fastmlp.MLPClassifier(**kw).fit(X, y)
    parts = fastmlp.MLPClassifier(**kw)
    for _ in range(3):
        parts.partial_fit(X, y, classes=np.unique(y))
    np.testing.assert_array_equal(parts.predict_proba(X), whole.predict_proba(X))
    assert parts.n_iter_ == 3 and parts.loss_curve_ == whole.loss_curve_
    # chunks of other sizes go on too
    parts.partial_fit(X[:50], y[:50])
    assert parts.n_iter_ == 4


def test_models_copy_and_pickle_into_models_of_their_own(wine):
    X, y = wine
    m = fastmlp.MLPClassifier(max_iter=3, tol=0, random_state=0).fit(X, y).model_
    for c in (pickle.loads(pickle.dumps(m)), copy.copy(m), copy.deepcopy(m), m.copy()):
        assert c._h != m._h and c._ctx is not m._ctx
        np.testing.assert_array_equal(c.predict_proba(X), m.predict_proba(X))
