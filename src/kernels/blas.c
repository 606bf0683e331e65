/* SPDX-License-Identifier: MIT */
/* The BLAS boundary: GEMM dispatch (BLAS or reference), and a
 * description of which BLAS and which of its kernels are active. */
#include "kernels/kernels.h"

#include <cblas.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

/* OpenBLAS extensions (declared by its cblas.h on Debian, repeated here so
 * that the file also documents what it relies on). */
char *openblas_get_corename(void);
char *openblas_get_config(void);
void openblas_set_num_threads(int n);

/* The BLAS's thread count is its own process-wide setting; remember the
 * last one set, so that a pass changes it only when its context asks for
 * another (0: not set yet). */
static atomic_int blas_threads_set;

void mlp__blas_threads(int n)
{
    if (atomic_exchange(&blas_threads_set, n) != n) openblas_set_num_threads(n);
}

void mlp__gemm_f32(enum mlp_backend be, MLP_GEMM_ARGS(float))
{
    if (M == 0 || N == 0) return;
    if (be == MLP_BACKEND_REF) {
        mlp__gemm_ref_f32(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    if (M == 1 && !ta) { /* one row (batch 1): OpenBLAS's GEMM is several times slower than its GEMV */
        cblas_sgemv(CblasRowMajor, tb ? CblasNoTrans : CblasTrans, tb ? N : K, tb ? K : N, alpha, B, ldb, A, 1,
                    beta, C, 1);
        return;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void mlp__gemm_f64(enum mlp_backend be, MLP_GEMM_ARGS(double))
{
    if (M == 0 || N == 0) return;
    if (be == MLP_BACKEND_REF) {
        mlp__gemm_ref_f64(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    if (M == 1 && !ta) { /* one row (batch 1): OpenBLAS's GEMM is several times slower than its GEMV */
        cblas_dgemv(CblasRowMajor, tb ? CblasNoTrans : CblasTrans, tb ? N : K, tb ? K : N, alpha, B, ldb, A, 1,
                    beta, C, 1);
        return;
    }
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* Computed once (the core name cannot change after the library loads),
 * under pthread_once so that two first callers do not race. */
static char blas_info[256];
static pthread_once_t blas_info_once = PTHREAD_ONCE_INIT;

static void blas_info_init(void)
{
    snprintf(blas_info, sizeof blas_info, "%s; core=%s", openblas_get_config(), openblas_get_corename());
}

const char *mlp_blas_info(void)
{
    pthread_once(&blas_info_once, blas_info_init);
    return blas_info;
}
