/* SPDX-License-Identifier: MIT */
/* Kernel signatures, BLAS-shaped (row-major C = alpha*op(A)*op(B) + beta*C),
 * written once per element type.  The reference kernels are plain loops kept
 * as the oracle for the fast ones. */
#ifndef MLP_KERNELS_H
#define MLP_KERNELS_H

#include "internal.h"

#define MLP_GEMM_ARGS(T)                                                     \
    bool ta, bool tb, int M, int N, int K, T alpha, const T *A, int lda,      \
        const T *B, int ldb, T beta, T *C, int ldc

void mlp__gemm_ref_f32(MLP_GEMM_ARGS(float));
void mlp__gemm_ref_f64(MLP_GEMM_ARGS(double));

/* Dispatch to the BLAS or to the reference. */
void mlp__gemm_f32(enum mlp_backend be, MLP_GEMM_ARGS(float));
void mlp__gemm_f64(enum mlp_backend be, MLP_GEMM_ARGS(double));

/* The first two stages of the optimisation ladder (src/pass/naive.c): the
 * same pass as mlp__run_pass (same inputs, same outputs: loss, correct,
 * grad, out, t_forward/t_backward, the L2 term), one row at a time.
 * naive: scalar loops over the weights; per-sample: BLAS level-1/2 vector
 * operations (ddot/daxpy/dgemv and their f32 forms).  f32 and f64. */
enum mlp_status mlp__pass_naive(struct mlp_pass *p, struct mlp_error *err);
enum mlp_status mlp__pass_persample(struct mlp_pass *p, struct mlp_error *err);

#endif
