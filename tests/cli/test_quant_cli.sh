#!/bin/sh
# SPDX-License-Identifier: MIT
# Reduced precision on the command line: `eval --quantize` prints the model's
# and the quantised model's figures and their difference (text and JSON,
# consistent with each other), FASTMLP_ISA=portable gives the same int8
# results through the portable kernels, `predict --quantize` mostly agrees
# with the model, `bench quick -p bf16|int8` (and the YAML file) run with a
# numerical check, and bad flags give one stderr line and the documented
# exit code.  Small sizes: nothing here is timed.
set -u
FASTMLP=$1
FM=${FASTMLP_FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/../support/lib.sh"

# --- the kernels in use, and FASTMLP_ISA's cap ------------------------------
expect 0 "" -- "$FASTMLP" --version
has '^inference kernels: f32 (avx512f|avx2|portable), bf16 [a-z0-9-]+, int8 [a-z0-9-]+$'
expect 0 "" -- env FASTMLP_ISA=portable "$FASTMLP" --version
has '^inference kernels: f32 portable, bf16 portable, int8 portable$'
# on a CPU with AVX2, --isa avx2 runs the AVX2 kernels (int8: AVX-VNNI's where the CPU has it)
if "$FASTMLP" --isa avx2 --version >/dev/null 2>&1; then
    expect 0 "" -- "$FASTMLP" --isa avx2 --version
    has '^inference kernels: f32 avx2, bf16 avx2, int8 (avx2|avx-vnni)$'
    expect 0 "" -- "$FASTMLP" --isa avx2 bench quick -p int8 -n 1 -l 2 -d 33 -a tanh -t 1
    has '^kernel: (avx2|avx-vnni) \(int8 weights\)$'
fi

# --- bench quick and its YAML file (no data needed) ----------------------
for p in bf16 b2 int8 i1 f32; do
    expect 0 "" -- "$FASTMLP" bench quick -p $p -n 2 -l 3 -d 70 -a sigmoid -t 1 -e 0.05
    has '^Total time for 2 run\(s\) was [0-9]+\.[0-9]{6} ms$'
    has '^kernel: (avx512-bf16|avx512-vnni|avx512bw|avx512f|avx-vnni|avx2|neon-bf16|neon-i8mm|neon-dotprod|neon|portable) \((f32|bf16|int8) weights\)$'
    has '^epsilon 0.05: ok$'
done
expect 0 "" -- env FASTMLP_ISA=portable "$FASTMLP" bench quick -p int8 -n 1 -l 2 -d 33 -a tanh -t 1
has '^kernel: portable \(int8 weights\)$'
# int8 through 30 sigmoid layers of 1024 stays within 5e-3 of the f64 pass
expect 0 "" -- "$FASTMLP" bench quick -p int8 -n 1 -l 30 -d 1024 -a sigmoid -t 1 -e 5e-3
expect 64 "is not one of f32 f64 f4 f8 bf16 b2 int8 i1" -- "$FASTMLP" bench quick -p f16 -n 1 -l 1 -d 8 -a sigmoid
cat >"$T/b.yaml" <<'EOF'
version: 1
benchmark:
  nepochs: 2
shape:
  layers: 2
  dimension: 40
math:
  precision: bf16
  epsilons: [0.05]
  activation: tanh
EOF
expect 0 "" -- "$FASTMLP" bench --config "$T/b.yaml"
has '^bench unnamed .*: bf16, 2 layer'
has '^epsilon 0.05: ok$'

# --- eval and predict on a small Fashion-MNIST model ----------------------
if [ ! -f "$FM/t10k-images-idx3-ubyte.gz" ]; then
    echo "Fashion-MNIST not found in $FM: eval/predict checks skipped"
    echo "quant cli: $pass passed, $fail failed"
    [ "$fail" -eq 0 ]
    exit
fi
TX=$FM/t10k-images-idx3-ubyte.gz
TY=$FM/t10k-labels-idx1-ubyte.gz
"$FASTMLP" train --train "$FM/train-images-idx3-ubyte.gz" --train-labels "$FM/train-labels-idx1-ubyte.gz" \
    --limit 3000 --epochs 2 --layers 48,24 --seed 5 --threads 1 -q -o "$T/m.mlp" >"$T/train.out" 2>"$T/train.err"
rc=$?
[ $rc -eq 0 ] && ok || bad "train exited $rc: $(cat "$T/train.err")"

expect 0 "" -- "$FASTMLP" eval "$T/m.mlp" "$TX" --labels "$TY" --quantize int8
has '^quantized int8 \(kernel [a-z0-9-]+, per-sample activation ranges\)$'
has '^accuracy  0\.[0-9]{4}  \(model 0\.[0-9]{4}, [+-][0-9]+\.[0-9]{2} percentage points\)$'
has '^loss      [0-9.]+  \(model [0-9.]+, [+-][0-9.]+\)$'

# JSON: the quantised block, its difference in percentage points, and the
# model's figures unchanged by --quantize
expect 0 "" -- "$FASTMLP" eval "$T/m.mlp" "$TX" --labels "$TY" --json
cp "$T/out" "$T/plain.json"
for q in int8 bf16; do
    expect 0 "" -- "$FASTMLP" eval "$T/m.mlp" "$TX" --labels "$TY" --json --quantize $q
    cp "$T/out" "$T/$q.json"
done
expect 0 "" -- env FASTMLP_ISA=portable "$FASTMLP" eval "$T/m.mlp" "$TX" --labels "$TY" --json --quantize int8
cp "$T/out" "$T/portable.json"
expect 0 "" -- "$FASTMLP" eval "$T/m.mlp" "$TX" --labels "$TY" --json --quantize i1 --calib "$TX"
cp "$T/out" "$T/calib.json"
python3 - "$T" <<'EOF' && ok || bad "eval --json --quantize: $(head -c 400 "$T/int8.json")"
import json, sys
d = sys.argv[1]
plain = json.load(open(d + "/plain.json"))
assert "quantized" not in plain
for name, qtype, calibrated in (("int8", "int8", False), ("bf16", "bf16", False), ("calib", "int8", True)):
    e = json.load(open("%s/%s.json" % (d, name)))
    q = e["quantized"]
    assert e["accuracy"] == plain["accuracy"] and e["loss"] == plain["loss"], "the model's figures changed"
    assert q["type"] == qtype and q["calibrated"] == calibrated, q
    assert abs(q["accuracy_diff_pp"] - 100 * (q["accuracy"] - e["accuracy"])) < 1e-9, q
    assert abs(q["loss_diff"] - (q["loss"] - e["loss"])) < 1e-12, q
    # a small net, 10000 test images: within 1 point either way
    assert abs(q["accuracy_diff_pp"]) <= 1.0, q
port = json.load(open(d + "/portable.json"))["quantized"]
nat = json.load(open(d + "/int8.json"))["quantized"]
assert port["kernel"] == "portable", port
# exact integer sums and the same epilogue in every int8 kernel (test_quant
# checks their bits), but FASTMLP_ISA=portable also swaps the activations'
# and the softmax's exp kernels (libmvec, FMAs): the same figures to within
# their rounding, an input's quantisation at most rarely one step off
assert abs(port["loss"] - nat["loss"]) <= 1e-6 * nat["loss"], (port, nat)
assert abs(port["accuracy"] - nat["accuracy"]) <= 3e-4, (port, nat)
EOF

expect 0 "" -- "$FASTMLP" predict "$T/m.mlp" "$TX" --quantize int8 -o "$T/q.csv"
expect 0 "" -- "$FASTMLP" predict "$T/m.mlp" "$TX" -o "$T/p.csv"
python3 - "$T/q.csv" "$T/p.csv" <<'EOF' && ok || bad "predict --quantize disagrees with predict"
import sys
q = [l.split(",") for l in open(sys.argv[1]).read().split("\n")[1:] if l]
p = [l.split(",") for l in open(sys.argv[2]).read().split("\n")[1:] if l]
assert len(q) == len(p) == 10000
same = sum(a[1] == b[1] for a, b in zip(q, p))
assert same >= 9900, same
assert max(abs(float(x) - float(y)) for a, b in zip(q, p) for x, y in zip(a[2:], b[2:])) < 0.1
EOF

# --- bad flags --------------------------------------------------------------
expect 64 "--quantize 'f64' is not one of" -- "$FASTMLP" eval "$T/m.mlp" "$TX" --labels "$TY" --quantize f64
expect 64 "--calib needs --quantize int8" -- "$FASTMLP" eval "$T/m.mlp" "$TX" --labels "$TY" --quantize bf16 --calib "$TX"
expect 64 "--calib needs --quantize int8" -- "$FASTMLP" eval "$T/m.mlp" "$TX" --labels "$TY" --calib "$TX"
expect 66 "nonexistent" -- "$FASTMLP" eval "$T/m.mlp" "$TX" --labels "$TY" --quantize int8 --calib "$T/nonexistent.idx"
printf '1,2,3\n4,5,6\n' >"$T/narrow.csv"
expect 65 "has 2 columns besides the label, the model expects 784 inputs" -- \
    "$FASTMLP" eval "$T/m.mlp" "$TX" --labels "$TY" --quantize int8 --calib "$T/narrow.csv"
expect 64 "--quantize 'int4' is not one of" -- "$FASTMLP" predict "$T/m.mlp" "$TX" --quantize int4
expect 0 "" -- "$FASTMLP" eval --help
has '--quantize'
has '--calib'
expect 0 "" -- "$FASTMLP" predict --help
has '--quantize'

echo "quant cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
