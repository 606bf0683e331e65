/* SPDX-License-Identifier: MIT */
/* The kernel table's vector slots (kernels/isa.inc) for f64, compiled for
 * plain C for the target's baseline (any x86-64, or any other CPU): the flags are this file's own (CMakeLists.txt), never
 * -march=native. */
#define SUF f64
#include "core/tmpl.h"
#include "kernels/isa.inc"

void mlp__kt_fill_portable_f64(struct mlp_ktable *t) { FN(kt_fill)(t); }
