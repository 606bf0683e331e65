/* SPDX-License-Identifier: MIT */
/* The fast pass and the unit-split step (pass.inc, step.inc) for f64, the
 * NEON variant's build (aarch64 only, CMakeLists.txt): multiply-adds
 * contracted into FMAs, as in the AVX2 and AVX-512 builds, while aarch64's
 * portable build (pass_f64.c) keeps x86-64's portable arithmetic, one
 * rounding per operation; pass.c picks this build by the table's
 * instruction set. */
#define SUF f64
#define ISA neon
#include "core/tmpl.h"
#include "pass/pass.inc"
#include "pass/step.inc"
