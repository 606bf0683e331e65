#!/bin/sh
# SPDX-License-Identifier: MIT
# `cmake --install` to a fresh prefix, then build and run the example against
# the installed header, library and pkg-config file, as a user would.
set -eu
BUILD=$1
SRC=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cmake --install "$BUILD" --prefix "$T/prefix" >/dev/null
for f in bin/fastmlp include/fastmlp.h lib/libfastmlp.a lib/libfastmlp.so lib/pkgconfig/fastmlp.pc share/man/man1/fastmlp.1; do
    [ -e "$T/prefix/$f" ] || { echo "install: missing $f"; echo "install: 0 passed, 1 failed"; exit 1; }
done
export PKG_CONFIG_PATH="$T/prefix/lib/pkgconfig"
cc -std=c11 "$SRC/examples/xor.c" $(pkg-config --cflags --libs fastmlp) -Wl,-rpath,"$T/prefix/lib" -o "$T/xor"
"$T/xor" "$T/xor.mlp" >/dev/null
"$T/prefix/bin/fastmlp" --version >/dev/null
# The man page must render where man is installed (man-db, on Debian images).
command -v man >/dev/null && ! man -l "$T/prefix/share/man/man1/fastmlp.1" >/dev/null 2>&1 && { echo "install: the man page does not render"; echo "install: 3 passed, 1 failed"; exit 1; }
echo "install: 4 passed, 0 failed"
