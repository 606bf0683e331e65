/* SPDX-License-Identifier: MIT */
/* The run-time kernel table (src/kernels/ktable.h): every slot of every
 * variant this CPU runs against the portable kernels and a long-double
 * reference, on odd shapes (widths 1, 7, 17, 33, ..., rows 1, 3, 13);
 * the variants it cannot run are named on stdout as skipped and must be
 * refused with a clear MLP_ERR_ARG, by mlp__ktable and by
 * mlp_context_create alike.
 *
 * Tolerances.  With u the unit roundoff of T (2^-24, 2^-53), a sum of n
 * products computed in any order, with or without fused multiply-adds, is
 * within n u sum|terms| of the exact one (Higham, Accuracy and Stability,
 * 3.1: gamma_n = n u / (1 - n u)); a few more operations around it add one
 * u each, hence the (n + 4) u bounds below.  Two variants each within that
 * of the exact value are within twice it of each other.  exp and tanh are
 * glibc's, scalar or libmvec's SIMD versions (documented within 4 ulp), so
 * one variant's sigmoid (exp, add, divide) is within 6 ulp of the exact
 * value and two variants within 12: the checks allow 16 u relative. */
#include "kernels/ktable.h"
#include "internal.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct mlp_rng rng;
static double urand(double a, double b) { return a + (b - a) * mlp__rng_uniform(&rng); }

static const uint32_t widths[] = {1, 7, 17, 33, 64, 71, 130, 200};
static const uint32_t rows[] = {1, 3, 13};
static const uint32_t outs[] = {1, 2, 3, 4, 7, 9, 10, 11, 16};
#define N_(a) (sizeof(a) / sizeof *(a))

/* ---------------------------------------------------------------- narrow */

/* Rows of exactly d bytes each (ASan sees any read past a row). */
static uint8_t **make_rows(uint32_t nb, uint32_t d)
{
    uint8_t **x = malloc(nb * sizeof *x);
    for (uint32_t i = 0; i < nb; i++) {
        x[i] = malloc(d);
        for (uint32_t j = 0; j < d; j++) x[i][j] = (uint8_t)mlp__rng_below(&rng, 256);
    }
    return x;
}

static void free_rows(uint8_t **x, uint32_t nb)
{
    for (uint32_t i = 0; i < nb; i++) free(x[i]);
    free(x);
}


/* ----------------------------------------------------- activations, exp */

static bool exact_act(enum mlp_act a) { return a != MLP_ACT_SIGMOID && a != MLP_ACT_TANH; }

/* The narrow, activation and Adam checks, once per element type. */
#define FN_(name, suf) name##_##suf
#define FN__(name, suf) FN_(name, suf)
#define FN(name) FN__(name, SUF)

#define T float
#define SUF f32
#define SUFS "f32"
#define U 0x1p-24L
#define SQRT sqrtf
#define TINY 0x1p-126
#define CLIP 80.0
#include "ktable_cases.inc"
#undef T
#undef SUF
#undef SUFS
#undef U
#undef SQRT
#undef TINY
#undef CLIP

#define T double
#define SUF f64
#define SUFS "f64"
#define U 0x1p-53L
#define SQRT sqrt
#define TINY 0x1p-1022
#define CLIP 700.0
#include "ktable_cases.inc"
#undef T
#undef SUF
#undef SUFS
#undef U
#undef SQRT
#undef TINY
#undef CLIP

static void narrow_cases(const struct mlp_ktable *kt, const struct mlp_ktable *port)
{
    for (size_t a = 0; a < N_(rows); a++)
        for (size_t w = 0; w < N_(widths); w++)
            for (size_t o = 0; o < N_(outs); o++) {
                narrow_case_f32(kt, port, rows[a], widths[w], outs[o]);
                narrow_case_f64(kt, port, rows[a], widths[w], outs[o]);
            }
    /* a wide row (W1: 12288 pixels, one output) crosses the AVX-512 f64
     * kernel's strips of 2048 columns */
    narrow_case_f64(kt, port, 5, 12288 + 7, 1);
    narrow_case_f32(kt, port, 5, 12288 + 7, 1);
    /* and the 16-register kernels' packed weight strips (32 KiB of
     * weights: with two outputs 2048 f64 or 4096 f32 columns a strip), a
     * row past several strips with a ragged last one, a row of exactly two
     * strips, and rows short enough to be prefetched (<= 4096 bytes) that
     * still cross strips (ten outputs: groups of five, 816 f64 columns) */
    static const uint32_t packed_outs[] = {2, 3, 10, 16};
    for (size_t o = 0; o < N_(packed_outs); o++) {
        narrow_case_f64(kt, port, 5, 4096 + 9, packed_outs[o]);
        narrow_case_f32(kt, port, 5, 8192 + 9, packed_outs[o]);
    }
    narrow_case_f64(kt, port, 5, 4096, 2);
    narrow_case_f32(kt, port, 5, 8192, 2);
    narrow_case_f64(kt, port, 9, 1000, 10);
    narrow_case_f32(kt, port, 9, 2000, 10);
}

/* ------------------------------------------------------------------ GEMM */

/* The table's GEMM (the BLAS, in every variant) against the reference on
 * odd shapes, every transposition: (K + 2) u sum|a b| per element. */
static void gemm_cases(const struct mlp_ktable *kt)
{
    static const int dims[] = {1, 7, 17, 33};
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (size_t a = 0; a < N_(dims); a++)
                for (size_t b = 0; b < N_(dims); b++)
                    for (size_t c = 0; c < N_(dims); c++) {
                        const int M = dims[a], N = dims[b], K = dims[c];
                        double *A = malloc((size_t)M * K * sizeof *A), *B = malloc((size_t)K * N * sizeof *B);
                        double *C = malloc((size_t)M * N * sizeof *C), *R = malloc((size_t)M * N * sizeof *R);
                        float *Af = malloc((size_t)M * K * sizeof *Af), *Bf = malloc((size_t)K * N * sizeof *Bf);
                        float *Cf = malloc((size_t)M * N * sizeof *Cf);
                        for (int i = 0; i < M * K; i++) Af[i] = (float)(A[i] = urand(-1, 1));
                        for (int i = 0; i < K * N; i++) Bf[i] = (float)(B[i] = urand(-1, 1));
                        for (int i = 0; i < M * N; i++) Cf[i] = (float)(C[i] = R[i] = urand(-1, 1));
                        const int lda = ta ? M : K, ldb = tb ? K : N;
                        kt->gemm_f64(MLP_BACKEND_BLAS, ta, tb, M, N, K, 0.5, A, lda, B, ldb, 0.25, C, N);
                        kt->gemm_f32(MLP_BACKEND_BLAS, ta, tb, M, N, K, 0.5f, Af, lda, Bf, ldb, 0.25f, Cf, N);
                        for (int i = 0; i < M; i++)
                            for (int j = 0; j < N; j++) {
                                double e = 0, mag = 0;
                                for (int k = 0; k < K; k++) {
                                    const double t = (ta ? A[k * M + i] : A[i * K + k]) * (tb ? B[j * K + k] : B[k * N + j]);
                                    e += t;
                                    mag += fabs(t);
                                }
                                const double ref = 0.5 * e + 0.25 * R[i * N + j], m2 = 0.5 * mag + 0.25 * fabs(R[i * N + j]);
                                CHECK_MSG(fabs(C[i * N + j] - ref) <= (K + 2) * 0x1p-52 * m2 &&
                                              fabs((double)Cf[i * N + j] - ref) <= (K + 2) * 0x1p-23 * m2,
                                          "gemm %s ta %d tb %d %dx%dx%d: (%d,%d) f64 %.17g f32 %.9g exact %.17g",
                                          mlp_isa_name(kt->isa), ta, tb, M, N, K, i, j, C[i * N + j],
                                          (double)Cf[i * N + j], ref);
                            }
                        free(A), free(B), free(C), free(R), free(Af), free(Bf), free(Cf);
                    }
}

/* --------------------------------------------------------------- tables */

static void table_shape(const struct mlp_ktable *kt, enum mlp_isa want)
{
    CHECK(kt->isa == want);
    for (int s = 0; s < MLP_KS_COUNT; s++) CHECK_MSG(kt->variant[s] && *kt->variant[s], "slot %d unnamed", s);
    CHECK(strcmp(kt->variant[MLP_KS_GEMM], "blas") == 0);
    /* the vector slots run this variant's build (the AVX-512 file serves
     * all three AVX-512 variants) */
    const char *vec = want == MLP_ISA_PORTABLE ? "portable"
                      : want == MLP_ISA_AVX2   ? "avx2"
                      : want == MLP_ISA_NEON   ? "neon"
                                               : "avx512";
    for (int s = MLP_KS_NARROW; s <= MLP_KS_ADAM; s++)
        CHECK_MSG(strcmp(kt->variant[s], vec) == 0, "%s: slot %s is %s", mlp_isa_name(want), mlp__kslot_names[s],
                  kt->variant[s]);
    CHECK(kt->gemm_f32 && kt->gemm_f64 && kt->narrow_fwd_f32 && kt->narrow_fwd_f64 && kt->narrow_bwd_f32 &&
          kt->narrow_bwd_f64 && kt->act_f32 && kt->act_f64 && kt->vexp_f32 && kt->vexp_f64 && kt->adam_f32 &&
          kt->adam_f64);
    /* the quantised kernels: what mlp__qk_select gives for the variant's
     * features (test_quant runs them against the portable ones) */
    for (int q = 0; q < MLP_Q_COUNT; q++) {
        const struct mlp_qk k = mlp__qk_select((enum mlp_qtype)q, kt->qk_features);
        CHECK(strcmp(kt->qk[q].name, k.name) == 0 && strcmp(kt->variant[MLP_KS_Q_F32 + q], k.name) == 0);
        CHECK(kt->qk[q].f32 == k.f32 && kt->qk[q].bf16 == k.bf16 && kt->qk[q].i8 == k.i8 &&
              kt->qk[q].i8g == k.i8g);
    }
    if (want == MLP_ISA_PORTABLE) CHECK(kt->qk_features == 0);
    /* from AVX2 up, the quantised kernels are the AVX2 intrinsics (int8:
     * AVX-VNNI's where the CPU has it): every quant slot of the AVX2
     * variant says so, and the AVX-512 variants fall back on them (test_quant
     * compares their bits) */
    if (want >= MLP_ISA_AVX2 && want <= MLP_ISA_AVX512_BF16) CHECK(kt->qk_features & MLP_QK_HAS_AVX2);
    /* NEON: its own quantised kernels in every slot, x86's features never */
    if (want == MLP_ISA_NEON) {
        CHECK((kt->qk_features & MLP_QK_HAS_NEON) && !(kt->qk_features & (MLP_QK_HAS_AVX2 | MLP_QK_HAS_AVX512)));
        for (int q = 0; q < MLP_Q_COUNT; q++)
            CHECK_MSG(strncmp(kt->qk[q].name, "neon", 4) == 0, "neon: slot %s is %s",
                      mlp__kslot_names[MLP_KS_Q_F32 + q], kt->qk[q].name);
    }
    if (want == MLP_ISA_AVX2)
        for (int q = 0; q < MLP_Q_COUNT; q++) {
            const char *v = kt->variant[MLP_KS_Q_F32 + q];
            const bool vnni = q == MLP_Q_INT8 && (kt->qk_features & MLP_QK_HAS_AVXVNNI);
            CHECK_MSG(strcmp(v, vnni ? "avx-vnni" : "avx2") == 0, "avx2: slot %s is %s",
                      mlp__kslot_names[MLP_KS_Q_F32 + q], v);
        }
    if (want > MLP_ISA_AVX2 && want <= MLP_ISA_AVX512_BF16)
        for (int q = 0; q < MLP_Q_COUNT; q++)
            CHECK_MSG(strcmp(kt->qk[q].name, "portable") != 0, "%s: slot %s is portable", mlp_isa_name(want),
                      mlp__kslot_names[MLP_KS_Q_F32 + q]);
}

/* The quantised kernels' selection by feature bits, on any CPU (nothing is
 * run): cpuid 7.1 EAX bit 4 is AVX-VNNI, which gives the int8 slot its
 * vpdpbusd kernels (batch kernel included) on AVX2, and nothing else;
 * AVX-512 VNNI still wins where both are there. */
static void qk_selection(void)
{
    /* aarch64's hardware capabilities: AT_HWCAP bit 20 ASIMDDP, AT_HWCAP2
     * bit 13 I8MM, bit 14 BF16; no other bit gives anything */
    CHECK(mlp__qk_hwcap_features(1ul << 20, 0) == MLP_QK_HAS_DOTPROD);
    CHECK(mlp__qk_hwcap_features(0, 1ul << 13) == MLP_QK_HAS_I8MM);
    CHECK(mlp__qk_hwcap_features(0, 1ul << 14) == MLP_QK_HAS_ARM_BF16);
    CHECK(mlp__qk_hwcap_features(~(1ul << 20), ~(3ul << 13)) == 0);
    CHECK(mlp__qk_hwcap_features(~0ul, ~0ul) == (MLP_QK_HAS_DOTPROD | MLP_QK_HAS_I8MM | MLP_QK_HAS_ARM_BF16));
    CHECK(mlp__qk_cpuid_features(1u << 4) == MLP_QK_HAS_AVXVNNI);
    CHECK(mlp__qk_cpuid_features(~(1u << 4)) == 0);
    CHECK(mlp__qk_cpuid_features(0) == 0);
    const struct mlp_qk none = mlp__qk_select(MLP_Q_INT8, 0);
    CHECK(strcmp(none.name, "portable") == 0 && none.i8g == NULL && none.i8 == mlp__qk_i8_portable);
    /* AVX-VNNI without AVX2 is no feature set ktable.c makes: portable */
    CHECK(strcmp(mlp__qk_select(MLP_Q_INT8, MLP_QK_HAS_AVXVNNI).name, "portable") == 0);
#ifdef MLP_QK_AVX2
    const unsigned avx2 = MLP_QK_HAS_AVX2, vnni = avx2 | mlp__qk_cpuid_features(1u << 4);
    const struct mlp_qk a = mlp__qk_select(MLP_Q_INT8, avx2), v = mlp__qk_select(MLP_Q_INT8, vnni);
    CHECK(strcmp(a.name, "avx2") == 0 && a.i8 == mlp__qk_i8_avx2 && a.i8g == mlp__qk_i8g_avx2 &&
          a.range == mlp__qk_range_avx2 && a.u8q == mlp__qk_u8q_avx2 && a.sigmoid == mlp__qk_sigmoid_avx2);
    CHECK(strcmp(v.name, "avx-vnni") == 0 && v.i8 == mlp__qk_i8_avxvnni && v.i8g == mlp__qk_i8g_avxvnni &&
          v.range == mlp__qk_range_avx2 && v.u8q == mlp__qk_u8q_avx2 && v.sigmoid == mlp__qk_sigmoid_avx2);
    for (int q = MLP_Q_F32; q <= MLP_Q_BF16; q++) {
        const struct mlp_qk f = mlp__qk_select((enum mlp_qtype)q, vnni);
        CHECK(strcmp(f.name, "avx2") == 0 && (q == MLP_Q_F32 ? f.f32 == mlp__qk_f32_avx2 : f.bf16 == mlp__qk_bf16_avx2));
    }
    const unsigned a512v = vnni | MLP_QK_HAS_AVX512 | MLP_QK_HAS_AVX512_VNNI;
    CHECK(strcmp(mlp__qk_select(MLP_Q_INT8, a512v).name, "avx512-vnni") == 0);
    CHECK(strcmp(mlp__qk_select(MLP_Q_INT8, vnni | MLP_QK_HAS_AVX512).name, "avx512bw") == 0);
#endif
}

int main(void)
{
    mlp__rng_seed(&rng, 13);
    struct mlp_error err;
    const struct mlp_ktable *port = mlp__ktable(MLP_ISA_PORTABLE, &err);
    CHECK(port != NULL);
    if (!port) return check_report("ktable");
    const struct mlp_ktable *best = mlp__ktable(MLP_ISA_AUTO, NULL);
    CHECK(best != NULL && mlp__ktable(MLP_ISA_AUTO, NULL) == best); /* chosen once */
    int ran = 0, skipped = 0;
    enum mlp_isa top = MLP_ISA_PORTABLE;
    for (int i = MLP_ISA_PORTABLE; i <= MLP_ISA_LAST; i++) {
        const enum mlp_isa want = (enum mlp_isa)i;
        memset(&err, 0, sizeof err);
        const struct mlp_ktable *kt = mlp__ktable(want, &err);
        struct mlp_context_params cp = mlp_context_params_default();
        cp.isa = want;
        cp.threads = 1;
        struct mlp_context *c = NULL;
        struct mlp_error cerr;
        const enum mlp_status cst = mlp_context_create(&c, &cp, &cerr);
        if (!kt) {
            /* refused, clearly: the status, the name, what it lacks, what runs */
            CHECK(err.status == MLP_ERR_ARG && strstr(err.msg, mlp_isa_name(want)) &&
                  strstr(err.msg, "cannot run") && strstr(err.msg, "this one runs: portable"));
            CHECK(cst == MLP_ERR_ARG && c == NULL && strcmp(cerr.msg, err.msg) == 0);
            printf("test_ktable: skipped %s: %s\n", mlp_isa_name(want), err.msg);
            skipped++;
            continue;
        }
        CHECK_STATUS(cst, MLP_OK);
        CHECK(mlp__ktable(want, NULL) == kt); /* the same table every time */
        if (c) {
            CHECK(mlp_context_isa(c) == want && mlp_context_isa_used(c) == want);
            const char *v = NULL;
            CHECK(strcmp(mlp_context_kernel(c, MLP_KS_NARROW, &v), "narrow") == 0 && v == kt->variant[MLP_KS_NARROW]);
            CHECK(mlp_context_kernel(c, MLP_KS_COUNT, &v) == NULL);
        }
        mlp_context_free(c);
        top = want;
        table_shape(kt, want);
#if defined(__x86_64__)
        /* the fast stage's rule (ktable.h, narrow_fast): every x86-64
         * variant converts pixels in vector registers, so takes the fused
         * kernel (the rule's other side, a scalar build, is aarch64's) */
        CHECK(kt->narrow_fast);
#elif defined(__aarch64__)
        /* NEON converts pixels in vector registers; aarch64's portable
         * build is the plain C, one scalar conversion per pixel: the BLAS
         * stage */
        CHECK(kt->narrow_fast == (want == MLP_ISA_NEON));
#endif
        printf("test_ktable: %s:", mlp_isa_name(want));
        for (int s = 0; s < MLP_KS_COUNT; s++) printf(" %s=%s", mlp__kslot_names[s], kt->variant[s]);
        printf("\n");
        narrow_cases(kt, port);
        static const uint32_t ns[] = {1, 7, 17, 33, 100};
        for (size_t k = 0; k < N_(ns); k++) {
            act_case_f32(kt, port, ns[k]);
            act_case_f64(kt, port, ns[k]);
            for (int two = 0; two < 2; two++) {
                adam_case_f32(kt, port, ns[k], two);
                adam_case_f64(kt, port, ns[k], two);
            }
        }
        position_case_f32(kt);
        position_case_f64(kt);
        gemm_cases(kt);
        ran++;
    }
    CHECK(best == mlp__ktable(top, NULL)); /* AUTO: the best variant that runs */
    printf("test_ktable: %d variants run, %d skipped (this CPU lacks them); auto = %s\n", ran, skipped,
           mlp_isa_name(best->isa));
    qk_selection();
    return check_report("ktable");
}
