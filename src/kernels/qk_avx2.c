/* SPDX-License-Identifier: MIT */
/* The plain-C inference kernels (kernels/qk.inc) compiled for AVX2 + FMA
 * (-mavx2 -mfma): the flags are this file's own (CMakeLists.txt), never
 * -march=native, and without -ffp-contract=fast, so the bits are the
 * portable kernels' own. */
#define QK_SUF avx2
#include "kernels/qk.inc"
