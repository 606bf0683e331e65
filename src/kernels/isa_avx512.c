/* SPDX-License-Identifier: MIT */
/* The kernel table's vector slots (isa_body.inc) compiled for AVX-512 F/BW/DQ/VL + FMA (built with -mavx512f -mavx512bw -mavx512dq -mavx512vl -mfma):
 * the flags are this file's own (CMakeLists.txt), never -march=native. */
#include "kernels/isa_body.inc"

void mlp__kt_fill_avx512(struct mlp_ktable *t) { kt_fill(t, "avx512"); }
