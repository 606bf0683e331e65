#!/bin/sh
# SPDX-License-Identifier: MIT
# W4, seed 003's quick benchmark: `fastmlp bench quick -p P -n 50 -l 100
# -d 1024 -a sigmoid` (batch-1 inference through 100 layers of 1024x1024,
# 50 runs) for P = f32 (f4), f64 (f8), bf16 and int8, each REPEAT times,
# interleaved, keeping each one's best run, beside the peers run the same
# way in this invocation:
#   bench/peers/quick_numpy.py  NumPy f32 and f64 (np.dot, the seed's own code path)
#   bench/peers/quick_torch.py  PyTorch f32 and bf16 (torch.addmv, inference_mode)
# Each fastmlp run checks its output against a plain f64 forward pass over
# the same (f32) weights with a tolerance per precision (EPS_*), so the
# reduced-precision figures are for results known to be close.
# Usage: bench/quick.sh BUILD_DIR
# Environment: THREADS (fastmlp -t, the peers' BLAS/OpenMP threads,
# torch.set_num_threads) [all cores]; REPEAT [3]; PEERS [numpy torch];
# NEPOCHS, LAYERS, DIM [50, 100, 1024] (smaller for a quick check only);
# ISA=avx2|avx512|native [native] (bench/common.sh bench_isa).
# Ends with:  RESULT W4 f32_ms=.. f64_ms=.. bf16_ms=.. int8_ms=.. numpy_ms=..
#   numpy_f64_ms=.. torch_ms=.. torch_bf16_ms=.. bw_pct=.. bf16_x=.. int8_x=..
#   numpy_x=.. torch_x=.. bf16_x_paired=.. int8_x_paired=..   (ms: one run of
#   100 layers; bw_pct: the f32 run's weight stream as a share of the measured
#   read bandwidth; *_x: speed-ups, bf16/int8 over fastmlp f32 (best against
#   best; *_paired: the median of the ratios within one repetition),
#   numpy/torch = the peer's f32 time / fastmlp's)
set -eu
. "$(dirname "$0")/common.sh"
bench_init "$@"
THREADS=${THREADS:-$(getconf _NPROCESSORS_ONLN)}
REPEAT=${REPEAT:-3}
PEERS=${PEERS:-numpy torch}
NEPOCHS=${NEPOCHS:-50} LAYERS=${LAYERS:-100} DIM=${DIM:-1024}
require_positive THREADS REPEAT NEPOCHS LAYERS DIM
export OMP_NUM_THREADS="$THREADS" OPENBLAS_NUM_THREADS="$THREADS" MKL_NUM_THREADS="$THREADS"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
N=${NEPOCHS:-50} L=${LAYERS:-100} D=${DIM:-1024}
args="-n $N -l $L -d $D -a sigmoid"
# tolerances on max |output - f64 reference| (seen here: f32 7e-8, bf16 6e-4, int8 9e-4)
EPS_f4=1e-6 EPS_f8=1e-12 EPS_bf16=5e-3 EPS_int8=5e-3

bench_header "W4, seed 003 quick benchmark: batch-1 inference through $L layers of ${D}x$D sigmoid, $N runs, $THREADS thread(s), best of $REPEAT"
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15-minute load average before the runs)"
wants() { case " $PEERS " in *" $1 "*) return 0 ;; esac; return 1; }

# best KEY MS: keep the smaller of $KEY's best so far and MS
best() {
    f="$tmp/best_$1"
    if [ ! -s "$f" ] || awk -v a="$2" -v b="$(cat "$f")" 'BEGIN { exit !(a < b) }'; then echo "$2" >"$f"; fi
}
get() { cat "$tmp/best_$1" 2>/dev/null || true; }
per_run() { awk -v t="$1" -v n="$N" 'BEGIN { if (t == "") print ""; else printf "%.3f\n", t / n }'; }

have_numpy=0 have_torch=0
wants numpy && have_py numpy && have_numpy=1
wants torch && have_py torch && have_torch=1

for rep in $(seq "$REPEAT"); do
    for p in f4 f8 bf16 int8; do
        eval "eps=\$EPS_$p"
        # shellcheck disable=SC2086
        "$bin" bench quick -p $p $args -t "$THREADS" -e "$eps" >"$tmp/out" 2>"$tmp/err" || {
            echo "$0: fastmlp bench quick -p $p failed:" >&2
            cat "$tmp/out" "$tmp/err" >&2
            exit 1
        }
        ms=$(sed -n 's/^Total time for .* was \([0-9.]*\) ms$/\1/p' "$tmp/out")
        if [ ! -s "$tmp/best_$p" ] || awk -v a="$ms" -v b="$(cat "$tmp/best_$p")" 'BEGIN { exit !(a < b) }'; then
            cp "$tmp/out" "$tmp/keep_$p"
        fi
        best "$p" "$ms"
        echo "$ms" >>"$tmp/reps_$p"
    done
    if [ "$have_numpy" -eq 1 ]; then
        for p in f4 f8; do
            # shellcheck disable=SC2086
            "$PY" "$root/bench/peers/quick_numpy.py" -p $p $args >"$tmp/pout"
            best "numpy_$p" "$(sed -n 's/^MS //p' "$tmp/pout")"
            grep '^numpy [0-9]' "$tmp/pout" >"$tmp/numpy_version" || true
            grep '^numpy ISA: ' "$tmp/pout" >"$tmp/numpy_isa" || true
        done
    fi
    if [ "$have_torch" -eq 1 ]; then
        for p in f4 bf16; do
            # shellcheck disable=SC2086
            "$PY" "$root/bench/peers/quick_torch.py" -p $p $args -t "$THREADS" >"$tmp/pout"
            best "torch_$p" "$(sed -n 's/^MS //p' "$tmp/pout")"
            sed -n 's/^torch \([0-9][^ ]*\) .*/torch \1/p' "$tmp/pout" >"$tmp/torch_version"
            grep '^torch ISA: ' "$tmp/pout" >"$tmp/torch_isa" || true
        done
    fi
done

for p in f4 f8 bf16 int8; do
    echo
    echo "--- fastmlp -p $p (best of $REPEAT)"
    cat "$tmp/keep_$p"
done
echo
[ "$have_numpy" -eq 1 ] && echo "peer: $(cat "$tmp/numpy_version")" && cat "$tmp/numpy_isa"
[ "$have_torch" -eq 1 ] && echo "peer: $(cat "$tmp/torch_version"), $THREADS thread(s)" && cat "$tmp/torch_isa"
[ "$have_numpy" -eq 0 ] && echo "peer: numpy not available for $PY (or not in PEERS)"
[ "$have_torch" -eq 0 ] && echo "peer: torch not available for $PY (or not in PEERS)"

f32=$(get f4) f64=$(get f8) bf16=$(get bf16) int8=$(get int8)
np32=$(get numpy_f4) np64=$(get numpy_f8) t32=$(get torch_f4) tbf=$(get torch_bf16)
bw=$(sed -n 's/.*this run: \([0-9]*\)% of it$/\1/p' "$tmp/keep_f4")
gbs=$(sed -n 's/^weights streamed: \([0-9.]*\) GB\/s.*/\1/p' "$tmp/keep_f4")
echo
printf '%-22s %12s %10s %14s %14s %14s\n' "W4 ($N runs)" "total ms" "ms/run" "vs fastmlp f32" "numpy / this" "torch / this"
row() {
    printf '%-22s %12s %10s %14s %14s %14s\n' "$1" "${2:-n/a}" "$(per_run "$2")" "$(ratio "$2" "$f32")" \
        "$(ratio "$2" "$3")" "$(ratio "$2" "$4")"
}
row "fastmlp f32" "$f32" "$np32" "$t32"
row "fastmlp f64" "$f64" "$np64" ""
row "fastmlp bf16" "$bf16" "$np32" "$tbf"
row "fastmlp int8" "$int8" "$np32" "$t32"
row "numpy f32" "$np32" "" ""
row "numpy f64" "$np64" "" ""
row "torch f32" "$t32" "" ""
row "torch bf16" "$tbf" "" ""
echo "fastmlp f32 streams its weights at $gbs GB/s, ${bw}% of the read bandwidth measured in the same run"
echo "('vs fastmlp f32': fastmlp f32 time / this time, above 1 = faster than f32; the peer columns: the peer's"
echo " time / this time for the same precision (bf16 beside torch bf16, int8 beside the f32 peers))"
ms() { per_run "$1" | sed 's/^$/n\/a/'; }
x() { ratio "$1" "$2" | sed 's/x$//'; }
# paired P: the median over the repetitions of (f32 time / P time) within one
# repetition: this VM's memory bandwidth swings between runs (30-55 GB/s seen),
# and a best-of-each ratio can pair a fast-phase f32 with a slow-phase P.
paired() {
    paste "$tmp/reps_f4" "$tmp/reps_$1" | awk '$2 > 0 { print $1 / $2 }' | sort -n |
        awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) printf "%.2f\n", v[(NR + 1) / 2];
                                   else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
echo "paired speed-ups over f32 (median over $REPEAT repetitions of the ratio within one): bf16 $(paired bf16)x, int8 $(paired int8)x"
echo "RESULT W4 f32_ms=$(ms "$f32") f64_ms=$(ms "$f64") bf16_ms=$(ms "$bf16") int8_ms=$(ms "$int8") numpy_ms=$(ms "$np32") numpy_f64_ms=$(ms "$np64") torch_ms=$(ms "$t32") torch_bf16_ms=$(ms "$tbf") bw_pct=${bw:-n/a} bf16_x=$(x "$bf16" "$f32") int8_x=$(x "$int8" "$f32") numpy_x=$(x "$f32" "$np32") torch_x=$(x "$f32" "$t32") bf16_x_paired=$(paired bf16) int8_x_paired=$(paired int8)"
