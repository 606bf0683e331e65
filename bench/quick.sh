#!/bin/sh
# SPDX-License-Identifier: MIT
# W4, seed 003's quick benchmark: `fastmlp bench quick -p f4 -n 50 -l 100
# -d 1024 -a sigmoid` (batch-1 inference through 100 layers of 1024x1024,
# 50 runs), then -p f8, each beside the NumPy peer (bench/peers/quick_numpy.py)
# when /usr/bin/python3 has NumPy.
# Usage: bench/quick.sh BUILD_DIR   (run from anywhere; THREADS=T to pin threads)
set -eu
if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 64
fi
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd)
bin="$build/fastmlp"
if [ ! -x "$bin" ]; then
    echo "$0: no fastmlp in $build (build the fastmlp_cli target)" >&2
    exit 66
fi
tflag=""
[ -n "${THREADS:-}" ] && tflag="-t $THREADS"

echo "workload: W4, batch-1 inference through 100 layers of 1024x1024 sigmoid, 50 runs"
echo "machine:  $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(getconf _NPROCESSORS_ONLN) cores"
echo "commit:   $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"

have_numpy=0
/usr/bin/python3 -c 'import numpy' 2>/dev/null && have_numpy=1

for p in f4 f8; do
    echo
    # shellcheck disable=SC2086
    out=$("$bin" bench quick -p $p -n 50 -l 100 -d 1024 -a sigmoid $tflag)
    echo "$out"
    ours=$(echo "$out" | sed -n 's/^Total time for .* was \([0-9.]*\) ms$/\1/p')
    if [ "$have_numpy" -eq 1 ]; then
        # the peer uses the BLAS's default threads unless THREADS pins them
        if [ -n "${THREADS:-}" ]; then
            pout=$(OPENBLAS_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS \
                /usr/bin/python3 "$root/bench/peers/quick_numpy.py" -p $p -n 50 -l 100 -d 1024 -a sigmoid)
        else
            pout=$(/usr/bin/python3 "$root/bench/peers/quick_numpy.py" -p $p -n 50 -l 100 -d 1024 -a sigmoid)
        fi
        peer=$(echo "$pout" | sed -n 's/^MS //p')
        echo "$pout" | grep '^numpy '
        echo "$p fastmlp: $ours ms   numpy: $peer ms   fastmlp speed-up (numpy time / fastmlp time): $(awk -v a="$ours" -v b="$peer" 'BEGIN { printf "%.2fx", b / a }')"
    else
        echo "$p fastmlp: $ours ms   (numpy: not installed for /usr/bin/python3, no peer figure)"
    fi
done
