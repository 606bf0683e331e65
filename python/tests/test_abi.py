# SPDX-License-Identifier: MIT
"""The ctypes mirrors in fastmlp/_lib.py against include/fastmlp.h: a small
C program compiled against the header prints every field's offset and size
and every struct's size, and each must equal what ctypes lays out."""
import ctypes as C
import os
import shutil
import subprocess

import pytest

from fastmlp import _lib as L
from conftest import ROOT

STRUCTS = {
    "mlp_error": L.Error, "mlp_dataset": L.Dataset, "mlp_layer_spec": L.LayerSpec,
    "mlp_model_params": L.ModelParams, "mlp_epoch_stats": L.EpochStats, "mlp_batch_info": L.BatchInfo,
    "mlp_train_params": L.TrainParams, "mlp_train_meta": L.TrainMeta, "mlp_context_params": L.ContextParams,
    "mlp_buffer": L.Buffer, "mlp_rows": L.Rows, "mlp_split": L.Split, "mlp_schema_params": L.SchemaParams,
}


def test_every_struct_matches_the_header(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        pytest.fail("no C compiler (the set-up installs build-essential)")
    lines = ['#include <stddef.h>', '#include <stdio.h>', '#include "fastmlp.h"', "int main(void) {"]
    for name, cls in STRUCTS.items():
        lines.append(f'printf("{name} %zu\\n", sizeof(struct {name}));')
        for f, _ in cls._fields_:
            lines.append(f'printf("{name}.{f} %zu %zu\\n", offsetof(struct {name}, {f}), '
                         f'sizeof(((struct {name} *)0)->{f}));')
    lines += ["return 0;", "}"]
    src, exe = tmp_path / "layout.c", tmp_path / "layout"
    src.write_text("\n".join(lines))
    subprocess.run([cc, "-std=c11", "-I", os.path.join(ROOT, "include"), str(src), "-o", str(exe)], check=True)
    got = dict(line.split(" ", 1) for line in subprocess.run([str(exe)], capture_output=True, text=True,
                                                              check=True).stdout.splitlines())
    bad = []
    for name, cls in STRUCTS.items():
        if int(got[name]) != C.sizeof(cls):
            bad.append(f"sizeof {name}: C {got[name]}, ctypes {C.sizeof(cls)}")
        for f, _ in cls._fields_:
            off, size = map(int, got[f"{name}.{f}"].split())
            d = getattr(cls, f)
            if (off, size) != (d.offset, d.size):
                bad.append(f"{name}.{f}: C offset {off} size {size}, ctypes {d.offset} {d.size}")
    assert not bad, "\n".join(bad)


def test_defaults_read_back():
    """The *_default() functions return their structs by value through
    ctypes: the documented defaults come back in their fields."""
    tp = L.mlp_train_params_default()
    assert (tp.optim, tp.lr, tp.momentum, tp.beta1, tp.beta2, tp.eps) == (L.OPT_ADAM, 1e-3, 0.9, 0.9, 0.999, 1e-8)
    assert (tp.batch, tp.epochs, tp.shuffle, tp.seed, tp.eval_train) == (64, 10, 1, 42, 1)
    assert (tp.step_size, tp.gamma, tp.gtol, tp.history) == (10, 0.1, 1e-5, 10)
    cp = L.mlp_context_params_default()
    assert cp.size == C.sizeof(L.ContextParams)
    mp = L.mlp_model_params_default()
    assert mp.leaky_slope == 0.01 and mp.input_scale == 1.0 and list(mp.reserved) == [0] * 8
