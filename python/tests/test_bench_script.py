# SPDX-License-Identifier: MIT
"""bench/python.sh (issue 16's benchmark) in a tiny mode, in this very
environment: it runs to its RESULT lines, the library reads the uint8
pixels in place (copy=no), and MLPClassifier reaches the CLI's test
accuracy on W5's settings (the face passes them through unchanged).
Figures are never judged here; they go in BENCHMARKS.md."""
import os
import subprocess
import sys

import pytest

from conftest import ROOT

FMNIST = os.environ.get("FASTMLP_FMNIST_DIR", "/usr/share/datasets/fashion-mnist")


def field(line, key):
    for w in line.split():
        if w.startswith(key + "="):
            return w.split("=", 1)[1]
    return None


def test_bench_python_tiny(cli):
    if not os.path.exists(os.path.join(FMNIST, "train-images-idx3-ubyte.gz")):
        pytest.fail(f"no Fashion-MNIST in {FMNIST} (the set-up installs dataset-fashion-mnist)")
    env = dict(os.environ, VENV=sys.prefix, ROWS="500", EPOCHS="1", REPEAT="1", PEERS="", SETS="wine", SEEDS="1",
               THREADS="2")
    out = subprocess.run(["sh", os.path.join(ROOT, "bench", "python.sh"), os.path.dirname(cli)], env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    lines = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")]
    w5 = [x for x in lines if x.startswith("RESULT python-W5 cli_sps=")]
    assert len(w5) == 1, lines
    assert field(w5[0], "copy") == "no", w5[0]
    assert float(field(w5[0], "python_sps")) > 0 and float(field(w5[0], "cli_sps")) > 0
    assert field(w5[0], "python_acc") == field(w5[0], "cli_acc"), w5[0]
    assert any(x.startswith("RESULT python-tabular wine ") for x in lines), lines
