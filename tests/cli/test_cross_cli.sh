#!/bin/sh
# SPDX-License-Identifier: MIT
# The CLI of the aarch64 cross build (issue 19) under qemu-aarch64, on the
# CPU model in QEMU_CPU (make test-arm64 runs it with max and cortex-a53):
# --version names the NEON kernels each slot got (the int8 and bf16 ones by
# the CPU's features), --isa refuses an x86 variant with one line, a small
# network trains on Fashion-MNIST (its first layer through the fused uint8
# NEON kernel, Adam and the activations through theirs), and its
# predictions, plain and int8, agree with the portable kernels' on the same
# binary.
# Usage: test_cross_cli.sh EMULATOR FASTMLP
set -u
EMU=$1
FASTMLP=$2
CPU=${QEMU_CPU:-max}
FM=${FASTMLP_FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/../support/lib.sh"

if [ -z "$EMU" ] || ! command -v "$EMU" >/dev/null 2>&1; then
    echo "FAIL: no emulator for the cross build (qemu-aarch64: Debian's qemu-user, make setup installs it)"
    exit 1
fi
# the host's kernel and BLAS choices stay out of the guest (lib.sh explains)
RUN="$EMU -U OPENBLAS_CORETYPE -U FASTMLP_ISA $FASTMLP"

# shellcheck disable=SC2086
expect 0 "" -- $RUN --version
has '^kernels: neon \(--isa auto\)$'
has '^  narrow +neon$'
has '^  activations +neon$'
has '^  adam +neon$'
hasnt 'avx'
case $CPU in
max) # every feature: SDOT/UDOT, USDOT (i8mm) and BFDOT
    has '^  quant-int8 +neon-i8mm$'
    has '^  quant-bf16 +neon-bf16$' ;;
cortex-a53) # Armv8.0: none of them
    has '^  quant-int8 +neon$'
    has '^  quant-bf16 +neon$' ;;
esac
has '^  quant-f32 +neon$'
# shellcheck disable=SC2086
expect 0 "" -- $RUN --isa portable --version
has '^kernels: portable \(--isa portable\)$'
# shellcheck disable=SC2086
expect 64 "this CPU cannot run it" -- $RUN --isa avx2 --version

# shellcheck disable=SC2086
expect 0 "" -- $RUN train --train "$FM/train-images-idx3-ubyte.gz" --train-labels "$FM/train-labels-idx1-ubyte.gz" \
    --limit 600 --layers 12 --epochs 3 --optimizer adam --seed 7 --threads 2 -q -o "$T/m.mlp"
[ -s "$T/m.mlp" ] && ok || bad "train under qemu-aarch64 -cpu $CPU wrote no model"
for isa in auto portable; do
    # shellcheck disable=SC2086
    expect 0 "" -- $RUN --isa $isa predict "$T/m.mlp" "$FM/t10k-images-idx3-ubyte.gz" -o "$T/$isa.csv"
    # shellcheck disable=SC2086
    expect 0 "" -- $RUN --isa $isa predict "$T/m.mlp" "$FM/t10k-images-idx3-ubyte.gz" --quantize int8 \
        -o "$T/$isa-int8.csv"
done
# NEON against portable on one binary: the same figures to within rounding
# (the fused layer sums in another order, the vector exp differs from libm's
# in the last bits; f32 probabilities agree to ~1e-6), int8 too (its sums
# are exact and its epilogue the portable one's; the head's exp is not)
python3 - "$T" <<'PY' && ok || bad "NEON and portable predictions differ under -cpu $CPU"
import sys
def rows(p):
    r = [l.rstrip("\n").split(",") for l in open(p)][1:]
    assert len(r) == 10000, (p, len(r))
    return r
for kind in ("", "-int8"):
    a, b = rows(sys.argv[1] + "/auto" + kind + ".csv"), rows(sys.argv[1] + "/portable" + kind + ".csv")
    worst = max(abs(float(x) - float(y)) for ra, rb in zip(a, b) for x, y in zip(ra[2:], rb[2:]))
    assert worst <= 1e-5, (kind, worst)
    assert sum(ra[1] == rb[1] for ra, rb in zip(a, b)) >= 9990, kind
PY

echo "cross cli (qemu-aarch64 -cpu $CPU): $pass passed, $fail failed"
[ "$fail" -eq 0 ]
