#!/bin/sh
# SPDX-License-Identifier: MIT
# The default build runs on an x86-64 CPU without AVX: the CLI under
# qemu-x86_64 -cpu Nehalem (SSE4.2, no AVX) picks the portable kernels by
# itself, refuses --isa avx2 with one clear line, trains a small network
# whose first layer takes the fused uint8 kernel, and predicts with it.
# With BENCH_PEAK, bench_peak exits 0 there with every loop "not on this CPU".
# Usage: test_nehalem.sh FASTMLP [BENCH_PEAK]
# Needs qemu-user (make setup installs it); without it this test fails.
set -u
FASTMLP=$1
PEAK=${2:-}
FM=${FASTMLP_FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/../support/lib.sh"

need_qemu_x86_64
OLD="$QEMU $QEMU_UNSET -cpu Nehalem $FASTMLP"

# shellcheck disable=SC2086
expect 0 "" -- $OLD --version
has '^kernels: portable \(--isa auto\)$'
has '^  narrow +portable$'
has '^  activations +portable$'
has '^  adam +portable$'
has '^inference kernels: f32 portable, bf16 portable, int8 portable$'
# OpenBLAS's own choice from the emulated cpuid (a core with AVX would die in
# the first GEMM; this line says why before train does)
has '^BLAS: .*core=Nehalem$'
# shellcheck disable=SC2086
expect 64 "this CPU cannot run it" -- $OLD --isa avx2 --version

# shellcheck disable=SC2086
expect 0 "" -- $OLD train --train "$FM/train-images-idx3-ubyte.gz" --train-labels "$FM/train-labels-idx1-ubyte.gz" \
    --limit 600 --layers 12 --epochs 3 --optimizer adam --seed 7 --threads 2 -q -o "$T/m.mlp"
[ -s "$T/m.mlp" ] && ok || bad "train under Nehalem wrote no model"
# shellcheck disable=SC2086
expect 0 "" -- $OLD predict "$T/m.mlp" "$FM/t10k-images-idx3-ubyte.gz" -o "$T/pred.csv"
rows=$(wc -l <"$T/pred.csv")
[ "$rows" -ge 10000 ] && ok || bad "predict under Nehalem wrote $rows lines"
# the same model predicted natively with the portable kernels: the same
# figures to within rounding (the BLAS and glibc's vector exp pick other
# code paths on this CPU, so not bit for bit; an f32 model's probabilities
# agree to ~1e-6)
expect 0 "" -- "$FASTMLP" --isa portable predict "$T/m.mlp" "$FM/t10k-images-idx3-ubyte.gz" -o "$T/native.csv"
python3 - "$T/pred.csv" "$T/native.csv" <<'PY' && ok || bad "Nehalem and native portable predictions differ"
import sys
a = [l.rstrip("\n").split(",") for l in open(sys.argv[1])][1:]
b = [l.rstrip("\n").split(",") for l in open(sys.argv[2])][1:]
assert len(a) == len(b) == 10000, (len(a), len(b))
worst = max(abs(float(x) - float(y)) for ra, rb in zip(a, b) for x, y in zip(ra[2:], rb[2:]))
assert worst <= 1e-5, worst
same = sum(ra[1] == rb[1] for ra, rb in zip(a, b))
assert same >= 9990, same
PY

# bench_peak: nothing vector to run (no AVX), so every figure n/a, exit 0
if [ -n "$PEAK" ]; then
    expect 0 "" -- "$QEMU" -cpu Nehalem "$PEAK" 1 2000 4
    has '^RESULT peak isa=avx2 threads=1 f64_gflops=n/a f32_gflops=n/a i8_gops=n/a bf16_gflops=n/a$'
    has '^RESULT peak isa=avx512 threads=1 f64_gflops=n/a f32_gflops=n/a i8_gops=n/a bf16_gflops=n/a$'
    n=$(grep -c 'not on this CPU$' "$T/out")
    [ "$n" -eq 9 ] && ok || bad "bench_peak under Nehalem: $n lines 'not on this CPU', expected 9"
fi

echo "nehalem: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
