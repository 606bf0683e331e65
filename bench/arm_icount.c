/* SPDX-License-Identifier: MIT */
/* Instruction counts of the aarch64 kernels under emulation (issue 19): the
 * driver that bench/arm_icount.sh runs under `qemu-aarch64 -singlestep -d
 * exec,nochain`, which logs one line per executed guest instruction.  Each
 * kernel call is bracketed by two marker functions, icount_begin and
 * icount_end (noipa, an asm barrier each: never inlined, elided or moved),
 * and the counter (bench/arm_icount.py) counts the trace lines of the main
 * thread between the first instruction of icount_begin and the first of
 * icount_end.  The driver is linked without PIE (CMakeLists.txt), so the
 * markers sit at the same addresses in every run; it prints them, and the
 * counter checks them against those of a plain run.
 *
 * Cases (inputs filled before each call, outside the brackets; no warm-up
 * call by default: with LD_BIND_NOW=1, as the script runs it, a first call
 * measured 4-12 instructions more than the next, the driver's own branch
 * around the extra markers, so none of these kernels does first-call work):
 *   - the kernel table's vector slots for the "portable" and "neon"
 *     variants (mlp__ktable): the fused uint8 first layer forward and
 *     backward, f32 and f64, K = 1 (W1's one output, d = 12288, 8 rows) and
 *     K = 10 (W3's 784 inputs, 16 rows); the activations (sigmoid, tanh,
 *     relu, the sigmoid's derivative) and exp over 1024 values; Adam over
 *     4096 parameters;
 *   - the quantised kernels (mlp__qk_select) for features 0 (portable) and
 *     NEON with every subset of the optional features this CPU has
 *     (dotprod, i8mm, bf16), each distinct kernel once: the f32, bf16 and
 *     int8 panel kernels on a 256 x 784 layer with 1 and 4 samples, the
 *     int8 batch kernel on 16 samples (for features 0, whose selection has
 *     none, the plain-C one, mlp__qk_i8g_portable), the int8 activations'
 *     range and quantisation and the vector sigmoid where the kernel has
 *     them (each of these three functions once, under the first kernel
 *     that has it).
 * A slot whose pointer is NULL is skipped (said on a "skip" line).  The
 * data are random (never 0, so that no kernel skips a zero step); only the
 * shapes matter to the counts, not the values' layout.
 *
 * Output (stdout), for the counter:
 *   markers begin=0x... end=0x...
 *   cpu features=... neon_table=yes|no
 *   qk TYPE KERNEL features=...          each distinct quantised kernel
 *   case IDX KERNEL VARIANT WORK UNIT     before each bracketed call, in order
 *   skip KERNEL VARIANT REASON
 *   map START END OFFSET PATH            the shared libraries' mappings, at the end
 * Case 1 ("overhead") brackets nothing: the markers' own cost, which the
 * counter subtracts.
 * Usage: arm_icount [--markers | --warmup | --first]
 *   --markers  print the marker line and exit
 *   --warmup   call each kernel once, untraced, before its counted call
 *   --first    the same, the first call counted too, as KERNEL@1st (what a
 *              first call costs beyond the next) */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/ktable.h"
#include "kernels/qkernels.h"

#if !defined(__aarch64__)
#error "bench/arm_icount.c is for aarch64 only (CMakeLists.txt builds it there)"
#endif

/* ------------------------------------------------------------- markers */

void icount_begin(void);
void icount_end(void);

__attribute__((noipa)) void icount_begin(void) { __asm__ volatile("" ::: "memory"); }
__attribute__((noipa)) void icount_end(void) { __asm__ volatile("" ::: "memory"); }

static unsigned ncase;
static int warmup = 0; /* 0: none, 1: untraced, 2: counted as KERNEL@1st */

static void announce(const char *kernel, const char *suffix, const char *variant, double work, const char *unit)
{
    printf("case %u %s%s %s %.0f %s\n", ++ncase, kernel, suffix, variant, work, unit);
    fflush(stdout);
}

/* One case: PREP (refill the inputs), the warm-up call, PREP, the counted
 * call.  CALL is a statement through a function pointer. */
#define COUNT(kernel, variant, work, unit, PREP, CALL)                                                  \
    do {                                                                                                \
        if (warmup) {                                                                                   \
            PREP;                                                                                       \
            if (warmup == 2) {                                                                          \
                announce(kernel, "@1st", variant, work, unit);                                          \
                icount_begin();                                                                         \
            }                                                                                           \
            CALL;                                                                                       \
            if (warmup == 2) icount_end();                                                              \
        }                                                                                               \
        PREP;                                                                                           \
        announce(kernel, "", variant, work, unit);                                                      \
        icount_begin();                                                                                 \
        CALL;                                                                                           \
        icount_end();                                                                                   \
    } while (0)

static void skip(const char *kernel, const char *variant, const char *why)
{
    printf("skip %s %s %s\n", kernel, variant, why);
    fflush(stdout);
}

/* The shared libraries' mappings ("map START END OFFSET PATH", hex), so
 * that the counter can disassemble what a kernel ran in libm or libc. */
static void print_maps(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi, off, ino;
        char perm[8], dev[16], path[400];
        if (sscanf(line, "%lx-%lx %7s %lx %15s %lu %399s", &lo, &hi, perm, &off, dev, &ino, path) == 7 &&
            strstr(path, ".so"))
            printf("map %lx %lx %lx %s\n", lo, hi, off, path);
    }
    fclose(f);
}

/* ------------------------------------------------------------------ data */

/* Cheap random data (a few instructions per element: the emulator traces
 * the preparation too). */
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static inline uint64_t next64(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void fill_bytes(void *p, size_t n)
{
    uint8_t *b = p;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const uint64_t r = next64() | 0x0101010101010101ull; /* no zero byte */
        memcpy(b + i, &r, 8);
    }
    for (; i < n; i++) b[i] = (uint8_t)(next64() | 1u);
}

/* uniform-ish in [lo, hi) */
static void fill_f32(float *a, size_t n, float lo, float hi)
{
    const float k = (hi - lo) / 4294967296.0f;
    for (size_t i = 0; i < n; i++) a[i] = lo + k * (float)(uint32_t)next64();
}

static void fill_f64(double *a, size_t n, double lo, double hi)
{
    const double k = (hi - lo) / 4294967296.0;
    for (size_t i = 0; i < n; i++) a[i] = lo + k * (double)(uint32_t)next64();
}

/* finite bf16 values of magnitude 2^-7 .. 2^-2, either sign */
static void fill_bf16(uint16_t *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const uint64_t r = next64();
        a[i] = (uint16_t)(0x3c00u + (r & 0x3ffu) + ((r >> 16) & 0x8000u));
    }
}

static void *xalloc(size_t n)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, n ? n : 64) != 0) {
        fprintf(stderr, "arm_icount: out of memory\n");
        exit(70);
    }
    memset(p, 0, n ? n : 64);
    return p;
}

/* ---------------------------------------------------------- vector slots */

#define NARROW_NB_MAX 16u
#define NARROW_D_MAX 12288u
#define NARROW_K_MAX 10u
#define ACT_N 1024u
#define ADAM_N 4096u

static uint8_t *nx; /* NARROW_NB_MAX rows of NARROW_D_MAX bytes */
static const uint8_t *nxr[NARROW_NB_MAX];

static void narrow_cases(const struct mlp_ktable *kt)
{
    static const struct {
        uint32_t K, d, nb;
    } shapes[] = {{1, 12288, 8}, {10, 784, 16}};
    const char *var = kt->variant[MLP_KS_NARROW];
    float *w32 = xalloc(sizeof(float) * NARROW_K_MAX * NARROW_D_MAX), *b32 = xalloc(sizeof(float) * NARROW_K_MAX);
    float *z32 = xalloc(sizeof(float) * NARROW_NB_MAX * NARROW_K_MAX);
    double *w64 = xalloc(sizeof(double) * NARROW_K_MAX * NARROW_D_MAX), *b64 = xalloc(sizeof(double) * NARROW_K_MAX);
    double *z64 = xalloc(sizeof(double) * NARROW_NB_MAX * NARROW_K_MAX);
    fill_f32(b32, NARROW_K_MAX, -1, 1);
    fill_f64(b64, NARROW_K_MAX, -1, 1);
    char name[96];
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const uint32_t K = shapes[s].K, d = shapes[s].d, nb = shapes[s].nb;
        const double macs = (double)nb * d * K;
        for (uint32_t i = 0; i < nb; i++) nxr[i] = nx + (size_t)i * d; /* rows back to back, as in a batch */
        fill_f32(w32, (size_t)K * d, -0.01f, 0.01f);
        fill_f64(w64, (size_t)K * d, -0.01, 0.01);
        /* forward: Z (nb x K) = b + s X W^T */
        snprintf(name, sizeof name, "narrow_fwd_f32_K%u_d%u_nb%u", K, d, nb);
        if (kt->narrow_fwd_f32)
            COUNT(name, var, macs, "MAC", (void)0, kt->narrow_fwd_f32(nxr, nb, d, K, w32, b32, 1.0f / 255, z32));
        else
            skip(name, var, "NULL");
        snprintf(name, sizeof name, "narrow_fwd_f64_K%u_d%u_nb%u", K, d, nb);
        if (kt->narrow_fwd_f64)
            COUNT(name, var, macs, "MAC", (void)0, kt->narrow_fwd_f64(nxr, nb, d, K, w64, b64, 1.0 / 255, z64));
        else
            skip(name, var, "NULL");
        /* backward: gW (K x d) += s dZ^T X */
        fill_f32(z32, (size_t)nb * K, -1, 1);
        fill_f64(z64, (size_t)nb * K, -1, 1);
        snprintf(name, sizeof name, "narrow_bwd_f32_K%u_d%u_nb%u", K, d, nb);
        if (kt->narrow_bwd_f32)
            COUNT(name, var, macs, "MAC", (void)0, kt->narrow_bwd_f32(nxr, nb, d, K, z32, 1.0f / 255, w32));
        else
            skip(name, var, "NULL");
        snprintf(name, sizeof name, "narrow_bwd_f64_K%u_d%u_nb%u", K, d, nb);
        if (kt->narrow_bwd_f64)
            COUNT(name, var, macs, "MAC", (void)0, kt->narrow_bwd_f64(nxr, nb, d, K, z64, 1.0 / 255, w64));
        else
            skip(name, var, "NULL");
    }
    free(w32);
    free(b32);
    free(z32);
    free(w64);
    free(b64);
    free(z64);
}

static void act_cases(const struct mlp_ktable *kt)
{
    static const struct {
        enum mlp_act a;
        const char *name;
    } acts[] = {{MLP_ACT_SIGMOID, "sigmoid"}, {MLP_ACT_TANH, "tanh"}, {MLP_ACT_RELU, "relu"}};
    const char *var = kt->variant[MLP_KS_ACT];
    float *a32 = xalloc(sizeof(float) * ACT_N), *d32 = xalloc(sizeof(float) * ACT_N);
    double *a64 = xalloc(sizeof(double) * ACT_N), *d64 = xalloc(sizeof(double) * ACT_N);
    char name[64];
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++) {
        snprintf(name, sizeof name, "act_%s_f32_n%u", acts[i].name, ACT_N);
        if (kt->act_f32)
            COUNT(name, var, ACT_N, "value", fill_f32(a32, ACT_N, -4, 4), kt->act_f32(acts[i].a, 0.01f, a32, ACT_N));
        else
            skip(name, var, "NULL");
        snprintf(name, sizeof name, "act_%s_f64_n%u", acts[i].name, ACT_N);
        if (kt->act_f64)
            COUNT(name, var, ACT_N, "value", fill_f64(a64, ACT_N, -4, 4), kt->act_f64(acts[i].a, 0.01, a64, ACT_N));
        else
            skip(name, var, "NULL");
    }
    /* the sigmoid's derivative (the backward pass's d *= a (1 - a)) */
    fill_f32(a32, ACT_N, 0, 1);
    fill_f64(a64, ACT_N, 0, 1);
    snprintf(name, sizeof name, "dact_sigmoid_f32_n%u", ACT_N);
    if (kt->dact_f32)
        COUNT(name, var, ACT_N, "value", fill_f32(d32, ACT_N, -1, 1),
              kt->dact_f32(MLP_ACT_SIGMOID, 0.01f, a32, d32, ACT_N));
    else
        skip(name, var, "NULL");
    snprintf(name, sizeof name, "dact_sigmoid_f64_n%u", ACT_N);
    if (kt->dact_f64)
        COUNT(name, var, ACT_N, "value", fill_f64(d64, ACT_N, -1, 1),
              kt->dact_f64(MLP_ACT_SIGMOID, 0.01, a64, d64, ACT_N));
    else
        skip(name, var, "NULL");
    /* exp (the softmax head's), of values <= 0 */
    snprintf(name, sizeof name, "vexp_f32_n%u", ACT_N);
    if (kt->vexp_f32)
        COUNT(name, var, ACT_N, "value", fill_f32(a32, ACT_N, -8, 0), kt->vexp_f32(a32, ACT_N));
    else
        skip(name, var, "NULL");
    snprintf(name, sizeof name, "vexp_f64_n%u", ACT_N);
    if (kt->vexp_f64)
        COUNT(name, var, ACT_N, "value", fill_f64(a64, ACT_N, -8, 0), kt->vexp_f64(a64, ACT_N));
    else
        skip(name, var, "NULL");
    free(a32);
    free(d32);
    free(a64);
    free(d64);
}

static void adam_cases(const struct mlp_ktable *kt)
{
    const char *var = kt->variant[MLP_KS_ADAM];
    char name[64];
    float *p = xalloc(sizeof(float) * ADAM_N), *g = xalloc(sizeof(float) * ADAM_N);
    float *m = xalloc(sizeof(float) * ADAM_N), *v = xalloc(sizeof(float) * ADAM_N);
    double *pd = xalloc(sizeof(double) * ADAM_N), *gd = xalloc(sizeof(double) * ADAM_N);
    double *md = xalloc(sizeof(double) * ADAM_N), *vd = xalloc(sizeof(double) * ADAM_N);
    fill_f32(p, ADAM_N, -1, 1);
    fill_f32(g, ADAM_N, -1, 1);
    fill_f64(pd, ADAM_N, -1, 1);
    fill_f64(gd, ADAM_N, -1, 1);
    snprintf(name, sizeof name, "adam_f32_n%u", ADAM_N);
    if (kt->adam_f32)
        COUNT(name, var, ADAM_N, "param", (void)0, kt->adam_f32(ADAM_N, p, g, NULL, m, v, 1e-3f, 0.9f, 0.999f, 1e-8f));
    else
        skip(name, var, "NULL");
    snprintf(name, sizeof name, "adam_f64_n%u", ADAM_N);
    if (kt->adam_f64)
        COUNT(name, var, ADAM_N, "param", (void)0, kt->adam_f64(ADAM_N, pd, gd, NULL, md, vd, 1e-3, 0.9, 0.999, 1e-8));
    else
        skip(name, var, "NULL");
    free(p);
    free(g);
    free(m);
    free(v);
    free(pd);
    free(gd);
    free(md);
    free(vd);
}

/* ------------------------------------------------------ quantised kernels */

#define Q_N 256u   /* the layer's rows (outputs) */
#define Q_K 784u   /* its inputs */
#define Q_NS_G 16u /* samples of the batch kernel */

static uint32_t round_up(uint32_t a, uint32_t m) { return (a + m - 1) / m * m; }

/* The feature sets tried: 0 (portable), then NEON with each subset of the
 * optional features this CPU has. */
static unsigned feature_sets(unsigned avail, unsigned *sets)
{
    static const unsigned opt[] = {MLP_QK_HAS_DOTPROD, MLP_QK_HAS_I8MM, MLP_QK_HAS_ARM_BF16};
    unsigned n = 0;
    sets[n++] = 0;
    if (!(avail & MLP_QK_HAS_NEON)) return n;
    for (unsigned m = 0; m < 8; m++) {
        unsigned f = MLP_QK_HAS_NEON;
        bool ok = true;
        for (unsigned b = 0; b < 3; b++)
            if (m >> b & 1u) {
                if (!(avail & opt[b])) ok = false;
                f |= opt[b];
            }
        if (ok) sets[n++] = f;
    }
    return n;
}

static void features_str(unsigned f, char *buf, size_t n)
{
    snprintf(buf, n, "%s%s%s%s%s", f ? "" : "none", f & MLP_QK_HAS_NEON ? "neon" : "",
             f & MLP_QK_HAS_DOTPROD ? "+dotprod" : "", f & MLP_QK_HAS_I8MM ? "+i8mm" : "",
             f & MLP_QK_HAS_ARM_BF16 ? "+bf16" : "");
}

/* Whether name was seen for this type; records it. */
static bool seen(const char **names, unsigned *n, const char *name)
{
    for (unsigned i = 0; i < *n; i++)
        if (strcmp(names[i], name) == 0) return true;
    names[(*n)++] = name;
    return false;
}

static void qk_cases(unsigned avail)
{
    unsigned sets[16];
    const unsigned nsets = feature_sets(avail, sets);
    const uint32_t np = Q_N / MLP_QK_ROWS;
    /* packed panels: rows padded to kp (chunks of 16 f32, 32 bf16, 64 int8);
     * x is zero past Q_K */
    const uint32_t kp32 = round_up(Q_K, 16), kp16 = round_up(Q_K, 32), kp8 = round_up(Q_K, 64);
    float *w32 = xalloc(sizeof(float) * Q_N * kp32), *x32 = xalloc(sizeof(float) * MLP_QK_MAX_NS * kp32);
    uint16_t *w16 = xalloc(sizeof(uint16_t) * Q_N * kp16), *x16 = xalloc(sizeof(uint16_t) * MLP_QK_MAX_NS * kp16);
    int8_t *w8 = xalloc((size_t)Q_N * kp8);
    uint8_t *x8 = xalloc((size_t)Q_NS_G * kp8);
    float *y = xalloc(sizeof(float) * Q_NS_G * Q_N);
    int32_t *yi = xalloc(sizeof(int32_t) * MLP_QK_MAX_NS * Q_N);
    fill_f32(w32, (size_t)Q_N * kp32, -0.1f, 0.1f);
    fill_bf16(w16, (size_t)Q_N * kp16);
    fill_bytes(w8, (size_t)Q_N * kp8);
    for (uint32_t s = 0; s < MLP_QK_MAX_NS; s++) {
        fill_f32(x32 + (size_t)s * kp32, Q_K, 0, 1);
        fill_bf16(x16 + (size_t)s * kp16, Q_K);
    }
    fill_bytes(x8, (size_t)Q_NS_G * kp8);
    /* the batch layout: groups of 16 rows, steps of 4 inputs */
    const uint32_t k4 = (Q_K + 3) / 4, ng = (Q_N + MLP_QK_G_ROWS - 1) / MLP_QK_G_ROWS;
    int8_t *wg = xalloc((size_t)ng * k4 * 64);
    int32_t *rowsum = xalloc(sizeof(int32_t) * ng * 16);
    float *wscale = xalloc(sizeof(float) * ng * 16), *bias = xalloc(sizeof(float) * ng * 16);
    fill_bytes(wg, (size_t)ng * k4 * 64);
    fill_f32(wscale, ng * 16, 1e-3f, 2e-3f);
    fill_f32(bias, ng * 16, -1, 1);
    const struct mlp_qk_i8g_layer L = {.w = wg, .k4 = k4, .ng = ng, .rowsum = rowsum, .wscale = wscale, .bias = bias};
    float sx[Q_NS_G];
    int32_t zx[Q_NS_G];
    for (uint32_t s = 0; s < Q_NS_G; s++) {
        sx[s] = 1.0f / 255;
        zx[s] = (int32_t)(s % 8);
    }
    float *act = xalloc(sizeof(float) * ACT_N);
    uint8_t *u = xalloc(ACT_N);
    float lo, hi;
    int bad;

    static const char *const tname[MLP_Q_COUNT] = {"f32", "bf16", "int8"};
    char name[96], fs[48], var[80];
    /* range, u8q and the sigmoid are often shared between kernels: each
     * function counted once */
    mlp_qk_range_fn ranges[16];
    mlp_qk_u8q_fn u8qs[16];
    void (*sigmoids[48])(float *, size_t);
    unsigned nranges = 0, nu8qs = 0, nsigmoids = 0;
    for (int t = 0; t < MLP_Q_COUNT; t++) {
        const char *names[16];
        unsigned nnames = 0;
        for (unsigned si = 0; si < nsets; si++) {
            const struct mlp_qk k = mlp__qk_select((enum mlp_qtype)t, sets[si]);
            if (!k.name || seen(names, &nnames, k.name)) continue;
            features_str(sets[si], fs, sizeof fs);
            snprintf(var, sizeof var, "%s[%s]", k.name, fs);
            printf("qk %s %s features=%s\n", tname[t], k.name, fs);
            for (uint32_t ns = 1; ns <= MLP_QK_MAX_NS; ns += 3) {
                const double macs = (double)ns * Q_N * Q_K;
                snprintf(name, sizeof name, "qk_%s_ns%u_%ux%u", tname[t], ns, Q_N, Q_K);
                if (t == MLP_Q_F32 && k.f32)
                    COUNT(name, var, macs, "MAC", (void)0,
                          k.f32(w32, (size_t)MLP_QK_ROWS * kp32, kp32 / 16, 0, np, x32, kp32, ns, y, Q_N));
                else if (t == MLP_Q_BF16 && k.bf16)
                    COUNT(name, var, macs, "MAC", (void)0,
                          k.bf16(w16, (size_t)MLP_QK_ROWS * kp16, kp16 / 32, 0, np, x16, kp16, ns, y, Q_N));
                else if (t == MLP_Q_INT8 && k.i8)
                    COUNT(name, var, macs, "MAC", (void)0,
                          k.i8(w8, (size_t)MLP_QK_ROWS * kp8, kp8 / 64, 0, np, x8, kp8, ns, yi, Q_N));
                else
                    skip(name, var, "NULL");
            }
            if (t == MLP_Q_INT8) {
                /* the batch kernel; features 0 select none: the plain-C one
                 * (the reference the NEON versions are compared with) */
                const mlp_qk_i8g_fn g = k.i8g ? k.i8g : sets[si] == 0 ? mlp__qk_i8g_portable : NULL;
                snprintf(name, sizeof name, "qk_i8g_ns%u_%ux%u", Q_NS_G, Q_N, Q_K);
                if (g)
                    COUNT(name, var, (double)Q_NS_G * Q_N * Q_K, "MAC", (void)0,
                          g(&L, x8, kp8, Q_NS_G, sx, zx, 1, y, Q_N));
                else
                    skip(name, var, "NULL(batches-take-the-panel-kernel)");
                snprintf(name, sizeof name, "qk_range_n%u", ACT_N);
                bool dup = false;
                for (unsigned i = 0; i < nranges; i++) dup |= ranges[i] == k.range;
                if (!k.range)
                    skip(name, var, "NULL");
                else if (!dup) {
                    ranges[nranges++] = k.range;
                    COUNT(name, var, ACT_N, "value", fill_f32(act, ACT_N, -3, 5), k.range(act, ACT_N, &lo, &hi, &bad));
                }
                snprintf(name, sizeof name, "qk_u8q_n%u", ACT_N);
                dup = false;
                for (unsigned i = 0; i < nu8qs; i++) dup |= u8qs[i] == k.u8q;
                if (!k.u8q)
                    skip(name, var, "NULL");
                else if (!dup) {
                    u8qs[nu8qs++] = k.u8q;
                    COUNT(name, var, ACT_N, "value", fill_f32(act, ACT_N, -3, 5), k.u8q(act, ACT_N, 8.0f / 255, 96, u));
                }
            }
            snprintf(name, sizeof name, "qk_sigmoid_f32_n%u", ACT_N);
            bool dup = false;
            for (unsigned i = 0; i < nsigmoids; i++) dup |= sigmoids[i] == k.sigmoid;
            if (k.sigmoid && !dup) {
                sigmoids[nsigmoids++] = k.sigmoid;
                COUNT(name, var, ACT_N, "value", fill_f32(act, ACT_N, -6, 6), k.sigmoid(act, ACT_N));
            }
        }
    }
    free(w32);
    free(x32);
    free(w16);
    free(x16);
    free(w8);
    free(x8);
    free(y);
    free(yi);
    free(wg);
    free(rowsum);
    free(wscale);
    free(bias);
    free(act);
    free(u);
}

int main(int argc, char **argv)
{
    printf("markers begin=%p end=%p\n", (void *)icount_begin, (void *)icount_end);
    fflush(stdout);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--markers") == 0) return 0;
        if (strcmp(argv[i], "--warmup") == 0)
            warmup = 1;
        else if (strcmp(argv[i], "--first") == 0)
            warmup = 2;
        else {
            fprintf(stderr, "usage: arm_icount [--markers | --warmup | --first]\n");
            return 64;
        }
    }
    const struct mlp_ktable *neon = mlp__ktable(MLP_ISA_NEON, NULL), *port = mlp__ktable(MLP_ISA_PORTABLE, NULL);
    const unsigned avail = neon ? neon->qk_features : 0;
    char fs[48];
    features_str(avail, fs, sizeof fs);
    printf("cpu features=%s neon_table=%s\n", fs, neon ? "yes" : "no");
    /* case 1: the markers alone, the overhead the counter subtracts */
    announce("overhead", "", "-", 1, "call");
    icount_begin();
    icount_end();
    nx = xalloc((size_t)NARROW_NB_MAX * NARROW_D_MAX);
    fill_bytes(nx, (size_t)NARROW_NB_MAX * NARROW_D_MAX);
    const struct mlp_ktable *tabs[2] = {port, neon};
    for (int i = 0; i < 2; i++)
        if (tabs[i]) {
            narrow_cases(tabs[i]);
            act_cases(tabs[i]);
            adam_cases(tabs[i]);
        } else
            skip("vector-slots", i ? "neon" : "portable", "no-table");
    qk_cases(avail);
    free(nx);
    print_maps();
    printf("done %u\n", ncase);
    return 0;
}
