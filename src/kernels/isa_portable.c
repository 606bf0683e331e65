/* SPDX-License-Identifier: MIT */
/* The kernel table's vector slots (isa_body.inc) compiled for plain C for any CPU (baseline x86-64: SSE2):
 * the flags are this file's own (CMakeLists.txt), never -march=native. */
#include "kernels/isa_body.inc"

void mlp__kt_fill_portable(struct mlp_ktable *t) { kt_fill(t, "portable"); }
