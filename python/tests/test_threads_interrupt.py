# SPDX-License-Identifier: MIT
"""The GIL is free while the library trains and predicts; Ctrl-C stops
training at a batch boundary and leaves the estimator usable."""
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np

import fastmlp


def _data(n=4000, d=64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    y = (X[:, :3].sum(axis=1) > 0).astype(int)
    return X, y


def test_two_fits_in_two_threads_overlap():
    """Each fit records when its epochs end; with the GIL held through a
    fit, one thread's epochs would all come before the other's."""
    X, y = _data()
    stamps = {0: [], 1: []}

    def fit(k):
        cb = lambda s: stamps[k].append(time.perf_counter())  # noqa: E731
        fastmlp.MLPClassifier(hidden_layer_sizes=(64,), max_iter=12, batch_size=32, tol=0, random_state=k,
                              n_threads=1, callback=cb).fit(X, y)

    ts = [threading.Thread(target=fit, args=(k,)) for k in (0, 1)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    a, b = stamps[0], stamps[1]
    assert len(a) == 12 and len(b) == 12
    # interleaved: each thread has an epoch that ends between two of the other's
    assert min(b) < max(a) and min(a) < max(b), (a, b)


def test_python_runs_while_the_library_trains():
    X, y = _data(8000)
    clf = fastmlp.MLPClassifier(hidden_layer_sizes=(128,), max_iter=6, batch_size=32, tol=0, random_state=0,
                                n_threads=1)
    t = threading.Thread(target=clf.fit, args=(X, y))
    spins = 0
    t.start()
    time.sleep(0.05)
    while t.is_alive():
        spins += 1  # pure Python: needs the GIL
    t.join()
    assert clf.n_iter_ == 6
    assert spins > 10000, spins


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
