#!/bin/sh
# SPDX-License-Identifier: MIT
# What --profile's memory sampling costs (issue 20): W5 (Fashion-MNIST
# 784-256-128-10 ReLU, Adam lr 1e-3, batch 64, 2 epochs, f32) trained PAIRS
# times with --profile and PAIRS times without, in turn (A B A B ...: a
# drift of the shared machine's speed hits both), the training seconds of
# each run summed from its --log-json (the training loop only: loading and
# evaluation are not sampled differently).  The peer is the same command
# without --profile.
# Usage: bench/profile_cost.sh BUILD_DIR
# Environment: THREADS [2]; PAIRS [10]; EPOCHS [2]; FASTMLP_FMNIST_DIR.
# Ends with one RESULT line: the medians and the median of the pairs'
# ratios (with / without) with their range.
set -eu
. "$(dirname "$0")/common.sh"
bench_init "$@"
fashion=${FASTMLP_FMNIST_DIR:-$fashion}
THREADS=${THREADS:-2}
PAIRS=${PAIRS:-10}
EPOCHS=${EPOCHS:-2}
require_positive THREADS PAIRS EPOCHS
fashion_files
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

bench_header "--profile's cost on W5: $EPOCHS epoch(s), $THREADS thread(s), $PAIRS pairs with and without --profile"
bench_load
w5() {
    "$bin" train --train "$trimg" --train-labels "$trlab" --test "$teimg" --test-labels "$telab" \
        --layers 256,128 --activation relu --optimizer adam --lr 1e-3 --batch 64 --epochs "$EPOCHS" --seed 42 \
        --threads "$THREADS" -q --log-json "$tmp/log.json" "$@" >"$tmp/out"
    log_train_s "$tmp/log.json"
}
with="" without="" ratios=""
i=0
while [ "$i" -lt "$PAIRS" ]; do
    i=$((i + 1))
    b=$(w5)
    a=$(w5 --profile)
    grep -q "^memory: peak resident" "$tmp/out" || { echo "$0: --profile printed no profile" >&2; exit 1; }
    r=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.4f\n", a / b }')
    echo "pair $i: without $b s, with $a s, ratio $r"
    with="$with $a" without="$without $b" ratios="$ratios $r"
done
# shellcheck disable=SC2086
echo "RESULT profile_cost without_s=$(median_of $without) with_s=$(median_of $with) ratio_median=$(median_of $ratios)" \
    "ratio_min=$(printf '%s\n' $ratios | sort -g | head -1) ratio_max=$(printf '%s\n' $ratios | sort -g | tail -1)"
