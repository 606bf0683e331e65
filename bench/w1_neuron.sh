#!/bin/sh
# SPDX-License-Identifier: MIT
# W1, seed 000: one logistic neuron on cat/non-cat (209 x 12288, x/255), zero
# init, full-batch gradient descent, lr 0.005, 2000 epochs, f64; fastmlp beside
# seed 000's vectorised NumPy epoch (bench/peers/w1_numpy.py) and the same in
# PyTorch f64 (bench/peers/w1_torch.py) when /usr/bin/python3 has them.
# Best of REPEATS (3) runs each; only the training loop is timed on every side
# (fastmlp: the summary's "(X s training)", taken unrounded from its JSON log).
# The final costs compared are epoch 2000's, at the weights before the last
# update (fastmlp's last train_loss); they must agree to 1e-9 relative.
# Usage: bench/w1_neuron.sh BUILD_DIR
#   env: THREADS=T, EPOCHS=N (quick tries), REPEATS=R, FASTMLP_DATA_DIR=seed data, PY=python with the peers' modules,
#        ISA=avx2|avx512|native (bench/common.sh bench_isa)
# Exit: 0 when it ran, 65 when a peer's final cost differs by more than 1e-9.
set -eu
. "$(dirname "$0")/common.sh"
bench_init "$@"
data=${FASTMLP_DATA_DIR:-$data}
epochs=${EPOCHS:-2000}
repeats=${REPEATS:-3}
tol=1e-9
h5="$data/train_catvnoncat.h5"
if [ ! -r "$h5" ]; then
    echo "$0: cannot read $h5" >&2
    exit 66
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

bench_header "W1 (seed 000), one logistic neuron on cat/non-cat, zero init, full-batch GD lr 0.005, $epochs epochs, f64"
bench_threads
bench_load
echo

# --- fastmlp ---------------------------------------------------------------
times=""
i=0
while [ "$i" -lt "$repeats" ]; do
    i=$((i + 1))
    "$bin" train --train "$h5" --layers none --head sigmoid-bce --dtype f64 --init zeros --optimizer gd \
        --lr 0.005 --epochs "$epochs" --threads "$threads" -q --log-json "$tmp/log.json" >"$tmp/out"
    echo "fastmlp run $i: $(cat "$tmp/out")"
    times="$times $(log_train_s "$tmp/log.json")"
done
# shellcheck disable=SC2086
ours=$(min_of $times)
ours_cost=$(log_last train_loss "$tmp/log.json")
echo "fastmlp: training $ours s (best of $repeats:$times), final cost $ours_cost"

# --- peers -----------------------------------------------------------------
status=0
results=""
for peer in numpy torch; do
    echo
    mods="numpy h5py"
    [ "$peer" = torch ] && mods="numpy h5py torch"
    # shellcheck disable=SC2086
    if ! have_py $mods; then
        echo "$peer: not installed for $PY (needs: $mods), no peer figure"
        results="${results}RESULT W1 fastmlp_s=$ours ${peer}_s=n/a ratio=n/a cost_reldiff=n/a
"
        continue
    fi
    peer_py "$root/bench/peers/w1_$peer.py" "$h5" --epochs "$epochs" --repeats "$repeats" --threads "$threads" \
        >"$tmp/peer"
    grep -v -e '^TIME ' -e '^COST ' "$tmp/peer"
    pt=$(sed -n 's/^TIME //p' "$tmp/peer")
    pc=$(sed -n 's/^COST //p' "$tmp/peer")
    rd=$(reldiff "$ours_cost" "$pc")
    r=$(awk -v a="$ours" -v b="$pt" 'BEGIN { printf "%.2f\n", b / a }')
    verdict=agree
    if ! awk -v d="$rd" -v t="$tol" 'BEGIN { exit !(d + 0 <= t + 0) }'; then
        verdict="DISAGREE (tolerance $tol)"
        status=65
    fi
    echo "$peer: loop $pt s (best of $repeats), final cost $pc"
    echo "fastmlp speed-up over $peer ($peer time / fastmlp time): $(ratio "$ours" "$pt");" \
        "final costs: relative difference $rd, $verdict"
    results="${results}RESULT W1 fastmlp_s=$ours ${peer}_s=$pt ratio=$r cost_reldiff=$rd
"
done
echo
printf '%s' "$results"
exit "$status"
