# SPDX-License-Identifier: MIT
# Cross-building fastmlp for aarch64 Linux on an x86-64 Debian machine:
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DFASTMLP_HDF5=OFF
# (`make test-arm64` does this).  The compiler is Debian's
# gcc-aarch64-linux-gnu; the libraries (OpenBLAS, zlib, libyaml) are the
# arm64 packages of Debian's multiarch (scripts/setup.sh: dpkg
# --add-architecture arm64), under /usr/lib/aarch64-linux-gnu and
# /usr/include.  libhdf5-dev:arm64 cannot be installed beside the x86-64
# libhdf5-dev (Debian's packages conflict: installing one removes the
# other), so the cross build is configured with FASTMLP_HDF5=OFF.
#
# Tests run under user-mode emulation: CMake prefixes every test command it
# builds with CMAKE_CROSSCOMPILING_EMULATOR; the CPU model comes from
# QEMU_CPU in the environment (max, cortex-a53, ...), which qemu-aarch64
# reads itself.  The arm64 dynamic loader and libraries come from the same
# multiarch packages, so qemu needs no -L sysroot.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
find_program(FASTMLP_QEMU_AARCH64 qemu-aarch64)
if(FASTMLP_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${FASTMLP_QEMU_AARCH64})
endif()
# Look for libraries and headers in the target's places only, programs on
# the build machine.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
# pkg-config: the arm64 .pc files only (libopenblas, yaml-0.1, zlib).
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")
