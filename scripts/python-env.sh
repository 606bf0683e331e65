#!/bin/sh
# SPDX-License-Identifier: MIT
# Make (or refresh) a virtual environment with fastmlp's Python package and
# its test requirements:  [WHEEL=F | WHEELHOUSE=DIR] sh scripts/python-env.sh PYTHON VENV
#   PYTHON  the interpreter (e.g. /usr/bin/python3, Debian's)
#   VENV    where the environment goes (e.g. build/venv)
# PyPI packages come from python/requirements-test.txt (pinned); the package
# is built by pip from python/ (scikit-build-core runs the project's CMake).
# The package is reinstalled on every run, so that the tests see this tree.
set -eu
PY=$1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# absolute: pip runs the build from python/, where a relative path would land
mkdir -p "$(dirname "$2")"
VENV=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
if [ ! -x "$VENV/bin/python" ]; then
    echo "python: making $VENV with $("$PY" --version 2>&1)"
    "$PY" -m venv "$VENV"
fi
# The requirements are installed once per change of the file.
STAMP="$VENV/.requirements-test.txt"
if ! cmp -s "$ROOT/python/requirements-test.txt" "$STAMP" 2>/dev/null; then
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$ROOT/python/requirements-test.txt"
    cp "$ROOT/python/requirements-test.txt" "$STAMP"
fi
if [ -n "${WHEEL:-}" ]; then
    # a wheel built for another environment (py3-none-linux: one library,
    # no extension module, so one wheel serves every Python 3)
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$WHEEL"
    exit 0
fi
# --no-build-isolation: scikit-build-core is already in the environment
# (pinned above), so pip does not fetch a second copy for every build.  The
# build directory is kept per environment so that a rebuild is incremental.
# With WHEELHOUSE set, the wheel is also left there for other environments.
if [ -n "${WHEELHOUSE:-}" ]; then
    rm -rf "$WHEELHOUSE" && mkdir -p "$WHEELHOUSE"
    "$VENV/bin/python" -m pip wheel -q --disable-pip-version-check --no-build-isolation --no-deps \
        --config-settings=build-dir="$VENV/skbuild" -w "$WHEELHOUSE" "$ROOT/python"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$WHEELHOUSE"/fastmlp-*.whl
    exit 0
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-build-isolation --force-reinstall --no-deps \
    --config-settings=build-dir="$VENV/skbuild" "$ROOT/python"
