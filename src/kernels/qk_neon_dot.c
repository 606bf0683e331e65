/* SPDX-License-Identifier: MIT */
/* The int8 kernels of qkernels.h with the dot-product extension (SDOT:
 * FEAT_DotProd, Cortex-A55/A75 and later, Neoverse N1 and later), the
 * panel kernel and the batch kernel.  This file is built with
 * -march=armv8.2-a+dotprod (CMakeLists.txt), and mlp__qk_select gives its
 * functions only where getauxval reports ASIMDDP (MLP_QK_HAS_DOTPROD).
 *
 * SDOT multiplies signed bytes, UDOT unsigned ones; qkernels.h's products
 * are u8 activations x s8 weights.  So the activations go in as
 * x' = x ^ 0x80 = x - 128 (a signed byte), and each sum gets back
 * 128 x the sum of its weights:
 *     sum x w = sum (x - 128) w + 128 sum w,
 * in wrapping int32 vector arithmetic, which gives the exact sum wherever
 * it fits in int32 (qkernels.h's limit on K sees to that): the portable
 * results, bit for bit. */
#include "kernels/qk_neon.h"

#ifdef MLP_QK_NEON

#include <arm_neon.h>

/* AI, LOAD_FENCE (one after each row or step, so that GCC 12 does not hoist
 * the loads of every row or step above the SDOTs and spill accumulators),
 * sum4_s32, the per-panel dispatch (QK_PANELS), and the batch kernel's G_S,
 * g_finish, g_load_u8 and tile loop (QK_I8G_TILES): kernels/qk_neon.h. */

/* ------------------------------------------------------------ panels */

/* One panel, NS samples: each sample's x' once for the 4 rows (EOR), each
 * row's weights once for the NS samples, one SDOT per (sample, row) for
 * 16 products, and one more per row, against a vector of ones, for the
 * weights' sum (shared by the samples).  With one or two samples, a whole
 * chunk at a time (one LD1 of 4 vectors per sample and per row); with
 * three or four, whose chunks would not fit the registers beside the
 * accumulators, 16 bytes at a time.  With one sample each row keeps two
 * accumulators (parts 0, 2 and 1, 3 of a chunk): 8 dependency chains. */
AI void i8_panel(const int8_t *wp, uint32_t nch, const uint8_t *x, size_t ldx, const uint32_t NS, int32_t *y,
                 size_t ldy)
{
    const uint32_t H = NS == 1 ? 2u : 1u;
    const uint8x16_t flip = vdupq_n_u8(0x80);
    const int8x16_t ones = vdupq_n_s8(1);
    /* acc[s][i]: sample s, row i; with one sample acc[1] holds the second
     * chains (ACC(s, i, h), h = 0 or H - 1: constant indices, registers) */
    int32x4_t acc[MLP_QK_MAX_NS][4], ws[4];
#define ACC(s, i, h) acc[(s) + (h)][i]
    for (int i = 0; i < 4; i++) {
        ws[i] = vdupq_n_s32(0);
        for (uint32_t s = 0; s < NS + H - 1; s++) acc[s][i] = vdupq_n_s32(0);
    }
    if (NS <= 2) {
        for (uint32_t c = 0; c < nch; c++, wp += 256, x += 64) {
            int8x16_t xs[2][4];
            for (uint32_t s = 0; s < NS; s++) {
                const uint8x16x4_t v = vld1q_u8_x4(x + s * ldx);
                for (int k = 0; k < 4; k++) xs[s][k] = vreinterpretq_s8_u8(veorq_u8(v.val[k], flip));
            }
            for (int i = 0; i < 4; i++) {
                const int8x16x4_t w = vld1q_s8_x4(wp + 64 * i);
                for (int k = 0; k < 4; k++) ws[i] = vdotq_s32(ws[i], w.val[k], ones);
                for (uint32_t s = 0; s < NS; s++) {
                    ACC(s, i, 0) = vdotq_s32(ACC(s, i, 0), xs[s][0], w.val[0]);
                    ACC(s, i, H - 1) = vdotq_s32(ACC(s, i, H - 1), xs[s][1], w.val[1]);
                    ACC(s, i, 0) = vdotq_s32(ACC(s, i, 0), xs[s][2], w.val[2]);
                    ACC(s, i, H - 1) = vdotq_s32(ACC(s, i, H - 1), xs[s][3], w.val[3]);
                }
                LOAD_FENCE();
            }
        }
    } else {
        for (uint32_t c = 0; c < nch; c++, wp += 256, x += 64)
            for (int k = 0; k < 4; k++) {
                int8x16_t xs[MLP_QK_MAX_NS];
                for (uint32_t s = 0; s < NS; s++)
                    xs[s] = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(x + s * ldx + 16 * k), flip));
                for (int i = 0; i < 4; i++) {
                    const int8x16_t w = vld1q_s8(wp + 64 * i + 16 * k);
                    ws[i] = vdotq_s32(ws[i], w, ones);
                    for (uint32_t s = 0; s < NS; s++) acc[s][i] = vdotq_s32(acc[s][i], xs[s], w);
                    LOAD_FENCE();
                }
            }
    }
#undef ACC
    const int32x4_t wsum = sum4_s32(ws[0], ws[1], ws[2], ws[3]);
    const int32x4_t corr = vshlq_n_s32(wsum, 7); /* 128 sum w, wrapping */
    for (uint32_t s = 0; s < NS; s++) {
        int32x4_t r[4];
        for (int i = 0; i < 4; i++) r[i] = H == 2 ? vaddq_s32(acc[0][i], acc[1][i]) : acc[s][i];
        vst1q_s32(y + s * ldy, vaddq_s32(sum4_s32(r[0], r[1], r[2], r[3]), corr));
    }
}

void mlp__qk_i8_neon_dot(const int8_t *w, size_t panel_stride, uint32_t nch, uint32_t p0, uint32_t p1,
                         const uint8_t *x, size_t ldx, uint32_t ns, int32_t *y, size_t ldy)
{
    QK_PANELS(i8_panel, w, panel_stride, nch, p0, p1, x, ldx, ns, y, ldy);
}

/* ------------------------------------------------------ the batch kernel */

/* qkernels.h's batch layout fits the by-element SDOT exactly: one q
 * register of a step's weights is 4 rows x 4 inputs (int8), and
 * SDOT Vd.4S, Vn.16B, Vm.4B[l] adds to row r's lane the dot product of its
 * 4 weights with the 4 bytes in lane l of Vm: a sample's x' of 4 steps
 * (16 bytes, one load and one EOR), step t + l in lane l.  A register
 * tile of 4 samples x 16 rows: 16 accumulators, 4 weight vectors (one LD1
 * of a step's 64 bytes), 4 sample vectors: per 4 steps 64 SDOT for 1024
 * products, 4 + 4 loads, 4 EOR and the loop's 7 (83 instructions in GCC
 * 12's loop); no widening, no horizontal sums.  (A fifth sample would
 * save at most the loop's share, 2%, for 29 of the 32 registers.)
 *
 * The epilogue: the portable kernel's acc - z rowsum is here
 * acc' + 128 rowsum - z rowsum = acc' + (128 - z) rowsum, one MLA in
 * wrapping int32 (the same value: exact where it fits), then qkernels.h's
 * f32 operations (g_finish, kernels/qk_neon.h). */
AI void g_epilogue(int32x4_t acc, const int32_t *rowsum, int32_t z, const float *wscale, float s, const float *bias,
                   int relu, float *y)
{
    /* 128 - z in unsigned arithmetic: defined for any z, the same bits */
    const int32x4_t v = vmlaq_s32(acc, vld1q_s32(rowsum), vdupq_n_s32((int32_t)(128u - (uint32_t)z)));
    g_finish(v, wscale, s, bias, relu, y);
}

/* One step's 16 rows (w = the step's 4 vectors) for sample S_ of the tile,
 * its x' in lane L of x##S_. */
#define G_DOT(S_, w, L)                                                                                         \
    do {                                                                                                        \
        a##S_##0 = vdotq_laneq_s32(a##S_##0, (w).val[0], x##S_, L);                                             \
        a##S_##1 = vdotq_laneq_s32(a##S_##1, (w).val[1], x##S_, L);                                             \
        a##S_##2 = vdotq_laneq_s32(a##S_##2, (w).val[2], x##S_, L);                                             \
        a##S_##3 = vdotq_laneq_s32(a##S_##3, (w).val[3], x##S_, L);                                             \
    } while (0)
#define G_STEP(w, L)                                                                                            \
    do {                                                                                                        \
        G_DOT(0, w, L);                                                                                         \
        G_DOT(1, w, L);                                                                                         \
        G_DOT(2, w, L);                                                                                         \
        G_DOT(3, w, L);                                                                                         \
        LOAD_FENCE();                                                                                           \
    } while (0)
/* Sample S_'s 16 rows through the epilogue, stored (if in the tile). */
#define G_EPI(S_)                                                                                               \
    do {                                                                                                        \
        if (S_ < S) {                                                                                           \
            g_epilogue(a##S_##0, rs, zx[S_], wsc, sx[S_], bs, relu, y + S_ * ldy);                              \
            g_epilogue(a##S_##1, rs + 4, zx[S_], wsc + 4, sx[S_], bs + 4, relu, y + S_ * ldy + 4);              \
            g_epilogue(a##S_##2, rs + 8, zx[S_], wsc + 8, sx[S_], bs + 8, relu, y + S_ * ldy + 8);              \
            g_epilogue(a##S_##3, rs + 12, zx[S_], wsc + 12, sx[S_], bs + 12, relu, y + S_ * ldy + 12);          \
        }                                                                                                       \
    } while (0)

/* A sample's x' of steps t..t+3 (g_load_u8's 16 bytes, kernels/qk_neon.h). */
AI int8x16_t g_load(const uint8_t *p, uint32_t nbytes)
{
    return vreinterpretq_s8_u8(veorq_u8(g_load_u8(p, nbytes), vdupq_n_u8(0x80)));
}

static __attribute__((noinline)) void g_tile(const int8_t *wg, uint32_t k4, const uint8_t *x, size_t ldx, uint32_t S,
                                             const int32_t *rs, const float *wsc, const float *bs, const float *sx,
                                             const int32_t *zx, int relu, float *y, size_t ldy)
{
    /* a short tile repeats its last sample, whose sums it does not store */
    const uint8_t *xp0 = x, *xp1 = x + (S > 1 ? 1 : S - 1) * ldx, *xp2 = x + (S > 2 ? 2 : S - 1) * ldx,
                  *xp3 = x + (S > 3 ? 3 : S - 1) * ldx;
    const int32x4_t z = vdupq_n_s32(0);
    int32x4_t a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z, a20 = z, a21 = z, a22 = z,
              a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;
    /* 4 steps at a time: one 16-byte load of each sample's inputs */
    for (uint32_t n = k4 / 4; n; n--, wg += 256, xp0 += 16, xp1 += 16, xp2 += 16, xp3 += 16) {
        const int8x16_t x0 = g_load(xp0, 16), x1 = g_load(xp1, 16), x2 = g_load(xp2, 16), x3 = g_load(xp3, 16);
        const int8x16x4_t w0 = vld1q_s8_x4(wg);
        G_STEP(w0, 0);
        const int8x16x4_t w1 = vld1q_s8_x4(wg + 64);
        G_STEP(w1, 1);
        const int8x16x4_t w2 = vld1q_s8_x4(wg + 128);
        G_STEP(w2, 2);
        const int8x16x4_t w3 = vld1q_s8_x4(wg + 192);
        G_STEP(w3, 3);
    }
    const uint32_t left = k4 % 4;
    if (left) { /* 1 to 3 steps */
        const int8x16_t x0 = g_load(xp0, 4 * left), x1 = g_load(xp1, 4 * left), x2 = g_load(xp2, 4 * left),
                        x3 = g_load(xp3, 4 * left);
        const int8x16x4_t w0 = vld1q_s8_x4(wg);
        G_STEP(w0, 0);
        if (left > 1) {
            const int8x16x4_t w1 = vld1q_s8_x4(wg + 64);
            G_STEP(w1, 1);
        }
        if (left > 2) {
            const int8x16x4_t w2 = vld1q_s8_x4(wg + 128);
            G_STEP(w2, 2);
        }
    }
    G_EPI(0);
    G_EPI(1);
    G_EPI(2);
    G_EPI(3);
}
#undef G_DOT
#undef G_STEP
#undef G_EPI

void mlp__qk_i8g_neon_dot(const struct mlp_qk_i8g_layer *L, const uint8_t *x, size_t ldx, uint32_t ns,
                          const float *sx, const int32_t *zx, int relu, float *y, size_t ldy)
{
    QK_I8G_TILES(g_tile, L, x, ldx, ns, sx, zx, relu, y, ldy);
}

#endif /* MLP_QK_NEON */
