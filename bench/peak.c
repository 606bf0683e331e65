/* SPDX-License-Identifier: MIT */
/* The machine's arithmetic limits, measured: how many 512-bit multiply-adds
 * (f64, f32), u8*s8 dot products (vpdpbusd) and bf16 dot products
 * (vdpbf16ps) one core and all cores retire per nanosecond, from unrolled
 * loops of independent instructions on registers (no memory traffic), and
 * from those the least time each reference workload's products can take.
 * BENCHMARKS.md's "% of peak" figures come from here rather than from a
 * nominal clock: these cores boost well above their 2.6 GHz label.
 *
 * Usage: bench_peak [THREADS]   (default: all online cores)
 * Prints one line per measurement and ends with
 *   RESULT peak threads=N f64_gflops=.. f32_gflops=.. i8_gops=.. bf16_gflops=..
 * (multiply-adds count as two operations) and the workload bounds. */
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
#else
#define HAVE_X86 0
#endif

enum kind { K_F64, K_F32, K_I8, K_BF16, K_COUNT };
static const char *const kind_name[K_COUNT] = {"f64 FMA (zmm)", "f32 FMA (zmm)", "u8*s8 vpdpbusd (zmm)",
                                               "bf16 vdpbf16ps (zmm)"};
/* multiply-adds per instruction */
static const double kind_macs[K_COUNT] = {8, 16, 64, 32};

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

__attribute__((target("avx512f"))) static double loop_f64(long n)
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

__attribute__((target("avx512f"))) static double loop_f32(long n)
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

__attribute__((target("avx512f,avx512vnni"))) static double loop_i8(long n)
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

__attribute__((target("avx512f,avx512bf16"))) static double loop_bf16(long n)
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

static int supported(enum kind k)
{
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f")) return 0;
    if (k == K_I8) return __builtin_cpu_supports("avx512vnni");
    if (k == K_BF16) {
        /* GCC 12 has no name for avx512bf16 in __builtin_cpu_supports:
         * CPUID leaf 7 subleaf 1, EAX bit 5 */
        unsigned a, b, c, d;
        __asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(1));
        return (a >> 5) & 1;
    }
    return 1;
}
#endif

struct job {
    enum kind k;
    long n;
    pthread_barrier_t *bar;
    double secs, sink;
};

static void *run_job(void *arg)
{
    struct job *j = arg;
#if HAVE_X86
    double (*fn)(long) = j->k == K_F64 ? loop_f64 : j->k == K_F32 ? loop_f32 : j->k == K_I8 ? loop_i8 : loop_bf16;
    fn(j->n / 20); /* warm up: let the core reach its clock */
    if (j->bar) pthread_barrier_wait(j->bar);
    double t = now();
    j->sink = fn(j->n);
    j->secs = now() - t;
#else
    (void)j;
#endif
    return NULL;
}

/* instructions per ns over `threads` threads (each its own chain), the
 * slowest thread's time; 0 when the CPU lacks the instruction */
static double measure(enum kind k, int threads, long n)
{
#if HAVE_X86
    if (!supported(k)) return 0;
#else
    (void)k;
    return 0;
#endif
    pthread_t th[64];
    struct job jobs[64];
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, (unsigned)threads);
    for (int t = 0; t < threads; t++) {
        jobs[t] = (struct job){.k = k, .n = n, .bar = &bar};
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
    return (double)threads * 12.0 * (double)n / worst * 1e-9;
}

int main(int argc, char **argv)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = argc > 1 ? atoi(argv[1]) : (int)cores;
    if (argc > 2 || threads < 1 || threads > 64) {
        fprintf(stderr, "usage: bench_peak [THREADS (1..64)]\n");
        return 64;
    }
    const long n = 20000000; /* 240M instructions a thread, ~0.1 s */
    double best1[K_COUNT], bestn[K_COUNT];
    printf("%-22s %18s %18s\n", "instruction", "1 thread: /ns", "all threads: /ns");
    for (int k = 0; k < K_COUNT; k++) {
        best1[k] = bestn[k] = 0;
        for (int rep = 0; rep < 3; rep++) { /* best of 3: the machine is shared */
            double a = measure((enum kind)k, 1, n), b = measure((enum kind)k, threads, n);
            if (a > best1[k]) best1[k] = a;
            if (b > bestn[k]) bestn[k] = b;
        }
        if (best1[k] == 0)
            printf("%-22s %18s %18s\n", kind_name[k], "unsupported", "unsupported");
        else
            printf("%-22s %10.2f (%4.0f MAC) %9.2f (%4.0f MAC)\n", kind_name[k], best1[k], best1[k] * kind_macs[k],
                   bestn[k], bestn[k] * kind_macs[k]);
    }
    /* G multiply-adds per second on all threads */
    double f64 = bestn[K_F64] * 8, f32 = bestn[K_F32] * 16, i8 = bestn[K_I8] * 64, bf = bestn[K_BF16] * 32;
    printf("RESULT peak threads=%d f64_gflops=%.1f f32_gflops=%.1f i8_gops=%.1f bf16_gflops=%.1f\n", threads,
           2 * f64, 2 * f32, 2 * i8, 2 * bf);
    if (f64 == 0 || f32 == 0) return 0;

    /* The workloads' multiply-adds (../shared/WORKLOADS.md), forward and
     * weight gradient of the first layer, which is nearly all of them. */
    double w1 = 2.0 * 209 * 12288;           /* per epoch */
    double w2 = 2.0 * 2700 * 1024 * 8;       /* per function+gradient evaluation */
    double w3 = 2.0 * 41000 * 784 * 10;      /* per iteration */
    double w6 = 784.0 * 256 + 256 * 128 + 128 * 10; /* per row */
    printf("least time for the products at this peak, %d thread(s):\n", threads);
    printf("  W1 %.4f ms/epoch (%.3f s for 2000 epochs)\n", w1 / f64 * 1e-6, 2000 * w1 / f64 * 1e-9);
    printf("  W2 %.4f ms/evaluation\n", w2 / f64 * 1e-6);
    printf("  W3 %.3f ms/iteration (%.2f s for 2000 iterations)\n", w3 / f32 * 1e-6, 2000 * w3 / f32 * 1e-9);
    printf("  W6 most rows/s: f32 %.0fk, bf16 %.0fk, int8 %.0fk\n", f32 / w6 * 1e6, bf / w6 * 1e6, i8 / w6 * 1e6);
    printf("RESULT bounds w1_ms_epoch=%.4f w2_ms_eval=%.4f w3_ms_iter=%.3f w6_f32_rows=%.0f w6_bf16_rows=%.0f "
           "w6_int8_rows=%.0f\n",
           w1 / f64 * 1e-6, w2 / f64 * 1e-6, w3 / f32 * 1e-6, f32 / w6 * 1e9, bf / w6 * 1e9, i8 / w6 * 1e9);
    return 0;
}
