/* SPDX-License-Identifier: MIT */
/* The machine's arithmetic limits, measured per instruction set the CPU can
 * run: how many multiply-adds one core and all cores retire per nanosecond
 * from unrolled loops of independent instructions on registers (no memory
 * traffic), the memory read bandwidth, and from those the least time each
 * reference workload's products can take.  BENCHMARKS.md's "% of peak"
 * figures come from here rather than from a nominal clock: these cores boost
 * well above their label.
 *
 *   avx2 (ymm, AVX2 + FMA): f64 and f32 FMA; u8*s8 dot products through
 *     vpmaddubsw + vpmaddwd (+ vpaddd to accumulate) and, where CPUID has
 *     AVX-VNNI, vpdpbusd ymm; bf16 emulated: bf16 -> f32 by a shift (and a
 *     mask for the odd half), then f32 FMA.
 *   avx512 (zmm): f64 and f32 FMA; vpdpbusd zmm (AVX-512 VNNI); vdpbf16ps
 *     zmm (AVX-512 BF16).
 *
 * Each loop is compiled for its instruction set alone
 * (__attribute__((target(...)))) and run only when CPUID says so
 * (__builtin_cpu_supports / the CPUID leaf), never because of the compile
 * flags: the default build runs on any x86-64 and says "not on this CPU"
 * for what it cannot run.
 *
 * Usage: bench_peak [THREADS [ITERS [MIB]]]
 *   THREADS  "all threads" (default: all online cores)
 *   ITERS    loop iterations per thread per measurement (default 20000000:
 *            240M instructions, ~0.1 s; small under an emulator)
 *   MIB      the buffer the read bandwidth streams (default 512: far above
 *            any L3 here; 0 leaves the bandwidth out)
 * Prints one line per measurement, then per instruction set
 *   RESULT peak isa=ISA threads=N f64_gflops=.. f32_gflops=.. i8_gops=.. bf16_gflops=..
 * (multiply-adds count as two operations; n/a where the CPU lacks it), the
 * read bandwidth's RESULT line and the workload bounds per instruction set. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_X86 1
/* the AVX-VNNI (VEX) intrinsics: GCC 11, clang 12 */
#if (defined(__clang__) && __clang_major__ >= 12) || (!defined(__clang__) && __GNUC__ >= 11)
#define HAVE_AVXVNNI 1
#else
#define HAVE_AVXVNNI 0
#endif
#else
#define HAVE_X86 0
#define HAVE_AVXVNNI 0
#endif

enum isa { I_AVX2, I_AVX512, I_COUNT };
static const char *const isa_name[I_COUNT] = {"avx2", "avx512"};
static const char *const isa_regs[I_COUNT] = {"ymm, AVX2+FMA", "zmm, AVX-512"};

enum kind { K_F64_Y, K_F32_Y, K_I8_Y, K_VNNI_Y, K_BF16_Y, K_F64_Z, K_F32_Z, K_VNNI_Z, K_BF16_Z, K_COUNT };

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#if HAVE_X86
/* Twelve independent chains: enough to cover a 4-cycle latency on two
 * pipes.  The asm barrier keeps every chain in a register and alive. */
#define R12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define KEEP(i) __asm__ volatile("" : "+v"(a##i));
/* An operand the compiler must take as new before each use: without it the
 * products of two loop-invariant registers would be hoisted out of the loop
 * (or computed once for all chains).  It emits no instruction. */
#define FRESH(v) __asm__ volatile("" : "+v"(v));

/* --- ymm (AVX2 + FMA) ------------------------------------------------- */

__attribute__((target("avx2,fma"))) static double loop_f64_y(long n)
{
#define INIT(i) __m256d a##i = _mm256_set1_pd(1.0 + (i) * 1e-9);
    R12(INIT)
#undef INIT
    const __m256d m = _mm256_set1_pd(0.9999999), c = _mm256_set1_pd(1e-8);
    for (long k = 0; k < n; k++) {
#define STEP(i) a##i = _mm256_fmadd_pd(a##i, m, c);
        R12(STEP) R12(KEEP)
#undef STEP
    }
    double s = 0, l[4];
#define SUM(i) _mm256_storeu_pd(l, a##i); s += l[0] + l[1] + l[2] + l[3];
    R12(SUM)
#undef SUM
    return s;
}

__attribute__((target("avx2,fma"))) static double loop_f32_y(long n)
{
#define INIT(i) __m256 a##i = _mm256_set1_ps(1.0f + (float)(i) * 1e-6f);
    R12(INIT)
#undef INIT
    const __m256 m = _mm256_set1_ps(0.9999f), c = _mm256_set1_ps(1e-4f);
    for (long k = 0; k < n; k++) {
#define STEP(i) a##i = _mm256_fmadd_ps(a##i, m, c);
        R12(STEP) R12(KEEP)
#undef STEP
    }
    double s = 0;
    float l[8];
#define SUM(i) _mm256_storeu_ps(l, a##i); for (int q = 0; q < 8; q++) s += l[q];
    R12(SUM)
#undef SUM
    return s;
}

/* ymm int32 lanes summed in double: their int32 sum could overflow */
__attribute__((target("avx2"))) static double lanes_y(__m256i a)
{
    int32_t l[8];
    _mm256_storeu_si256((__m256i *)l, a);
    double s = 0;
    for (int q = 0; q < 8; q++) s += l[q];
    return s;
}

/* u8*s8 without VNNI: vpmaddubsw multiplies 32 u8 by 32 s8 and adds
 * neighbours into 16 s16, vpmaddwd by ones widens (and pairs) them into 8
 * s32, vpaddd accumulates: one unit is these three instructions and 32
 * u8*s8 products (the multiplies by one only sum).  12 units a step, each
 * its own accumulator. */
__attribute__((target("avx2"))) static double loop_i8_y(long n)
{
#define INIT(i) __m256i a##i = _mm256_set1_epi32(i);
    R12(INIT)
#undef INIT
    __m256i u = _mm256_set1_epi8(3), w = _mm256_set1_epi8(2);
    const __m256i one = _mm256_set1_epi16(1);
    for (long k = 0; k < n; k++) {
#define STEP(i)                                                                                                  \
    FRESH(u) a##i = _mm256_add_epi32(a##i, _mm256_madd_epi16(_mm256_maddubs_epi16(u, w), one));
        R12(STEP) R12(KEEP)
#undef STEP
    }
    double s = 0;
#define SUM(i) s += lanes_y(a##i);
    R12(SUM)
#undef SUM
    return s;
}

#if HAVE_AVXVNNI
/* vpdpbusd ymm (AVX-VNNI, VEX-encoded): 32 u8*s8 products into 8 s32 */
__attribute__((target("avx2,avxvnni"))) static double loop_vnni_y(long n)
{
#define INIT(i) __m256i a##i = _mm256_set1_epi32(i);
    R12(INIT)
#undef INIT
    const __m256i u = _mm256_set1_epi8(3), w = _mm256_set1_epi8(2);
    for (long k = 0; k < n; k++) {
#define STEP(i) a##i = _mm256_dpbusd_avx_epi32(a##i, u, w);
        R12(STEP) R12(KEEP)
#undef STEP
    }
    double s = 0;
#define SUM(i) s += lanes_y(a##i);
    R12(SUM)
#undef SUM
    return s;
}
#endif

/* bf16 on AVX2, emulated: a ymm of 16 bf16 weights (pairs in 32-bit lanes)
 * becomes two ymm of f32, the even ones by a 16-bit left shift, the odd
 * ones by masking off the low half; each is multiplied into an f32
 * activation vector by one FMA.  One unit: vpslld + vpand + 2 FMA, 16
 * bf16 products.  Six units a step, twelve accumulators. */
__attribute__((target("avx2,fma"))) static double loop_bf16_y(long n)
{
#define INIT(i) __m256 a##i = _mm256_set1_ps((float)(i));
    R12(INIT)
#undef INIT
    __m256i w = _mm256_set1_epi32(0x3f803f80); /* two bf16 1.0 */
    const __m256i hi = _mm256_set1_epi32((int)0xffff0000u);
    const __m256 x = _mm256_set1_ps(1e-3f);
#define UNIT(i, j)                                                                                               \
    FRESH(w)                                                                                                     \
    a##i = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_slli_epi32(w, 16)), x, a##i);                            \
    a##j = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_and_si256(w, hi)), x, a##j);
    for (long k = 0; k < n; k++) {
        UNIT(0, 1) UNIT(2, 3) UNIT(4, 5) UNIT(6, 7) UNIT(8, 9) UNIT(10, 11) R12(KEEP)
    }
#undef UNIT
    double s = 0;
    float l[8];
#define SUM(i) _mm256_storeu_ps(l, a##i); for (int q = 0; q < 8; q++) s += l[q];
    R12(SUM)
#undef SUM
    return s;
}

/* --- zmm (AVX-512) ---------------------------------------------------- */

__attribute__((target("avx512f"))) static double loop_f64_z(long n)
{
#define INIT(i) __m512d a##i = _mm512_set1_pd(1.0 + (i) * 1e-9);
    R12(INIT)
#undef INIT
    const __m512d m = _mm512_set1_pd(0.9999999), c = _mm512_set1_pd(1e-8);
    for (long k = 0; k < n; k++) {
#define STEP(i) a##i = _mm512_fmadd_pd(a##i, m, c);
        R12(STEP) R12(KEEP)
#undef STEP
    }
#define SUM(i) +_mm512_reduce_add_pd(a##i)
    return 0 R12(SUM);
#undef SUM
}

__attribute__((target("avx512f"))) static double loop_f32_z(long n)
{
#define INIT(i) __m512 a##i = _mm512_set1_ps(1.0f + (float)(i) * 1e-6f);
    R12(INIT)
#undef INIT
    const __m512 m = _mm512_set1_ps(0.9999f), c = _mm512_set1_ps(1e-4f);
    for (long k = 0; k < n; k++) {
#define STEP(i) a##i = _mm512_fmadd_ps(a##i, m, c);
        R12(STEP) R12(KEEP)
#undef STEP
    }
#define SUM(i) +(double)_mm512_reduce_add_ps(a##i)
    return 0 R12(SUM);
#undef SUM
}

__attribute__((target("avx512f,avx512vnni"))) static double loop_vnni_z(long n)
{
#define INIT(i) __m512i a##i = _mm512_set1_epi32(i);
    R12(INIT)
#undef INIT
    const __m512i u = _mm512_set1_epi8(3), w = _mm512_set1_epi8(2);
    for (long k = 0; k < n; k++) {
#define STEP(i) a##i = _mm512_dpbusd_epi32(a##i, u, w);
        R12(STEP) R12(KEEP)
#undef STEP
    }
    /* the lanes summed in double: their int32 sum would overflow */
    int32_t lanes[16];
    double s = 0;
#define SUM(i)                                                               \
    _mm512_storeu_si512((void *)lanes, a##i);                                \
    for (int l = 0; l < 16; l++) s += lanes[l];
    R12(SUM)
#undef SUM
    return s;
}

__attribute__((target("avx512f,avx512bf16"))) static double loop_bf16_z(long n)
{
#define INIT(i) __m512 a##i = _mm512_set1_ps((float)(i));
    R12(INIT)
#undef INIT
    /* 1.0 in bf16 is 0x3f80 */
    const __m512bh u = (__m512bh)_mm512_set1_epi16(0x3f80), w = (__m512bh)_mm512_set1_epi16(0x3f80);
    for (long k = 0; k < n; k++) {
#define STEP(i) a##i = _mm512_dpbf16_ps(a##i, u, w);
        R12(STEP) R12(KEEP)
#undef STEP
    }
#define SUM(i) +(double)_mm512_reduce_add_ps(a##i)
    return 0 R12(SUM);
#undef SUM
}

/* CPUID leaf 7 subleaf 1, EAX: bit 4 AVX-VNNI, bit 5 AVX512_BF16 (GCC 12
 * has no __builtin_cpu_supports name for either) */
static unsigned cpuid_7_1_eax(void)
{
    unsigned a, b, c, d;
    __asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0), "c"(0));
    if (a < 7) return 0;
    __asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(1));
    return a;
}

/* __builtin_cpu_supports also checks that the OS saves the ymm/zmm state */
static int supported(enum kind k)
{
    __builtin_cpu_init();
    const int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    const int avx512 = __builtin_cpu_supports("avx512f");
    switch (k) {
    case K_F64_Y: case K_F32_Y: case K_I8_Y: case K_BF16_Y: return avx2;
    case K_VNNI_Y: return HAVE_AVXVNNI && avx2 && ((cpuid_7_1_eax() >> 4) & 1);
    case K_F64_Z: case K_F32_Z: return avx512;
    case K_VNNI_Z: return avx512 && __builtin_cpu_supports("avx512vnni");
    case K_BF16_Z: return avx512 && ((cpuid_7_1_eax() >> 5) & 1);
    default: return 0;
    }
}
#endif

struct kinfo {
    const char *name;
    enum isa isa;
    double macs;  /* multiply-adds (products) per unit */
    double units; /* units per loop iteration */
    double (*fn)(long);
};
#if HAVE_X86
#define FN(f) f
#else
#define FN(f) NULL
#endif
#if HAVE_AVXVNNI
#define FN_VNNI_Y loop_vnni_y
#else
#define FN_VNNI_Y NULL
#endif
static const struct kinfo kinds[K_COUNT] = {
    [K_F64_Y] = {"f64 FMA (ymm)", I_AVX2, 4, 12, FN(loop_f64_y)},
    [K_F32_Y] = {"f32 FMA (ymm)", I_AVX2, 8, 12, FN(loop_f32_y)},
    [K_I8_Y] = {"u8*s8 vpmaddubsw+vpmaddwd (ymm)", I_AVX2, 32, 12, FN(loop_i8_y)},
    [K_VNNI_Y] = {"u8*s8 vpdpbusd (ymm, AVX-VNNI)", I_AVX2, 32, 12, FN_VNNI_Y},
    [K_BF16_Y] = {"bf16 shift + f32 FMA (ymm)", I_AVX2, 16, 6, FN(loop_bf16_y)},
    [K_F64_Z] = {"f64 FMA (zmm)", I_AVX512, 8, 12, FN(loop_f64_z)},
    [K_F32_Z] = {"f32 FMA (zmm)", I_AVX512, 16, 12, FN(loop_f32_z)},
    [K_VNNI_Z] = {"u8*s8 vpdpbusd (zmm)", I_AVX512, 64, 12, FN(loop_vnni_z)},
    [K_BF16_Z] = {"bf16 vdpbf16ps (zmm)", I_AVX512, 32, 12, FN(loop_bf16_z)},
};

struct job {
    enum kind k;
    long n;
    const uint64_t *buf; /* the bandwidth's slice, when k == K_COUNT */
    size_t words;
    pthread_barrier_t *bar;
    double secs, sink;
};

/* The streaming read: eight independent sums (vectorised by the compiler
 * for the baseline ISA, which reads far faster than memory delivers). */
static double read_sum(const uint64_t *p, size_t words)
{
    uint64_t s[8] = {0};
    size_t i = 0;
    for (; i + 8 <= words; i += 8)
        for (int q = 0; q < 8; q++) s[q] += p[i + (size_t)q];
    for (; i < words; i++) s[0] += p[i];
    uint64_t t = 0;
    for (int q = 0; q < 8; q++) t += s[q];
    return (double)t;
}

static void *run_job(void *arg)
{
    struct job *j = arg;
    if (j->k == K_COUNT) {
        if (j->bar) pthread_barrier_wait(j->bar);
        double t = now();
        j->sink = read_sum(j->buf, j->words);
        j->secs = now() - t;
        return NULL;
    }
    double (*fn)(long) = kinds[j->k].fn;
    fn(j->n / 20); /* warm up: let the core reach its clock */
    if (j->bar) pthread_barrier_wait(j->bar);
    double t = now();
    j->sink = fn(j->n);
    j->secs = now() - t;
    return NULL;
}

/* Runs `threads` jobs at once (jobs[] filled in), the slowest one's time. */
static double run_jobs(struct job *jobs, int threads)
{
    pthread_t th[64];
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, (unsigned)threads);
    for (int t = 0; t < threads; t++) {
        jobs[t].bar = &bar;
        if (pthread_create(&th[t], NULL, run_job, &jobs[t]) != 0) {
            fprintf(stderr, "bench_peak: cannot start a thread\n");
            exit(71);
        }
    }
    double worst = 0, sink = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(th[t], NULL);
        if (jobs[t].secs > worst) worst = jobs[t].secs;
        sink += jobs[t].sink;
    }
    pthread_barrier_destroy(&bar);
    if (sink == 12345.678) puts(""); /* keeps the results used */
    return worst;
}

/* units per ns over `threads` threads (each its own chains), the slowest
 * thread's time */
static double measure(enum kind k, int threads, long n)
{
    struct job jobs[64];
    for (int t = 0; t < threads; t++) jobs[t] = (struct job){.k = k, .n = n};
    const double worst = run_jobs(jobs, threads);
    return (double)threads * kinds[k].units * (double)n / worst * 1e-9;
}

/* GB/s reading `words` words, split evenly over `threads` threads */
static double bandwidth(const uint64_t *buf, size_t words, int threads)
{
    struct job jobs[64];
    const size_t per = words / (size_t)threads;
    for (int t = 0; t < threads; t++)
        jobs[t] = (struct job){.k = K_COUNT, .buf = buf + (size_t)t * per, .words = per};
    const double worst = run_jobs(jobs, threads);
    return (double)(per * (size_t)threads) * 8.0 / worst * 1e-9;
}

/* "%.*f" of x, or "n/a" when x is 0 (not measured) */
static const char *fmt(char *b, size_t size, double x, int prec)
{
    if (x <= 0)
        snprintf(b, size, "n/a");
    else
        snprintf(b, size, "%.*f", prec, x);
    return b;
}

int main(int argc, char **argv)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = argc > 1 ? atoi(argv[1]) : (int)cores;
    long n = argc > 2 ? atol(argv[2]) : 20000000; /* 240M instructions a thread, ~0.1 s */
    long mib = argc > 3 ? atol(argv[3]) : 512;
    if (argc > 4 || threads < 1 || threads > 64 || n < 20 || mib < 0 || mib > 65536) {
        fprintf(stderr, "usage: bench_peak [THREADS (1..64) [ITERS (>= 20) [MIB (0: no bandwidth)]]]\n");
        return 64;
    }
    double best1[K_COUNT], bestn[K_COUNT];
    printf("%-34s %18s %18s\n", "instruction (unit)", "1 thread: /ns", "all threads: /ns");
    for (int i = 0; i < I_COUNT; i++) {
        printf("-- %s (%s)\n", isa_name[i], isa_regs[i]);
        for (int k = 0; k < K_COUNT; k++) {
            if (kinds[k].isa != (enum isa)i) continue;
            best1[k] = bestn[k] = 0;
#if HAVE_X86
            const int can = kinds[k].fn && supported((enum kind)k);
#else
            const int can = 0;
#endif
            for (int rep = 0; can && rep < 3; rep++) { /* best of 3: the machine is shared */
                double a = measure((enum kind)k, 1, n), b = measure((enum kind)k, threads, n);
                if (a > best1[k]) best1[k] = a;
                if (b > bestn[k]) bestn[k] = b;
            }
            if (best1[k] == 0)
                printf("%-34s %37s\n", kinds[k].name, "not on this CPU");
            else
                printf("%-34s %7.2f (%5.1f MAC) %7.2f (%5.1f MAC)\n", kinds[k].name, best1[k],
                       best1[k] * kinds[k].macs, bestn[k], bestn[k] * kinds[k].macs);
        }
    }
    printf("(/ns: instructions per ns; for vpmaddubsw+vpmaddwd, units of vpmaddubsw + vpmaddwd + vpaddd, for the\n"
           " bf16 emulation units of vpslld + vpand + 2 FMA; MAC: multiply-adds (products) per ns)\n");

    /* the read bandwidth: one pass over a buffer far larger than L3, each
     * thread its own slice, best of 5 */
    double bw1 = 0, bwn = 0;
    if (mib > 0) {
        const size_t words = (size_t)mib << 17;
        uint64_t *buf = malloc(words * sizeof *buf);
        if (!buf) {
            fprintf(stderr, "bench_peak: cannot allocate %ld MiB for the bandwidth\n", mib);
            return 71;
        }
        for (size_t i = 0; i < words; i++) buf[i] = i; /* every page mapped before the timing */
        for (int rep = 0; rep < 5; rep++) {
            double a = bandwidth(buf, words, 1), b = bandwidth(buf, words, threads);
            if (a > bw1) bw1 = a;
            if (b > bwn) bwn = b;
        }
        free(buf);
        printf("%-34s %10.1f GB/s %13.1f GB/s   (%ld MiB, best of 5)\n", "memory read bandwidth", bw1, bwn, mib);
    } else {
        printf("%-34s %37s\n", "memory read bandwidth", "not measured (MIB 0)");
    }

    /* G multiply-adds per second on all threads, per instruction set; the
     * u8*s8 figure is the faster path the set has, bf16's on AVX2 the
     * emulation */
    double f64[I_COUNT], f32[I_COUNT], i8[I_COUNT], bf[I_COUNT];
    f64[I_AVX2] = bestn[K_F64_Y] * kinds[K_F64_Y].macs;
    f32[I_AVX2] = bestn[K_F32_Y] * kinds[K_F32_Y].macs;
    i8[I_AVX2] = bestn[K_I8_Y] * kinds[K_I8_Y].macs;
    if (bestn[K_VNNI_Y] * kinds[K_VNNI_Y].macs > i8[I_AVX2]) i8[I_AVX2] = bestn[K_VNNI_Y] * kinds[K_VNNI_Y].macs;
    bf[I_AVX2] = bestn[K_BF16_Y] * kinds[K_BF16_Y].macs;
    f64[I_AVX512] = bestn[K_F64_Z] * kinds[K_F64_Z].macs;
    f32[I_AVX512] = bestn[K_F32_Z] * kinds[K_F32_Z].macs;
    i8[I_AVX512] = bestn[K_VNNI_Z] * kinds[K_VNNI_Z].macs;
    bf[I_AVX512] = bestn[K_BF16_Z] * kinds[K_BF16_Z].macs;
    char b1[32], b2[32], b3[32], b4[32], b5[32], b6[32];
    for (int i = 0; i < I_COUNT; i++)
        printf("RESULT peak isa=%s threads=%d f64_gflops=%s f32_gflops=%s i8_gops=%s bf16_gflops=%s\n", isa_name[i],
               threads, fmt(b1, 32, 2 * f64[i], 1), fmt(b2, 32, 2 * f32[i], 1), fmt(b3, 32, 2 * i8[i], 1),
               fmt(b4, 32, 2 * bf[i], 1));
    printf("RESULT bandwidth threads=%d read_gbs_1=%s read_gbs=%s mib=%ld\n", threads, fmt(b1, 32, bw1, 1),
           fmt(b2, 32, bwn, 1), mib);

    /* The workloads' multiply-adds (../shared/WORKLOADS.md), forward and
     * weight gradient of the first layer, which is nearly all of them. */
    double w1 = 2.0 * 209 * 12288;           /* per epoch */
    double w2 = 2.0 * 2700 * 1024 * 8;       /* per function+gradient evaluation */
    double w3 = 2.0 * 41000 * 784 * 10;      /* per iteration */
    double w6 = 784.0 * 256 + 256 * 128 + 128 * 10; /* per row */
    /* x G multiply-adds/s -> the time of `macs` in `unit` seconds, "n/a"
     * when the instruction set is not on this CPU */
#define T(b, macs, x, unit, prec) fmt(b, 32, (x) > 0 ? (macs) / (x) * 1e-9 / (unit) : 0, prec)
#define ROWS(b, x) fmt(b, 32, (x) > 0 ? (x) / w6 * 1e6 : 0, 0)
    printf("least time for the products at these peaks, %d thread(s) (n/a: not on this CPU):\n", threads);
    printf("  %-36s %14s %14s\n", "", "avx2 (ymm)", "avx512 (zmm)");
    printf("  %-36s %14s %14s\n", "W1 ms/epoch", T(b1, w1, f64[0], 1e-3, 4), T(b2, w1, f64[1], 1e-3, 4));
    printf("  %-36s %14s %14s\n", "W1 s for 2000 epochs", T(b1, 2000 * w1, f64[0], 1, 3),
           T(b2, 2000 * w1, f64[1], 1, 3));
    printf("  %-36s %14s %14s\n", "W2 ms/evaluation", T(b1, w2, f64[0], 1e-3, 4), T(b2, w2, f64[1], 1e-3, 4));
    printf("  %-36s %14s %14s\n", "W3 ms/iteration", T(b1, w3, f32[0], 1e-3, 3), T(b2, w3, f32[1], 1e-3, 3));
    printf("  %-36s %14s %14s\n", "W3 s for 2000 iterations", T(b1, 2000 * w3, f32[0], 1, 2),
           T(b2, 2000 * w3, f32[1], 1, 2));
    printf("  %-36s %14s %14s\n", "W6 most rows/s (k), f32", ROWS(b1, f32[0]), ROWS(b2, f32[1]));
    printf("  %-36s %14s %14s\n", "W6 most rows/s (k), bf16", ROWS(b1, bf[0]), ROWS(b2, bf[1]));
    printf("  %-36s %14s %14s\n", "W6 most rows/s (k), int8", ROWS(b1, i8[0]), ROWS(b2, i8[1]));
    printf("  (avx2 bf16: the shift + FMA emulation; avx2 int8: the faster of vpmaddubsw+vpmaddwd and AVX-VNNI)\n");
    for (int i = 0; i < I_COUNT; i++)
        printf("RESULT bounds isa=%s w1_ms_epoch=%s w2_ms_eval=%s w3_ms_iter=%s w6_f32_rows=%s w6_bf16_rows=%s "
               "w6_int8_rows=%s\n",
               isa_name[i], T(b1, w1, f64[i], 1e-3, 4), T(b2, w2, f64[i], 1e-3, 4), T(b3, w3, f32[i], 1e-3, 3),
               fmt(b4, 32, f32[i] / w6 * 1e9, 0), fmt(b5, 32, bf[i] / w6 * 1e9, 0), fmt(b6, 32, i8[i] / w6 * 1e9, 0));
#undef T
#undef ROWS
    return 0;
}
