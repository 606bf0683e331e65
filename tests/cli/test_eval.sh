#!/bin/sh
# SPDX-License-Identifier: MIT
# `fastmlp eval` and `predict --format jsonl` as a user drives them: the
# figures agree with each other (confusion rows sum to the supports,
# accuracy is the trace over n, the same accuracy train reported), JSON
# parses, and bad input gives one stderr line, the documented exit code and
# no file left behind.
set -u
BUILD=$1
FASTMLP=$BUILD/fastmlp
FM=${FASTMLP_FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
D=${FASTMLP_DATA_DIR:-$(dirname "$0")/../data}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/../support/lib.sh"

if ! command -v python3 >/dev/null 2>&1; then
    echo "FAIL: python3 is needed to check the JSON output"
    echo "eval: 0 passed, 1 failed"
    exit 1
fi

TX=$FM/t10k-images-idx3-ubyte.gz
TY=$FM/t10k-labels-idx1-ubyte.gz
"$FASTMLP" train --train "$FM/train-images-idx3-ubyte.gz" --train-labels "$FM/train-labels-idx1-ubyte.gz" \
    --test "$TX" --test-labels "$TY" --limit 2000 --epochs 2 --layers 32 --seed 5 --threads 1 \
    -o "$T/m.mlp" >"$T/train.out" 2>"$T/train.err"
rc=$?
[ $rc -eq 0 ] && ok || bad "train exited $rc: $(cat "$T/train.err")"

# The JSON object: keys, and figures consistent with one another and with train's.
expect 0 "" -- "$FASTMLP" eval "$T/m.mlp" "$TX" --labels "$TY" --json
cp "$T/out" "$T/eval.json"
train_acc=$(sed -n 's/^test accuracy \([0-9.]*\).*/\1/p' "$T/train.out")
python3 - "$T/eval.json" "$train_acc" <<'EOF' && ok || bad "eval --json: $(cat "$T/eval.json" | head -c 600)"
import json, sys
doc = open(sys.argv[1]).read()
assert doc.count("\n") == 1, "expected one line"
e = json.loads(doc)
for k in ("loss", "accuracy", "n", "confusion", "per_class", "macro_f1"):
    assert k in e, "missing key " + k
n, cm, pc = e["n"], e["confusion"], e["per_class"]
K = len(cm)
assert n == 10000 and K == 10 and all(len(r) == K for r in cm), "shape"
assert sum(map(sum, cm)) == n, "matrix total != n"
trace = sum(cm[k][k] for k in range(K))
assert abs(e["accuracy"] - trace / n) < 1e-12, "accuracy != trace/n"
assert len(pc) == K
for k, c in enumerate(pc):
    assert c["class"] == k
    assert c["support"] == sum(cm[k]) == 1000, "row sum != support"
    pred = sum(cm[j][k] for j in range(K))
    p = cm[k][k] / pred if pred else 0.0
    r = cm[k][k] / c["support"]
    f = 2 * p * r / (p + r) if p + r else 0.0
    assert abs(c["precision"] - p) < 1e-12 and abs(c["recall"] - r) < 1e-12 and abs(c["f1"] - f) < 1e-12, c
assert abs(e["macro_f1"] - sum(c["f1"] for c in pc) / K) < 1e-12, "macro_f1"
assert 0 < e["loss"] < 5, "loss"
# the same model on the same test set: train's summary line says the same
assert "%.4f" % e["accuracy"] == sys.argv[2], "train said %s, eval %.6f" % (sys.argv[2], e["accuracy"])
EOF

# The readable form: a summary, the matrix and the per-class table.
expect 0 "" -- "$FASTMLP" eval "$T/m.mlp" "$TX" --labels "$TY"
grep -q "^accuracy  $train_acc" "$T/out" && grep -q "^confusion matrix" "$T/out" && grep -q "^ *macro " "$T/out" &&
    [ "$(grep -c '^ *[0-9] ' "$T/out")" -ge 20 ] && ok || bad "eval table: $(cat "$T/out")"

# Bad command lines and data.
expect 64 "--labels FILE" -- "$FASTMLP" eval "$T/m.mlp" "$TX"
expect 64 "expected MODEL and DATA" -- "$FASTMLP" eval "$T/m.mlp"
expect 64 "unknown option" -- "$FASTMLP" eval "$T/m.mlp" "$TX" --labels "$TY" --bogus
expect 65 "columns" -- "$FASTMLP" eval "$T/m.mlp" "$D/galaxy_test.csv"
expect 65 "columns" -- "$FASTMLP" eval "$T/m.mlp" "$TY"
expect 65 "mismatch" -- "$FASTMLP" eval "$T/m.mlp" "$TX" --labels "$FM/train-labels-idx1-ubyte.gz"
expect 66 "cannot open" -- "$FASTMLP" eval "$T/none.mlp" "$TX" --labels "$TY"
expect 66 "cannot open" -- "$FASTMLP" eval "$T/m.mlp" "$T/none.gz" --labels "$TY"
# A report that cannot be created: 73 and nothing left behind; an old one survives a failed run.
expect 73 "cannot create" -- "$FASTMLP" eval "$T/m.mlp" "$TX" --labels "$TY" --report "$T/no/dir/r.html"
[ ! -e "$T/no" ] && ok || bad "a failed --report left something behind"
mkdir "$T/adir"
expect 73 "is a directory" -- "$FASTMLP" eval "$T/m.mlp" "$TX" --labels "$TY" --report "$T/adir"
echo keep >"$T/keep.html"
expect 65 "columns" -- "$FASTMLP" eval "$T/m.mlp" "$D/galaxy_test.csv" --report "$T/keep.html"
[ "$(cat "$T/keep.html")" = keep ] && ok || bad "a failed eval changed its report file"
[ -z "$(ls "$T" | grep '\.tmp\.')" ] && ok || bad "temporary files left: $(ls "$T")"

# Seed 001's galaxies (CSV, 3 classes, sigmoid-bce) and a two-class one-output model (seed 000's cats).
expect 0 "" -- "$FASTMLP" train --train "$D/galaxy_test.csv" --layers 8 --activation sigmoid --head sigmoid-bce \
    --optimizer gd --lr 1 --epochs 20 --dtype f64 --standardize -q -o "$T/g.mlp"
expect 0 "" -- "$FASTMLP" eval "$T/g.mlp" "$D/galaxy_test.csv" --json
python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))
assert e["n"] == 675 and len(e["confusion"]) == 3 and sum(map(sum, e["confusion"])) == 675
' "$T/out" && ok || bad "galaxy eval: $(cat "$T/out")"
expect 0 "" -- "$FASTMLP" train --train "$D/train_catvnoncat.h5" --layers none --head sigmoid-bce --init zeros \
    --optimizer gd --lr 0.005 --epochs 50 --dtype f64 -q -o "$T/cat.mlp"
expect 0 "" -- "$FASTMLP" eval "$T/cat.mlp" "$D/test_catvnoncat.h5" --json
python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))
cm = e["confusion"]
assert e["n"] == 50 and len(cm) == 2 and abs(e["accuracy"] - (cm[0][0] + cm[1][1]) / 50) < 1e-12
' "$T/out" && ok || bad "cat eval (one output, two classes): $(cat "$T/out")"

# Regression (real targets): loss, MSE and R^2, no classes.
python3 -c '
import random
random.seed(1)
print("y,a,b,c")
for i in range(300):
    a, b, c = [random.uniform(-1, 1) for _ in range(3)]
    print("%.6f,%.6f,%.6f,%.6f" % (2 * a - b + 0.5 * c + 0.1 * random.gauss(0, 1), a, b, c))
' >"$T/reg.csv"
expect 0 "" -- "$FASTMLP" train --train "$T/reg.csv" --targets --head identity-mse --layers 8 --epochs 30 --lr 0.01 \
    -q -o "$T/reg.mlp"
expect 0 "" -- "$FASTMLP" eval "$T/reg.mlp" "$T/reg.csv" --targets --json
python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))
assert set(e) >= {"n", "loss", "mse", "r2"} and "confusion" not in e
assert e["n"] == 300 and abs(e["mse"] - 2 * e["loss"]) < 1e-9 and 0.8 < e["r2"] <= 1
' "$T/out" && ok || bad "regression eval: $(cat "$T/out")"
expect 0 "" -- "$FASTMLP" eval "$T/reg.mlp" "$T/reg.csv" --targets
grep -q "^r2 " "$T/out" && ok || bad "regression table lacks r2: $(cat "$T/out")"

# predict --format jsonl: one object per row, the same classes as the CSV.
expect 0 "" -- "$FASTMLP" predict "$T/m.mlp" "$TX" --labels "$TY" -o "$T/p.csv"
expect 0 "" -- "$FASTMLP" predict "$T/m.mlp" "$TX" --labels "$TY" --format jsonl -o "$T/p.jsonl"
python3 - "$T/p.csv" "$T/p.jsonl" <<'EOF' && ok || bad "predict jsonl: $(head -2 "$T/p.jsonl")"
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
objs = [json.loads(l) for l in open(sys.argv[2])]
assert len(objs) == len(rows) == 10000
for r, o in zip(rows, objs):
    assert set(o) == {"row", "class", "label", "p"}, o
    assert o["row"] == int(r["row"]) and o["class"] == int(r["class"]) and o["label"] == int(r["label"])
    assert len(o["p"]) == 10 and max(range(10), key=lambda k: o["p"][k]) == o["class"]
    assert all(abs(o["p"][k] - float(r["p%d" % k])) <= 1e-9 for k in range(10))
    assert abs(sum(o["p"]) - 1) < 1e-5
EOF
expect 0 "" -- "$FASTMLP" predict "$T/m.mlp" "$TX" --format jsonl
[ "$(wc -l <"$T/out")" -eq 10000 ] && ! grep -q '"label"' "$T/out" && ok || bad "jsonl to stdout without labels"
expect 0 "" -- "$FASTMLP" predict "$T/m.mlp" "$TX" --format csv -o "$T/p2.csv"
head -1 "$T/p2.csv" | grep -q '^row,class,p0,' && ok || bad "--format csv header: $(head -1 "$T/p2.csv")"
expect 64 "--format 'xml'" -- "$FASTMLP" predict "$T/m.mlp" "$TX" --format xml
expect 73 "cannot create" -- "$FASTMLP" predict "$T/m.mlp" "$TX" --format jsonl -o "$T/no/dir/p.jsonl"
# Standard output that cannot be written: 74.
if [ -w /dev/full ]; then
    "$FASTMLP" predict "$T/m.mlp" "$TX" --format jsonl >/dev/full 2>"$T/err"
    [ $? -eq 74 ] && grep -q "standard output" "$T/err" && ok || bad "predict jsonl to a full disk: $(cat "$T/err")"
    "$FASTMLP" eval "$T/m.mlp" "$TX" --labels "$TY" --json >/dev/full 2>"$T/err"
    [ $? -eq 74 ] && grep -q "standard output" "$T/err" && ok || bad "eval --json to a full disk: $(cat "$T/err")"
    "$FASTMLP" eval "$T/m.mlp" "$TX" --labels "$TY" --report - >/dev/full 2>"$T/err"
    [ $? -eq 74 ] && grep -q "standard output" "$T/err" && ok || bad "eval --report - to a full disk: $(cat "$T/err")"
fi
expect 0 "" -- "$FASTMLP" eval --help
grep -q -- "--report" "$T/out" && grep -q -- "--json" "$T/out" && ok || bad "eval --help: $(cat "$T/out")"

echo "eval: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
