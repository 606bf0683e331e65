#!/bin/sh
# SPDX-License-Identifier: MIT
# The workload scripts bench/w1_neuron.sh, w2_galaxy.sh and w3_fashion_gd.sh
# in a quick mode (a few epochs/iterations, one repeat): each exits 0, prints
# the header and its RESULT lines, fastmlp's figures are positive numbers,
# and W1's final cost after 10 epochs matches tests/golden/seed000_logreg.txt
# (and the peers' where installed) to 1e-9.  A fake fastmlp with a wrong
# cost makes W1 exit 65.  Peers missing from the Python (torch on CI) must
# give "not installed" and n/a figures, not a failure.
# ISA= (bench/common.sh bench_isa): every script refuses an unknown value
# with one line and exit 64 before running anything; ISA=avx2 (where the
# CPU has AVX2) runs W1 with the header saying avx2, the AVX2 kernels and
# OpenBLAS core Haswell, and each peer saying it ran Haswell; ISA=avx512 on
# a CPU without it is refused the same way (exit 64, one line, no SIGILL),
# and on one with it runs with SkylakeX.
# bench/python.sh (issue 16), when BUILD/venv holds fastmlp's Python package
# (scripts/python-env.sh; never made here: it needs pip): a tiny run (500
# rows, one epoch, wine, one seed, no scikit-learn) ends with its three
# RESULT lines, positive figures, the library reading the uint8 pixels in
# place (copy=no), and the same test accuracy from fastmlp.MLPClassifier as
# from `fastmlp train` (the same network, seed and threads: the face passes
# W5's settings through unchanged).
# bench/mpi.sh (issue 17), where the build has fastmlp-mpi: a tiny run (one
# epoch, 3 CG iterations, one repeat, sums up to 4 KiB) ends with its RESULT
# lines, positive figures.
# This checks the scripts, it times nothing.
# Usage: test_bench_scripts.sh DIR_OF_FASTMLP
set -u
BUILD=$1
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
D=${FASTMLP_DATA_DIR:-$ROOT/tests/data}
FM=${FASTMLP_FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
export FASTMLP_DATA_DIR="$D" FASTMLP_FMNIST_DIR="$FM" REPEATS=1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/../support/lib.sh"

# run CODE SCRIPT [VAR=VALUE...]: run bench/SCRIPT on $BUILD with the
# variables set; expect exit CODE
run() {
    code=$1 script=$2
    shift 2
    env "$@" sh "$ROOT/bench/$script" "$BUILD" >"$T/out" 2>"$T/err"
    rc=$?
    if [ "$rc" -ne "$code" ]; then
        bad "$script $* -> exit $rc, expected $code; stderr: $(cat "$T/err"); stdout tail: $(tail -n 5 "$T/out")"
        return 1
    fi
    ok
}

# field KEY LINE: the value of KEY=value in LINE
field() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# positive X: X is a decimal number > 0
positive() { printf '%s\n' "$1" | awk '/^[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?$/ && $1 + 0 > 0 { f = 1 } END { exit !f }'; }

# check_header: the last run printed the workload, machine, BLAS and commit
check_header() {
    for k in workload machine BLAS commit threads; do
        grep -q "^$k: " "$T/out" || { bad "$1: no '$k:' line: $(head -n 8 "$T/out")"; return; }
    done
    ok
}

# results N: the last run ended with N RESULT lines
results() {
    n=$(grep -c '^RESULT ' "$T/out")
    [ "$n" -eq "$1" ] && [ "$(tail -n "$1" "$T/out" | grep -c '^RESULT ')" -eq "$1" ] && ok ||
        bad "expected $1 RESULT lines at the end, got $n: $(tail -n 4 "$T/out")"
}

# peer_ok PEER LINE: the peer either ran (a positive time) or said it is not installed
peer_ok() {
    v=$(field "$1_s" "$2")
    if [ "$v" = "n/a" ]; then
        grep -q "^$1: not installed" "$T/out" && ok || bad "$1 has no figure and no 'not installed' line"
    else
        positive "$v" && ok || bad "$1 time '$v' is not a positive number: $2"
    fi
}

# --- misuse -------------------------------------------------------------
for s in w1_neuron.sh w2_galaxy.sh w3_fashion_gd.sh python.sh mpi.sh; do
    sh "$ROOT/bench/$s" >/dev/null 2>&1
    [ $? -eq 64 ] && ok || bad "$s without BUILD_DIR: not exit 64"
    sh "$ROOT/bench/$s" "$T" >/dev/null 2>&1
    [ $? -eq 66 ] && ok || bad "$s on a directory without fastmlp: not exit 66"
done

# --- ISA= ---------------------------------------------------------------
# refused: exit 64, exactly one stderr line holding MESSAGE, nothing on stdout
refused() {
    what=$1 msg=$2
    shift 2
    env "$@" >"$T/out" 2>"$T/err"
    rc=$?
    if [ "$rc" -ne 64 ]; then
        bad "$what: exit $rc, expected 64; stderr: $(cat "$T/err")"
    elif [ "$(wc -l <"$T/err")" -ne 1 ] || ! grep -qF -- "$msg" "$T/err"; then
        bad "$what: stderr is not one line with '$msg': $(cat "$T/err")"
    elif [ -s "$T/out" ]; then
        bad "$what: refused, yet printed: $(head -n 3 "$T/out")"
    else
        ok
    fi
}
# (each with its smallest sizes and no peers: should a refusal break, the
# script runs briefly and this fails instead of benchmarking for minutes)
small="EPOCHS=1 ITERS=1 PEER_ITERS=1 REPEAT=1 NEPOCHS=1 LAYERS=1 DIM=8 ROWS=64 FANN_ROWS=64 RUNS=1 LATENCY_ROWS=1"
small="$small PEERS= PY=/bin/false"
for s in w1_neuron.sh w2_galaxy.sh w3_fashion_gd.sh quick.sh w5_fashion_adam.sh w6_infer.sh csv_load.sh python.sh mpi.sh \
    profile_cost.sh; do
    # shellcheck disable=SC2086
    refused "ISA=bogus $s" "ISA=bogus is not one of avx2, avx512, native" $small ISA=bogus sh "$ROOT/bench/$s" "$BUILD"
done
# shellcheck disable=SC2086
refused "ISA=bogus before_after.sh" "ISA=bogus is not one of avx2, avx512, native" \
    $small ISA=bogus sh "$ROOT/bench/before_after.sh" "$BUILD" "$BUILD" W1

# isa_run ISA CORE: W1 (10 epochs) under ISA=ISA where this CPU runs it:
# the header names the ISA, the kernels and OpenBLAS core CORE, and every
# peer that ran says it ran CORE
isa_run() {
    if run 0 w1_neuron.sh EPOCHS=10 ISA="$1"; then
        grep -q "^isa: *$1 (FASTMLP_ISA=$1, OPENBLAS_CORETYPE=$2," "$T/out" && ok ||
            bad "ISA=$1: header isa line: $(grep '^isa:' "$T/out")"
        # the inference kernels of the ISA's family: avx512 is avx512f,
        # avx512bw, avx512-vnni...; avx2 takes AVX-VNNI's int8 where the CPU has it
        grep -Eq "^kernels: *$1 \(--isa $1\); inference f32 $1[a-z0-9-]*, bf16 $1[a-z0-9-]*, int8 ($1[a-z0-9-]*|avx-vnni)$" \
            "$T/out" && ok ||
            bad "ISA=$1: header kernels line: $(grep '^kernels:' "$T/out")"
        grep -q "^BLAS: .*core=$2$" "$T/out" && ok || bad "ISA=$1: header BLAS line: $(grep '^BLAS:' "$T/out")"
        for peer in numpy torch; do
            line=$(grep "^RESULT W1 .*${peer}_s=" "$T/out")
            [ "$(field "${peer}_s" "$line")" = n/a ] && continue
            grep -q "^$peer ISA: asked $1 (.*); runs: openblas [^;]* core=$2," "$T/out" && ok ||
                bad "ISA=$1: $peer's ISA line: $(grep "^$peer ISA" "$T/out" || echo none)"
        done
        if grep -q 'NOT as asked' "$T/out"; then bad "ISA=$1: $(grep 'NOT as asked' "$T/out")"; else ok; fi
    fi
}
if [ -r "$D/train_catvnoncat.h5" ]; then
    if "$BUILD/fastmlp" --isa avx2 --version >/dev/null 2>&1; then
        isa_run avx2 Haswell
    else
        refused "ISA=avx2 on a CPU without AVX2" "this CPU cannot run it" ISA=avx2 sh "$ROOT/bench/w1_neuron.sh" "$BUILD"
    fi
    if "$BUILD/fastmlp" --isa avx512 --version >/dev/null 2>&1; then
        isa_run avx512 SkylakeX
    else
        # shellcheck disable=SC2086
        refused "ISA=avx512 on a CPU without AVX-512" "ISA=avx512: fastmlp --version: isa avx512: this CPU cannot run it" \
            $small ISA=avx512 sh "$ROOT/bench/w1_neuron.sh" "$BUILD"
        # shellcheck disable=SC2086
        refused "ISA=avx512 csv_load.sh on a CPU without AVX-512" "this CPU cannot run it" \
            $small ISA=avx512 sh "$ROOT/bench/csv_load.sh" "$BUILD"
    fi
else
    echo "skip ISA=avx2/avx512 runs: no $D/train_catvnoncat.h5"
fi

# --- W1 -----------------------------------------------------------------
if [ -r "$D/train_catvnoncat.h5" ]; then
    if run 0 w1_neuron.sh EPOCHS=10; then
        check_header w1
        grep -q '^isa: *native (nothing forced' "$T/out" && ok || bad "W1 without ISA: $(grep '^isa:' "$T/out")"
        results 2
        for peer in numpy torch; do
            line=$(grep "^RESULT W1 .*${peer}_s=" "$T/out")
            positive "$(field fastmlp_s "$line")" && ok || bad "W1 fastmlp_s not positive: $line"
            peer_ok "$peer" "$line"
            rd=$(field cost_reldiff "$line")
            if [ "$rd" != "n/a" ]; then
                awk -v d="$rd" 'BEGIN { exit !(d + 0 <= 1e-9) }' && ok || bad "W1 costs differ from $peer: $line"
            fi
        done
        # epoch 10's cost against the independent NumPy golden file (needs no Python here)
        g=$(sed -n 's/^10 //p' "$ROOT/tests/golden/seed000_logreg.txt")
        c=$(sed -n 's/^fastmlp: training .*, final cost //p' "$T/out")
        awk -v c="$c" -v g="$g" 'BEGIN { d = c - g; if (d < 0) d = -d; exit !(g > 0 && d <= 1e-9 * g) }' && ok ||
            bad "W1 cost after 10 epochs '$c', golden '$g'"
    fi
    # A fastmlp whose cost is wrong: exit 65 when a peer can check it.
    mkdir "$T/fake"
    cat >"$T/fake/fastmlp" <<'FAKE'
#!/bin/sh
[ "$1" = --version ] && { echo "fastmlp 0 (fake)"; echo "BLAS: none"; exit 0; }
while [ $# -gt 0 ]; do [ "$1" = --log-json ] && log=$2; shift; done
echo '{"epoch": 1, "train_loss": 0.5, "seconds": 0.01}' >"$log"
echo "train loss 0.5 (0.01 s training)"
FAKE
    chmod +x "$T/fake/fastmlp"
    env EPOCHS=3 sh "$ROOT/bench/w1_neuron.sh" "$T/fake" >"$T/out" 2>"$T/err"
    rc=$?
    if grep -q '^RESULT W1 .*cost_reldiff=[0-9]' "$T/out"; then
        [ "$rc" -eq 65 ] && grep -q DISAGREE "$T/out" && ok || bad "W1 with a wrong cost: exit $rc, expected 65"
    else
        [ "$rc" -eq 0 ] && ok || bad "W1 with a wrong cost and no peer: exit $rc, expected 0"
    fi
else
    echo "skip W1: no $D/train_catvnoncat.h5"
fi

# --- W2 -----------------------------------------------------------------
if [ -r "$D/galaxy_test.csv" ]; then
    if run 0 w2_galaxy.sh ITERS=4; then
        check_header w2
        results 1
        line=$(grep '^RESULT W2 ' "$T/out")
        positive "$(field fastmlp_s "$line")" && ok || bad "W2 fastmlp_s not positive: $line"
        [ "$(field fastmlp_iters "$line")" = 4 ] && ok || bad "W2 fastmlp_iters is not 4: $line"
        positive "$(field fastmlp_fevals "$line")" && ok || bad "W2 fastmlp_fevals not positive: $line"
        positive "$(field fastmlp_cost "$line")" && ok || bad "W2 fastmlp_cost not positive: $line"
        grep -q '2700 rows' "$T/out" && ok || bad "W2: not 2700 rows: $(head -n 1 "$T/out")"
        peer_ok scipy "$line"
        if [ "$(field scipy_s "$line")" != "n/a" ]; then
            [ "$(field scipy_iters "$line")" = 4 ] && ok || bad "W2 scipy_iters is not 4: $line"
        fi
    fi
else
    echo "skip W2: no $D/galaxy_test.csv"
fi

# --- W3 -----------------------------------------------------------------
if [ -r "$FM/train-images-idx3-ubyte.gz" ]; then
    if run 0 w3_fashion_gd.sh ITERS=3 PEER_ITERS=1; then
        check_header w3
        results 2
        grep -q 'scaled' "$T/out" && ok || bad "W3 does not say the peers' times are scaled"
        for peer in numpy torch; do
            line=$(grep "^RESULT W3 .*${peer}_s=" "$T/out")
            positive "$(field fastmlp_s "$line")" && ok || bad "W3 fastmlp_s not positive: $line"
            [ "$(field fastmlp_iters "$line")" = 3 ] && ok || bad "W3 fastmlp_iters is not 3: $line"
            a=$(field fastmlp_test_acc "$line")
            positive "$a" && awk -v a="$a" 'BEGIN { exit !(a <= 1) }' && ok || bad "W3 test accuracy '$a': $line"
            peer_ok "$peer" "$line"
        done
    fi
else
    echo "skip W3: no $FM/train-images-idx3-ubyte.gz"
fi

# --- python.sh ------------------------------------------------------------
if [ ! -r "$FM/train-images-idx3-ubyte.gz" ]; then
    echo "skip python.sh: no $FM/train-images-idx3-ubyte.gz"
elif ! "$BUILD/venv/bin/python" -c 'import fastmlp, sklearn' >/dev/null 2>&1; then
    echo "skip python.sh: no fastmlp package in $BUILD/venv (sh scripts/python-env.sh /usr/bin/python3 $BUILD/venv)"
elif run 0 python.sh ROWS=500 EPOCHS=1 REPEAT=1 PEERS= SETS=wine SEEDS=1 THREADS=2; then
    check_header python
    results 3
    line=$(grep '^RESULT python-W5 cli_sps=' "$T/out")
    for k in cli_sps python_sps cli_work_sps; do
        positive "$(field "$k" "$line")" && ok || bad "python.sh $k not positive: $line"
    done
    [ "$(field copy "$line")" = no ] && ok || bad "python.sh: the library copied the uint8 pixels: $line"
    a=$(field cli_acc "$line")
    positive "$a" && [ "$(field python_acc "$line")" = "$a" ] && ok ||
        bad "python.sh: fastmlp.MLPClassifier's test accuracy differs from the CLI's: $line"
    line=$(grep '^RESULT python-W5 python_sps=' "$T/out")
    [ "$(field sklearn_sps "$line")" = n/a ] && grep -q '^sklearn: not run (PEERS)' "$T/out" && ok ||
        bad "python.sh PEERS=: scikit-learn not left out: $line"
    line=$(grep '^RESULT python-tabular wine ' "$T/out")
    positive "$(field fastmlp_fit_s "$line")" && ok || bad "python.sh wine fit time not positive: $line"
    a=$(field fastmlp_acc "$line")
    positive "$a" && awk -v a="$a" 'BEGIN { exit !(a <= 1) }' && ok || bad "python.sh wine accuracy '$a': $line"
fi

# --- mpi.sh (issue 17), where the build has fastmlp-mpi ----------------------
if [ ! -x "$BUILD/fastmlp-mpi" ]; then
    echo "skip mpi.sh: no fastmlp-mpi in $BUILD (built when CMake finds MPI)"
elif [ ! -r "$FM/train-images-idx3-ubyte.gz" ]; then
    echo "skip mpi.sh: no $FM/train-images-idx3-ubyte.gz"
# (in the sanitizer build, the ranks without LeakSanitizer: Open MPI's own
# allocations, as tests/mpi/test_mpi.sh says)
elif run 0 mpi.sh EPOCHS=1 ITERS=3 REPEAT=1 MAX_BYTES=4096 ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"; then
    for w in M1 M2; do
        line=$(grep "^RESULT $w " "$T/out")
        for k in one_s overlap_s blocking_s ratio ratio_blocking overlap_gain; do
            positive "$(field "$k" "$line")" && ok || bad "mpi.sh $w $k not positive: $line"
        done
    done
    [ "$(grep -c '^  bytes 4096 ' "$T/out")" -eq 2 ] && ok || bad "mpi.sh: no MPI_Allreduce lines up to 4096 bytes"
fi

echo "bench scripts: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
