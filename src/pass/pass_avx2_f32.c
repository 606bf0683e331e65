/* SPDX-License-Identifier: MIT */
/* The fast pass and the unit-split step (pass.inc, step.inc) for f32,
 * built for AVX2 + FMA with this file's own flags (CMakeLists.txt): their own
 * loops (row loading, heads, bias copies, reductions) run at the width the
 * context's kernel table runs at; pass.c picks this build by the table's
 * instruction set. */
#define SUF f32
#define ISA avx2
#include "core/tmpl.h"
#include "pass/pass.inc"
#include "pass/step.inc"
