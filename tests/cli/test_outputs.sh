#!/bin/sh
# SPDX-License-Identifier: MIT
# Never destroy what is not fastmlp's (issue 12), through the CLI: what is at
# an output path decides how it is written (a device, a FIFO, a symlink, a
# file's permissions and owner), an output that names an input or another
# output is refused before any work, every output location is checked
# before training, write errors (file-size limit, full disk, stdout) are
# reported with 74 and leave no temporary file, SIGINT/SIGTERM during
# loading and saving end with 130 and one line, stale temporary files of
# killed runs are removed, and the flags' limits are named.
# Usage: test_outputs.sh FASTMLP PRELOAD_RAISE_SO
set -u
FASTMLP=$1
RAISE=$2
FM=${FASTMLP_FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
T=$(mktemp -d)
chmod 755 "$T"
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/../support/lib.sh"

X="$FM/t10k-images-idx3-ubyte.gz"
Y="$FM/t10k-labels-idx1-ubyte.gz"
TR="--train $X --train-labels $Y --limit 300 --layers 4 --epochs 1 --threads 1 -q"
# no temporary file of fastmlp's naming anywhere under DIR
no_tmp() {
    left=$(find "$1" -name '*.tmp.fastmlp-*' 2>/dev/null)
    [ -z "$left" ] && ok || bad "$2: temporary files left: $left"
}
mode_of() { stat -c %a "$1"; }
owner_of() { stat -c %U:%G "$1"; }

"$FASTMLP" train $TR -o "$T/m.mlp" >/dev/null 2>&1 || bad "reference training failed"
cp "$T/m.mlp" "$T/m0.mlp"

# ---- 1. what is at the output path -------------------------------------
# A character device: written in place, never replaced.  As root, one made
# with mknod (never /dev/null itself); otherwise a symlink to /dev/null,
# which the old code replaced by a regular file.
if [ "$(id -u)" -eq 0 ] && mknod "$T/null" c 1 3 2>/dev/null; then
    expect 0 "" -- "$FASTMLP" train $TR -o "$T/null"
    [ -c "$T/null" ] && ok || bad "-o on a character device replaced it: $(ls -l "$T/null")"
    expect 0 "" -- "$FASTMLP" predict "$T/m.mlp" "$X" -o "$T/null"
    [ -c "$T/null" ] && ok || bad "predict -o on a character device replaced it"
    expect 0 "" -- "$FASTMLP" eval "$T/m.mlp" "$X" --labels "$Y" --report "$T/null"
    [ -c "$T/null" ] && ok || bad "--report on a character device replaced it"
    expect 0 "" -- "$FASTMLP" train $TR --log-json "$T/null"
    [ -c "$T/null" ] && ok || bad "--log-json on a character device replaced it"
    # a checkpoint must be a file to be resumed: refused, device kept
    expect 73 "not a regular file" -- "$FASTMLP" train $TR --checkpoint "$T/null"
    [ -c "$T/null" ] && ok || bad "--checkpoint on a character device replaced it"
else
    ln -s /dev/null "$T/null"
    expect 0 "" -- "$FASTMLP" train $TR -o "$T/null"
    [ -L "$T/null" ] && [ -c "$T/null" ] && ok || bad "-o on a link to /dev/null replaced it"
fi

# A FIFO: written as a stream to its reader, never replaced.
mkfifo "$T/fifo"
timeout 20 cat "$T/fifo" >"$T/from_fifo.mlp" &
reader=$!
expect 0 "" -- timeout 60 "$FASTMLP" train $TR -o "$T/fifo"
wait $reader
[ -p "$T/fifo" ] && ok || bad "-o on a FIFO replaced it: $(ls -l "$T/fifo")"
cmp -s "$T/from_fifo.mlp" "$T/m.mlp" && ok || bad "the model read from the FIFO differs from the one saved to a file"
timeout 20 cat "$T/fifo" >"$T/from_fifo.csv" &
reader=$!
expect 0 "" -- timeout 60 "$FASTMLP" predict "$T/m.mlp" "$X" -o "$T/fifo"
wait $reader
[ "$(wc -l <"$T/from_fifo.csv")" -eq 10001 ] && ok || bad "predict through a FIFO: $(wc -l <"$T/from_fifo.csv") lines"

# A symlink: its target is replaced, the link stays, the target's mode too.
cp "$T/m0.mlp" "$T/target.mlp"
chmod 600 "$T/target.mlp"
ln -s target.mlp "$T/link.mlp"
expect 0 "" -- "$FASTMLP" train $TR --seed 7 -o "$T/link.mlp"
[ -L "$T/link.mlp" ] && ok || bad "-o on a symlink replaced the link"
cmp -s "$T/target.mlp" "$T/m0.mlp" && bad "the symlink's target was not rewritten" || ok
[ "$(mode_of "$T/target.mlp")" = 600 ] && ok || bad "the target's mode 0600 became $(mode_of "$T/target.mlp")"
# A dangling symlink: its target is created.
ln -s made.mlp "$T/dangling.mlp"
expect 0 "" -- "$FASTMLP" train $TR -o "$T/dangling.mlp"
[ -L "$T/dangling.mlp" ] && [ -f "$T/made.mlp" ] && ok || bad "a dangling link's target was not created"

# Permissions (and, as root, owner and group) are kept.
cp "$T/m0.mlp" "$T/perm.mlp"
chmod 640 "$T/perm.mlp"
if [ "$(id -u)" -eq 0 ]; then chown nobody:nogroup "$T/perm.mlp"; fi
before=$(owner_of "$T/perm.mlp")
expect 0 "" -- "$FASTMLP" train $TR --seed 8 -o "$T/perm.mlp"
[ "$(mode_of "$T/perm.mlp")" = 640 ] && ok || bad "a 0640 model became $(mode_of "$T/perm.mlp")"
[ "$(owner_of "$T/perm.mlp")" = "$before" ] && ok || bad "owner $before became $(owner_of "$T/perm.mlp")"
cp "$T/m0.mlp" "$T/perm.csv"
chmod 600 "$T/perm.csv"
expect 0 "" -- "$FASTMLP" predict "$T/m.mlp" "$X" -o "$T/perm.csv"
[ "$(mode_of "$T/perm.csv")" = 600 ] && ok || bad "predict -o: a 0600 file became $(mode_of "$T/perm.csv")"
# As an unprivileged user: the mode of a file someone else owns is kept
# (its owner cannot be: the new file is the writer's).
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1; then
    mkdir "$T/shared" && chmod 777 "$T/shared"
    cp "$T/m0.mlp" "$T/shared/root.mlp"
    chmod 644 "$T/shared/root.mlp"
    chmod o+rx "$T"
    setpriv --reuid=nobody --regid=nogroup --clear-groups \
        "$FASTMLP" train $TR --seed 9 -o "$T/shared/root.mlp" >"$T/out" 2>"$T/err"
    rc=$?
    [ $rc -eq 0 ] && ok || bad "as nobody: rc $rc: $(cat "$T/err")"
    [ "$(mode_of "$T/shared/root.mlp")" = 644 ] && ok || bad "as nobody: mode became $(mode_of "$T/shared/root.mlp")"
    [ "$(owner_of "$T/shared/root.mlp")" = nobody:nogroup ] && ok ||
        bad "as nobody: owner $(owner_of "$T/shared/root.mlp")"
    no_tmp "$T/shared" "as nobody"
fi
# A hard link keeps the old content (documented: the path gets a new inode).
cp "$T/m0.mlp" "$T/hard.mlp"
ln "$T/hard.mlp" "$T/hard2.mlp"
expect 0 "" -- "$FASTMLP" train $TR --seed 10 -o "$T/hard.mlp"
cmp -s "$T/hard2.mlp" "$T/m0.mlp" && ok || bad "the other hard link changed"
cmp -s "$T/hard.mlp" "$T/m0.mlp" && bad "the model was not rewritten" || ok

# "-" is standard output for every output; binary to a terminal is refused.
"$FASTMLP" train $TR -o - >"$T/stdout.mlp" 2>"$T/err"
[ $? -eq 0 ] && cmp -s "$T/stdout.mlp" "$T/m.mlp" && ok || bad "-o - did not write the model to stdout: $(cat "$T/err")"
grep -q "train accuracy" "$T/err" && ok || bad "-o -: the summary should go to stderr: $(cat "$T/err")"
[ ! -e ./- ] && ok || bad "-o - made a file named '-'"
"$FASTMLP" train $TR --log-json - >"$T/stdout.json" 2>/dev/null
grep -q '"epoch": 1' "$T/stdout.json" && ok || bad "--log-json - did not write to stdout"
if command -v script >/dev/null 2>&1; then
    script -qec "$FASTMLP train $TR -o -" /dev/null >"$T/tty.out" 2>&1
    rc=$?
    [ $rc -eq 64 ] && grep -q "terminal" "$T/tty.out" && ok || bad "-o - on a terminal: rc $rc $(cat "$T/tty.out")"
fi
expect 64 "the same file" -- "$FASTMLP" train $TR -o - --log-json -
# A path naming this process's stdout (/dev/stdout) writes through it as it
# is: appended where the shell appends, the file behind it never replaced.
echo precious >"$T/app.txt"
"$FASTMLP" predict "$T/m.mlp" "$X" -o /dev/stdout >>"$T/app.txt" 2>"$T/err"
rc=$?
[ $rc -eq 0 ] && [ "$(head -1 "$T/app.txt")" = precious ] && [ "$(wc -l <"$T/app.txt")" -eq 10002 ] && ok ||
    bad "predict -o /dev/stdout >> file: rc $rc, first line '$(head -1 "$T/app.txt")', $(cat "$T/err")"
echo precious >"$T/app.json"
"$FASTMLP" train $TR --log-json /dev/stdout >>"$T/app.json" 2>"$T/err"
[ "$(head -1 "$T/app.json")" = precious ] && grep -q '"epoch": 1' "$T/app.json" && ok ||
    bad "--log-json /dev/stdout >> file lost the file's content: $(head -2 "$T/app.json")"
# ... and the report on /dev/stdout is all that goes there (no tables).
"$FASTMLP" eval "$T/m.mlp" "$X" --labels "$Y" --report /dev/stdout 2>"$T/err" | cat >"$T/rep.html"
grep -q "confusion matrix (rows" "$T/rep.html" && bad "eval --report /dev/stdout mixed the tables into the report" || ok
grep -q "<svg" "$T/rep.html" && ok || bad "eval --report /dev/stdout wrote no report"
# No default checkpoint beside a model that goes to a descriptor.
expect 64 "--checkpoint-every needs --checkpoint FILE" -- "$FASTMLP" train $TR --checkpoint-every 1 -o /dev/stdout
[ ! -e /dev/stdout.ckpt ] && ok || bad "a checkpoint was written into /dev"
# Descriptors 0-2 closed by the caller: the log still gets only JSON.
"$FASTMLP" train $TR --epochs 2 -o "$T/cl.mlp" --log-json "$T/cl.json" >&- 2>"$T/err"
[ "$(grep -vc '^{' "$T/cl.json")" -eq 0 ] && [ "$(wc -l <"$T/cl.json")" -eq 3 ] && ok ||
    bad "with stdout closed the log holds: $(cat "$T/cl.json")"
# A reader that goes away: EPIPE, reported (74), not a silent death by SIGPIPE.
mkfifo "$T/pipe"
timeout 20 head -c 10 "$T/pipe" >/dev/null &
expect 74 "Broken pipe" -- timeout 60 "$FASTMLP" predict "$T/m.mlp" "$X" -o "$T/pipe"
wait
# A socket cannot be opened: refused before any work.
if command -v python3 >/dev/null 2>&1 &&
    python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$T/sock" 2>/dev/null; then
    expect 73 "is a socket" -- "$FASTMLP" train --train "$T/absent.csv" -o "$T/sock"
    [ -S "$T/sock" ] && ok || bad "-o on a socket replaced it"
fi

# ---- 2. same-file checks, before any work --------------------------------
printf '0,1,2\n1,3,4\n0,5,6\n1,7,8\n' >"$T/d.csv"
cp "$T/d.csv" "$T/d0.csv"
expect 64 "-o '$T/d.csv' and --train '$T/d.csv' are the same file" -- \
    "$FASTMLP" train --train "$T/d.csv" --layers none --epochs 1 -o "$T/d.csv"
cmp -s "$T/d.csv" "$T/d0.csv" && ok || bad "train -o over its data changed the data"
expect 64 "-o '$T/m.mlp' and MODEL '$T/m.mlp' are the same file" -- "$FASTMLP" predict "$T/m.mlp" "$X" -o "$T/m.mlp"
cmp -s "$T/m.mlp" "$T/m0.mlp" && ok || bad "predict -o over its model changed the model"
expect 64 "--report '$T/x.mlp' and -o '$T/x.mlp' are the same file" -- \
    "$FASTMLP" train $TR -o "$T/x.mlp" --report "$T/x.mlp"
[ ! -e "$T/x.mlp" ] && ok || bad "a refused run wrote its model"
mkdir "$T/sub"
expect 64 "are the same file" -- "$FASTMLP" train $TR --log-json "$T/r.out" --report "$T/sub/../r.out"
expect 64 "are the same file" -- "$FASTMLP" eval "$T/m.mlp" "$X" --labels "$Y" --report "$Y"
ln -s m.mlp "$T/alias.mlp"
expect 64 "are the same file" -- "$FASTMLP" predict "$T/alias.mlp" "$X" -o "$T/m.mlp"
expect 64 "are the same file" -- "$FASTMLP" train $TR --checkpoint "$T/c.ckpt" --log-json "$T/c.ckpt"
printf 'epochs: 1\n' >"$T/t.yaml"
expect 64 "--config" -- "$FASTMLP" train $TR --config "$T/t.yaml" -o "$T/t.yaml"
# --resume and --checkpoint may be the same file: it is read first.
"$FASTMLP" train $TR --epochs 2 --checkpoint "$T/rc.ckpt" --checkpoint-every 1 -o "$T/rc.mlp" >/dev/null 2>&1
expect 0 "" -- "$FASTMLP" train $TR --epochs 2 --checkpoint "$T/rc.ckpt" --resume "$T/rc.ckpt" -o "$T/rc2.mlp"

# ---- 3. output locations checked before training -------------------------
# --train names a file that does not exist: refusing the output first (73)
# rather than the input (66) shows nothing was loaded or trained.
NOTRAIN="--train $T/absent.csv --epochs 1 -q"
expect 73 "the checkpoint" -- "$FASTMLP" train $NOTRAIN --checkpoint "$T/nodir/c.ckpt" --checkpoint-every 1
expect 64 "the output path is empty" -- "$FASTMLP" train $NOTRAIN -o ""
expect 73 "is a directory" -- "$FASTMLP" train $NOTRAIN --log-json "$T"
expect 73 "No such file or directory" -- "$FASTMLP" train $NOTRAIN --report "$T/nodir/r.html"
expect 73 "cannot create" -- "$FASTMLP" train $NOTRAIN -o "$T/d.csv/m.mlp"
# A dangling symlink and its target are the same output.
ln -s target2.mlp "$T/dl.mlp"
expect 64 "are the same file" -- "$FASTMLP" train $NOTRAIN -o "$T/dl.mlp" --report "$T/target2.mlp"
# A sticky directory (/tmp-like) where another user's file cannot be replaced.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1; then
    mkdir "$T/sticky" && chmod 1777 "$T/sticky"
    echo root >"$T/sticky/root.mlp" && chmod 666 "$T/sticky/root.mlp"
    setpriv --reuid=nobody --regid=nogroup --clear-groups \
        "$FASTMLP" train --train "$T/absent.csv" -o "$T/sticky/root.mlp" >"$T/out" 2>"$T/err"
    rc=$?
    [ $rc -eq 73 ] && grep -q "sticky" "$T/err" && ok || bad "sticky directory as nobody: rc $rc $(cat "$T/err")"
fi

# ---- 4. write errors ------------------------------------------------------
# A file-size limit: EFBIG, 74, the old file kept, no temporary file.
cp "$T/m0.mlp" "$T/big.mlp"
(ulimit -f 20; "$FASTMLP" train $TR --layers 64 -o "$T/big.mlp" >"$T/out" 2>"$T/err")
rc=$?
[ $rc -eq 74 ] && grep -q "File too large" "$T/err" && ok || bad "ulimit -f: rc $rc $(cat "$T/err")"
cmp -s "$T/big.mlp" "$T/m0.mlp" && ok || bad "ulimit -f: the old model was changed"
(ulimit -f 20; "$FASTMLP" predict "$T/m.mlp" "$X" -o "$T/big.csv" >"$T/out" 2>"$T/err")
rc=$?
[ $rc -eq 74 ] && [ ! -e "$T/big.csv" ] && ok || bad "ulimit -f, predict: rc $rc $(cat "$T/err")"
# A full disk: /dev/full behind stdout or a log.
if [ -w /dev/full ]; then
    for c in "train $TR" "info $T/m.mlp" "eval $T/m.mlp $X --labels $Y" "predict $T/m.mlp $X" "bench quick -p f32 -n 2 -l 2 -d 16 -a tanh"; do
        # shellcheck disable=SC2086
        "$FASTMLP" $c >/dev/full 2>"$T/err"
        rc=$?
        [ $rc -eq 74 ] && grep -q "No space left" "$T/err" && ok || bad "$c >/dev/full: rc $rc $(cat "$T/err")"
    done
    expect 74 "cannot write the JSON log: No space left on device" -- "$FASTMLP" train $TR --log-json /dev/full
fi
no_tmp "$T" "write errors"

# ---- 5. signals -------------------------------------------------------------
# SIGINT while loading: the data comes through a FIFO that is held open, so
# fastmlp is certainly inside the loader when the signal comes.
mkfifo "$T/data.csv"
"$FASTMLP" train --train "$T/data.csv" --epochs 1 -o "$T/sig.mlp" >"$T/out" 2>"$T/err" &
pid=$!
exec 3>"$T/data.csv" # returns once fastmlp has opened it
printf '0,1,2\n1,3,4\n' >&3
kill -INT $pid
# The end of the data only after the signal: a fastmlp that ignored the
# signal (a background job of sh starts with SIGINT ignored) loads and trains.
sleep 0.5
exec 3>&-
wait $pid
rc=$?
[ $rc -eq 130 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "interrupted by SIGINT" "$T/err" && ok ||
    bad "SIGINT while loading: rc $rc, stderr: $(cat "$T/err")"
[ ! -e "$T/sig.mlp" ] && ok || bad "SIGINT while loading: a model was written"
# SIGINT/SIGTERM while saving: raised from inside fsync by the shim.
PRE="env LD_PRELOAD=$RAISE ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
cp "$T/m0.mlp" "$T/save.mlp"
$PRE FASTMLP_TEST_RAISE=INT "$FASTMLP" train $TR --seed 11 -o "$T/save.mlp" --report "$T/save.html" >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 130 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "interrupted by SIGINT after training: the model was saved" "$T/err" &&
    ok || bad "SIGINT while saving the model: rc $rc, stderr: $(cat "$T/err")"
"$FASTMLP" info "$T/save.mlp" >/dev/null 2>&1 && ok || bad "SIGINT while saving: the model does not load"
[ ! -e "$T/save.html" ] && ok || bad "SIGINT while saving: the report was still written"
$PRE FASTMLP_TEST_RAISE=TERM "$FASTMLP" predict "$T/m.mlp" "$X" -o "$T/sig.csv" >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 130 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "interrupted by SIGTERM" "$T/err" && ok ||
    bad "SIGTERM while saving predictions: rc $rc, stderr: $(cat "$T/err")"
$PRE FASTMLP_TEST_RAISE=INT "$FASTMLP" eval "$T/m.mlp" "$X" --labels "$Y" --report "$T/sig.html" >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 130 ] && grep -q "interrupted by SIGINT" "$T/err" && ok || bad "SIGINT while writing a report: rc $rc, $(cat "$T/err")"
# SIGINT during training writes the checkpoint through the same path.
$PRE FASTMLP_TEST_RAISE=INT "$FASTMLP" train $TR --epochs 3 --checkpoint-every 1 -o "$T/ck.mlp" >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 130 ] && [ -s "$T/ck.mlp.ckpt" ] && [ ! -e "$T/ck.mlp" ] && ok ||
    bad "SIGINT at the first checkpoint: rc $rc, stderr: $(cat "$T/err")"
no_tmp "$T" "signals"

# ---- 6. stale temporary files of killed runs --------------------------------
# Removed by the next save to the same path: only the exact pattern, only
# when older than the running process, only when no writer holds it.
P=st.mlp.tmp.fastmlp-
for f in ${P}Ab12Cd ${P}Zz99zz ${P}Ab12Cde ${P}Ab-2Cd other.mlp.tmp.fastmlp-Ab12Cd st.mlp.tmp.backup ${P}Lock01; do
    echo junk >"$T/$f"
    touch -d '1 hour ago' "$T/$f"
done
exec 4<"$T/${P}Lock01" # a live writer's lock, held by this shell
flock -x 4
expect 0 "" -- "$FASTMLP" train $TR -o "$T/st.mlp"
exec 4<&-
[ ! -e "$T/${P}Ab12Cd" ] && [ ! -e "$T/${P}Zz99zz" ] && ok || bad "stale temporary files were not removed"
for f in ${P}Ab12Cde ${P}Ab-2Cd other.mlp.tmp.fastmlp-Ab12Cd st.mlp.tmp.backup ${P}Lock01; do
    [ -e "$T/$f" ] && ok || bad "$f is not a stale temporary file of st.mlp, yet was removed"
done
# ... and one newer than the process is kept (another run may be writing it).
echo junk >"$T/${P}New001"
touch -d '1 hour' "$T/${P}New001"
expect 0 "" -- "$FASTMLP" train $TR -o "$T/st.mlp"
[ -e "$T/${P}New001" ] && ok || bad "a temporary file newer than the process was removed"
# A user's file that merely looks like one (an input, even) is never taken.
cp "$T/d.csv" "$T/u.mlp.tmp.backup"
touch -d '1 hour ago' "$T/u.mlp.tmp.backup"
expect 0 "" -- "$FASTMLP" train --train "$T/u.mlp.tmp.backup" --data-format csv --layers none --epochs 1 -q -o "$T/u.mlp"
[ -e "$T/u.mlp.tmp.backup" ] && ok || bad "the training data u.mlp.tmp.backup was removed as a stale file"
rm -f "$T"/st.mlp.tmp.* "$T"/other.mlp.tmp.* "$T"/u.mlp.tmp.*

# ---- 6b. a CSV larger than memory is refused before it is read ------------
mem_kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
if truncate -s $((mem_kb * 1024 + 1073741824)) "$T/huge.csv" 2>/dev/null; then
    expect 70 "larger than this machine's memory" -- timeout 60 "$FASTMLP" train --train "$T/huge.csv" --data-format csv -q
    rm -f "$T/huge.csv"
fi

# ---- 7. flags ------------------------------------------------------------------
expect 64 "--threads -1: give 0 for all cores" -- "$FASTMLP" train $TR --threads -1
expect 64 "--threads 65: at most 64" -- "$FASTMLP" train $TR --threads 65
expect 64 "from 0 (all cores) to 64" -- "$FASTMLP" bench quick -p f32 -n 1 -l 1 -d 8 -a tanh -t 100
cores=$(getconf _NPROCESSORS_ONLN)
if [ "$cores" -lt 64 ]; then
    "$FASTMLP" train $TR --threads $((cores + 1)) >"$T/out" 2>"$T/err"
    rc=$?
    [ $rc -eq 0 ] && grep -q "warning: --threads $((cores + 1)) on $cores cores" "$T/err" && ok ||
        bad "--threads above the cores: rc $rc, $(cat "$T/err")"
fi
expect 64 "write 'none'" -- "$FASTMLP" train $TR --layers 0
expect 64 "write 'none'" -- "$FASTMLP" train $TR --layers ""
expect 0 "" -- "$FASTMLP" train $TR --layers none
many=$(awk 'BEGIN { for (i = 0; i < 5000; i++) printf "%s1", (i ? "," : "") }')
expect 64 "5000 hidden layers, at most 4095" -- "$FASTMLP" train $TR --layers "$many"
expect 64 "outside 1..16777216" -- "$FASTMLP" train $TR --layers 8,20000000
expect 64 "'x' is not a width" -- "$FASTMLP" train $TR --layers 8,x
# predict refuses a label that is none of the model's classes, as eval does,
# naming it and the classes.
printf '0,1,2\n1,3,4\n0,5,6\n1,7,8\n' >"$T/two.csv"
"$FASTMLP" train --train "$T/two.csv" --layers none --epochs 1 -q -o "$T/two.mlp" >/dev/null 2>&1
printf '0,1,2\n5,3,4\n' >"$T/five.csv"
expect 65 "label '5' in data row 2 is not one of the model's classes (0, 1)" -- "$FASTMLP" eval "$T/two.mlp" "$T/five.csv"
expect 65 "label '5' in data row 2 is not one of the model's classes (0, 1)" -- "$FASTMLP" predict "$T/two.mlp" "$T/five.csv"

no_tmp "$T" "the whole run"
echo "outputs: $pass passed, $fail failed"
[ $fail -eq 0 ]
