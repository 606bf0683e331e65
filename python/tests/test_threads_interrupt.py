# SPDX-License-Identifier: MIT
"""The GIL is free while the library trains and predicts; Ctrl-C stops
training at a batch boundary and leaves the estimator usable."""
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np

import fastmlp
from fastmlp import _lib as L


def _data(n=4000, d=64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    y = (X[:, :3].sum(axis=1) > 0).astype(int)
    return X, y


def test_two_fits_in_two_threads_overlap(monkeypatch):
    """Two fits in two threads, with no callback (a callback takes the GIL,
    which would let even GIL-holding fits take turns).  Each thread notes
    when its call into the trainer starts and ends, and this thread notes
    every moment it runs meanwhile.  Held through the calls, the GIL would
    stop this thread for a whole call (and keep the calls from running at
    the same time); released, it is stopped only as long as the scheduler
    stops it.  Neither depends on how loaded the machine is."""
    X, y = _data(12000)
    real = L.mlp_trainer_run
    spans = []

    def traced(t, err):
        t0 = time.perf_counter()
        try:
            return real(t, err)
        finally:
            spans.append((t0, time.perf_counter()))

    monkeypatch.setattr(L, "mlp_trainer_run", traced)
    ests = [fastmlp.MLPClassifier(hidden_layer_sizes=(256,), max_iter=8, batch_size=32, tol=0, random_state=k,
                                  n_threads=1) for k in (0, 1)]
    ts = [threading.Thread(target=e.fit, args=(X, y)) for e in ests]
    stills = []  # (from, to) of every pause of this thread longer than 1 ms
    for t in ts:
        t.start()
    last = time.perf_counter()
    while any(t.is_alive() for t in ts):
        now = time.perf_counter()
        if now - last > 1e-3:
            stills.append((last, now))
        last = now
    for t in ts:
        t.join()
    assert all(e.n_iter_ == 8 for e in ests) and len(spans) == 2
    (a0, a1), (b0, b1) = sorted(spans)
    shorter = min(a1 - a0, b1 - b0)
    assert b0 < a1, f"the second call began after the first ended: {spans}"
    end = max(a1, b1)
    longest = max([min(q, end) - max(p, a0) for p, q in stills if q > a0 and p < end] + [0.0])
    assert longest < 0.5 * shorter, f"this thread stood still for {longest:.3f} s of a {shorter:.3f} s call"


def test_a_second_ctrl_c_is_one_interrupt():
    """Two SIGINTs in a row (an impatient user) stop the run once, raise one
    KeyboardInterrupt, and leave the estimator usable."""
    code = _INTERRUPT.replace("os.kill(os.getpid(), signal.SIGINT)       # Ctrl-C, after the first epoch",
                              "os.kill(os.getpid(), signal.SIGINT); os.kill(os.getpid(), signal.SIGINT)")
    assert code != _INTERRUPT
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("interrupted:") == 1 and "after " in out.stdout


def test_sigint_handler_restored():
    """The run's own SIGINT handler is in place only while it trains."""
    X, y = _data(200)
    fastmlp.MLPClassifier(max_iter=2).fit(X, y)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_parameters_are_keyword_only():
    import pytest
    with pytest.raises(TypeError):
        fastmlp.MLPClassifier((10,))  # noqa
    assert fastmlp.MLPRegressor(hidden_layer_sizes=(10,)).get_params()["hidden_layer_sizes"] == (10,)


_INTERRUPT = textwrap.dedent(r"""
    import os, signal, sys, threading, numpy as np, fastmlp
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20000, 64)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    started = threading.Event()
    def cb(s):
        started.set()
    def kick():
        started.wait()
        os.kill(os.getpid(), signal.SIGINT)       # Ctrl-C, after the first epoch
    threading.Thread(target=kick, daemon=True).start()
    clf = fastmlp.MLPClassifier(hidden_layer_sizes=(256, 256), max_iter=1000, batch_size=16, tol=0,
                                random_state=0, n_threads=1, callback=cb)
    try:
        clf.fit(X, y)
        print("not interrupted"); sys.exit(1)
    except KeyboardInterrupt as e:
        print("interrupted:", e)
    assert 1 <= clf.n_iter_ < 1000, clf.n_iter_
    print("n_iter", clf.n_iter_, clf.stop_reason_)
    acc = clf.score(X, y)                          # usable as it is
    clf.set_params(max_iter=2, callback=None).fit(X[:2000], y[:2000])   # and fits again
    print("after", acc, clf.n_iter_)
""")


def test_ctrl_c_stops_training_and_raises():
    out = subprocess.run([sys.executable, "-c", _INTERRUPT], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "interrupted: fastmlp: training interrupted at a batch boundary" in out.stdout
    assert any(line.startswith("n_iter") and line.endswith(" interrupted") for line in out.stdout.splitlines())
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines() if line.startswith(("after", "n_iter")))
    assert float(lines["after"].split()[0]) > 0.5 and lines["after"].split()[1] == "2"


def test_threads_do_not_change_results():
    """Same seed and thread count, same bits: a fit beside another fit, and
    predictions made from several threads at once on one estimator, equal
    those made alone (each model has its own pool, and one call at a time
    runs in it)."""
    X, y = _data(3000)
    kw = dict(hidden_layer_sizes=(64,), max_iter=3, batch_size=32, tol=0, random_state=5, n_threads=2)
    alone = fastmlp.MLPClassifier(**kw).fit(X, y).predict_proba(X)
    ests = [fastmlp.MLPClassifier(**kw) for _ in range(2)]
    ts = [threading.Thread(target=e.fit, args=(X, y)) for e in ests]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for e in ests:
        np.testing.assert_array_equal(e.predict_proba(X), alone)
    outs = [None] * 4

    def pred(k):
        for _ in range(5):
            outs[k] = ests[0].predict_proba(X)

    ts = [threading.Thread(target=pred, args=(k,)) for k in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for o in outs:
        np.testing.assert_array_equal(o, alone)
