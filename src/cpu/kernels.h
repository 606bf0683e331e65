/* SPDX-License-Identifier: MIT */
/* Kernel signatures, BLAS-shaped (row-major C = alpha*op(A)*op(B) + beta*C),
 * written once per element type.  The reference kernels are plain loops kept
 * as the oracle for the fast ones. */
#ifndef MLP_KERNELS_H
#define MLP_KERNELS_H

#include "../internal.h"

#define MLP_GEMM_ARGS(T)                                                     \
    bool ta, bool tb, int M, int N, int K, T alpha, const T *A, int lda,      \
        const T *B, int ldb, T beta, T *C, int ldc

void mlp__gemm_ref_f32(MLP_GEMM_ARGS(float));
void mlp__gemm_ref_f64(MLP_GEMM_ARGS(double));

/* Dispatch to the BLAS or to the reference. */
void mlp__gemm_f32(enum mlp_backend be, MLP_GEMM_ARGS(float));
void mlp__gemm_f64(enum mlp_backend be, MLP_GEMM_ARGS(double));

#endif
