/* SPDX-License-Identifier: MIT */
/* The f64 instance of the reference GEMM (gemm_ref.inc). */
#define SUF f64
#include "core/tmpl.h"
#include "kernels/gemm_ref.inc"
