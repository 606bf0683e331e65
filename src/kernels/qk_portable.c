/* SPDX-License-Identifier: MIT */
/* The plain-C inference kernels (kernels/qk.inc) for the target's baseline
 * (plain x86-64 there): the oracle in tests and the fallback everywhere. */
#define QK_SUF portable
#include "kernels/qk.inc"
