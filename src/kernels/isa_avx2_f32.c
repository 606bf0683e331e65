/* SPDX-License-Identifier: MIT */
/* The kernel table's vector slots (kernels/isa.inc) for f32, compiled for
 * AVX2 + FMA (-mavx2 -mfma): the flags are this file's own (CMakeLists.txt), never
 * -march=native. */
#define SUF f32
#include "core/tmpl.h"
#include "kernels/isa.inc"

void mlp__kt_fill_avx2_f32(struct mlp_ktable *t) { FN(kt_fill)(t); }
