#!/bin/sh
# SPDX-License-Identifier: MIT
# --config FILE.yaml: a file gives the same run as the same options as flags
# (identical model bytes), flags override the file, every command takes it,
# and each kind of bad file gives its exit code and the exact line number.
set -u
FASTMLP=$1
FM=${FASTMLP_FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/../support/lib.sh"

# yaml NAME: write stdin to $T/NAME (printf-free, so the lines are exact)
yaml() { cat >"$T/$1"; }

# --- the same run from a file and from flags -----------------------------
yaml run.yaml <<EOF
# a short Fashion-MNIST run
train: $FM/train-images-idx3-ubyte.gz
train-labels: "$FM/train-labels-idx1-ubyte.gz"

limit: 500
epochs: 1
layers: [16, 8]
activation: tanh
optimizer: sgd
lr: 0.05
nesterov: true
standardize: false   # false: not set
quiet: yes
seed: 7
threads: 1
EOF
expect 0 "" -- "$FASTMLP" train --config "$T/run.yaml" -o "$T/file.mlp"
expect 0 "" -- "$FASTMLP" train --train "$FM/train-images-idx3-ubyte.gz" --train-labels "$FM/train-labels-idx1-ubyte.gz" \
    --limit 500 --epochs 1 --layers 16,8 --activation tanh --optimizer sgd --lr 0.05 --nesterov -q --seed 7 \
    --threads 1 -o "$T/flags.mlp"
cmp -s "$T/file.mlp" "$T/flags.mlp" && ok || bad "the config file and the same flags gave different models"
# ... and the flag really mattered: without --nesterov the model differs.
expect 0 "" -- "$FASTMLP" train --train "$FM/train-images-idx3-ubyte.gz" --train-labels "$FM/train-labels-idx1-ubyte.gz" \
    --limit 500 --epochs 1 --layers 16,8 --activation tanh --optimizer sgd --lr 0.05 -q --seed 7 \
    --threads 1 -o "$T/plain.mlp"
cmp -s "$T/file.mlp" "$T/plain.mlp" && bad "nesterov: true had no effect" || ok
# quiet: yes took effect (no per-epoch lines).
expect 0 "" -- "$FASTMLP" train --config "$T/run.yaml"
grep -q '^epoch' "$T/out" && bad "quiet: yes still printed epochs" || ok

# --- flags override the file ----------------------------------------------
yaml log.yaml <<EOF
train: $FM/train-images-idx3-ubyte.gz
train-labels: $FM/train-labels-idx1-ubyte.gz
limit: 300
layers: 8
epochs: 1
log-json: $T/log.jsonl
quiet: false
EOF
expect 0 "" -- "$FASTMLP" train --config "$T/log.yaml"
[ "$(grep -c '"epoch"' "$T/log.jsonl")" -eq 1 ] && ok || bad "epochs: 1 gave $(grep -c '"epoch"' "$T/log.jsonl") epoch lines"
grep -q '^epoch 1/1' "$T/out" && ok || bad "quiet: false should print epochs: $(cat "$T/out")"
expect 0 "" -- "$FASTMLP" train --epochs 2 --config "$T/log.yaml"
[ "$(grep -c '"epoch"' "$T/log.jsonl")" -eq 2 ] && ok || bad "--epochs 2 over epochs: 1 gave $(grep -c '"epoch"' "$T/log.jsonl") epoch lines"
expect 0 "" -- "$FASTMLP" train --config="$T/log.yaml" --epochs=3 --log-json "$T/log3.jsonl"
[ "$(grep -c '"epoch"' "$T/log3.jsonl")" -eq 3 ] && ok || bad "--epochs=3 --log-json over the file's failed"
# A bad value in the file is reported even when a flag would override it:
# the file is checked whole.
yaml badlr.yaml <<EOF
lr: fast
EOF
expect 64 "badlr.yaml:1: key 'lr': 'fast' is not a number" -- "$FASTMLP" train --config "$T/badlr.yaml" --lr 0.1

# --- every command takes --config -----------------------------------------
"$FASTMLP" train --config "$T/log.yaml" -q -o "$T/m.mlp" >/dev/null 2>&1
yaml pred.yaml <<EOF
output: $T/pred.csv
EOF
expect 0 "" -- "$FASTMLP" predict --config "$T/pred.yaml" "$T/m.mlp" "$FM/t10k-images-idx3-ubyte.gz"
[ "$(wc -l <"$T/pred.csv" 2>/dev/null)" = 10001 ] && ok || bad "predict with output: from the file wrote no pred.csv"
yaml empty.yaml </dev/null
expect 0 "" -- "$FASTMLP" info --config "$T/empty.yaml" "$T/m.mlp"
yaml gc.yaml <<EOF
layers: [6, 5]
activation: tanh
tolerance: 1e-6
EOF
expect 0 "" -- "$FASTMLP" gradcheck --config "$T/gc.yaml"
grep -q '^layer 1 (6x10 tanh)' "$T/out" && ok || bad "gradcheck did not take layers/activation from the file: $(cat "$T/out")"
# (info prints its own short help, without the option list.)
for c in train predict gradcheck; do
    expect 0 "" -- "$FASTMLP" $c --help
    grep -q -- '--config FILE' "$T/out" && ok || bad "$c --help lacks --config"
done
# --help never reads the file.
expect 0 "" -- "$FASTMLP" train --config "$T/missing.yaml" --help

# --- files that are fine --------------------------------------------------
yaml comments.yaml <<EOF
# only a comment

EOF
expect 0 "" -- "$FASTMLP" train --config "$T/comments.yaml" --train "$FM/train-images-idx3-ubyte.gz" \
    --train-labels "$FM/train-labels-idx1-ubyte.gz" --limit 100 --layers 4 --epochs 1 -q
expect 0 "" -- "$FASTMLP" train --config "$T/empty.yaml" --train "$FM/train-images-idx3-ubyte.gz" \
    --train-labels "$FM/train-labels-idx1-ubyte.gz" --limit 100 --layers 4 --epochs 1 -q
printf -- '---\n...\n' >"$T/doc.yaml"
expect 0 "" -- "$FASTMLP" info --config "$T/doc.yaml" "$T/m.mlp"

# --- bad files: exit code and the exact line -------------------------------
yaml unknown.yaml <<EOF
# options
lr: 0.01
lrr: 0.02
EOF
expect 64 "unknown.yaml:3: unknown key 'lrr'" -- "$FASTMLP" train --config "$T/unknown.yaml"
yaml notnum.yaml <<EOF
# line 1

epochs: 2
batch: 32
layers: [32]   # fine

lr: abc
EOF
expect 64 "notnum.yaml:7: key 'lr': 'abc' is not a number" -- "$FASTMLP" train --config "$T/notnum.yaml"
yaml negint.yaml <<EOF
epochs: -3
EOF
expect 64 "negint.yaml:1: key 'epochs': '-3' is not a non-negative integer" -- "$FASTMLP" train --config "$T/negint.yaml"
yaml flag.yaml <<EOF
lr: 0.1
nesterov: maybe
EOF
expect 64 "flag.yaml:2: key 'nesterov': 'maybe' is not true or false" -- "$FASTMLP" train --config "$T/flag.yaml"
yaml flaglist.yaml <<EOF
nesterov: [true]
EOF
expect 64 "flaglist.yaml:1: key 'nesterov'" -- "$FASTMLP" train --config "$T/flaglist.yaml"
yaml dup.yaml <<EOF
lr: 0.1
epochs: 2
lr: 0.2
EOF
expect 64 "dup.yaml:3: duplicate key 'lr' (first on line 1)" -- "$FASTMLP" train --config "$T/dup.yaml"
yaml nested.yaml <<EOF
lr: 0.1
optimizer:
  name: adam
EOF
expect 64 "nested.yaml:2: key 'optimizer': nested mappings are not supported" -- "$FASTMLP" train --config "$T/nested.yaml"
yaml nestedlist.yaml <<EOF
layers:
  - 16
  - [8]
EOF
expect 64 "nestedlist.yaml:3: key 'layers': a list may only hold plain values" -- "$FASTMLP" train --config "$T/nestedlist.yaml"
yaml seq.yaml <<EOF
- lr: 0.1
EOF
expect 64 "seq.yaml:1: the file must be a mapping" -- "$FASTMLP" train --config "$T/seq.yaml"
yaml scalar.yaml <<EOF
just some words
EOF
expect 64 "scalar.yaml:1: the file must be a mapping" -- "$FASTMLP" train --config "$T/scalar.yaml"
yaml syntax.yaml <<EOF
lr: 0.1
epochs: [1, 2
layers: 3
EOF
expect 64 "syntax.yaml:3:" -- "$FASTMLP" train --config "$T/syntax.yaml"
grep -qF "YAML syntax error" "$T/err" && ok || bad "syntax error message: $(cat "$T/err")"
yaml syntax2.yaml <<EOF
lr: 0.1
  epochs: 2
EOF
expect 64 "syntax2.yaml:2:9: YAML syntax error" -- "$FASTMLP" train --config "$T/syntax2.yaml"
yaml config.yaml <<EOF
epochs: 1
config: other.yaml
EOF
expect 64 "config.yaml:2: key 'config' is not allowed" -- "$FASTMLP" train --config "$T/config.yaml"
yaml help.yaml <<EOF
help: true
EOF
expect 64 "help.yaml:1: key 'help' is not allowed" -- "$FASTMLP" train --config "$T/help.yaml"
yaml novalue.yaml <<EOF
epochs: 1
lr:
EOF
expect 64 "novalue.yaml:2: key 'lr' has no value" -- "$FASTMLP" train --config "$T/novalue.yaml"
yaml alias.yaml <<EOF
a: &x 1
lr: *x
EOF
expect 64 "alias.yaml:2: key 'lr': aliases are not supported" -- "$FASTMLP" train --config "$T/alias.yaml"
yaml twodocs.yaml <<EOF
lr: 0.1
---
lr: 0.2
EOF
expect 64 "twodocs.yaml:2: more than one YAML document" -- "$FASTMLP" train --config "$T/twodocs.yaml"
yaml dashes.yaml <<EOF
--lr: 0.1
EOF
expect 64 "dashes.yaml:1: unknown key '--lr'" -- "$FASTMLP" train --config "$T/dashes.yaml"
# A key of another command is unknown here.
yaml other.yaml <<EOF
epochs: 1
tolerance: 1e-6
EOF
expect 64 "other.yaml:2: unknown key 'tolerance'" -- "$FASTMLP" train --config "$T/other.yaml"
expect 66 "missing.yaml: cannot open" -- "$FASTMLP" train --config "$T/missing.yaml"
mkdir "$T/adir"
expect 66 "cannot open: Is a directory" -- "$FASTMLP" train --config "$T/adir"
expect 64 "option '--config' needs FILE" -- "$FASTMLP" train --config
expect 64 "option '--config' needs FILE" -- "$FASTMLP" train --config=
expect 64 "given more than once" -- "$FASTMLP" train --config "$T/empty.yaml" --config "$T/empty.yaml"

echo "config: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
