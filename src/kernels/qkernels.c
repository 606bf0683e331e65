/* SPDX-License-Identifier: MIT */
/* The inference kernels of qkernels.h: the AVX-512 versions, compiled for
 * their instruction sets with target attributes (so the library runs on
 * any x86-64 and picks them at run time by what the CPU has), and the
 * choice among them, the AVX2 / AVX-VNNI ones (kernels/qk_avx2_simd.c)
 * and the plain-C versions (kernels/qk.inc, built for the baseline) by
 * the features kernels/ktable.c gives mlp__qk_select for each variant. */
#include "kernels/qkernels.h"

#include <stdbool.h>
#include <string.h>

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define MLP_QK_X86 1
#include <immintrin.h>
#endif

/* ------------------------------------------------------------- AVX-512 */

#ifdef MLP_QK_X86

#define T_AVX512 "avx512f,avx512bw,avx512dq,avx512vl,fma,avx2"
#define T_BF16 T_AVX512 ",avx512bf16"
#define T_VNNI T_AVX512 ",avx512vnni"

/* Software prefetch this far ahead in the weight stream: about the bytes in
 * flight that memory latency x bandwidth needs (~100 ns x 30 GB/s); the
 * hardware prefetchers stop at 4 KiB page edges, this does not. */
#define PF_BYTES 3072

/* The four rows' lane sums reduced together into one vector (row i in
 * element i), in tree16's order: a transpose by unpacks, which costs a third
 * of four separate reductions and ends in one store. */
static inline __attribute__((always_inline, target(T_AVX512))) __m128 reduce4_ps(__m512 a0, __m512 a1, __m512 a2,
                                                                                 __m512 a3)
{
    __m512 t01 = _mm512_add_ps(_mm512_unpacklo_ps(a0, a1), _mm512_unpackhi_ps(a0, a1));
    __m512 t23 = _mm512_add_ps(_mm512_unpacklo_ps(a2, a3), _mm512_unpackhi_ps(a2, a3));
    __m512d d01 = _mm512_castps_pd(t01), d23 = _mm512_castps_pd(t23);
    __m512 u = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(d01, d23)),
                             _mm512_castpd_ps(_mm512_unpackhi_pd(d01, d23)));
    __m256 v = _mm256_add_ps(_mm512_castps512_ps256(u), _mm512_extractf32x8_ps(u, 1));
    return _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
}

static inline __attribute__((always_inline, target(T_AVX512))) __m128i reduce4_epi32(__m512i a0, __m512i a1,
                                                                                     __m512i a2, __m512i a3)
{
    __m512i t01 = _mm512_add_epi32(_mm512_unpacklo_epi32(a0, a1), _mm512_unpackhi_epi32(a0, a1));
    __m512i t23 = _mm512_add_epi32(_mm512_unpacklo_epi32(a2, a3), _mm512_unpackhi_epi32(a2, a3));
    __m512i u = _mm512_add_epi32(_mm512_unpacklo_epi64(t01, t23), _mm512_unpackhi_epi64(t01, t23));
    __m256i v = _mm256_add_epi32(_mm512_castsi512_si256(u), _mm512_extracti64x4_epi64(u, 1));
    return _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
}

/* One panel: R rows x NS samples of 64-byte chunks.  The always_inline
 * bodies are instantiated for each constant NS by the switch below, so the
 * accumulators stay in registers (R * NS of them). */
#define PANEL_LOOP(NS, LOADX, STEP)                                                        \
    for (uint32_t c = 0; c < nch; c++, wb += 4 * 64) {                                    \
        _mm_prefetch((const char *)wb + PF_BYTES, _MM_HINT_T0);                           \
        _mm_prefetch((const char *)wb + PF_BYTES + 64, _MM_HINT_T0);                      \
        _mm_prefetch((const char *)wb + PF_BYTES + 128, _MM_HINT_T0);                     \
        _mm_prefetch((const char *)wb + PF_BYTES + 192, _MM_HINT_T0);                     \
        __m512i w0 = _mm512_loadu_si512((const void *)wb), w1 = _mm512_loadu_si512((const void *)(wb + 64)); \
        __m512i w2 = _mm512_loadu_si512((const void *)(wb + 128)), w3 = _mm512_loadu_si512((const void *)(wb + 192)); \
        for (uint32_t s = 0; s < (NS); s++) {                                              \
            LOADX;                                                                         \
            STEP(acc[s][0], xv, w0);                                                       \
            STEP(acc[s][1], xv, w1);                                                       \
            STEP(acc[s][2], xv, w2);                                                       \
            STEP(acc[s][3], xv, w3);                                                       \
        }                                                                                  \
    }

/* f32: one FMA per row per chunk. */
#define F32_STEP(a, xv, wv) a = _mm512_fmadd_ps(_mm512_castsi512_ps(wv), xv, a)

static inline __attribute__((always_inline, target(T_AVX512))) void
f32_panel(const char *wb, uint32_t nch, const float *x, size_t ldx, uint32_t NS, float *y, size_t ldy)
{
    __m512 acc[MLP_QK_MAX_NS][4];
    for (uint32_t s = 0; s < NS; s++)
        for (int i = 0; i < 4; i++) acc[s][i] = _mm512_setzero_ps();
    PANEL_LOOP(NS, __m512 xv = _mm512_loadu_ps(x + s * ldx + (size_t)c * 16), F32_STEP)
    for (uint32_t s = 0; s < NS; s++) _mm_storeu_ps(y + s * ldy, reduce4_ps(acc[s][0], acc[s][1], acc[s][2], acc[s][3]));
}

static __attribute__((target(T_AVX512))) void qk_f32_avx512(const float *w, size_t panel_stride, uint32_t nch,
                                                             uint32_t p0, uint32_t p1, const float *x, size_t ldx,
                                                             uint32_t ns, float *y, size_t ldy)
{
    for (uint32_t p = p0; p < p1; p++) {
        const char *wb = (const char *)(w + (size_t)p * panel_stride);
        float *yp = y + (size_t)p * MLP_QK_ROWS;
        switch (ns) {
        case 1: f32_panel(wb, nch, x, ldx, 1, yp, ldy); break;
        case 2: f32_panel(wb, nch, x, ldx, 2, yp, ldy); break;
        case 3: f32_panel(wb, nch, x, ldx, 3, yp, ldy); break;
        default: f32_panel(wb, nch, x, ldx, 4, yp, ldy); break;
        }
    }
}

/* bf16 with vdpbf16ps: 32 products per row per chunk. */
#define BF16_STEP(a, xv, wv) a = _mm512_dpbf16_ps(a, (__m512bh)(xv), (__m512bh)(wv))

static inline __attribute__((always_inline, target(T_BF16))) void
bf16_panel(const char *wb, uint32_t nch, const uint16_t *x, size_t ldx, uint32_t NS, float *y, size_t ldy)
{
    __m512 acc[MLP_QK_MAX_NS][4];
    for (uint32_t s = 0; s < NS; s++)
        for (int i = 0; i < 4; i++) acc[s][i] = _mm512_setzero_ps();
    PANEL_LOOP(NS, __m512i xv = _mm512_loadu_si512((const void *)(x + s * ldx + (size_t)c * 32)), BF16_STEP)
    for (uint32_t s = 0; s < NS; s++) _mm_storeu_ps(y + s * ldy, reduce4_ps(acc[s][0], acc[s][1], acc[s][2], acc[s][3]));
}

static __attribute__((target(T_BF16))) void qk_bf16_avx512bf16(const uint16_t *w, size_t panel_stride, uint32_t nch,
                                                                uint32_t p0, uint32_t p1, const uint16_t *x,
                                                                size_t ldx, uint32_t ns, float *y, size_t ldy)
{
    for (uint32_t p = p0; p < p1; p++) {
        const char *wb = (const char *)(w + (size_t)p * panel_stride);
        float *yp = y + (size_t)p * MLP_QK_ROWS;
        switch (ns) {
        case 1: bf16_panel(wb, nch, x, ldx, 1, yp, ldy); break;
        case 2: bf16_panel(wb, nch, x, ldx, 2, yp, ldy); break;
        case 3: bf16_panel(wb, nch, x, ldx, 3, yp, ldy); break;
        default: bf16_panel(wb, nch, x, ldx, 4, yp, ldy); break;
        }
    }
}

/* bf16 without the BF16 extension: each dword's two bf16 widened to f32
 * (high half masked, low half shifted up) and two FMAs, odd first: the same
 * sums as vdpbf16ps. */
static inline __attribute__((always_inline, target(T_AVX512))) void
bf16f_panel(const char *wb, uint32_t nch, const uint16_t *x, size_t ldx, uint32_t NS, float *y, size_t ldy)
{
    const __m512i hi = _mm512_set1_epi32((int)0xffff0000u);
    __m512 acc[MLP_QK_MAX_NS][4];
    for (uint32_t s = 0; s < NS; s++)
        for (int i = 0; i < 4; i++) acc[s][i] = _mm512_setzero_ps();
    for (uint32_t c = 0; c < nch; c++, wb += 4 * 64) {
        _mm_prefetch(wb + PF_BYTES, _MM_HINT_T0);
        _mm_prefetch(wb + PF_BYTES + 64, _MM_HINT_T0);
        _mm_prefetch(wb + PF_BYTES + 128, _MM_HINT_T0);
        _mm_prefetch(wb + PF_BYTES + 192, _MM_HINT_T0);
        __m512 wo[4], we[4];
        for (int i = 0; i < 4; i++) {
            __m512i wi = _mm512_loadu_si512((const void *)(wb + 64 * i));
            wo[i] = _mm512_castsi512_ps(_mm512_and_si512(wi, hi));
            we[i] = _mm512_castsi512_ps(_mm512_slli_epi32(wi, 16));
        }
        for (uint32_t s = 0; s < NS; s++) {
            __m512i xi = _mm512_loadu_si512((const void *)(x + s * ldx + (size_t)c * 32));
            __m512 xo = _mm512_castsi512_ps(_mm512_and_si512(xi, hi));
            __m512 xe = _mm512_castsi512_ps(_mm512_slli_epi32(xi, 16));
            for (int i = 0; i < 4; i++) {
                acc[s][i] = _mm512_fmadd_ps(xo, wo[i], acc[s][i]);
                acc[s][i] = _mm512_fmadd_ps(xe, we[i], acc[s][i]);
            }
        }
    }
    for (uint32_t s = 0; s < NS; s++) _mm_storeu_ps(y + s * ldy, reduce4_ps(acc[s][0], acc[s][1], acc[s][2], acc[s][3]));
}

static __attribute__((target(T_AVX512))) void qk_bf16_avx512f(const uint16_t *w, size_t panel_stride, uint32_t nch,
                                                               uint32_t p0, uint32_t p1, const uint16_t *x,
                                                               size_t ldx, uint32_t ns, float *y, size_t ldy)
{
    for (uint32_t p = p0; p < p1; p++) {
        const char *wb = (const char *)(w + (size_t)p * panel_stride);
        float *yp = y + (size_t)p * MLP_QK_ROWS;
        switch (ns) {
        case 1: bf16f_panel(wb, nch, x, ldx, 1, yp, ldy); break;
        case 2: bf16f_panel(wb, nch, x, ldx, 2, yp, ldy); break;
        case 3: bf16f_panel(wb, nch, x, ldx, 3, yp, ldy); break;
        default: bf16f_panel(wb, nch, x, ldx, 4, yp, ldy); break;
        }
    }
}

/* int8 with vpdpbusd: u8 activations x s8 weights, four products per
 * int32 lane, 64 per row per chunk. */
#define VNNI_STEP(a, xv, wv) a = _mm512_dpbusd_epi32(a, xv, wv)

static inline __attribute__((always_inline, target(T_VNNI))) void
i8_panel(const char *wb, uint32_t nch, const uint8_t *x, size_t ldx, uint32_t NS, int32_t *y, size_t ldy)
{
    __m512i acc[MLP_QK_MAX_NS][4];
    for (uint32_t s = 0; s < NS; s++)
        for (int i = 0; i < 4; i++) acc[s][i] = _mm512_setzero_si512();
    PANEL_LOOP(NS, __m512i xv = _mm512_loadu_si512((const void *)(x + s * ldx + (size_t)c * 64)), VNNI_STEP)
    for (uint32_t s = 0; s < NS; s++)
        _mm_storeu_si128((__m128i *)(void *)(y + s * ldy), reduce4_epi32(acc[s][0], acc[s][1], acc[s][2], acc[s][3]));
}

static __attribute__((target(T_VNNI))) void qk_i8_vnni(const int8_t *w, size_t panel_stride, uint32_t nch,
                                                        uint32_t p0, uint32_t p1, const uint8_t *x, size_t ldx,
                                                        uint32_t ns, int32_t *y, size_t ldy)
{
    for (uint32_t p = p0; p < p1; p++) {
        const char *wb = (const char *)(w + (size_t)p * panel_stride);
        int32_t *yp = y + (size_t)p * MLP_QK_ROWS;
        switch (ns) {
        case 1: i8_panel(wb, nch, x, ldx, 1, yp, ldy); break;
        case 2: i8_panel(wb, nch, x, ldx, 2, yp, ldy); break;
        case 3: i8_panel(wb, nch, x, ldx, 3, yp, ldy); break;
        default: i8_panel(wb, nch, x, ldx, 4, yp, ldy); break;
        }
    }
}

/* int8 without VNNI: both sides widened to int16 and vpmaddwd (pairs of
 * exact products into int32) -- exact, so the same sums as vpdpbusd. */
static inline __attribute__((always_inline, target(T_AVX512))) void
i8bw_panel(const char *wb, uint32_t nch, const uint8_t *x, size_t ldx, uint32_t NS, int32_t *y, size_t ldy)
{
    __m512i acc[MLP_QK_MAX_NS][4];
    for (uint32_t s = 0; s < NS; s++)
        for (int i = 0; i < 4; i++) acc[s][i] = _mm512_setzero_si512();
    for (uint32_t c = 0; c < nch; c++, wb += 4 * 64) {
        _mm_prefetch(wb + PF_BYTES, _MM_HINT_T0);
        _mm_prefetch(wb + PF_BYTES + 64, _MM_HINT_T0);
        _mm_prefetch(wb + PF_BYTES + 128, _MM_HINT_T0);
        _mm_prefetch(wb + PF_BYTES + 192, _MM_HINT_T0);
        __m512i wl[4], wh[4];
        for (int i = 0; i < 4; i++) {
            wl[i] = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(const void *)(wb + 64 * i)));
            wh[i] = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(const void *)(wb + 64 * i + 32)));
        }
        for (uint32_t s = 0; s < NS; s++) {
            const uint8_t *xc = x + s * ldx + (size_t)c * 64;
            __m512i xl = _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *)(const void *)xc));
            __m512i xh = _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *)(const void *)(xc + 32)));
            for (int i = 0; i < 4; i++) {
                acc[s][i] = _mm512_add_epi32(acc[s][i], _mm512_madd_epi16(xl, wl[i]));
                acc[s][i] = _mm512_add_epi32(acc[s][i], _mm512_madd_epi16(xh, wh[i]));
            }
        }
    }
    for (uint32_t s = 0; s < NS; s++)
        _mm_storeu_si128((__m128i *)(void *)(y + s * ldy), reduce4_epi32(acc[s][0], acc[s][1], acc[s][2], acc[s][3]));
}

static __attribute__((target(T_AVX512))) void qk_i8_avx512bw(const int8_t *w, size_t panel_stride, uint32_t nch,
                                                              uint32_t p0, uint32_t p1, const uint8_t *x, size_t ldx,
                                                              uint32_t ns, int32_t *y, size_t ldy)
{
    for (uint32_t p = p0; p < p1; p++) {
        const char *wb = (const char *)(w + (size_t)p * panel_stride);
        int32_t *yp = y + (size_t)p * MLP_QK_ROWS;
        switch (ns) {
        case 1: i8bw_panel(wb, nch, x, ldx, 1, yp, ldy); break;
        case 2: i8bw_panel(wb, nch, x, ldx, 2, yp, ldy); break;
        case 3: i8bw_panel(wb, nch, x, ldx, 3, yp, ldy); break;
        default: i8bw_panel(wb, nch, x, ldx, 4, yp, ldy); break;
        }
    }
}

/* The batch kernel: a register tile of S samples x G groups of 16 rows
 * (S * G <= 24 accumulators, G weight vectors, one broadcast: 29 of the 32
 * zmm), over every input step, then the epilogue on the tile.  The weights
 * of a tile (G * k4 * 64 bytes, 50 KiB for 784 inputs) come from L2 once
 * per S samples; the S samples' inputs stay in L1.  Measured on Zen 4, one
 * core, 96 samples of random inputs: W5's 784-256 layer at 95% of the
 * vpdpbusd peak (bench_peak), 256-128 at 88%, 128-10 at 45%. */
#define I8G_S 6u
#define I8G_G 4u

/* One (sample, group) vector of the tile through the epilogue, stored. */
static inline __attribute__((always_inline, target(T_VNNI))) void i8g_epi(__m512i acc, const int32_t *rowsum,
                                                                          const float *wscale, const float *bias,
                                                                          float sx, int32_t zx, int relu, float *y)
{
    __m512i v = _mm512_sub_epi32(acc, _mm512_mullo_epi32(_mm512_set1_epi32(zx), _mm512_loadu_si512(rowsum)));
    __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(v), _mm512_mul_ps(_mm512_loadu_ps(wscale), _mm512_set1_ps(sx)));
    f = _mm512_add_ps(f, _mm512_loadu_ps(bias));
    if (relu) f = _mm512_max_ps(f, _mm512_setzero_ps()); /* f > 0 ? f : 0, as the scalar ReLU */
    _mm512_storeu_ps(y, f);
}

/* One tile's work: G groups from w (gstride bytes apart), S samples from x,
 * the input steps to take (a list, or every step when steps is NULL), and
 * the epilogue's operands from the tile's first row and sample on. */
struct i8g_job {
    const int8_t *w;
    size_t gstride;
    uint32_t k4;
    const uint16_t *steps;
    uint32_t nsteps;
    const uint8_t *x;
    size_t ldx;
    uint32_t S;
    const int32_t *rowsum;
    const float *wscale, *bias, *sx;
    const int32_t *zx;
    int relu;
    float *y;
    size_t ldy;
};

/* The tile's accumulators are named variables (an array of them is spilled
 * to the stack by GCC); G is a constant after inlining, so the groups past
 * it vanish.  Tiles of fewer than 6 samples repeat the last sample's
 * inputs and store only the first S. */
#define I8G_DP(s_, g_) a##s_##g_ = _mm512_dpbusd_epi32(a##s_##g_, xb, w##g_)
#define I8G_ROW(s_)                                                                                             \
    do {                                                                                                        \
        int32_t xi;                                                                                             \
        memcpy(&xi, x##s_ + xo, 4);                                                                             \
        const __m512i xb = _mm512_set1_epi32(xi);                                                               \
        I8G_DP(s_, 0);                                                                                          \
        if (G > 1) I8G_DP(s_, 1);                                                                               \
        if (G > 2) I8G_DP(s_, 2);                                                                               \
        if (G > 3) I8G_DP(s_, 3);                                                                               \
    } while (0)
#define I8G_STEP(t_)                                                                                            \
    do {                                                                                                        \
        const size_t xo = 4 * (size_t)(t_), o = 16 * xo;                                                        \
        const __m512i w0 = _mm512_load_si512((const void *)(wp0 + o));                                         \
        const __m512i w1 = G > 1 ? _mm512_load_si512((const void *)(wp1 + o)) : z;                             \
        const __m512i w2 = G > 2 ? _mm512_load_si512((const void *)(wp2 + o)) : z;                             \
        const __m512i w3 = G > 3 ? _mm512_load_si512((const void *)(wp3 + o)) : z;                             \
        I8G_ROW(0);                                                                                             \
        I8G_ROW(1);                                                                                             \
        I8G_ROW(2);                                                                                             \
        I8G_ROW(3);                                                                                             \
        I8G_ROW(4);                                                                                             \
        I8G_ROW(5);                                                                                             \
    } while (0)
#define I8G_EPI(s_, g_)                                                                                         \
    do {                                                                                                        \
        if (g_ < G && s_ < S)                                                                                   \
            i8g_epi(a##s_##g_, jb->rowsum + 16 * g_, jb->wscale + 16 * g_, jb->bias + 16 * g_, jb->sx[s_],      \
                    jb->zx[s_], jb->relu, jb->y + s_ * jb->ldy + 16 * g_);                                      \
    } while (0)
#define I8G_EPIS(s_)                                                                                            \
    do {                                                                                                        \
        I8G_EPI(s_, 0);                                                                                         \
        I8G_EPI(s_, 1);                                                                                         \
        I8G_EPI(s_, 2);                                                                                         \
        I8G_EPI(s_, 3);                                                                                         \
    } while (0)

static inline __attribute__((always_inline, target(T_VNNI))) void i8g_tile(const struct i8g_job *jb, uint32_t G)
{
    const uint32_t S = jb->S;
    const size_t ldx = jb->ldx, gstride = jb->gstride;
    const uint8_t *x = jb->x, *x0 = x, *x1 = x + (S > 1 ? 1 : 0) * ldx, *x2 = x + (S > 2 ? 2 : S - 1) * ldx,
                  *x3 = x + (S > 3 ? 3 : S - 1) * ldx, *x4 = x + (S > 4 ? 4 : S - 1) * ldx,
                  *x5 = x + (S > 5 ? 5 : S - 1) * ldx;
    const int8_t *wp0 = jb->w, *wp1 = wp0 + gstride, *wp2 = wp0 + 2 * gstride, *wp3 = wp0 + 3 * gstride;
    const __m512i z = _mm512_setzero_si512();
    __m512i a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z, a20 = z, a21 = z, a22 = z,
            a23 = z, a30 = z, a31 = z, a32 = z, a33 = z, a40 = z, a41 = z, a42 = z, a43 = z, a50 = z, a51 = z,
            a52 = z, a53 = z;
    if (jb->steps) {
        const uint16_t *st = jb->steps;
        for (uint32_t i = 0, n = jb->nsteps; i < n; i++) I8G_STEP(st[i]);
    } else {
        for (uint32_t t = 0, n = jb->k4; t < n; t++) I8G_STEP(t);
    }
    I8G_EPIS(0);
    I8G_EPIS(1);
    I8G_EPIS(2);
    I8G_EPIS(3);
    I8G_EPIS(4);
    I8G_EPIS(5);
}
#undef I8G_DP
#undef I8G_ROW
#undef I8G_STEP
#undef I8G_EPI
#undef I8G_EPIS

/* One function per group count: a switch over group and sample counts in
 * one function made GCC spill the accumulators. */
static __attribute__((noinline, target(T_VNNI))) void i8g_tile4(const struct i8g_job *jb) { i8g_tile(jb, 4); }
static __attribute__((noinline, target(T_VNNI))) void i8g_tile2(const struct i8g_job *jb) { i8g_tile(jb, 2); }
static __attribute__((noinline, target(T_VNNI))) void i8g_tile1(const struct i8g_job *jb) { i8g_tile(jb, 1); }

/* The input steps where some of the S samples has a non-zero input (the
 * others add nothing to any sum: skipping them changes no bit).  Images
 * leave whole steps blank: 7% of Fashion-MNIST's for 6 samples. */
#define I8G_MAX_LIST 4096u

static inline __attribute__((always_inline, target(T_VNNI))) uint32_t i8g_steps(const uint8_t *x, size_t ldx,
                                                                                uint32_t S, uint32_t k4,
                                                                                uint16_t *steps)
{
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    uint32_t n = 0;
    for (uint32_t t0 = 0; t0 < k4; t0 += 16) {
        const __mmask16 m = k4 - t0 >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (k4 - t0)) - 1);
        __m512i o = _mm512_setzero_si512();
        for (uint32_t s = 0; s < S; s++) o = _mm512_or_si512(o, _mm512_maskz_loadu_epi32(m, x + s * ldx + 4 * (size_t)t0));
        const __mmask16 nz = _mm512_test_epi32_mask(o, o);
        /* compressed in a register (the store form is slow on Zen 4) */
        const __m512i c = _mm512_maskz_compress_epi32(nz, _mm512_add_epi32(iota, _mm512_set1_epi32((int)t0)));
        _mm256_storeu_si256((__m256i *)(void *)(steps + n), _mm512_cvtepi32_epi16(c));
        n += (uint32_t)__builtin_popcount(nz);
    }
    return n;
}

static __attribute__((target(T_VNNI))) void qk_i8g_vnni(const struct mlp_qk_i8g_layer *L, const uint8_t *x,
                                                         size_t ldx, uint32_t ns, const float *sx, const int32_t *zx,
                                                         int relu, float *y, size_t ldy)
{
    uint16_t steps[I8G_MAX_LIST + 16];
    struct i8g_job jb = {.gstride = (size_t)L->k4 * 64, .k4 = L->k4, .ldx = ldx, .relu = relu, .ldy = ldy};
    /* the lists cost ~1% of a dense layer: after two tiles that skipped
     * less than 1/32 of their steps, this call builds no more */
    bool lists = L->k4 <= I8G_MAX_LIST;
    size_t seen = 0, skipped = 0;
    for (uint32_t s0 = 0; s0 < ns; s0 += I8G_S) {
        const uint32_t S = ns - s0 < I8G_S ? ns - s0 : I8G_S;
        const uint8_t *xs = x + s0 * ldx;
        jb.x = xs;
        jb.S = S;
        jb.sx = sx + s0;
        jb.zx = zx + s0;
        jb.steps = NULL;
        if (lists) {
            jb.nsteps = i8g_steps(xs, ldx, S, L->k4, steps);
            if (jb.nsteps < L->k4) jb.steps = steps;
            seen += L->k4;
            skipped += L->k4 - jb.nsteps;
            lists = s0 == 0 || 32 * skipped >= seen;
        }
        /* the next tile's inputs (the first layer's may be the data set's
         * rows, not yet in any cache), a share before each group tile */
        const uint32_t S2 = s0 + I8G_S >= ns ? 0 : ns - s0 - I8G_S < I8G_S ? ns - s0 - I8G_S : I8G_S;
        const size_t lines = ((size_t)4 * L->k4 + 63) / 64, ntiles = (L->ng + I8G_G - 1) / I8G_G;
        size_t pf = 0, pf_row = 0, pf_line = 0; /* pf = pf_row * lines + pf_line, no division */
        for (uint32_t g0 = 0; g0 < L->ng;) {
            for (size_t stop = S2 * lines * (g0 / I8G_G + 1) / ntiles; pf < stop; pf++) {
                _mm_prefetch((const char *)(xs + (I8G_S + pf_row) * ldx + 64 * pf_line), _MM_HINT_T0);
                if (++pf_line == lines) {
                    pf_line = 0;
                    pf_row++;
                }
            }
            /* 4 groups at a time, then 2, then 1 */
            const uint32_t left = L->ng - g0, G = left >= 4 ? 4 : left >= 2 ? 2 : 1;
            const size_t j0 = (size_t)g0 * 16;
            jb.w = L->w + g0 * jb.gstride;
            jb.rowsum = L->rowsum + j0;
            jb.wscale = L->wscale + j0;
            jb.bias = L->bias + j0;
            jb.y = y + s0 * ldy + j0;
            (G == 4 ? i8g_tile4 : G == 2 ? i8g_tile2 : i8g_tile1)(&jb);
            g0 += G;
        }
    }
}

/* qkernels.h's range, 16 at a time: min(v, a) keeps a where v is NaN, as
 * the scalar v < a ? v : a; no lane ever holds NaN or -0, so the lanes
 * reduce in any order to the scalar's result. */
static __attribute__((target(T_AVX512))) void range_avx512(const float *x, uint32_t n, float *lo, float *hi, int *bad)
{
    __m512 a = _mm512_setzero_ps(), b = _mm512_setzero_ps(), a2 = a, b2 = b;
    __mmask16 nan = 0;
    uint32_t i = 0;
    for (; i + 32 <= n; i += 32) { /* two chains of min and max */
        __m512 v = _mm512_loadu_ps(x + i), w = _mm512_loadu_ps(x + i + 16);
        a = _mm512_min_ps(v, a);
        b = _mm512_max_ps(v, b);
        a2 = _mm512_min_ps(w, a2);
        b2 = _mm512_max_ps(w, b2);
        nan |= _mm512_cmp_ps_mask(v, w, _CMP_UNORD_Q);
    }
    a = _mm512_min_ps(a2, a);
    b = _mm512_max_ps(b2, b);
    for (; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
        __m512 v = _mm512_maskz_loadu_ps(m, x + i);
        a = _mm512_min_ps(v, a);
        b = _mm512_max_ps(v, b);
        nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    }
    *lo = _mm512_reduce_min_ps(a);
    *hi = _mm512_reduce_max_ps(b);
    *bad = nan != 0;
}

/* qkernels.h's quantisation, 16 at a time: max(v, 0) is v > 0 ? v : 0
 * (NaN -> 0), min(v, 255) is v < 255 ? v : 255, then truncation.  64 at a
 * time the four vectors are narrowed by two saturating packs (exact: the
 * values are 0..255) and one permutation back to their order; vpmovdb is
 * slow on Zen 4. */
static inline __attribute__((always_inline, target(T_AVX512))) __m512i u8q_one(__m512 v, __m512 inv, __m512 z)
{
    v = _mm512_add_ps(_mm512_mul_ps(v, inv), z);
    v = _mm512_min_ps(_mm512_max_ps(v, _mm512_setzero_ps()), _mm512_set1_ps(255.0f));
    return _mm512_cvttps_epi32(_mm512_add_ps(v, _mm512_set1_ps(0.5f)));
}

static __attribute__((target(T_AVX512))) void u8q_avx512(const float *x, uint32_t n, float s, int32_t z, uint8_t *u)
{
    const float inv = s == s ? 1 / s : 0;
    const __m512 vinv = _mm512_set1_ps(inv), vz = _mm512_set1_ps((float)z);
    /* after the packs, dword 4k + j holds elements 4k..4k+3 of vector j */
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    uint32_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512i a = u8q_one(_mm512_loadu_ps(x + i), vinv, vz), b = u8q_one(_mm512_loadu_ps(x + i + 16), vinv, vz);
        __m512i c = u8q_one(_mm512_loadu_ps(x + i + 32), vinv, vz), d = u8q_one(_mm512_loadu_ps(x + i + 48), vinv, vz);
        __m512i p = _mm512_packus_epi16(_mm512_packus_epi32(a, b), _mm512_packus_epi32(c, d));
        _mm512_storeu_si512((void *)(u + i), _mm512_permutexvar_epi32(order, p));
    }
    for (; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
        _mm_mask_storeu_epi8(u + i, m, _mm512_cvtepi32_epi8(u8q_one(_mm512_maskz_loadu_ps(m, x + i), vinv, vz)));
    }
}

/* Sigmoid, 16 at a time: e^-z as 2^n e^r with n = round(-z log2 e), r
 * reduced by ln 2 in two parts (Cody-Waite) and e^r by the degree-6
 * polynomial of Cephes' expf (~1 ulp on |r| <= ln2 / 2); 2^n applied by
 * vscalefps.  The clip keeps e^-z in the normal range, as the scalar
 * version's does: no overflow, no underflow, no FP exception.  max/min take
 * z second so that a NaN z passes through. */
static __attribute__((target(T_AVX512))) void sigmoid_avx512(float *z, size_t n)
{
    const __m512 lo = _mm512_set1_ps(-80.0f), hi = _mm512_set1_ps(80.0f), one = _mm512_set1_ps(1.0f);
    const __m512 log2e = _mm512_set1_ps(1.44269504088896341f);
    const __m512 ln2hi = _mm512_set1_ps(0.693359375f), ln2lo = _mm512_set1_ps(-2.12194440e-4f);
    const __m512 c0 = _mm512_set1_ps(1.9875691500e-4f), c1 = _mm512_set1_ps(1.3981999507e-3f),
                 c2 = _mm512_set1_ps(8.3334519073e-3f), c3 = _mm512_set1_ps(4.1665795894e-2f),
                 c4 = _mm512_set1_ps(1.6666665459e-1f), c5 = _mm512_set1_ps(5.0000001201e-1f);
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
        __m512 v = _mm512_maskz_loadu_ps(m, z + i);
        __m512 t = _mm512_sub_ps(_mm512_setzero_ps(), _mm512_min_ps(hi, _mm512_max_ps(lo, v))); /* -z */
        __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(t, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __m512 r = _mm512_fnmadd_ps(k, ln2hi, t);
        r = _mm512_fnmadd_ps(k, ln2lo, r);
        __m512 p = _mm512_fmadd_ps(c0, r, c1);
        p = _mm512_fmadd_ps(p, r, c2);
        p = _mm512_fmadd_ps(p, r, c3);
        p = _mm512_fmadd_ps(p, r, c4);
        p = _mm512_fmadd_ps(p, r, c5);
        p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, one)); /* e^r */
        __m512 e = _mm512_scalef_ps(p, k);                                   /* e^-z */
        _mm512_mask_storeu_ps(z + i, m, _mm512_div_ps(one, _mm512_add_ps(one, e)));
    }
}

#endif /* MLP_QK_X86 */

/* ------------------------------------------------------------ selection */

/* The AVX2 kernels for t (kernels/qk_avx2_simd.c, int8 with AVX-VNNI
 * where the CPU has it), else the plain-C ones for the baseline.  AVX2
 * has its batch kernel, measured faster than its panel kernel for batches:
 * on W6's network (784-256-128-10, 10000 rows, Zen 3) 125k against 103k
 * rows/s on one thread, 179k against 114k on two (quant.c's batch and
 * panel paths, one process, the machine shared); one core on the 784-256
 * layer alone, 96 samples: 64 GMAC/s against 50.  On aarch64 the NEON
 * kernels (kernels/qk_neon*.c), int8 by the best of I8MM, dotprod and
 * plain Advanced SIMD, bf16 by BFDOT where the CPU has BF16; every one of
 * them needs MLP_QK_HAS_NEON, the others' bits alone give the plain-C
 * kernels. */
static struct mlp_qk select_plain(enum mlp_qtype t, unsigned features)
{
    (void)features; /* unused where there is no AVX2 or NEON build */
#ifdef MLP_QK_AVX2
    if (features & MLP_QK_HAS_AVX2) {
        switch (t) {
        case MLP_Q_F32: return (struct mlp_qk){.name = "avx2", .f32 = mlp__qk_f32_avx2};
        case MLP_Q_BF16: return (struct mlp_qk){.name = "avx2", .bf16 = mlp__qk_bf16_avx2};
        case MLP_Q_INT8:
            if (features & MLP_QK_HAS_AVXVNNI)
                return (struct mlp_qk){.name = "avx-vnni", .i8 = mlp__qk_i8_avxvnni, .i8g = mlp__qk_i8g_avxvnni,
                                       .range = mlp__qk_range_avx2, .u8q = mlp__qk_u8q_avx2};
            return (struct mlp_qk){.name = "avx2", .i8 = mlp__qk_i8_avx2, .i8g = mlp__qk_i8g_avx2,
                                   .range = mlp__qk_range_avx2, .u8q = mlp__qk_u8q_avx2};
        case MLP_Q_COUNT: break;
        }
    }
#endif
#ifdef MLP_QK_NEON
    if (features & MLP_QK_HAS_NEON) {
        switch (t) {
        case MLP_Q_F32: return (struct mlp_qk){.name = "neon", .f32 = mlp__qk_f32_neon};
        case MLP_Q_BF16:
            if (features & MLP_QK_HAS_ARM_BF16)
                return (struct mlp_qk){.name = "neon-bf16", .bf16 = mlp__qk_bf16_neon_bf16};
            return (struct mlp_qk){.name = "neon", .bf16 = mlp__qk_bf16_neon};
        case MLP_Q_INT8:
            /* the I8MM kernels use its instructions alone (no SDOT) */
            if (features & MLP_QK_HAS_I8MM)
                return (struct mlp_qk){.name = "neon-i8mm", .i8 = mlp__qk_i8_neon_i8mm, .i8g = mlp__qk_i8g_neon_i8mm,
                                       .range = mlp__qk_range_neon, .u8q = mlp__qk_u8q_neon};
            if (features & MLP_QK_HAS_DOTPROD)
                return (struct mlp_qk){.name = "neon-dotprod", .i8 = mlp__qk_i8_neon_dot, .i8g = mlp__qk_i8g_neon_dot,
                                       .range = mlp__qk_range_neon, .u8q = mlp__qk_u8q_neon};
            /* no batch kernel (qkernels.h): batches take the panel kernel */
            return (struct mlp_qk){.name = "neon", .i8 = mlp__qk_i8_neon, .range = mlp__qk_range_neon,
                                   .u8q = mlp__qk_u8q_neon};
        case MLP_Q_COUNT: break;
        }
    }
#endif
    switch (t) {
    case MLP_Q_F32: return (struct mlp_qk){.name = "portable", .f32 = mlp__qk_f32_portable};
    case MLP_Q_BF16: return (struct mlp_qk){.name = "portable", .bf16 = mlp__qk_bf16_portable};
    case MLP_Q_INT8:
        return (struct mlp_qk){.name = "portable", .i8 = mlp__qk_i8_portable, .range = mlp__qk_range_portable,
                               .u8q = mlp__qk_u8q_portable};
    case MLP_Q_COUNT: break;
    }
    return (struct mlp_qk){0};
}

/* The AVX-512 kernels for t, or the plain ones.  Each AVX-512 choice fills
 * its type's every slot but the int8 batch kernel without VNNI, which stays
 * NULL on purpose (none written; the plain one is slower than the panels). */
static struct mlp_qk select_dot(enum mlp_qtype t, unsigned features)
{
#ifdef MLP_QK_X86
    switch (t) {
    case MLP_Q_F32:
        if (features & MLP_QK_HAS_AVX512) return (struct mlp_qk){.name = "avx512f", .f32 = qk_f32_avx512};
        break;
    case MLP_Q_BF16:
        if (features & MLP_QK_HAS_AVX512_BF16)
            return (struct mlp_qk){.name = "avx512-bf16", .bf16 = qk_bf16_avx512bf16};
        if (features & MLP_QK_HAS_AVX512) return (struct mlp_qk){.name = "avx512f", .bf16 = qk_bf16_avx512f};
        break;
    case MLP_Q_INT8:
        if (features & MLP_QK_HAS_AVX512_VNNI)
            return (struct mlp_qk){.name = "avx512-vnni", .i8 = qk_i8_vnni, .i8g = qk_i8g_vnni,
                                   .range = range_avx512, .u8q = u8q_avx512};
        /* no batch kernel without VNNI (none written): batches take the panel kernel */
        if (features & MLP_QK_HAS_AVX512)
            return (struct mlp_qk){.name = "avx512bw", .i8 = qk_i8_avx512bw, .range = range_avx512, .u8q = u8q_avx512};
        break;
    case MLP_Q_COUNT: break;
    }
#endif
    return select_plain(t, features);
}

struct mlp_qk mlp__qk_select(enum mlp_qtype t, unsigned features)
{
    struct mlp_qk k = select_dot(t, features);
#ifdef MLP_QK_X86
    if (features & MLP_QK_HAS_AVX512) k.sigmoid = sigmoid_avx512;
#endif
#ifdef MLP_QK_AVX2
    if (!k.sigmoid && (features & MLP_QK_HAS_AVX2)) k.sigmoid = mlp__qk_sigmoid_avx2;
#endif
#ifdef MLP_QK_NEON
    if (features & MLP_QK_HAS_NEON) k.sigmoid = mlp__qk_sigmoid_neon;
#endif
    return k;
}
