/* SPDX-License-Identifier: MIT */
/* The kernel table's vector slots (kernels/isa.inc) for f32, the NEON
 * variant (aarch64 only, CMakeLists.txt): Advanced SIMD is the aarch64
 * baseline, so this file needs no flags of its own; MLP_KT_NEON selects the
 * intrinsic paths of narrow.inc and act.inc, which the portable build of
 * the same bodies (isa_portable_f32.c) leaves out. */
#define SUF f32
#define MLP_KT_NEON 1
#include "core/tmpl.h"
#include "kernels/isa.inc"

void mlp__kt_fill_neon_f32(struct mlp_ktable *t) { FN(kt_fill)(t); }
