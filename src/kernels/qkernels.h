/* SPDX-License-Identifier: MIT */
/* Inference kernels over packed weights (f32, bf16, int8), chosen at run time
 * by the CPU's features, with a portable plain-C version of each that does
 * the same arithmetic (the oracle in tests, the fallback elsewhere).
 *
 * Packing.  A layer's weights W (N rows x K inputs) are stored in panels of
 * MLP_QK_ROWS rows.  Each row is padded with zeros to kp inputs, a multiple
 * of one 64-byte chunk (16 f32, 32 bf16 or 64 int8 values), and a panel
 * interleaves its rows chunk by chunk:
 *     [row 0, chunk 0][row 1, chunk 0]..[row R-1, chunk 0][row 0, chunk 1]..
 * so that a pass over the panels is one contiguous stream (the prefetchers'
 * best case).  Rows past N are zero.
 *
 * A kernel computes raw dot products for the panels [p0, p1) and ns
 * samples (1 <= ns <= MLP_QK_MAX_NS) at once, the weights read once for all
 * of them:
 *     y[s*ldy + r] = sum_{c < nch} sum_e  W(panel, row, chunk c, e) * x[s*ldx + c*CE + e]
 * for every row r = p*R + i of those panels.  w points at panel 0's chunk 0
 * of the columns to use, panel_stride is a panel's length in elements, so
 * that a range of chunks (an int8 block of columns) is w + c0*R*CE with the
 * same stride.  x must be zero (or finite, for int8 any value) where the
 * weights are padding; y gets R values per panel.
 *
 * Arithmetic, identical in every version of a type:
 *   f32:  16 lane sums, lane e takes elements c*16 + e in chunk order
 *         (a fused multiply-add in the AVX-512 version, multiply then add
 *         in the portable one: they agree to K*2^-24 relative), then the
 *         lanes added as a tree: in each group g of four lanes
 *         s_g = (l[4g] + l[4g+2]) + (l[4g+1] + l[4g+3]), then
 *         (s_0 + s_2) + (s_1 + s_3).
 *   bf16: 16 lane sums, lane e adds x[2e+1]*w[2e+1] then x[2e]*w[2e] of each
 *         chunk (vdpbf16ps' order; the products are exact in f32), same tree.
 *   int8: u8 activations x s8 weights summed exactly in int32 (vpdpbusd); the
 *         caller keeps a block to at most MLP_QK_I8_MAX_K columns, so that no
 *         sum can overflow (65536 * 255 * 127 < 2^31).
 *
 * The batch (GEMM-shaped) int8 kernel.  The panel kernels above suit one to
 * four samples (batch-1 latency); with many samples the products of a
 * 256- or 128-input layer cost no more than their horizontal reductions.
 * The batch kernel uses the other classic layout: a layer's rows in groups
 * of MLP_QK_G_ROWS (16), each group's weights as k4 = ceil(K / 4) steps of
 * 64 bytes, step t holding rows 0..15 x inputs 4t..4t+3:
 *     w[(g * k4 + t) * 64 + r * 4 + e] = W(16 g + r, 4 t + e)
 * (zero past N rows and K inputs).  One zmm of weights meets one sample's
 * four inputs broadcast to every lane (vpbroadcastd) in one vpdpbusd, so a
 * register tile of samples x groups keeps one int32 lane per (sample, row):
 * no horizontal reduction.  The layer's epilogue is fused:
 *     y = (float)(sum_i q_x q_w - z * rowsum) * (wscale * s) + bias
 * (the int32 sum exact, then one f32 multiply for wscale * s, one multiply
 * and one add, never fused into an FMA: the same operations, in the same
 * order, as the panel path's epilogue, so the two give the same bits), and
 * then ReLU (y > 0 ? y : 0) when asked.  |sum (q_x - z) q_w| <= K 255 127
 * fits in int32 for K <= MLP_QK_I8_MAX_K, the caller's limit here too.
 * The AVX-512 version skips the steps of 4 inputs that are zero in every
 * sample of its register tile (blank image borders): they add 0 to every
 * sum, so no bit changes.
 */
#ifndef MLP_QKERNELS_H
#define MLP_QKERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "fastmlp.h"

#define MLP_QK_ROWS 4u      /* rows per panel */
#define MLP_QK_CHUNK 64u    /* bytes of one row in one chunk */
#define MLP_QK_MAX_NS 4u    /* samples per kernel call */
#define MLP_QK_I8_MAX_K 65536u
#define MLP_QK_G_ROWS 16u   /* batch kernel: rows per group */

/* CPU features the kernels use (bits): the kernel table's variant says
 * which (kernels/ktable.c). */
enum {
    MLP_QK_HAS_AVX512 = 1u << 0,      /* AVX512 F, BW, DQ, VL (and the OS saves zmm) */
    MLP_QK_HAS_AVX512_BF16 = 1u << 1, /* vdpbf16ps */
    MLP_QK_HAS_AVX512_VNNI = 1u << 2, /* vpdpbusd */
    MLP_QK_HAS_AVX2 = 1u << 3,        /* AVX2 and FMA (and the OS saves ymm): kernels/qk_avx2_simd.c */
    MLP_QK_HAS_AVXVNNI = 1u << 4,     /* AVX-VNNI (cpuid 7.1 EAX bit 4): VEX vpdpbusd on ymm, with AVX2 */
    /* aarch64 (getauxval(AT_HWCAP/AT_HWCAP2), kernels/ktable.c) */
    MLP_QK_HAS_NEON = 1u << 5,        /* Advanced SIMD (every aarch64 CPU): kernels/qk_neon*.c */
    MLP_QK_HAS_DOTPROD = 1u << 6,     /* SDOT/UDOT (HWCAP_ASIMDDP), with NEON */
    MLP_QK_HAS_ARM_BF16 = 1u << 7,    /* BFDOT/BFMMLA (HWCAP2_BF16), with NEON */
    MLP_QK_HAS_I8MM = 1u << 8         /* USDOT/USMMLA (HWCAP2_I8MM), with NEON */
};

typedef void (*mlp_qk_f32_fn)(const float *w, size_t panel_stride, uint32_t nch, uint32_t p0, uint32_t p1,
                              const float *x, size_t ldx, uint32_t ns, float *y, size_t ldy);
typedef void (*mlp_qk_bf16_fn)(const uint16_t *w, size_t panel_stride, uint32_t nch, uint32_t p0, uint32_t p1,
                               const uint16_t *x, size_t ldx, uint32_t ns, float *y, size_t ldy);
typedef void (*mlp_qk_i8_fn)(const int8_t *w, size_t panel_stride, uint32_t nch, uint32_t p0, uint32_t p1,
                             const uint8_t *x, size_t ldx, uint32_t ns, int32_t *y, size_t ldy);

/* One int8 layer in the batch layout (see above).  rowsum, wscale and bias
 * have ng * 16 entries, zero past the layer's rows. */
struct mlp_qk_i8g_layer {
    const int8_t *w;
    uint32_t k4, ng;
    const int32_t *rowsum; /* per row, sum of its q_w */
    const float *wscale;   /* per row, w ~ wscale * q_w */
    const float *bias;
};

/* The batch kernel: for ns samples (any count) and every row of L,
 *     y[s*ldy + j] = epilogue(sum_{i < 4 k4} x[s*ldx + i] * W(j, i))
 * with the sample's scale sx[s] and zero point zx[s], ReLU when relu is
 * non-zero; y gets ng * 16 values per sample (the padding rows' are their
 * bias's, 0).  x must be defined up to 4 * k4 (any value where the weights
 * are padding). */
typedef void (*mlp_qk_i8g_fn)(const struct mlp_qk_i8g_layer *L, const uint8_t *x, size_t ldx, uint32_t ns,
                              const float *sx, const int32_t *zx, int relu, float *y, size_t ldy);

/* The range of x[0..n) widened to hold 0: lo = min(0, x), hi = max(0, x)
 * over the values that are not NaN, and whether any is NaN. */
typedef void (*mlp_qk_range_fn)(const float *x, uint32_t n, float *lo, float *hi, int *bad);
/* u[i] = (uint8)(clip(x[i] * inv + z, 0, 255) + 0.5f) with inv = 1 / s (0
 * for a NaN s), the multiply and the add rounded separately: the int8
 * activations' quantisation (NaN -> 0). */
typedef void (*mlp_qk_u8q_fn)(const float *x, uint32_t n, float s, int32_t z, uint8_t *u);

/* One kernel for one element type: the function fitting its qtype and its
 * name ("avx512-vnni", "avx2", "portable", ...). */
struct mlp_qk {
    const char *name;
    mlp_qk_f32_fn f32;
    mlp_qk_bf16_fn bf16;
    mlp_qk_i8_fn i8;
    /* int8: the batch kernel (NULL: batches take the panel kernel) and the
     * activations' quantisation (every version gives the same bits) */
    mlp_qk_i8g_fn i8g;
    mlp_qk_range_fn range;
    mlp_qk_u8q_fn u8q;
    /* z = 1 / (1 + e^-z) over n values, z clipped to +-80 first as in
     * activations.inc (NaN stays NaN), within 4 ulp of the scalar
     * version; NULL where there is no vector version (use the scalar). */
    void (*sigmoid)(float *z, size_t n);
};

/* The best kernel for qtype t that the features allow. */
struct mlp_qk mlp__qk_select(enum mlp_qtype t, unsigned features);

/* The plain-C versions (kernels/qk.inc), built for the target's baseline:
 * always present, the oracle in tests and the fallback everywhere. */
void mlp__qk_f32_portable(const float *w, size_t panel_stride, uint32_t nch, uint32_t p0, uint32_t p1,
                          const float *x, size_t ldx, uint32_t ns, float *y, size_t ldy);
void mlp__qk_bf16_portable(const uint16_t *w, size_t panel_stride, uint32_t nch, uint32_t p0, uint32_t p1,
                           const uint16_t *x, size_t ldx, uint32_t ns, float *y, size_t ldy);
void mlp__qk_i8_portable(const int8_t *w, size_t panel_stride, uint32_t nch, uint32_t p0, uint32_t p1,
                         const uint8_t *x, size_t ldx, uint32_t ns, int32_t *y, size_t ldy);
void mlp__qk_i8g_portable(const struct mlp_qk_i8g_layer *L, const uint8_t *x, size_t ldx, uint32_t ns,
                          const float *sx, const int32_t *zx, int relu, float *y, size_t ldy);
void mlp__qk_range_portable(const float *x, uint32_t n, float *lo, float *hi, int *bad);
void mlp__qk_u8q_portable(const float *x, uint32_t n, float s, int32_t z, uint8_t *u);
#if defined(__x86_64__) && defined(__GNUC__)
/* The intrinsic kernels of kernels/qk_avx2_simd.c (CMakeLists.txt: x86-64
 * only), AVX2 + FMA, and the int8 ones for AVX-VNNI: what mlp__qk_select
 * gives with MLP_QK_HAS_AVX2 (and MLP_QK_HAS_AVXVNNI) where there is no
 * AVX-512 kernel.  f32 uses FMAs (qkernels.h's tolerance); bf16, int8,
 * the batch kernel's epilogue, range and u8q give the portable bits. */
#define MLP_QK_AVX2 1
void mlp__qk_f32_avx2(const float *w, size_t panel_stride, uint32_t nch, uint32_t p0, uint32_t p1, const float *x,
                      size_t ldx, uint32_t ns, float *y, size_t ldy);
void mlp__qk_bf16_avx2(const uint16_t *w, size_t panel_stride, uint32_t nch, uint32_t p0, uint32_t p1,
                       const uint16_t *x, size_t ldx, uint32_t ns, float *y, size_t ldy);
void mlp__qk_i8_avx2(const int8_t *w, size_t panel_stride, uint32_t nch, uint32_t p0, uint32_t p1, const uint8_t *x,
                     size_t ldx, uint32_t ns, int32_t *y, size_t ldy);
void mlp__qk_i8g_avx2(const struct mlp_qk_i8g_layer *L, const uint8_t *x, size_t ldx, uint32_t ns, const float *sx,
                      const int32_t *zx, int relu, float *y, size_t ldy);
void mlp__qk_i8_avxvnni(const int8_t *w, size_t panel_stride, uint32_t nch, uint32_t p0, uint32_t p1,
                        const uint8_t *x, size_t ldx, uint32_t ns, int32_t *y, size_t ldy);
void mlp__qk_i8g_avxvnni(const struct mlp_qk_i8g_layer *L, const uint8_t *x, size_t ldx, uint32_t ns,
                         const float *sx, const int32_t *zx, int relu, float *y, size_t ldy);
void mlp__qk_range_avx2(const float *x, uint32_t n, float *lo, float *hi, int *bad);
void mlp__qk_u8q_avx2(const float *x, uint32_t n, float s, int32_t z, uint8_t *u);
void mlp__qk_sigmoid_avx2(float *z, size_t n);
#endif
#if defined(__aarch64__) && defined(__GNUC__) && !defined(__AARCH64EB__)
/* The intrinsic kernels for aarch64 (CMakeLists.txt: aarch64 only; their
 * bf16 and batch layouts assume little-endian lanes).  kernels/qk_neon.c,
 * Advanced SIMD alone (MLP_QK_HAS_NEON): f32 by FMLA (the tolerance above),
 * bf16 by widening to f32, int8 by widening to int16, range, u8q, sigmoid;
 * qk_neon_dot.c (MLP_QK_HAS_DOTPROD): int8 panel and batch kernels by
 * SDOT; qk_neon_i8mm.c (MLP_QK_HAS_I8MM): by USDOT and USMMLA;
 * qk_neon_bf16.c (MLP_QK_HAS_ARM_BF16): bf16 by BFDOT, whose roundings
 * (to odd, twice per element pair) give another tolerance (see there).
 * The others give the portable bits.  No batch kernel without dotprod
 * (NULL: batches take the panel kernel): a by-element SMLAL one would need
 * the weights transposed (rows in lanes) block by block, for an estimated
 * 0.27 instructions per product against the 4-sample panel kernel's
 * 0.36. */
#define MLP_QK_NEON 1
void mlp__qk_f32_neon(const float *w, size_t panel_stride, uint32_t nch, uint32_t p0, uint32_t p1, const float *x,
                      size_t ldx, uint32_t ns, float *y, size_t ldy);
void mlp__qk_bf16_neon(const uint16_t *w, size_t panel_stride, uint32_t nch, uint32_t p0, uint32_t p1,
                       const uint16_t *x, size_t ldx, uint32_t ns, float *y, size_t ldy);
void mlp__qk_bf16_neon_bf16(const uint16_t *w, size_t panel_stride, uint32_t nch, uint32_t p0, uint32_t p1,
                            const uint16_t *x, size_t ldx, uint32_t ns, float *y, size_t ldy);
void mlp__qk_i8_neon(const int8_t *w, size_t panel_stride, uint32_t nch, uint32_t p0, uint32_t p1, const uint8_t *x,
                     size_t ldx, uint32_t ns, int32_t *y, size_t ldy);
void mlp__qk_i8_neon_dot(const int8_t *w, size_t panel_stride, uint32_t nch, uint32_t p0, uint32_t p1,
                         const uint8_t *x, size_t ldx, uint32_t ns, int32_t *y, size_t ldy);
void mlp__qk_i8_neon_i8mm(const int8_t *w, size_t panel_stride, uint32_t nch, uint32_t p0, uint32_t p1,
                          const uint8_t *x, size_t ldx, uint32_t ns, int32_t *y, size_t ldy);
void mlp__qk_i8g_neon_dot(const struct mlp_qk_i8g_layer *L, const uint8_t *x, size_t ldx, uint32_t ns,
                          const float *sx, const int32_t *zx, int relu, float *y, size_t ldy);
void mlp__qk_i8g_neon_i8mm(const struct mlp_qk_i8g_layer *L, const uint8_t *x, size_t ldx, uint32_t ns,
                           const float *sx, const int32_t *zx, int relu, float *y, size_t ldy);
void mlp__qk_range_neon(const float *x, uint32_t n, float *lo, float *hi, int *bad);
void mlp__qk_u8q_neon(const float *x, uint32_t n, float s, int32_t z, uint8_t *u);
void mlp__qk_sigmoid_neon(float *z, size_t n);
#endif

/* quant.c: q's int8 predictions and evaluations take the batch kernel for
 * ranges of at least this many rows per thread (default 4); tests set 1
 * (always) or UINT32_MAX (never) to compare the two paths. */
struct mlp_qmodel;
void mlp__qmodel_set_gemm_min(struct mlp_qmodel *q, uint32_t rows);

/* f32 -> bf16, rounded to nearest even (NaN stays NaN), and back. */
static inline uint16_t mlp__f32_to_bf16(float f)
{
    union {
        float f;
        uint32_t u;
    } v = {f};
    if ((v.u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((v.u >> 16) | 0x40u); /* quiet NaN */
    v.u += 0x7fffu + ((v.u >> 16) & 1u);
    return (uint16_t)(v.u >> 16);
}

static inline float mlp__bf16_to_f32(uint16_t b)
{
    union {
        uint32_t u;
        float f;
    } v = {(uint32_t)b << 16};
    return v.f;
}

#endif
