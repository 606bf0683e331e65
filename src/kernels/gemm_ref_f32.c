/* SPDX-License-Identifier: MIT */
/* The f32 instance of the reference GEMM (gemm_ref.inc). */
#define SUF f32
#include "core/tmpl.h"
#include "kernels/gemm_ref.inc"
