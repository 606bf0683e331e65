#!/bin/sh
# SPDX-License-Identifier: MIT
# A build without HDF5 (FASTMLP_HDF5=OFF), configured with CMake told that no
# libhdf5 exists: it builds, its library needs no libhdf5 and exports the same
# names as the full library (hdf5_none.c has a twin of every HDF5 entry
# point), its package asks for no HDF5, and an HDF5 file, named by extension,
# by --data-format or found by content, gets one stderr line that says why.
# Cheap: -O0, only the installed products, no tests.
set -u
SRC=$1   # the source tree
FULL=$2  # the full build's libfastmlp.so
CC=$3
WERROR=$4
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/../support/lib.sh"
B=$T/build

cmake -S "$SRC" -B "$B" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER="$CC" -DFASTMLP_WERROR="$WERROR" \
    -DFASTMLP_HDF5=OFF -DCMAKE_DISABLE_FIND_PACKAGE_HDF5=ON -DFASTMLP_TESTS=OFF -DFASTMLP_NATIVE=OFF -DFASTMLP_CUDA=OFF \
    >"$T/log" 2>&1 || { cat "$T/log"; echo "no_hdf5: configure failed"; exit 1; }
cmake --build "$B" --target fastmlp fastmlp_static fastmlp_cli >"$T/log" 2>&1 \
    || { tail -40 "$T/log"; echo "no_hdf5: build failed"; exit 1; }
FASTMLP=$B/fastmlp

# The library: no libhdf5, and the full library's public names.
readelf -d "$B/libfastmlp.so" >"$T/dyn" 2>&1 || bad "readelf failed: $(cat "$T/dyn")"
grep -q "NEEDED.*libopenblas" "$T/dyn" && ok || bad "readelf shows no NEEDED libopenblas: $(cat "$T/dyn")"
grep -qi "NEEDED.*hdf5" "$T/dyn" && bad "libfastmlp.so needs libhdf5: $(grep NEEDED "$T/dyn")" || ok
nm -D --defined-only "$FULL" | awk '{print $3}' | sort >"$T/full.names"
nm -D --defined-only "$B/libfastmlp.so" | awk '{print $3}' | sort >"$T/off.names"
[ -s "$T/full.names" ] && cmp -s "$T/full.names" "$T/off.names" && ok \
    || bad "exported names differ (< full, > FASTMLP_HDF5=OFF): $(diff "$T/full.names" "$T/off.names" | grep '^[<>]' | tr '\n' ' ')"

# The CLI: one line naming the file and the reason, exit 1 (other failure).
MSG="this fastmlp was built without HDF5 (FASTMLP_HDF5=OFF)"
CATS=$SRC/tests/data/train_catvnoncat.h5
expect 1 "train_catvnoncat.h5: $MSG" -- "$FASTMLP" train --train "$CATS" --layers none --head sigmoid-bce \
    --epochs 1 -o "$T/m.mlp"
[ -e "$T/m.mlp" ] && bad "a model was written" || ok
cp "$CATS" "$T/cats.data"
expect 1 "cats.data: $MSG" -- "$FASTMLP" train --train "$T/cats.data" --layers none -o "$T/m.mlp"
expect 1 "cats.data: $MSG" -- "$FASTMLP" train --train "$T/cats.data" --data-format hdf5 --layers none -o "$T/m.mlp"
expect 0 "" -- "$FASTMLP" --version
has '^HDF5: not built in \(FASTMLP_HDF5=OFF\)$'

# The package: neither fastmlp.pc nor fastmlpConfig.cmake asks for HDF5.
cmake --install "$B" --prefix "$T/prefix" >"$T/log" 2>&1 || bad "install failed: $(cat "$T/log")"
PC=$(find "$T/prefix" -name fastmlp.pc)
grep -q '^Requires.private: openblas zlib$' "$PC" && ok || bad "fastmlp.pc: $(grep Requires "$PC")"
CFG=$(find "$T/prefix" -name fastmlpConfig.cmake)
grep -q '^set(fastmlp_HDF5 OFF)$' "$CFG" && ok || bad "fastmlpConfig.cmake: $(grep -n HDF5 "$CFG")"

echo "no_hdf5: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
