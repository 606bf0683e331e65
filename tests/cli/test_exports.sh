#!/bin/sh
# SPDX-License-Identifier: MIT
# What the shared library exports (nm -D --defined-only): only public mlp_*
# names, no internal mlp__* one, and every function that fastmlp.h declares
# (a declaration added without MLP_API is caught here).
set -u
LIB=$1     # libfastmlp.so
HEADER=$2  # include/fastmlp.h
CC=$3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/../support/lib.sh"

nm -D --defined-only "$LIB" >"$T/nm" 2>"$T/err" && ok || bad "nm -D $LIB: $(cat "$T/err")"
awk '{print $NF}' "$T/nm" | sort -u >"$T/exported"
[ -s "$T/exported" ] && ok || bad "$LIB exports nothing"
v=$(grep -v '^mlp_[a-z0-9]' "$T/exported" | tr '\n' ' ')
[ -z "$v" ] && ok || bad "exported names outside mlp_*: $v"
v=$(grep '^mlp__' "$T/exported" | tr '\n' ' ')
[ -z "$v" ] && ok || bad "internal mlp__* names exported ($(grep -c '^mlp__' "$T/exported")): $v"

# The header's functions, comments stripped by the preprocessor.
"$CC" -E -P -x c "$HEADER" >"$T/pp" 2>"$T/err" || bad "cannot preprocess $HEADER: $(cat "$T/err")"
grep -oE 'mlp_[a-z0-9_]+ *\(' "$T/pp" | tr -d ' (' | sort -u >"$T/declared"
[ "$(wc -l <"$T/declared")" -gt 50 ] && ok || bad "found only $(wc -l <"$T/declared") declarations in $HEADER"
v=$(comm -23 "$T/declared" "$T/exported" | tr '\n' ' ')
[ -z "$v" ] && ok || bad "declared in fastmlp.h but not exported (MLP_API missing?): $v"
v=$(comm -13 "$T/declared" "$T/exported" | tr '\n' ' ')
[ -z "$v" ] && ok || bad "exported but not declared in fastmlp.h: $v"

echo "exports: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
