#!/bin/sh
# SPDX-License-Identifier: MIT
# fastmlp bench infer: on a tiny model trained here from a generated CSV, the
# throughput, accuracy and latency lines and the RESULT line (every key, the
# percentiles in order); each bad usage gives its documented exit code and
# one stderr line.  Small sizes: this checks behaviour, it times nothing.
set -u
FASTMLP=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/../support/lib.sh"

# 300 rows, label then 4 features; the class is the largest of the first
# three features, which a small network learns well above chance (1/3).
awk 'BEGIN { srand(7); for (i = 0; i < 300; i++) {
    a = rand(); b = rand(); c = rand(); d = rand()
    y = (a >= b && a >= c) ? 0 : (b >= c ? 1 : 2)
    printf "%d,%.4f,%.4f,%.4f,%.4f\n", y, a, b, c, d } }' >"$T/d.csv"
# the same rows with one more feature: a width the model does not take
awk -F, '{ print $0 ",0.5" }' "$T/d.csv" >"$T/wide.csv"
# and without the labels
cut -d, -f2- "$T/d.csv" >"$T/x.csv"
head -c 200 /dev/urandom >"$T/junk.mlp"

expect 0 "" -- "$FASTMLP" train --train "$T/d.csv" --layers 16 --epochs 30 --lr 0.01 --batch 16 --threads 1 -q \
    -o "$T/m.mlp"

num='[0-9]+(\.[0-9]+)?'
expect 0 "" -- "$FASTMLP" bench infer --model "$T/m.mlp" --data "$T/d.csv" --runs 3 --latency-rows 50 --threads 1
has "^bench infer: .*m\.mlp \(4-16-3 relu, softmax-ce, f32, [0-9]+ parameters\) on .*d\.csv: 300 rows, 1 thread\(s\)$"
has "^throughput: $num ms per pass over 300 rows \(best of 3, after 1 untimed\), [0-9]+ rows/s$"
has "^accuracy: [01]\.[0-9]{4} \([0-9]+ of 300 right\)$"
has "^latency: batch 1 over 50 rows \(after 1 untimed sweep\): median $num us, p90 $num us, p99 $num us, mean $num us"
has "^BLAS: "
has "^RESULT infer rows=300 threads=1 rows_per_s=[0-9]+ ms_per_pass=$num accuracy=[01]\.[0-9]{4} latency_rows=50 latency_us_median=$num latency_us_p90=$num latency_us_p99=$num latency_us_mean=$num weights=model$"
# the RESULT line is the last, its figures positive, the percentiles in order,
# and the accuracy that of a model that learned something
if tail -n 1 "$T/out" | awk '{
        for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] + 0 }
        exit !($1 == "RESULT" && v["rows_per_s"] > 0 && v["ms_per_pass"] > 0 && v["latency_us_median"] > 0 &&
               v["latency_us_median"] <= v["latency_us_p90"] && v["latency_us_p90"] <= v["latency_us_p99"] &&
               v["accuracy"] > 0.6) }'; then ok; else bad "RESULT line: $(tail -n 1 "$T/out")"; fi

# more latency rows than data rows: all of them; no labels: no accuracy;
# defaults (--runs 5, all cores)
expect 0 "" -- "$FASTMLP" bench infer --model "$T/m.mlp" --data "$T/d.csv" --latency-rows 100000
has "^latency: batch 1 over 300 rows"
has "best of 5,"
expect 0 "" -- "$FASTMLP" bench infer --model "$T/m.mlp" --data "$T/x.csv" --label-col none --data-format csv \
    --latency-rows 10 --runs 1
hasnt "^accuracy"
has "^RESULT infer rows=300 .*ms_per_pass=$num latency_rows=10 "
hasnt "accuracy="

# help, and bench's own help naming the subcommand
# the inference engine's weights (--quantize): same rows, its own kernel
for q in f32 bf16 int8; do
    expect 0 "" -- "$FASTMLP" bench infer --model "$T/m.mlp" --data "$T/d.csv" --runs 1 --latency-rows 20 --threads 1 \
        --quantize $q
    has "^bench infer: .* 300 rows, 1 thread\(s\), quantised: $q weights, kernel [a-z0-9-]+$"
    has "^RESULT infer rows=300 threads=1 rows_per_s=[0-9]+ .*accuracy=[01]\.[0-9]{4} .* weights=$q$"
done
expect 64 "unknown type 'int4'" -- "$FASTMLP" bench infer --model "$T/m.mlp" --data "$T/d.csv" --quantize int4

expect 0 "" -- "$FASTMLP" bench infer --help
has "latency-rows"
expect 0 "" -- "$FASTMLP" bench --help
has "bench infer --model FILE --data FILE"

# bad usages: 64 for the command line, 66 for a file that cannot be
# opened, 65 for data that does not fit the model or a malformed model
expect 64 "option '--model' is required" -- "$FASTMLP" bench infer --data "$T/d.csv"
expect 64 "option '--data' is required" -- "$FASTMLP" bench infer --model "$T/m.mlp"
expect 64 "'--runs'" -- "$FASTMLP" bench infer --model "$T/m.mlp" --data "$T/d.csv" --runs 0
expect 64 "'--runs'" -- "$FASTMLP" bench infer --model "$T/m.mlp" --data "$T/d.csv" --runs x
expect 64 "'--latency-rows'" -- "$FASTMLP" bench infer --model "$T/m.mlp" --data "$T/d.csv" --latency-rows 0
expect 64 "'--threads'" -- "$FASTMLP" bench infer --model "$T/m.mlp" --data "$T/d.csv" --threads -1
expect 64 "unknown option '--bogus'" -- "$FASTMLP" bench infer --model "$T/m.mlp" --data "$T/d.csv" --bogus
expect 64 "unexpected argument" -- "$FASTMLP" bench infer --model "$T/m.mlp" --data "$T/d.csv" extra
expect 64 "unknown format" -- "$FASTMLP" bench infer --model "$T/m.mlp" --data "$T/d.csv" --data-format xls
expect 66 "$T/none.mlp" -- "$FASTMLP" bench infer --model "$T/none.mlp" --data "$T/d.csv"
expect 66 "$T/none.csv" -- "$FASTMLP" bench infer --model "$T/m.mlp" --data "$T/none.csv"
expect 65 "6 columns, but the model was trained on a table of 5 (one fewer without its label column)" -- \
    "$FASTMLP" bench infer --model "$T/m.mlp" --data "$T/wide.csv"
expect 65 "" -- "$FASTMLP" bench infer --model "$T/junk.mlp" --data "$T/d.csv"
hasnt "^RESULT"

echo "test_bench_infer: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
