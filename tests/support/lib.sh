# SPDX-License-Identifier: MIT
# What the shell tests share (sourced after they set T to their temporary
# directory): the pass/fail counters and the checks of a command's exit
# code, stderr line and stdout.
pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# expect CODE PATTERN -- command...: the exit code and, on failure, exactly
# one stderr line containing PATTERN (a fixed string).
expect() {
    code=$1 pat=$2
    shift 3
    "$@" >"$T/out" 2>"$T/err"
    rc=$?
    lines=$(wc -l <"$T/err")
    if [ "$rc" -ne "$code" ]; then bad "$* -> exit $rc, expected $code; stderr: $(cat "$T/err")"; return; fi
    if [ "$code" -ne 0 ] && [ "$lines" -ne 1 ]; then bad "$* -> $lines stderr lines, expected 1: $(cat "$T/err")"; return; fi
    if [ -n "$pat" ] && ! grep -qF -- "$pat" "$T/err"; then bad "$* -> stderr '$(cat "$T/err")' lacks '$pat'"; return; fi
    ok
}

# has REGEX / hasnt REGEX: the last command's stdout does (not) hold a
# line matching REGEX (ERE)
has() {
    if grep -qE -- "$1" "$T/out"; then ok; else bad "stdout lacks /$1/: $(cat "$T/out")"; fi
}
hasnt() {
    if grep -qE -- "$1" "$T/out"; then bad "stdout has /$1/: $(cat "$T/out")"; else ok; fi
}

# need_qemu_x86_64: sets QEMU to qemu-x86_64 (the tests that run the CLI as
# an older x86-64 CPU), or fails the test where it cannot run.  QEMU_UNSET
# holds qemu's options that keep the host's kernel choices out of the guest:
# qemu-user hands the guest the host's environment, and an OPENBLAS_CORETYPE
# set for the host (Haswell, on one AVX-512 host) makes OpenBLAS load that
# core's kernels whatever the emulated CPU is (0.3.21 does not check them
# against cpuid), so under -cpu Nehalem the first SGEMM died on a VEX
# instruction in sgemm_incopy_HASWELL.  Without them OpenBLAS reads the
# emulated cpuid, as on real hardware; FASTMLP_ISA likewise, for the CLI.
need_qemu_x86_64() {
    QEMU_UNSET="-U OPENBLAS_CORETYPE -U FASTMLP_ISA"
    QEMU=$(command -v qemu-x86_64 || true)
    if [ -z "$QEMU" ]; then
        echo "FAIL: qemu-x86_64 not found: run 'make setup' (it installs Debian's qemu-user)"
        exit 1
    fi
    if [ "$(uname -m)" != x86_64 ]; then
        echo "FAIL: this test emulates an x86-64 CPU on an x86-64 host; host is $(uname -m)"
        exit 1
    fi
}
