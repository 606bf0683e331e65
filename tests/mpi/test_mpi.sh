#!/bin/sh
# SPDX-License-Identifier: MIT
# fastmlp-mpi under mpirun on this machine (loopback): data-parallel runs on
# 2 and 3 ranks (3 on 2 cores: --oversubscribe) against one process, run to
# run determinism, shared memory and TCP between the ranks giving the same
# bytes, the global shuffle, sharded reading (IDX, CSV, HDF5), a rank killed with
# SIGKILL and a shard that fails on one rank only (the job ends within
# seconds, never hangs), checkpoints written by rank 0 and resumed on
# another number of ranks, a signal to one rank (every rank stops at the
# same batch), and the flags refused on several ranks.
#   test_mpi.sh FASTMLP FASTMLP_MPI MODEL_DIFF MPIEXEC
set -u
FASTMLP=$1
FMPI=$2
MODEL_DIFF=$3
MPIEXEC=${4:-mpirun}
FM=${FASTMLP_FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=$HERE/../data
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$HERE/../support/lib.sh" # pass/fail counters: ok, bad

# Open MPI's settings for these tests, here rather than on the machine:
# root allowed (CI runs as root), shared memory between the ranks without
# the single-copy mechanism a container may forbid, no binding to cores (3
# ranks on 2 cores), no warnings about the missing high-speed networks.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_hwloc_base_binding_policy=none OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_btl_base_warn_component_unused=0 OMPI_MCA_mpi_warn_on_fork=0
# In the sanitizer build the ranks run without LeakSanitizer: Open MPI keeps
# thousands of allocations until exit, from plugins it has unloaded by then
# (no names to suppress them by).  AddressSanitizer's other checks and UBSan
# stay on; the same training code runs with leak checks in test_dist
# (threads as ranks, no MPI).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
ROOT=""
[ "$(id -u)" -eq 0 ] && ROOT="--allow-run-as-root"
mpi() { # mpi N ARGS...: fastmlp-mpi on N ranks
    n=$1
    shift
    "$MPIEXEC" $ROOT --oversubscribe -np "$n" "$FMPI" "$@"
}

IMG="--train $FM/t10k-images-idx3-ubyte.gz --train-labels $FM/t10k-labels-idx1-ubyte.gz"
RUN="$IMG --layers 64 --batch 200 --epochs 3 --threads 1 --seed 7 --quiet"

# diff_ok A B BOUND WHAT: weights within BOUND of each other
diff_ok() {
    d=$("$MODEL_DIFF" "$1" "$2") || { bad "$4: cannot compare"; return; }
    awk -v d="$d" -v b="$3" 'BEGIN { split(d, f, " "); exit !(f[2] + 0 <= b + 0) }' && ok || bad "$4: $d (bound $3)"
}
same() { cmp -s "$1" "$2" && ok || bad "$3: the model files differ"; }
rank_pid() { # rank_pid R: the pid of rank R of the fastmlp-mpi job running
    for p in $(pgrep -f "fastmlp-mpi train" 2>/dev/null); do
        if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1"; then echo "$p"; fi
    done
}

# --- 1 process against 2 and 3 ranks, Adam with the global shuffle -------
"$FASTMLP" train $RUN -o "$T/one.mlp" --log-json "$T/one.json" >/dev/null 2>&1 || bad "alone failed"
for n in 2 3; do
    mpi $n train $RUN -o "$T/r$n.mlp" --log-json "$T/r$n.json" >"$T/r$n.out" 2>&1 || { bad "$n ranks failed"; cat "$T/r$n.out"; }
    # f32 weights: equal up to the rounding of the sums' order
    diff_ok "$T/one.mlp" "$T/r$n.mlp" 1e-4 "Adam on $n ranks vs alone"
    # the epochs' losses agree to 5 digits: the same rows in the same
    # batches (a shuffle that depended on the ranks would not)
    for e in 1 2 3; do
        a=$(grep "\"epoch\": $e," "$T/one.json" | sed 's/.*"train_loss": *\([0-9.e+-]*\).*/\1/')
        b=$(grep "\"epoch\": $e," "$T/r$n.json" | sed 's/.*"train_loss": *\([0-9.e+-]*\).*/\1/')
        awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a > 0 && d <= 1e-5 * a) }' && ok ||
            bad "epoch $e train_loss alone $a, $n ranks $b"
    done
    # determinism: the same N, seed and flags give the same bytes
    mpi $n train $RUN -o "$T/r${n}b.mlp" >/dev/null 2>&1 || bad "$n ranks, second run failed"
    same "$T/r$n.mlp" "$T/r${n}b.mlp" "two runs on $n ranks"
done
# only rank 0 writes: the model, the log, and nothing else
[ "$(ls "$T" | grep -c '^r2')" -eq 4 ] && ok || bad "files written by 2 ranks: $(ls "$T" | grep '^r2' | tr '\n' ' ')"
# and speaks: one summary line
[ "$(grep -c 'accuracy' "$T/r2.out")" -eq 1 ] && ok || bad "2 ranks printed $(grep -c accuracy "$T/r2.out") summaries"

# --- the blocking sum gives the same bytes as the per-layer one -----------
mpi 2 train $RUN --allreduce blocking -o "$T/blk.mlp" >/dev/null 2>&1 || bad "--allreduce blocking failed"
same "$T/r2.mlp" "$T/blk.mlp" "--allreduce blocking vs overlap"

# --- TCP between the ranks (on loopback), as between machines -------------
OMPI_MCA_btl=self,tcp OMPI_MCA_btl_tcp_if_include=lo mpi 2 train $RUN -o "$T/tcp.mlp" >"$T/tcp.out" 2>&1 ||
    { bad "2 ranks over TCP failed"; cat "$T/tcp.out"; }
same "$T/r2.mlp" "$T/tcp.mlp" "2 ranks over TCP vs shared memory"

# --- SGD, GD (f64) and the solvers of seed 001 on a CSV table -------------
G="--train $DATA/galaxy_test.csv --layers 8 --threads 1 --seed 3 --quiet --dtype f64"
for opt in "sgd --batch 16 --epochs 3" "gd --epochs 20" "cg --max-iter 15" "lbfgs --max-iter 15"; do
    name=${opt%% *}
    "$FASTMLP" train $G --optimizer $opt -o "$T/g1.mlp" >/dev/null 2>&1 || bad "$name alone failed"
    mpi 3 train $G --optimizer $opt -o "$T/g3.mlp" >"$T/g3.out" 2>&1 || { bad "$name on 3 ranks failed"; cat "$T/g3.out"; }
    diff_ok "$T/g1.mlp" "$T/g3.mlp" 1e-7 "$name (f64) on 3 ranks vs alone"
done

# --- seed 000's neuron on its HDF5 cats, each rank a hyperslab ----------
if "$FASTMLP" --version | grep -q '^HDF5: libhdf5'; then
    H="--train $DATA/train_catvnoncat.h5 --test $DATA/test_catvnoncat.h5 --layers none --head sigmoid-bce \
       --optimizer gd --lr 0.005 --epochs 100 --dtype f64 --threads 1 --quiet"
    "$FASTMLP" train $H -o "$T/h1.mlp" >/dev/null 2>&1 || bad "the cats alone failed"
    for n in 2 3; do
        mpi $n train $H -o "$T/h$n.mlp" >"$T/h.out" 2>&1 || { bad "the cats on $n ranks failed"; cat "$T/h.out"; }
        diff_ok "$T/h1.mlp" "$T/h$n.mlp" 1e-12 "the cats (HDF5, GD, f64) on $n ranks vs alone"
    done
fi

# --- sharded reading: rank 0 holds its half of the rows ------------------
"$FASTMLP" train $RUN --epochs 1 --profile >"$T/p1.out" 2>&1
mpi 2 train $RUN --epochs 1 --profile >"$T/p2.out" 2>&1
m1=$(sed -n 's/.*data \([0-9.]*\) MiB.*/\1/p' "$T/p1.out")
m2=$(sed -n 's/.*data \([0-9.]*\) MiB.*/\1/p' "$T/p2.out")
awk -v a="$m1" -v b="$m2" 'BEGIN { exit !(a > 0 && b > 0.45 * a && b < 0.55 * a) }' && ok ||
    bad "data in memory: alone '$m1' MiB, rank 0 of 2 '$m2' MiB (expected half)"
# A gzip IDX file cut short in its second half: rank 0 decompresses only
# up to the end of its half and succeeds, rank 1 reaches the cut and fails,
# and rank 0 says why for it.  (A plain file cut short fails on every rank:
# its size gives the cut away before any row is read.)
gzip -dc "$FM/t10k-images-idx3-ubyte.gz" | head -c 6000000 | gzip -1 >"$T/cut-images-idx3-ubyte.gz"
start=$(date +%s)
mpi 2 train --train "$T/cut-images-idx3-ubyte.gz" --train-labels "$FM/t10k-labels-idx1-ubyte.gz" --epochs 1 \
    --threads 1 >"$T/cut.out" 2>"$T/cut.err"
rc=$?
took=$(($(date +%s) - start))
[ $rc -ne 0 ] && ok || bad "a shard cut short on rank 1: exit 0"
grep -q "fastmlp train: rank 1 of 2: .*cut-images" "$T/cut.err" && ok || { bad "no message from rank 0 for rank 1"; cat "$T/cut.err"; }
[ "$(grep -c 'fastmlp train' "$T/cut.err")" -eq 1 ] && ok || bad "the failure was said $(grep -c 'fastmlp train' "$T/cut.err") times: $(cat "$T/cut.err")"
[ $took -le 30 ] && ok || bad "the failed job took $took s"

# --- a rank killed with SIGKILL: the job ends within seconds -------------
mpi 2 train $IMG --layers 64 --batch 200 --epochs 100000 --threads 1 --quiet --log-json "$T/k.json" \
    >"$T/k.out" 2>&1 &
job=$!
i=0
while [ $i -lt 300 ] && ! grep -q '"epoch"' "$T/k.json" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
victim=$(rank_pid 1)
if [ -z "$victim" ]; then
    bad "rank 1 of the long run not found"
    kill "$job" 2>/dev/null
else
    kill -9 "$victim"
    start=$(date +%s)
    i=0
    while kill -0 "$job" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
    if kill -0 "$job" 2>/dev/null; then
        bad "the job still runs 60 s after rank 1 was killed (a hang)"
        pkill -9 -f "fastmlp-mpi train"
        kill -9 "$job" 2>/dev/null
    else
        wait "$job"
        rc=$?
        took=$(($(date +%s) - start))
        [ $rc -ne 0 ] && ok || bad "killed rank: mpirun exit 0"
        [ $took -le 20 ] && ok || bad "killed rank: the job took $took s to end"
        grep -qi "signal 9\|killed" "$T/k.out" && ok || { bad "killed rank: no message says so"; cat "$T/k.out"; }
    fi
fi

# --- checkpoints: rank 0 writes; a 2-rank checkpoint resumes on 3 and alone
R2="$IMG --layers 64 --batch 200 --threads 1 --seed 7 --quiet"
mpi 2 train $R2 --epochs 2 --checkpoint-every 1 -o "$T/c.mlp" >/dev/null 2>&1 || bad "2 ranks with a checkpoint failed"
[ -f "$T/c.mlp.ckpt" ] && ok || bad "no checkpoint beside -o"
mpi 2 train $R2 --epochs 4 -o "$T/c4.mlp" >/dev/null 2>&1 || bad "uninterrupted 4 epochs failed"
mpi 2 train $R2 --epochs 4 --resume "$T/c.mlp.ckpt" --checkpoint "$T/x2.ckpt" -o "$T/c2r.mlp" >/dev/null 2>&1 ||
    bad "resume on 2 ranks failed"
same "$T/c4.mlp" "$T/c2r.mlp" "resumed on 2 ranks vs uninterrupted"
mpi 3 train $R2 --epochs 4 --resume "$T/c.mlp.ckpt" --checkpoint "$T/x3.ckpt" -o "$T/c3r.mlp" >"$T/c3r.out" 2>&1 ||
    { bad "resume of 2 ranks' checkpoint on 3 failed"; cat "$T/c3r.out"; }
diff_ok "$T/c4.mlp" "$T/c3r.mlp" 1e-4 "resumed on 3 ranks"
"$FASTMLP" train $R2 --epochs 4 --resume "$T/c.mlp.ckpt" --checkpoint "$T/x1.ckpt" -o "$T/c1r.mlp" >"$T/c1r.out" 2>&1 ||
    { bad "resume of 2 ranks' checkpoint alone failed"; cat "$T/c1r.out"; }
diff_ok "$T/c4.mlp" "$T/c1r.mlp" 1e-4 "resumed alone"
# A signal that reaches one rank only (rank 1; on Ctrl-C mpirun sends every
# rank SIGTERM, about a second later): every rank stops at the same batch,
# rank 0 writes the checkpoint and says so, and the resumed run ends with
# the bytes of an uninterrupted one
mpi 2 train $R2 --epochs 60 --log-json "$T/s.json" -o "$T/s.mlp" >"$T/s.out" 2>&1 &
job=$!
i=0
while [ $i -lt 300 ] && ! grep -q '"epoch"' "$T/s.json" 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
p1=$(rank_pid 1)
[ -n "$p1" ] && kill -TERM "$p1"
wait "$job"
rc=$?
[ $rc -eq 130 ] && ok || bad "SIGTERM to rank 1: exit $rc, expected 130 (every rank's, agreed)"
grep -q "interrupted by a signal: stopped after epoch .*checkpoint written to $T/s.mlp.ckpt" "$T/s.out" && ok ||
    bad "SIGTERM to rank 1: $(cat "$T/s.out")"
mpi 2 train $R2 --epochs 60 --resume "$T/s.mlp.ckpt" -o "$T/s2.mlp" >/dev/null 2>&1 || bad "resume after the signal failed"
mpi 2 train $R2 --epochs 60 -o "$T/s60.mlp" >/dev/null 2>&1 || bad "uninterrupted 60 epochs failed"
same "$T/s60.mlp" "$T/s2.mlp" "stopped by a signal and resumed vs uninterrupted"
# a checkpoint of other data is refused, by rank 0, on every rank
mpi 2 train --train $DATA/galaxy_test.csv --threads 1 --quiet --resume "$T/c.mlp.ckpt" >"$T/wr.out" 2>&1 &&
    bad "a checkpoint of other data resumed" || ok

# --- flags that need every row on one rank, other commands ---------------
for f in "--limit 100" "--report $T/r.html" "--valid-fraction 0.2"; do
    mpi 2 train $RUN $f >/dev/null 2>"$T/f.err"
    [ $? -eq 64 ] && ok || bad "$f on 2 ranks: not refused with 64"
    [ "$(grep -c 'not available on several ranks' "$T/f.err")" -eq 1 ] && ok || bad "$f: message $(cat "$T/f.err")"
done
mpi 2 info "$T/one.mlp" >/dev/null 2>"$T/i.err"
[ $? -eq 64 ] && grep -q "only train runs on several ranks" "$T/i.err" && ok || bad "info on 2 ranks: $(cat "$T/i.err")"
# one rank is the plain program
mpi 1 train $RUN -o "$T/m1.mlp" >/dev/null 2>&1 || bad "fastmlp-mpi on 1 rank failed"
same "$T/one.mlp" "$T/m1.mlp" "fastmlp-mpi on 1 rank vs fastmlp"

echo "test_mpi: $pass passed, $fail failed"
[ $fail -eq 0 ]
