/* SPDX-License-Identifier: MIT */
/* The AVX-VNNI int8 kernels (kernels/qk_avx2_simd.c) on a CPU without
 * AVX-VNNI: the file is compiled again into this test with vpdpbusd's
 * intrinsic replaced by an exact AVX2 emulation (each of the four u8 x s8
 * products widened to int32, vpmulld, added), and its kernels renamed, so
 * that everything else in them -- the tiles, remainders, epilogue, loads --
 * runs here against the portable kernels: the same int32 sums and the same
 * output bits, at odd shapes and at the extremes (0/255 x -127/127).
 * mlp__qk_select's choice of them is test_ktable's (qk_selection); on a CPU
 * with AVX-VNNI test_quant runs the real ones.  The emulation is written
 * with 32-bit multiplies on purpose: a vpmaddwd + vpaddd pair could be
 * fused by the compiler into AVX-VNNI's vpdpwssd in these functions. */
/* the file's kernels under other names (the library's are linked in too),
 * their prototypes in qkernels.h included here renamed with them */
#if defined(__x86_64__) && defined(__GNUC__) && defined(__AVX2__)
#define mlp__qk_f32_avx2 emu_f32_avx2
#define mlp__qk_bf16_avx2 emu_bf16_avx2
#define mlp__qk_i8_avx2 emu_i8_avx2
#define mlp__qk_i8g_avx2 emu_i8g_avx2
#define mlp__qk_i8_avxvnni emu_i8_avxvnni
#define mlp__qk_i8g_avxvnni emu_i8g_avxvnni
#define mlp__qk_range_avx2 emu_range_avx2
#define mlp__qk_u8q_avx2 emu_u8q_avx2
#define mlp__qk_sigmoid_avx2 emu_sigmoid_avx2
#endif
#include "kernels/ktable.h"
#include "internal.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__) && defined(__AVX2__)
#include <immintrin.h>

static inline __m256i emu_dpbusd(__m256i acc, __m256i a, __m256i b)
{
    const __m256i m = _mm256_set1_epi32(0xff);
    __m256i a0 = _mm256_and_si256(a, m), a1 = _mm256_and_si256(_mm256_srli_epi32(a, 8), m);
    __m256i a2 = _mm256_and_si256(_mm256_srli_epi32(a, 16), m), a3 = _mm256_srli_epi32(a, 24);
    __m256i b0 = _mm256_srai_epi32(_mm256_slli_epi32(b, 24), 24), b1 = _mm256_srai_epi32(_mm256_slli_epi32(b, 16), 24);
    __m256i b2 = _mm256_srai_epi32(_mm256_slli_epi32(b, 8), 24), b3 = _mm256_srai_epi32(b, 24);
    acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(a0, b0));
    acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(a1, b1));
    acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(a2, b2));
    return _mm256_add_epi32(acc, _mm256_mullo_epi32(a3, b3));
}

#define _mm256_dpbusd_avx_epi32 emu_dpbusd
#include "kernels/qk_avx2_simd.c"
#define HAVE_EMU 1
#endif

#ifdef HAVE_EMU
static struct mlp_rng rng;

static int8_t wval(int mode)
{
    return mode == 1 ? 127 : mode == 2 ? (mlp__rng_below(&rng, 2) ? -127 : 127) : (int8_t)((int)mlp__rng_below(&rng, 255) - 127);
}
static uint8_t xval(int mode)
{
    return mode == 1 ? 255 : mode == 2 ? (mlp__rng_below(&rng, 4) ? 255 : 0) : (uint8_t)mlp__rng_below(&rng, 256);
}

/* The panel kernel: N rows of K inputs in qkernels.h's panels, ns samples,
 * over all panels and over two halves of them. */
static void panel_case(uint32_t K, uint32_t N, uint32_t ns, int mode)
{
    const uint32_t kp = (K + 63) / 64 * 64, np = (N + 3) / 4;
    const size_t stride = 4 * (size_t)kp, ldx = kp + 64, ldy = 4 * (size_t)np + 3;
    int8_t *w = mlp__acalloc((size_t)np * stride);
    uint8_t *x = malloc(ns * ldx);
    int32_t *yp = malloc(ns * ldy * 4), *yk = malloc(ns * ldy * 4);
    for (uint32_t j = 0; j < N; j++)
        for (uint32_t i = 0; i < K; i++) w[(size_t)(j / 4) * stride + ((size_t)(i / 64) * 4 + j % 4) * 64 + i % 64] = wval(mode);
    for (size_t i = 0; i < ns * ldx; i++) x[i] = xval(mode); /* padding too: any value */
    mlp__qk_i8_portable(w, stride, kp / 64, 0, np, x, ldx, ns, yp, ldy);
    for (int split = 0; split < 2; split++) {
        memset(yk, 0x55, ns * ldy * 4);
        const uint32_t mid = split ? np / 2 : np;
        if (mid) emu_i8_avxvnni(w, stride, kp / 64, 0, mid, x, ldx, ns, yk, ldy);
        if (mid < np) emu_i8_avxvnni(w, stride, kp / 64, mid, np, x, ldx, ns, yk, ldy);
        for (uint32_t s = 0; s < ns; s++)
            CHECK_MSG(memcmp(yk + s * ldy, yp + s * ldy, 4 * (size_t)np * 4) == 0 && yk[s * ldy + 4 * np] == 0x55555555,
                      "avx-vnni (emulated) i8 K=%u N=%u ns=%u mode %d: sample %u differs", K, N, ns, mode, s);
    }
    mlp__afree(w);
    free(x), free(yp), free(yk);
}

/* The batch kernel with its epilogue, against the portable one: the same bits. */
static void batch_case(uint32_t K, uint32_t N, uint32_t ns, int relu, int mode)
{
    const uint32_t k4 = (K + 3) / 4, ng = (N + 15) / 16;
    const size_t ldx = 4 * (size_t)k4 + 5, ldy = 16 * (size_t)ng + 3;
    int8_t *w = mlp__acalloc((size_t)ng * k4 * 64);
    int32_t *rs = calloc(16 * (size_t)ng, 4), *zx = malloc(ns * 4);
    float *ws = calloc(16 * (size_t)ng, 4), *b = calloc(16 * (size_t)ng, 4), *sx = malloc(ns * 4);
    float *yp = malloc(ns * ldy * 4), *yk = malloc(ns * ldy * 4);
    uint8_t *x = malloc(ns * ldx);
    for (uint32_t j = 0; j < N; j++) {
        for (uint32_t i = 0; i < K; i++) {
            int8_t q = wval(mode);
            w[((size_t)(j / 16) * k4 + i / 4) * 64 + (j % 16) * 4 + i % 4] = q;
            rs[j] += q;
        }
        ws[j] = (float)(0.01 * mlp__rng_uniform(&rng));
        b[j] = (float)(mlp__rng_uniform(&rng) - 0.5);
    }
    for (uint32_t s = 0; s < ns; s++) {
        for (size_t i = 0; i < ldx; i++) x[s * ldx + i] = xval(mode);
        sx[s] = (float)(0.001 + 0.1 * mlp__rng_uniform(&rng));
        zx[s] = (int32_t)mlp__rng_below(&rng, 256);
    }
    const struct mlp_qk_i8g_layer L = {.w = w, .k4 = k4, .ng = ng, .rowsum = rs, .wscale = ws, .bias = b};
    mlp__qk_i8g_portable(&L, x, ldx, ns, sx, zx, relu, yp, ldy);
    memset(yk, 0xff, ns * ldy * 4);
    emu_i8g_avxvnni(&L, x, ldx, ns, sx, zx, relu, yk, ldy);
    for (uint32_t s = 0; s < ns; s++)
        CHECK_MSG(memcmp(yk + s * ldy, yp + s * ldy, 16 * (size_t)ng * 4) == 0 && yk[s * ldy + 16 * ng] != 0,
                  "avx-vnni (emulated) i8g K=%u N=%u ns=%u relu=%d mode %d: sample %u differs (or overran)", K, N,
                  ns, relu, mode, s);
    mlp__afree(w);
    free(rs), free(zx), free(ws), free(b), free(sx), free(yp), free(yk), free(x);
}
#endif

int main(void)
{
#ifdef HAVE_EMU
    if (!(mlp__ktable(MLP_ISA_AUTO, NULL)->qk_features & MLP_QK_HAS_AVX2)) {
        printf("test_qk_vnni_emu: skipped (no AVX2 here to run the emulation on)\n");
        return 0;
    }
    mlp__rng_seed(&rng, 14);
    const uint32_t Ks[] = {1, 7, 63, 64, 65, 100, 1000}, Ns[] = {1, 4, 5, 17};
    for (size_t a = 0; a < sizeof Ks / sizeof *Ks; a++)
        for (size_t c = 0; c < sizeof Ns / sizeof *Ns; c++)
            for (uint32_t ns = 1; ns <= MLP_QK_MAX_NS; ns++)
                for (int mode = 0; mode < 3; mode++) panel_case(Ks[a], Ns[c], ns, mode);
    panel_case(MLP_QK_I8_MAX_K, 4, 2, 1); /* the largest block at the extremes */
    const uint32_t Kg[] = {1, 3, 4, 5, 65, 130, 784}, Ng[] = {1, 15, 16, 17, 33, 100};
    for (size_t a = 0; a < sizeof Kg / sizeof *Kg; a++)
        for (size_t c = 0; c < sizeof Ng / sizeof *Ng; c++)
            for (uint32_t ns = 1; ns <= 13; ns += 1 + (ns > 6)) batch_case(Kg[a], Ng[c], ns, (int)(ns % 2), (int)(ns % 3));
    batch_case(300, 70, 70, 1, 2);
    batch_case(17000, 20, 7, 0, 1);
    printf("test_qk_vnni_emu: the AVX-VNNI kernels' code, vpdpbusd emulated, gives the portable bits\n");
#else
    printf("test_qk_vnni_emu: skipped (not x86-64 with GCC-style intrinsics)\n");
#endif
    return check_report("test_qk_vnni_emu");
}
