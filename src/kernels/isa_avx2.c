/* SPDX-License-Identifier: MIT */
/* The kernel table's vector slots (isa_body.inc) compiled for AVX2 + FMA (built with -mavx2 -mfma):
 * the flags are this file's own (CMakeLists.txt), never -march=native. */
#include "kernels/isa_body.inc"

void mlp__kt_fill_avx2(struct mlp_ktable *t) { kt_fill(t, "avx2"); }
