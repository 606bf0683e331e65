#!/bin/sh
# SPDX-License-Identifier: MIT
# M1 and M2: data-parallel training over Open MPI on this machine, 2 ranks x
# 1 thread (mpirun -np 2 fastmlp-mpi) against 1 process x 2 threads
# (fastmlp --threads 2), in this invocation, runs interleaved:
#   M1  W5 with a global batch of 1024: Fashion-MNIST 784-256-128-10 relu,
#       softmax-ce, adam lr 1e-3, EPOCHS (2) epochs, f32, 60000 rows
#   M2  W2: galaxy 1024-8-3 sigmoid, cross-entropy + L2 1, CG ITERS (600)
#       iterations, f64, galaxy_test.csv x 4 (bench/w2_galaxy.sh's flags, all
#       2700 rows trained on: --valid-fraction 0, as on several ranks)
# each with the gradient summed per layer as the backward pass finishes it
# (--allreduce overlap, the default) and once after it (blocking): training
# seconds (rank 0's --log-json), best and median of REPEAT (5), the sums'
# waiting time per step (rank 0's --profile: what the backward pass did not
# hide), and MPI_Allreduce alone per message size (bench_allreduce) over
# shared memory (vader) and TCP on loopback: the inputs of the scaling
# model in docs/distributed.md.
# Usage: bench/mpi.sh BUILD_DIR
# Environment: EPOCHS [2], ITERS [600], REPEAT [5], MPIRUN [mpirun],
# MAX_BYTES (bench_allreduce's largest message) [67108864],
# FASTMLP_FMNIST_DIR, ISA=avx2|avx512|native (bench/common.sh).
# Ends with a RESULT line per workload: the best training seconds of each
# configuration, ratio = 2 ranks' throughput / 1 process's (goal 0.90), and
# overlap_gain = blocking's time / overlap's.
set -eu
. "$(dirname "$0")/common.sh"
bench_init "$@"
fashion=${FASTMLP_FMNIST_DIR:-$fashion}
EPOCHS=${EPOCHS:-2}
ITERS=${ITERS:-600}
REPEAT=${REPEAT:-5}
MPIRUN=${MPIRUN:-mpirun}
MAX_BYTES=${MAX_BYTES:-67108864}
require_positive EPOCHS ITERS REPEAT MAX_BYTES
mpibin="$build/fastmlp-mpi"
if [ ! -x "$mpibin" ] || [ ! -x "$build/bench_allreduce" ]; then
    echo "$0: no fastmlp-mpi or bench_allreduce in $build (CMake found no MPI? Debian: libopenmpi-dev)" >&2
    exit 66
fi
fashion_files
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
# Open MPI for one machine: root allowed, shared memory between the ranks
# (its single-copy mechanism off: a container may forbid it; it is slower
# for large messages, not for these), no binding (the kernel places them)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=${OMPI_MCA_btl:-self,vader} OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_hwloc_base_binding_policy=none OMPI_MCA_btl_base_warn_component_unused=0
ROOT=""
[ "$(id -u)" -eq 0 ] && ROOT="--allow-run-as-root"

bench_header "M1/M2: data-parallel training, 2 ranks x 1 thread (Open MPI, shared memory) vs 1 process x 2 threads"
echo "MPI:      $("$mpibin" --version | sed -n 's/^MPI: \(.*\) (rank.*/\1/p'), mpirun $("$MPIRUN" --version 2>&1 | head -n 1)"
bench_load
echo

# run CONFIG ARGS...: one timed run, its training seconds appended to
# $tmp/CONFIG.t and its sums' line to $tmp/CONFIG.sums
run() {
    cfg=$1
    shift
    case $cfg in
    *-one) "$bin" train "$@" --threads 2 --quiet --profile --log-json "$tmp/log.json" >"$tmp/out" 2>&1 ;;
    *-ovl) "$MPIRUN" $ROOT -np 2 "$mpibin" train "$@" --threads 1 --allreduce overlap --quiet --profile \
        --log-json "$tmp/log.json" >"$tmp/out" 2>&1 ;;
    *-blk) "$MPIRUN" $ROOT -np 2 "$mpibin" train "$@" --threads 1 --allreduce blocking --quiet --profile \
        --log-json "$tmp/log.json" >"$tmp/out" 2>&1 ;;
    esac || {
        echo "$0: the $cfg run failed:" >&2
        cat "$tmp/out" >&2
        exit 1
    }
    log_train_s "$tmp/log.json" >>"$tmp/$cfg.t"
    awk '$1 == "sums" { print $5, $6 }' "$tmp/out" >>"$tmp/$cfg.sums"
    grep -m1 'accuracy' "$tmp/out" >"$tmp/$cfg.last"
}

# workload NAME ROWS_PER_EPOCH STEPS_LABEL ARGS...
workload() {
    name=$1 rows=$2
    shift 2
    for cfg in one ovl blk; do : >"$tmp/$name-$cfg.t"; : >"$tmp/$name-$cfg.sums"; done
    i=0
    while [ $i -lt "$REPEAT" ]; do
        i=$((i + 1))
        for cfg in one ovl blk; do run "$name-$cfg" "$@"; done
    done
    for cfg in one ovl blk; do
        # shellcheck disable=SC2046
        best=$(min_of $(cat "$tmp/$name-$cfg.t"))
        # shellcheck disable=SC2046
        med=$(median_of $(cat "$tmp/$name-$cfg.t"))
        eval "${cfg}_best=$best ${cfg}_med=$med"
        sums=$(tail -n 1 "$tmp/$name-$cfg.sums")
        case $cfg in
        one) label="1 process x 2 threads        " ;;
        ovl) label="2 ranks x 1 thread, overlap   " ;;
        blk) label="2 ranks x 1 thread, blocking  " ;;
        esac
        per=$(awk -v r="$rows" -v t="$best" 'BEGIN { printf "%.0f", r / t }')
        line="$name $label training best $best s, median $med s, $per samples/s"
        [ -n "$sums" ] && line="$line; waiting for sums $(echo "$sums" | awk '{ printf "%.1f us/step over %d sums (last run)", $1 / $2 * 1e6, $2 }')"
        echo "$line  [$(cat "$tmp/$name-$cfg.last")]"
    done
    # ratio: 2 ranks' throughput over 1 process's (goal >= 0.90), of the
    # best runs; overlap_gain: blocking's time over overlap's
    # shellcheck disable=SC2154
    echo "RESULT $name one_s=$one_best overlap_s=$ovl_best blocking_s=$blk_best" \
        "ratio=$(awk -v a="$one_best" -v b="$ovl_best" 'BEGIN { printf "%.2f", a / b }')" \
        "ratio_median=$(awk -v a="$one_med" -v b="$ovl_med" 'BEGIN { printf "%.2f", a / b }')" \
        "ratio_blocking=$(awk -v a="$one_best" -v b="$blk_best" 'BEGIN { printf "%.2f", a / b }')" \
        "overlap_gain=$(awk -v a="$ovl_best" -v b="$blk_best" 'BEGIN { printf "%.2f", b / a }') goal=0.90"
}

W5="--train $trimg --train-labels $trlab --layers 256,128 --batch 1024 --epochs $EPOCHS --seed 1"
workload M1 $((60000 * EPOCHS)) $W5
echo
src="$root/tests/data/galaxy_test.csv"
for i in 1 2 3 4; do cat "$src"; done >"$tmp/galaxy_x4.csv"
W2="--train $tmp/galaxy_x4.csv --layers 8 --activation sigmoid --head sigmoid-bce --l2 1 --init uniform \
    --init-range -0.2,0.2 --optimizer cg --max-iter $ITERS --dtype f64 --valid-fraction 0"
# shellcheck disable=SC2086
workload M2 $((2700 * ITERS)) $W2
echo

for btl in vader tcp; do
    echo "MPI_Allreduce alone, 2 ranks, $btl:"
    OMPI_MCA_btl=self,$btl OMPI_MCA_btl_tcp_if_include=lo "$MPIRUN" $ROOT -np 2 "$build/bench_allreduce" "$MAX_BYTES" |
        sed 's/^/  /'
done
