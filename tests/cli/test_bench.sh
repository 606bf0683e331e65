#!/bin/sh
# SPDX-License-Identifier: MIT
# fastmlp bench (seed 003's benchmark tool): `bench quick` prints seed 003's
# "Total time" line and the throughput lines; bad flags exit 64; `bench
# --config` reads the nested version-1 YAML, and each kind of bad file gives
# exit 64 with the file, the line and the key path (66 for a missing file).
# Small sizes only: this checks behaviour, it times nothing.
set -u
FASTMLP=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/../support/lib.sh"

# --- bench quick ----------------------------------------------------------
expect 0 "" -- "$FASTMLP" bench quick -p f4 -n 5 -l 10 -d 256 -a sigmoid
has '^Total time for 5 run\(s\) was [0-9]+\.[0-9]{6} ms$'
has '^weights streamed: [0-9]+\.[0-9]+ GB/s'
has '^compute: [0-9]+\.[0-9]+ GFLOP/s'
has '^memory bandwidth \(measured, read, .*GB/s; this run: [0-9]+% of it$'
has '^BLAS: '
has 'floating-point exceptions in the timed runs: none$'

expect 0 "" -- "$FASTMLP" bench quick --precision f8 --nepochs 3 --layers 4 --dimension 64 --activation tanh -t 1 -e 1e-12
has '^Total time for 3 run\(s\) was [0-9]+\.[0-9]{6} ms$'
has '^bench quick: f8, 4 layer\(s\) of 64x64 tanh, batch 1, 3 run\(s\), 1 thread\(s\)'
has '^epsilon 1e-12: ok$'
expect 0 "" -- "$FASTMLP" bench quick -p f64 -n 1 -l 1 -d 1 -a sigmoid
has '^Total time for 1 run\(s\) was'
expect 0 "" -- "$FASTMLP" bench quick -p f32 -n 2 -l 3 -d 32 -a tanh --seed 7
has '^Total time for 2 run\(s\) was'
expect 1 "numerical check failed" -- "$FASTMLP" bench quick -p f32 -n 2 -l 3 -d 64 -a sigmoid -e 1e-30

expect 0 "" -- "$FASTMLP" bench quick --help
has 'nepochs'
expect 0 "" -- "$FASTMLP" bench --help
has 'version: 1'

expect 64 "option '--nepochs' is required" -- "$FASTMLP" bench quick -p f4 -l 10 -d 256 -a sigmoid
expect 64 "option '--precision' is required" -- "$FASTMLP" bench quick -n 5 -l 10 -d 256 -a sigmoid
expect 64 "option '--layers' is required" -- "$FASTMLP" bench quick -p f4 -n 5 -d 256 -a sigmoid
expect 64 "option '--dimension' is required" -- "$FASTMLP" bench quick -p f4 -n 5 -l 10 -a sigmoid
expect 64 "option '--activation' is required" -- "$FASTMLP" bench quick -p f4 -n 5 -l 10 -d 256
expect 64 "'f16' is not one of f32 f64 f4 f8" -- "$FASTMLP" bench quick -p f16 -n 5 -l 10 -d 256 -a sigmoid
expect 64 "'relu' is not one of sigmoid tanh" -- "$FASTMLP" bench quick -p f4 -n 5 -l 10 -d 256 -a relu
expect 64 "option '--nepochs': '0'" -- "$FASTMLP" bench quick -p f4 -n 0 -l 10 -d 256 -a sigmoid
expect 64 "option '--nepochs': '-3'" -- "$FASTMLP" bench quick -p f4 -n -3 -l 10 -d 256 -a sigmoid
expect 64 "option '--layers': 'x'" -- "$FASTMLP" bench quick -p f4 -n 5 -l x -d 256 -a sigmoid
expect 64 "option '--dimension': '0'" -- "$FASTMLP" bench quick -p f4 -n 5 -l 10 -d 0 -a sigmoid
expect 64 "option '--threads': '-1'" -- "$FASTMLP" bench quick -p f4 -n 5 -l 10 -d 256 -a sigmoid -t -1
expect 64 "option '--epsilon': '0'" -- "$FASTMLP" bench quick -p f4 -n 5 -l 10 -d 256 -a sigmoid -e 0
expect 64 "unknown option '--bogus'" -- "$FASTMLP" bench quick -p f4 -n 5 -l 10 -d 256 -a sigmoid --bogus
expect 64 "needs" -- "$FASTMLP" bench quick -p f4 -n 5 -l 10 -d 256 -a
expect 64 "expected 'quick' or '--config FILE'" -- "$FASTMLP" bench
expect 64 "unexpected argument 'slow'" -- "$FASTMLP" bench slow

# --- bench --config -------------------------------------------------------
cat >"$T/bench.yaml" <<'EOF'
version: 1
benchmark:
  name: my-bench
  nepochs: 3
shape:
  layers: 4
  dimension: 64
math:
  precision: f32
  epsilons: [1e-6, 1e-3]
  activation: sigmoid
performance:
  threads: 1
EOF
expect 0 "" -- "$FASTMLP" bench --config "$T/bench.yaml"
has '^bench my-bench \(.*bench.yaml\): f32, 4 layer\(s\) of 64x64 sigmoid, batch 1, 3 run\(s\), 1 thread\(s\)'
has '^Total time for 3 run\(s\) was [0-9]+\.[0-9]{6} ms$'
has '^epsilon 1e-06: ok$'
has '^epsilon 0.001: ok$'
expect 0 "" -- "$FASTMLP" bench --config="$T/bench.yaml"

# variant NAME SED: bench.yaml edited by a sed script, into $T/NAME
variant() { sed "$2" "$T/bench.yaml" >"$T/$1"; }

variant scalar_eps.yaml 's/\[1e-6, 1e-3\]/1e-6/'
expect 0 "" -- "$FASTMLP" bench --config "$T/scalar_eps.yaml"
has '^epsilon 1e-06: ok$'
variant f8.yaml 's/f32/f8/; s/sigmoid/tanh/'
expect 0 "" -- "$FASTMLP" bench --config "$T/f8.yaml"
has 'f8, 4 layer\(s\) of 64x64 tanh'
variant noperf.yaml '/performance/d; /threads/d'
expect 0 "" -- "$FASTMLP" bench --config "$T/noperf.yaml"
variant noname.yaml '/name:/d; /epsilons/d'
expect 0 "" -- "$FASTMLP" bench --config "$T/noname.yaml"

variant unknown.yaml 's/  layers: 4/  layerz: 4/'
expect 64 "unknown.yaml:6: unknown key 'shape.layerz'" -- "$FASTMLP" bench --config "$T/unknown.yaml"
variant unknown_top.yaml '$a\
extra: 1'
expect 64 "unknown_top.yaml:14: unknown key 'extra'" -- "$FASTMLP" bench --config "$T/unknown_top.yaml"
variant prec.yaml 's/f32/f16/'
expect 64 "prec.yaml:9: math.precision: 'f16' is not one of f32 f64 f4 f8" -- "$FASTMLP" bench --config "$T/prec.yaml"
variant act.yaml 's/sigmoid/relu/'
expect 64 "act.yaml:11: math.activation: 'relu' is not one of sigmoid tanh" -- "$FASTMLP" bench --config "$T/act.yaml"
variant nep.yaml 's/nepochs: 3/nepochs: many/'
expect 64 "nep.yaml:4: benchmark.nepochs: 'many'" -- "$FASTMLP" bench --config "$T/nep.yaml"
variant dim.yaml 's/dimension: 64/dimension: 0/'
expect 64 "dim.yaml:7: shape.dimension: '0'" -- "$FASTMLP" bench --config "$T/dim.yaml"
variant thr.yaml 's/threads: 1/threads: -2/'
expect 64 "thr.yaml:13: performance.threads: '-2'" -- "$FASTMLP" bench --config "$T/thr.yaml"
variant v2.yaml 's/version: 1/version: 2/; s/layers/layerz/'
expect 64 "v2.yaml:1: version 2 not supported (this build reads version 1)" -- "$FASTMLP" bench --config "$T/v2.yaml"
variant v0.yaml 's/version: 1/version: one/'
expect 64 "v0.yaml:1: version: 'one'" -- "$FASTMLP" bench --config "$T/v0.yaml"
variant nover.yaml '/version/d'
expect 64 "missing required key 'version'" -- "$FASTMLP" bench --config "$T/nover.yaml"
variant nodim.yaml '/dimension/d'
expect 64 "nodim.yaml:5: shape: missing required key 'shape.dimension'" -- "$FASTMLP" bench --config "$T/nodim.yaml"
variant noshape.yaml '/shape/d; /layers/d; /dimension/d'
expect 64 "missing required key 'shape'" -- "$FASTMLP" bench --config "$T/noshape.yaml"
variant eps.yaml 's/\[1e-6, 1e-3\]/[1e-6, -1]/'
expect 64 "eps.yaml:10: math.epsilons: '-1' is not a positive finite number" -- "$FASTMLP" bench --config "$T/eps.yaml"
variant eps2.yaml 's/\[1e-6, 1e-3\]/inf/'
expect 64 "eps2.yaml:10: math.epsilons: 'inf' is not a positive finite number" -- "$FASTMLP" bench --config "$T/eps2.yaml"
variant eps3.yaml 's/\[1e-6, 1e-3\]/{a: 1}/'
expect 64 "eps3.yaml:10: math.epsilons must be a single value, not a mapping" -- "$FASTMLP" bench --config "$T/eps3.yaml"
variant syntax.yaml 's/\[1e-6, 1e-3\]/[1e-6, 1e-3/'
expect 64 "syntax.yaml:11:" -- "$FASTMLP" bench --config "$T/syntax.yaml"
grep -q "YAML syntax error" "$T/err" && ok || bad "syntax error not named: $(cat "$T/err")"
variant dup.yaml 's/  dimension: 64/  dimension: 64\n  layers: 5/'
expect 64 "dup.yaml:8: duplicate key 'shape.layers' (first on line 6)" -- "$FASTMLP" bench --config "$T/dup.yaml"
variant flat.yaml '/layers/d; /dimension/d; s/^shape:$/shape: 4/'
expect 64 "flat.yaml:5: shape must be a mapping of keys, not a value" -- "$FASTMLP" bench --config "$T/flat.yaml"
variant null.yaml 's/precision: f32/precision:/'
expect 64 "null.yaml:9: math.precision has no value" -- "$FASTMLP" bench --config "$T/null.yaml"
printf -- '- 1\n- 2\n' >"$T/list.yaml"
expect 64 "list.yaml:1: the file must be a mapping" -- "$FASTMLP" bench --config "$T/list.yaml"
: >"$T/empty.yaml"
expect 64 "missing required key 'version'" -- "$FASTMLP" bench --config "$T/empty.yaml"

expect 66 "nope.yaml: cannot open" -- "$FASTMLP" bench --config "$T/nope.yaml"
expect 66 "cannot open" -- "$FASTMLP" bench --config "$T"
expect 64 "option '--config' needs FILE" -- "$FASTMLP" bench --config
expect 64 "given more than once" -- "$FASTMLP" bench --config "$T/bench.yaml" --config "$T/bench.yaml"
expect 64 "unexpected argument '-n'" -- "$FASTMLP" bench --config "$T/bench.yaml" -n 5

# --- seed 003's own file ----------------------------------------------------
# tests/data/seed003_example_benchmark.yaml is, verbatim, the layout of seed
# 003's example_benchmark.yaml as issue 13 quotes it (keys and values as in
# the original): shape, math and performance inside benchmark:, quoted
# values, math.epsilons a mapping of seed 003's clip margins.
S3=$(dirname "$0")/../data/seed003_example_benchmark.yaml
expect 0 "" -- "$FASTMLP" bench --config "$S3"
has '^bench Hello World! \(.*seed003_example_benchmark.yaml\): f4, 100 layer\(s\) of 128x128 sigmoid, batch 1, 100 run\(s\), 5 thread\(s\), seed 1$'
has '^Completed "Hello World!" in [0-9]+\.[0-9]{6} ms$'
has '^Total time for 100 run\(s\) was [0-9]+\.[0-9]{6} ms$'
has '^seed 003 epsilons: epsilon_exp 4e-06, epsilon_square 1e-07 \(accepted, not needed'
has 'floating-point exceptions in the timed runs: none$'
hasnt '^epsilon '

# seed3 NAME SED: seed 003's file edited by a sed script, into $T/NAME
seed3() { sed "$2" "$S3" >"$T/$1"; }

# Without a name, seed 003's tool prints its "Total time" line only.
seed3 s3_noname.yaml '/name :/d; s/nepochs : 100/nepochs : 3/; s/layers : 100/layers : 4/'
expect 0 "" -- "$FASTMLP" bench --config "$T/s3_noname.yaml"
has '^bench unnamed \(.*\): f4, 4 layer\(s\) of 128x128 sigmoid, batch 1, 3 run\(s\)'
has '^Total time for 3 run\(s\) was [0-9]+\.[0-9]{6} ms$'
hasnt '^Completed'
# The optional parts left out: no epsilons, no performance (all cores).
seed3 s3_bare.yaml '/epsilon/d; /performance/d; /threads/d; s/layers : 100/layers : 2/'
expect 0 "" -- "$FASTMLP" bench --config "$T/s3_bare.yaml"
has '^Completed "Hello World!" in'
hasnt '^seed 003 epsilons'
# fastmlp's own keys inside seed 003's layout: a seed, error bounds, f8/tanh
# and the reduced precisions.
seed3 s3_ext.yaml 's/    nepochs : 100/    nepochs : 2\n    seed : 7/; s/layers : 100/layers : 3/; s/"f4"/"f8"/; s/"sigmoid"/"tanh"/; s/^\(        epsilons :\)/        max_error : [1e-12, 1e-9]\n\1/; s/threads : 5/threads : 1/'
expect 0 "" -- "$FASTMLP" bench --config "$T/s3_ext.yaml"
has '^bench Hello World! \(.*\): f8, 3 layer\(s\) of 128x128 tanh, batch 1, 2 run\(s\), 1 thread\(s\), seed 7$'
has '^epsilon 1e-12: ok$'
has '^epsilon 1e-09: ok$'
seed3 s3_int8.yaml 's/nepochs : 100/nepochs : 2/; s/layers : 100/layers : 2/; s/"f4"/"int8"/; s/^\(        epsilons :\)/        max_error : 0.05\n\1/'
expect 0 "" -- "$FASTMLP" bench --config "$T/s3_int8.yaml"
has '^kernel: .* \(int8 weights\)$'
has '^epsilon 0.05: ok$'

# Unknown keys, named by their path as written, with the line.
seed3 s3_unknown.yaml 's/layers : 100/layerz : 100/'
expect 64 "s3_unknown.yaml:6: unknown key 'benchmark.shape.layerz'" -- "$FASTMLP" bench --config "$T/s3_unknown.yaml"
seed3 s3_unknown_eps.yaml 's/epsilon_square/epsilon_cube/'
expect 64 "s3_unknown_eps.yaml:12: unknown key 'benchmark.math.epsilons.epsilon_cube'" -- "$FASTMLP" bench --config "$T/s3_unknown_eps.yaml"
seed3 s3_unknown_top.yaml '$a\
shape :\
    layers : 3'
expect 64 "s3_unknown_top.yaml:16: 'shape': the file has shape, math and performance under 'benchmark'" -- \
    "$FASTMLP" bench --config "$T/s3_unknown_top.yaml"
# Bad values.
seed3 s3_eps_neg.yaml 's/"4e-6"/"-4e-6"/'
expect 64 "s3_eps_neg.yaml:11: benchmark.math.epsilons.epsilon_exp: '-4e-6' is not a non-negative finite number" -- \
    "$FASTMLP" bench --config "$T/s3_eps_neg.yaml"
seed3 s3_eps_word.yaml 's/"1e-7"/"tiny"/'
expect 64 "s3_eps_word.yaml:12: benchmark.math.epsilons.epsilon_square: 'tiny' is not a non-negative finite number" -- \
    "$FASTMLP" bench --config "$T/s3_eps_word.yaml"
seed3 s3_eps_list.yaml '/epsilon_/d; s/epsilons :/epsilons : [1e-6]/'
expect 64 "s3_eps_list.yaml:10: benchmark.math.epsilons must be a mapping of keys, not a list" -- \
    "$FASTMLP" bench --config "$T/s3_eps_list.yaml"
seed3 s3_prec.yaml 's/"f4"/"f2"/'
expect 64 "s3_prec.yaml:9: benchmark.math.precision: 'f2' is not one of f32 f64 f4 f8" -- "$FASTMLP" bench --config "$T/s3_prec.yaml"
seed3 s3_act.yaml 's/"sigmoid"/"relu"/'
expect 64 "s3_act.yaml:13: benchmark.math.activation: 'relu' is not one of sigmoid tanh" -- "$FASTMLP" bench --config "$T/s3_act.yaml"
seed3 s3_nep.yaml 's/nepochs : 100/nepochs : 0/'
expect 64 "s3_nep.yaml:4: benchmark.nepochs: '0' is not a whole number of runs" -- "$FASTMLP" bench --config "$T/s3_nep.yaml"
seed3 s3_thr.yaml 's/threads : 5/threads : 65/'
expect 64 "s3_thr.yaml:15: benchmark.performance.threads: '65' is not a thread count from 0 (all cores) to 64" -- \
    "$FASTMLP" bench --config "$T/s3_thr.yaml"
seed3 s3_nodim.yaml '/dimension/d'
expect 64 "s3_nodim.yaml:5: benchmark.shape: missing required key 'benchmark.shape.dimension'" -- \
    "$FASTMLP" bench --config "$T/s3_nodim.yaml"
seed3 s3_nomath.yaml '/math :/,/activation/d'
expect 64 "s3_nomath.yaml:2: benchmark: missing required key 'benchmark.math'" -- "$FASTMLP" bench --config "$T/s3_nomath.yaml"
seed3 s3_v2.yaml 's/version : 1/version : 2/'
expect 64 "s3_v2.yaml:1: version 2 not supported" -- "$FASTMLP" bench --config "$T/s3_v2.yaml"

# `bench quick` also takes the flat --config every command takes
printf 'nepochs: 2\nprecision: f4\nlayers: 2\ndimension: 16\nactivation: tanh\n' >"$T/flat_quick.yaml"
expect 0 "" -- "$FASTMLP" bench quick --config "$T/flat_quick.yaml"
has '^Total time for 2 run\(s\) was'

echo "bench: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
