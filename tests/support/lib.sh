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
