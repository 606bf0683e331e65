# SPDX-License-Identifier: MIT
"""scikit-learn's own estimator checks (check_estimator), one test each."""
import pytest

pytest.importorskip("sklearn")  # noqa: E402 - a test environment has it (requirements-test.txt)
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from fastmlp import MLPClassifier, MLPRegressor  # noqa: E402

# Checks that cannot pass, each with the reason (as LightGBM and xgboost list
# theirs); parametrize_with_checks marks them xfail, so that a check listed
# here that starts to pass is reported (XPASS) rather than hidden.
EXPECTED_FAILED = {}


@parametrize_with_checks([MLPClassifier(random_state=0), MLPRegressor(random_state=0)],
                         expected_failed_checks=lambda est: EXPECTED_FAILED.get(type(est).__name__, {}))
def test_sklearn_compatible(estimator, check):
    check(estimator)
