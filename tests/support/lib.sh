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

# need_chromium: sets CHROME to a headless-capable Chromium (installing
# Debian's package when it is missing and we are root), or empty.
find_chromium() {
    for c in chromium chromium-browser google-chrome-stable google-chrome; do
        if command -v "$c" >/dev/null 2>&1; then
            command -v "$c"
            return 0
        fi
    done
    return 1
}
need_chromium() {
    CHROME=$(find_chromium)
    if [ -z "$CHROME" ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing chromium (Debian package) for the rendering checks"
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq --no-install-recommends chromium >"$T/apt.log" 2>&1 ||
            { apt-get update -qq >>"$T/apt.log" 2>&1 && apt-get install -y -qq --no-install-recommends chromium >>"$T/apt.log" 2>&1; }
        CHROME=$(find_chromium)
    fi
    mkdir -p "$T/home"
}

# shoot FILE PNG [W,H]: render FILE (a page or an SVG) in headless Chromium
# into the screenshot PNG (window 1200,2000 unless given); fails when none
# was written.  dump_dom FILE OUT: the document Chromium built from FILE,
# serialised after loading, into OUT.
chrome_run() {
    HOME="$T/home" timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --no-first-run \
        --disable-background-networking --user-data-dir="$T/chrome" "$@" 2>"$T/chrome.log"
}
shoot() {
    rm -f "$2"
    chrome_run --screenshot="$2" --window-size="${3:-1200,2000}" "file://$1" >/dev/null
    [ -s "$2" ]
}
dump_dom() {
    chrome_run --dump-dom "file://$1" >"$2"
    [ -s "$2" ]
}
