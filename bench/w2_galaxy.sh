#!/bin/sh
# SPDX-License-Identifier: MIT
# W2, seed 001: the galaxy network 1024-8-3 (sigmoid hidden and outputs,
# per-class cross-entropy, L2 lambda 1 without biases, init U(-0.2, 0.2))
# trained by nonlinear conjugate gradient for 600 iterations in f64, on
# galaxy_test.csv stacked 4x (2700 rows); fastmlp beside NumPy + SciPy
# fmin_cg (bench/peers/w2_scipy.py) when /usr/bin/python3 has them.
# Best of REPEATS (3) runs each; only the training is timed (fastmlp: the
# summary's "(X s training)", unrounded from its JSON log; SciPy: the fmin_cg
# call).  The starts differ (different RNGs), so the final costs are printed
# side by side, not asserted.
# Usage: bench/w2_galaxy.sh BUILD_DIR
#   env: THREADS=T, ITERS=N (iterations, for quick tries), REPEATS=R, FASTMLP_DATA_DIR=seed data, PY=python with the peer's modules,
#        ISA=avx2|avx512|native (bench/common.sh bench_isa)
set -eu
. "$(dirname "$0")/common.sh"
bench_init "$@"
data=${FASTMLP_DATA_DIR:-$data}
iters=${ITERS:-600}
repeats=${REPEATS:-3}
src="$data/galaxy_test.csv"
if [ ! -r "$src" ]; then
    echo "$0: cannot read $src" >&2
    exit 66
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
csv="$tmp/galaxy_x4.csv"
for i in 1 2 3 4; do cat "$src"; done >"$csv"

bench_header "W2 (seed 001), galaxy 1024-8-3 sigmoid/sigmoid, cross-entropy + L2 (lambda 1), CG $iters iterations, f64, galaxy_test.csv x 4 ($(wc -l <"$csv") rows)"
bench_threads
bench_load
echo

# --- fastmlp ---------------------------------------------------------------
times=""
i=0
while [ "$i" -lt "$repeats" ]; do
    i=$((i + 1))
    "$bin" train --train "$csv" --layers 8 --activation sigmoid --head sigmoid-bce --l2 1 --init uniform \
        --init-range -0.2,0.2 --optimizer cg --max-iter "$iters" --dtype f64 --threads "$threads" -q --profile \
        --log-json "$tmp/log.json" >"$tmp/out"
    echo "fastmlp run $i: $(head -n 1 "$tmp/out")"
    times="$times $(log_train_s "$tmp/log.json")"
done
# shellcheck disable=SC2086
ours=$(min_of $times)
ours_cost=$(log_last train_loss "$tmp/log.json")
ours_iters=$(grep -c '"epoch"' "$tmp/log.json")
# each function evaluation is one forward pass (and one backward) in --profile's table
ours_fevals=$(awk '$1 == "forward" { print $3 }' "$tmp/out")
echo "fastmlp: training $ours s (best of $repeats:$times), $ours_iters iterations," \
    "${ours_fevals:-?} function/gradient evaluations, final cost (with L2) $ours_cost"
echo "  (fastmlp's time includes an accuracy pass over the training set after every iteration)"

# --- peer ------------------------------------------------------------------
echo
if have_py numpy scipy; then
    peer_py "$root/bench/peers/w2_scipy.py" "$csv" --maxiter "$iters" --repeats "$repeats" >"$tmp/peer"
    grep -v -e '^TIME ' -e '^COST ' -e '^ITERS ' -e '^FEVALS ' -e '^GEVALS ' "$tmp/peer"
    pt=$(sed -n 's/^TIME //p' "$tmp/peer")
    pc=$(sed -n 's/^COST //p' "$tmp/peer")
    pi=$(sed -n 's/^ITERS //p' "$tmp/peer")
    pf=$(sed -n 's/^FEVALS //p' "$tmp/peer")
    r=$(awk -v a="$ours" -v b="$pt" 'BEGIN { printf "%.2f\n", b / a }')
    echo "scipy: fmin_cg $pt s (best of $repeats), $pi iterations, $pf function/gradient evaluations, final cost $pc"
    echo
    echo "                     time (s)   iterations   f/g evaluations   final cost"
    printf '  fastmlp (cg)   %12s %12s %17s   %s\n' "$ours" "$ours_iters" "${ours_fevals:-?}" "$ours_cost"
    printf '  scipy fmin_cg  %12s %12s %17s   %s\n' "$pt" "$pi" "$pf" "$pc"
    echo "fastmlp speed-up over scipy (scipy time / fastmlp time): $(ratio "$ours" "$pt")" \
        "(starts differ: different RNGs, so the costs are compared loosely)"
    echo
    echo "RESULT W2 fastmlp_s=$ours scipy_s=$pt ratio=$r fastmlp_cost=$ours_cost scipy_cost=$pc" \
        "fastmlp_iters=$ours_iters scipy_iters=$pi fastmlp_fevals=${ours_fevals:-n/a} scipy_fevals=$pf"
else
    echo "scipy: not installed for $PY (needs: numpy scipy), no peer figure"
    echo
    echo "RESULT W2 fastmlp_s=$ours scipy_s=n/a ratio=n/a fastmlp_cost=$ours_cost scipy_cost=n/a" \
        "fastmlp_iters=$ours_iters scipy_iters=n/a fastmlp_fevals=${ours_fevals:-n/a} scipy_fevals=n/a"
fi
