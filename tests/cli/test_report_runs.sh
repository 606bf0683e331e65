#!/bin/sh
# SPDX-License-Identifier: MIT
# `fastmlp report --runs`: the command line and its refusals (one stderr
# line and the documented exit code each, no page written), -o never
# destroying a log, and the terminal table.  The page's drawing is
# test_report.sh's.
set -u
FASTMLP=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/../support/lib.sh"

# A log with the header train writes, and one of before the header.
hdr() {
    printf '{"fastmlp_log": 1, "version": "0.20.0", "command": "train", "data": "d.csv", "eval": "test", '
    printf '"model": "4-8-3 relu, softmax-ce, f32, 67 parameters", "hyperparameters": {"optimizer": "adam", '
    printf '"lr": %s, "batch": 32, "seed": 42}}\n' "$1"
}
epochs() {
    printf '{"epoch": 1, "train_loss": %s, "train_acc": 0.5, "test_loss": %s, "test_acc": 0.6, "seconds": 0.5, ' "$1" "$2"
    printf '"samples_per_s": 100.000, "penalty": 0}\n'
}
{ hdr 0.01; epochs 0.9 0.8; } >"$T/a.jsonl"
{ hdr 0.001; epochs 0.7 0.5; } >"$T/b.jsonl"
epochs 0.4 nan >"$T/old.jsonl"
cp "$T/a.jsonl" "$T/a.keep"

# --- a page and the table ------------------------------------------------
expect 0 "" -- "$FASTMLP" report --runs "$T/a.jsonl" "$T/b.jsonl" -o "$T/cmp.html"
[ -s "$T/cmp.html" ] && ok || bad "no page written"
has '^  lr=0\.01 +1 +0\.9 '
has '^\* lr=0\.001 +1 +0\.7 '
has '^\* best: lowest test loss$'
# a log without a header (NaN evaluation): the file's name, best by train loss
expect 0 "" -- "$FASTMLP" report --runs "$T/a.jsonl" "$T/b.jsonl" "$T/old.jsonl" -o "$T/cmp.html" --title "T"
has '^\* old\.jsonl +1 +0\.4 .* - '
has 'best: lowest train loss'
# '-': the page alone on standard output
expect 0 "" -- "$FASTMLP" report --runs "$T/a.jsonl" -o -
has '<html'
hasnt 'best:'

# --- usage (64), nothing written -----------------------------------------
rm -f "$T/x.html"
expect 64 "expected --runs LOG" -- "$FASTMLP" report -o "$T/x.html"
expect 64 "'--runs' needs at least one LOG" -- "$FASTMLP" report --runs -o "$T/x.html"
expect 64 "expected -o FILE" -- "$FASTMLP" report --runs "$T/a.jsonl"
expect 64 "unexpected argument" -- "$FASTMLP" report "$T/a.jsonl" -o "$T/x.html"
expect 64 "unknown option '--bogus'" -- "$FASTMLP" report --runs "$T/a.jsonl" -o "$T/x.html" --bogus
expect 64 "are the same file" -- "$FASTMLP" report --runs "$T/a.jsonl" "$T/../$(basename "$T")/a.jsonl" -o "$T/x.html"
expect 64 "standard input" -- "$FASTMLP" report --runs "$T/a.jsonl" - -o "$T/x.html"
# -o naming a log: refused before anything is read or written
expect 64 "writing the output would destroy the input" -- "$FASTMLP" report --runs "$T/b.jsonl" "$T/a.jsonl" -o "$T/a.jsonl"
cmp -s "$T/a.jsonl" "$T/a.keep" && ok || bad "-o destroyed the input log"
[ -e "$T/x.html" ] && bad "a refused command wrote the page" || ok

# --- inputs: 66 cannot open, 65 malformed, 73 cannot create --------------
expect 66 "missing.jsonl: cannot open" -- "$FASTMLP" report --runs "$T/a.jsonl" "$T/missing.jsonl" -o "$T/x.html"
expect 66 "is a directory" -- "$FASTMLP" report --runs "$T" -o "$T/x.html"
printf '{"epoch": 1, "train_loss": 1}\n{"epoch": 2, "train_loss": \n' >"$T/bad.jsonl"
expect 65 "bad.jsonl:2: " -- "$FASTMLP" report --runs "$T/a.jsonl" "$T/bad.jsonl" -o "$T/x.html"
: >"$T/empty.jsonl"
expect 65 "no epochs" -- "$FASTMLP" report --runs "$T/empty.jsonl" -o "$T/x.html"
printf '{"fastmlp_log": 2}\n' >"$T/newer.jsonl"
expect 65 "written by a newer fastmlp" -- "$FASTMLP" report --runs "$T/newer.jsonl" -o "$T/x.html"
[ -e "$T/x.html" ] && bad "a failed command wrote the page" || ok
expect 73 "cannot create" -- "$FASTMLP" report --runs "$T/a.jsonl" -o "$T/nodir/x.html"

echo "report_runs: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
