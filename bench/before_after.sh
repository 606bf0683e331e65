#!/bin/sh
# SPDX-License-Identifier: MIT
# Before/after: every workload's script (W1-W7) on two builds of fastmlp in
# one invocation, fastmlp alone (no peers), alternating the builds workload
# by workload so that both see the same machine minute.  For a change that
# must not regress (BENCHMARKS.md's before/after table).
# Usage: bench/before_after.sh BUILD_BEFORE BUILD_AFTER [W1 W2 W3 W4 W5 W6 W7]
# Environment: as each script's (THREADS, REPEATS, ...); ROUNDS [1]: how many
# times the pair runs (each round prints both builds' RESULT lines); ISA
# (avx2|avx512|native, bench/common.sh bench_isa) applies to both builds alike.
# Prints, per workload and round: "before|after RESULT ..." lines.
set -eu
if [ $# -lt 2 ]; then
    echo "usage: $0 BUILD_BEFORE BUILD_AFTER [W1..W7]" >&2
    exit 64
fi
here=$(cd "$(dirname "$0")" && pwd)
a=$1 b=$2
shift 2
[ $# -gt 0 ] || set -- W1 W2 W3 W4 W5 W6 W7
ROUNDS=${ROUNDS:-1}
# ISA= is checked here too: each script's refusal would vanish in the filter below
. "$here/common.sh"
for d in "$a" "$b"; do
    (bench_isa "$d/fastmlp") || exit 64
done
script() {
    case $1 in
    W1) echo w1_neuron.sh ;; W2) echo w2_galaxy.sh ;; W3) echo w3_fashion_gd.sh ;; W4) echo quick.sh ;;
    W5) echo w5_fashion_adam.sh ;; W6) echo w6_infer.sh ;; W7) echo csv_load.sh ;;
    *) echo "$0: unknown workload $1" >&2; exit 64 ;;
    esac
}
for w in "$@"; do
    s=$(script "$w")
    r=0
    while [ "$r" -lt "$ROUNDS" ]; do
        for side in before after; do
            build=$a
            [ "$side" = after ] && build=$b
            # PY=/bin/false: no Python peer imports; PEERS="": none of the others
            env PY=/bin/false PEERS="" sh "$here/$s" "$build" 2>&1 |
                sed -n "s/^RESULT/$side RESULT/p"
        done
        r=$((r + 1))
    done
done
