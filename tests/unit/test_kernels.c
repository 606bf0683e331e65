/* SPDX-License-Identifier: MIT */
/* Fast kernels against the reference kernels: GEMM in every transpose
 * combination, and whole forward/backward passes (BLAS vs plain loops) over
 * odd sizes, block sizes below and above the row count, index lists, f32 and
 * f64, on 1 and 2 threads.  The kernel table's exp, sigmoid and tanh
 * (kernels/act.inc), in every variant this CPU runs, against the scalar
 * libm value by value: ulps, special values, FP exceptions. */
#include "check.h"
#include "testutil.h"
#include "kernels/kernels.h"

#include <fenv.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

static void fill(struct mlp_rng *r, double *a, size_t n)
{
    for (size_t i = 0; i < n; i++) a[i] = mlp__rng_uniform(r) * 2 - 1;
}

static void gemm_cases(void)
{
    /* M = 1 (batch 1) takes the GEMV path of blas.c */
    const int sizes[][3] = {{1, 1, 1}, {1, 37, 19}, {1, 5, 300}, {3, 5, 7}, {17, 1, 33}, {64, 65, 63}, {130, 31, 257}};
    struct mlp_rng r;
    mlp__rng_seed(&r, 3);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                int M = sizes[s][0], N = sizes[s][1], K = sizes[s][2];
                size_t na = (size_t)M * K, nb = (size_t)K * N, nc = (size_t)M * N;
                double *A = malloc(na * 8), *B = malloc(nb * 8), *C1 = malloc(nc * 8), *C2 = malloc(nc * 8);
                float *Af = malloc(na * 4), *Bf = malloc(nb * 4), *C1f = malloc(nc * 4), *C2f = malloc(nc * 4);
                fill(&r, A, na);
                fill(&r, B, nb);
                fill(&r, C1, nc);
                memcpy(C2, C1, nc * 8);
                for (size_t i = 0; i < na; i++) Af[i] = (float)A[i];
                for (size_t i = 0; i < nb; i++) Bf[i] = (float)B[i];
                for (size_t i = 0; i < nc; i++) C1f[i] = C2f[i] = (float)C1[i];
                int lda = ta ? M : K, ldb = tb ? K : N;
                mlp__gemm_f64(MLP_BACKEND_BLAS, ta, tb, M, N, K, 0.5, A, lda, B, ldb, 0.75, C1, N);
                mlp__gemm_f64(MLP_BACKEND_REF, ta, tb, M, N, K, 0.5, A, lda, B, ldb, 0.75, C2, N);
                mlp__gemm_f32(MLP_BACKEND_BLAS, ta, tb, M, N, K, 0.5f, Af, lda, Bf, ldb, 0.75f, C1f, N);
                mlp__gemm_f32(MLP_BACKEND_REF, ta, tb, M, N, K, 0.5f, Af, lda, Bf, ldb, 0.75f, C2f, N);
                double e64 = 0, e32 = 0;
                for (size_t i = 0; i < nc; i++) {
                    e64 = fmax(e64, fabs(C1[i] - C2[i]));
                    e32 = fmax(e32, fabs(C1f[i] - C2f[i]));
                }
                CHECK_MSG(e64 < 1e-12 * K, "dgemm %dx%dx%d ta=%d tb=%d: max error %.3g", M, N, K, ta, tb, e64);
                CHECK_MSG(e32 < 1e-5 * K, "sgemm %dx%dx%d ta=%d tb=%d: max error %.3g", M, N, K, ta, tb, e32);
                free(A), free(B), free(C1), free(C2), free(Af), free(Bf), free(C1f), free(C2f);
            }
}

/* A pass through the BLAS against one through the reference kernels. */
static void pass_case(enum mlp_dtype dt, uint32_t n_in, const uint32_t *widths, uint32_t n_hidden, uint32_t K,
                      enum mlp_head head, uint64_t rows, uint32_t block, bool use_index, enum mlp_elem xt)
{
    struct mlp_layer_spec hidden[4];
    const enum mlp_act acts[4] = {MLP_ACT_RELU, MLP_ACT_TANH, MLP_ACT_SIGMOID, MLP_ACT_LEAKY_RELU};
    for (uint32_t i = 0; i < n_hidden; i++) hidden[i] = (struct mlp_layer_spec){widths[i], acts[i % 4]};
    struct mlp_model_params p = mlp_model_params_default();
    p.dtype = dt;
    p.n_in = n_in;
    p.n_hidden = n_hidden;
    p.hidden = hidden;
    p.n_out = K;
    p.head = head;
    p.input_scale = xt == MLP_ELEM_U8 ? 1.0 / 255 : 1.0;
    struct mlp_model *m = NULL;
    p.ctx = test_ctx();
    CHECK_STATUS(mlp_model_create(&m, &p, NULL), MLP_OK);
    if (!m) return;
    mlp_model_init(m, MLP_INIT_XAVIER, 0, 0, rows + n_in);
    struct mlp_rng r;
    mlp__rng_seed(&r, rows * 31 + K);
    size_t nx = rows * n_in;
    double *xd = malloc(nx * 8);
    float *xf = malloc(nx * 4);
    uint8_t *xu = malloc(nx);
    int32_t *y = malloc(rows * 4);
    uint64_t *idx = malloc(rows * 8);
    fill(&r, xd, nx);
    for (size_t i = 0; i < nx; i++) {
        xf[i] = (float)xd[i];
        xu[i] = (uint8_t)mlp__rng_below(&r, 256);
    }
    for (uint64_t i = 0; i < rows; i++) {
        y[i] = (int32_t)mlp__rng_below(&r, K == 1 ? 2 : K);
        idx[i] = mlp__rng_below(&r, rows);
    }
    struct mlp_dataset ds = {.n_rows = rows, .n_cols = n_in, .x_type = xt,
                             .x = xt == MLP_ELEM_U8 ? (void *)xu : xt == MLP_ELEM_F32 ? (void *)xf : (void *)xd,
                             .labels = y, .n_classes = K == 1 ? 2 : K};
    size_t n = mlp_model_n_params(m), es = dt == MLP_F32 ? 4 : 8;
    void *g1 = malloc(n * es), *g2 = malloc(n * es);
    double *o1 = malloc(rows * K * 8), *o2 = malloc(rows * K * 8);
    struct mlp_pass a = {.m = m, .ds = &ds, .n = rows, .rows = use_index ? idx : NULL, .l2 = 0.25,
                         .backend = MLP_BACKEND_BLAS, .block_rows = block, .grad = g1, .out = o1};
    struct mlp_pass b = a;
    b.backend = MLP_BACKEND_REF;
    b.grad = g2;
    b.out = o2;
    CHECK_STATUS(mlp__run_pass(&a, NULL), MLP_OK);
    CHECK_STATUS(mlp__run_pass(&b, NULL), MLP_OK);
    double tol = dt == MLP_F32 ? 2e-4 : 1e-11, eg = 0, eo = 0, gmax = 0;
    for (size_t i = 0; i < n; i++) {
        double u = dt == MLP_F32 ? ((float *)g1)[i] : ((double *)g1)[i];
        double v = dt == MLP_F32 ? ((float *)g2)[i] : ((double *)g2)[i];
        eg = fmax(eg, fabs(u - v));
        gmax = fmax(gmax, fabs(v));
    }
    for (size_t i = 0; i < rows * K; i++) eo = fmax(eo, fabs(o1[i] - o2[i]));
    CHECK_MSG(eg <= tol * (1 + gmax) && eo <= tol && fabs(a.loss - b.loss) <= tol * (1 + fabs(b.loss)) &&
                  a.correct == b.correct && gmax > 0,
              "%s n_in=%u hidden=%u K=%u rows=%llu block=%u index=%d x=%d: grad err %.3g (max %.3g), out err %.3g, "
              "loss %.12g vs %.12g",
              mlp_dtype_name(dt), n_in, n_hidden, K, (unsigned long long)rows, block, use_index, (int)xt, eg, gmax, eo,
              a.loss, b.loss);
    free(xd), free(xf), free(xu), free(y), free(idx), free(g1), free(g2), free(o1), free(o2);
    mlp_model_free(m);
}

static void pass_cases(void)
{
    const uint32_t w1[] = {7}, w2[] = {33, 1}, w3[] = {257, 17, 5}, w4[] = {64, 65, 63, 9};
    for (int d = 0; d < 2; d++) {
        enum mlp_dtype dt = d ? MLP_F64 : MLP_F32;
        pass_case(dt, 1, NULL, 0, 1, MLP_HEAD_SIGMOID_BCE, 1, 0, false, MLP_ELEM_F64);
        pass_case(dt, 3, w1, 1, 2, MLP_HEAD_SOFTMAX_CE, 5, 0, false, MLP_ELEM_F32);
        pass_case(dt, 17, w2, 2, 3, MLP_HEAD_SIGMOID_BCE, 300, 7, true, MLP_ELEM_U8);
        pass_case(dt, 65, w3, 3, 10, MLP_HEAD_SOFTMAX_CE, 300, 0, false, MLP_ELEM_U8);
        pass_case(dt, 65, w3, 3, 10, MLP_HEAD_SOFTMAX_CE, 300, 1, true, MLP_ELEM_F64);
        pass_case(dt, 130, w4, 4, 4, MLP_HEAD_SOFTMAX_CE, 513, 256, false, MLP_ELEM_F32);
        pass_case(dt, 130, w4, 4, 1, MLP_HEAD_SIGMOID_BCE, 129, 600, true, MLP_ELEM_U8);
        /* uint8 rows into a first layer of at most 16 outputs: the fused
         * narrow kernel (forward.c), at widths around its vector length
         * (8 and 16 lanes, two vectors per backward step) and row counts
         * around its groups of 4; 17 outputs is the GEMM path again. */
        const uint32_t n_ins[] = {1, 7, 8, 15, 16, 17, 31, 33, 1030};
        const uint32_t w5[] = {16}, w6[] = {5, 3}, w7[] = {17};
        for (size_t i = 0; i < sizeof n_ins / sizeof *n_ins; i++) {
            uint32_t n = n_ins[i];
            pass_case(dt, n, NULL, 0, 1, MLP_HEAD_SIGMOID_BCE, 37 + i, 0, false, MLP_ELEM_U8);
            pass_case(dt, n, NULL, 0, 10, MLP_HEAD_SOFTMAX_CE, 41, 6, true, MLP_ELEM_U8);
            pass_case(dt, n, w5, 1, 3, MLP_HEAD_SOFTMAX_CE, 70, 9, false, MLP_ELEM_U8);
            pass_case(dt, n, w6, 2, 7, MLP_HEAD_SIGMOID_BCE, 35, 0, true, MLP_ELEM_U8);
            pass_case(dt, n, w7, 1, 2, MLP_HEAD_SOFTMAX_CE, 19, 0, false, MLP_ELEM_U8);
        }
        /* Every group shape of narrow_impl.h: outputs 1..16 (one group up
         * to 10, two from 11), so 4/3/2-row forward tiles and their
         * leftover rows (23 rows, blocks of 7 and of all rows: tiles with
         * and without the next tile prefetched), and widths below and
         * above the backward tiles (2-16 vectors of 8 or 16 lanes: 300 =
         * 256 + 44 columns in f32, 2 x 128 + 44 in f64) with leftover
         * vectors and tail columns. */
        for (uint32_t k = 1; k <= 16; k++)
            for (int wi = 0; wi < 3; wi++) {
                uint32_t n = wi == 0 ? 37 : wi == 1 ? 300 : 47;
                enum mlp_head h = k == 1 ? MLP_HEAD_SIGMOID_BCE : MLP_HEAD_SOFTMAX_CE;
                pass_case(dt, n, NULL, 0, k, h, 23, wi == 1 ? 7 : 0, wi == 2, MLP_ELEM_U8);
                /* the same first layer under a hidden one: dZ from the
                 * layer above, and the activation on the fused output */
                const uint32_t w9[] = {k};
                if (wi == 1) pass_case(dt, n, w9, 1, 3, MLP_HEAD_SOFTMAX_CE, 23, 0, false, MLP_ELEM_U8);
            }
        /* f64, one or two outputs: the strided kernels over several strips
         * of 2048 columns (4200 = 2 x 2048 + 64 + 40) and fewer than 64 */
        pass_case(dt, 4200, NULL, 0, 1, MLP_HEAD_SIGMOID_BCE, 9, 0, false, MLP_ELEM_U8);
        pass_case(dt, 4200, NULL, 0, 2, MLP_HEAD_SOFTMAX_CE, 6, 0, true, MLP_ELEM_U8);
        pass_case(dt, 63, NULL, 0, 1, MLP_HEAD_SIGMOID_BCE, 13, 0, false, MLP_ELEM_U8);
    }
}

/* Inference on a few rows through layers of >= 1 MB of weights: the fast
 * pass splits each layer's outputs over the pool (pass_impl.h,
 * split_gemms); outputs and loss against the reference pass. */
static void split_case(enum mlp_dtype dt, uint64_t rows, uint32_t width)
{
    const struct mlp_layer_spec hidden[] = {{width, MLP_ACT_SIGMOID}, {width + 3, MLP_ACT_TANH}};
    struct mlp_model_params p = mlp_model_params_default();
    p.dtype = dt;
    p.n_in = width - 5;
    p.n_hidden = 2;
    p.hidden = hidden;
    p.n_out = 3;
    struct mlp_model *m = NULL;
    p.ctx = test_ctx();
    CHECK_STATUS(mlp_model_create(&m, &p, NULL), MLP_OK);
    if (!m) return;
    mlp_model_init(m, MLP_INIT_XAVIER, 0, 0, width);
    struct mlp_rng r;
    mlp__rng_seed(&r, rows + width);
    double *x = malloc(rows * p.n_in * 8), *o1 = malloc(rows * 3 * 8), *o2 = malloc(rows * 3 * 8);
    int32_t *y = malloc(rows * 4);
    fill(&r, x, rows * p.n_in);
    for (uint64_t i = 0; i < rows; i++) y[i] = (int32_t)(i % 3);
    struct mlp_dataset ds = {.n_rows = rows, .n_cols = p.n_in, .x_type = MLP_ELEM_F64, .x = x, .labels = y,
                             .n_classes = 3};
    struct mlp_pass a = {.m = m, .ds = &ds, .n = rows, .backend = MLP_BACKEND_BLAS, .out = o1};
    struct mlp_pass b = a;
    b.backend = MLP_BACKEND_REF;
    b.out = o2;
    CHECK_STATUS(mlp__run_pass(&a, NULL), MLP_OK);
    CHECK_STATUS(mlp__run_pass(&b, NULL), MLP_OK);
    double tol = dt == MLP_F32 ? 1e-4 : 1e-11, eo = 0;
    for (size_t i = 0; i < rows * 3; i++) eo = fmax(eo, fabs(o1[i] - o2[i]));
    CHECK_MSG(eo <= tol && fabs(a.loss - b.loss) <= tol * (1 + fabs(b.loss)) && a.correct == b.correct,
              "split %s rows=%llu width=%u: out err %.3g, loss %.12g vs %.12g", mlp_dtype_name(dt),
              (unsigned long long)rows, width, eo, a.loss, b.loss);
    free(x), free(o1), free(o2), free(y);
    mlp_model_free(m);
}

/* ------------------------------------------------- activations vs libm */

/* The three vector functions of the activations slot, each against what the
 * portable build computes from the scalar libm: exp (the softmax head's,
 * whose arguments are <= 0, but any value is checked), sigmoid (after its
 * clip to +-EXP_CLIP) and tanh (any value).  In double, f32 values rounded
 * on the way in and computed in float. */
enum act_op { OP_EXP, OP_SIGMOID, OP_TANH, OP_COUNT };
static const char *const act_op_names[OP_COUNT] = {"exp", "sigmoid", "tanh"};

/* Within this many ulps of the scalar function's value: glibc documents
 * its SIMD exp and tanh (libmvec, the x86-64 variants) within 4 ulp, as the
 * NEON ones were written to be (kernels/act.inc; measured at most 1 ulp
 * from expf/exp and 3 from tanhf/tanh); a sigmoid built on an exp 4 ulp
 * away takes one addition and one division more on each side. */
static const double act_ulps[OP_COUNT] = {4, 6, 4};

static double act_ref(enum act_op op, bool f64, double x)
{
    if (f64) {
        switch (op) {
        case OP_EXP: return exp(x);
        case OP_SIGMOID: x = x < -700.0 ? -700.0 : x > 700.0 ? 700.0 : x; return 1.0 / (1.0 + exp(-x));
        default: return tanh(x);
        }
    }
    const float xf = (float)x;
    switch (op) {
    case OP_EXP: return expf(xf);
    case OP_SIGMOID: {
        const float c = xf < -80.0f ? -80.0f : xf > 80.0f ? 80.0f : xf;
        return 1.0f / (1.0f + expf(-c));
    }
    default: return tanhf(xf);
    }
}

/* op on x[0..n) in place through the table kt, in T (n <= 64) */
static void act_run(const struct mlp_ktable *kt, enum act_op op, bool f64, double *x, size_t n)
{
    if (f64) {
        if (op == OP_EXP)
            kt->vexp_f64(x, n);
        else
            kt->act_f64(op == OP_SIGMOID ? MLP_ACT_SIGMOID : MLP_ACT_TANH, 0.01, x, n);
        return;
    }
    float t[64];
    for (size_t i = 0; i < n; i++) t[i] = (float)x[i];
    if (op == OP_EXP)
        kt->vexp_f32(t, n);
    else
        kt->act_f32(op == OP_SIGMOID ? MLP_ACT_SIGMOID : MLP_ACT_TANH, 0.01f, t, n);
    for (size_t i = 0; i < n; i++) x[i] = t[i];
}

/* ulps between a and b in T (NaN and NaN: 0; NaN and a number: huge) */
static double act_ulp_dist(bool f64, double a, double b)
{
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b) ? 0 : HUGE_VAL;
    uint64_t ka, kb;
    if (f64) {
        memcpy(&ka, &a, 8);
        memcpy(&kb, &b, 8);
    } else {
        const float fa = (float)a, fb = (float)b;
        uint32_t ja, jb;
        memcpy(&ja, &fa, 4);
        memcpy(&jb, &fb, 4);
        ka = (uint64_t)ja << 32, kb = (uint64_t)jb << 32;
    }
    /* sign-magnitude bits to one increasing unsigned line */
    ka = ka >> 63 ? ~ka : ka | 1ull << 63;
    kb = kb >> 63 ? ~kb : kb | 1ull << 63;
    const uint64_t d = ka > kb ? ka - kb : kb - ka;
    return f64 ? (double)d : (double)(d >> 32);
}

static bool act_same_bits(bool f64, double a, double b)
{
    if (f64) return memcmp(&a, &b, 8) == 0;
    const float fa = (float)a, fb = (float)b;
    return memcmp(&fa, &fb, 4) == 0;
}

/* The FP exceptions checked: all four where the functions are this
 * library's (NEON); on x86-64 they are glibc's libmvec, whose SSE2 builds
 * raise underflow for arguments below about 2^-60 (results near 1 or x)
 * and whose exp raises overflow for arguments far below the clip (-1e10
 * f32, -1e299 f64: results 0), where the scalar functions raise neither;
 * glibc's business, so only invalid and divide-by-zero there. */
static int act_flags(const struct mlp_ktable *kt)
{
    return kt->isa == MLP_ISA_NEON ? FE_INVALID | FE_DIVBYZERO | FE_OVERFLOW | FE_UNDERFLOW
                                   : FE_INVALID | FE_DIVBYZERO;
}

/* Every value of x alone (n = 1, the block padded with zeros), then the
 * whole list in calls of n values for n across the block size (16): each
 * value within act_ulps of the scalar function, NaN where it is NaN, and
 * the same bits wherever it sits (act.inc's block design: a NEON vector
 * with one lane out of exp's fast range takes the general path, which must
 * give the other lanes the fast path's bits).  Finite values alone also
 * raise no FP exception the scalar function does not (act_flags). */
static void act_table_case(const struct mlp_ktable *kt, bool f64, enum act_op op, const double *x, size_t n,
                           double *worst)
{
    double *one = malloc(n * sizeof *one), *y = malloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++) {
        const double ref = act_ref(op, f64, x[i]);
        int ref_flags = 0, flags;
        if (isfinite(x[i])) {
            feclearexcept(FE_ALL_EXCEPT);
            volatile double r = act_ref(op, f64, x[i]);
            (void)r;
            ref_flags = fetestexcept(act_flags(kt));
        }
        one[i] = x[i];
        feclearexcept(FE_ALL_EXCEPT);
        act_run(kt, op, f64, &one[i], 1);
        flags = fetestexcept(act_flags(kt));
        const double d = act_ulp_dist(f64, one[i], ref);
        if (d > *worst && d != HUGE_VAL) *worst = d;
        CHECK_MSG(d <= act_ulps[op], "%s %s %s: x %a: %a, libm %a (%.0f ulp)", act_op_names[op],
                  f64 ? "f64" : "f32", mlp_isa_name(kt->isa), x[i], one[i], ref, d);
        CHECK_MSG(!isfinite(x[i]) || (flags & ~ref_flags) == 0,
                  "%s %s %s: x %a: raised FP exceptions %#x, libm %#x", act_op_names[op], f64 ? "f64" : "f32",
                  mlp_isa_name(kt->isa), x[i], (unsigned)flags, (unsigned)ref_flags);
    }
    static const size_t ns[] = {2, 3, 5, 15, 16, 17, 31, 33, 64};
    for (size_t k = 0; k < sizeof ns / sizeof *ns; k++) {
        memcpy(y, x, n * sizeof *y);
        for (size_t i = 0; i < n; i += ns[k]) act_run(kt, op, f64, y + i, n - i < ns[k] ? n - i : ns[k]);
        for (size_t i = 0; i < n; i++)
            CHECK_MSG(act_same_bits(f64, y[i], one[i]), "%s %s %s: x %a at %zu in calls of %zu: %a, alone %a",
                      act_op_names[op], f64 ? "f64" : "f32", mlp_isa_name(kt->isa), x[i], i % ns[k], ns[k], y[i],
                      one[i]);
    }
    free(one), free(y);
}

/* The arguments: each type's edges (zeros, subnormals, the smallest
 * normal, tanh's x-alone bound, exp's fast-path bound |x| = 87 / 708, the
 * clip +-EXP_CLIP, where exp overflows and underflows, huge, infinite,
 * NaN), then random values over [-1.2 EXP_CLIP, 1.2 EXP_CLIP], [-10, 10]
 * and all magnitudes. */
static size_t act_inputs(bool f64, struct mlp_rng *r, double *x, size_t cap)
{
    static const double edges32[] = {0x1p-149, 0x1.8p-140, 0x1p-126, 1e-30, 0x1p-25, 0x1.fffffep-13, 0x1p-12,
                                     0x1.000002p-12, 0.1, 0x1.62e43p-2, 0.55, 1, 3.9, 8.5, 9.1, 17, 32, 33, 80,
                                     86.99, 87, 0x1.5c0002p6, 88.5, 0x1.62e42ep6, 0x1.62e430p6, 100, 103.9,
                                     104, 149, 150, 151, 1e10, 1e30, FLT_MAX};
    static const double edges64[] = {0x1p-1074, 0x1.8p-1060, 0x1p-1022, 1e-300, 0x1p-54, 0x1.fffffffffffffp-28,
                                     0x1p-27, 0x1.0000000000001p-27, 0.1, 0x1.62e42fefa39efp-2, 0.55, 1, 3.9,
                                     17, 19.1, 32, 33, 80, 700, 707.99, 708, 0x1.6200000000001p9, 709,
                                     0x1.62e42fefa39efp+9, 0x1.62e42fefa39fp+9, 720, 744, 745.2, 746, 747, 1e10,
                                     1e300, DBL_MAX};
    const double *e = f64 ? edges64 : edges32;
    const size_t ne = f64 ? sizeof edges64 / sizeof *edges64 : sizeof edges32 / sizeof *edges32;
    const double clip = f64 ? 700.0 : 80.0;
    size_t n = 0;
    x[n++] = 0.0;
    x[n++] = -0.0;
    x[n++] = INFINITY;
    x[n++] = -INFINITY;
    x[n++] = NAN;
    x[n++] = -NAN;
    for (size_t i = 0; i < ne; i++) {
        const double v = f64 ? e[i] : (double)(float)e[i];
        x[n++] = v;
        x[n++] = -v;
    }
    while (n < cap) {
        const double u = mlp__rng_uniform(r) * 2 - 1;
        double v = n % 3 == 0 ? u * 1.2 * clip : n % 3 == 1 ? u * 10 : ldexp(u, (int)mlp__rng_below(r, 80) - 60);
        x[n++] = f64 ? v : (double)(float)v;
    }
    return n;
}

static void act_cases(void)
{
    enum { N = 600 };
    double x[N];
    for (int isa = MLP_ISA_PORTABLE; isa <= MLP_ISA_LAST; isa++) {
        const struct mlp_ktable *kt = mlp__ktable((enum mlp_isa)isa, NULL);
        if (!kt) continue;
        struct mlp_rng r; /* the same values for every variant */
        mlp__rng_seed(&r, 19);
        for (int t = 0; t < 2; t++) {
            const bool f64 = t == 1;
            const size_t n = act_inputs(f64, &r, x, N);
            double worst[OP_COUNT] = {0};
            for (int op = 0; op < OP_COUNT; op++) act_table_case(kt, f64, (enum act_op)op, x, n, &worst[op]);
            printf("test_kernels: %s %s: exp %.0f ulp, sigmoid %.0f, tanh %.0f from libm\n", mlp_isa_name(kt->isa),
                   f64 ? "f64" : "f32", worst[OP_EXP], worst[OP_SIGMOID], worst[OP_TANH]);
        }
    }
}

int main(void)
{
    act_cases();
    /* every instruction-set variant this CPU runs (the fast pass and its
     * kernels are built once per variant), on 1 and 2 threads */
    for (int isa = MLP_ISA_PORTABLE; isa <= MLP_ISA_LAST; isa++) {
        if (!test_use_isa(1, MLP_KERNELS_FAST, (enum mlp_isa)isa)) {
            printf("test_kernels: skipped %s (this CPU cannot run it)\n", mlp_isa_name((enum mlp_isa)isa));
            continue;
        }
        for (int threads = 1; threads <= 2; threads++) {
            test_use_isa(threads, MLP_KERNELS_FAST, (enum mlp_isa)isa);
            pass_cases();
        }
    }
    for (int threads = 1; threads <= 2; threads++) {
        test_use(threads, MLP_KERNELS_FAST);
        gemm_cases();
        pass_cases();
        /* 1 MB of weights: f32 from 512 x 512, f64 from 362 x 362; odd widths
         * so that the split's cache-line boundaries fall inside a row */
        for (uint64_t rows = 1; rows <= 3; rows++) {
            split_case(MLP_F32, rows, 517);
            split_case(MLP_F64, rows, 371);
        }
    }
    return check_report("kernels");
}
