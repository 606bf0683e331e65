#!/bin/sh
# SPDX-License-Identifier: MIT
# W5: Fashion-MNIST 784-256-128-10 ReLU, softmax cross-entropy, Adam lr 1e-3,
# batch 64, 2 epochs, f32, trained by `fastmlp train` on the 60000 training
# images and tested on t10k: training samples/s (fastmlp's summary line: the
# training loop only, no loading, no evaluation) and test accuracy, beside
# the peers that are installed, each run in this invocation:
#   bench/peers/w5_sklearn.py  scikit-learn MLPClassifier (adam, f64, alpha 0)
#   bench/peers/w5_torch.py    PyTorch f32 CPU, the same net and optimizer
#   bench/peers/w5_fann.c      FANN, per-sample training over FANN_ROWS rows
#                              (a fraction of an epoch: FANN is slow)
# Usage: bench/w5_fashion_adam.sh BUILD_DIR
# Environment: THREADS (fastmlp --threads, OMP/OPENBLAS/MKL_NUM_THREADS,
# torch.set_num_threads) [2]; EPOCHS [2]; ROWS training rows [60000];
# FANN_ROWS [10000]; REPEAT runs of each, the fastest counts [1];
# PEERS which peers to run [sklearn torch fann]; FASTMLP_FMNIST_DIR
# [/usr/share/datasets/fashion-mnist]; OMP_WAIT_POLICY [PASSIVE, see below];
# ISA=avx2|avx512|native [native] (bench/common.sh bench_isa; FANN is plain
# C compiled for the baseline with no BLAS: ISA= does not reach it).
# Ends with one RESULT line per peer (n/a where the peer is missing);
# ratio = fastmlp samples/s / the peer's.
set -eu
. "$(dirname "$0")/common.sh"
bench_init "$@"
fashion=${FASTMLP_FMNIST_DIR:-$fashion}
THREADS=${THREADS:-2}
EPOCHS=${EPOCHS:-2}
ROWS=${ROWS:-60000}
FANN_ROWS=${FANN_ROWS:-10000}
REPEAT=${REPEAT:-1}
PEERS=${PEERS:-sklearn torch fann}
require_positive THREADS EPOCHS ROWS FANN_ROWS REPEAT
fashion_files
peer_threads "$THREADS"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

bench_header "W5, Fashion-MNIST 784-256-128-10 relu, softmax-ce, adam lr 1e-3, batch 64, $EPOCHS epoch(s), f32, $ROWS training rows, $THREADS thread(s)"
# the machine is shared: the load says how much the figures may be off
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15-minute load average before the runs)"
wants() { case " $PEERS " in *" $1 "*) return 0 ;; esac; return 1; }
# peer_figure KEY FILE: KEY's value on the PEER line of FILE
peer_figure() { sed -n "s/^PEER .*$1=\([^ ]*\).*/\1/p" "$2"; }

echo
echo "== fastmlp"
best_sps="" best_acc=""
r=0
while [ "$r" -lt "$REPEAT" ]; do
    r=$((r + 1))
    "$bin" train --train "$trimg" --train-labels "$trlab" --test "$teimg" --test-labels "$telab" \
        --limit "$ROWS" --layers 256,128 --activation relu --head softmax-ce --dtype f32 --init he \
        --optimizer adam --lr 1e-3 --batch 64 --epochs "$EPOCHS" --seed 42 --threads "$THREADS" >"$tmp/fastmlp.out"
    cat "$tmp/fastmlp.out"
    # "test accuracy 0.8567  test loss 0.3987  123456 samples/s  (1.02 s training)"
    line=$(grep '^test accuracy ' "$tmp/fastmlp.out")
    sps=$(echo "$line" | sed -n 's/.*  \([0-9.]*\) samples\/s .*/\1/p')
    acc=$(echo "$line" | sed -n 's/^test accuracy \([0-9.]*\) .*/\1/p')
    if [ -z "$sps" ] || [ -z "$acc" ]; then
        echo "$0: no summary line in fastmlp's output" >&2
        exit 70
    fi
    if [ -z "$best_sps" ] || awk -v a="$sps" -v b="$best_sps" 'BEGIN { exit !(a > b) }'; then
        best_sps=$sps best_acc=$acc
    fi
done
echo "fastmlp: $best_sps samples/s (best of $REPEAT), test accuracy $best_acc"

# run_peer NAME COMMAND...: the peer's output, its PEER line kept in $tmp/NAME
run_peer() {
    name=$1
    shift
    echo
    echo "== $name"
    if "$@" >"$tmp/$name" 2>"$tmp/$name.err"; then
        grep -v '^PEER ' "$tmp/$name" || true
    else
        echo "$name: failed (exit $?): $(tail -n 3 "$tmp/$name.err")"
        : >"$tmp/$name"
    fi
}
skip_peer() {
    echo
    echo "== $1"
    echo "$1: $2"
    : >"$tmp/$1"
}

if ! wants sklearn; then skip_peer sklearn "not run (PEERS)"
elif have_py numpy sklearn; then
    run_peer sklearn "$PY" "$root/bench/peers/w5_sklearn.py" "$fashion" --rows "$ROWS" --epochs "$EPOCHS" --repeat "$REPEAT"
else skip_peer sklearn "not installed for $PY"; fi

if ! wants torch; then skip_peer torch "not run (PEERS)"
elif have_py numpy torch; then
    run_peer torch "$PY" "$root/bench/peers/w5_torch.py" "$fashion" --rows "$ROWS" --epochs "$EPOCHS" \
        --threads "$THREADS" --repeat "$REPEAT"
else skip_peer torch "not installed for $PY"; fi

fann_rows=$FANN_ROWS
[ "$fann_rows" -gt "$ROWS" ] && fann_rows=$ROWS
# Compiling is the test for fann.h and libfann (libfann-dev); CC picks the compiler.
if ! wants fann; then skip_peer fann "not run (PEERS)"
elif "${CC:-cc}" -O2 -o "$tmp/w5_fann" "$root/bench/peers/w5_fann.c" -lfann -lm 2>"$tmp/fann.cc"; then
    # FANN reads plain IDX: the four files decompressed into the temp dir
    for f in "$trimg" "$trlab" "$teimg" "$telab"; do gzip -dc "$f" >"$tmp/$(basename "$f" .gz)"; done
    best=""
    r=0
    while [ "$r" -lt "$REPEAT" ]; do
        r=$((r + 1))
        run_peer fann "$tmp/w5_fann" "$tmp/train-images-idx3-ubyte" "$tmp/train-labels-idx1-ubyte" \
            "$tmp/t10k-images-idx3-ubyte" "$tmp/t10k-labels-idx1-ubyte" "$fann_rows"
        echo "fann ISA: asked ${ISA:-native}; runs: plain C built here by ${CC:-cc} -O2 for the baseline, no BLAS (ISA= does not reach it)"
        s=$(peer_figure sps "$tmp/fann")
        if [ -n "$s" ] && { [ -z "$best" ] || awk -v a="$s" -v b="$best" 'BEGIN { exit !(a > b) }'; }; then
            best=$s
            cp "$tmp/fann" "$tmp/fann.best"
        fi
    done
    if [ -n "$best" ]; then cp "$tmp/fann.best" "$tmp/fann"; fi
else skip_peer fann "not installed (${CC:-cc} -O2 w5_fann.c -lfann -lm failed: $(grep -m1 . "$tmp/fann.cc" || echo "exit status only"))"; fi

echo
echo "== summary (ratio = fastmlp samples/s / peer samples/s; THREADS=$THREADS)"
for p in sklearn torch fann; do
    s=$(peer_figure sps "$tmp/$p")
    a=$(peer_figure acc "$tmp/$p")
    note=""
    [ "$p" = fann ] && note=" fann_rows=$fann_rows"
    echo "RESULT W5 fastmlp_sps=$best_sps ${p}_sps=${s:-n/a} ratio=$(ratio "$s" "$best_sps") fastmlp_acc=$best_acc ${p}_acc=${a:-n/a}$note"
done
