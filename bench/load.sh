#!/bin/sh
# SPDX-License-Identifier: MIT
# Under load (issue 15): each job with the default thread count (--threads 0,
# every core) and with --threads 1, run beside HOGS CPU-bound processes
# (`while :; do :; done` shells; one per core, the harsh case, by default),
# the two runs of a repeat back to back; prints each run's training time and
# the slowdown default / --threads 1.  Target: the default no more than 1.5x
# slower than --threads 1.  Jobs:
#   tiny  a 178 x 13 table, 3 classes (generated here, wine-sized), layers
#         64,32, adam, batch 64, 200 epochs, f32
#   W1    bench/w1_neuron.sh's job (cat/non-cat, full-batch GD, f64), EPOCHS_W1 epochs
#   W5    bench/w5_fashion_adam.sh's job (784-256-128-10, adam, batch 64, f32)
#         on ROWS_W5 training rows, 1 epoch
# Times are the training loop only (the sum of the --log-json epochs'
# "seconds"), so start-up and loading do not dilute the ratio; wall is the
# whole process.  HOGS=0 gives the idle-machine figures.
# Usage: bench/load.sh BUILD_DIR
#   env: HOGS [cores], REPEATS [5], JOBS [tiny w1 w5], EPOCHS_W1 [2000],
#        ROWS_W5 [20000], FASTMLP_DATA_DIR (W1's data), FASTMLP_FMNIST_DIR,
#        ISA=avx2|avx512|native (bench/common.sh bench_isa)
# Ends with one RESULT line per job; exit 0 when it ran (the verdict is printed,
# not an exit status: a shared machine's noise is not a failure).
set -eu
. "$(dirname "$0")/common.sh"
bench_init "$@"
data=${FASTMLP_DATA_DIR:-$data}
fashion=${FASTMLP_FMNIST_DIR:-$fashion}
cores=$(getconf _NPROCESSORS_ONLN)
HOGS=${HOGS:-$cores}
REPEATS=${REPEATS:-5}
JOBS=${JOBS:-tiny w1 w5}
EPOCHS_W1=${EPOCHS_W1:-2000}
ROWS_W5=${ROWS_W5:-20000}
require_positive REPEATS EPOCHS_W1 ROWS_W5
case $HOGS in '' | *[!0-9]*) echo "$0: HOGS must be a non-negative integer" >&2; exit 64 ;; esac
tmp=$(mktemp -d)
hogs=""
stop_hogs() {
    for h in $hogs; do kill "$h" 2>/dev/null || true; done
    for h in $hogs; do wait "$h" 2>/dev/null || true; done
    hogs=""
}
trap 'stop_hogs; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

bench_header "under load: tiny / W1 / W5, default threads vs --threads 1, beside $HOGS CPU-bound hog(s)"
bench_load
echo

# The tiny table: 178 rows of 13 features, class i % 3, features a fixed
# LCG's uniforms shifted by the class (learnable, the same on every machine).
awk 'BEGIN {
    s = 12345
    for (i = 0; i < 178; i++) {
        c = i % 3; line = c
        for (j = 0; j < 13; j++) {
            s = (s * 1103515245 + 12345) % 2147483648
            line = line "," sprintf("%.4f", s / 2147483648.0 + c * 0.3 * (j % 3))
        }
        print line
    }
}' >"$tmp/tiny.csv"

# run_job JOB THREADS: trains once, prints "TRAIN_S WALL_S"
run_job() {
    t0=$(date +%s.%N)
    case $1 in
    tiny)
        "$bin" train --train "$tmp/tiny.csv" --layers 64,32 --standardize --optimizer adam --batch 64 \
            --epochs 200 --seed 42 --threads "$2" -q --log-json "$tmp/log.json" >"$tmp/out" ;;
    w1)
        "$bin" train --train "$data/train_catvnoncat.h5" --layers none --head sigmoid-bce --dtype f64 --init zeros \
            --optimizer gd --lr 0.005 --epochs "$EPOCHS_W1" --threads "$2" -q --log-json "$tmp/log.json" >"$tmp/out" ;;
    w5)
        "$bin" train --train "$trimg" --train-labels "$trlab" --limit "$ROWS_W5" --layers 256,128 --activation relu \
            --head softmax-ce --dtype f32 --init he --optimizer adam --lr 1e-3 --batch 64 --epochs 1 --seed 42 \
            --threads "$2" -q --log-json "$tmp/log.json" >"$tmp/out" ;;
    esac
    t1=$(date +%s.%N)
    echo "$(log_train_s "$tmp/log.json") $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }')"
}

max_of() {
    printf '%s\n' "$@" | awk 'NR == 1 || $1 + 0 > m { m = $1 + 0 } END { printf "%.6f\n", m }'
}

results=""
for job in $JOBS; do
    case $job in
    tiny) desc="tiny: 178 x 13 table, 64,32, adam batch 64, 200 epochs, f32" ;;
    w1)
        [ -r "$data/train_catvnoncat.h5" ] || { echo "$0: cannot read $data/train_catvnoncat.h5" >&2; exit 66; }
        desc="W1: cat/non-cat logistic neuron, full-batch GD, $EPOCHS_W1 epochs, f64" ;;
    w5)
        fashion_files
        desc="W5: Fashion-MNIST 784-256-128-10, adam batch 64, $ROWS_W5 rows, 1 epoch, f32" ;;
    *) echo "$0: unknown job $job (JOBS: tiny w1 w5)" >&2; exit 64 ;;
    esac
    echo "== $desc"
    i=0
    while [ "$i" -lt "$HOGS" ]; do
        i=$((i + 1))
        sh -c 'while :; do :; done' &
        hogs="$hogs $!"
    done
    sleep 0.2 # the hogs running before the first timed run
    def="" one="" defw="" onew=""
    r=0
    while [ "$r" -lt "$REPEATS" ]; do
        r=$((r + 1))
        # shellcheck disable=SC2046 # run_job prints two numbers
        set -- $(run_job "$job" 0)
        def="$def $1" defw="$defw $2"
        # shellcheck disable=SC2046
        set -- $(run_job "$job" 1)
        one="$one $1" onew="$onew $2"
        echo "run $r: default ${def##* } s (wall ${defw##* } s), --threads 1 ${one##* } s (wall ${onew##* } s)"
    done
    stop_hogs
    # shellcheck disable=SC2086
    md=$(median_of $def) mo=$(median_of $one) xd=$(max_of $def) md_w=$(median_of $defw) mo_w=$(median_of $onew)
    rm=$(awk -v a="$md" -v b="$mo" 'BEGIN { printf "%.2f\n", a / b }')
    rx=$(awk -v a="$xd" -v b="$mo" 'BEGIN { printf "%.2f\n", a / b }')
    verdict=met
    awk -v r="$rx" 'BEGIN { exit !(r + 0 <= 1.5) }' || verdict="NOT met"
    echo "median training s: default $md, --threads 1 $mo; slowdown default/--threads 1: median ${rm}x," \
        "worst run ${rx}x (target <= 1.5x: $verdict); median wall s: $md_w vs $mo_w"
    echo
    results="${results}RESULT load job=$job hogs=$HOGS default_s=$md threads1_s=$mo ratio=$rm worst_ratio=$rx
"
done
printf '%s' "$results"
