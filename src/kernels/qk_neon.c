/* SPDX-License-Identifier: MIT */
/* The inference kernels of qkernels.h for aarch64's Advanced SIMD (NEON),
 * the baseline of every aarch64 CPU: f32, bf16 (by widening to f32), int8
 * (by widening to int16), the activations' range and quantisation, and
 * sigmoid.  The kernels that need the later extensions are in files of
 * their own, each built with the -march of its instructions
 * (CMakeLists.txt): kernels/qk_neon_dot.c (SDOT), qk_neon_i8mm.c (USDOT,
 * USMMLA), qk_neon_bf16.c (BFDOT); mlp__qk_select picks them by the bits
 * kernels/ktable.c reads from getauxval.
 *
 * The arithmetic is qkernels.h's:
 *   f32: the 16 lanes of a 64-byte chunk are four float32x4 (lanes 4k..
 *        4k+3 in vector k), fused multiply-adds (FMLA: qkernels.h's
 *        tolerance, as the AVX2 and AVX-512 versions), the same tree;
 *   bf16: the same lanes; each word's odd element (high half, masked)
 *        then its even one (low half, shifted up) by FMLA: the product of
 *        two bf16 is exact in f32, so the FMA rounds once, as the portable
 *        multiply (exact) then add: the portable bits (products that
 *        underflow or overflow f32 aside, as for every vector version);
 *   int8: u8 zero- and s8 sign-extended to int16, SMLAL (int16 x int16
 *        into int32): exact, so the portable sums whatever the order;
 *   range, u8q: the portable results bit for bit (see each).
 * No contraction of the explicit multiplies and adds (-ffp-contract=off
 * for this file): the FMAs are the intrinsics'.
 *
 * The lanes.  A panel's four rows hold 4 x 4 float32x4 accumulators per
 * sample: one sample fills half the 32 vector registers.  So a call with
 * ns > 1 sweeps the panel in passes of Q lane groups (vectors k0..k0+Q-1
 * of each row's chunks, the others in later passes): 4 / Q passes, ns * 4
 * * Q accumulators (16 for ns = 1, 2; 12 and 16 for ns = 3, 4 with Q = 1),
 * and each weight vector loaded once per pass for all ns samples.  A lane
 * still adds its elements in chunk order, so the passes change no bit;
 * the panel (16 bytes x kp) is read again from L1 or L2. */
#include "kernels/qk_neon.h"

#ifdef MLP_QK_NEON

#include <arm_neon.h>
#include <string.h>

/* AI, LOAD_FENCE, the lane tree (group4, tree4), LANE_GROUPS, sum4_s32 and
 * the per-panel dispatch (QK_PANELS): kernels/qk_neon.h. */

/* --------------------------------------------------------------- panels */

/* f32, one panel, NS samples (a constant: the accumulators are registers). */
AI void f32_panel(const float *wp, uint32_t nch, const float *x, size_t ldx, const uint32_t NS, float *y, size_t ldy)
{
    const uint32_t Q = LANE_GROUPS(NS);
    float lanes[MLP_QK_MAX_NS][4][16];
    for (uint32_t k0 = 0; k0 < 4; k0 += Q) {
        float32x4_t acc[MLP_QK_MAX_NS][4][4];
        acc_zero(acc, NS, Q);
        const float *wc = wp + 4 * k0, *xc = x + 4 * k0;
        for (uint32_t c = 0; c < nch; c++, wc += 64, xc += 16) {
            float32x4_t xv[MLP_QK_MAX_NS][4];
            for (uint32_t s = 0; s < NS; s++)
                for (uint32_t k = 0; k < Q; k++) xv[s][k] = vld1q_f32(xc + s * ldx + 4 * k);
            for (int i = 0; i < 4; i++) {
                for (uint32_t k = 0; k < Q; k++) {
                    const float32x4_t w = vld1q_f32(wc + 16 * i + 4 * k);
                    for (uint32_t s = 0; s < NS; s++) acc[s][i][k] = vfmaq_f32(acc[s][i][k], w, xv[s][k]);
                }
                LOAD_FENCE();
            }
        }
        acc_store(lanes, acc, NS, Q, k0);
    }
    lanes_out(lanes, NS, y, ldy);
}

void mlp__qk_f32_neon(const float *w, size_t panel_stride, uint32_t nch, uint32_t p0, uint32_t p1, const float *x,
                      size_t ldx, uint32_t ns, float *y, size_t ldy)
{
    QK_PANELS(f32_panel, w, panel_stride, nch, p0, p1, x, ldx, ns, y, ldy);
}

/* bf16 -> f32 of a vector of 8: word e holds elements 2e (low half) and
 * 2e + 1 (high half, little-endian); the odd one is the word with its low
 * half cleared, the even one the word shifted up. */
AI void bf16_split(uint16x8_t v, float32x4_t *odd, float32x4_t *even)
{
    const uint32x4_t u = vreinterpretq_u32_u16(v);
    *odd = vreinterpretq_f32_u32(vandq_u32(u, vdupq_n_u32(0xffff0000u)));
    *even = vreinterpretq_f32_u32(vshlq_n_u32(u, 16));
}

/* bf16, one panel: f32_panel's passes over 32-element chunks, vector k of
 * a chunk (elements 8k..8k+7) feeding lanes 4k..4k+3; per lane the odd
 * product, then the even one. */
AI void bf16_panel(const uint16_t *wp, uint32_t nch, const uint16_t *x, size_t ldx, const uint32_t NS, float *y,
                   size_t ldy)
{
    const uint32_t Q = LANE_GROUPS(NS);
    float lanes[MLP_QK_MAX_NS][4][16];
    for (uint32_t k0 = 0; k0 < 4; k0 += Q) {
        float32x4_t acc[MLP_QK_MAX_NS][4][4];
        acc_zero(acc, NS, Q);
        const uint16_t *wc = wp + 8 * k0, *xc = x + 8 * k0;
        for (uint32_t c = 0; c < nch; c++, wc += 128, xc += 32) {
            float32x4_t xo[MLP_QK_MAX_NS][4], xe[MLP_QK_MAX_NS][4];
            for (uint32_t s = 0; s < NS; s++)
                for (uint32_t k = 0; k < Q; k++) bf16_split(vld1q_u16(xc + s * ldx + 8 * k), &xo[s][k], &xe[s][k]);
            for (int i = 0; i < 4; i++) {
                for (uint32_t k = 0; k < Q; k++) {
                    float32x4_t wo, we;
                    bf16_split(vld1q_u16(wc + 32 * i + 8 * k), &wo, &we);
                    for (uint32_t s = 0; s < NS; s++)
                        acc[s][i][k] = vfmaq_f32(vfmaq_f32(acc[s][i][k], xo[s][k], wo), xe[s][k], we);
                }
                LOAD_FENCE();
            }
        }
        acc_store(lanes, acc, NS, Q, k0);
    }
    lanes_out(lanes, NS, y, ldy);
}

void mlp__qk_bf16_neon(const uint16_t *w, size_t panel_stride, uint32_t nch, uint32_t p0, uint32_t p1,
                       const uint16_t *x, size_t ldx, uint32_t ns, float *y, size_t ldy)
{
    QK_PANELS(bf16_panel, w, panel_stride, nch, p0, p1, x, ldx, ns, y, ldy);
}

/* int8 by widening: 16 bytes at a time, the samples' u8 zero-extended to
 * int16 (UXTL, UXTL2: once for the 4 rows), each row's s8 sign-extended
 * (SXTL, SXTL2: once for the NS samples), then SMLAL / SMLAL2, four exact
 * products into the int32 lanes each: 4 per 16 products.  (An s8 x s8
 * SMULL on x ^ 0x80 makes 8 products per instruction, but they must then
 * be widened (SADALP) and corrected by 128 x the weights' sum: no fewer
 * instructions, unless two products share an int16 lane, which overflows
 * at (-128) x (-128) twice.)  With one sample each row keeps two
 * accumulators, the low and high halves' products: 8 dependency chains. */
AI void i8_panel(const int8_t *wp, uint32_t nch, const uint8_t *x, size_t ldx, const uint32_t NS, int32_t *y,
                 size_t ldy)
{
    const uint32_t H = NS == 1 ? 2u : 1u; /* accumulators per row and sample */
    int32x4_t acc[MLP_QK_MAX_NS][4][2];
    for (uint32_t s = 0; s < NS; s++)
        for (int i = 0; i < 4; i++)
            for (uint32_t h = 0; h < H; h++) acc[s][i][h] = vdupq_n_s32(0);
    for (uint32_t c = 0; c < nch; c++, wp += 256, x += 64)
        for (int k = 0; k < 4; k++) {
            int16x8_t xl[MLP_QK_MAX_NS], xh[MLP_QK_MAX_NS];
            for (uint32_t s = 0; s < NS; s++) {
                const uint8x16_t v = vld1q_u8(x + s * ldx + 16 * k);
                xl[s] = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(v)));
                xh[s] = vreinterpretq_s16_u16(vmovl_high_u8(v));
            }
            for (int i = 0; i < 4; i++) {
                const int8x16_t v = vld1q_s8(wp + 64 * i + 16 * k);
                const int16x8_t wl = vmovl_s8(vget_low_s8(v)), wh = vmovl_high_s8(v);
                for (uint32_t s = 0; s < NS; s++) {
                    int32x4_t a = acc[s][i][0];
                    a = vmlal_s16(a, vget_low_s16(xl[s]), vget_low_s16(wl));
                    a = vmlal_high_s16(a, xl[s], wl);
                    int32x4_t b = H == 2 ? acc[s][i][1] : a; /* one chain where H = 1 */
                    b = vmlal_s16(b, vget_low_s16(xh[s]), vget_low_s16(wh));
                    b = vmlal_high_s16(b, xh[s], wh);
                    if (H == 2) acc[s][i][0] = a;
                    acc[s][i][H - 1] = b;
                }
            }
        }
    for (uint32_t s = 0; s < NS; s++) {
        int32x4_t r[4];
        for (int i = 0; i < 4; i++) r[i] = H == 2 ? vaddq_s32(acc[s][i][0], acc[s][i][1]) : acc[s][i][0];
        vst1q_s32(y + s * ldy, sum4_s32(r[0], r[1], r[2], r[3]));
    }
}

void mlp__qk_i8_neon(const int8_t *w, size_t panel_stride, uint32_t nch, uint32_t p0, uint32_t p1, const uint8_t *x,
                     size_t ldx, uint32_t ns, int32_t *y, size_t ldy)
{
    QK_PANELS(i8_panel, w, panel_stride, nch, p0, p1, x, ldx, ns, y, ldy);
}

/* ------------------------------------------- the activations' quantisation */

/* qkernels.h's range, 8 at a time in two chains, by FMIN / FMAX, which
 * differ from the scalar v < a ? v : a in two ways only: a NaN operand
 * gives NaN (the scalar skips it), and min(-0, +0) may be -0 (the scalar
 * keeps its +0).  So: a lane that met a NaN stays NaN, which is how the
 * NaN is seen, and then the portable function gives the bits (a NaN is
 * rare: the model's output is NaN anyway); otherwise the lanes hold the
 * minimum and maximum over their elements and 0, which any order of
 * reduction gives, and a minimum of zero is returned as +0.  The tail is
 * copied beside zeros (inside every range). */
void mlp__qk_range_neon(const float *x, uint32_t n, float *lo, float *hi, int *bad)
{
    float32x4_t a = vdupq_n_f32(0), b = a, a2 = a, b2 = a;
    uint32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const float32x4_t v = vld1q_f32(x + i), w = vld1q_f32(x + i + 4);
        a = vminq_f32(a, v);
        b = vmaxq_f32(b, v);
        a2 = vminq_f32(a2, w);
        b2 = vmaxq_f32(b2, w);
    }
    for (; i < n; i += 4) {
        float t[4] = {0, 0, 0, 0};
        memcpy(t, x + i, (n - i < 4 ? n - i : 4) * sizeof *t);
        const float32x4_t v = vld1q_f32(t);
        a = vminq_f32(a, v);
        b = vmaxq_f32(b, v);
    }
    a = vminq_f32(a, a2);
    b = vmaxq_f32(b, b2);
    /* a NaN in a lane of a is one in b too: a != a there */
    if (vmaxvq_u32(vmvnq_u32(vceqq_f32(a, a)))) {
        mlp__qk_range_portable(x, n, lo, hi, bad);
        return;
    }
    const float l = vminvq_f32(a), h = vmaxvq_f32(b);
    *lo = l < 0 ? l : 0;
    *hi = h > 0 ? h : 0;
    *bad = 0;
}

/* qkernels.h's quantisation, 16 at a time: multiply, then add (not fused),
 * FMAXNM(v, 0) is v > 0 ? v : 0 (a quiet NaN, as every NaN from the add
 * is, gives 0; -0 gives +0), FMIN(v, 255) is v < 255 ? v : 255 (v is no
 * NaN there), + 0.5 and FCVTZU (truncation, as the C conversion); the four
 * vectors (0..255) narrowed by XTN to bytes.  The tail is the scalar
 * formula, the same operations. */
AI uint32x4_t u8q_one(float32x4_t v, float32x4_t inv, float32x4_t z)
{
    v = vaddq_f32(vmulq_f32(v, inv), z);
    v = vminq_f32(vmaxnmq_f32(v, vdupq_n_f32(0)), vdupq_n_f32(255.0f));
    return vcvtq_u32_f32(vaddq_f32(v, vdupq_n_f32(0.5f)));
}

void mlp__qk_u8q_neon(const float *x, uint32_t n, float s, int32_t z, uint8_t *u)
{
    const float inv = s == s ? 1 / s : 0, zf = (float)z;
    const float32x4_t vinv = vdupq_n_f32(inv), vz = vdupq_n_f32(zf);
    uint32_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const uint32x4_t a = u8q_one(vld1q_f32(x + i), vinv, vz), b = u8q_one(vld1q_f32(x + i + 4), vinv, vz);
        const uint32x4_t c = u8q_one(vld1q_f32(x + i + 8), vinv, vz), d = u8q_one(vld1q_f32(x + i + 12), vinv, vz);
        const uint16x8_t ab = vmovn_high_u32(vmovn_u32(a), b), cd = vmovn_high_u32(vmovn_u32(c), d);
        vst1q_u8(u + i, vmovn_high_u16(vmovn_u16(ab), cd));
    }
    for (; i < n; i++) {
        float v = x[i] * inv + zf;
        v = v > 0 ? v : 0;
        v = v < 255 ? v : 255;
        u[i] = (uint8_t)(v + 0.5f);
    }
}

/* ------------------------------------------------------------- sigmoid */

/* As the AVX2 version (kernels/qk_avx2_simd.c), the same operations:
 * e^-z = 2^k e^r, k = round(-z log2 e) (FRINTN: to nearest, ties even),
 * r reduced by ln 2 in two parts, e^r by Cephes' expf polynomial; 2^k made
 * in the exponent field (|k| <= 116 after the clip to +-80: a normal
 * float).  FMIN / FMAX give NaN for a NaN z: it passes through. */
AI float32x4_t sigmoid4(float32x4_t v)
{
    const float32x4_t one = vdupq_n_f32(1.0f);
    const float32x4_t t =
        vsubq_f32(vdupq_n_f32(0), vminq_f32(vdupq_n_f32(80.0f), vmaxq_f32(vdupq_n_f32(-80.0f), v))); /* -z */
    const float32x4_t k = vrndnq_f32(vmulq_f32(t, vdupq_n_f32(1.44269504088896341f)));
    float32x4_t r = vfmsq_f32(t, k, vdupq_n_f32(0.693359375f));
    r = vfmsq_f32(r, k, vdupq_n_f32(-2.12194440e-4f));
    float32x4_t p = vfmaq_f32(vdupq_n_f32(1.3981999507e-3f), vdupq_n_f32(1.9875691500e-4f), r);
    p = vfmaq_f32(vdupq_n_f32(8.3334519073e-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(4.1665795894e-2f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.6666665459e-1f), p, r);
    p = vfmaq_f32(vdupq_n_f32(5.0000001201e-1f), p, r);
    p = vfmaq_f32(vaddq_f32(r, one), p, vmulq_f32(r, r)); /* e^r */
    /* 2^k: a NaN k converts to 0, a scale of 1, and p is NaN */
    const int32x4_t e = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(k), vdupq_n_s32(127)), 23);
    p = vmulq_f32(p, vreinterpretq_f32_s32(e)); /* e^-z */
    return vdivq_f32(one, vaddq_f32(one, p));
}

void mlp__qk_sigmoid_neon(float *z, size_t n)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(z + i, sigmoid4(vld1q_f32(z + i)));
    if (i < n) {
        float t[4] = {0, 0, 0, 0};
        memcpy(t, z + i, (n - i) * sizeof *t);
        vst1q_f32(t, sigmoid4(vld1q_f32(t)));
        memcpy(z + i, t, (n - i) * sizeof *t);
    }
}

#endif /* MLP_QK_NEON */
