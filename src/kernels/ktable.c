/* SPDX-License-Identifier: MIT */
/* The kernel tables (ktable.h): what the CPU and the OS can run, found once
 * per process, and one table per instruction-set variant, filled once. */
#include "kernels/ktable.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#if defined(__x86_64__) && defined(__GNUC__)
#define MLP_KT_X86 1
#include <cpuid.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#define MLP_KT_ARM 1
#include <sys/auxv.h>
#endif

/* The Linux aarch64 hardware-capability bits (<asm/hwcap.h>), spelt out so
 * that mlp__qk_hwcap_features builds (and is tested) on every target. */
#define KT_HWCAP_ASIMD (1ul << 1)
#define KT_HWCAP_ASIMDDP (1ul << 20)
#define KT_HWCAP2_I8MM (1ul << 13)
#define KT_HWCAP2_BF16 (1ul << 14)

const char *const mlp__kslot_names[MLP_KS_COUNT] = {"gemm", "narrow", "activations", "adam",
                                                     "quant-f32", "quant-bf16", "quant-int8"};

/* ------------------------------------------------------------ detection */

/* Which variants this machine runs: runs[isa]. */
static bool runs[MLP_ISA_LAST + 1];
/* Quantised-kernel features beyond the variant's own: MLP_QK_HAS_AVXVNNI,
 * added to every variant from AVX2 up; dotprod, i8mm, bf16 to NEON's. */
static unsigned qk_extra;

#ifdef MLP_KT_X86
/* The register state the OS saves on a context switch (XCR0), 0 when the
 * OS has not enabled XSAVE (then no AVX state is saved either). */
static uint64_t os_xcr0(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE)) return 0;
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}
#endif

static void detect(void)
{
    runs[MLP_ISA_PORTABLE] = true;
#ifdef MLP_KT_X86
    __builtin_cpu_init();
    const uint64_t xcr0 = os_xcr0();
    /* AVX: the xmm and ymm halves (bits 1, 2); AVX-512 also opmask, the
     * upper zmm halves and zmm16-31 (bits 5, 6, 7). */
    const bool os_avx = (xcr0 & 0x6) == 0x6, os_avx512 = (xcr0 & 0xe6) == 0xe6;
    const bool avx2 = os_avx && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    const bool avx512 = avx2 && os_avx512 && __builtin_cpu_supports("avx512f") &&
                        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
                        __builtin_cpu_supports("avx512vl");
    const bool vnni = avx512 && __builtin_cpu_supports("avx512vnni");
    runs[MLP_ISA_AVX2] = avx2;
    runs[MLP_ISA_AVX512] = avx512;
    runs[MLP_ISA_AVX512_VNNI] = vnni;
    runs[MLP_ISA_AVX512_BF16] = vnni && __builtin_cpu_supports("avx512bf16");
    /* AVX-VNNI (VEX vpdpbusd on ymm) is a feature of the quantised kernels
     * only, not a variant of its own: every variant from AVX2 up gets it */
    unsigned a7 = 0, b7, c7, d7;
    if (avx2 && !__get_cpuid_count(7, 1, &a7, &b7, &c7, &d7)) a7 = 0;
    qk_extra = avx2 ? mlp__qk_cpuid_features(a7) : 0;
#endif
#ifdef MLP_KT_ARM
    /* Advanced SIMD is part of every aarch64 CPU Linux runs on (the ABI's
     * floating point lives in its registers); the bit is checked anyway */
    const unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
    runs[MLP_ISA_NEON] = (hw & KT_HWCAP_ASIMD) != 0;
    qk_extra = runs[MLP_ISA_NEON] ? mlp__qk_hwcap_features(hw, hw2) : 0;
#endif
}

unsigned mlp__qk_cpuid_features(uint32_t leaf7_sub1_eax)
{
    return (leaf7_sub1_eax >> 4 & 1u) ? MLP_QK_HAS_AVXVNNI : 0u;
}

unsigned mlp__qk_hwcap_features(unsigned long hwcap, unsigned long hwcap2)
{
    return (hwcap & KT_HWCAP_ASIMDDP ? MLP_QK_HAS_DOTPROD : 0u) | (hwcap2 & KT_HWCAP2_I8MM ? MLP_QK_HAS_I8MM : 0u) |
           (hwcap2 & KT_HWCAP2_BF16 ? MLP_QK_HAS_ARM_BF16 : 0u);
}

/* ---------------------------------------------------------------- tables */

static struct mlp_ktable tables[MLP_ISA_LAST + 1];
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* The vector slots of one instruction set, both element types. */
static void fill_vec(struct mlp_ktable *t, void (*f32)(struct mlp_ktable *), void (*f64)(struct mlp_ktable *),
                     const char *variant)
{
    f32(t);
    f64(t);
    t->variant[MLP_KS_NARROW] = t->variant[MLP_KS_ACT] = t->variant[MLP_KS_ADAM] = variant;
}

static void fill(struct mlp_ktable *t, enum mlp_isa isa)
{
    t->isa = isa;
    t->variant[MLP_KS_GEMM] = "blas";
    t->gemm_f32 = mlp__gemm_f32;
    t->gemm_f64 = mlp__gemm_f64;
    switch (isa) {
#ifdef MLP_KT_X86
    /* every variant from AVX2 up runs the quantised kernels' AVX2 (or
     * AVX-VNNI) versions where it has no AVX-512 kernel (mlp__qk_select) */
    case MLP_ISA_AVX2:
        t->qk_features = MLP_QK_HAS_AVX2;
        fill_vec(t, mlp__kt_fill_avx2_f32, mlp__kt_fill_avx2_f64, "avx2");
        break;
    case MLP_ISA_AVX512:
        t->qk_features = MLP_QK_HAS_AVX2 | MLP_QK_HAS_AVX512;
        fill_vec(t, mlp__kt_fill_avx512_f32, mlp__kt_fill_avx512_f64, "avx512");
        break;
    case MLP_ISA_AVX512_VNNI:
        t->qk_features = MLP_QK_HAS_AVX2 | MLP_QK_HAS_AVX512 | MLP_QK_HAS_AVX512_VNNI;
        fill_vec(t, mlp__kt_fill_avx512_f32, mlp__kt_fill_avx512_f64, "avx512");
        break;
    case MLP_ISA_AVX512_BF16:
        t->qk_features = MLP_QK_HAS_AVX2 | MLP_QK_HAS_AVX512 | MLP_QK_HAS_AVX512_VNNI | MLP_QK_HAS_AVX512_BF16;
        fill_vec(t, mlp__kt_fill_avx512_f32, mlp__kt_fill_avx512_f64, "avx512");
        break;
#endif
#ifdef MLP_KT_ARM
    case MLP_ISA_NEON:
        t->qk_features = MLP_QK_HAS_NEON | qk_extra;
        fill_vec(t, mlp__kt_fill_neon_f32, mlp__kt_fill_neon_f64, "neon");
        break;
#endif
    default: fill_vec(t, mlp__kt_fill_portable_f32, mlp__kt_fill_portable_f64, "portable"); break;
    }
    if (t->qk_features & MLP_QK_HAS_AVX2) t->qk_features |= qk_extra;
    for (int q = 0; q < MLP_Q_COUNT; q++) {
        t->qk[q] = mlp__qk_select((enum mlp_qtype)q, t->qk_features);
        t->variant[MLP_KS_Q_F32 + q] = t->qk[q].name;
    }
}

static void init(void)
{
    detect();
    /* Only the variants this machine runs: each variant's fill is compiled
     * for its instruction set and may itself use it. */
    for (int i = MLP_ISA_PORTABLE; i <= MLP_ISA_LAST; i++)
        if (runs[i]) fill(&tables[i], (enum mlp_isa)i);
}

static const char *const missing[] = {
    [MLP_ISA_AVX2] = "AVX2 and FMA, and an OS that saves the ymm registers",
    [MLP_ISA_AVX512] = "AVX-512 F, BW, DQ and VL, and an OS that saves the zmm registers",
    [MLP_ISA_AVX512_VNNI] = "AVX-512 F, BW, DQ, VL and VNNI, and an OS that saves the zmm registers",
    [MLP_ISA_AVX512_BF16] = "AVX-512 F, BW, DQ, VL, VNNI and BF16, and an OS that saves the zmm registers",
    [MLP_ISA_NEON] = "an aarch64 CPU with Advanced SIMD",
};

const struct mlp_ktable *mlp__ktable(enum mlp_isa want, struct mlp_error *err)
{
    pthread_once(&once, init);
    if (want == MLP_ISA_AUTO) {
        for (int i = MLP_ISA_LAST; i > MLP_ISA_PORTABLE; i--)
            if (runs[i]) return &tables[i];
        return &tables[MLP_ISA_PORTABLE];
    }
    if ((unsigned)want > MLP_ISA_LAST) {
        mlp__fail(err, MLP_ERR_ARG, "isa %d: not an instruction set", (int)want);
        return NULL;
    }
    if (runs[want]) return &tables[want];
    char can[96] = "portable";
    size_t len = 8;
    for (int i = MLP_ISA_AVX2; i <= MLP_ISA_LAST; i++)
        if (runs[i] && len < sizeof can) len += (size_t)snprintf(can + len, sizeof can - len, ", %s", mlp_isa_name((enum mlp_isa)i));
    mlp__fail(err, MLP_ERR_ARG, "isa %s: this CPU cannot run it (it needs %s); this one runs: %s",
              mlp_isa_name(want), missing[want], can);
    return NULL;
}

static const char *const isa_names[] = {"auto", "portable", "avx2", "avx512", "avx512-vnni", "avx512-bf16", "neon"};

const char *mlp_isa_name(enum mlp_isa i) { return (unsigned)i <= MLP_ISA_LAST ? isa_names[i] : "?"; }

int mlp_isa_parse(const char *s)
{
    for (int i = 0; i <= MLP_ISA_LAST; i++)
        if (strcasecmp(s, isa_names[i]) == 0) return i;
    return -1;
}
