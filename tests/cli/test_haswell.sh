#!/bin/sh
# SPDX-License-Identifier: MIT
# The default build on an AVX2 CPU without AVX-512: the CLI under
# qemu-x86_64 -cpu Haswell picks the AVX2 kernels by itself (every vector
# slot, the quantised inference ones too) and OpenBLAS's Haswell core,
# refuses --isa avx512 with one clear line, trains a small network whose
# first layer takes the fused uint8 kernel, and predicts with it in f32 and
# through the quantised int8 and bf16 AVX2 kernels, which must give the
# figures the same kernels give natively (--isa avx2, OPENBLAS_CORETYPE=
# Haswell).  With BENCH_PEAK, bench_peak runs its ymm loops there and says
# "not on this CPU" for the zmm ones.
# Usage: test_haswell.sh FASTMLP [BENCH_PEAK]
# Needs qemu-user (make setup installs it); without it this test fails.
set -u
FASTMLP=$1
PEAK=${2:-}
FM=${FASTMLP_FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/../support/lib.sh"

need_qemu_x86_64
# Haswell less the system features TCG cannot emulate (qemu warns about each
# on stderr, once per thread); none of them is visible to user code but TSX
CPU=Haswell,-pcid,-x2apic,-tsc-deadline,-hle,-invpcid,-rtm
HSW="$QEMU $QEMU_UNSET -cpu $CPU $FASTMLP"

# shellcheck disable=SC2086
expect 0 "" -- $HSW --version
has '^kernels: avx2 \(--isa auto\)$'
has '^  narrow +avx2$'
has '^  activations +avx2$'
has '^  adam +avx2$'
has '^  quant-f32 +avx2$'
has '^  quant-bf16 +avx2$'
has '^  quant-int8 +avx2$'
has '^inference kernels: f32 avx2, bf16 avx2, int8 avx2$'
has '^BLAS: .*core=Haswell$'
# shellcheck disable=SC2086
expect 64 "this CPU cannot run it" -- $HSW --isa avx512 --version
# shellcheck disable=SC2086
expect 64 "this CPU cannot run it" -- $HSW --isa avx512-vnni --version

# 1000 test images: emulated AVX2 floating point is slow (10000 rows take ~15 s)
python3 - "$FM/t10k-images-idx3-ubyte.gz" "$T/test1k.idx" <<'PY' && ok || bad "cannot write the 1000-image IDX file"
import gzip, struct, sys
raw = gzip.open(sys.argv[1]).read()
magic, n, r, c = struct.unpack(">IIII", raw[:16])
m = 1000
open(sys.argv[2], "wb").write(struct.pack(">IIII", magic, m, r, c) + raw[16:16 + m * r * c])
PY

# shellcheck disable=SC2086
expect 0 "" -- $HSW train --train "$FM/train-images-idx3-ubyte.gz" --train-labels "$FM/train-labels-idx1-ubyte.gz" \
    --limit 600 --layers 12 --epochs 2 --optimizer adam --seed 7 --threads 2 -q -o "$T/m.mlp"
[ -s "$T/m.mlp" ] && ok || bad "train under Haswell wrote no model"

# predict: f32 (the training passes) and the quantised inference kernels,
# each beside the same run natively on the same kernels and BLAS core
for q in "" int8 bf16; do
    name=${q:-f32}
    # shellcheck disable=SC2086
    expect 0 "" -- $HSW predict "$T/m.mlp" "$T/test1k.idx" ${q:+--quantize "$q"} -o "$T/hsw_$name.csv"
    expect 0 "" -- env OPENBLAS_CORETYPE=Haswell "$FASTMLP" --isa avx2 predict "$T/m.mlp" "$T/test1k.idx" \
        ${q:+--quantize "$q"} -o "$T/nat_$name.csv"
    python3 - "$T/hsw_$name.csv" "$T/nat_$name.csv" <<'PY' && ok || bad "predict $name: Haswell and native avx2 differ"
import sys
a = [l.rstrip("\n").split(",") for l in open(sys.argv[1])][1:]
b = [l.rstrip("\n").split(",") for l in open(sys.argv[2])][1:]
assert len(a) == len(b) == 1000, (len(a), len(b))
worst = max(abs(float(x) - float(y)) for ra, rb in zip(a, b) for x, y in zip(ra[2:], rb[2:]))
assert worst <= 1e-5, worst
same = sum(ra[1] == rb[1] for ra, rb in zip(a, b))
assert same >= 999, same
PY
done

# bench infer through the int8 kernels: one pass, a few latency rows
# shellcheck disable=SC2086
expect 0 "" -- $HSW bench infer --model "$T/m.mlp" --data "$T/test1k.idx" --runs 1 --latency-rows 10 --threads 2 \
    --quantize int8
has '^RESULT infer rows=1000 .*weights=int8'

# bench_peak: the ymm loops run, the zmm ones (and AVX-VNNI, which Haswell
# lacks) are skipped, and the RESULT lines say which
if [ -n "$PEAK" ]; then
    expect 0 "" -- "$QEMU" -cpu "$CPU" "$PEAK" 2 2000 4
    num='[0-9]+\.[0-9]'
    has "^RESULT peak isa=avx2 threads=2 f64_gflops=$num f32_gflops=$num i8_gops=$num bf16_gflops=$num$"
    has '^RESULT peak isa=avx512 threads=2 f64_gflops=n/a f32_gflops=n/a i8_gops=n/a bf16_gflops=n/a$'
    has '^f64 FMA \(ymm\) +[0-9]'
    has '^u8\*s8 vpmaddubsw\+vpmaddwd \(ymm\) +[0-9]'
    has '^bf16 shift \+ f32 FMA \(ymm\) +[0-9]'
    has '^u8\*s8 vpdpbusd \(ymm, AVX-VNNI\) +not on this CPU$'
    has '^f64 FMA \(zmm\) +not on this CPU$'
    has '^RESULT bounds isa=avx2 w1_ms_epoch=[0-9]'
    has '^RESULT bounds isa=avx512 w1_ms_epoch=n/a'
fi

echo "haswell: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
