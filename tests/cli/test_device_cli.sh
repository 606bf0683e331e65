#!/bin/sh
# SPDX-License-Identifier: MIT
# The CUDA backend as built (the compile-and-link check CI runs everywhere:
# nvcc is there, a GPU is not) and the CLI's --device where there is no GPU:
#   - libfastmlp_cuda.so exports mlp_dev_cuda_ops alone and links cuBLAS,
#     not the CUDA runtime (static in it) nor the driver (dlopen'ed by it);
#   - neither the library nor the CLI links anything of CUDA;
#   - fastmlp --version says whether the plugin loads and what it sees;
#   - --device cuda[:N] then fails with one stderr line and exit 1, before
#     reading any data; bad values are usage errors (64);
#   - --device cpu gives the bytes of no --device at all.
# On a machine with a GPU the cuda cases train instead (bench/gpu.sh covers it).
set -u
FASTMLP=$1
PLUGIN=$2
LIB=$3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/../support/lib.sh"

nm -D --defined-only "$PLUGIN" | awk '$2 ~ /^[TDBRV]$/ { print $3 }' >"$T/syms"
[ "$(cat "$T/syms")" = "mlp_dev_cuda_ops" ] && ok || bad "the plugin exports more than mlp_dev_cuda_ops: $(tr '\n' ' ' <"$T/syms")"
readelf -d "$PLUGIN" | grep NEEDED >"$T/needed"
grep -q 'libcublas\.so' "$T/needed" && ok || bad "the plugin needs no cuBLAS: $(cat "$T/needed")"
grep -qE 'libcudart|libcuda\.so' "$T/needed" && bad "the plugin needs the CUDA runtime or driver: $(cat "$T/needed")" || ok
for f in "$FASTMLP" "$LIB"; do
    readelf -d "$f" | grep NEEDED | grep -qiE 'cuda|cublas' && bad "$f links CUDA: $(readelf -d "$f" | grep NEEDED)" || ok
done

"$FASTMLP" --version >"$T/out" 2>"$T/err" || bad "--version failed: $(cat "$T/err")"
has '^CUDA: .*libfastmlp_cuda\.so'
gpu=no
grep -qE '^CUDA: .*: [0-9]+ devices?:' "$T/out" && gpu=yes

# a tiny table: two inputs, a 0/1 label
{
    echo "y,a,b"
    i=0
    while [ $i -lt 40 ]; do echo "$((i % 2)),$((i * 7 % 13)),$((i * 5 % 11))"; i=$((i + 1)); done
} >"$T/t.csv"
if [ "$gpu" = no ]; then
    expect 1 "cuda:0: no cuda device" -- "$FASTMLP" --device cuda train --train "$T/t.csv" -o "$T/m.mlp"
    expect 1 "cuda:3: no cuda device" -- "$FASTMLP" train --train /nonexistent.csv --device=cuda:3 -o "$T/m.mlp"
    [ -e "$T/m.mlp" ] && bad "a failed --device run wrote a model" || ok
    expect 1 "no cuda device" -- "$FASTMLP" predict "$T/m.mlp" "$T/t.csv" --device cuda
    expect 1 "no cuda device" -- "$FASTMLP" --device cuda --version
fi
expect 64 "--device 'gpu' is not cpu, cuda or cuda:N" -- "$FASTMLP" --device gpu train --train "$T/t.csv"
expect 64 "--device needs a value" -- "$FASTMLP" train --train "$T/t.csv" --device
expect 64 "--device-math tf32 is for a GPU" -- "$FASTMLP" train --train "$T/t.csv" --device-math tf32
expect 64 "--device-math 'fp8' is not one of exact tf32 bf16" -- "$FASTMLP" --device-math fp8 --device cuda --version
# --device cpu: the same bytes as no --device at all
"$FASTMLP" train --train "$T/t.csv" --layers 3 --epochs 3 --seed 1 -q -o "$T/a.mlp" 2>"$T/err" || bad "train: $(cat "$T/err")"
"$FASTMLP" train --device cpu --train "$T/t.csv" --layers 3 --epochs 3 --seed 1 -q -o "$T/b.mlp" 2>"$T/err" || bad "train --device cpu: $(cat "$T/err")"
cmp -s "$T/a.mlp" "$T/b.mlp" && ok || bad "--device cpu trained other bytes"
echo "device_cli: $pass passed, $fail failed (GPU here: $gpu)"
[ "$fail" -eq 0 ]
