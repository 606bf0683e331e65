# SPDX-License-Identifier: MIT
"""Library errors become Python exceptions carrying the library's message."""
import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

import fastmlp


def test_missing_file_is_an_oserror(tmp_path):
    p = tmp_path / "nope.mlp"
    with pytest.raises(OSError) as e:
        fastmlp.load(p)
    assert isinstance(e.value, fastmlp.FastmlpError)
    assert str(p) in str(e.value) and "\n" not in str(e.value)


def test_malformed_model_is_a_valueerror(tmp_path):
    with pytest.raises(ValueError, match="<bytes>"):
        fastmlp.load(b"FMLP" + b"\0" * 60)
    p = tmp_path / "garbage.mlp"
    p.write_bytes(b"not a model at all")
    with pytest.raises(ValueError, match="garbage.mlp"):
        fastmlp.load(p)


def test_saving_where_it_cannot_is_an_oserror(tmp_path):
    c = fastmlp.MLPClassifier(max_iter=2).fit(np.eye(4), [0, 1, 0, 1])
    with pytest.raises(OSError, match="no/such/dir"):
        c.save(tmp_path / "no" / "such" / "dir" / "m.mlp")


def test_bad_input_is_a_valueerror():
    X = np.random.default_rng(0).normal(size=(50, 3))
    y = (X[:, 0] > 0).astype(int)
    with pytest.raises(NotFittedError):
        fastmlp.MLPClassifier().predict(X)
    c = fastmlp.MLPClassifier(max_iter=3).fit(X, y)
    with pytest.raises(ValueError, match="3 features"):
        c.predict(X[:, :2])
    with pytest.raises(ValueError, match="activation"):
        fastmlp.MLPClassifier(activation="swish").fit(X, y)
    with pytest.raises(ValueError, match="solver"):
        fastmlp.MLPClassifier(solver="newton").fit(X, y)
    with pytest.raises(ValueError, match="quantisation"):
        c.quantize("int4")
    with pytest.raises(ValueError, match="1 class"):
        fastmlp.MLPClassifier().fit(X, np.zeros(50))
    with pytest.raises(ValueError, match="features"):
        c.model_.predict(X[:, :2])


def test_a_library_refusal_keeps_its_message():
    """A status from the C library (here: a model too large for the machine's
    memory, refused before allocating) arrives with its one-line message."""
    X = np.zeros((4, 3))
    with pytest.raises(fastmlp.FastmlpError) as e:
        fastmlp.MLPClassifier(hidden_layer_sizes=(1 << 23, 1 << 23), max_iter=1).fit(X, [0, 1, 0, 1])
    assert isinstance(e.value, (ValueError, MemoryError)) and e.value.status != "ok"
    assert "\n" not in str(e.value) and len(str(e.value)) > 10
