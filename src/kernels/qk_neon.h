/* SPDX-License-Identifier: MIT */
/* What the NEON versions of the quantised kernels share (internal): the
 * load fence, the f32 lane tree of qkernels.h for four rows, the passes'
 * lane groups, the int32 row sums, the per-panel dispatch of the panel
 * kernels, and the batch kernels' tile size, f32 epilogue, input load and
 * tile loop.  Each of kernels/qk_neon.c, qk_neon_dot.c, qk_neon_i8mm.c and
 * qk_neon_bf16.c includes it and so compiles it under its own -march
 * (CMakeLists.txt): everything here is static inline (always_inline) or a
 * macro and uses only the baseline Advanced SIMD, so that each file's copy
 * is the code it had on its own. */
#ifndef MLP_KERNELS_QK_NEON_H
#define MLP_KERNELS_QK_NEON_H

#include "kernels/qkernels.h"

#ifdef MLP_QK_NEON

#include <arm_neon.h>
#include <string.h>

#define AI static inline __attribute__((always_inline))

/* A compiler barrier for loads (no instruction): GCC 12's first scheduling
 * pass hoists the loads of a whole chunk (panels: every row's) or of every
 * step (batch tiles) above the FMLAs or dot products, which then need more
 * than the 32 vector registers and spill accumulators in the loop; one
 * after each row or step keeps its loads beside its arithmetic. */
#define LOAD_FENCE() __asm__ volatile("" ::: "memory")

/* --------------------------------------------------------------- panels */

/* The lane tree of one group of four lanes for four rows at once: a_i
 * holds row i's lanes l0..l3 of the group.  The zips pair l0 with l2 and
 * l1 with l3 of two rows, the 64-bit zips then line the four rows' sums
 * up: s = (l0 + l2) + (l1 + l3), row i in element i. */
AI float32x4_t group4(float32x4_t a0, float32x4_t a1, float32x4_t a2, float32x4_t a3)
{
    const float32x4_t t01 = vaddq_f32(vzip1q_f32(a0, a1), vzip2q_f32(a0, a1));
    const float32x4_t t23 = vaddq_f32(vzip1q_f32(a2, a3), vzip2q_f32(a2, a3));
    const float64x2_t d01 = vreinterpretq_f64_f32(t01), d23 = vreinterpretq_f64_f32(t23);
    return vaddq_f32(vreinterpretq_f32_f64(vzip1q_f64(d01, d23)), vreinterpretq_f32_f64(vzip2q_f64(d01, d23)));
}

/* qkernels.h's whole tree for four rows (l[i] = row i's 16 lane sums):
 * (s0 + s2) + (s1 + s3), row i in element i. */
AI float32x4_t tree4(const float l[4][16])
{
    float32x4_t s[4];
    for (int g = 0; g < 4; g++)
        s[g] = group4(vld1q_f32(l[0] + 4 * g), vld1q_f32(l[1] + 4 * g), vld1q_f32(l[2] + 4 * g),
                      vld1q_f32(l[3] + 4 * g));
    return vaddq_f32(vaddq_f32(s[0], s[2]), vaddq_f32(s[1], s[3]));
}

/* The f32 and bf16 passes' lane groups for ns samples (kernels/qk_neon.c):
 * 16 accumulators at most. */
#define LANE_GROUPS(NS) ((NS) == 1 ? 4u : (NS) == 2 ? 2u : 1u)

/* The f32 and bf16 panels' accumulators acc[s][row][k] of one pass over
 * the lane groups k0..k0+Q-1: zeroed before it, stored into each sample's
 * 16 lane sums per row after it; and at the end each sample's four rows
 * through tree4 into y. */
AI void acc_zero(float32x4_t acc[][4][4], uint32_t NS, uint32_t Q)
{
    for (uint32_t s = 0; s < NS; s++)
        for (int i = 0; i < 4; i++)
            for (uint32_t k = 0; k < Q; k++) acc[s][i][k] = vdupq_n_f32(0);
}

AI void acc_store(float lanes[][4][16], float32x4_t acc[][4][4], uint32_t NS, uint32_t Q, uint32_t k0)
{
    for (uint32_t s = 0; s < NS; s++)
        for (int i = 0; i < 4; i++)
            for (uint32_t k = 0; k < Q; k++) vst1q_f32(&lanes[s][i][4 * (k0 + k)], acc[s][i][k]);
}

AI void lanes_out(float lanes[][4][16], uint32_t NS, float *y, size_t ldy)
{
    for (uint32_t s = 0; s < NS; s++) vst1q_f32(y + s * ldy, tree4(lanes[s]));
}

/* Four rows' int32 lanes summed (exact, any order), row i in element i. */
AI int32x4_t sum4_s32(int32x4_t a0, int32x4_t a1, int32x4_t a2, int32x4_t a3)
{
    return vpaddq_s32(vpaddq_s32(a0, a1), vpaddq_s32(a2, a3));
}

/* The body of a panel kernel (qkernels.h's mlp_qk_*_fn, given its
 * parameters): PANEL(wp, nch, x, ldx, NS, yp, ldy) for panels p0..p1-1, with NS
 * the constant 1 to 4 (ns > 4 is not given), so that each case inlines its
 * own PANEL, whose accumulators are then registers. */
#define QK_PANELS(PANEL, w, panel_stride, nch, p0, p1, x, ldx, ns, y, ldy)                                             \
    do {                                                                                                               \
        for (uint32_t p_ = (p0); p_ < (p1); p_++) {                                                                    \
            const __typeof__(w) wp_ = (w) + (size_t)p_ * (panel_stride);                                               \
            const __typeof__(y) yp_ = (y) + (size_t)p_ * MLP_QK_ROWS;                                                  \
            switch (ns) {                                                                                              \
            case 1: PANEL(wp_, nch, x, ldx, 1, yp_, ldy); break;                                                       \
            case 2: PANEL(wp_, nch, x, ldx, 2, yp_, ldy); break;                                                       \
            case 3: PANEL(wp_, nch, x, ldx, 3, yp_, ldy); break;                                                       \
            default: PANEL(wp_, nch, x, ldx, 4, yp_, ldy); break;                                                      \
            }                                                                                                          \
        }                                                                                                              \
    } while (0)

/* ---------------------------------------------------- the batch kernels */

/* Samples per register tile (kernels/qk_neon_dot.c, qk_neon_i8mm.c). */
#define G_S 4u

/* The f32 end of the batch epilogue, once v holds acc - z rowsum (each
 * file's g_epilogue makes it, in wrapping int32: exact where it fits, the
 * same value): qkernels.h's f32 operations in its order: convert (SCVTF,
 * to nearest), multiply by wscale * s (itself one multiply), add the bias,
 * and ReLU as FMAXNM(v, 0) = v > 0 ? v : 0 (NaN -> 0, -0 -> +0). */
AI void g_finish(int32x4_t v, const float *wscale, float s, const float *bias, int relu, float *y)
{
    float32x4_t f = vmulq_f32(vcvtq_f32_s32(v), vmulq_f32(vld1q_f32(wscale), vdupq_n_f32(s)));
    f = vaddq_f32(f, vld1q_f32(bias));
    if (relu) f = vmaxnmq_f32(f, vdupq_n_f32(0));
    vst1q_f32(y, f);
}

/* A sample's inputs of steps t..t+3 (16 bytes; fewer at the end of the
 * row, beside zeros: x is defined only up to 4 k4, and the steps past k4
 * are not run). */
AI uint8x16_t g_load_u8(const uint8_t *p, uint32_t nbytes)
{
    if (nbytes >= 16) return vld1q_u8(p);
    uint8_t t[16] = {0};
    memcpy(t, p, nbytes);
    return vld1q_u8(t);
}

/* The body of a batch kernel (qkernels.h's mlp_qk_i8g_fn, given its
 * parameters): the tiles of G_S samples (fewer at the end) x 16 rows, each by
 * TILE (the file's g_tile). */
#define QK_I8G_TILES(TILE, L, x, ldx, ns, sx, zx, relu, y, ldy)                                                        \
    do {                                                                                                               \
        for (uint32_t s0_ = 0; s0_ < (ns); s0_ += G_S) {                                                               \
            const uint32_t S_ = (ns) - s0_ < G_S ? (ns) - s0_ : G_S;                                                   \
            for (uint32_t g_ = 0; g_ < (L)->ng; g_++) {                                                                \
                const size_t j_ = (size_t)g_ * 16;                                                                     \
                TILE((L)->w + j_ * 4 * (L)->k4, (L)->k4, (x) + s0_ * (ldx), ldx, S_, (L)->rowsum + j_,                 \
                     (L)->wscale + j_, (L)->bias + j_, (sx) + s0_, (zx) + s0_, relu, (y) + s0_ * (ldy) + j_,           \
                     ldy);                                                                                             \
            }                                                                                                          \
        }                                                                                                              \
    } while (0)

#endif /* MLP_QK_NEON */

#endif /* MLP_KERNELS_QK_NEON_H */
