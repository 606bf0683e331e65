/* SPDX-License-Identifier: MIT */
/* The per-element arithmetic of the CUDA backend (engine.cu): input
 * conversion, hidden activations and their derivatives, the output heads
 * on one row, the class of a row, SGD's and Adam's element updates.  The
 * kernels call these and nothing else for the numbers, so that a plain C
 * test (tests/unit/test_dev_math.c) can set the very code the GPU runs
 * beside the CPU's (pass/rows.inc, pass/losses.inc, kernels/act.inc,
 * kernels/adam.inc, train/optim/sgd.inc) on the host.
 *
 * Written in the common subset of C11 and CUDA C++ (no templates, no
 * references, C casts): MLP_HD is __host__ __device__ under nvcc and
 * nothing in C.  The body is dev_math.inc, included twice, once per element
 * type (DM_T, DM(name) -> name_f32 / name_f64), as core/tmpl.h does for the
 * library; every formula in it names the CPU file it follows. */
#ifndef MLP_DEV_MATH_H
#define MLP_DEV_MATH_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "fastmlp.h"

#ifdef __CUDACC__
#define MLP_HD __host__ __device__
#else
#define MLP_HD
#endif

/* The exponent bounds of core/tmpl.h's EXP_CLIP: exp neither overflows nor
 * underflows in the element type. */
#define MLP_DM_EXP_CLIP_f32 80.0f
#define MLP_DM_EXP_CLIP_f64 700.0

#define MLP_DM_CAT_(a, b) a##b
#define MLP_DM_CAT(a, b) MLP_DM_CAT_(a, b)

#define DM_T float
#define DM_SUF f32
#define DM_EXP expf
#define DM_TANH tanhf
#define DM_SQRT sqrtf
#include "device/cuda/dev_math.inc"
#undef DM_T
#undef DM_SUF
#undef DM_EXP
#undef DM_TANH
#undef DM_SQRT

#define DM_T double
#define DM_SUF f64
#define DM_EXP exp
#define DM_TANH tanh
#define DM_SQRT sqrt
#include "device/cuda/dev_math.inc"
#undef DM_T
#undef DM_SUF
#undef DM_EXP
#undef DM_TANH
#undef DM_SQRT

#endif /* MLP_DEV_MATH_H */
