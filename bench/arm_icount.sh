#!/bin/sh
# SPDX-License-Identifier: MIT
# The aarch64 kernels on paper (issue 19): emulation cannot time real
# hardware, so this counts, under qemu-aarch64, the instructions each kernel
# executes per multiply-add (per value, per parameter) in its NEON version
# and in the portable C one, and from each kernel's executed instruction mix
# bounds its throughput on one Neoverse N1 and one Neoverse V1 core.
#
# How: bench/arm_icount.c (the arm_icount target of an aarch64 build,
# e.g. build-arm64 from cmake/aarch64-linux-gnu.cmake) brackets each kernel
# call with two marker functions; it runs under
#   qemu-aarch64 -cpu CPU -singlestep -d exec,nochain
# which logs one line per executed guest instruction, and the log goes
# through a pipe (never to disk) into bench/arm_icount.py, which counts the
# main thread's lines between the markers, keeps each bracket's PC
# histogram, disassembles it (aarch64 objdump) and puts the mix through a
# resource model of each core (pipes per cycle and each instruction's pipes
# from LLVM's scheduling models of N1 and V1, which follow Arm's Software
# Optimization Guides): cycles >= max over resources (uses / per-cycle
# width), printed as MAC (value) per cycle and G per second at N1_GHZ /
# V1_GHZ, with the resource that bounds it.  The bound ignores latency
# chains, caches and memory: the data here are small and hot.
#
# Counts are exact for the code as compiled (qemu executes the same
# instructions the hardware would); the markers' own call overhead (the
# "overhead" row) is subtracted from every row.  No warm-up call: with
# LD_BIND_NOW=1 a kernel's first call measured the same as its second
# (DRIVER_ARGS=--first shows both).
#
# Table, per CPU model: kernel (shape in the name), variant (table variant;
# quantised: the kernel's name[the features it was selected with]), work
# and unit (MAC = multiply-adds, value, param), instr (executed, overhead
# subtracted), per_unit (instr / work), vs_port (instr / the portable
# row's), then per core: work per cycle, G work/s at the clock, bounding
# resource (FE front end, V any FP/ASIMD pipe, V0/V1/V02/V13/V01 a subset of
# them, L load/store, I integer, M multi-cycle integer, B branch).
#
# Usage: bench/arm_icount.sh [BUILD_DIR]      (default: build-arm64)
#   env: CPUS="max neoverse-n1 cortex-a53" (qemu CPU models: max has dotprod,
#        i8mm and bf16 like a V1; neoverse-n1 dotprod only; cortex-a53 none),
#        N1_GHZ=3.0 (Ampere Altra; Graviton2 runs 2.5), V1_GHZ=2.6 (Graviton3),
#        QEMU=qemu-aarch64, OBJDUMP=aarch64-linux-gnu-objdump, MIX=1 (print
#        each kernel's instruction mix), LOOPS=1 (print each kernel's hottest
#        loop body, disassembled), PY=python3, DRIVER_ARGS="--first" (call
#        each kernel twice, both counted, the first as KERNEL@1st) or "--warmup"
# Ends with one RESULT line per CPU model and kernel.  Exit 0 when it ran,
# 66 when something it needs is missing.
set -eu
[ $# -ge 1 ] || set -- "$(dirname "$0")/../build-arm64"
. "$(dirname "$0")/common.sh"
# ISA= (x86 variants) means nothing here: the CPU models below choose
# shellcheck disable=SC2034
ISA=native
bench_init "$@"
drv="$build/arm_icount"
QEMU=${QEMU:-qemu-aarch64}
OBJDUMP=${OBJDUMP:-aarch64-linux-gnu-objdump}
CPUS=${CPUS:-max neoverse-n1 cortex-a53}
N1_GHZ=${N1_GHZ:-3.0}
V1_GHZ=${V1_GHZ:-2.6}
if [ ! -x "$drv" ]; then
    echo "$0: no arm_icount in $build (an aarch64 build's arm_icount target: cmake --build $build --target arm_icount)" >&2
    exit 66
fi
for t in "$QEMU" "$OBJDUMP" "$PY"; do
    if ! command -v "$t" >/dev/null 2>&1; then
        echo "$0: $t not found (Debian: qemu-user, binutils-aarch64-linux-gnu, python3)" >&2
        exit 66
    fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# the header's kernels and BLAS lines come from the aarch64 fastmlp, run
# under qemu (-cpu max)
printf '#!/bin/sh\nexec "%s" -cpu max "%s" "$@"\n' "$QEMU" "$bin" >"$tmp/fastmlp"
chmod +x "$tmp/fastmlp"
bin="$tmp/fastmlp"
bench_header "aarch64 kernels: instructions per multiply-add under qemu-aarch64, NEON against portable; N1/V1 bounds from the instruction mix"
echo "emulator: $("$QEMU" --version | head -n 1); CPU models: $CPUS"
cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null)
flags=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null)
echo "compiler: $("${cc:-cc}" --version 2>/dev/null | head -n 1) ($flags build: the counts are this compiler's code)"
echo "model:    N1 at $N1_GHZ GHz (V0+V1 128-bit, 2 L, 3 I, 1 B, 4 decode), V1 at $V1_GHZ GHz (V0-V3 128-bit, 3 L, 4 I, 2 B, 8 MOPs);"
echo "          resource bound only (no latency chains, caches or memory); n/a: the core lacks an instruction the kernel runs"
echo

export OPENBLAS_NUM_THREADS=1 LD_BIND_NOW=1
unset QEMU_LOG QEMU_LOG_FILENAME QEMU_DFILTER QEMU_SINGLESTEP QEMU_STRACE 2>/dev/null || true
: >"$tmp/results"
for cpu in $CPUS; do
    m=$("$QEMU" -cpu "$cpu" "$drv" --markers) || {
        echo "$0: $QEMU -cpu $cpu cannot run $drv" >&2
        exit 66
    }
    begin=$(printf '%s\n' "$m" | sed -n 's/^markers begin=\([^ ]*\) .*/\1/p')
    end=$(printf '%s\n' "$m" | sed -n 's/.* end=\([^ ]*\)$/\1/p')
    echo "=== qemu-aarch64 -cpu $cpu"
    start=$(date +%s)
    # qemu's log (fd 3) into the counter; the driver's own output to a file
    # the counter reads when the log ends (qemu has exited)
    # shellcheck disable=SC2086,SC2094
    "$QEMU" -cpu "$cpu" -singlestep -d exec,nochain -D /dev/fd/3 "$drv" ${DRIVER_ARGS:-} 3>&1 >"$tmp/out.$cpu" |
        "$PY" "$root/bench/arm_icount.py" --exe "$drv" --begin "$begin" --end "$end" --cases "$tmp/out.$cpu" \
            --objdump "$OBJDUMP" --cpu "$cpu" --n1-ghz "$N1_GHZ" --v1-ghz "$V1_GHZ" --results "$tmp/results" \
            ${MIX:+--mix} ${LOOPS:+--loops} >"$tmp/table.$cpu"
    sed -n 's/^cpu features=\([^ ]*\) .*/features: \1/p' "$tmp/out.$cpu"
    sed -n 's/^qk \([^ ]*\) \([^ ]*\) features=\(.*\)/quantised \1: \2 (with features \3)/p' "$tmp/out.$cpu"
    sed -n 's/^skip /skipped: /p' "$tmp/out.$cpu"
    cat "$tmp/table.$cpu"
    echo "(traced in $(($(date +%s) - start)) s)"
    echo
done
cat "$tmp/results"
