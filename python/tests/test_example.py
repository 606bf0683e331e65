# SPDX-License-Identifier: MIT
"""examples/neuron.py (the README's Python example) runs and reproduces seed
000's neuron: 99% train accuracy and about 70% test accuracy."""
import os
import re
import subprocess
import sys

from conftest import ROOT


def test_neuron_example():
    out = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "neuron.py")], capture_output=True,
                         text=True, check=True, timeout=300).stdout
    m = re.search(r"train accuracy ([0-9.]+)  test accuracy ([0-9.]+)", out)
    assert m, out
    assert float(m.group(1)) >= 0.97 and float(m.group(2)) >= 0.66, out
    assert "in 2000 iterations" in out
