/* SPDX-License-Identifier: MIT */
/* The int8 kernels of qkernels.h with the int8 matrix-multiply extension
 * (FEAT_I8MM: Neoverse V1/N2 and later, Cortex-A510/A710 and later), the
 * panel kernel and the batch kernel.  This file is built with
 * -march=armv8.2-a+dotprod+i8mm (CMakeLists.txt); its functions use only
 * I8MM's mixed-sign instructions (USDOT, USMMLA) and the base Advanced
 * SIMD, and mlp__qk_select gives them where getauxval reports I8MM
 * (MLP_QK_HAS_I8MM).
 *
 * USDOT and USMMLA multiply unsigned bytes by signed ones, qkernels.h's u8
 * activations x s8 weights, summing into int32 with no intermediate
 * rounding or saturation: the exact sums of the portable kernels, in
 * another order (wrapping int32 vector adds: the same value wherever the
 * sum fits, which qkernels.h's limit on K sees to). */
#include "kernels/qk_neon.h"

#ifdef MLP_QK_NEON

#include <arm_neon.h>

/* AI, LOAD_FENCE (one after each row or pair of steps, so that GCC 12 does
 * not hoist the loads of every row or pair of steps above the dot products
 * and spill accumulators), sum4_s32, the per-panel dispatch (QK_PANELS),
 * and the batch kernel's G_S, g_finish, g_load_u8 and tile loop
 * (QK_I8G_TILES): kernels/qk_neon.h. */

/* ------------------------------------------------------------ panels */

/* One panel, NS samples, one USDOT per (sample, row) and 16 products.
 * With one or two samples, a whole chunk at a time: each sample's 64 u8
 * (one LD1 of 4 vectors) once for the 4 rows, each row's 64 s8 (one LD1)
 * once for the samples; with three or four, whose chunks would not fit
 * the registers beside the accumulators, 16 bytes at a time.  With one
 * sample each row keeps two accumulators (parts 0, 2 and 1, 3 of a
 * chunk): 8 dependency chains.  (USMMLA would make 32 products per
 * instruction from two samples' and two rows' 8 bytes, but the panel
 * keeps a row's bytes together: the 64-bit zips that pair two samples and
 * two rows cost 6 instructions per 16-byte part against the 4 of 8 USDOT
 * they save.) */
AI void i8_panel(const int8_t *wp, uint32_t nch, const uint8_t *x, size_t ldx, const uint32_t NS, int32_t *y,
                 size_t ldy)
{
    const uint32_t H = NS == 1 ? 2u : 1u;
    /* acc[s][i]: sample s, row i; with one sample acc[1] holds the second
     * chains (ACC(s, i, h), h = 0 or H - 1: constant indices, registers) */
    int32x4_t acc[MLP_QK_MAX_NS][4];
#define ACC(s, i, h) acc[(s) + (h)][i]
    for (uint32_t s = 0; s < NS + H - 1; s++)
        for (int i = 0; i < 4; i++) acc[s][i] = vdupq_n_s32(0);
    if (NS <= 2) {
        for (uint32_t c = 0; c < nch; c++, wp += 256, x += 64) {
            uint8x16x4_t xs[2];
            for (uint32_t s = 0; s < NS; s++) xs[s] = vld1q_u8_x4(x + s * ldx);
            for (int i = 0; i < 4; i++) {
                const int8x16x4_t w = vld1q_s8_x4(wp + 64 * i);
                for (uint32_t s = 0; s < NS; s++) {
                    ACC(s, i, 0) = vusdotq_s32(ACC(s, i, 0), xs[s].val[0], w.val[0]);
                    ACC(s, i, H - 1) = vusdotq_s32(ACC(s, i, H - 1), xs[s].val[1], w.val[1]);
                    ACC(s, i, 0) = vusdotq_s32(ACC(s, i, 0), xs[s].val[2], w.val[2]);
                    ACC(s, i, H - 1) = vusdotq_s32(ACC(s, i, H - 1), xs[s].val[3], w.val[3]);
                }
                LOAD_FENCE();
            }
        }
    } else {
        for (uint32_t c = 0; c < nch; c++, wp += 256, x += 64) {
            for (int k = 0; k < 4; k++) {
                uint8x16_t xs[MLP_QK_MAX_NS];
                for (uint32_t s = 0; s < NS; s++) xs[s] = vld1q_u8(x + s * ldx + 16 * k);
                for (int i = 0; i < 4; i++) {
                    const int8x16_t w = vld1q_s8(wp + 64 * i + 16 * k);
                    for (uint32_t s = 0; s < NS; s++) acc[s][i] = vusdotq_s32(acc[s][i], xs[s], w);
                    LOAD_FENCE();
                }
            }
            /* each accumulator kept in one register (GCC 12 otherwise
             * rotates some through others: MOVs in the loop) */
            for (uint32_t s = 0; s < NS; s++)
                __asm__("" : "+w"(acc[s][0]), "+w"(acc[s][1]), "+w"(acc[s][2]), "+w"(acc[s][3]));
        }
    }
#undef ACC
    for (uint32_t s = 0; s < NS; s++) {
        int32x4_t r[4];
        for (int i = 0; i < 4; i++) r[i] = H == 2 ? vaddq_s32(acc[0][i], acc[1][i]) : acc[s][i];
        vst1q_s32(y + s * ldy, sum4_s32(r[0], r[1], r[2], r[3]));
    }
}

void mlp__qk_i8_neon_i8mm(const int8_t *w, size_t panel_stride, uint32_t nch, uint32_t p0, uint32_t p1,
                          const uint8_t *x, size_t ldx, uint32_t ns, int32_t *y, size_t ldy)
{
    QK_PANELS(i8_panel, w, panel_stride, nch, p0, p1, x, ldx, ns, y, ldy);
}

/* ------------------------------------------------------ the batch kernel */

/* USMMLA Vd.4S, Vn.16B, Vm.16B adds to the 2 x 2 int32 matrix in Vd the
 * product of Vn, two rows of 8 u8, with Vm, two columns of 8 s8:
 * d[2i + j] += sum_k n[8i + k] m[8j + k]: 32 products per instruction,
 * twice the by-element USDOT's 16.  Here the two rows are two samples'
 * inputs of steps t, t + 1 (8 bytes each: a 64-bit zip of the samples'
 * 16-byte loads), the two columns two weight rows' 8 inputs of the same
 * steps: a 32-bit zip of steps t and t + 1 of qkernels.h's batch layout
 * (rows 4j..4j+3 x 4 inputs each) gives rows 4j, 4j + 1 (ZIP1) and
 * 4j + 2, 4j + 3 (ZIP2).  A register tile of 4 samples (2 pairs) x 16 rows:
 * 16 accumulators, each (sample a, row r), (a, r + 1), (b, r), (b, r + 1).
 * Per 4 steps: 32 USMMLA for 1024 products, 16 ZIP of weights (shared by
 * the pairs), 4 loads and 4 ZIP of inputs, 8 LDP of weights: 64 + the
 * loop's (70 in GCC 12's loop), against 64 SUDOT (by element), 8 loads
 * and the loop's (77); and 52 operations on the vector pipes against 64,
 * where cores that run (US)MMLA at the rate of (US)DOT (Neoverse V1, N2)
 * make twice the products per cycle.  The epilogue's 64-bit zips put
 * each sample's 4 rows back in order.
 *
 * The epilogue is qkernels.h's, in its order: acc - z rowsum in wrapping
 * int32 (MLS: exact where it fits, the same value), then the f32
 * operations (g_finish, kernels/qk_neon.h).  A sample's inputs of steps
 * t..t+3 are g_load_u8's 16 bytes (kernels/qk_neon.h). */
AI void g_epilogue(int32x4_t acc, const int32_t *rowsum, int32_t z, const float *wscale, float s, const float *bias,
                   int relu, float *y)
{
    const int32x4_t v = vmlsq_s32(acc, vld1q_s32(rowsum), vdupq_n_s32(z));
    g_finish(v, wscale, s, bias, relu, y);
}

/* Rows 4j..4j+3 of two steps (a, b: their 4 x 4 bytes) for the two
 * sample pairs (pa, pb: 8 + 8 input bytes of those steps each), into
 * accumulators c0<m0>, c0<m1> (pair 0) and c1<m0>, c1<m1> (pair 1),
 * m0 = 2j, m1 = 2j + 1. */
#define G_ROWS4(m0, m1, a, b, pa, pb)                                                                           \
    do {                                                                                                        \
        const int8x16_t lo = vreinterpretq_s8_u32(vzip1q_u32(vreinterpretq_u32_s8(a), vreinterpretq_u32_s8(b))); \
        const int8x16_t hi = vreinterpretq_s8_u32(vzip2q_u32(vreinterpretq_u32_s8(a), vreinterpretq_u32_s8(b))); \
        c0##m0 = vusmmlaq_s32(c0##m0, pa, lo);                                                                  \
        c0##m1 = vusmmlaq_s32(c0##m1, pa, hi);                                                                  \
        c1##m0 = vusmmlaq_s32(c1##m0, pb, lo);                                                                  \
        c1##m1 = vusmmlaq_s32(c1##m1, pb, hi);                                                                  \
    } while (0)

/* Two steps of 16 rows: wa, wb point to the steps' 64 bytes (wb NULL:
 * zeros), 32 bytes of each at a time (two LDP), so that the 16
 * accumulators, 4 input pairs, 4 weight and 2 zipped vectors fit the 32
 * registers (a whole step's LD1 of 4 vectors, twice, spilled). */
#define G_2STEPS(wa, wb, pa, pb)                                                                                \
    do {                                                                                                        \
        const int8_t *wa_ = (wa), *wb_ = (wb);                                                                  \
        const uint8x16_t pa_ = (pa), pb_ = (pb);                                                                \
        int8x16_t a0 = vld1q_s8(wa_), a1 = vld1q_s8(wa_ + 16);                                                 \
        int8x16_t b0 = wb_ ? vld1q_s8(wb_) : vdupq_n_s8(0), b1 = wb_ ? vld1q_s8(wb_ + 16) : vdupq_n_s8(0);      \
        G_ROWS4(0, 1, a0, b0, pa_, pb_);                                                                        \
        G_ROWS4(2, 3, a1, b1, pa_, pb_);                                                                        \
        LOAD_FENCE();                                                                                           \
        a0 = vld1q_s8(wa_ + 32);                                                                                \
        a1 = vld1q_s8(wa_ + 48);                                                                                \
        b0 = wb_ ? vld1q_s8(wb_ + 32) : vdupq_n_s8(0);                                                          \
        b1 = wb_ ? vld1q_s8(wb_ + 48) : vdupq_n_s8(0);                                                          \
        G_ROWS4(4, 5, a0, b0, pa_, pb_);                                                                        \
        G_ROWS4(6, 7, a1, b1, pa_, pb_);                                                                        \
        LOAD_FENCE();                                                                                           \
    } while (0)

AI uint8x16_t zip64_lo(uint8x16_t a, uint8x16_t b)
{
    return vreinterpretq_u8_u64(vzip1q_u64(vreinterpretq_u64_u8(a), vreinterpretq_u64_u8(b)));
}

AI uint8x16_t zip64_hi(uint8x16_t a, uint8x16_t b)
{
    return vreinterpretq_u8_u64(vzip2q_u64(vreinterpretq_u64_u8(a), vreinterpretq_u64_u8(b)));
}

/* Sample a's (lo) or b's (hi) rows 4j..4j+3 from the accumulators of row
 * pairs 2j (p) and 2j + 1 (q): (a, r) (a, r + 1) (b, r) (b, r + 1) each. */
AI int32x4_t rows_lo(int32x4_t p, int32x4_t q)
{
    return vreinterpretq_s32_s64(vzip1q_s64(vreinterpretq_s64_s32(p), vreinterpretq_s64_s32(q)));
}

AI int32x4_t rows_hi(int32x4_t p, int32x4_t q)
{
    return vreinterpretq_s32_s64(vzip2q_s64(vreinterpretq_s64_s32(p), vreinterpretq_s64_s32(q)));
}

/* Rows 4j..4j+3 of the tile's samples through the epilogue, stored. */
#define G_EPI(j, p0, q0, p1, q1)                                                                                \
    do {                                                                                                        \
        const int32_t *r_ = rs + 4 * (j);                                                                       \
        const float *w_ = wsc + 4 * (j), *b_ = bs + 4 * (j);                                                    \
        g_epilogue(rows_lo(p0, q0), r_, zx[0], w_, sx[0], b_, relu, y + 4 * (j));                               \
        if (S > 1) g_epilogue(rows_hi(p0, q0), r_, zx[1], w_, sx[1], b_, relu, y + ldy + 4 * (j));              \
        if (S > 2) g_epilogue(rows_lo(p1, q1), r_, zx[2], w_, sx[2], b_, relu, y + 2 * ldy + 4 * (j));          \
        if (S > 3) g_epilogue(rows_hi(p1, q1), r_, zx[3], w_, sx[3], b_, relu, y + 3 * ldy + 4 * (j));          \
    } while (0)

static __attribute__((noinline)) void g_tile(const int8_t *wg, uint32_t k4, const uint8_t *x, size_t ldx, uint32_t S,
                                             const int32_t *rs, const float *wsc, const float *bs, const float *sx,
                                             const int32_t *zx, int relu, float *y, size_t ldy)
{
    /* a short tile repeats its last sample, whose sums it does not store */
    const uint8_t *xp0 = x, *xp1 = x + (S > 1 ? 1 : S - 1) * ldx, *xp2 = x + (S > 2 ? 2 : S - 1) * ldx,
                  *xp3 = x + (S > 3 ? 3 : S - 1) * ldx;
    /* c0m: pair (0, 1), c1m: pair (2, 3); m = 2j, 2j + 1: rows 4j, 4j + 1 and 4j + 2, 4j + 3 */
    const int32x4_t z = vdupq_n_s32(0);
    int32x4_t c00 = z, c01 = z, c02 = z, c03 = z, c04 = z, c05 = z, c06 = z, c07 = z, c10 = z, c11 = z, c12 = z,
              c13 = z, c14 = z, c15 = z, c16 = z, c17 = z;
    /* 4 steps at a time: one 16-byte load of each sample's inputs */
    for (uint32_t n = k4 / 4; n; n--, wg += 256, xp0 += 16, xp1 += 16, xp2 += 16, xp3 += 16) {
        const uint8x16_t x0 = g_load_u8(xp0, 16), x1 = g_load_u8(xp1, 16), x2 = g_load_u8(xp2, 16),
                         x3 = g_load_u8(xp3, 16);
        G_2STEPS(wg, wg + 64, zip64_lo(x0, x1), zip64_lo(x2, x3));
        G_2STEPS(wg + 128, wg + 192, zip64_hi(x0, x1), zip64_hi(x2, x3));
    }
    const uint32_t left = k4 % 4;
    if (left) { /* 1 to 3 steps: the missing steps' weights are zeros (not read) */
        const uint8x16_t x0 = g_load_u8(xp0, 4 * left), x1 = g_load_u8(xp1, 4 * left),
                         x2 = g_load_u8(xp2, 4 * left), x3 = g_load_u8(xp3, 4 * left);
        G_2STEPS(wg, left > 1 ? wg + 64 : NULL, zip64_lo(x0, x1), zip64_lo(x2, x3));
        if (left > 2) G_2STEPS(wg + 128, NULL, zip64_hi(x0, x1), zip64_hi(x2, x3));
    }
    G_EPI(0, c00, c01, c10, c11);
    G_EPI(1, c02, c03, c12, c13);
    G_EPI(2, c04, c05, c14, c15);
    G_EPI(3, c06, c07, c16, c17);
}
#undef G_ROWS4
#undef G_2STEPS
#undef G_EPI

void mlp__qk_i8g_neon_i8mm(const struct mlp_qk_i8g_layer *L, const uint8_t *x, size_t ldx, uint32_t ns,
                           const float *sx, const int32_t *zx, int relu, float *y, size_t ldy)
{
    QK_I8G_TILES(g_tile, L, x, ldx, ns, sx, zx, relu, y, ldy);
}

#endif /* MLP_QK_NEON */
