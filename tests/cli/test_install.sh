#!/bin/sh
# SPDX-License-Identifier: MIT
# The package as a distribution and a user meet it.  The source tree is
# configured with -DCMAKE_INSTALL_PREFIX=/usr, so that GNUInstallDirs picks
# its multiarch libdir (lib/x86_64-linux-gnu on Debian), built at -O0 and
# installed twice:
#  - with DESTDIR, as a package build does: fastmlp.pc must name /usr's
#    directories (it once said /usr/lib/lib/x86_64-linux-gnu);
#  - with --prefix into a temporary prefix, keeping that libdir: there
#    examples/xor.c is built with pkg-config (shared, and static through the
#    private fields) and with a CMake project that uses
#    find_package(fastmlp 0.2 REQUIRED) (fastmlp::fastmlp and
#    fastmlp::fastmlp_static), and every program runs.
set -u
SRC=$1
CC=$2
WERROR=$3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/../support/lib.sh"
unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR DESTDIR
B=$T/build

cmake -S "$SRC" -B "$B" -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER="$CC" \
    -DFASTMLP_WERROR="$WERROR" -DFASTMLP_TESTS=OFF -DFASTMLP_NATIVE=OFF -DFASTMLP_CUDA=OFF >"$T/log" 2>&1 \
    || { cat "$T/log"; echo "install: configure failed"; exit 1; }
cmake --build "$B" --target fastmlp fastmlp_static fastmlp_cli >"$T/log" 2>&1 \
    || { tail -40 "$T/log"; echo "install: build failed"; exit 1; }
LIBDIR=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:PATH=//p' "$B/CMakeCache.txt")
# Where the compiler knows a multiarch tuple (Debian), GNUInstallDirs uses it for /usr.
MA=$("$CC" -print-multiarch 2>/dev/null || true)
if [ -n "$MA" ] && [ -f /etc/debian_version ]; then
    [ "$LIBDIR" = "lib/$MA" ] && ok || bad "libdir for /usr is '$LIBDIR', expected lib/$MA"
fi

files() { # files PREFIX: everything installed is there
    for f in bin/fastmlp include/fastmlp.h "$LIBDIR/libfastmlp.a" "$LIBDIR/libfastmlp.so" \
             "$LIBDIR/pkgconfig/fastmlp.pc" "$LIBDIR/cmake/fastmlp/fastmlpConfig.cmake" \
             "$LIBDIR/cmake/fastmlp/fastmlpConfigVersion.cmake" share/man/man1/fastmlp.1; do
        [ -e "$1/$f" ] && ok || bad "missing $1/$f"
    done
}

# --- a package build: DESTDIR, prefix /usr -------------------------------------
DESTDIR=$T/dest cmake --install "$B" >"$T/log" 2>&1 || bad "DESTDIR install: $(cat "$T/log")"
files "$T/dest/usr"
export PKG_CONFIG_PATH="$T/dest/usr/$LIBDIR/pkgconfig"
v=$(pkg-config --variable=libdir fastmlp)
[ "$v" = "/usr/$LIBDIR" ] && ok || bad "fastmlp.pc for /usr: libdir=$v, expected /usr/$LIBDIR"
v=$(pkg-config --variable=includedir fastmlp)
[ "$v" = "/usr/include" ] && ok || bad "fastmlp.pc for /usr: includedir=$v, expected /usr/include"

# --- a user's prefix: build against it -------------------------------------------
P=$T/prefix
L=$P/$LIBDIR
cmake --install "$B" --prefix "$P" >"$T/log" 2>&1 || bad "install --prefix: $(cat "$T/log")"
files "$P"
export PKG_CONFIG_PATH="$L/pkgconfig"
v=$(pkg-config --modversion fastmlp)
[ "$v" = "0.2.0" ] && ok || bad "pkg-config --modversion: $v"
v=$(pkg-config --libs fastmlp | sed 's/  */ /g; s/ $//')
[ "$v" = "-L$L -lfastmlp" ] && ok || bad "pkg-config --libs: '$v', expected '-L$L -lfastmlp'"
expect 0 "" -- "$CC" -std=c11 "$SRC/examples/xor.c" $(pkg-config --cflags --libs fastmlp) -Wl,-rpath,"$L" \
    -o "$T/xor_pc"
expect 0 "" -- "$T/xor_pc" "$T/xor_pc.mlp"
# The static library with what Libs.private and Requires.private add.
expect 0 "" -- "$CC" -std=c11 "$SRC/examples/xor.c" $(pkg-config --cflags fastmlp) "$L/libfastmlp.a" \
    $(pkg-config --static --libs fastmlp | sed 's/ -lfastmlp\( \|$\)/ /') -o "$T/xor_pc_static"
expect 0 "" -- "$T/xor_pc_static" "$T/xor_pc_static.mlp"

mkdir "$T/app"
cp "$SRC/examples/xor.c" "$T/app/"
cat >"$T/app/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.20)
project(app C)
find_package(fastmlp ${WANT} REQUIRED)
add_executable(app xor.c)
target_link_libraries(app fastmlp::fastmlp)
add_executable(app_static xor.c)
target_link_libraries(app_static fastmlp::fastmlp_static)
EOF
expect 0 "" -- cmake -S "$T/app" -B "$T/app/b" -DWANT=0.2 -DCMAKE_PREFIX_PATH="$P" -DCMAKE_C_COMPILER="$CC"
expect 0 "" -- cmake --build "$T/app/b"
expect 0 "" -- "$T/app/b/app" "$T/app.mlp"
expect 0 "" -- "$T/app/b/app_static" "$T/app_static.mlp"
readelf -d "$T/app/b/app" | grep -q 'NEEDED.*libfastmlp\.so\.0\.2' && ok || bad "app does not need libfastmlp.so.0.2"
readelf -d "$T/app/b/app_static" | grep -q 'NEEDED.*libfastmlp' && bad "app_static needs libfastmlp.so" || ok
# 0.x minor versions may break the API: a request for 0.3 is refused.
cmake -S "$T/app" -B "$T/app/b3" -DWANT=0.3 -DCMAKE_PREFIX_PATH="$P" -DCMAKE_C_COMPILER="$CC" >"$T/out" 2>&1 \
    && bad "find_package(fastmlp 0.3) accepted 0.2.0" \
    || { grep -q 'requested version "0.3"' "$T/out" && ok || bad "find_package(fastmlp 0.3): $(cat "$T/out")"; }

expect 0 "" -- "$P/bin/fastmlp" --version
# The man page must render where man is installed (man-db, on Debian images).
if command -v man >/dev/null; then
    man -l "$P/share/man/man1/fastmlp.1" >/dev/null 2>&1 && ok || bad "the man page does not render"
fi

echo "install: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
