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
    """Two fits, one thread each, started together and with no callback (a
    callback takes the GIL, which would let even GIL-holding fits take
    turns): the process's CPU time over the wall time counts the cores that
    computed at once, about 2 when the fits overlap, 1 when they take turns."""
    X, y = _data(6000)
    both = threading.Barrier(3)
    ests = [fastmlp.MLPClassifier(hidden_layer_sizes=(256,), max_iter=6, batch_size=32, tol=0, random_state=k,
                                  n_threads=1) for k in (0, 1)]
    ests[0].fit(X[:500], y[:500])  # imports and first-call costs out of the way

    def fit(k):
        both.wait()
        ests[k].fit(X, y)

    ts = [threading.Thread(target=fit, args=(k,)) for k in (0, 1)]
    for t in ts:
        t.start()
    both.wait()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for t in ts:
        t.join()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    assert all(e.n_iter_ == 6 for e in ests)
    if (os.cpu_count() or 1) >= 2:
        assert cpu / wall > 1.3, f"{cpu:.3f} s of CPU in {wall:.3f} s: the fits did not run at once"


def test_python_runs_while_the_library_trains():
    """This thread counts while another trains; each epoch's callback reads
    the count and the time.  With the GIL free while the library computes,
    the count grows during the epochs about as fast as it does alone; were it
    held, this thread would only run in the moments the callbacks hand it
    the GIL (a switch interval of 0.1 ms each)."""
    X, y = _data(8000)
    count = [0]
    seen = []
    training = threading.Event()

    def cb(s):
        training.set()
        seen.append((count[0], time.perf_counter()))

    t0 = time.perf_counter()
    while time.perf_counter() - t0 < 0.05:  # this thread's counting rate alone
        count[0] += 1
    alone = count[0] / (time.perf_counter() - t0)
    count[0] = 0
    clf = fastmlp.MLPClassifier(hidden_layer_sizes=(256,), max_iter=8, batch_size=32, tol=0, random_state=0,
                                n_threads=1, callback=cb)
    t = threading.Thread(target=clf.fit, args=(X, y))
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)
    try:
        t.start()
        training.wait(60)
        while t.is_alive():
            count[0] += 1  # pure Python: needs the GIL
            time.perf_counter()  # (as the rate alone was measured)
        t.join()
    finally:
        sys.setswitchinterval(interval)
    assert clf.n_iter_ == 8 and len(seen) == 8
    rate = (seen[-1][0] - seen[0][0]) / (seen[-1][1] - seen[0][1])
    assert rate > 0.25 * alone, (rate, alone)


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
