/* SPDX-License-Identifier: MIT */
/* Reference GEMM: the textbook triple loop, accumulated in double, with no
 * blocking and no vectorisation tricks.  It is the oracle the BLAS path is
 * tested against, and the naive stage of the optimisation ladder. */
#include "kernels/kernels.h"

#define GEMM_REF(SUF, T)                                                     \
    void mlp__gemm_ref_##SUF(MLP_GEMM_ARGS(T))                               \
    {                                                                        \
        for (int i = 0; i < M; i++)                                          \
            for (int j = 0; j < N; j++) {                                    \
                double s = 0;                                                \
                for (int k = 0; k < K; k++) {                                \
                    T a = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k]; \
                    T b = tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j]; \
                    s += (double)a * (double)b;                              \
                }                                                            \
                T *c = &C[(size_t)i * ldc + j];                              \
                /* beta == 0 overwrites (NaN in C must not leak through). */ \
                *c = (T)(alpha * s + (beta == 0 ? 0 : (double)beta * *c));   \
            }                                                                \
    }

GEMM_REF(f32, float)
GEMM_REF(f64, double)
