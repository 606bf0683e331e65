#!/bin/sh
# SPDX-License-Identifier: MIT
# `fastmlp gradcheck`: passes for every activation x head x dtype on synthetic
# data and on a slice of real data, prints one line per layer and a verdict,
# and can fail (an impossible tolerance), with exit code 4.
set -u
FASTMLP=$1
FM=${FASTMLP_FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
D=${FASTMLP_DATA_DIR:-$(dirname "$0")/../data}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/../support/lib.sh"

# expect CODE PATTERN -- command...: exit code, and PATTERN (fixed string)
# in stdout for exit 0 or 4, in the one stderr line otherwise (lib.sh's
# expect looks in stderr only, so this one replaces it).
expect() {
    code=$1 pat=$2
    shift 3
    "$@" >"$T/out" 2>"$T/err"
    rc=$?
    if [ "$rc" -ne "$code" ]; then bad "$* -> exit $rc, expected $code; out: $(cat "$T/out") err: $(cat "$T/err")"; return; fi
    where="$T/out"
    if [ "$code" -ne 0 ] && [ "$code" -ne 4 ]; then
        where="$T/err"
        [ "$(wc -l <"$T/err")" -eq 1 ] || { bad "$* -> expected one stderr line: $(cat "$T/err")"; return; }
    fi
    if [ -n "$pat" ] && ! grep -qF -- "$pat" "$where"; then bad "$* -> '$(cat "$where")' lacks '$pat'"; return; fi
    ok
}

# Every hidden activation x output head x dtype, with L2, on synthetic data;
# for the heads that take it, two classes (one output unit) as well.
for a in identity sigmoid tanh relu leaky-relu; do
    for h in softmax-ce sigmoid-bce identity-mse sigmoid-mse tanh-mse; do
        for d in f64 f32; do
            expect 0 "): ok" -- "$FASTMLP" gradcheck --activation $a --head $h --dtype $d --layers 6,5 --l2 0.3 \
                --leaky-slope 0.1 --seed 11 -q
            [ $h = softmax-ce ] && continue
            expect 0 "): ok" -- "$FASTMLP" gradcheck --activation $a --head $h --dtype $d --layers 4 --classes 2 -q
        done
    done
done

# The report: a header, one line per layer with W and b, the verdict.
expect 0 "" -- "$FASTMLP" gradcheck --layers 6,5 --activation tanh --head sigmoid-bce
grep -q '^fastmlp gradcheck: 16 x 10 -> 6,5,3 (f64, sigmoid-bce, 119 parameters)' "$T/out" && ok ||
    bad "header: $(head -1 "$T/out")"
grep -q '^layer 1 (6x10 tanh)  W max rel err [0-9.e+-]*  b [0-9.e+-]*$' "$T/out" && ok || bad "layer 1 line: $(cat "$T/out")"
grep -q '^layer 2 (5x6 tanh)  W max rel err' "$T/out" && ok || bad "layer 2 line: $(cat "$T/out")"
grep -q '^layer 3 (3x5 sigmoid-bce)  W max rel err' "$T/out" && ok || bad "layer 3 line: $(cat "$T/out")"
grep -q '^worst [0-9.e+-]* (tolerance 1e-06): ok$' "$T/out" && ok || bad "verdict: $(tail -1 "$T/out")"
[ "$(wc -l <"$T/out")" -eq 5 ] && ok || bad "expected 5 lines: $(cat "$T/out")"
# Deterministic: the same flags print the same figures.
cp "$T/out" "$T/first"
"$FASTMLP" gradcheck --layers 6,5 --activation tanh --head sigmoid-bce >"$T/second" 2>&1
cmp -s "$T/first" "$T/second" && ok || bad "two identical gradchecks printed different figures"

# The default network (256,128: more parameters than --max-params) is sampled per layer.
expect 0 "(W: " -- "$FASTMLP" gradcheck
grep -q "checking 2000 (a seeded sample per layer)" "$T/out" && ok || bad "default sample: $(head -1 "$T/out")"
expect 0 "): ok" -- "$FASTMLP" gradcheck --dtype f32 --max-params 300 --activation leaky-relu

# Real data: a slice of Fashion-MNIST (uint8 pixels, scaled), f64 and f32,
# and seed 001's galaxy CSV, standardised, with a sigmoid head.
FMX="--train $FM/train-images-idx3-ubyte.gz --train-labels $FM/train-labels-idx1-ubyte.gz"
expect 0 "): ok" -- "$FASTMLP" gradcheck $FMX --limit 32 --layers 32 --max-params 400
grep -q '^fastmlp gradcheck: 32 x 784 -> 32,10' "$T/out" && ok || bad "Fashion-MNIST header: $(head -1 "$T/out")"
expect 0 "): ok" -- "$FASTMLP" gradcheck $FMX --limit 32 --layers 16 --max-params 300 --dtype f32 --l2 1
expect 0 "): ok" -- "$FASTMLP" gradcheck --train "$D/galaxy_test.csv" --limit 40 --layers 8 --activation sigmoid \
    --head sigmoid-bce --standardize --max-params 300

# It can fail: no finite difference meets 1e-30.  Exit 4, "FAILED".
expect 4 "(tolerance 1e-30): FAILED" -- "$FASTMLP" gradcheck --layers 6,5 --tolerance 1e-30
expect 4 "FAILED" -- "$FASTMLP" gradcheck $FMX --limit 16 --layers 8 --max-params 50 --tolerance 1e-30 -q
# A zero gradient is shown as such (it proves nothing).
expect 0 "every checked component is 0" -- "$FASTMLP" gradcheck --init zeros --layers 4

# Bad command lines: 64; a missing file: 66.
expect 64 "--tolerance" -- "$FASTMLP" gradcheck --tolerance 0
expect 64 "--max-params must be at least 1" -- "$FASTMLP" gradcheck --max-params 0
expect 64 "--train-labels needs --train" -- "$FASTMLP" gradcheck --train-labels x.gz
expect 64 "unknown head 'softmax'" -- "$FASTMLP" gradcheck --head softmax
expect 64 "softmax-ce needs --classes of at least 2" -- "$FASTMLP" gradcheck --classes 1
expect 64 "--layers" -- "$FASTMLP" gradcheck --layers 4,,2
expect 64 "--rows must be at least 1" -- "$FASTMLP" gradcheck --rows 0
expect 66 "cannot open" -- "$FASTMLP" gradcheck --train "$T/none.csv"
expect 0 "--max-params" -- "$FASTMLP" gradcheck --help

echo "gradcheck_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
