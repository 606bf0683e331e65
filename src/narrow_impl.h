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
 * GCC vector extensions, not intrinsics: the same source becomes AVX-512
 * with -march=native on this machine and SSE2 or plain code elsewhere.
 * Summation order is fixed (lanes, then the tail), so results are
 * deterministic; they differ from the GEMM path only by rounding. */

typedef T FN(vec) __attribute__((vector_size(NARROW_V * sizeof(T))));

/* NARROW_V pixels to T.  GCC 12 turns __builtin_convertvector from uint8
 * into scalar conversions, so the AVX-512 build says what it wants:
 * vpmovzxbd + vcvtdq2ps/pd. */
static inline FN(vec) FN(load_u8)(const uint8_t *p)
{
#if defined(__AVX512F__)
    if (sizeof(T) == 4) {
        __m512 v = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(const void *)p)));
        FN(vec) r;
        memcpy(&r, &v, sizeof r);
        return r;
    } else {
        __m512d v = _mm512_cvtepi32_pd(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)p)));
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

static inline T FN(hsum)(FN(vec) v)
{
    T s = 0;
    for (int l = 0; l < NARROW_V; l++) s += v[l];
    return s;
}

/* Four rows (xp) against nq (1..4, a constant after inlining) weight rows. */
static inline __attribute__((always_inline)) void FN(narrow_fwd4)(const uint8_t *const xp[4], const T *const wp[4],
                                                                  int nq, uint32_t d, T out[4][4])
{
    FN(vec) acc[4][4];
    for (int r = 0; r < 4; r++)
        for (int q = 0; q < nq; q++) acc[r][q] = (FN(vec)){0};
    uint32_t j = 0;
    for (; j + NARROW_V <= d; j += NARROW_V) {
        FN(vec) xv[4];
        for (int r = 0; r < 4; r++) xv[r] = FN(load_u8)(xp[r] + j);
        for (int q = 0; q < nq; q++) {
            FN(vec) w = FN(load_t)(wp[q] + j);
            for (int r = 0; r < 4; r++) acc[r][q] += xv[r] * w;
        }
    }
    for (int r = 0; r < 4; r++)
        for (int q = 0; q < nq; q++) {
            T s = FN(hsum)(acc[r][q]);
            for (uint32_t jj = j; jj < d; jj++) s += (T)xp[r][jj] * wp[q][jj];
            out[r][q] = s;
        }
}

/* Z (nb x K) = b + s * X W^T for the rows xr[0..nb). */
static void FN(narrow_forward)(const uint8_t *const *xr, uint32_t nb, uint32_t d, uint32_t K, const T *W,
                               const T *b, T s, T *Z)
{
    for (uint32_t i0 = 0; i0 < nb; i0 += 4) {
        /* a short last group repeats its last row; only real rows are kept */
        const uint8_t *xp[4];
        for (uint32_t r = 0; r < 4; r++) xp[r] = xr[i0 + r < nb ? i0 + r : nb - 1];
        for (uint32_t k0 = 0; k0 < K; k0 += 4) {
            const T *wp[4];
            for (uint32_t q = 0; q < 4; q++) wp[q] = W + (size_t)(k0 + q < K ? k0 + q : K - 1) * d;
            T out[4][4];
            switch (K - k0) {
            case 1: FN(narrow_fwd4)(xp, wp, 1, d, out); break;
            case 2: FN(narrow_fwd4)(xp, wp, 2, d, out); break;
            case 3: FN(narrow_fwd4)(xp, wp, 3, d, out); break;
            default: FN(narrow_fwd4)(xp, wp, 4, d, out); break;
            }
            uint32_t nq = K - k0 < 4 ? K - k0 : 4;
            for (uint32_t r = 0; r < 4 && i0 + r < nb; r++)
                for (uint32_t q = 0; q < nq; q++) Z[(size_t)(i0 + r) * K + k0 + q] = b[k0 + q] + s * out[r][q];
        }
    }
}

/* dW rows k0..k0+nq (nq 1..4) at columns j.. (nv vectors, nv 1..8), over
 * all rows: nq * nv independent accumulators, so that the multiply-add
 * latency is hidden (one output needs eight vectors of columns). */
static inline __attribute__((always_inline)) void FN(narrow_bwd_tile)(const uint8_t *const *xr, uint32_t nb,
                                                                      uint32_t K, const T *dZ, uint32_t k0, int nq,
                                                                      uint32_t j, int nv, T s, T *gW, uint32_t d)
{
    FN(vec) acc[4][8];
    for (int q = 0; q < nq; q++)
        for (int v = 0; v < nv; v++) acc[q][v] = (FN(vec)){0};
    for (uint32_t i = 0; i < nb; i++) {
        FN(vec) x[8];
        for (int v = 0; v < nv; v++) x[v] = FN(load_u8)(xr[i] + j + (size_t)v * NARROW_V);
        const T *dz = dZ + (size_t)i * K + k0;
        for (int q = 0; q < nq; q++)
            for (int v = 0; v < nv; v++) acc[q][v] += dz[q] * x[v];
    }
    for (int q = 0; q < nq; q++)
        for (int v = 0; v < nv; v++) {
            T *g = gW + (size_t)(k0 + (uint32_t)q) * d + j + (size_t)v * NARROW_V;
            FN(vec) gv = FN(load_t)(g) + s * acc[q][v];
            memcpy(g, &gv, sizeof gv);
        }
}

/* gW (K x d) += s * dZ^T X for the rows xr[0..nb). */
static void FN(narrow_backward)(const uint8_t *const *xr, uint32_t nb, uint32_t d, uint32_t K, const T *dZ, T s,
                                T *gW)
{
    for (uint32_t k0 = 0; k0 < K; k0 += 4) {
        uint32_t nq = K - k0 < 4 ? K - k0 : 4;
        /* 16 accumulators at most: 8 vectors for 1-2 outputs, 4 for 3-4 */
        uint32_t wide = nq <= 2 ? 8 : 4, j = 0;
        for (; j + wide * NARROW_V <= d; j += wide * NARROW_V) {
            switch (nq) {
            case 1: FN(narrow_bwd_tile)(xr, nb, K, dZ, k0, 1, j, 8, s, gW, d); break;
            case 2: FN(narrow_bwd_tile)(xr, nb, K, dZ, k0, 2, j, 8, s, gW, d); break;
            case 3: FN(narrow_bwd_tile)(xr, nb, K, dZ, k0, 3, j, 4, s, gW, d); break;
            default: FN(narrow_bwd_tile)(xr, nb, K, dZ, k0, 4, j, 4, s, gW, d); break;
            }
        }
        for (; j + NARROW_V <= d; j += NARROW_V) { /* one vector at a time */
            switch (nq) {
            case 1: FN(narrow_bwd_tile)(xr, nb, K, dZ, k0, 1, j, 1, s, gW, d); break;
            case 2: FN(narrow_bwd_tile)(xr, nb, K, dZ, k0, 2, j, 1, s, gW, d); break;
            case 3: FN(narrow_bwd_tile)(xr, nb, K, dZ, k0, 3, j, 1, s, gW, d); break;
            default: FN(narrow_bwd_tile)(xr, nb, K, dZ, k0, 4, j, 1, s, gW, d); break;
            }
        }
        for (; j < d; j++) /* tail columns */
            for (uint32_t q = 0; q < nq; q++) {
                T a = 0;
                for (uint32_t i = 0; i < nb; i++) a += dZ[(size_t)i * K + k0 + q] * (T)xr[i][j];
                gW[(size_t)(k0 + q) * d + j] += s * a;
            }
    }
}
