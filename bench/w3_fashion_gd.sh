#!/bin/sh
# SPDX-License-Identifier: MIT
# W3, seed 002: 784-10 ReLU-10 softmax, cross-entropy, full-batch gradient
# descent lr 0.1, 2000 iterations, on the first 41000 Fashion-MNIST training
# images, init U(-0.5, 0.5); fastmlp in f32 beside seed 002's formulation in
# NumPy f64 (bench/peers/w3_numpy.py) and PyTorch f32 on the CPU
# (bench/peers/w3_torch.py) when /usr/bin/python3 has them.
# fastmlp runs all ITERS (2000) iterations, best of REPEATS (3); its time is
# the summary's "(X s training)", unrounded from its JSON log.  The peers take
# ~60 ms per iteration, so they run PEER_ITERS (50), best of REPEATS, and
# their loop time is scaled to ITERS.  Test accuracy: fastmlp's model after
# ITERS iterations, the peers' after PEER_ITERS (so not comparable unless
# PEER_ITERS = ITERS).
# Usage: bench/w3_fashion_gd.sh BUILD_DIR
#   env: THREADS=T, ITERS=N, PEER_ITERS=N, REPEATS=R, PY=python with the peers' modules,
#        FASTMLP_FMNIST_DIR=directory of the *-ubyte.gz files, ISA=avx2|avx512|native (bench/common.sh bench_isa)
set -eu
. "$(dirname "$0")/common.sh"
bench_init "$@"
iters=${ITERS:-2000}
peer_iters=${PEER_ITERS:-50}
repeats=${REPEATS:-3}
limit=41000
fm=${FASTMLP_FMNIST_DIR:-$fashion}
for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
    if [ ! -r "$fm/$f" ]; then
        echo "$0: cannot read $fm/$f" >&2
        exit 66
    fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

bench_header "W3 (seed 002), Fashion-MNIST first $limit images, 784-10 relu-10 softmax, cross-entropy, full-batch GD lr 0.1, $iters iterations, init U(-0.5, 0.5), fastmlp f32"
bench_threads
bench_load
echo

# --- fastmlp ---------------------------------------------------------------
times=""
i=0
while [ "$i" -lt "$repeats" ]; do
    i=$((i + 1))
    "$bin" train --train "$fm/train-images-idx3-ubyte.gz" --train-labels "$fm/train-labels-idx1-ubyte.gz" \
        --limit "$limit" --layers 10 --activation relu --head softmax-ce --init uniform --init-range -0.5,0.5 \
        --optimizer gd --lr 0.1 --epochs "$iters" --dtype f32 --threads "$threads" -q \
        --log-json "$tmp/log.json" -o "$tmp/model.fmlp" >"$tmp/out"
    echo "fastmlp run $i: $(cat "$tmp/out")"
    times="$times $(log_train_s "$tmp/log.json")"
done
# shellcheck disable=SC2086
ours=$(min_of $times)
ours_cost=$(log_last train_loss "$tmp/log.json")
"$bin" eval "$tmp/model.fmlp" "$fm/t10k-images-idx3-ubyte.gz" --labels "$fm/t10k-labels-idx1-ubyte.gz" --json \
    >"$tmp/eval.json"
ours_acc=$(sed -n 's/.*"accuracy": *\([0-9.eE+-]*\).*/\1/p' "$tmp/eval.json" | awk '{ printf "%.4f\n", $1 }')
ours_ms=$(awk -v t="$ours" -v n="$iters" 'BEGIN { printf "%.2f\n", t / n * 1e3 }')
echo "fastmlp: $iters iterations in $ours s (best of $repeats:$times), $ours_ms ms/iteration," \
    "last cost $ours_cost, test accuracy $ours_acc"

# --- peers -----------------------------------------------------------------
results=""
for peer in numpy torch; do
    echo
    mods=numpy
    [ "$peer" = torch ] && mods="numpy torch"
    # shellcheck disable=SC2086
    if ! have_py $mods; then
        echo "$peer: not installed for $PY (needs: $mods), no peer figure"
        results="${results}RESULT W3 fastmlp_s=$ours fastmlp_iters=$iters fastmlp_test_acc=$ours_acc ${peer}_s=n/a ${peer}_iters_run=n/a ratio=n/a ${peer}_test_acc=n/a
"
        continue
    fi
    peer_py "$root/bench/peers/w3_$peer.py" "$fm" --limit "$limit" --iters "$peer_iters" --repeats "$repeats" \
        --threads "$threads" >"$tmp/peer"
    grep -v -e '^TIME ' -e '^ITERS ' -e '^COST ' -e '^TEST_ACC ' "$tmp/peer"
    pt=$(sed -n 's/^TIME //p' "$tmp/peer")
    pa=$(sed -n 's/^TEST_ACC //p' "$tmp/peer")
    scaled=$(awk -v t="$pt" -v p="$peer_iters" -v n="$iters" 'BEGIN { printf "%.3f\n", t / p * n }')
    r=$(awk -v a="$ours" -v b="$scaled" 'BEGIN { printf "%.2f\n", b / a }')
    echo "$peer: $peer_iters iterations in $pt s (best of $repeats), scaled to $iters iterations: $scaled s" \
        "(test accuracy $pa after $peer_iters iterations)"
    echo "fastmlp speed-up over $peer ($peer time scaled to $iters iterations / fastmlp time): $(ratio "$ours" "$scaled")"
    results="${results}RESULT W3 fastmlp_s=$ours fastmlp_iters=$iters fastmlp_test_acc=$ours_acc ${peer}_s=$scaled ${peer}_iters_run=$peer_iters ratio=$r ${peer}_test_acc=$pa
"
done
echo
echo "(peer times are measured over $peer_iters iterations and scaled linearly to $iters)"
printf '%s' "$results"
