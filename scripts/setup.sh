#!/bin/sh
# SPDX-License-Identifier: MIT
# Install the Debian packages fastmlp needs to build, test and run its main
# job, when they are missing.  As root it installs them; otherwise it prints
# the exact apt-get line to run and fails.
set -eu

# clang and libclang-rt-14-dev: libFuzzer for the fuzz targets.  qemu-user:
# test_nehalem runs the CLI on an emulated CPU without AVX.  python3-venv:
# the Python package's tests run in virtual environments (their packages
# come from PyPI, scripts/python-env.sh).  libopenmpi-dev and openmpi-bin:
# the MPI build (fastmlp-mpi, data-parallel training) and its mpirun tests.
PKGS="build-essential cmake pkg-config libopenblas-dev zlib1g-dev libhdf5-dev libyaml-dev dataset-fashion-mnist clang libclang-rt-14-dev chromium qemu-user python3-venv libopenmpi-dev openmpi-bin"
# The aarch64 cross build (make test-arm64, cmake/aarch64-linux-gnu.cmake):
# Debian's cross compiler and the arm64 libraries through multiarch (the
# arm64 architecture is added to dpkg first).  Only on an x86-64 host: an
# aarch64 machine builds natively with the packages above.  No
# libhdf5-dev:arm64: it cannot be installed beside libhdf5-dev (installing
# one removes the other), so the cross build has FASTMLP_HDF5=OFF.
ARM64_PKGS="gcc-aarch64-linux-gnu libc6-dev-arm64-cross libopenblas-dev:arm64 zlib1g-dev:arm64 libyaml-dev:arm64"
[ "$(dpkg --print-architecture)" = amd64 ] && PKGS="$PKGS $ARM64_PKGS"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

# arm64 packages need the architecture known to dpkg before the update
add_arch=""
case "$missing" in *:arm64*) dpkg --print-foreign-architectures | grep -qx arm64 || add_arch=arm64 ;; esac

if [ "$(id -u)" -ne 0 ]; then
    echo "fastmlp: missing Debian packages:$missing" >&2
    [ -n "$add_arch" ] && echo "fastmlp: run: sudo dpkg --add-architecture arm64 && sudo apt-get update" >&2
    echo "fastmlp: run: sudo apt-get install -y$missing" >&2
    exit 1
fi
echo "fastmlp: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
[ -n "$add_arch" ] && dpkg --add-architecture arm64
# A fresh machine may have no package lists yet; update once, then install.
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing
