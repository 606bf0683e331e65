#!/bin/sh
# SPDX-License-Identifier: MIT
# Long runs as a user lives them: a run killed with SIGKILL at an arbitrary
# moment and resumed from its last checkpoint, and a run stopped by SIGINT
# (checkpoint written at the next batch boundary, exit 130) and resumed, both
# end with a model byte-identical to an uninterrupted run; a checkpoint from
# another network or other data is refused, naming what differs; a finished
# run's checkpoint extends to more epochs (not under the cosine schedule);
# divergence exits 3, says no model was saved and leaves the previous model
# alone; a corrupt checkpoint is refused as corrupt.
set -u
FASTMLP=$1
FM=${FASTMLP_FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

RUN="--train $FM/train-images-idx3-ubyte.gz --train-labels $FM/train-labels-idx1-ubyte.gz --limit 6000
     --layers 128 --epochs 80 --batch 32 --threads 1 --seed 5 --quiet"
# (80 epochs: the kills below come at most 0.7 s after the second epoch, and
# at 30 a fast machine (Zen 5, ~25 ms an epoch) finished before them)
"$FASTMLP" train $RUN -o "$T/ref.mlp" >/dev/null 2>&1 || bad "reference run failed"

# wait_for FILE LINES: until FILE exists (with at least LINES lines), 60 s at most
wait_for() {
    i=0
    while [ $i -lt 600 ]; do
        # epoch lines (the log's first line is its header)
        if [ -e "$1" ] && [ "$(grep -c '"epoch"' "$1" 2>/dev/null || echo 0)" -ge "$2" ]; then return 0; fi
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# SIGKILL somewhere after the first checkpoints, then resume.
for delay in 0.05 0.3 0.7; do
    rm -f "$T/k.mlp" "$T/k.mlp.ckpt" "$T/k.json"
    "$FASTMLP" train $RUN -o "$T/k.mlp" --checkpoint-every 1 --log-json "$T/k.json" >/dev/null 2>&1 &
    pid=$!
    wait_for "$T/k.json" 2 || bad "no progress within 60 s"
    sleep $delay
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    if [ -e "$T/k.mlp" ]; then
        bad "the run finished before the kill (delay $delay): make it longer"
        continue
    fi
    [ -e "$T/k.mlp.ckpt" ] && ok || bad "no checkpoint after SIGKILL (delay $delay)"
    "$FASTMLP" train $RUN -o "$T/k.mlp" --checkpoint-every 1 --resume "$T/k.mlp.ckpt" >/dev/null 2>"$T/err" ||
        bad "resume failed: $(cat "$T/err")"
    cmp -s "$T/ref.mlp" "$T/k.mlp" && ok || bad "SIGKILL at +$delay s and resume: model differs from the uninterrupted run"
done

# SIGINT mid-epoch: a checkpoint at the next batch boundary, exit 130, one stderr line.
rm -f "$T/i.mlp" "$T/i.mlp.ckpt"
"$FASTMLP" train $RUN -o "$T/i.mlp" --log-json "$T/i.json" >/dev/null 2>"$T/i.err" &
pid=$!
wait_for "$T/i.json" 1 || bad "no progress within 60 s"
sleep 0.13
kill -INT $pid
wait $pid
rc=$?
[ $rc -eq 130 ] && ok || bad "SIGINT exit code $rc, expected 130"
[ "$(wc -l <"$T/i.err")" -eq 1 ] && grep -q "interrupted by SIGINT.*checkpoint written to" "$T/i.err" && ok ||
    bad "SIGINT message: $(cat "$T/i.err")"
[ ! -e "$T/i.mlp" ] && ok || bad "an interrupted run wrote its model"
"$FASTMLP" train $RUN -o "$T/i.mlp" --resume "$T/i.mlp.ckpt" >/dev/null 2>"$T/err" || bad "resume after SIGINT: $(cat "$T/err")"
cmp -s "$T/ref.mlp" "$T/i.mlp" && ok || bad "SIGINT and resume: model differs from the uninterrupted run"
# SIGTERM the same way.
rm -f "$T/s.mlp.ckpt"
"$FASTMLP" train $RUN -o "$T/s.mlp" --log-json "$T/s.json" >/dev/null 2>"$T/s.err" &
pid=$!
wait_for "$T/s.json" 1
kill -TERM $pid
wait $pid
rc=$?
[ $rc -eq 130 ] && grep -q SIGTERM "$T/s.err" && [ -e "$T/s.mlp.ckpt" ] && ok || bad "SIGTERM: rc $rc, $(cat "$T/s.err")"

# Refusals: another network, other data, other parameters, a model file.
"$FASTMLP" train $RUN --layers 32 --resume "$T/i.mlp.ckpt" >/dev/null 2>"$T/err"
rc=$?
[ $rc -eq 65 ] && grep -q "different network (layer 1 width: checkpoint 128, this run 32)" "$T/err" && ok ||
    bad "other network: rc $rc $(cat "$T/err")"
"$FASTMLP" train $RUN --limit 5000 --resume "$T/i.mlp.ckpt" >/dev/null 2>"$T/err"
rc=$?
[ $rc -eq 65 ] && grep -q "different training set" "$T/err" && ok || bad "other data: rc $rc $(cat "$T/err")"
"$FASTMLP" train $RUN --lr 0.01 --resume "$T/i.mlp.ckpt" >/dev/null 2>"$T/err"
rc=$?
[ $rc -eq 64 ] && grep -q "learning rate" "$T/err" && ok || bad "other lr: rc $rc $(cat "$T/err")"
"$FASTMLP" train $RUN --resume "$T/ref.mlp" >/dev/null 2>"$T/err"
rc=$?
[ $rc -eq 65 ] && grep -q "not a fastmlp checkpoint" "$T/err" && ok || bad "model as checkpoint: rc $rc $(cat "$T/err")"

# A corrupt checkpoint: the state section's first byte (the optimizer id, as
# a probe did) set to 18 is corruption, exit 65, not another optimizer (64).
mb=$(od -An -t u8 -j 16 -N 8 "$T/i.mlp.ckpt" | tr -d ' ')
cp "$T/i.mlp.ckpt" "$T/c.ckpt"
printf '\022' | dd of="$T/c.ckpt" bs=1 seek=$((32 + mb)) conv=notrunc 2>/dev/null
"$FASTMLP" train $RUN --resume "$T/c.ckpt" >/dev/null 2>"$T/err"
rc=$?
[ $rc -eq 65 ] && grep -q "checksum mismatch in the state section.*corrupt" "$T/err" && ok ||
    bad "corrupt checkpoint: rc $rc $(cat "$T/err")"

# Other data names what differs, with two different values: rows, and
# labels alone (same inputs, one label changed).
"$FASTMLP" train $RUN --limit 5000 --resume "$T/i.mlp.ckpt" >/dev/null 2>"$T/err"
grep -q "different training set (rows: checkpoint 6000, this run 5000)" "$T/err" && ok || bad "other rows: $(cat "$T/err")"
printf 'label,a,b\n0,1,2\n1,3,1\n0,2,2\n1,5,0\n' >"$T/la.csv"
printf 'label,a,b\n0,1,2\n1,3,1\n1,2,2\n1,5,0\n' >"$T/lb.csv"
SMALL="--layers 4 --epochs 2 --threads 1 -q"
"$FASTMLP" train --train "$T/la.csv" $SMALL --checkpoint-every 1 --checkpoint "$T/l.ckpt" >/dev/null 2>&1 || bad "small run failed"
"$FASTMLP" train --train "$T/lb.csv" $SMALL --resume "$T/l.ckpt" >/dev/null 2>"$T/err"
rc=$?
v=$(sed -n "s/.*labels' CRC-32: checkpoint \([0-9a-f]*\), this run \([0-9a-f]*\).*/\1 \2/p" "$T/err")
[ $rc -eq 65 ] && [ -n "$v" ] && [ "${v% *}" != "${v#* }" ] && ok || bad "other labels: rc $rc $(cat "$T/err")"

# --resume may extend a run: a finished 10-epoch run's checkpoint (written
# after its last epoch) resumed with RUN's --epochs 80 gives the
# uninterrupted 80-epoch model, byte for byte (constant schedule).
"$FASTMLP" train $RUN --epochs 10 --checkpoint-every 10 -o "$T/e10.mlp" >/dev/null 2>"$T/err" || bad "10 epochs: $(cat "$T/err")"
"$FASTMLP" train $RUN --resume "$T/e10.mlp.ckpt" -o "$T/e80.mlp" >/dev/null 2>"$T/err" || bad "extend: $(cat "$T/err")"
cmp -s "$T/ref.mlp" "$T/e80.mlp" && ok || bad "10 epochs extended to 80 differ from 80 straight"
# ...but not under a schedule that depends on the count (cosine), with why.
"$FASTMLP" train --train "$T/la.csv" $SMALL --schedule cosine --checkpoint-every 1 --checkpoint "$T/cos.ckpt" >/dev/null 2>&1
"$FASTMLP" train --train "$T/la.csv" $SMALL --schedule cosine --epochs 4 --resume "$T/cos.ckpt" >/dev/null 2>"$T/err"
rc=$?
[ $rc -eq 64 ] && grep -q "epochs 2, this run asks for 4: the cosine schedule's learning rates depend on the number of epochs" "$T/err" &&
    ok || bad "cosine extension: rc $rc $(cat "$T/err")"

# Divergence: exit 3, one line that says nothing was saved (not which
# weights were kept), the previous model untouched, no NaN model.
cp "$T/ref.mlp" "$T/d.mlp"
"$FASTMLP" train $RUN --epochs 50 --layers none --head identity-mse --optimizer gd --lr 1000 -o "$T/d.mlp" >/dev/null 2>"$T/err"
rc=$?
[ $rc -eq 3 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "diverged in epoch [0-9]* .*no model was saved" "$T/err" &&
    ! grep -q "kept" "$T/err" && ok || bad "divergence: rc $rc $(cat "$T/err")"
cmp -s "$T/ref.mlp" "$T/d.mlp" && ok || bad "divergence changed the previous model"

echo "resume: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
