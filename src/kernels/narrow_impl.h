/* SPDX-License-Identifier: MIT */
/* The first layer of a narrow network read straight from uint8 inputs: the
 * fused kernel behind W1-W3 (seed 000's neuron, seed 001's 1024-8-3 net,
 * seed 002's 784-10-10), included by forward.c per element type (T, SUF,
 * FN, NARROW_V lanes).
 *
 * Written by hand because no BLAS does this job well: a GEMM needs the
 * pixels converted to T first (a block 4-8x the size of the uint8 rows,
 * which then no longer fits in L2), and with 1-16 outputs it runs as a
 * skinny, memory-bound product anyway.  Here the uint8 rows are converted
 * in registers, so a block of rows stays in cache between the forward and
 * the backward pass and is read at a quarter (f32) or an eighth (f64) of
 * the bandwidth.
 *
 *   forward:   Z[i][k] = b[k] + s * sum_j x[i][j] W[k][j]
 *   backward:  dW[k][j] += s * sum_i dZ[i][k] x[i][j]
 *
 * The outputs go in groups of at most 10 (K <= 10: one group, so each pixel
 * is converted once per pass and used for every output).  A forward tile is
 * R rows x Q outputs x U column vectors of accumulators, a backward tile Q
 * outputs x U column vectors over all rows of the block; R and U per Q keep
 * 8-24 accumulators (the 4-cycle FMA latency on two pipes wants 8) and
 * everything in the 32 vector registers.  Every tile shape is a constant
 * after inlining (the switches below), so the loops unroll into registers.
 *
 * What bounds it on Zen 4 (measured with loops of the instructions alone):
 * the four 256-bit FP pipes retire two 512-bit ops a cycle, one of them the
 * FMA.  Where each pixel feeds one FMA (W1's one output) the conversion is
 * the cost: vpmovzxbd + vcvtdq2pd 2.0-2.2 cycles per FMA, vpmovzxbq +
 * vcvtqq2pd 1.95 (the shuffle feeding the conversion), the strided AND +
 * vcvtuqq2pd below 1.5.  Keeping a converted block in memory instead
 * loses: a 512-bit store takes 2 cycles.
 *
 * GCC vector extensions, with AVX-512 intrinsics where GCC would not find
 * the instructions itself (conversions, horizontal sums); other targets get
 * SSE2 or plain code from the same source.  Summation order is fixed (lanes
 * in a fixed tree, then the tail), so results are deterministic; they differ
 * from the GEMM path only by rounding. */

#ifndef MLP_NARROW_ONCE
#define MLP_NARROW_ONCE
/* Most accumulators / converted vectors a tile keeps (see the tables). */
#define NARROW_ACC 24
#define NARROW_XV 8
#define NARROW_QMAX 10
/* Rows at most this long (bytes) are prefetched a tile ahead in the forward
 * pass: the hardware prefetcher catches long rows (W1: 12 KB) but not a
 * tile's few short ones (W3: 784 bytes) streamed from memory. */
#ifndef NARROW_PF
#define NARROW_PF 4096
#endif

/* Tile shapes per outputs in a group (1..10). */
static inline int narrow_fwd_rows(int q)
{
    return q <= 6 ? 4 : q <= 8 ? 3 : 2;
}
static inline int narrow_fwd_unroll(int r, int q)
{
    return r * q >= 8 ? 1 : (8 + r * q - 1) / (r * q);
}
static inline int narrow_bwd_unroll(int q)
{
    static const int u[NARROW_QMAX + 1] = {0, 16, 8, 8, 6, 4, 4, 3, 3, 2, 2};
    return u[q];
}

/* Keeps a loaded weight vector in a register: GCC otherwise folds the load
 * into every FMA that uses it (R loads instead of one, and the load port
 * then bounds the loop). */
#if defined(__AVX512F__)
#define NARROW_KEEP(v) __asm__("" : "+v"(v))
#else
#define NARROW_KEEP(v) ((void)0)
#endif
/* Hides a pointer's value from GCC, which otherwise splits "p + constant"
 * sums into one hoisted register per constant and spills them. */
#define NARROW_OPAQUE(p) __asm__("" : "+r"(p))

#if defined(__AVX512F__)
/* One level of the horizontal-sum tree: a and b hold 2^level sums each,
 * spread over 16 >> level lanes; the result holds both sets, each over half
 * as many lanes. */
static inline __m512 narrow_fold_ps(__m512 a, __m512 b, int level)
{
    switch (level) {
    case 0: return _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xEE));
    case 1: return _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x88), _mm512_shuffle_f32x4(a, b, 0xDD));
    case 2: return _mm512_add_ps(_mm512_shuffle_ps(a, b, 0x44), _mm512_shuffle_ps(a, b, 0xEE));
    default: return _mm512_add_ps(_mm512_shuffle_ps(a, b, 0x88), _mm512_shuffle_ps(a, b, 0xDD));
    }
}
static inline __m512d narrow_fold_pd(__m512d a, __m512d b, int level)
{
    switch (level) {
    case 0: return _mm512_add_pd(_mm512_shuffle_f64x2(a, b, 0x44), _mm512_shuffle_f64x2(a, b, 0xEE));
    case 1: return _mm512_add_pd(_mm512_shuffle_f64x2(a, b, 0x88), _mm512_shuffle_f64x2(a, b, 0xDD));
    default: return _mm512_add_pd(_mm512_unpacklo_pd(a, b), _mm512_unpackhi_pd(a, b));
    }
}
#endif

#if defined(__AVX512F__) && defined(__AVX512DQ__)
#define NARROW_STRIDED 1
/* f64 pixels in strided order: a 64-byte load holds 8 qwords of 8 pixels;
 * qword l AND (0xFF << 8k) is pixel 8l + k times 2^8k, which vcvtuqq2pd
 * makes exact.  One AND and one conversion per 8 pixels, both beside the
 * FMA: 1.5 cycles per FMA against 1.95 for vpmovzxbq + vcvtqq2pd (a shuffle
 * feeding the conversion; measured, dependent chains).  Products with
 * 2^-8k-scaled weights, or sums scaled back by 2^-8k, round exactly as the
 * unscaled ones: results are those of the plain order. */
static inline __m512d narrow_px8(__m512i v, int k)
{
    return _mm512_cvtepu64_pd(_mm512_and_si512(v, _mm512_set1_epi64((long long)(0xFFull << (8 * k)))));
}

/* a[k] lane l -> r[l] lane k (an 8 x 8 transpose in place) */
static inline void narrow_transpose8(__m512d a[8])
{
    __m512d t[8], u[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm512_unpacklo_pd(a[2 * i], a[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_pd(a[2 * i], a[2 * i + 1]);
    }
    for (int h = 0; h < 2; h++) { /* rows 0-3, 4-7 */
        __m512d *tt = t + 4 * h, *uu = u + 4 * h;
        uu[0] = _mm512_shuffle_f64x2(tt[0], tt[2], 0x88);
        uu[1] = _mm512_shuffle_f64x2(tt[0], tt[2], 0xDD);
        uu[2] = _mm512_shuffle_f64x2(tt[1], tt[3], 0x88);
        uu[3] = _mm512_shuffle_f64x2(tt[1], tt[3], 0xDD);
    }
    a[0] = _mm512_shuffle_f64x2(u[0], u[4], 0x88);
    a[4] = _mm512_shuffle_f64x2(u[0], u[4], 0xDD);
    a[2] = _mm512_shuffle_f64x2(u[1], u[5], 0x88);
    a[6] = _mm512_shuffle_f64x2(u[1], u[5], 0xDD);
    a[1] = _mm512_shuffle_f64x2(u[2], u[6], 0x88);
    a[5] = _mm512_shuffle_f64x2(u[2], u[6], 0xDD);
    a[3] = _mm512_shuffle_f64x2(u[3], u[7], 0x88);
    a[7] = _mm512_shuffle_f64x2(u[3], u[7], 0xDD);
}
#endif
#endif /* MLP_NARROW_ONCE */

typedef T FN(vec) __attribute__((vector_size(NARROW_V * sizeof(T))));

/* NARROW_V pixels to T.  GCC 12 turns __builtin_convertvector from uint8
 * into scalar conversions, so the AVX-512 build says what it wants. */
static inline FN(vec) FN(load_u8)(const uint8_t *p)
{
#if defined(__AVX512F__)
    if (sizeof(T) == 4) {
        __m512 v = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(const void *)p)));
        FN(vec) r;
        memcpy(&r, &v, sizeof r);
        return r;
    } else {
#if defined(__AVX512DQ__)
        __m512d v = _mm512_cvtepi64_pd(_mm512_cvtepu8_epi64(_mm_loadl_epi64((const __m128i *)(const void *)p)));
#else
        __m512d v = _mm512_cvtepi32_pd(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)p)));
#endif
        FN(vec) r;
        memcpy(&r, &v, sizeof r);
        return r;
    }
#else
    FN(vec) r;
    for (int l = 0; l < NARROW_V; l++) r[l] = (T)p[l];
    return r;
#endif
}

static inline FN(vec) FN(load_t)(const T *p)
{
    FN(vec) v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* out[i] = the sum of v[i]'s lanes, i < n.  AVX-512: NARROW_V vectors at a
 * time through a tree of folds (log2 V levels, 3 ops per fold: about 3 ops
 * per sum instead of V-1 dependent scalar adds); the last fold leaves sum i
 * in lane lane_of(i). */
static inline __attribute__((always_inline)) void FN(hsums)(const FN(vec) *v, int n, T *out)
{
#if defined(__AVX512F__)
    for (int b = 0; b < n; b += NARROW_V) {
        const int m = n - b < NARROW_V ? n - b : NARROW_V;
        FN(vec) t[NARROW_V];
#pragma GCC unroll 16
        for (int i = 0; i < NARROW_V; i++) t[i] = i < m ? v[b + i] : (FN(vec)){0};
        int live = m;
#pragma GCC unroll 4
        for (int level = 0; (NARROW_V >> level) > 1; level++) {
            const int nl = (live + 1) / 2;
#pragma GCC unroll 8
            for (int k = 0; k < nl; k++) {
                const FN(vec) z = {0}, x = t[2 * k], y = 2 * k + 1 < live ? t[2 * k + 1] : z;
                if (sizeof(T) == 4) {
                    __m512 xa, ya;
                    memcpy(&xa, &x, sizeof xa);
                    memcpy(&ya, &y, sizeof ya);
                    __m512 f = narrow_fold_ps(xa, ya, level);
                    memcpy(&t[k], &f, sizeof f);
                } else {
                    __m512d xa, ya;
                    memcpy(&xa, &x, sizeof xa);
                    memcpy(&ya, &y, sizeof ya);
                    __m512d f = narrow_fold_pd(xa, ya, level);
                    memcpy(&t[k], &f, sizeof f);
                }
            }
            live = nl;
        }
        /* f32: lane 4c + r holds sum c + 4r; f64: lane 2c + r holds c + 4r */
#pragma GCC unroll 16
        for (int l = 0; l < NARROW_V; l++) {
            const int i = NARROW_V == 16 ? l / 4 + 4 * (l % 4) : l / 2 + 4 * (l % 2);
            if (i < m) out[b + i] = t[0][l];
        }
    }
#else
    for (int i = 0; i < n; i++) {
        T s = 0;
        for (int l = 0; l < NARROW_V; l++) s += v[i][l];
        out[i] = s;
    }
#endif
}

/* Rows xp[0..R) against the weight rows Wg[0..Q) (row stride d):
 * out[r * Q + q] = sum_j xp[r][j] Wg[q][j].  R, Q, U constants. */
static inline __attribute__((always_inline)) void FN(fwd_tile)(const uint8_t *const *xp, const uint8_t *const *xn,
                                                               const T *Wg, uint32_t d, const int R, const int Q,
                                                               const int U, const bool pf, T *out)
{
    FN(vec) acc[NARROW_ACC];
#pragma GCC unroll 24
    for (int a = 0; a < R * Q * U; a++) acc[a] = (FN(vec)){0};
    const uint32_t step = (uint32_t)U * NARROW_V;
    const T *wj = Wg; /* Wg + j: the weight rows by adding d, so that the
                       * loop needs two pointer registers, not Q */
    uint32_t j = 0;
    for (; j + step <= d; j += step, wj += step) {
        FN(vec) xv[NARROW_XV];
#pragma GCC unroll 8
        for (int r = 0; r < R; r++)
#pragma GCC unroll 8
            for (int u = 0; u < U; u++) xv[r * U + u] = FN(load_u8)(xp[r] + j + (size_t)u * NARROW_V);
        if (pf && (j & 63) < step)
#pragma GCC unroll 8
            for (int r = 0; r < R; r++) __builtin_prefetch(xn[r] + (j & ~63u), 0, 3);
        const T *wq = wj;
#pragma GCC unroll 10
        for (int q = 0; q < Q; q++) {
#pragma GCC unroll 8
            for (int u = 0; u < U; u++) {
                FN(vec) w = FN(load_t)(wq + (size_t)u * NARROW_V);
                NARROW_KEEP(w);
#pragma GCC unroll 4
                for (int r = 0; r < R; r++) acc[(r * Q + q) * U + u] += xv[r * U + u] * w;
            }
            wq += d;
            NARROW_OPAQUE(wq);
        }
    }
    for (; j + NARROW_V <= d; j += NARROW_V, wj += NARROW_V) { /* leftover vectors, into u = 0 */
        FN(vec) xv[4];
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) xv[r] = FN(load_u8)(xp[r] + j);
        const T *wq = wj;
#pragma GCC unroll 10
        for (int q = 0; q < Q; q++) {
            FN(vec) w = FN(load_t)(wq);
            NARROW_KEEP(w);
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) acc[(r * Q + q) * U] += xv[r] * w;
            wq += d;
            NARROW_OPAQUE(wq);
        }
    }
    FN(vec) sum[NARROW_ACC];
#pragma GCC unroll 24
    for (int a = 0; a < R * Q; a++) {
        sum[a] = acc[a * U];
#pragma GCC unroll 8
        for (int u = 1; u < U; u++) sum[a] += acc[a * U + u];
    }
    FN(hsums)(sum, R * Q, out);
    for (; j < d; j++) /* tail columns */
        for (int r = 0; r < R; r++)
            for (int q = 0; q < Q; q++) out[r * Q + q] += (T)xp[r][j] * Wg[(size_t)q * d + j];
}

#if defined(NARROW_STRIDED)
#ifndef NARROW_STRIP
#define NARROW_STRIP 2048
#endif
/* fwd_tile for f64 and one output over columns [c, c + n) (n a multiple of
 * 64), the weights wt in strided order (wt[64 b + 8 k + l] = W[c + 64 b +
 * 8 l + k] 2^-8k): out[r] = the partial dot products. */
static inline __attribute__((always_inline)) void FN(fwd_tile_strided)(const uint8_t *const *xp, const double *wt,
                                                                       uint32_t c, uint32_t n, const int R,
                                                                       double *out)
{
    const int A = R == 1 ? 8 : 2; /* accumulators per row */
    __m512d acc[8];
#pragma GCC unroll 8
    for (int a = 0; a < R * A; a++) acc[a] = _mm512_setzero_pd();
    for (uint32_t bl = 0; bl < n; bl += 64) {
        __m512i v[4];
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) v[r] = _mm512_loadu_si512((const void *)(xp[r] + c + bl));
#pragma GCC unroll 8
        for (int k = 0; k < 8; k++) {
            __m512d w = _mm512_load_pd(wt + bl + 8 * k);
            NARROW_KEEP(w);
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) acc[r * A + k % A] = _mm512_fmadd_pd(narrow_px8(v[r], k), w, acc[r * A + k % A]);
        }
    }
    FN(vec) sum[4];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
        __m512d t = acc[r * A];
#pragma GCC unroll 8
        for (int a = 1; a < A; a++) t = _mm512_add_pd(t, acc[r * A + a]);
        memcpy(&sum[r], &t, sizeof t);
    }
    FN(hsums)(sum, R, (T *)(void *)out);
}

/* fwd_group for f64 and one output: strips of NARROW_STRIP columns whose
 * weights go to the stack in strided order (an 8 x 8 transpose and a
 * power-of-2 scale per 64 columns, once per strip and block of rows), the
 * partial sums in Z; the last d % 64 columns the plain way. */
static void FN(fwd_q1_strided)(const uint8_t *const *xr, uint32_t nb, uint32_t d, uint32_t K, uint32_t k0,
                               const T *W, const T *b, T s, T *Z)
{
    double wt[NARROW_STRIP] __attribute__((aligned(64)));
    const double *w = (const double *)(const void *)(W + (size_t)k0 * d);
    const uint32_t d64 = d & ~63u;
    double out[4];
    for (uint32_t c = 0; c < d64; c += NARROW_STRIP) {
        const uint32_t n = d64 - c < NARROW_STRIP ? d64 - c : NARROW_STRIP;
        for (uint32_t bl = 0; bl < n; bl += 64) {
            __m512d m[8];
            for (int l = 0; l < 8; l++) m[l] = _mm512_loadu_pd(w + c + bl + 8 * l);
            narrow_transpose8(m);
            double sk = 1;
            for (int k = 0; k < 8; k++, sk *= 1.0 / 256) _mm512_store_pd(wt + bl + 8 * k, _mm512_mul_pd(m[k], _mm512_set1_pd(sk)));
        }
        uint32_t i = 0;
        for (; i + 4 <= nb; i += 4) {
            FN(fwd_tile_strided)(xr + i, wt, c, n, 4, out);
            for (uint32_t r = 0; r < 4; r++) {
                T *z = Z + (size_t)(i + r) * K + k0;
                *z = (c == 0 ? 0 : *z) + (T)out[r];
            }
        }
        for (; i < nb; i++) {
            FN(fwd_tile_strided)(xr + i, wt, c, n, 1, out);
            T *z = Z + (size_t)i * K + k0;
            *z = (c == 0 ? 0 : *z) + (T)out[0];
        }
    }
    for (uint32_t i = 0; i < nb; i++) { /* columns [d64, d) */
        T *z = Z + (size_t)i * K + k0, a = d64 == 0 ? 0 : *z;
        uint32_t j = d64;
        if (d - d64 >= NARROW_V) {
            const uint8_t *xs = xr[i] + d64;
            T part;
            FN(fwd_tile)(&xs, &xs, W + (size_t)k0 * d + d64, d - d64, 1, 1, 8, false, &part);
            a += part;
            j = d;
        }
        for (; j < d; j++) a += (T)xr[i][j] * W[(size_t)k0 * d + j];
        *z = b[k0] + s * a;
    }
}
#endif

/* Z[i][k0..k0+Q) for all rows: tiles of narrow_fwd_rows(Q) rows, the rest
 * one row at a time. */
static inline __attribute__((always_inline)) void FN(fwd_group)(const uint8_t *const *xr, uint32_t nb, uint32_t d,
                                                                uint32_t K, uint32_t k0, const int Q, const T *W,
                                                                const T *b, T s, T *Z)
{
#if defined(NARROW_STRIDED)
    if (sizeof(T) == 8 && Q == 1 && d >= 64) {
        FN(fwd_q1_strided)(xr, nb, d, K, k0, W, b, s, Z);
        return;
    }
#endif
    const int R = narrow_fwd_rows(Q);
    const T *Wg = W + (size_t)k0 * d;
    const int U = narrow_fwd_unroll(R, Q);
    T out[4 * NARROW_QMAX];
    uint32_t i = 0;
    for (; i + (uint32_t)R <= nb; i += (uint32_t)R) {
        if (d <= NARROW_PF && i + 2 * (uint32_t)R <= nb)
            FN(fwd_tile)(xr + i, xr + i + R, Wg, d, R, Q, U, true, out);
        else
            FN(fwd_tile)(xr + i, xr + i, Wg, d, R, Q, U, false, out);
        for (int r = 0; r < R; r++)
            for (int q = 0; q < Q; q++) Z[(size_t)(i + (uint32_t)r) * K + k0 + (uint32_t)q] = b[k0 + q] + s * out[r * Q + q];
    }
    for (; i < nb; i++) {
        FN(fwd_tile)(xr + i, xr + i, Wg, d, 1, Q, narrow_fwd_unroll(1, Q), false, out);
        for (int q = 0; q < Q; q++) Z[(size_t)i * K + k0 + (uint32_t)q] = b[k0 + q] + s * out[q];
    }
}

/* Outputs split into ng groups as even as can be (K = 16, ng = 2: 8 + 8);
 * the first output of group g. */
static inline uint32_t FN(group_start)(uint32_t K, uint32_t ng, uint32_t g)
{
    return (uint32_t)((uint64_t)K * g / ng);
}
/* Z (nb x K) = b + s * X W^T for the rows xr[0..nb). */
static void FN(narrow_forward)(const uint8_t *const *xr, uint32_t nb, uint32_t d, uint32_t K, const T *W,
                               const T *b, T s, T *Z)
{
    uint32_t ng = (K + NARROW_QMAX - 1) / NARROW_QMAX;
    for (uint32_t g = 0, k0 = 0; k0 < K; g++) {
        uint32_t k1 = FN(group_start)(K, ng, g + 1);
        switch (k1 - k0) {
        case 1: FN(fwd_group)(xr, nb, d, K, k0, 1, W, b, s, Z); break;
        case 2: FN(fwd_group)(xr, nb, d, K, k0, 2, W, b, s, Z); break;
        case 3: FN(fwd_group)(xr, nb, d, K, k0, 3, W, b, s, Z); break;
        case 4: FN(fwd_group)(xr, nb, d, K, k0, 4, W, b, s, Z); break;
        case 5: FN(fwd_group)(xr, nb, d, K, k0, 5, W, b, s, Z); break;
        case 6: FN(fwd_group)(xr, nb, d, K, k0, 6, W, b, s, Z); break;
        case 7: FN(fwd_group)(xr, nb, d, K, k0, 7, W, b, s, Z); break;
        case 8: FN(fwd_group)(xr, nb, d, K, k0, 8, W, b, s, Z); break;
        case 9: FN(fwd_group)(xr, nb, d, K, k0, 9, W, b, s, Z); break;
        default: FN(fwd_group)(xr, nb, d, K, k0, 10, W, b, s, Z); break;
        }
        k0 = k1;
    }
}

/* gW rows [0, Q) (stride d; the group's first row) at columns j.. (U
 * vectors) += s * sum over the rows of dZ[i][q] x[i][..]: Q * U
 * accumulators.  The loop order keeps the fewer of the U converted vectors
 * or the Q broadcast dZ values live. */
static inline __attribute__((always_inline)) void FN(bwd_tile)(const uint8_t *const *xr, uint32_t nb, uint32_t K,
                                                               const T *dZ, const int Q, const int U, uint32_t j,
                                                               T s, T *gW, uint32_t d)
{
    FN(vec) acc[NARROW_ACC];
#pragma GCC unroll 24
    for (int a = 0; a < Q * U; a++) acc[a] = (FN(vec)){0};
    for (uint32_t i = 0; i < nb; i++) {
        const uint8_t *x = xr[i] + j;
        NARROW_OPAQUE(x); /* else GCC hoists j + u * V out of the row loop:
                           * U registers, spilled */
        const T *dz = dZ + (size_t)i * K;
        if (U >= Q) {
#pragma GCC unroll 16
            for (int u = 0; u < U; u++) {
                FN(vec) xv = FN(load_u8)(x + (size_t)u * NARROW_V);
#pragma GCC unroll 10
                for (int q = 0; q < Q; q++) acc[q * U + u] += dz[q] * xv;
            }
        } else {
            FN(vec) xv[NARROW_XV];
#pragma GCC unroll 8
            for (int u = 0; u < U; u++) xv[u] = FN(load_u8)(x + (size_t)u * NARROW_V);
#pragma GCC unroll 10
            for (int q = 0; q < Q; q++) {
                const T c = dz[q];
#pragma GCC unroll 8
                for (int u = 0; u < U; u++) acc[q * U + u] += c * xv[u];
            }
        }
    }
#pragma GCC unroll 10
    for (int q = 0; q < Q; q++)
#pragma GCC unroll 16
        for (int u = 0; u < U; u++) {
            T *g = gW + (size_t)q * d + j + (size_t)u * NARROW_V;
            FN(vec) gv = FN(load_t)(g) + s * acc[q * U + u];
            memcpy(g, &gv, sizeof gv);
        }
}

#if defined(NARROW_STRIDED)
/* bwd_tile for f64 and Q = 1 or 2, NB blocks of 64 columns at j, pixels
 * in strided order (narrow_px8): Q * NB * 8 accumulators, each block
 * transposed back into column order at the end. */
static inline __attribute__((always_inline)) void FN(bwd_tile_strided)(const uint8_t *const *xr, uint32_t nb,
                                                                       uint32_t K, const T *dZ, const int Q,
                                                                       const int NB, uint32_t j, T s, T *gW,
                                                                       uint32_t d)
{
    __m512d acc[16];
#pragma GCC unroll 16
    for (int a = 0; a < Q * NB * 8; a++) acc[a] = _mm512_setzero_pd();
    for (uint32_t i = 0; i < nb; i++) {
        const uint8_t *x = xr[i] + j;
        NARROW_OPAQUE(x);
        const double *dz = (const double *)(const void *)(dZ + (size_t)i * K);
#pragma GCC unroll 2
        for (int bl = 0; bl < NB; bl++) {
            __m512i v = _mm512_loadu_si512((const void *)(x + 64 * bl));
#pragma GCC unroll 8
            for (int k = 0; k < 8; k++) {
                __m512d xk = narrow_px8(v, k);
#pragma GCC unroll 2
                for (int q = 0; q < Q; q++)
                    acc[(q * NB + bl) * 8 + k] = _mm512_fmadd_pd(_mm512_set1_pd(dz[q]), xk, acc[(q * NB + bl) * 8 + k]);
            }
        }
    }
#pragma GCC unroll 2
    for (int q = 0; q < Q; q++)
#pragma GCC unroll 2
        for (int bl = 0; bl < NB; bl++) {
            __m512d *a = acc + (q * NB + bl) * 8;
            double sk = (double)s;
#pragma GCC unroll 8
            for (int k = 0; k < 8; k++, sk *= 1.0 / 256) a[k] = _mm512_mul_pd(a[k], _mm512_set1_pd(sk));
            narrow_transpose8(a);
            double *g = (double *)(void *)(gW + (size_t)q * d + j + 64 * (uint32_t)bl);
#pragma GCC unroll 8
            for (int l = 0; l < 8; l++) _mm512_storeu_pd(g + 8 * l, _mm512_add_pd(_mm512_loadu_pd(g + 8 * l), a[l]));
        }
}
#endif

static inline __attribute__((always_inline)) void FN(bwd_group)(const uint8_t *const *xr, uint32_t nb, uint32_t d,
                                                                uint32_t K, uint32_t k0, const int Q, const T *dZ,
                                                                T s, T *gW)
{
    const int U = narrow_bwd_unroll(Q);
    const uint32_t wide = (uint32_t)U * NARROW_V;
    T *g = gW + (size_t)k0 * d;
    uint32_t j = 0;
#if defined(NARROW_STRIDED)
    if (sizeof(T) == 8 && Q <= 2) {
        /* 16 accumulators: 128 columns for one output, 64 for two */
        for (; Q == 1 && j + 128 <= d; j += 128) FN(bwd_tile_strided)(xr, nb, K, dZ + k0, 1, 2, j, s, g, d);
        for (; j + 64 <= d; j += 64) FN(bwd_tile_strided)(xr, nb, K, dZ + k0, Q, 1, j, s, g, d);
    }
#endif
    for (; j + wide <= d; j += wide) FN(bwd_tile)(xr, nb, K, dZ + k0, Q, U, j, s, g, d);
    for (; j + NARROW_V <= d; j += NARROW_V) FN(bwd_tile)(xr, nb, K, dZ + k0, Q, 1, j, s, g, d);
    for (; j < d; j++) /* tail columns */
        for (int q = 0; q < Q; q++) {
            T a = 0;
            for (uint32_t i = 0; i < nb; i++) a += dZ[(size_t)i * K + k0 + (uint32_t)q] * (T)xr[i][j];
            g[(size_t)q * d + j] += s * a;
        }
}

/* gW (K x d) += s * dZ^T X for the rows xr[0..nb). */
static void FN(narrow_backward)(const uint8_t *const *xr, uint32_t nb, uint32_t d, uint32_t K, const T *dZ, T s,
                                T *gW)
{
    uint32_t ng = (K + NARROW_QMAX - 1) / NARROW_QMAX;
    for (uint32_t g = 0, k0 = 0; k0 < K; g++) {
        uint32_t k1 = FN(group_start)(K, ng, g + 1);
        switch (k1 - k0) {
        case 1: FN(bwd_group)(xr, nb, d, K, k0, 1, dZ, s, gW); break;
        case 2: FN(bwd_group)(xr, nb, d, K, k0, 2, dZ, s, gW); break;
        case 3: FN(bwd_group)(xr, nb, d, K, k0, 3, dZ, s, gW); break;
        case 4: FN(bwd_group)(xr, nb, d, K, k0, 4, dZ, s, gW); break;
        case 5: FN(bwd_group)(xr, nb, d, K, k0, 5, dZ, s, gW); break;
        case 6: FN(bwd_group)(xr, nb, d, K, k0, 6, dZ, s, gW); break;
        case 7: FN(bwd_group)(xr, nb, d, K, k0, 7, dZ, s, gW); break;
        case 8: FN(bwd_group)(xr, nb, d, K, k0, 8, dZ, s, gW); break;
        case 9: FN(bwd_group)(xr, nb, d, K, k0, 9, dZ, s, gW); break;
        default: FN(bwd_group)(xr, nb, d, K, k0, 10, dZ, s, gW); break;
        }
        k0 = k1;
    }
}
