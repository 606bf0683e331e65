#!/bin/sh
# SPDX-License-Identifier: MIT
# Issue 15's tabular target: with no flags beyond --train/--test, fastmlp's
# test accuracy on iris, wine, breast_cancer and digits is within one point
# of scikit-learn's defaults or better.  For each data set of
# tests/data/tabular (make_tabular.py: CSV as pandas writes it, the label in
# a `target` column, last):
#   fastmlp train --train NAME_train.csv --test NAME_test.csv -o M.mlp   (no other flag;
#   penguins_like, which has missing values, adds --missing mean)
#   fastmlp predict M.mlp NAME_test.csv -o P.csv
# scored by bench/peers/tabular_score.py (accuracy, or R^2 for diabetes;
# standard library only), beside scikit-learn's MLPClassifier/MLPRegressor
# defaults, alone and after a StandardScaler (bench/peers/sklearn_tabular.py,
# random_state 0), when /usr/bin/python3 has scikit-learn.  The "ref" column
# is scikit-learn's default (unscaled) mean over random_state 0..4 from
# tests/data/tabular/sklearn_reference.txt (no scikit-learn needed), and
# "met" says whether fastmlp is within 0.01 of it or better.
# Timing: fastmlp's "train s" is the whole `fastmlp train` process (start,
# CSV loading, training, the test pass, saving), wall clock; scikit-learn's
# "fit s" is fit() alone on frames already read.  ratio = sklearn fit s /
# fastmlp train s (above 1: fastmlp is faster).
# A data set fastmlp fails on is reported with its stderr line and the
# script goes on with the next one.
# Usage: bench/tabular.sh BUILD_DIR
# Environment: SETS [iris wine breast_cancer digits penguins_like diabetes];
# REPEAT runs of each, the fastest counts [1]; PEERS [sklearn] ("" leaves
# scikit-learn out); FASTMLP_DATA_DIR [tests/data];
# ISA=avx2|avx512|native [native] (bench/common.sh bench_isa).
# Ends with one RESULT line per data set (n/a where a figure is missing).
set -eu
. "$(dirname "$0")/common.sh"
bench_init "$@"
tab=${FASTMLP_DATA_DIR:-$data}/tabular
SETS=${SETS:-iris wine breast_cancer digits penguins_like diabetes}
REPEAT=${REPEAT:-1}
PEERS=${PEERS-sklearn}
require_positive REPEAT
for s in $SETS; do
    for part in train test; do
        if [ ! -r "$tab/${s}_$part.csv" ]; then
            echo "$0: cannot read $tab/${s}_$part.csv" >&2
            exit 66
        fi
    done
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

bench_header "tabular (issue 15): fastmlp train --train NAME_train.csv --test NAME_test.csv, no other flag, beside scikit-learn's defaults; $tab"
bench_load

now() { date +%s.%N; }
# The one flag a data set needs beyond --train/--test: penguins_like has
# missing values, which are an error unless the user says what to do.
extra() { [ "$1" = penguins_like ] && echo "--missing mean" || true; }
# the stderr line to show for a failed command: its first non-empty line
first_err() { grep -m1 . "$1" || echo "(no stderr; exit $2)"; }

echo
echo "== fastmlp"
for s in $SETS; do
    best="" figure="" why=""
    r=0
    while [ "$r" -lt "$REPEAT" ]; do
        r=$((r + 1))
        t0=$(now)
        rc=0
        # shellcheck disable=SC2046
        "$bin" train --train "$tab/${s}_train.csv" --test "$tab/${s}_test.csv" $(extra "$s") -o "$tmp/$s.mlp" \
            >"$tmp/$s.train.out" 2>"$tmp/$s.train.err" || rc=$?
        t1=$(now)
        if [ "$rc" -ne 0 ]; then
            why="train exited $rc: $(first_err "$tmp/$s.train.err" "$rc")"
            break
        fi
        dt=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
        if [ -z "$best" ] || awk -v a="$dt" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$dt; fi
    done
    if [ -z "$why" ]; then
        rc=0
        "$bin" predict "$tmp/$s.mlp" "$tab/${s}_test.csv" -o "$tmp/$s.pred.csv" \
            >"$tmp/$s.pred.out" 2>"$tmp/$s.pred.err" || rc=$?
        if [ "$rc" -ne 0 ]; then
            why="predict exited $rc: $(first_err "$tmp/$s.pred.err" "$rc")"
        elif ! figure=$("$PY" "$root/bench/peers/tabular_score.py" "$tmp/$s.pred.csv" \
            "$tab/${s}_test.csv" "$tab/${s}_train.csv" 2>"$tmp/$s.score.err"); then
            why="scoring failed: $(first_err "$tmp/$s.score.err" 1)"
            figure=""
        fi
    fi
    if [ -n "$why" ]; then
        echo "fastmlp $s: FAILED, $why"
        best=""
    else
        echo "fastmlp $s: $figure, $best s (best of $REPEAT); $(grep -m1 '^fastmlp train:' "$tmp/$s.train.out" | sed 's/^fastmlp train: //')"
    fi
    echo "${figure#* }" >"$tmp/$s.value"
    echo "$best" >"$tmp/$s.secs"
done

echo
echo "== scikit-learn"
peer=""
# $SETS unquoted below: one argument per data set
# shellcheck disable=SC2086
if [ -z "$PEERS" ]; then
    echo "sklearn: left out (PEERS=\"\")"
elif ! have_py sklearn pandas; then
    echo "sklearn: scikit-learn or pandas not installed for $PY, no peer figures"
elif "$PY" "$root/bench/peers/sklearn_tabular.py" "$tab" $SETS --repeat "$REPEAT" >"$tmp/sklearn.out" 2>"$tmp/sklearn.err"; then
    grep -v '^PEER ' "$tmp/sklearn.out"
    peer="$tmp/sklearn.out"
else
    echo "sklearn: FAILED: $(tail -n 1 "$tmp/sklearn.err")"
fi
# peer_figure NAME KEY: KEY's value on NAME's PEER line
peer_figure() {
    [ -n "$peer" ] || return 0
    sed -n "s/^PEER name=$1 .*[ ]$2=\([^ ]*\).*/\1/p" "$peer"
}
ref="$tab/sklearn_reference.txt"

echo
echo "fastmlp: no flags beyond --train/--test; sklearn: defaults, random_state 0; ref: sklearn default, mean of random_state 0..4"
printf '%-14s %-8s %8s %8s %8s %8s %4s %10s %9s %7s\n' "data set" metric fastmlp sklearn "+scaler" ref met "train s" "fit s" ratio
for s in $SETS; do
    v=$(cat "$tmp/$s.value")
    secs=$(cat "$tmp/$s.secs")
    metric=$(peer_figure "$s" metric)
    [ -n "$metric" ] || metric=$(if [ "$s" = diabetes ]; then echo r2; else echo accuracy; fi)
    sk=$(peer_figure "$s" value)
    sks=$(peer_figure "$s" value_scaled)
    fit=$(peer_figure "$s" fit_s)
    rm_=""
    [ -r "$ref" ] && rm_=$(sed -n "s/^$s mean \([^ ]*\)$/\1/p" "$ref")
    met=$(awk -v a="$v" -v b="$rm_" 'BEGIN { if (a == "" || b == "") print "n/a"; else print (a + 0 >= b - 0.01 ? "yes" : "no") }')
    printf '%-14s %-8s %8s %8s %8s %8s %4s %10s %9s %7s\n' "$s" "$metric" "${v:-FAILED}" "${sk:-n/a}" "${sks:-n/a}" \
        "$(awk -v a="$rm_" 'BEGIN { if (a == "") print "n/a"; else printf "%.4f", a }')" "$met" \
        "${secs:-n/a}" "${fit:-n/a}" "$(ratio "$secs" "$fit")"
done
echo
for s in $SETS; do
    v=$(cat "$tmp/$s.value")
    secs=$(cat "$tmp/$s.secs")
    sk=$(peer_figure "$s" value)
    sks=$(peer_figure "$s" value_scaled)
    fit=$(peer_figure "$s" fit_s)
    echo "RESULT tabular $s fastmlp=${v:-n/a} sklearn=${sk:-n/a} sklearn_scaled=${sks:-n/a} fastmlp_s=${secs:-n/a} sklearn_fit_s=${fit:-n/a}"
done
