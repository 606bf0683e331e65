#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/w5_fashion_adam.sh, bench/w6_infer.sh and bench/profile_cost.sh in a quick mode (1000
# training rows, 1 epoch, few timed runs): exit codes, the header, and the
# RESULT lines -- fastmlp's figures always numbers, each peer's a number
# when it ran and n/a when it is missing.  Runs once with whatever peers are
# installed and once with none (PY=/bin/false, CC=false), as on a CI machine
# without them.  Exit 77 (skipped) without the Fashion-MNIST files.
# Usage: test_bench_w56.sh SOURCE_DIR BUILD_DIR
set -u
SRC=$1
BUILD=$2
FM=${FASTMLP_FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
if [ ! -r "$FM/train-images-idx3-ubyte.gz" ] || [ ! -r "$FM/t10k-labels-idx1-ubyte.gz" ]; then
    echo "test_bench_w56: skipped: no Fashion-MNIST in $FM"
    exit 77
fi
export FASTMLP_FMNIST_DIR="$FM"
W5="$SRC/bench/w5_fashion_adam.sh"
W6="$SRC/bench/w6_infer.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/../support/lib.sh"

# run CODE ENV... -- SCRIPT ARGS...: exit code CODE, stdout in $T/out
run() {
    code=$1
    shift
    env "$@" >"$T/out" 2>"$T/err"
    rc=$?
    if [ "$rc" -eq "$code" ]; then ok; else bad "$* -> exit $rc, expected $code: $(tail -n 5 "$T/err")"; fi
}
num='[0-9]+(\.[0-9]+)?'
val="($num|n/a)"

# --- bad usage ---------------------------------------------------------
mkdir "$T/empty"
for s in "$W5" "$W6"; do
    run 64 sh "$s"
    run 66 sh "$s" "$T/empty"
    run 64 THREADS=x sh "$s" "$BUILD"
    run 64 EPOCHS=0 sh "$s" "$BUILD"
    run 66 FASTMLP_FMNIST_DIR="$T/empty" sh "$s" "$BUILD"
done

quick="ROWS=1000 EPOCHS=1 THREADS=1"
w5_checks() {
    has '^workload: W5, Fashion-MNIST 784-256-128-10'
    has '^BLAS: .*core='
    has '^commit: '
    has "^fastmlp: $num samples/s \(best of 1\), test accuracy 0\.[0-9]{4}$"
    for p in sklearn torch fann; do
        has "^RESULT W5 fastmlp_sps=$num ${p}_sps=$val ratio=($num""x|n/a) fastmlp_acc=0\.[0-9]{4} ${p}_acc=$val"
        if grep "^RESULT W5 .*${p}_sps=" "$T/out" | grep -q "${p}_sps=n/a"; then
            has "^$p: not (installed|run)"
        else
            has "^RESULT W5 .*${p}_sps=$num ratio=$num""x"
        fi
    done
    if [ "$(grep -c "^RESULT W5 " "$T/out")" -eq 3 ]; then ok; else bad "not 3 RESULT W5 lines"; fi
}

# --- W5 with the peers there are, then with none ---------------------------
# shellcheck disable=SC2086
run 0 $quick FANN_ROWS=300 sh "$W5" "$BUILD"
w5_checks
# shellcheck disable=SC2086
run 0 $quick PY=/bin/false CC=false sh "$W5" "$BUILD"
w5_checks
has '^RESULT W5 fastmlp_sps=[0-9.]+ sklearn_sps=n/a ratio=n/a'
has '^fann: not installed'

w6_checks() {
    has '^workload: W6, inference of the W5 network'
    has "^RESULT infer rows=10000 threads=1 rows_per_s=$num ms_per_pass=$num accuracy=0\.[0-9]{4} latency_rows=20 "
    for p in torch numpy; do
        has "^RESULT W6 fastmlp_rows_per_s=$num ${p}_rows_per_s=$val ratio=($num""x|n/a) fastmlp_latency_us_median=$num ${p}_latency_us_median=$val latency_ratio=($num""x|n/a) fastmlp_latency_us_p99=$num ${p}_latency_us_p99=$val$"
    done
    # and one per reduced-precision type, beside PyTorch
    for q in bf16 int8; do
        has "^RESULT W6 weights=$q fastmlp_rows_per_s=$num torch_rows_per_s=$val ratio=($num""x|n/a) fastmlp_latency_us_median=$num torch_latency_us_median=$val latency_ratio=($num""x|n/a) accuracy=0\.[0-9]{4} model_accuracy=0\.[0-9]{4}$"
    done
    if [ "$(grep -c "^RESULT W6 " "$T/out")" -eq 4 ]; then ok; else bad "not 4 RESULT W6 lines"; fi
}

# --- W6 likewise -----------------------------------------------------------
# shellcheck disable=SC2086
run 0 $quick RUNS=1 LATENCY_ROWS=20 sh "$W6" "$BUILD"
w6_checks
# shellcheck disable=SC2086
run 0 $quick RUNS=1 LATENCY_ROWS=20 PY=/bin/false sh "$W6" "$BUILD"
w6_checks
has '^RESULT W6 .*torch_rows_per_s=n/a ratio=n/a'
has '^numpy: not installed'

# --- bench/profile_cost.sh: one pair of one epoch --------------------------
run 0 PAIRS=1 EPOCHS=1 THREADS=1 sh "$SRC/bench/profile_cost.sh" "$BUILD"
has "^RESULT profile_cost without_s=$num with_s=$num ratio_median=$num ratio_min=$num ratio_max=$num$"
run 64 PAIRS=0 sh "$SRC/bench/profile_cost.sh" "$BUILD"

echo "test_bench_w56: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
