/* SPDX-License-Identifier: MIT */
/* Reduced-precision inference (mlp_qmodel): every kernel against the portable
 * version of the same arithmetic, and the packing against a plain dot
 * product, at odd sizes; quantised models against the f64 model within the
 * error bounds derived below (one layer) or measured margins (deep nets);
 * the portable path forced; int8 accuracy on trained networks; bad
 * arguments. */
#include "kernels/ktable.h"
#include "internal.h"
#include "datadir.h"
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const double U24 = 0x1p-24; /* f32 unit roundoff */

static double urand(struct mlp_rng *r, double a, double b) { return a + (b - a) * mlp__rng_uniform(r); }

/* ------------------------------------------------------------ kernels */

/* q made from m with the portable table's quantised kernels: m runs on a
 * context forced to MLP_ISA_PORTABLE while q is made (q keeps that table's
 * quantised kernels), then both run on m's own context again. */
static enum mlp_status portable_qmodel(struct mlp_qmodel **q, struct mlp_model *m, enum mlp_qtype t,
                                       const struct mlp_dataset *calib)
{
    static struct mlp_context *port;
    if (!port) {
        struct mlp_context_params cp = mlp_context_params_default();
        cp.isa = MLP_ISA_PORTABLE;
        cp.threads = 1;
        CHECK_STATUS(mlp_context_create(&port, &cp, NULL), MLP_OK);
    }
    struct mlp_context *own = m->ctx;
    mlp_model_set_context(m, port);
    enum mlp_status st = mlp_qmodel_create(q, m, t, calib, NULL);
    mlp_model_set_context(m, own);
    /* the rest (threads, activations) as the model's: only the quantised
     * kernels differ from a q made on m's own context */
    if (st == MLP_OK) mlp_qmodel_set_context(*q, own);
    return st;
}

/* Feature sets to try: everything this CPU has, AVX-512 without the BF16
 * and VNNI extensions, AVX2 with AVX-VNNI (where the CPU has it), AVX2
 * alone; on aarch64 NEON with dotprod and I8MM, with dotprod, with BF16
 * and alone (those the CPU has: under qemu -cpu max every NEON kernel,
 * under cortex-a53 the plain NEON ones); and none (portable). */
static unsigned feature_sets[8];
static int n_feature_sets;

static void init_feature_sets(void)
{
    const unsigned all = mlp__ktable(MLP_ISA_AUTO, NULL)->qk_features, a512 = MLP_QK_HAS_AVX2 | MLP_QK_HAS_AVX512;
    const unsigned vnni = MLP_QK_HAS_AVX2 | MLP_QK_HAS_AVXVNNI;
    const unsigned neon = MLP_QK_HAS_NEON,
                   neon_sets[] = {neon | MLP_QK_HAS_DOTPROD | MLP_QK_HAS_I8MM, neon | MLP_QK_HAS_DOTPROD,
                                  neon | MLP_QK_HAS_ARM_BF16, neon};
    feature_sets[n_feature_sets++] = all;
    if ((all & MLP_QK_HAS_AVX512) && all != a512) feature_sets[n_feature_sets++] = a512;
    if ((all & vnni) == vnni && all != vnni) feature_sets[n_feature_sets++] = vnni;
    if ((all & MLP_QK_HAS_AVX2) && all != MLP_QK_HAS_AVX2) feature_sets[n_feature_sets++] = MLP_QK_HAS_AVX2;
    for (size_t i = 0; i < sizeof neon_sets / sizeof neon_sets[0]; i++)
        if ((all & neon_sets[i]) == neon_sets[i] && all != neon_sets[i]) feature_sets[n_feature_sets++] = neon_sets[i];
    if (all) feature_sets[n_feature_sets++] = 0;
}

/* The kernels that give the portable kernel's bits for type t: the
 * portable one itself, and the AVX2 / AVX-VNNI / NEON ones except for f32
 * (FMAs: qkernels.h's tolerance) and Arm's BFDOT ("neon-bf16": its
 * roundings, kernels/qk_neon_bf16.c).  (int8 sums are exact in every
 * kernel.) */
static bool portable_bits(const struct mlp_qk *k, enum mlp_qtype t)
{
    if (strcmp(k->name, "portable") == 0) return true;
    if (t == MLP_Q_F32 || strcmp(k->name, "neon-bf16") == 0) return false;
    return strcmp(k->name, "avx2") == 0 || strcmp(k->name, "avx-vnni") == 0 || strncmp(k->name, "neon", 4) == 0;
}

/* One kernel case: N rows of K inputs, ns samples, packed at random; every
 * available kernel over the whole panel range and over a split of it,
 * against the portable kernel (int8: equal; f32, bf16: the bound below)
 * and the portable kernel against a plain double dot product. */
static void kernel_case(enum mlp_qtype t, uint32_t K, uint32_t N, uint32_t ns, int extreme, struct mlp_rng *r)
{
    const uint32_t eb = t == MLP_Q_F32 ? 4 : t == MLP_Q_BF16 ? 2 : 1, ce = 64 / eb;
    const uint32_t kp = (K + ce - 1) / ce * ce, np = (N + 3) / 4;
    const size_t stride = 4 * (size_t)kp, ldx = kp + ce, ldy = (size_t)np * 4 + 3;
    void *w = mlp__acalloc((size_t)np * stride * eb);
    void *x = mlp__acalloc((size_t)ns * ldx * eb);
    double *wd = calloc((size_t)N * K, sizeof *wd), *xd = calloc((size_t)ns * K, sizeof *xd);
    void *yp = calloc((size_t)ns * ldy, 4), *yk = calloc((size_t)ns * ldy, 4);
    if (!w || !x || !wd || !xd || !yp || !yk) {
        CHECK(!"out of memory");
        goto out;
    }
    for (uint32_t j = 0; j < N; j++)
        for (uint32_t i = 0; i < K; i++) {
            size_t at = (size_t)(j / 4) * stride + ((size_t)(i / ce) * 4 + j % 4) * ce + i % ce;
            double v = urand(r, -1, 1);
            if (t == MLP_Q_F32) {
                ((float *)w)[at] = (float)v;
                wd[(size_t)j * K + i] = (float)v;
            } else if (t == MLP_Q_BF16) {
                uint16_t b = mlp__f32_to_bf16((float)v);
                ((uint16_t *)w)[at] = b;
                wd[(size_t)j * K + i] = mlp__bf16_to_f32(b);
            } else {
                /* extreme 1: +-127 by row; 2: +-127 at random (a pair of 255 x 127 is
                 * over int16: an intermediate saturation shows) */
                int8_t q = extreme == 1   ? (j % 2 ? -127 : 127)
                           : extreme == 2 ? (mlp__rng_below(r, 2) ? -127 : 127)
                                          : (int8_t)((int)mlp__rng_below(r, 255) - 127);
                ((int8_t *)w)[at] = q;
                wd[(size_t)j * K + i] = q;
            }
        }
    for (uint32_t s = 0; s < ns; s++)
        for (uint32_t i = 0; i < K; i++) {
            double v = urand(r, -2, 2);
            if (t == MLP_Q_F32) {
                ((float *)x)[s * ldx + i] = (float)v;
                xd[(size_t)s * K + i] = (float)v;
            } else if (t == MLP_Q_BF16) {
                uint16_t b = mlp__f32_to_bf16((float)v);
                ((uint16_t *)x)[s * ldx + i] = b;
                xd[(size_t)s * K + i] = mlp__bf16_to_f32(b);
            } else {
                uint8_t q = extreme == 1   ? 255
                            : extreme == 2 ? (mlp__rng_below(r, 4) ? 255 : 0)
                                           : (uint8_t)mlp__rng_below(r, 256);
                ((uint8_t *)x)[s * ldx + i] = q;
                xd[(size_t)s * K + i] = q;
            }
        }
    if (t == MLP_Q_INT8) /* int8 padding may hold anything: the weights there are 0 */
        for (uint32_t s = 0; s < ns; s++)
            for (uint32_t i = K; i < kp; i++) ((uint8_t *)x)[s * ldx + i] = 255;

    const struct mlp_qk port = mlp__qk_select(t, 0);
    if (t == MLP_Q_F32) port.f32(w, stride, kp / ce, 0, np, x, ldx, ns, yp, ldy);
    if (t == MLP_Q_BF16) port.bf16(w, stride, kp / ce, 0, np, x, ldx, ns, yp, ldy);
    if (t == MLP_Q_INT8) port.i8(w, stride, kp / ce, 0, np, x, ldx, ns, yp, ldy);

    /* the portable kernel against the exact dot product: f32 lanes, tree
     * and (f32) products each round once per step, at most K/16 + 5 steps
     * deep; bf16 products are exact */
    for (uint32_t s = 0; s < ns; s++)
        for (uint32_t j = 0; j < N; j++) {
            double dot = 0, mag = 0;
            for (uint32_t i = 0; i < K; i++) {
                dot += wd[(size_t)j * K + i] * xd[(size_t)s * K + i];
                mag += fabs(wd[(size_t)j * K + i] * xd[(size_t)s * K + i]);
            }
            if (t == MLP_Q_INT8) {
                CHECK_MSG(((int32_t *)yp)[s * ldy + j] == (int64_t)dot, "int8 portable K=%u N=%u: %d vs %.0f", K, N,
                          ((int32_t *)yp)[s * ldy + j], dot);
            } else {
                double bound = 1.01 * (K / 16.0 + 6) * U24 * mag;
                CHECK_MSG(fabs(((float *)yp)[s * ldy + j] - dot) <= bound, "%s portable K=%u N=%u ns=%u: %.9g vs %.9g",
                          mlp_qtype_name(t), K, N, ns, ((float *)yp)[s * ldy + j], dot);
            }
        }

    for (int f = 0; f < n_feature_sets; f++) {
        const struct mlp_qk k = mlp__qk_select(t, feature_sets[f]);
        for (int split = 0; split < 2; split++) {
            memset(yk, 0xff, (size_t)ns * ldy * 4);
            uint32_t mid = split ? np / 2 : np;
            for (int part = 0; part < 2; part++) {
                uint32_t p0 = part ? mid : 0, p1 = part ? np : mid;
                if (p0 == p1) continue;
                if (t == MLP_Q_F32) k.f32(w, stride, kp / ce, p0, p1, x, ldx, ns, yk, ldy);
                if (t == MLP_Q_BF16) k.bf16(w, stride, kp / ce, p0, p1, x, ldx, ns, yk, ldy);
                if (t == MLP_Q_INT8) k.i8(w, stride, kp / ce, p0, p1, x, ldx, ns, yk, ldy);
            }
            for (uint32_t s = 0; s < ns; s++)
                for (uint32_t j = 0; j < np * 4; j++) {
                    size_t at = s * ldy + j;
                    if (t == MLP_Q_INT8) {
                        CHECK_MSG(((int32_t *)yk)[at] == ((int32_t *)yp)[at], "%s K=%u N=%u ns=%u row %u: %d vs %d",
                                  k.name, K, N, ns, j, ((int32_t *)yk)[at], ((int32_t *)yp)[at]);
                        continue;
                    }
                    if (portable_bits(&k, t)) {
                        CHECK_MSG(memcmp((float *)yk + at, (float *)yp + at, 4) == 0,
                                  "%s %s K=%u N=%u ns=%u row %u: %.9g vs %.9g, not the portable bits",
                                  mlp_qtype_name(t), k.name, K, N, ns, j, ((float *)yk)[at], ((float *)yp)[at]);
                        continue;
                    }
                    double mag = 0;
                    for (uint32_t i = 0; i < K && j < N; i++)
                        mag += fabs(wd[(size_t)j * K + i] * xd[(size_t)s * K + i]);
                    /* both within the bound above of the exact sum; BFDOT's
                     * lanes round twice per element pair (per 32-element
                     * chunk, K/16 + 2 at most), each to odd (under 2^-23
                     * relative), then the tree's 4 roundings: the sum of
                     * (2 (K/16 + 2) + 4) 2^-24 and the portable bound, and
                     * 2^-126 for each product or sum it flushes to zero
                     * (subnormals: 3 per element pair at most) */
                    double bound = 2.02 * (K / 16.0 + 6) * U24 * mag;
                    if (strcmp(k.name, "neon-bf16") == 0)
                        bound = 1.01 * (2 * (K / 16.0 + 2) + 4 + K / 16.0 + 6) * U24 * mag + 3 * (K + 32) * 0x1p-126;
                    CHECK_MSG(fabs(((float *)yk)[at] - ((float *)yp)[at]) <= bound,
                              "%s %s K=%u N=%u ns=%u row %u: %.9g vs %.9g", mlp_qtype_name(t), k.name, K, N, ns, j,
                              ((float *)yk)[at], ((float *)yp)[at]);
                }
        }
    }
out:
    mlp__afree(w);
    mlp__afree(x);
    free(wd), free(xd), free(yp), free(yk);
}

static void kernel_cases(void)
{
    struct mlp_rng r;
    mlp__rng_seed(&r, 6);
    const uint32_t Ks[] = {1, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 1000};
    const uint32_t Ns[] = {1, 3, 4, 5, 17};
    for (int t = 0; t < MLP_Q_COUNT; t++)
        for (size_t a = 0; a < sizeof Ks / sizeof Ks[0]; a++)
            for (size_t b = 0; b < sizeof Ns / sizeof Ns[0]; b++)
                for (uint32_t ns = 1; ns <= MLP_QK_MAX_NS; ns++) kernel_case((enum mlp_qtype)t, Ks[a], Ns[b], ns, 0, &r);
    /* int8 at the extremes (0/255 x -127/127), every shape and sample count */
    for (size_t a = 0; a < sizeof Ks / sizeof Ks[0]; a++)
        for (size_t b = 0; b < sizeof Ns / sizeof Ns[0]; b++)
            for (uint32_t ns = 1; ns <= MLP_QK_MAX_NS; ns++)
                for (int e = 1; e <= 2; e++) kernel_case(MLP_Q_INT8, Ks[a], Ns[b], ns, e, &r);
    /* the largest int8 block at the extremes: 65536 * 255 * (+-127) still fits in int32 */
    kernel_case(MLP_Q_INT8, MLP_QK_I8_MAX_K, 4, 2, 1, &r);
    kernel_case(MLP_Q_INT8, MLP_QK_I8_MAX_K, 5, 3, 2, &r);
    /* bf16 kernels agree with the portable order exactly: same lanes,
     * exact products, same tree (denormals aside, which these are not);
     * all but Arm's BFDOT, whose roundings differ (checked above) */
    mlp__rng_seed(&r, 7);
    {
        uint16_t *w = mlp__acalloc(4 * 64 * 2), *x = mlp__acalloc(64 * 2);
        float yp[4], yk[4];
        for (int i = 0; i < 4 * 64; i++) w[i] = mlp__f32_to_bf16((float)urand(&r, -1, 1));
        for (int i = 0; i < 64; i++) x[i] = mlp__f32_to_bf16((float)urand(&r, -1e3, 1e3));
        mlp__qk_bf16_portable(w, 4 * 64, 2, 0, 1, x, 64, 1, yp, 4);
        for (int f = 0; f < n_feature_sets; f++) {
            const struct mlp_qk k = mlp__qk_select(MLP_Q_BF16, feature_sets[f]);
            if (strcmp(k.name, "neon-bf16") == 0) continue;
            k.bf16(w, 4 * 64, 2, 0, 1, x, 64, 1, yk, 4);
            CHECK_MSG(memcmp(yp, yk, sizeof yp) == 0, "bf16 kernel %s differs from the portable order", k.name);
        }
        mlp__afree(w);
        mlp__afree(x);
    }
    /* the vector sigmoid against the scalar one (libm's expf) over the
     * clip and beyond, every tail length, NaN passed through */
    {
        const struct mlp_qk k = mlp__qk_select(MLP_Q_F32, feature_sets[0]);
        if (k.sigmoid) {
            float z[37];
            double worst = 0;
            for (int rep = 0; rep < 20000; rep++) {
                size_t n = 1 + (size_t)rep % 37;
                for (size_t i = 0; i < n; i++)
                    z[i] = (float)(rep % 3 == 0 ? urand(&r, -100, 100) : rep % 3 == 1 ? urand(&r, -4, 4) : urand(&r, -1e-3, 1e-3));
                float ref[37];
                for (size_t i = 0; i < n; i++) {
                    float v = z[i] < -80 ? -80 : z[i] > 80 ? 80 : z[i];
                    ref[i] = 1 / (1 + expf(-v));
                }
                k.sigmoid(z, n);
                for (size_t i = 0; i < n; i++) worst = fmax(worst, fabs(z[i] - ref[i]) / ref[i]);
            }
            printf("vector sigmoid: largest error relative to libm's %.3g\n", worst);
            CHECK_MSG(worst <= 8 * 0x1p-24, "vector sigmoid: relative error %.3g", worst);
            z[0] = NAN, z[1] = INFINITY, z[2] = -INFINITY, z[3] = 0;
            k.sigmoid(z, 4);
            CHECK(isnan(z[0]) && z[1] == 1.0f && z[2] > 0 && z[2] < 1e-34f && z[3] == 0.5f);
        }
    }
    /* the round trip and the rounding of bf16 */
    CHECK(mlp__bf16_to_f32(mlp__f32_to_bf16(1.0f)) == 1.0f);
    CHECK(mlp__f32_to_bf16(1.0f + 0x1p-8f) == mlp__f32_to_bf16(1.0f));           /* tie -> even */
    CHECK(mlp__f32_to_bf16(1.0f + 0x1p-8f + 0x1p-9f) == mlp__f32_to_bf16(1.0f) + 1); /* above the tie */
    CHECK(isnan(mlp__bf16_to_f32(mlp__f32_to_bf16(NAN))));
    CHECK(isinf(mlp__bf16_to_f32(mlp__f32_to_bf16(3.4e38f))));
}

/* ----------------------------------------------------------- selection */

/* A choice with every slot of its type the plain-C kernel's. */
static bool is_portable(const struct mlp_qk *k, enum mlp_qtype t)
{
    if (strcmp(k->name, "portable") != 0 || k->sigmoid || k->i8g) return false;
    switch (t) {
    case MLP_Q_F32: return k->f32 == mlp__qk_f32_portable && !k->bf16 && !k->i8 && !k->range && !k->u8q;
    case MLP_Q_BF16: return k->bf16 == mlp__qk_bf16_portable && !k->f32 && !k->i8 && !k->range && !k->u8q;
    case MLP_Q_INT8:
        return k->i8 == mlp__qk_i8_portable && k->range == mlp__qk_range_portable && k->u8q == mlp__qk_u8q_portable &&
               !k->f32 && !k->bf16;
    case MLP_Q_COUNT: break;
    }
    return false;
}

/* Which kernels each feature set gets: the Arm extensions' bits without
 * MLP_QK_HAS_NEON (and, on aarch64, the x86 bits) the plain-C ones; on
 * aarch64 NEON the best its extensions allow, every slot filled. */
static void selection_cases(void)
{
    const unsigned N = MLP_QK_HAS_NEON, D = MLP_QK_HAS_DOTPROD, I = MLP_QK_HAS_I8MM, B = MLP_QK_HAS_ARM_BF16;
    unsigned plain[] = {0, D, I, B, D | I | B, 0};
#ifndef MLP_QK_AVX2
    plain[5] = MLP_QK_HAS_AVX2 | MLP_QK_HAS_AVX512 | MLP_QK_HAS_AVX512_VNNI | MLP_QK_HAS_AVXVNNI;
#endif
    for (size_t f = 0; f < sizeof plain / sizeof plain[0]; f++)
        for (int t = 0; t < MLP_Q_COUNT; t++) {
            const struct mlp_qk k = mlp__qk_select((enum mlp_qtype)t, plain[f]);
            CHECK_MSG(is_portable(&k, (enum mlp_qtype)t), "features %#x, %s: %s, not the portable kernels", plain[f],
                      mlp_qtype_name((enum mlp_qtype)t), k.name);
        }
#ifdef MLP_QK_NEON
    const struct {
        unsigned f;
        const char *i8_name, *bf16_name;
        mlp_qk_i8_fn i8;
        mlp_qk_i8g_fn i8g;
        mlp_qk_bf16_fn bf16;
    } want[] = {
        {N, "neon", "neon", mlp__qk_i8_neon, NULL, mlp__qk_bf16_neon},
        {N | D, "neon-dotprod", "neon", mlp__qk_i8_neon_dot, mlp__qk_i8g_neon_dot, mlp__qk_bf16_neon},
        {N | I, "neon-i8mm", "neon", mlp__qk_i8_neon_i8mm, mlp__qk_i8g_neon_i8mm, mlp__qk_bf16_neon},
        {N | D | I, "neon-i8mm", "neon", mlp__qk_i8_neon_i8mm, mlp__qk_i8g_neon_i8mm, mlp__qk_bf16_neon},
        {N | B, "neon", "neon-bf16", mlp__qk_i8_neon, NULL, mlp__qk_bf16_neon_bf16},
        {N | D | B, "neon-dotprod", "neon-bf16", mlp__qk_i8_neon_dot, mlp__qk_i8g_neon_dot, mlp__qk_bf16_neon_bf16},
        {N | D | I | B, "neon-i8mm", "neon-bf16", mlp__qk_i8_neon_i8mm, mlp__qk_i8g_neon_i8mm,
         mlp__qk_bf16_neon_bf16},
    };
    for (size_t c = 0; c < sizeof want / sizeof want[0]; c++) {
        const unsigned f = want[c].f;
        const struct mlp_qk kf = mlp__qk_select(MLP_Q_F32, f), kb = mlp__qk_select(MLP_Q_BF16, f),
                            ki = mlp__qk_select(MLP_Q_INT8, f);
        CHECK_MSG(strcmp(kf.name, "neon") == 0 && kf.f32 == mlp__qk_f32_neon && !kf.bf16 && !kf.i8,
                  "features %#x: f32 kernel %s", f, kf.name);
        CHECK_MSG(strcmp(kb.name, want[c].bf16_name) == 0 && kb.bf16 == want[c].bf16 && !kb.f32 && !kb.i8,
                  "features %#x: bf16 kernel %s, not %s", f, kb.name, want[c].bf16_name);
        CHECK_MSG(strcmp(ki.name, want[c].i8_name) == 0 && ki.i8 == want[c].i8 && ki.i8g == want[c].i8g &&
                      ki.range == mlp__qk_range_neon && ki.u8q == mlp__qk_u8q_neon && !ki.f32 && !ki.bf16,
                  "features %#x: int8 kernel %s, not %s", f, ki.name, want[c].i8_name);
        CHECK_MSG(kf.sigmoid == mlp__qk_sigmoid_neon && kb.sigmoid == mlp__qk_sigmoid_neon &&
                      ki.sigmoid == mlp__qk_sigmoid_neon,
                  "features %#x: not the NEON sigmoid", f);
    }
#else
    /* elsewhere the NEON bits name no kernel */
    for (int t = 0; t < MLP_Q_COUNT; t++) {
        const struct mlp_qk k = mlp__qk_select((enum mlp_qtype)t, N | D | I | B);
        CHECK_MSG(is_portable(&k, (enum mlp_qtype)t), "NEON features off aarch64, %s: %s",
                  mlp_qtype_name((enum mlp_qtype)t), k.name);
    }
#endif
}

/* ------------------------------------------------ the int8 batch kernel */

/* The batch kernel of every feature set against the portable one (the same
 * bits) and the portable one against an int64 dot product put through the
 * epilogue's formula, N rows of K inputs packed in qkernels.h's batch
 * layout, ns samples with their own scales and zero points. */
static void i8g_case(uint32_t K, uint32_t N, uint32_t ns, int relu, bool sparse, bool extreme, struct mlp_rng *r)
{
    const uint32_t k4 = (K + 3) / 4, ng = (N + 15) / 16;
    const size_t ldx = 4 * (size_t)k4 + 5, ldy = 16 * (size_t)ng + 3;
    int8_t *w = mlp__acalloc((size_t)ng * k4 * 64);
    int32_t *rs = calloc(16 * (size_t)ng, sizeof *rs);
    float *ws = calloc(16 * (size_t)ng, sizeof *ws), *b = calloc(16 * (size_t)ng, sizeof *b);
    uint8_t *x = malloc(ns * ldx);
    float *sx = malloc(ns * sizeof *sx), *yp = malloc(ns * ldy * sizeof *yp), *yk = malloc(ns * ldy * sizeof *yk);
    int32_t *zx = malloc(ns * sizeof *zx);
    if (!w || !rs || !ws || !b || !x || !sx || !yp || !yk || !zx) {
        CHECK(!"out of memory");
        goto out;
    }
    for (uint32_t j = 0; j < N; j++) {
        for (uint32_t i = 0; i < K; i++) {
            int8_t q = extreme ? (mlp__rng_below(r, 2) ? -127 : 127) : (int8_t)((int)mlp__rng_below(r, 255) - 127);
            w[((size_t)(j / 16) * k4 + i / 4) * 64 + (j % 16) * 4 + i % 4] = q;
            rs[j] += q;
        }
        ws[j] = (float)urand(r, 0, 0.01);
        b[j] = (float)urand(r, -1, 1);
    }
    for (uint32_t s = 0; s < ns; s++) {
        for (size_t i = 0; i < ldx; i++) /* padding too */
            x[s * ldx + i] = extreme ? (mlp__rng_below(r, 4) ? 255 : 0) : (uint8_t)mlp__rng_below(r, 256);
        if (sparse) /* blank steps of 4 inputs, often in every sample of a tile (the kernel skips those) */
            for (size_t i = 0; i + 4 <= ldx; i += 4)
                if (i < 40 || (i / 4) % 7 == 3 || mlp__rng_below(r, 10) < 6) memset(x + s * ldx + i, 0, 4);
        sx[s] = (float)urand(r, 0.001, 0.1);
        zx[s] = (int32_t)mlp__rng_below(r, 256);
    }
    const struct mlp_qk_i8g_layer L = {.w = w, .k4 = k4, .ng = ng, .rowsum = rs, .wscale = ws, .bias = b};
    memset(yp, 0xff, ns * ldy * sizeof *yp);
    mlp__qk_i8g_portable(&L, x, ldx, ns, sx, zx, relu, yp, ldy);
    for (uint32_t s = 0; s < ns; s++)
        for (uint32_t j = 0; j < 16 * ng; j++) {
            int64_t dot = 0;
            for (uint32_t i = 0; i < K && j < N; i++)
                dot += (int64_t)x[s * ldx + i] * w[((size_t)(j / 16) * k4 + i / 4) * 64 + (j % 16) * 4 + i % 4];
            float want = (float)(dot - (int64_t)zx[s] * rs[j]) * (ws[j] * sx[s]) + b[j];
            if (relu) want = want > 0 ? want : 0;
            CHECK_MSG(memcmp(&yp[s * ldy + j], &want, sizeof want) == 0,
                      "i8g portable K=%u N=%u ns=%u row %u: %.9g vs %.9g", K, N, ns, j, yp[s * ldy + j], want);
        }
#ifdef MLP_QK_AVX2
    /* the AVX2 batch kernel even where another is selected: the same bits */
    if (feature_sets[0] & MLP_QK_HAS_AVX2) {
        memset(yk, 0xff, ns * ldy * sizeof *yk);
        mlp__qk_i8g_avx2(&L, x, ldx, ns, sx, zx, relu, yk, ldy);
        for (uint32_t s = 0; s < ns; s++)
            CHECK_MSG(memcmp(yk + s * ldy, yp + s * ldy, 16 * ng * sizeof *yk) == 0 && yk[s * ldy + 16 * ng] != 0,
                      "i8g avx2 K=%u N=%u ns=%u relu=%d: sample %u differs from the portable kernel (or overran)", K,
                      N, ns, relu, s);
    }
#endif
    for (int f = 0; f < n_feature_sets; f++) {
        const struct mlp_qk k = mlp__qk_select(MLP_Q_INT8, feature_sets[f]);
        if (!k.i8g) continue;
        memset(yk, 0xff, ns * ldy * sizeof *yk);
        k.i8g(&L, x, ldx, ns, sx, zx, relu, yk, ldy);
        for (uint32_t s = 0; s < ns; s++)
            CHECK_MSG(memcmp(yk + s * ldy, yp + s * ldy, 16 * ng * sizeof *yk) == 0 && yk[s * ldy + 16 * ng] != 0,
                      "i8g %s K=%u N=%u ns=%u relu=%d: sample %u differs from the portable kernel (or overran)",
                      k.name, K, N, ns, relu, s);
    }
out:
    mlp__afree(w);
    free(rs), free(ws), free(b), free(x), free(sx), free(yp), free(yk), free(zx);
}

static void i8g_cases(void)
{
    struct mlp_rng r;
    mlp__rng_seed(&r, 8);
    /* k4 = 1, 1, 1, 2, 3, 7, 16, 16, 17, 33, 196: every remainder mod 4 */
    const uint32_t Ks[] = {1, 3, 4, 5, 11, 27, 63, 64, 65, 130, 784};
    const uint32_t Ns[] = {1, 10, 15, 16, 17, 33, 64, 100, 128};
    for (size_t a = 0; a < sizeof Ks / sizeof Ks[0]; a++)
        for (size_t c = 0; c < sizeof Ns / sizeof Ns[0]; c++)
            for (uint32_t ns = 1; ns <= 13; ns += 1 + (ns > 7))
                i8g_case(Ks[a], Ns[c], ns, (int)(ns % 2), ns % 3 == 0, ns % 4 == 1, &r);
    i8g_case(300, 70, 70, 1, false, false, &r);
    i8g_case(784, 40, 70, 1, true, false, &r);
    i8g_case(17000, 20, 7, 0, true, false, &r); /* longer than a list of steps */
    /* over the AVX2 kernel's blocks (128 steps, 64 samples) with remainders,
     * at the extremes (a sample of 255s against +-127 overflows int16 pairs) */
    i8g_case(1100, 33, 130, 1, false, true, &r);
    i8g_case(513, 17, 65, 0, false, true, &r);

    /* the activations' range and quantisation: every version, the same bits,
     * NaN and infinities included, every tail length */
    float v[70];
    uint8_t up[70], uk[70];
    for (int rep = 0; rep < 400; rep++) {
        uint32_t n = 1 + (uint32_t)rep % 70;
        for (uint32_t i = 0; i < n; i++) v[i] = (float)urand(&r, -5, 9);
        if (rep % 7 == 3) v[mlp__rng_below(&r, n)] = NAN;
        if (rep % 11 == 5) v[mlp__rng_below(&r, n)] = -INFINITY;
        if (rep % 13 == 6) v[mlp__rng_below(&r, n)] = -0.0f;
        float s = rep % 17 == 1 ? NAN : (float)urand(&r, 0.01, 0.1);
        int32_t z = (int32_t)mlp__rng_below(&r, 256);
        float lp, hp;
        int bp;
        mlp__qk_range_portable(v, n, &lp, &hp, &bp);
        mlp__qk_u8q_portable(v, n, s, z, up);
        for (int f = 0; f < n_feature_sets; f++) {
            const struct mlp_qk k = mlp__qk_select(MLP_Q_INT8, feature_sets[f]);
            float lk, hk;
            int bk;
            k.range(v, n, &lk, &hk, &bk);
            CHECK_MSG(memcmp(&lk, &lp, 4) == 0 && memcmp(&hk, &hp, 4) == 0 && bk == bp,
                      "range %s n=%u: %g %g %d vs %g %g %d", k.name, n, lk, hk, bk, lp, hp, bp);
            memset(uk, 0xaa, sizeof uk);
            k.u8q(v, n, s, z, uk);
            CHECK_MSG(memcmp(uk, up, n) == 0 && (n == 70 || uk[n] == 0xaa), "u8q %s n=%u differs", k.name, n);
        }
    }
}

/* -------------------------------------------------------- test networks */

/* Weights ~ U(-1, 1) sqrt(3 / fan_in) (unit gain), biases ~ U(-0.5, 0.5). */
static struct mlp_model *make_net(enum mlp_dtype dt, uint32_t n_in, const uint32_t *widths, uint32_t nh,
                                  enum mlp_act act, uint32_t K, enum mlp_head head, double input_scale, uint64_t seed)
{
    struct mlp_layer_spec hidden[8];
    for (uint32_t i = 0; i < nh; i++) hidden[i] = (struct mlp_layer_spec){widths[i], act};
    struct mlp_model *m = test_model(dt, n_in, nh, hidden, K, head, input_scale);
    if (!m) return NULL;
    struct mlp_rng r;
    mlp__rng_seed(&r, seed);
    void *P = mlp_model_params(m);
    for (uint32_t l = 0; l < mlp_model_n_layers(m); l++) {
        uint32_t fan_in = l ? mlp_model_layer(m, l - 1).n_out : n_in, n_out = mlp_model_layer(m, l).n_out;
        double a = sqrt(3.0 / fan_in);
        size_t wo = mlp_model_w_offset(m, l), bo = mlp_model_b_offset(m, l);
        for (size_t i = 0; i < (size_t)fan_in * n_out; i++) {
            double v = urand(&r, -a, a);
            if (dt == MLP_F32) ((float *)P)[wo + i] = (float)v;
            else ((double *)P)[wo + i] = v;
        }
        for (uint32_t j = 0; j < n_out; j++) {
            double v = urand(&r, -0.5, 0.5);
            if (dt == MLP_F32) ((float *)P)[bo + j] = (float)v;
            else ((double *)P)[bo + j] = v;
        }
    }
    return m;
}

/* A data set over its own arrays: u8 in 0..255, f32/f64 ~ U(-3, 3), with
 * labels 0..n_classes-1. */
struct tdata {
    struct mlp_dataset ds;
    void *x;
    int32_t *y;
};

static void make_data(struct tdata *t, enum mlp_elem et, uint64_t n, uint32_t d, uint32_t n_classes, uint64_t seed)
{
    struct mlp_rng r;
    mlp__rng_seed(&r, seed);
    t->x = malloc((size_t)n * d * (et == MLP_ELEM_U8 ? 1 : et == MLP_ELEM_F32 ? 4 : 8));
    t->y = malloc((size_t)n * sizeof *t->y);
    for (size_t i = 0; i < (size_t)n * d; i++) {
        if (et == MLP_ELEM_U8) ((uint8_t *)t->x)[i] = (uint8_t)mlp__rng_below(&r, 256);
        if (et == MLP_ELEM_F32) ((float *)t->x)[i] = (float)urand(&r, -3, 3);
        if (et == MLP_ELEM_F64) ((double *)t->x)[i] = urand(&r, -3, 3);
    }
    for (uint64_t i = 0; i < n; i++) t->y[i] = (int32_t)mlp__rng_below(&r, n_classes);
    t->ds = (struct mlp_dataset){.n_rows = n, .n_cols = d, .x_type = et, .x = t->x, .labels = t->y,
                                 .n_classes = n_classes};
}

static void free_data(struct tdata *t)
{
    free(t->x);
    free(t->y);
}

/* The model's input after scaling and standardisation, in double. */
static double input_at(const struct mlp_model *m, const struct mlp_dataset *ds, uint64_t r, uint32_t i)
{
    size_t at = (size_t)r * ds->n_cols + i;
    double v = ds->x_type == MLP_ELEM_U8 ? ((const uint8_t *)ds->x)[at]
               : ds->x_type == MLP_ELEM_F32 ? ((const float *)ds->x)[at] : ((const double *)ds->x)[at];
    v *= mlp_model_input_scale(m);
    const double *mu = mlp_model_standardize_mean(m), *sd = mlp_model_standardize_std(m);
    return mu ? (v - mu[i]) / sd[i] : v;
}

/* ------------------------------------------- one layer: derived bounds */

/*
 * A network with no hidden layer and an identity-MSE head is y = W x + b,
 * and for it the error of each type has a bound (S = sum_i |w_i x_i|):
 *   f32:  weights, inputs, products and bias round once each (2^-24), the
 *         sum at most K/16 + 5 steps deep:  (K/16 + 9) 2^-24 (S + |b|)
 *   bf16: weights and inputs round to 8 significant bits (2^-8 each, the
 *         f32 step before it adding 2^-24), products exact, then f32 sums:
 *         (2^-7 + 2^-15 + (K/16 + 9) 2^-24) S + 2^-23 |b|
 *   int8: w = sw q + e_w with |e_w| <= sw/2 (sw = max|w_row| / 127, stored
 *         in f32: + |w| 2^-23), x = s (q - z) + e_x with |e_x| <= s/2
 *         (+ 2^-16 s for the f32 arithmetic of the rounding), integer sums
 *         exact, then one f32 rounding of y:
 *         sum_i (sw/2 + |w_i| 2^-23)(|x_i| + 0.5001 s) + 0.5001 s |w_i|
 *         + 2^-23 (|y| + |b|) + 2^-22 S
 * (s = the sample's range / 255; for uint8 inputs it is the input scale
 * and e_x = 0, which the bound covers.)
 */
static double layer_bound(enum mlp_qtype t, const struct mlp_model *m, const struct mlp_dataset *ds, uint64_t r,
                          uint32_t j, double y)
{
    const uint32_t K = mlp_model_n_in(m);
    const void *P = mlp_model_params_const(m);
    const bool f32 = mlp_model_dtype(m) == MLP_F32;
    size_t wo = mlp_model_w_offset(m, 0) + (size_t)j * K;
    double b = f32 ? ((const float *)P)[mlp_model_b_offset(m, 0) + j] : ((const double *)P)[mlp_model_b_offset(m, 0) + j];
    double S = 0, wmax = 0, lo = 0, hi = 0;
    for (uint32_t i = 0; i < K; i++) {
        double w = f32 ? ((const float *)P)[wo + i] : ((const double *)P)[wo + i], x = input_at(m, ds, r, i);
        S += fabs(w * x);
        wmax = fmax(wmax, fabs(w));
        lo = fmin(lo, x);
        hi = fmax(hi, x);
    }
    if (t == MLP_Q_F32) return (K / 16.0 + 9) * U24 * (S + fabs(b));
    if (t == MLP_Q_BF16) return (0x1p-7 + 0x1p-15 + (K / 16.0 + 9) * U24) * S + 0x1p-23 * fabs(b);
    double s = (hi - lo) / 255, sw = wmax / 127, e = 0;
    if (ds->x_type == MLP_ELEM_U8 && !mlp_model_standardize_mean(m)) s = fmax(s, mlp_model_input_scale(m));
    for (uint32_t i = 0; i < K; i++) {
        double w = f32 ? ((const float *)P)[wo + i] : ((const double *)P)[wo + i], x = input_at(m, ds, r, i);
        e += (sw / 2 + fabs(w) * 0x1p-23) * (fabs(x) + 0.5001 * s) + 0.5001 * s * fabs(w);
    }
    return e + 0x1p-23 * (fabs(y) + fabs(b)) + 0x1p-22 * S;
}

static void one_layer_cases(void)
{
    const uint32_t Ks[] = {1, 7, 16, 17, 63, 200};
    const uint32_t Ns[] = {1, 5, 16};
    const enum mlp_elem ets[] = {MLP_ELEM_U8, MLP_ELEM_F32, MLP_ELEM_F64};
    uint64_t seed = 100;
    for (int dt = 0; dt < 2; dt++)
        for (size_t a = 0; a < sizeof Ks / sizeof Ks[0]; a++)
            for (size_t b = 0; b < sizeof Ns / sizeof Ns[0]; b++)
                for (size_t e = 0; e < 3; e++)
                    for (int stdz = 0; stdz < 2; stdz++) {
                        uint32_t K = Ks[a], N = Ns[b];
                        double scale = ets[e] == MLP_ELEM_U8 ? 1.0 / 255 : 0.7;
                        struct mlp_model *m = make_net((enum mlp_dtype)dt, K, NULL, 0, MLP_ACT_RELU, N,
                                                       MLP_HEAD_IDENTITY_MSE, scale, seed++);
                        struct tdata d;
                        make_data(&d, ets[e], 9, K, N, seed++);
                        if (stdz) CHECK_STATUS(mlp_model_fit_standardize(m, &d.ds, NULL), MLP_OK);
                        double *ref = malloc(7 * N * sizeof *ref), *got = malloc(7 * N * sizeof *got);
                        /* the exact y = W x + b, in double from the model's parameters */
                        const void *P = mlp_model_params_const(m);
                        for (uint32_t i = 0; i < 7; i++)
                            for (uint32_t j = 0; j < N; j++) {
                                size_t wo = mlp_model_w_offset(m, 0) + (size_t)j * K, bo = mlp_model_b_offset(m, 0) + j;
                                double y = dt == MLP_F32 ? ((const float *)P)[bo] : ((const double *)P)[bo];
                                for (uint32_t k = 0; k < K; k++)
                                    y += (dt == MLP_F32 ? ((const float *)P)[wo + k] : ((const double *)P)[wo + k]) *
                                         input_at(m, &d.ds, 2 + i, k);
                                ref[i * N + j] = y;
                            }
                        for (int t = 0; t < MLP_Q_COUNT; t++) {
                            struct mlp_qmodel *q = NULL;
                            CHECK_STATUS(mlp_qmodel_create(&q, m, (enum mlp_qtype)t, NULL, NULL), MLP_OK);
                            if (!q) continue;
                            CHECK_STATUS(mlp_qmodel_predict(q, &d.ds, MLP_ROWS(2, 7), got, NULL), MLP_OK);
                            for (uint32_t i = 0; i < 7; i++)
                                for (uint32_t j = 0; j < N; j++) {
                                    double y = ref[i * N + j], bound = layer_bound((enum mlp_qtype)t, m, &d.ds, 2 + i, j, y);
                                    CHECK_MSG(fabs(got[i * N + j] - y) <= bound,
                                              "%s one layer K=%u N=%u %s x=%d std=%d row %u out %u: %.9g vs %.9g "
                                              "(bound %.3g)",
                                              mlp_qtype_name((enum mlp_qtype)t), K, N, mlp_dtype_name((enum mlp_dtype)dt),
                                              (int)ets[e], stdz, i, j, got[i * N + j], y, bound);
                                }
                            mlp_qmodel_free(q);
                        }
                        free(ref), free(got);
                        free_data(&d);
                        mlp_model_free(m);
                    }
}

/* int8 inputs wider than one exact block (65536 columns) are summed in
 * blocks: the same bound holds. */
static void wide_int8_case(void)
{
    const uint32_t K = MLP_QK_I8_MAX_K + 4464, N = 3;
    struct mlp_model *m = make_net(MLP_F32, K, NULL, 0, MLP_ACT_RELU, N, MLP_HEAD_IDENTITY_MSE, 1.0, 11);
    struct tdata d;
    make_data(&d, MLP_ELEM_F32, 2, K, N, 12);
    double ref[2 * 3], got[2 * 3];
    CHECK_STATUS(mlp_model_predict(m, &d.ds, MLP_ROWS(0, 2), ref, NULL), MLP_OK);
    struct mlp_qmodel *q = NULL;
    CHECK_STATUS(mlp_qmodel_create(&q, m, MLP_Q_INT8, NULL, NULL), MLP_OK);
    if (q) {
        CHECK_STATUS(mlp_qmodel_predict(q, &d.ds, MLP_ROWS(0, 2), got, NULL), MLP_OK);
        for (int i = 0; i < 6; i++) {
            double bound = layer_bound(MLP_Q_INT8, m, &d.ds, (uint64_t)i / N, (uint32_t)i % N, ref[i]) +
                           (K / 16.0 + 9) * U24 * (fabs(ref[i]) + 1);
            CHECK_MSG(fabs(got[i] - ref[i]) <= bound, "wide int8 %d: %.9g vs %.9g (bound %.3g)", i, got[i], ref[i], bound);
        }
    }
    mlp_qmodel_free(q);
    free_data(&d);
    mlp_model_free(m);
}

/* Inputs so tiny (subnormal, 1e-44) that their quantisation step
 * range/255 underflows to 0 in f32: treated as zero (the outputs are the
 * biases' path), never a NaN zero point converted to int32. */
static void tiny_range_case(void)
{
    const uint32_t K = 8, N = 3, widths[] = {5};
    struct mlp_model *m = make_net(MLP_F32, K, widths, 1, MLP_ACT_RELU, N, MLP_HEAD_IDENTITY_MSE, 1.0, 21);
    struct tdata d;
    make_data(&d, MLP_ELEM_F32, 2, K, N, 22);
    for (uint32_t i = 0; i < 2 * K; i++) ((float *)d.x)[i] = i % 3 ? 1e-44f : 0.0f;
    double ref[2 * 3], got[2 * 3];
    CHECK_STATUS(mlp_model_predict(m, &d.ds, MLP_ROWS(0, 2), ref, NULL), MLP_OK);
    for (int t = 0; t < MLP_Q_COUNT; t++) {
        struct mlp_qmodel *q = NULL;
        CHECK_STATUS(mlp_qmodel_create(&q, m, (enum mlp_qtype)t, NULL, NULL), MLP_OK);
        if (!q) continue;
        CHECK_STATUS(mlp_qmodel_predict(q, &d.ds, MLP_ROWS(0, 2), got, NULL), MLP_OK);
        for (int i = 0; i < 6; i++)
            CHECK_MSG(isfinite(got[i]) && fabs(got[i] - ref[i]) <= 0.05 * (1 + fabs(ref[i])),
                      "tiny inputs, %s, output %d: %.9g vs %.9g", mlp_qtype_name((enum mlp_qtype)t), i, got[i], ref[i]);
        mlp_qmodel_free(q);
    }
    free_data(&d);
    mlp_model_free(m);
}

/* ------------------------------------------------ deep nets, every head */

/*
 * Deep networks with every hidden activation and head, against the f64
 * model.  Errors compound through the layers, so the margins here are
 * measured rather than derived: about 3x the largest error seen over these
 * cases, relative to 1 + |y| (seen: f32 7e-7, bf16 0.017, int8 0.038;
 * allowed: 1e-5, 5e-2, 0.12).  The same
 * net with the portable kernels forced gives the same int8 outputs bit for
 * bit (exact integer sums, the same epilogue) and f32/bf16 outputs within
 * 1e-5 relative.
 */
static void deep_cases(void)
{
    const uint32_t widths[] = {17, 63, 16, 7};
    const double tol[MLP_Q_COUNT] = {1e-5, 5e-2, 0.12};
    double worst[MLP_Q_COUNT] = {0};
    uint64_t seed = 500;
    for (int act = 0; act < MLP_ACT_COUNT; act++)
        for (int head = 0; head < MLP_HEAD_COUNT; head++)
            for (int e = 0; e < 3; e++) {
                uint32_t K = head == MLP_HEAD_SOFTMAX_CE ? 5 : head % 2 ? 1 : 3, n_in = 33;
                enum mlp_elem et = (enum mlp_elem)e;
                struct mlp_model *m = make_net(act % 2 ? MLP_F32 : MLP_F64, n_in, widths, 4, (enum mlp_act)act, K,
                                               (enum mlp_head)head, et == MLP_ELEM_U8 ? 1.0 / 255 : 1.0, seed++);
                struct tdata d;
                make_data(&d, et, 13, n_in, K == 1 ? 2 : K, seed++);
                if (head == MLP_HEAD_TANH_MSE) CHECK_STATUS(mlp_model_fit_standardize(m, &d.ds, NULL), MLP_OK);
                const uint64_t row0 = 1, n = 11;
                double *ref = malloc(n * K * sizeof *ref), *got = malloc(n * K * sizeof *got),
                       *port = malloc(n * K * sizeof *port);
                CHECK_STATUS(mlp_model_predict(m, &d.ds, MLP_ROWS(row0, n), ref, NULL), MLP_OK);
                for (int t = 0; t < MLP_Q_COUNT; t++) {
                    struct mlp_qmodel *q = NULL, *qp = NULL;
                    CHECK_STATUS(mlp_qmodel_create(&q, m, (enum mlp_qtype)t, NULL, NULL), MLP_OK);
                    CHECK_STATUS(portable_qmodel(&qp, m, (enum mlp_qtype)t, NULL), MLP_OK);
                    if (!q || !qp) continue;
                    CHECK(strcmp(mlp_qmodel_kernel(qp), "portable") == 0);
                    CHECK_STATUS(mlp_qmodel_predict(q, &d.ds, MLP_ROWS(row0, n), got, NULL), MLP_OK);
                    CHECK_STATUS(mlp_qmodel_predict(qp, &d.ds, MLP_ROWS(row0, n), port, NULL), MLP_OK);
                    for (uint64_t i = 0; i < n * K; i++) {
                        double err = fabs(got[i] - ref[i]) / (1 + fabs(ref[i]));
                        worst[t] = fmax(worst[t], err);
                        CHECK_MSG(err <= tol[t], "%s act %s head %s x=%d: out %llu %.9g vs %.9g",
                                  mlp_qtype_name((enum mlp_qtype)t), mlp_act_name((enum mlp_act)act),
                                  mlp_head_name((enum mlp_head)head), e, (unsigned long long)i, got[i], ref[i]);
                        /* the vector sigmoid differs from libm's in the last bit */
                        if (t == MLP_Q_INT8 && act != MLP_ACT_SIGMOID)
                            CHECK_MSG(got[i] == port[i], "int8 %s vs portable: %.17g vs %.17g", mlp_qmodel_kernel(q),
                                      got[i], port[i]);
                        else
                            CHECK_NEAR(got[i], port[i], (t == MLP_Q_INT8 ? 2e-2 : 1e-5) * (1 + fabs(port[i])));
                    }
                    /* evaluate agrees with the model's (same loss formula, same accuracy rule) */
                    double l0, a0, l1, a1;
                    CHECK_STATUS(mlp_model_evaluate(m, &d.ds, &l0, &a0, NULL), MLP_OK);
                    CHECK_STATUS(mlp_qmodel_evaluate(q, &d.ds, &l1, &a1, NULL), MLP_OK);
                    if (t == MLP_Q_F32) {
                        CHECK_NEAR(l1, l0, 1e-4 * (1 + fabs(l0)));
                        CHECK_NEAR(a1, a0, 1.01 / 13); /* a near tie may flip one row */
                    }
                    mlp_qmodel_free(q);
                    mlp_qmodel_free(qp);
                }
                free(ref), free(got), free(port);
                free_data(&d);
                mlp_model_free(m);
            }
    printf("deep nets, largest error relative to 1 + |y|: f32 %.3g, bf16 %.3g, int8 %.3g\n", worst[0], worst[1],
           worst[2]);
}

/* ------------------------------------------------------- accuracy */

/* Train a network and compare its test accuracy with its quantised
 * versions' (int8 with per-sample and with calibrated ranges, bf16). */
static void accuracy_case(const char *what, struct mlp_model *m, const struct mlp_dataset *train,
                          const struct mlp_dataset *test, double max_loss_pp)
{
    double loss, acc;
    CHECK_STATUS(mlp_model_evaluate(m, test, &loss, &acc, NULL), MLP_OK);
    for (int v = 0; v < 3; v++) {
        enum mlp_qtype t = v == 0 ? MLP_Q_BF16 : MLP_Q_INT8;
        struct mlp_qmodel *q = NULL;
        CHECK_STATUS(mlp_qmodel_create(&q, m, t, v == 2 ? train : NULL, NULL), MLP_OK);
        if (!q) continue;
        double ql, qa;
        CHECK_STATUS(mlp_qmodel_evaluate(q, test, &ql, &qa, NULL), MLP_OK);
        printf("%s: accuracy %.4f, %s%s %.4f (%+.2f percentage points), loss %.4f -> %.4f\n", what, acc,
               mlp_qtype_name(t), v == 2 ? " calibrated" : "", qa, 100 * (qa - acc), loss, ql);
        CHECK_MSG(100 * (acc - qa) <= max_loss_pp, "%s: %s%s loses %.2f percentage points", what, mlp_qtype_name(t),
                  v == 2 ? " calibrated" : "", 100 * (acc - qa));
        CHECK(mlp_qmodel_calibrated(q) == (v == 2));
        mlp_qmodel_free(q);
    }
}

/* Four Gaussian clusters in 20 dimensions, linearly separable in practice. */
static void synthetic_accuracy(void)
{
    const uint32_t d = 20, C = 4;
    struct tdata tr, te;
    struct mlp_rng r;
    mlp__rng_seed(&r, 77);
    double centers[4][20];
    for (uint32_t c = 0; c < C; c++)
        for (uint32_t i = 0; i < d; i++) centers[c][i] = urand(&r, -1.5, 1.5);
    struct tdata *sets[2] = {&tr, &te};
    const uint64_t sizes[2] = {4000, 2000};
    for (int k = 0; k < 2; k++) {
        make_data(sets[k], MLP_ELEM_F32, sizes[k], d, C, 78 + (uint64_t)k);
        for (uint64_t i = 0; i < sizes[k]; i++)
            for (uint32_t j = 0; j < d; j++) {
                /* N(0, 1) by Box-Muller */
                double u1 = 1 - mlp__rng_uniform(&r), u2 = mlp__rng_uniform(&r);
                double g = sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
                ((float *)sets[k]->x)[i * d + j] = (float)(centers[sets[k]->y[i]][j] + g);
            }
    }
    const uint32_t widths[] = {32, 16};
    struct mlp_layer_spec hidden[2] = {{widths[0], MLP_ACT_RELU}, {widths[1], MLP_ACT_TANH}};
    test_use(1, MLP_KERNELS_FAST); /* trained on one thread */
    struct mlp_model *m = test_model(MLP_F32, d, 2, hidden, C, MLP_HEAD_SOFTMAX_CE, 1.0);
    test_use(0, MLP_KERNELS_FAST);
    if (!m) return;
    mlp_model_init(m, MLP_INIT_HE, 0, 0, 5);
    struct mlp_train_params tp = mlp_train_params_default();
    tp.epochs = 5;
    CHECK_STATUS(mlp_model_train(m, &tr.ds, &tp, NULL), MLP_OK);
    accuracy_case("synthetic 20-32-16-4", m, &tr.ds, &te.ds, 0.5);
    mlp_model_free(m);
    free_data(&tr);
    free_data(&te);
}

/* The W5 network's shape, smaller and shorter: 784-128-64-10 ReLU on the
 * first 12000 Fashion-MNIST training images, 2 epochs, tested on the first
 * 4000 test images (under an emulator 1000 and 1000, and the standardised
 * net left out). */
static void fashion_accuracy(void)
{
    char xp[512], yp[512], txp[512], typ[512];
    snprintf(xp, sizeof xp, "%s/train-images-idx3-ubyte.gz", test_fmnist_dir());
    snprintf(yp, sizeof yp, "%s/train-labels-idx1-ubyte.gz", test_fmnist_dir());
    snprintf(txp, sizeof txp, "%s/t10k-images-idx3-ubyte.gz", test_fmnist_dir());
    snprintf(typ, sizeof typ, "%s/t10k-labels-idx1-ubyte.gz", test_fmnist_dir());
    struct mlp_dataset tr = {0}, te = {0};
    if (mlp_dataset_load_idx(&tr, xp, yp, NULL) != MLP_OK || mlp_dataset_load_idx(&te, txp, typ, NULL) != MLP_OK) {
        printf("Fashion-MNIST not found under %s: its accuracy check skipped\n", test_fmnist_dir());
        mlp_dataset_free(&tr);
        mlp_dataset_free(&te);
        return;
    }
#ifdef FASTMLP_TEST_EMULATED
    /* under an emulator a twelfth of the training (the kernels themselves
     * are checked bit for bit above): a weaker net, the same comparison */
    mlp_dataset_truncate(&tr, 1000);
    mlp_dataset_truncate(&te, 1000);
#else
    mlp_dataset_truncate(&tr, 12000);
    mlp_dataset_truncate(&te, 4000);
#endif
    struct mlp_layer_spec hidden[2] = {{128, MLP_ACT_RELU}, {64, MLP_ACT_RELU}};
    test_use(1, MLP_KERNELS_FAST); /* trained on one thread */
    struct mlp_model *m = test_model(MLP_F32, tr.n_cols, 2, hidden, 10, MLP_HEAD_SOFTMAX_CE, 1.0 / 255);
    test_use(0, MLP_KERNELS_FAST);
    if (m) {
        mlp_model_init(m, MLP_INIT_HE, 0, 0, 42);
        struct mlp_train_params tp = mlp_train_params_default();
        tp.epochs = 2;
            CHECK_STATUS(mlp_model_train(m, &tr, &tp, NULL), MLP_OK);
        accuracy_case("Fashion-MNIST 784-128-64-10", m, &tr, &te, 0.5);
#ifndef FASTMLP_TEST_EMULATED
        /* standardised inputs take the general int8 path for the first
         * layer (under an emulator left to the native build: that path's
         * kernels are checked bit for bit above, and on standardised nets
         * in one_layer_cases, deep_cases and batch_path_cases) */
        CHECK_STATUS(mlp_model_fit_standardize(m, &tr, NULL), MLP_OK);
        mlp_model_init(m, MLP_INIT_HE, 0, 0, 43);
        CHECK_STATUS(mlp_model_train(m, &tr, &tp, NULL), MLP_OK);
        accuracy_case("Fashion-MNIST standardised", m, &tr, &te, 1.0);
#endif
    }
    mlp_model_free(m);
    mlp_dataset_free(&tr);
    mlp_dataset_free(&te);
}

/* --------------------------------------------------------- bad input */

static void bad_arguments(void)
{
    CHECK(mlp_qtype_parse("f32") == MLP_Q_F32 && mlp_qtype_parse("f4") == MLP_Q_F32);
    CHECK(mlp_qtype_parse("bf16") == MLP_Q_BF16 && mlp_qtype_parse("b2") == MLP_Q_BF16);
    CHECK(mlp_qtype_parse("int8") == MLP_Q_INT8 && mlp_qtype_parse("i1") == MLP_Q_INT8);
    CHECK(mlp_qtype_parse("f64") < 0 && mlp_qtype_parse("") < 0 && mlp_qtype_parse(NULL) < 0);
    CHECK(strcmp(mlp_qtype_name(MLP_Q_INT8), "int8") == 0 && strcmp(mlp_qtype_name((enum mlp_qtype)9), "?") == 0);
    mlp_qmodel_free(NULL);
    CHECK(strcmp(mlp_qtype_kernel((enum mlp_qtype)5), "?") == 0);
    CHECK(strcmp(mlp_qtype_kernel(MLP_Q_INT8), mlp__ktable(MLP_ISA_AUTO, NULL)->qk[MLP_Q_INT8].name) == 0);

    const uint32_t w[] = {5};
    struct mlp_model *m = make_net(MLP_F32, 6, w, 1, MLP_ACT_SIGMOID, 3, MLP_HEAD_SOFTMAX_CE, 1.0, 1);
    struct tdata d, wrong;
    make_data(&d, MLP_ELEM_F32, 4, 6, 3, 2);
    make_data(&wrong, MLP_ELEM_F32, 4, 7, 3, 3);
    struct mlp_error err = {0};
    struct mlp_qmodel *q = (struct mlp_qmodel *)&err; /* set to NULL on failure */
    CHECK_STATUS(mlp_qmodel_create(&q, m, (enum mlp_qtype)7, NULL, &err), MLP_ERR_ARG);
    CHECK(q == NULL && err.status == MLP_ERR_ARG);
    CHECK_STATUS(mlp_qmodel_create(&q, m, MLP_Q_INT8, &wrong.ds, &err), MLP_ERR_SHAPE);
    CHECK(q == NULL && strstr(err.msg, "7 columns"));
    struct mlp_dataset empty = d.ds;
    empty.n_rows = 0;
    CHECK_STATUS(mlp_qmodel_create(&q, m, MLP_Q_INT8, &empty, &err), MLP_ERR_ARG);
    CHECK_STATUS(mlp_qmodel_create(&q, m, MLP_Q_BF16, &wrong.ds, &err), MLP_OK); /* bf16 ignores calib */
    mlp_qmodel_free(q);
    CHECK_STATUS(mlp_qmodel_create(&q, m, MLP_Q_INT8, NULL, &err), MLP_OK);
    double out[4 * 3], loss, acc;
    if (q) {
        CHECK_STATUS(mlp_qmodel_predict(q, &wrong.ds, MLP_ROWS(0, 1), out, &err), MLP_ERR_SHAPE);
        CHECK_STATUS(mlp_qmodel_predict(q, &d.ds, MLP_ROWS(3, 2), out, &err), MLP_ERR_RANGE);
        CHECK_STATUS(mlp_qmodel_predict(q, &d.ds, MLP_ROWS(5, 1), out, &err), MLP_ERR_RANGE);
        CHECK_STATUS(mlp_qmodel_predict(q, &d.ds, MLP_ROWS(0, 0), out, &err), MLP_ERR_ARG);
        CHECK_STATUS(mlp_qmodel_predict(q, &d.ds, MLP_ROWS(0, 4), out, &err), MLP_OK);
        for (int k = 0; k < 4; k++) CHECK_NEAR(out[3 * k] + out[3 * k + 1] + out[3 * k + 2], 1.0, 1e-6);
        struct mlp_dataset nolabels = d.ds;
        nolabels.labels = NULL;
        CHECK_STATUS(mlp_qmodel_evaluate(q, &nolabels, &loss, &acc, &err), MLP_ERR_ARG);
        CHECK_STATUS(mlp_qmodel_predict(q, &nolabels, MLP_ROWS(0, 4), out, &err), MLP_OK);
        struct mlp_dataset toomany = d.ds;
        toomany.n_classes = 4;
        d.y[0] = 3;
        CHECK_STATUS(mlp_qmodel_evaluate(q, &toomany, &loss, &acc, &err), MLP_ERR_RANGE);
        d.y[0] = 0;
        CHECK_STATUS(mlp_qmodel_evaluate(q, &d.ds, &loss, &acc, &err), MLP_OK);
        CHECK(acc >= 0 && acc <= 1 && loss > 0);
        CHECK(mlp_qmodel_qtype(q) == MLP_Q_INT8 && mlp_qmodel_weight_bytes(q) > 0);
    }
    mlp_qmodel_free(q);

    /* NaN in, NaN out, in every type (int8 too: never a wrong finite
     * number), through an identity head (softmax maps NaN to e^-80, in
     * the model as here) */
    ((float *)d.x)[6 + 2] = NAN;
    struct mlp_model *mi = make_net(MLP_F32, 6, w, 1, MLP_ACT_SIGMOID, 3, MLP_HEAD_IDENTITY_MSE, 1.0, 1);
    for (int t = 0; t < MLP_Q_COUNT; t++) {
        q = NULL;
        CHECK_STATUS(mlp_qmodel_create(&q, mi, (enum mlp_qtype)t, NULL, &err), MLP_OK);
        if (!q) continue;
        CHECK_STATUS(mlp_qmodel_predict(q, &d.ds, MLP_ROWS(0, 3), out, &err), MLP_OK);
        CHECK_MSG(isnan(out[3]) && !isnan(out[0]) && !isnan(out[6]), "%s: NaN row gives %g, others %g %g",
                  mlp_qtype_name((enum mlp_qtype)t), out[3], out[0], out[6]);
        mlp_qmodel_free(q);
    }
    mlp_model_free(mi);
    free_data(&d);
    free_data(&wrong);
    mlp_model_free(m);
}

/* One thread or two, batch 1 (a large layer's rows split: 1030 x 1030 is
 * over 1 MiB in every type) or many rows (samples split), the same outputs
 * bit for bit; and every row's outputs those of the row alone, wherever it
 * sits in a call (fastmlp.h: results independent of which other rows share
 * a batch).  Run under each instruction-set variant the CPU runs (its own
 * quantised kernels, activations and head), with sigmoid (the quantised
 * kernels' own) and tanh (the table's activations, split over threads at
 * panel edges). */
static void threads_case(enum mlp_isa isa, enum mlp_act act)
{
    const uint32_t widths[] = {1030, 300};
    struct mlp_model *m = make_net(MLP_F32, 1030, widths, 2, act, 10, MLP_HEAD_SOFTMAX_CE, 1.0, 21);
    /* nr rows, batches of ns of them: under an emulator (FASTMLP_TEST_EMULATED:
     * the aarch64 tests) 9 rows, at most 9 (two threads, two NEON tiles of 4
     * and one more row) */
#ifdef FASTMLP_TEST_EMULATED
    const uint64_t nr = 9, ns[] = {1, 3, 9};
#else
    const uint64_t nr = 23, ns[] = {1, 3, 9, 23};
#endif
    struct tdata d;
    make_data(&d, MLP_ELEM_F32, nr, 1030, 10, 22);
    double *a = malloc(nr * 10 * sizeof *a), *b = malloc(nr * 10 * sizeof *b);
    const char *in = mlp_isa_name(isa), *an = mlp_act_name(act);
    /* q takes its quantised kernels from m's context when it is made */
    mlp_model_set_context(m, test_use_isa(1, MLP_KERNELS_FAST, isa));
    for (int t = 0; t < MLP_Q_COUNT; t++) {
        struct mlp_qmodel *q = NULL;
        CHECK_STATUS(mlp_qmodel_create(&q, m, (enum mlp_qtype)t, NULL, NULL), MLP_OK);
        if (!q) continue;
        const char *qn = mlp_qtype_name((enum mlp_qtype)t);
        for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
            mlp_qmodel_set_context(q, test_use_isa(1, MLP_KERNELS_FAST, isa));
            CHECK_STATUS(mlp_qmodel_predict(q, &d.ds, MLP_ROWS(nr - ns[k], ns[k]), a, NULL), MLP_OK);
            mlp_qmodel_set_context(q, test_use_isa(2, MLP_KERNELS_FAST, isa));
            CHECK_STATUS(mlp_qmodel_predict(q, &d.ds, MLP_ROWS(nr - ns[k], ns[k]), b, NULL), MLP_OK);
            CHECK_MSG(memcmp(a, b, ns[k] * 10 * sizeof *a) == 0, "%s %s %s, %llu rows: 1 and 2 threads differ", qn,
                      in, an, (unsigned long long)ns[k]);
            /* and a row's outputs do not depend on the rows beside it */
            for (uint64_t i = 0; i < ns[k]; i++) {
                CHECK_STATUS(mlp_qmodel_predict(q, &d.ds, MLP_ROWS(nr - ns[k] + i, 1), b, NULL), MLP_OK);
                CHECK_MSG(memcmp(a + i * 10, b, 10 * sizeof *a) == 0,
                          "%s %s %s: row %llu differs alone and at %llu of %llu rows", qn, in, an,
                          (unsigned long long)(nr - ns[k] + i), (unsigned long long)i, (unsigned long long)ns[k]);
            }
        }
        double l1, a1, l2, a2;
        mlp_qmodel_set_context(q, test_use_isa(1, MLP_KERNELS_FAST, isa));
        CHECK_STATUS(mlp_qmodel_evaluate(q, &d.ds, &l1, &a1, NULL), MLP_OK);
        mlp_qmodel_set_context(q, test_use_isa(2, MLP_KERNELS_FAST, isa));
        CHECK_STATUS(mlp_qmodel_evaluate(q, &d.ds, &l2, &a2, NULL), MLP_OK);
        CHECK(a1 == a2);
        CHECK_NEAR(l1, l2, 1e-12 * fabs(l1));
        mlp_qmodel_free(q);
    }
    test_use(0, MLP_KERNELS_FAST);
    free(a), free(b);
    free_data(&d);
    mlp_model_free(m);
}

/* threads_case under every variant this CPU runs. */
static void threads_cases(void)
{
    for (int isa = MLP_ISA_PORTABLE; isa <= MLP_ISA_LAST; isa++) {
        if (!test_use_isa(1, MLP_KERNELS_FAST, (enum mlp_isa)isa)) {
            printf("test_quant: threads_case skipped %s (this CPU cannot run it)\n", mlp_isa_name((enum mlp_isa)isa));
            continue;
        }
        threads_case((enum mlp_isa)isa, MLP_ACT_SIGMOID);
        threads_case((enum mlp_isa)isa, MLP_ACT_TANH);
    }
}

/* The batch sizes batch_path_cases tries after n: every one up to 70, or
 * under an emulator (FASTMLP_TEST_EMULATED: the aarch64 tests) 1-9, 13,
 * 17, 33, 64, 65 and 70: every remainder of the NEON kernels' sample tile
 * (4), one and several tiles per thread. */
static uint64_t next_batch(uint64_t n)
{
#ifdef FASTMLP_TEST_EMULATED
    return n < 9 ? n + 1 : n == 9 ? 13 : n == 13 ? 17 : n == 17 ? 33 : n == 33 ? 64 : n == 64 ? 65 : 70 + (n == 70);
#else
    return n + 1;
#endif
}

/* The int8 batch path against the panel path, the same bits: nets whose
 * widths are no multiple of 4, 16 or 64, every batch size from 1 to 70
 * (next_batch), 1 and 2 threads, uint8 (exact, with blank steps) and f32
 * inputs, standardised, calibrated, ReLU and the other activations; and against
 * the portable kernels forced (which have no batch kernel: the panel
 * path). */
static void batch_path_cases(void)
{
    struct net {
        uint32_t n_in, w0, w1, K;
        enum mlp_act act;
        enum mlp_head head;
        enum mlp_elem et;
        int stdz, calib;
    } nets[] = {
        {784, 256, 128, 10, MLP_ACT_RELU, MLP_HEAD_SOFTMAX_CE, MLP_ELEM_U8, 0, 0},   /* W5's shape */
        {37, 23, 9, 3, MLP_ACT_RELU, MLP_HEAD_SOFTMAX_CE, MLP_ELEM_U8, 0, 0},        /* n_in % 4 != 0 */
        {66, 17, 50, 1, MLP_ACT_RELU, MLP_HEAD_SIGMOID_BCE, MLP_ELEM_F32, 0, 0},
        {65, 33, 15, 4, MLP_ACT_TANH, MLP_HEAD_IDENTITY_MSE, MLP_ELEM_F64, 1, 0},
        {40, 70, 31, 5, MLP_ACT_SIGMOID, MLP_HEAD_SOFTMAX_CE, MLP_ELEM_F32, 0, 1},
        {129, 48, 20, 2, MLP_ACT_LEAKY_RELU, MLP_HEAD_SOFTMAX_CE, MLP_ELEM_U8, 1, 1},
    };
    const uint64_t rows = 140;
    uint64_t seed = 900;
    for (size_t c = 0; c < sizeof nets / sizeof nets[0]; c++) {
        const struct net *nt = &nets[c];
        const uint32_t widths[2] = {nt->w0, nt->w1}, K = nt->K;
        struct mlp_model *m = make_net(MLP_F32, nt->n_in, widths, 2, nt->act, K, nt->head,
                                       nt->et == MLP_ELEM_U8 ? 1.0 / 255 : 1.0, seed++);
        struct tdata d;
        make_data(&d, nt->et, rows, nt->n_in, K == 1 ? 2 : K, seed++);
        if (nt->et == MLP_ELEM_U8) /* blank borders and spots, as images have */
            for (uint64_t i = 0; i < rows; i++)
                for (uint32_t j = 0; j < nt->n_in; j++)
                    if (j < 30 || j % 28 < 5 || (i + j) % 3 == 0) ((uint8_t *)d.x)[i * nt->n_in + j] = 0;
        if (nt->stdz) CHECK_STATUS(mlp_model_fit_standardize(m, &d.ds, NULL), MLP_OK);
        double *a = malloc(70 * K * sizeof *a), *b = malloc(70 * K * sizeof *b), *p = malloc(70 * K * sizeof *p);
        struct mlp_qmodel *q = NULL, *qp = NULL;
        CHECK_STATUS(mlp_qmodel_create(&q, m, MLP_Q_INT8, nt->calib ? &d.ds : NULL, NULL), MLP_OK);
        CHECK_STATUS(portable_qmodel(&qp, m, MLP_Q_INT8, nt->calib ? &d.ds : NULL), MLP_OK);
        for (uint64_t n = 1; q && qp && n <= 70; n = next_batch(n)) {
            const uint64_t row0 = (n * 37) % (rows - n + 1);
            for (int th = 1; th <= 2; th++) {
                mlp_qmodel_set_context(q, test_use(th, MLP_KERNELS_FAST));
                mlp_qmodel_set_context(qp, test_ctx());
                mlp__qmodel_set_gemm_min(q, UINT32_MAX); /* the panel path */
                CHECK_STATUS(mlp_qmodel_predict(q, &d.ds, MLP_ROWS(row0, n), a, NULL), MLP_OK);
                mlp__qmodel_set_gemm_min(q, 1); /* the batch path */
                mlp__qmodel_set_gemm_min(qp, 1);
                CHECK_STATUS(mlp_qmodel_predict(q, &d.ds, MLP_ROWS(row0, n), b, NULL), MLP_OK);
                CHECK_MSG(memcmp(a, b, n * K * sizeof *a) == 0, "net %zu, %llu rows, %d thread(s): batch path differs",
                          c, (unsigned long long)n, th);
                CHECK_STATUS(mlp_qmodel_predict(qp, &d.ds, MLP_ROWS(row0, n), p, NULL), MLP_OK);
                /* the vector sigmoid differs from libm's in the last bit */
                if (nt->act != MLP_ACT_SIGMOID && nt->head != MLP_HEAD_SIGMOID_BCE)
                    CHECK_MSG(memcmp(p, b, n * K * sizeof *a) == 0,
                              "net %zu, %llu rows, %d thread(s): the portable kernels differ", c,
                              (unsigned long long)n, th);
            }
        }
        if (q) {
            /* evaluate: the same accuracy and loss (summed in the same order) */
            for (int th = 1; th <= 2; th++) {
                double l0, a0, l1, a1;
                mlp_qmodel_set_context(q, test_use(th, MLP_KERNELS_FAST));
                mlp__qmodel_set_gemm_min(q, UINT32_MAX);
                CHECK_STATUS(mlp_qmodel_evaluate(q, &d.ds, &l0, &a0, NULL), MLP_OK);
                mlp__qmodel_set_gemm_min(q, 1);
                CHECK_STATUS(mlp_qmodel_evaluate(q, &d.ds, &l1, &a1, NULL), MLP_OK);
                CHECK_MSG(a0 == a1 && l0 == l1, "net %zu, %d thread(s): evaluate %.17g %.17g vs %.17g %.17g", c, th,
                          l1, a1, l0, a0);
            }
        }
        test_use(0, MLP_KERNELS_FAST);
        mlp_qmodel_free(q);
        mlp_qmodel_free(qp);
        free(a), free(b), free(p);
        free_data(&d);
        mlp_model_free(m);
    }
}

/* The qmodel outlives its model and runs the same after it is freed. */
static void independence(void)
{
    const uint32_t w[] = {9};
    struct mlp_model *m = make_net(MLP_F64, 4, w, 1, MLP_ACT_TANH, 2, MLP_HEAD_SIGMOID_BCE, 1.0, 3);
    struct tdata d;
    make_data(&d, MLP_ELEM_F64, 3, 4, 2, 4);
    CHECK_STATUS(mlp_model_set_standardize(m, (const double[]){1, 2, 3, 4}, (const double[]){1, 0.5, 2, 4}, NULL),
                 MLP_OK);
    double a[6], b[6];
    struct mlp_qmodel *q = NULL;
    CHECK_STATUS(mlp_qmodel_create(&q, m, MLP_Q_F32, NULL, NULL), MLP_OK);
    CHECK_STATUS(mlp_qmodel_predict(q, &d.ds, MLP_ROWS(0, 3), a, NULL), MLP_OK);
    mlp_model_free(m);
    CHECK_STATUS(mlp_qmodel_predict(q, &d.ds, MLP_ROWS(0, 3), b, NULL), MLP_OK);
    CHECK(memcmp(a, b, sizeof a) == 0);
    mlp_qmodel_free(q);
    free_data(&d);
}

int main(void)
{
    init_feature_sets();
    const unsigned cpu = feature_sets[0];
    printf("CPU features for the kernels: %s%s%s%s%s%s%s%s%s%s\n", cpu & MLP_QK_HAS_AVX2 ? "avx2 " : "",
           cpu & MLP_QK_HAS_AVXVNNI ? "avx-vnni " : "", cpu & MLP_QK_HAS_AVX512 ? "avx512 " : "",
           cpu & MLP_QK_HAS_AVX512_BF16 ? "avx512-bf16 " : "", cpu & MLP_QK_HAS_AVX512_VNNI ? "avx512-vnni " : "",
           cpu & MLP_QK_HAS_NEON ? "neon " : "", cpu & MLP_QK_HAS_DOTPROD ? "dotprod " : "",
           cpu & MLP_QK_HAS_I8MM ? "i8mm " : "", cpu & MLP_QK_HAS_ARM_BF16 ? "arm-bf16 " : "",
           cpu ? "" : "none (portable only)");
    selection_cases();
    kernel_cases();
    i8g_cases();
    one_layer_cases();
    wide_int8_case();
    tiny_range_case();
    deep_cases();
    bad_arguments();
    independence();
    threads_cases();
    batch_path_cases();
    synthetic_accuracy();
    fashion_accuracy();
    return check_report("test_quant");
}
