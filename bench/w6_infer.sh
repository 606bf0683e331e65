#!/bin/sh
# SPDX-License-Identifier: MIT
# W6: inference of the W5 network (784-256-128-10 ReLU, softmax, f32) on the
# 10000 Fashion-MNIST test images.  fastmlp trains it first (W5's settings,
# EPOCHS epochs, into a temporary directory), then `fastmlp bench infer`
# times the whole batch (rows/s, best of RUNS) and one image at a time
# (batch-1 latency: median, p90, p99, mean over LATENCY_ROWS images), beside
# the peers that are installed, measured the same way in this invocation:
#   bench/peers/w6_torch.py  PyTorch f32 CPU, inference_mode
#   bench/peers/w6_numpy.py  NumPy f32, three matrix products
# The peers use random weights (the time does not depend on the values), so
# only fastmlp reports an accuracy.
# Usage: bench/w6_infer.sh BUILD_DIR
# Environment: THREADS (fastmlp --threads, OMP/OPENBLAS/MKL_NUM_THREADS,
# torch.set_num_threads) [2]; EPOCHS [2]; ROWS training rows [60000]; RUNS
# [5]; LATENCY_ROWS [1000]; PEERS [torch numpy]; OMP_WAIT_POLICY [PASSIVE];
# FASTMLP_FMNIST_DIR [/usr/share/datasets/fashion-mnist]; ISA=avx2|avx512|native
# [native] (bench/common.sh bench_isa).
# Ends with one RESULT line per peer (n/a where the peer is missing):
# ratio = fastmlp rows/s / the peer's; latency_ratio = the peer's median
# latency / fastmlp's (above 1: fastmlp answers sooner).
set -eu
. "$(dirname "$0")/common.sh"
bench_init "$@"
fashion=${FASTMLP_FMNIST_DIR:-$fashion}
THREADS=${THREADS:-2}
EPOCHS=${EPOCHS:-2}
ROWS=${ROWS:-60000}
RUNS=${RUNS:-5}
LATENCY_ROWS=${LATENCY_ROWS:-1000}
PEERS=${PEERS:-torch numpy}
require_positive THREADS EPOCHS ROWS RUNS LATENCY_ROWS
fashion_files
peer_threads "$THREADS"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

bench_header "W6, inference of the W5 network (784-256-128-10 relu, softmax, f32) on the 10000 test images: batch and batch 1, $THREADS thread(s)"
# the machine is shared: the load says how much the figures may be off
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15-minute load average before the runs)"
wants() { case " $PEERS " in *" $1 "*) return 0 ;; esac; return 1; }
# figure KEY FILE: KEY's value on the RESULT/PEER line of FILE
figure() { sed -n "s/^\(PEER\|RESULT infer\) .*$1=\([^ ]*\).*/\2/p" "$2"; }

echo
echo "== fastmlp train (W5's settings, $EPOCHS epoch(s), $ROWS rows; not timed here)"
"$bin" train --train "$trimg" --train-labels "$trlab" --limit "$ROWS" --layers 256,128 --activation relu \
    --head softmax-ce --dtype f32 --optimizer adam --lr 1e-3 --batch 64 --epochs "$EPOCHS" --seed 42 \
    --threads "$THREADS" -q -o "$tmp/w5.mlp"

echo
echo "== fastmlp bench infer"
"$bin" bench infer --model "$tmp/w5.mlp" --data "$teimg" --labels "$telab" --runs "$RUNS" \
    --latency-rows "$LATENCY_ROWS" --threads "$THREADS" >"$tmp/fastmlp"
cat "$tmp/fastmlp"
ours_rps=$(figure rows_per_s "$tmp/fastmlp")
ours_med=$(figure latency_us_median "$tmp/fastmlp")
ours_p99=$(figure latency_us_p99 "$tmp/fastmlp")
if [ -z "$ours_rps" ] || [ -z "$ours_med" ]; then
    echo "$0: no RESULT line in fastmlp bench infer's output" >&2
    exit 70
fi

# run_peer NAME COMMAND...: the peer's output, its PEER line kept in $tmp/NAME
# The same network through the inference engine with reduced-precision
# weights (issue 6): QUANT="" skips them.
QUANT=${QUANT-bf16 int8}
for q in $QUANT; do
    echo
    echo "== fastmlp bench infer --quantize $q"
    "$bin" bench infer --model "$tmp/w5.mlp" --data "$teimg" --labels "$telab" --runs "$RUNS" \
        --latency-rows "$LATENCY_ROWS" --threads "$THREADS" --quantize "$q" >"$tmp/fastmlp_$q"
    cat "$tmp/fastmlp_$q"
done

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

if ! wants torch; then skip_peer torch "not run (PEERS)"
elif have_py numpy torch; then
    run_peer torch "$PY" "$root/bench/peers/w6_torch.py" "$fashion" --runs "$RUNS" --latency-rows "$LATENCY_ROWS" \
        --threads "$THREADS"
else skip_peer torch "not installed for $PY"; fi

if ! wants numpy; then skip_peer numpy "not run (PEERS)"
elif have_py numpy; then
    run_peer numpy "$PY" "$root/bench/peers/w6_numpy.py" "$fashion" --runs "$RUNS" --latency-rows "$LATENCY_ROWS"
else skip_peer numpy "not installed for $PY"; fi

echo
echo "== summary (ratio = fastmlp rows/s / peer rows/s; latency_ratio = peer median / fastmlp median; THREADS=$THREADS)"
for p in torch numpy; do
    rps=$(figure rows_per_s "$tmp/$p")
    med=$(figure latency_us_median "$tmp/$p")
    p99=$(figure latency_us_p99 "$tmp/$p")
    echo "RESULT W6 fastmlp_rows_per_s=$ours_rps ${p}_rows_per_s=${rps:-n/a} ratio=$(ratio "$rps" "$ours_rps")" \
        "fastmlp_latency_us_median=$ours_med ${p}_latency_us_median=${med:-n/a} latency_ratio=$(ratio "$ours_med" "$med")" \
        "fastmlp_latency_us_p99=$ours_p99 ${p}_latency_us_p99=${p99:-n/a}"
done
for q in $QUANT; do
    q_rps=$(figure rows_per_s "$tmp/fastmlp_$q")
    q_med=$(figure latency_us_median "$tmp/fastmlp_$q")
    q_acc=$(figure accuracy "$tmp/fastmlp_$q")
    t_rps=$(figure rows_per_s "$tmp/torch")
    t_med=$(figure latency_us_median "$tmp/torch")
    echo "RESULT W6 weights=$q fastmlp_rows_per_s=$q_rps torch_rows_per_s=${t_rps:-n/a} ratio=$(ratio "$t_rps" "$q_rps")" \
        "fastmlp_latency_us_median=$q_med torch_latency_us_median=${t_med:-n/a} latency_ratio=$(ratio "$q_med" "$t_med")" \
        "accuracy=${q_acc:-n/a} model_accuracy=$(figure accuracy "$tmp/fastmlp")"
done
