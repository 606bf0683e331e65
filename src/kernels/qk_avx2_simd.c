/* SPDX-License-Identifier: MIT */
/* The inference kernels of qkernels.h for AVX2 + FMA (ymm registers), and
 * the int8 ones again for AVX-VNNI (the VEX-encoded vpdpbusd of Alder Lake,
 * Sapphire Rapids, Zen 5).  This file is built with -mavx2 -mfma of its own
 * (CMakeLists.txt), the AVX-VNNI functions carry a target attribute, and
 * mlp__qk_select picks them at run time by what the CPU has (ktable.c's
 * cpuid), so the library itself still runs on any x86-64.
 *
 * Why by hand: they work on this library's own packed panels (qkernels.h:
 * rows interleaved chunk by chunk, int8 rows in groups of 16 x 4 inputs)
 * with the epilogue (zero point, per-row scale, bias, ReLU) fused, batch-1
 * GEMV and small GEMMs; BLAS has no int8 or bf16 GEMV, and the quantised
 * GEMM libraries (oneDNN, FBGEMM) bring their own layouts and rounding.
 * What the plain C of qk.inc became under -mavx2 was 5 times slower than
 * the f32 path on W6 (GCC's vectorised int8 dot products widen both sides
 * to int32).
 *
 * The arithmetic is qkernels.h's:
 *   f32: the 16 lanes of a 64-byte chunk in two ymm accumulators per row
 *        (lanes 0-7 and 8-15), fused multiply-adds, the same tree;
 *   bf16: the same lanes, each dword's odd element (high half, masked)
 *        then its even one (low half, shifted up): the products are exact
 *        in f32, so an FMA rounds once as the portable multiply-then-add
 *        does: the portable bits (subnormal products aside, as for every
 *        vector version);
 *   int8: exact int32 sums: u8 zero- and s8 sign-extended to int16 and
 *        vpmaddwd (no saturation anywhere; vpmaddubsw would saturate: a
 *        pair 255 * 127 * 2 = 64770 does not fit int16), or vpdpbusd,
 *        which sums u8 x s8 products into int32 exactly;
 *   i8g epilogue, range, u8q: the same operations in the same order.
 * No contraction of the explicit multiplies and adds (-ffp-contract=off
 * for this file). */
#include "kernels/qkernels.h"

#include <immintrin.h>
#include <string.h>

/* Software prefetch this far ahead in the weight stream (as the AVX-512
 * kernels: about memory latency x bandwidth; the hardware prefetchers stop
 * at 4 KiB page edges). */
#define PF_BYTES 3072

#define AI static inline __attribute__((always_inline))
#define T_VNNI "avx2,fma,avxvnni"

/* --------------------------------------------------------------- panels */

/* Four rows' lane sums of one group pair reduced: a_i holds row i's lanes
 * 8h..8h+7 (groups 2h and 2h+1 of four lanes).  Per 128-bit half (group
 * g), the unpacks pair l[4g] with l[4g+2] and l[4g+1] with l[4g+3], then
 * add the pairs: s_g of qkernels.h's tree, row i in element i of the half. */
AI __m256 group4_ps(__m256 a0, __m256 a1, __m256 a2, __m256 a3)
{
    __m256 t01 = _mm256_add_ps(_mm256_unpacklo_ps(a0, a1), _mm256_unpackhi_ps(a0, a1));
    __m256 t23 = _mm256_add_ps(_mm256_unpacklo_ps(a2, a3), _mm256_unpackhi_ps(a2, a3));
    __m256d d01 = _mm256_castps_pd(t01), d23 = _mm256_castps_pd(t23);
    return _mm256_add_ps(_mm256_castpd_ps(_mm256_unpacklo_pd(d01, d23)),
                         _mm256_castpd_ps(_mm256_unpackhi_pd(d01, d23)));
}

/* The whole tree: lo = s0 | s1, hi = s2 | s3; lo + hi = s0+s2 | s1+s3, and
 * its halves added: (s0 + s2) + (s1 + s3). */
AI __m128 tree4_ps(const __m256 lo[4], const __m256 hi[4])
{
    __m256 v = _mm256_add_ps(group4_ps(lo[0], lo[1], lo[2], lo[3]), group4_ps(hi[0], hi[1], hi[2], hi[3]));
    return _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
}

/* Four rows' int32 lanes summed (exact: any order), row i in element i. */
AI __m128i sum4_epi32(__m256i a0, __m256i a1, __m256i a2, __m256i a3)
{
    __m256i t01 = _mm256_add_epi32(_mm256_unpacklo_epi32(a0, a1), _mm256_unpackhi_epi32(a0, a1));
    __m256i t23 = _mm256_add_epi32(_mm256_unpacklo_epi32(a2, a3), _mm256_unpackhi_epi32(a2, a3));
    __m256i u = _mm256_add_epi32(_mm256_unpacklo_epi64(t01, t23), _mm256_unpackhi_epi64(t01, t23));
    return _mm_add_epi32(_mm256_castsi256_si128(u), _mm256_extracti128_si256(u, 1));
}

AI void prefetch_chunk(const char *wb)
{
    _mm_prefetch(wb + PF_BYTES, _MM_HINT_T0);
    _mm_prefetch(wb + PF_BYTES + 64, _MM_HINT_T0);
    _mm_prefetch(wb + PF_BYTES + 128, _MM_HINT_T0);
    _mm_prefetch(wb + PF_BYTES + 192, _MM_HINT_T0);
}

/* One sample at a time through a panel: the 4 rows' accumulators (8 ymm
 * for f32 and bf16) and the sample's chunk fill half the 16 registers; a
 * second sample's would spill.  With ns > 1 the panel (at most a few KiB
 * per 1000 inputs) is read again from L1 for each further sample. */

/* f32: per chunk and row two FMAs (lanes 0-7, 8-15). */
static void f32_panel(const float *wp, uint32_t nch, const float *x, float *y)
{
    __m256 lo[4], hi[4];
    for (int i = 0; i < 4; i++) lo[i] = hi[i] = _mm256_setzero_ps();
    for (uint32_t c = 0; c < nch; c++, wp += 64) {
        prefetch_chunk((const char *)wp);
        const __m256 xl = _mm256_loadu_ps(x + 16 * (size_t)c), xh = _mm256_loadu_ps(x + 16 * (size_t)c + 8);
        for (int i = 0; i < 4; i++) {
            lo[i] = _mm256_fmadd_ps(_mm256_loadu_ps(wp + 16 * i), xl, lo[i]);
            hi[i] = _mm256_fmadd_ps(_mm256_loadu_ps(wp + 16 * i + 8), xh, hi[i]);
        }
    }
    _mm_storeu_ps(y, tree4_ps(lo, hi));
}

void mlp__qk_f32_avx2(const float *w, size_t panel_stride, uint32_t nch, uint32_t p0, uint32_t p1, const float *x,
                      size_t ldx, uint32_t ns, float *y, size_t ldy)
{
    for (uint32_t p = p0; p < p1; p++)
        for (uint32_t s = 0; s < ns; s++)
            f32_panel(w + (size_t)p * panel_stride, nch, x + s * ldx, y + s * ldy + (size_t)p * MLP_QK_ROWS);
}

/* bf16: a dword's odd element is its high half (masked: the f32 with those
 * 16 bits), the even one its low half (shifted up).  Odd first, then even,
 * as vdpbf16ps; each product is exact, so each FMA rounds once, as the
 * portable multiply (exact) then add. */
AI void bf16_split(__m256i v, __m256i mask, __m256 *odd, __m256 *even)
{
    *odd = _mm256_castsi256_ps(_mm256_and_si256(v, mask));
    *even = _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}

static void bf16_panel(const uint16_t *wp, uint32_t nch, const uint16_t *x, float *y)
{
    const __m256i mask = _mm256_set1_epi32((int)0xffff0000u);
    __m256 lo[4], hi[4];
    for (int i = 0; i < 4; i++) lo[i] = hi[i] = _mm256_setzero_ps();
    for (uint32_t c = 0; c < nch; c++, wp += 128) {
        prefetch_chunk((const char *)wp);
        __m256 xlo, xle, xho, xhe;
        bf16_split(_mm256_loadu_si256((const __m256i *)(const void *)(x + 32 * (size_t)c)), mask, &xlo, &xle);
        bf16_split(_mm256_loadu_si256((const __m256i *)(const void *)(x + 32 * (size_t)c + 16)), mask, &xho, &xhe);
        for (int i = 0; i < 4; i++) {
            __m256 o, e;
            bf16_split(_mm256_loadu_si256((const __m256i *)(const void *)(wp + 32 * i)), mask, &o, &e);
            lo[i] = _mm256_fmadd_ps(xle, e, _mm256_fmadd_ps(xlo, o, lo[i]));
            bf16_split(_mm256_loadu_si256((const __m256i *)(const void *)(wp + 32 * i + 16)), mask, &o, &e);
            hi[i] = _mm256_fmadd_ps(xhe, e, _mm256_fmadd_ps(xho, o, hi[i]));
        }
    }
    _mm_storeu_ps(y, tree4_ps(lo, hi));
}

void mlp__qk_bf16_avx2(const uint16_t *w, size_t panel_stride, uint32_t nch, uint32_t p0, uint32_t p1,
                       const uint16_t *x, size_t ldx, uint32_t ns, float *y, size_t ldy)
{
    for (uint32_t p = p0; p < p1; p++)
        for (uint32_t s = 0; s < ns; s++)
            bf16_panel(w + (size_t)p * panel_stride, nch, x + s * ldx, y + s * ldy + (size_t)p * MLP_QK_ROWS);
}

/* int8 by widening: the sample's 64 u8 of a chunk zero-extended to four
 * ymm of int16 (once, for the 4 rows), each row's 64 s8 sign-extended
 * (vpmovsxbw from memory), vpmaddwd: pairs of exact products (at most
 * 2 * 255 * 127) into int32.  The other exact form, vpmaddubsw on x split
 * as (x & 0x7f) + 128 (x >> 7) (each half's pairs fit int16; the low
 * half widened by vpmaddwd at once, the high half's kept in int16 for up
 * to 64 chunks), takes 3 multiplier-port instructions per 32 products
 * against 2 here: on one Zen 3 core, W6's 784-256 layer, one sample, it
 * ran at 37 GMAC/s, this at 47 (vpmovsxbw ymm issues once per cycle there:
 * the bound, 16 products per cycle). */
AI __m256i ld16_s8(const int8_t *p) { return _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)p)); }
AI __m256i ld16_u8(const uint8_t *p) { return _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)p)); }

static void i8_panel(const int8_t *wp, uint32_t nch, const uint8_t *x, int32_t *y)
{
    __m256i acc[4];
    for (int i = 0; i < 4; i++) acc[i] = _mm256_setzero_si256();
    for (uint32_t c = 0; c < nch; c++, wp += 256) {
        prefetch_chunk((const char *)wp);
        const uint8_t *xc = x + 64 * (size_t)c;
        const __m256i x0 = ld16_u8(xc), x1 = ld16_u8(xc + 16), x2 = ld16_u8(xc + 32), x3 = ld16_u8(xc + 48);
        for (int i = 0; i < 4; i++) {
            const int8_t *wr = wp + 64 * i;
            __m256i a = _mm256_add_epi32(_mm256_madd_epi16(x0, ld16_s8(wr)), _mm256_madd_epi16(x1, ld16_s8(wr + 16)));
            __m256i b = _mm256_add_epi32(_mm256_madd_epi16(x2, ld16_s8(wr + 32)), _mm256_madd_epi16(x3, ld16_s8(wr + 48)));
            acc[i] = _mm256_add_epi32(acc[i], _mm256_add_epi32(a, b));
        }
    }
    _mm_storeu_si128((__m128i *)(void *)y, sum4_epi32(acc[0], acc[1], acc[2], acc[3]));
}

void mlp__qk_i8_avx2(const int8_t *w, size_t panel_stride, uint32_t nch, uint32_t p0, uint32_t p1, const uint8_t *x,
                     size_t ldx, uint32_t ns, int32_t *y, size_t ldy)
{
    for (uint32_t p = p0; p < p1; p++)
        for (uint32_t s = 0; s < ns; s++)
            i8_panel(w + (size_t)p * panel_stride, nch, x + s * ldx, y + s * ldy + (size_t)p * MLP_QK_ROWS);
}

/* int8 with AVX-VNNI: vpdpbusd, 32 products per instruction into int32,
 * exactly (no intermediate saturation); two accumulators per row keep
 * two dependency chains per row in flight. */
static __attribute__((target(T_VNNI))) void i8_panel_vnni(const int8_t *wp, uint32_t nch, const uint8_t *x,
                                                          int32_t *y)
{
    __m256i a[4], b[4];
    for (int i = 0; i < 4; i++) a[i] = b[i] = _mm256_setzero_si256();
    for (uint32_t c = 0; c < nch; c++, wp += 256) {
        prefetch_chunk((const char *)wp);
        const __m256i x0 = _mm256_loadu_si256((const __m256i *)(const void *)(x + 64 * (size_t)c));
        const __m256i x1 = _mm256_loadu_si256((const __m256i *)(const void *)(x + 64 * (size_t)c + 32));
        for (int i = 0; i < 4; i++) {
            a[i] = _mm256_dpbusd_avx_epi32(a[i], x0, _mm256_loadu_si256((const __m256i *)(const void *)(wp + 64 * i)));
            b[i] = _mm256_dpbusd_avx_epi32(b[i], x1,
                                           _mm256_loadu_si256((const __m256i *)(const void *)(wp + 64 * i + 32)));
        }
    }
    for (int i = 0; i < 4; i++) a[i] = _mm256_add_epi32(a[i], b[i]);
    _mm_storeu_si128((__m128i *)(void *)y, sum4_epi32(a[0], a[1], a[2], a[3]));
}

__attribute__((target(T_VNNI))) void mlp__qk_i8_avxvnni(const int8_t *w, size_t panel_stride, uint32_t nch,
                                                         uint32_t p0, uint32_t p1, const uint8_t *x, size_t ldx,
                                                         uint32_t ns, int32_t *y, size_t ldy)
{
    for (uint32_t p = p0; p < p1; p++)
        for (uint32_t s = 0; s < ns; s++)
            i8_panel_vnni(w + (size_t)p * panel_stride, nch, x + s * ldx, y + s * ldy + (size_t)p * MLP_QK_ROWS);
}

/* ------------------------------------------------------ the batch kernel */

/* The epilogue of qkernels.h on 8 rows of one sample: the int32 difference
 * exact (z * rowsum fits, as in the scalar version), then f32 multiply
 * (wscale * s), multiply, add, ReLU as max(v, 0) = v > 0 ? v : 0. */
AI void epi8(__m256i acc, const int32_t *rowsum, const float *wscale, const float *bias, float sx, int32_t zx,
             int relu, float *y)
{
    __m256i v = _mm256_sub_epi32(acc, _mm256_mullo_epi32(_mm256_set1_epi32(zx),
                                                         _mm256_loadu_si256((const __m256i *)(const void *)rowsum)));
    __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(v), _mm256_mul_ps(_mm256_loadu_ps(wscale), _mm256_set1_ps(sx)));
    f = _mm256_add_ps(f, _mm256_loadu_ps(bias));
    if (relu) f = _mm256_max_ps(f, _mm256_setzero_ps());
    _mm256_storeu_ps(y, f);
}

/* AVX2: vpmaddwd on int16, so both sides are widened first, a block of KB
 * steps at a time: the inputs of SB samples (xw, 32 KiB) once per block,
 * each group of 16 rows' weights (wb, 16 KiB) once per block and group,
 * both then read from L1 by every tile.  A register tile of 4 samples x 8
 * rows: 8 accumulators, each row's sum in two lanes (inputs 4t, 4t+1 and
 * 4t+2, 4t+3), folded by vphaddd at the end of the block; a sample's four
 * inputs of a step are one vpbroadcastq from xw.  Per step and tile 8
 * vpmaddwd for 128 products, 4 broadcasts and 2 loads.  (Widening the
 * inputs in the loop instead, vpbroadcastd + vpmovzxbw per sample and
 * step, ran at 34 GMAC/s on one Zen 3 core for W6's 784-256 layer; vpmovzxbw
 * ymm issues once per cycle there.)  Between blocks a tile's row sums wait
 * in y, as int32. */
#define G2_KB 128u /* steps of 4 inputs per block */
#define G2_S 4u    /* samples per register tile */
#define G2_SB 32u  /* samples per block */

struct g2_tile {
    const int16_t *wb;       /* the block's widened weights of this 8-row half */
    const int16_t *xw[G2_S]; /* the tile's widened inputs, 4 per step */
    uint32_t nk;             /* steps in the block */
};

/* One tile over the block's steps: the 4 samples' 8 row sums (in row order). */
AI void g2_tile(const struct g2_tile *tl, __m256i out[G2_S])
{
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
    const int16_t *x0 = tl->xw[0], *x1 = tl->xw[1], *x2 = tl->xw[2], *x3 = tl->xw[3];
    const int16_t *wb = tl->wb;
    for (uint32_t t = 0, n = tl->nk; t < n; t++, wb += 64) {
        const __m256i w0 = _mm256_load_si256((const __m256i *)(const void *)wb);
        const __m256i w1 = _mm256_load_si256((const __m256i *)(const void *)(wb + 16));
        int64_t v;
        memcpy(&v, x0 + 4 * (size_t)t, 8);
        __m256i xb = _mm256_set1_epi64x(v);
        a0 = _mm256_add_epi32(_mm256_madd_epi16(xb, w0), a0);
        a1 = _mm256_add_epi32(_mm256_madd_epi16(xb, w1), a1);
        memcpy(&v, x1 + 4 * (size_t)t, 8);
        xb = _mm256_set1_epi64x(v);
        b0 = _mm256_add_epi32(_mm256_madd_epi16(xb, w0), b0);
        b1 = _mm256_add_epi32(_mm256_madd_epi16(xb, w1), b1);
        memcpy(&v, x2 + 4 * (size_t)t, 8);
        xb = _mm256_set1_epi64x(v);
        c0 = _mm256_add_epi32(_mm256_madd_epi16(xb, w0), c0);
        c1 = _mm256_add_epi32(_mm256_madd_epi16(xb, w1), c1);
        memcpy(&v, x3 + 4 * (size_t)t, 8);
        xb = _mm256_set1_epi64x(v);
        d0 = _mm256_add_epi32(_mm256_madd_epi16(xb, w0), d0);
        d1 = _mm256_add_epi32(_mm256_madd_epi16(xb, w1), d1);
        /* keeps each accumulator in one register (GCC 12 otherwise adds
         * into the product's and copies back: 8 more instructions a step) */
        __asm__("" : "+x"(a0), "+x"(a1), "+x"(b0), "+x"(b1), "+x"(c0), "+x"(c1), "+x"(d0), "+x"(d1));
    }
    /* w0 holds rows 0-3 (two lanes each), w1 rows 4-7: vphaddd gives rows
     * 0 1 4 5 | 2 3 6 7, the qword permutation 0 2 1 3 puts them in order */
    out[0] = _mm256_permute4x64_epi64(_mm256_hadd_epi32(a0, a1), 0xd8);
    out[1] = _mm256_permute4x64_epi64(_mm256_hadd_epi32(b0, b1), 0xd8);
    out[2] = _mm256_permute4x64_epi64(_mm256_hadd_epi32(c0, c1), 0xd8);
    out[3] = _mm256_permute4x64_epi64(_mm256_hadd_epi32(d0, d1), 0xd8);
}

void mlp__qk_i8g_avx2(const struct mlp_qk_i8g_layer *L, const uint8_t *x, size_t ldx, uint32_t ns, const float *sx,
                      const int32_t *zx, int relu, float *y, size_t ldy)
{
    _Alignas(32) int16_t wb[G2_KB * 64];
    _Alignas(32) int16_t xw[G2_SB][G2_KB * 4];
    const uint32_t k4 = L->k4;
    for (uint32_t sb = 0; sb < ns; sb += G2_SB) {
        const uint32_t nsb = ns - sb < G2_SB ? ns - sb : G2_SB;
        for (uint32_t t0 = 0; t0 < k4; t0 += G2_KB) {
            const uint32_t nk = k4 - t0 < G2_KB ? k4 - t0 : G2_KB;
            const int first = t0 == 0, last = t0 + nk == k4;
            /* the block's inputs, u8 -> int16, 4 steps per vpmovzxbw (the
             * last few through a copy: x is defined only up to 4 k4) */
            for (uint32_t s = 0; s < nsb; s++) {
                const uint8_t *xs = x + (size_t)(sb + s) * ldx + 4 * (size_t)t0;
                uint32_t t = 0;
                for (; t + 4 <= nk; t += 4)
                    _mm256_store_si256((__m256i *)(void *)(xw[s] + 4 * t), ld16_u8(xs + 4 * (size_t)t));
                if (t < nk) {
                    _Alignas(16) uint8_t tail[16] = {0};
                    memcpy(tail, xs + 4 * (size_t)t, 4 * (size_t)(nk - t));
                    _mm256_store_si256((__m256i *)(void *)(xw[s] + 4 * t), ld16_u8(tail));
                }
            }
            for (uint32_t g = 0; g < L->ng; g++) {
                const int8_t *wg = L->w + ((size_t)g * k4 + t0) * 64;
                const size_t j0 = (size_t)g * 16;
                /* step t's 64 s8 -> 64 int16 (rows 0-7 in the first 32) */
                for (uint32_t t = 0; t < nk; t++)
                    for (int q = 0; q < 4; q++)
                        _mm256_store_si256((__m256i *)(void *)(wb + 64 * (size_t)t + 16 * q),
                                           ld16_s8(wg + 64 * (size_t)t + 16 * q));
                for (int h = 0; h < 2; h++) {
                    const size_t j = j0 + 8 * (size_t)h;
                    for (uint32_t s0 = 0; s0 < nsb; s0 += G2_S) {
                        const uint32_t S = nsb - s0 < G2_S ? nsb - s0 : G2_S;
                        /* a short tile repeats its last sample, whose sums it does not store */
                        struct g2_tile tl = {.wb = wb + 32 * h, .nk = nk};
                        for (uint32_t s = 0; s < G2_S; s++) tl.xw[s] = xw[s0 + (s < S ? s : S - 1)];
                        __m256i out[G2_S];
                        g2_tile(&tl, out);
                        for (uint32_t s = 0; s < S; s++) {
                            const uint32_t i = sb + s0 + s;
                            __m256i *yi = (__m256i *)(void *)(y + (size_t)i * ldy + j);
                            if (!first) out[s] = _mm256_add_epi32(out[s], _mm256_loadu_si256(yi));
                            if (last)
                                epi8(out[s], L->rowsum + j, L->wscale + j, L->bias + j, sx[i], zx[i], relu,
                                     y + (size_t)i * ldy + j);
                            else
                                _mm256_storeu_si256(yi, out[s]); /* the sums so far, int32 */
                        }
                    }
                }
            }
        }
    }
}

/* AVX-VNNI: as the AVX-512 kernel (qkernels.c) in ymm: a step's 64 bytes
 * are two ymm (rows 0-7, 8-15), one vpdpbusd per sample and ymm with the
 * sample's four u8 broadcast, one int32 lane per row: no widening, no
 * horizontal sums.  A tile of 5 samples x 16 rows: 10 accumulators, 2
 * weight vectors, 1 broadcast of the 16 ymm (with 6 samples GCC 12 spilled
 * an accumulator in the loop). */
#define GV_S 5u

#define GV_DP(s_)                                                                                               \
    do {                                                                                                        \
        int32_t xi;                                                                                             \
        memcpy(&xi, x##s_ + 4 * (size_t)t, 4);                                                                  \
        const __m256i xb = _mm256_set1_epi32(xi);                                                               \
        a##s_##0 = _mm256_dpbusd_avx_epi32(a##s_##0, xb, w0);                                                   \
        a##s_##1 = _mm256_dpbusd_avx_epi32(a##s_##1, xb, w1);                                                   \
    } while (0)
#define GV_EPI(s_)                                                                                              \
    do {                                                                                                        \
        if (s_ < S) {                                                                                           \
            epi8(a##s_##0, rs, ws, bs, sx[s_], zx[s_], relu, y + s_ * ldy);                                     \
            epi8(a##s_##1, rs + 8, ws + 8, bs + 8, sx[s_], zx[s_], relu, y + s_ * ldy + 8);                     \
        }                                                                                                       \
    } while (0)

static __attribute__((noinline, target(T_VNNI))) void gv_tile(const int8_t *wg, uint32_t k4, const uint8_t *x,
                                                               size_t ldx, uint32_t S, const int32_t *rs,
                                                               const float *ws, const float *bs, const float *sx,
                                                               const int32_t *zx, int relu, float *y, size_t ldy)
{
    const uint8_t *x0 = x, *x1 = x + (S > 1 ? 1 : S - 1) * ldx, *x2 = x + (S > 2 ? 2 : S - 1) * ldx,
                  *x3 = x + (S > 3 ? 3 : S - 1) * ldx, *x4 = x + (S > 4 ? 4 : S - 1) * ldx;
    const __m256i z = _mm256_setzero_si256();
    __m256i a00 = z, a01 = z, a10 = z, a11 = z, a20 = z, a21 = z, a30 = z, a31 = z, a40 = z, a41 = z;
    for (uint32_t t = 0; t < k4; t++, wg += 64) {
        const __m256i w0 = _mm256_loadu_si256((const __m256i *)(const void *)wg);
        const __m256i w1 = _mm256_loadu_si256((const __m256i *)(const void *)(wg + 32));
        GV_DP(0);
        GV_DP(1);
        GV_DP(2);
        GV_DP(3);
        GV_DP(4);
    }
    GV_EPI(0);
    GV_EPI(1);
    GV_EPI(2);
    GV_EPI(3);
    GV_EPI(4);
}
#undef GV_DP
#undef GV_EPI

__attribute__((target(T_VNNI))) void mlp__qk_i8g_avxvnni(const struct mlp_qk_i8g_layer *L, const uint8_t *x,
                                                          size_t ldx, uint32_t ns, const float *sx, const int32_t *zx,
                                                          int relu, float *y, size_t ldy)
{
    for (uint32_t s0 = 0; s0 < ns; s0 += GV_S) {
        const uint32_t S = ns - s0 < GV_S ? ns - s0 : GV_S;
        for (uint32_t g = 0; g < L->ng; g++) {
            const size_t j = (size_t)g * 16;
            gv_tile(L->w + j * 4 * L->k4, L->k4, x + s0 * ldx, ldx, S, L->rowsum + j, L->wscale + j, L->bias + j,
                    sx + s0, zx + s0, relu, y + s0 * ldy + j, ldy);
        }
    }
}

/* ------------------------------------------- the activations' quantisation */

/* qkernels.h's range, 8 at a time: min(v, a) is v < a ? v : a (a where v is
 * NaN), as the scalar; no lane ever holds NaN or -0, so the lanes reduce in
 * any order to the scalar's result.  The tail's masked-off lanes load 0,
 * inside every range. */
void mlp__qk_range_avx2(const float *x, uint32_t n, float *lo, float *hi, int *bad)
{
    __m256 a = _mm256_setzero_ps(), b = a, a2 = a, b2 = a, nan = a;
    uint32_t i = 0;
    for (; i + 16 <= n; i += 16) { /* two chains of min and max */
        __m256 v = _mm256_loadu_ps(x + i), w = _mm256_loadu_ps(x + i + 8);
        a = _mm256_min_ps(v, a);
        b = _mm256_max_ps(v, b);
        a2 = _mm256_min_ps(w, a2);
        b2 = _mm256_max_ps(w, b2);
        nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, w, _CMP_UNORD_Q));
    }
    a = _mm256_min_ps(a2, a);
    b = _mm256_max_ps(b2, b);
    for (; i < n; i += 8) {
        const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n - i)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        __m256 v = _mm256_maskload_ps(x + i, m);
        a = _mm256_min_ps(v, a);
        b = _mm256_max_ps(v, b);
        nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    }
    __m128 a4 = _mm_min_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    __m128 b4 = _mm_max_ps(_mm256_castps256_ps128(b), _mm256_extractf128_ps(b, 1));
    a4 = _mm_min_ps(a4, _mm_movehl_ps(a4, a4));
    b4 = _mm_max_ps(b4, _mm_movehl_ps(b4, b4));
    a4 = _mm_min_ss(a4, _mm_shuffle_ps(a4, a4, 1));
    b4 = _mm_max_ss(b4, _mm_shuffle_ps(b4, b4, 1));
    *lo = _mm_cvtss_f32(a4);
    *hi = _mm_cvtss_f32(b4);
    *bad = _mm256_movemask_ps(nan) != 0;
}

/* qkernels.h's quantisation, 8 at a time: multiply, then add (not fused),
 * max(v, 0) is v > 0 ? v : 0 (NaN -> 0), min(v, 255) is v < 255 ? v : 255,
 * + 0.5 and truncation.  32 at a time the four vectors are narrowed by two
 * saturating packs (exact: 0..255) and one dword permutation back to
 * their order; the tail is the scalar formula, the same operations. */
AI __m256i u8q_one(__m256 v, __m256 inv, __m256 z)
{
    v = _mm256_add_ps(_mm256_mul_ps(v, inv), z);
    v = _mm256_min_ps(_mm256_max_ps(v, _mm256_setzero_ps()), _mm256_set1_ps(255.0f));
    return _mm256_cvttps_epi32(_mm256_add_ps(v, _mm256_set1_ps(0.5f)));
}

void mlp__qk_u8q_avx2(const float *x, uint32_t n, float s, int32_t z, uint8_t *u)
{
    const float inv = s == s ? 1 / s : 0, zf = (float)z;
    const __m256 vinv = _mm256_set1_ps(inv), vz = _mm256_set1_ps(zf);
    /* after the packs, dword 2k + (0, 1) of each half hold elements 4k..4k+3
     * of vector k's low and high halves */
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    uint32_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i a = u8q_one(_mm256_loadu_ps(x + i), vinv, vz), b = u8q_one(_mm256_loadu_ps(x + i + 8), vinv, vz);
        __m256i c = u8q_one(_mm256_loadu_ps(x + i + 16), vinv, vz), d = u8q_one(_mm256_loadu_ps(x + i + 24), vinv, vz);
        __m256i p = _mm256_packus_epi16(_mm256_packus_epi32(a, b), _mm256_packus_epi32(c, d));
        _mm256_storeu_si256((__m256i *)(void *)(u + i), _mm256_permutevar8x32_epi32(p, order));
    }
    for (; i < n; i++) {
        float v = x[i] * inv + zf;
        v = v > 0 ? v : 0;
        v = v < 255 ? v : 255;
        u[i] = (uint8_t)(v + 0.5f);
    }
}

/* ------------------------------------------------------------- sigmoid */

/* As the AVX-512 version (qkernels.c): e^-z = 2^k e^r, k = round(-z log2 e),
 * r reduced by ln 2 in two parts, e^r by Cephes' expf polynomial; 2^k made
 * in the exponent field (|k| <= 116 after the clip to +-80: a normal
 * float, exact as vscalefps).  max/min take z second so a NaN passes. */
AI __m256 sigmoid8(__m256 v)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 t = _mm256_sub_ps(_mm256_setzero_ps(),
                             _mm256_min_ps(_mm256_set1_ps(80.0f), _mm256_max_ps(_mm256_set1_ps(-80.0f), v)));
    __m256 k = _mm256_round_ps(_mm256_mul_ps(t, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693359375f), t);
    r = _mm256_fnmadd_ps(k, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_fmadd_ps(_mm256_set1_ps(1.9875691500e-4f), r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, one)); /* e^r */
    /* 2^k: a NaN k converts to INT_MIN, a garbage scale, but p is NaN */
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23);
    p = _mm256_mul_ps(p, _mm256_castsi256_ps(e)); /* e^-z */
    return _mm256_div_ps(one, _mm256_add_ps(one, p));
}

void mlp__qk_sigmoid_avx2(float *z, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(z + i, sigmoid8(_mm256_loadu_ps(z + i)));
    if (i < n) {
        const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n - i)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        _mm256_maskstore_ps(z + i, m, sigmoid8(_mm256_maskload_ps(z + i, m)));
    }
}
