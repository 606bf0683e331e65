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

/* CPU features the kernels use (bits), as detected, or capped for tests. */
enum {
    MLP_QK_HAS_AVX512 = 1u << 0,      /* AVX512 F, BW, DQ, VL (and the OS saves zmm) */
    MLP_QK_HAS_AVX512_BF16 = 1u << 1, /* vdpbf16ps */
    MLP_QK_HAS_AVX512_VNNI = 1u << 2  /* vpdpbusd */
};

/* The features of this CPU, limited by the cap (all by default).  The cap
 * is process-wide: tests force the portable kernels with
 * mlp__qk_set_cap(0); the FASTMLP_ISA environment variable sets it when
 * the first quantised model is created ("portable", "avx512", "native"). */
unsigned mlp__qk_features(void);
void mlp__qk_set_cap(unsigned cap);

typedef void (*mlp_qk_f32_fn)(const float *w, size_t panel_stride, uint32_t nch, uint32_t p0, uint32_t p1,
                              const float *x, size_t ldx, uint32_t ns, float *y, size_t ldy);
typedef void (*mlp_qk_bf16_fn)(const uint16_t *w, size_t panel_stride, uint32_t nch, uint32_t p0, uint32_t p1,
                               const uint16_t *x, size_t ldx, uint32_t ns, float *y, size_t ldy);
typedef void (*mlp_qk_i8_fn)(const int8_t *w, size_t panel_stride, uint32_t nch, uint32_t p0, uint32_t p1,
                             const uint8_t *x, size_t ldx, uint32_t ns, int32_t *y, size_t ldy);

/* One kernel for one element type: the function fitting its qtype and its
 * name ("avx512-vnni", "portable", ...). */
struct mlp_qk {
    const char *name;
    mlp_qk_f32_fn f32;
    mlp_qk_bf16_fn bf16;
    mlp_qk_i8_fn i8;
    /* z = 1 / (1 + e^-z) over n values, z clipped to +-80 first as in
     * activations_impl.h (NaN stays NaN), within 4 ulp of the scalar
     * version; NULL where there is no vector version (use the scalar). */
    void (*sigmoid)(float *z, size_t n);
};

/* The best kernel for qtype t that the features allow. */
struct mlp_qk mlp__qk_select(enum mlp_qtype t, unsigned features);

/* The portable versions, always present (the oracle in tests). */
void mlp__qk_f32_portable(const float *w, size_t panel_stride, uint32_t nch, uint32_t p0, uint32_t p1,
                          const float *x, size_t ldx, uint32_t ns, float *y, size_t ldy);
void mlp__qk_bf16_portable(const uint16_t *w, size_t panel_stride, uint32_t nch, uint32_t p0, uint32_t p1,
                           const uint16_t *x, size_t ldx, uint32_t ns, float *y, size_t ldy);
void mlp__qk_i8_portable(const int8_t *w, size_t panel_stride, uint32_t nch, uint32_t p0, uint32_t p1,
                         const uint8_t *x, size_t ldx, uint32_t ns, int32_t *y, size_t ldy);

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
