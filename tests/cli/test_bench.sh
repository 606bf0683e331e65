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

# `bench quick` also takes the flat --config every command takes
printf 'nepochs: 2\nprecision: f4\nlayers: 2\ndimension: 16\nactivation: tanh\n' >"$T/flat_quick.yaml"
expect 0 "" -- "$FASTMLP" bench quick --config "$T/flat_quick.yaml"
has '^Total time for 2 run\(s\) was'

echo "bench: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
