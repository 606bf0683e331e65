#!/bin/sh
# SPDX-License-Identifier: MIT
# The Python package's tests, as `make test` runs them:
#   sh scripts/python-test.sh BUILD_DIR
# For Debian's Python 3 (/usr/bin/python3) and, when the machine has a newer
# one (python3.N on PATH or under ~/.pyenv/versions), that one too: each gets
# a virtual environment BUILD_DIR/venv-3.N made by scripts/python-env.sh (the
# package built by pip from python/, pinned test requirements from PyPI),
# and runs pytest over python/tests with FASTMLP_CLI=BUILD_DIR/fastmlp.
# pytest's own exit status is the result: a failure, an error, an
# unexpected pass of a listed failure (xfail_strict) and "no tests ran"
# (status 5) all fail.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$1" && pwd)

# version as a sortable number: 3.11 -> 311
pyver() { "$1" -c 'import sys; print(sys.version_info[0] * 100 + sys.version_info[1])' 2>/dev/null || echo 0; }

DEBIAN=/usr/bin/python3
[ -x "$DEBIAN" ] || DEBIAN=$(command -v python3)
pythons="$DEBIAN"
best=$DEBIAN
bestv=$(pyver "$DEBIAN")
for c in $(for d in $(echo "$PATH" | tr ':' ' '); do ls "$d"/python3.[0-9]* 2>/dev/null; done) \
         $(ls "$HOME"/.pyenv/versions/*/bin/python3 2>/dev/null); do
    case $c in *-config | *m) continue ;; esac
    [ -x "$c" ] || continue
    v=$(pyver "$c")
    if [ "$v" -gt "$bestv" ]; then best=$c; bestv=$v; fi
done
[ "$best" != "$DEBIAN" ] && pythons="$pythons $best"

# The package is built once, by pip in the first environment, as a wheel
# that the others install (one library, no extension module: one wheel
# serves every Python 3).
wheelhouse="$BUILD/wheelhouse"
first=1
for py in $pythons; do
    v=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    venv="$BUILD/venv-$v"
    echo "== Python $v ($py)"
    if [ $first = 1 ]; then
        WHEELHOUSE=$wheelhouse sh "$ROOT/scripts/python-env.sh" "$py" "$venv"
        first=0
    else
        WHEEL=$(ls "$wheelhouse"/fastmlp-*.whl) sh "$ROOT/scripts/python-env.sh" "$py" "$venv"
    fi
    # From the repository root, never python/: the tests must import the
    # installed package (with its libfastmlp.so), not the source directory.
    (cd "$ROOT" && FASTMLP_CLI="$BUILD/fastmlp" "$venv/bin/python" -m pytest -q python/tests)
done
