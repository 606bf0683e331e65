#!/bin/sh
# SPDX-License-Identifier: MIT
# `fastmlp bench ladder` with small epoch counts on W1 (seed 000's neuron) and
# W2 (seed 001's galaxy network): one table row per stage with its epoch
# counts, the scaled times marked, every stage's costs agreeing with the fast
# stage's, exit 0; an impossible tolerance turns agreement into DIFFER and
# exit 1; bad flags exit 64, missing data 66, data of the wrong kind 65.
# This checks behaviour, it times nothing.
set -u
FASTMLP=$1
D=${FASTMLP_DATA_DIR:-$(dirname "$0")/../data}
W1="$D/train_catvnoncat.h5"
W2="$D/galaxy_test.csv"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/../support/lib.sh"

# expect CODE PATTERN -- command...: the exit code and, for a failure other
# than 1, one stderr line containing PATTERN (a fixed string).
expect() {
    code=$1 pat=$2
    shift 3
    "$@" >"$T/out" 2>"$T/err"
    rc=$?
    if [ "$rc" -ne "$code" ]; then bad "$* -> exit $rc, expected $code; out: $(cat "$T/out") err: $(cat "$T/err")"; return; fi
    if [ "$code" -gt 1 ] && [ "$(wc -l <"$T/err")" -ne 1 ]; then bad "$* -> expected one stderr line: $(cat "$T/err")"; return; fi
    if [ -n "$pat" ] && ! grep -qF -- "$pat" "$T/err"; then bad "$* -> stderr '$(cat "$T/err")' lacks '$pat'"; return; fi
    ok
}

# count REGEX N: N lines of the last command's stdout match REGEX (ERE)
count() {
    n=$(grep -cE -- "$1" "$T/out")
    if [ "$n" -eq "$2" ]; then ok; else bad "stdout has $n lines /$1/, expected $2: $(cat "$T/out")"; fi
}

T_='[0-9.]+ (ms|s)'
# --- W1: 30 epochs, the short stages 3 -------------------------------------
expect 0 "" -- "$FASTMLP" bench ladder --workload w1 --w1-data "$W1" --epochs 30 --short-epochs 3 -t 1
has '^W1: seed 000'
has '^data: 209 rows x 12288 inputs \(uint8\); outputs: 1; epochs: 30; threads: 1$'
has "^stage +epochs run +full run +per epoch +speed-up +cost +agreement with fast$"
has "^naive +3 of 30 +$T_ \* +$T_ +1\.0x +0\.[0-9]+ +agree \(max rel diff [0-9.e+-]+, epochs 1-3\)$"
has "^per-sample +3 of 30 +$T_ \* +$T_ +[0-9.]+x +0\.[0-9]+ +agree \(max rel diff [0-9.e+-]+, epochs 1-3\)$"
has "^batched +30 of 30 +$T_ +$T_ +[0-9.]+x +0\.[0-9]+ +agree \(max rel diff [0-9.e+-]+, epochs 1-30\)$"
has "^fast +30 of 30 +$T_ +$T_ +[0-9.]+x +0\.[0-9]+ +reference$"
has '^\* scaled from the epochs run to all 30, by passes over the data \(naive: 3 of 30\)$'
has '^W1: costs agree \(tolerance 1e-09 relative'
count '^W2' 0
# the short stages ran 3 epochs and end at the same cost; the long ones end
# at the same cost as each other, another one (W1's cost is not monotonic
# early on: seed 000's lr overshoots at first)
cost() { # the field after the speed-up ("12.3x") on the stage's row
    awk -v s="$1" '$1 == s { for (i = 2; i < NF; i++) if ($i ~ /^[0-9.]+x$/) { print $(i + 1); exit } }' "$T/out"
}
c_naive=$(cost naive)
c_ps=$(cost per-sample)
c_b=$(cost batched)
c_f=$(cost fast)
awk -v a="$c_naive" -v b="$c_ps" 'BEGIN { d = a - b; exit !(d < 1e-12 && d > -1e-12 && a > 0) }' && ok ||
    bad "naive cost $c_naive vs per-sample $c_ps"
awk -v a="$c_b" -v b="$c_f" -v n="$c_naive" 'BEGIN { d = a - b; exit !(d < 1e-12 && d > -1e-12 && a != n) }' && ok ||
    bad "batched cost $c_b vs fast $c_f (naive at epoch 3: $c_naive)"

# the same run with a tolerance no rounding meets: DIFFER and exit 1, unless
# every stage happened to match to the last bit
"$FASTMLP" bench ladder --workload w1 --w1-data "$W1" --epochs 4 --short-epochs 2 --tolerance 0 >"$T/out" 2>"$T/err"
rc=$?
if grep -q DIFFER "$T/out"; then
    [ "$rc" -eq 1 ] && ok || bad "DIFFER printed but exit $rc"
    has '^W1: costs DIFFER \(tolerance 0 relative: --tolerance\)$'
else
    [ "$rc" -eq 0 ] && ok || bad "no DIFFER but exit $rc"
fi

# --- W2: 12 CG iterations, the short stages 2 ------------------------------
# (compared over the first 10 iterations only)
expect 0 "" -- "$FASTMLP" bench ladder --workload w2 --w2-data "$W2" --epochs 12 --short-epochs 2
has '^W2: seed 001'
has '^data: 2700 rows x 1024 inputs \(uint8\); outputs: 3; epochs: 12; threads: [0-9]+$'
has "^naive +2 of 12 +$T_ \* +$T_ +1\.0x +[0-9.]+ +agree \(max rel diff [0-9.e+-]+, epochs 1-2\)$"
has "^per-sample +2 of 12 +$T_ \* +$T_ +[0-9.]+x +[0-9.]+ +agree"
has "^batched +12 of 12 +$T_ +$T_ +[0-9.]+x +[0-9.]+ +agree \(max rel diff [0-9.e+-]+, epochs 1-10\)$"
has "^fast +12 of 12 +.* reference$"
has '^final costs after 12 epochs: batched vs fast differ by [0-9.e+-]+ relative'

has '^W2: costs agree \(tolerance 1e-08 relative'
count '^W1' 0

# --- both, the defaults' shape ---------------------------------------------
expect 0 "" -- "$FASTMLP" bench ladder --w1-data "$W1" --w2-data "$W2" --epochs 3 --short-epochs 1 --repeat 2
count '^(naive|per-sample|batched|fast) ' 8
count 'agree \(max rel diff' 6
has '^W1: costs agree'
has '^W2: costs agree'
has '^times: best of 2 runs per stage$'
expect 0 "" -- "$FASTMLP" bench ladder --help
has '--short-epochs'
# --epochs below the default short count: the short stages run them all
expect 0 "" -- "$FASTMLP" bench ladder --workload w1 --w1-data "$W1" --epochs 2
has "^naive +2 of 2 +$T_ +"

# --- bad flags, bad data ---------------------------------------------------
expect 64 "'w3' is not w1, w2 or all" -- "$FASTMLP" bench ladder --workload w3
expect 64 "option '--epochs' must be 1.." -- "$FASTMLP" bench ladder --epochs 0
expect 64 "option '--epochs': 'x'" -- "$FASTMLP" bench ladder --epochs x
expect 64 "option '--epochs': '-5'" -- "$FASTMLP" bench ladder --epochs -5
expect 64 "option '--short-epochs' must be 1.." -- "$FASTMLP" bench ladder --short-epochs 0
expect 64 "option '--repeat' must be 1..1000" -- "$FASTMLP" bench ladder --repeat 0
expect 64 "option '--tolerance' must be 0 or more" -- "$FASTMLP" bench ladder --tolerance -1e-3
expect 64 "--threads -2: give 0 for all cores" -- "$FASTMLP" bench ladder -t -2
expect 64 "unknown option '--bogus'" -- "$FASTMLP" bench ladder --bogus
expect 64 "unexpected argument 'w1'" -- "$FASTMLP" bench ladder w1
expect 64 "option '--w1-data' needs FILE" -- "$FASTMLP" bench ladder --w1-data
expect 66 "nope.h5" -- "$FASTMLP" bench ladder --workload w1 --w1-data "$T/nope.h5"
expect 66 "nope.csv" -- "$FASTMLP" bench ladder --workload w2 --w2-data "$T/nope.csv"
expect 65 "W1 needs 0/1 labels" -- "$FASTMLP" bench ladder --workload w1 --w1-data "$W2" --epochs 1
printf '1,2,3\n4,5\n' >"$T/ragged.csv"
expect 65 "ragged.csv" -- "$FASTMLP" bench ladder --workload w2 --w2-data "$T/ragged.csv"

echo "ladder cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
