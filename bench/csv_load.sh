#!/bin/sh
# SPDX-License-Identifier: MIT
# CSV loading benchmark: galaxy_test.csv (the seed data, 675 x 1025 integers)
# repeated 8x (22 MB), loaded by fastmlp (bench/csv_load, best of 10) and by
# numpy.loadtxt (bench/peers/csv_numpy.py, best of 3) when NumPy is there
# (PEERS="" leaves it out).
# Usage: bench/csv_load.sh BUILD_DIR   (run from anywhere)
# Environment: ISA=avx2|avx512|native [native] (bench/common.sh bench_isa:
# the loader uses no kernel table and no BLAS, so ISA= changes the header
# and what NumPy is told, not what fastmlp's loader runs); PEERS="" leaves
# NumPy out.
set -eu
. "$(dirname "$0")/common.sh"
if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 64
fi
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd)
bin="$build/bench_csv_load"
[ -x "$bin" ] || bin="$build/bench/csv_load"
if [ ! -x "$bin" ]; then
    echo "$0: no bench_csv_load in $build (build the bench_csv_load target)" >&2
    exit 66
fi
loader=$bin
# the CLI, for ISA='s check and the header (the loader takes no --isa)
bin="$build/fastmlp"
bench_isa "$bin"
src="$root/tests/data/galaxy_test.csv"
if [ ! -r "$src" ]; then
    echo "$0: cannot read $src" >&2
    exit 66
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
file="$tmp/galaxy_x8.csv"
for i in 1 2 3 4 5 6 7 8; do cat "$src"; done >"$file"

echo "workload: W7, CSV loading: $src x 8 = $(wc -c <"$file") bytes, $(wc -l <"$file") rows"
echo "machine:  $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(getconf _NPROCESSORS_ONLN) cores"
# the loader uses no BLAS, but every script names the one the build links
bench_isa_header
echo "commit:   $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"

out=$("$loader" "$file" 10)
echo "$out" | grep -v '^MBPS'
ours=$(echo "$out" | sed -n 's/^MBPS //p')

peer=""
if [ "${PEERS-numpy}" != "" ] && /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
    pout=$(/usr/bin/python3 "$root/bench/peers/csv_numpy.py" "$file" 3)
    echo "$pout" | grep -v '^MBPS'
    peer=$(echo "$pout" | sed -n 's/^MBPS //p')
else
    echo "numpy: not installed for /usr/bin/python3, no peer figure"
fi

echo "fastmlp: $ours MB/s"
if [ -n "$peer" ]; then
    echo "numpy.loadtxt: $peer MB/s"
    echo "ratio fastmlp / numpy: $(awk -v a="$ours" -v b="$peer" 'BEGIN { printf "%.1fx", a / b }')"
fi
echo "RESULT W7 fastmlp_mbps=$ours numpy_mbps=${peer:-n/a}"
