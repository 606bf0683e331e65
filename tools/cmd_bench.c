/* SPDX-License-Identifier: MIT */
/* `fastmlp bench`: seed 003's benchmark tool.  `bench quick` times batch-1
 * inference through L dense DxD layers and sets the figure against the
 * machine's measured memory bandwidth; `bench --config FILE.yaml` reads the
 * same benchmark from seed 003's nested YAML schema (version 1). */
#include "cli.h"

#include <errno.h>
#include <fenv.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#define BENCH_MAX_EPS 16
#define BENCH_MAX_THREADS MLP_MAX_THREADS
#define BENCH_YAML_VERSION 1
#define BENCH_YAML_MAX_BYTES (1u << 20)

/* What one benchmark run is, from flags or from a YAML file. */
struct bench_spec {
    const char *name; /* NULL for `bench quick`; else name_buf */
    uint32_t nepochs, layers, dimension;
    enum mlp_dtype dtype;
    int qtype;         /* enum mlp_qtype run through mlp_qmodel_predict, or -1 (f64: the model's own pass) */
    char precision[6]; /* as written: f32 f64 f4 f8 bf16 b2 int8 i1 */
    char name_buf[201];
    enum mlp_act act;
    int threads; /* 0: all cores */
    uint64_t seed;
    double eps[BENCH_MAX_EPS];
    size_t n_eps;
};

/* ------------------------------------------------------------ the values */

/* One value for each setting, shared by the flags and the YAML keys so that
 * both say the same thing about the same mistake. */
enum field { F_NAME, F_NEPOCHS, F_LAYERS, F_DIMENSION, F_PRECISION, F_ACTIVATION, F_THREADS, F_SEED, F_EPSILON };

static bool parse_u64(const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
    if (!(*v >= '0' && *v <= '9')) return false;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (*end || errno || x < lo || x > hi) return false;
    *out = x;
    return true;
}

/* Sets the field from v; on a bad value writes why into `why` and returns false. */
static bool set_field(struct bench_spec *s, enum field f, const char *v, char *why, size_t n)
{
    uint64_t x;
    switch (f) {
    case F_NAME:
        if (!*v || strlen(v) > 200) {
            snprintf(why, n, "'%.40s' is not a name of 1 to 200 characters", v);
            return false;
        }
        snprintf(s->name_buf, sizeof s->name_buf, "%s", v);
        s->name = s->name_buf;
        return true;
    case F_NEPOCHS:
        if (!parse_u64(v, 1, UINT32_MAX, &x)) {
            snprintf(why, n, "'%s' is not a whole number of runs from 1 to %u", v, UINT32_MAX);
            return false;
        }
        s->nepochs = (uint32_t)x;
        return true;
    case F_LAYERS:
        if (!parse_u64(v, 1, MLP_MAX_LAYERS, &x)) {
            snprintf(why, n, "'%s' is not a layer count from 1 to %u", v, MLP_MAX_LAYERS);
            return false;
        }
        s->layers = (uint32_t)x;
        return true;
    case F_DIMENSION:
        if (!parse_u64(v, 1, MLP_MAX_WIDTH, &x)) {
            snprintf(why, n, "'%s' is not a dimension from 1 to %u", v, MLP_MAX_WIDTH);
            return false;
        }
        s->dimension = (uint32_t)x;
        return true;
    case F_PRECISION:
        /* f4 and f8 are NumPy's names for float32 and float64; b2 and i1
         * the same style for bfloat16 and int8 (weights of f32 models
         * converted by mlp_qmodel_create) */
        s->qtype = mlp_qtype_parse(v);
        s->dtype = MLP_F32;
        if (strcmp(v, "f64") == 0 || strcmp(v, "f8") == 0)
            s->dtype = MLP_F64;
        else if (s->qtype < 0) {
            snprintf(why, n, "'%s' is not one of f32 f64 f4 f8 bf16 b2 int8 i1", v);
            return false;
        }
        snprintf(s->precision, sizeof s->precision, "%s", v);
        return true;
    case F_ACTIVATION:
        if (strcmp(v, "sigmoid") == 0)
            s->act = MLP_ACT_SIGMOID;
        else if (strcmp(v, "tanh") == 0)
            s->act = MLP_ACT_TANH;
        else {
            snprintf(why, n, "'%s' is not one of sigmoid tanh", v);
            return false;
        }
        return true;
    case F_THREADS:
        if (!parse_u64(v, 0, BENCH_MAX_THREADS, &x)) {
            snprintf(why, n, "'%s' is not a thread count from 0 (all cores) to %u", v, BENCH_MAX_THREADS);
            return false;
        }
        s->threads = (int)x;
        return true;
    case F_SEED:
        if (!parse_u64(v, 0, UINT64_MAX, &x)) {
            snprintf(why, n, "'%s' is not a non-negative integer", v);
            return false;
        }
        s->seed = x;
        return true;
    case F_EPSILON: {
        char *end;
        errno = 0;
        double d = (*v == ' ' || *v == '\t') ? NAN : strtod(v, &end);
        if (isnan(d) || end == v || *end || errno || !isfinite(d) || !(d > 0)) {
            snprintf(why, n, "'%s' is not a positive finite number", v);
            return false;
        }
        if (s->n_eps == BENCH_MAX_EPS) {
            snprintf(why, n, "more than %d epsilons", BENCH_MAX_EPS);
            return false;
        }
        s->eps[s->n_eps++] = d;
        return true;
    }
    }
    return false;
}

/* ------------------------------------------------------ memory bandwidth */

struct bw_slice {
    const double *p;
    size_t n;
    double sum;
};

static void *bw_sum(void *arg)
{
    struct bw_slice *s = arg;
    /* eight independent sums, so that the adds keep up with the loads */
    double a[8] = {0};
    size_t i = 0;
    for (; i + 8 <= s->n; i += 8)
        for (int k = 0; k < 8; k++) a[k] += s->p[i + k];
    for (; i < s->n; i++) a[0] += s->p[i];
    s->sum = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Streaming-read bandwidth in GB/s with `threads` threads: the best of three
 * sums over a buffer well beyond the last-level cache, or 0 when the buffer
 * or a thread cannot be had. */
static double measure_bandwidth(int threads, size_t *bytes_out)
{
    /* 512 MB, or four times the last-level cache where that is larger (sysfs:
     * sysconf's cache sizes come from CPUID, which virtual machines misreport) */
    size_t bytes = (size_t)512 << 20;
    FILE *f = fopen("/sys/devices/system/cpu/cpu0/cache/index3/size", "r");
    unsigned long kb = 0;
    if (f) {
        if (fscanf(f, "%luK", &kb) == 1 && kb < (1ul << 22) && (size_t)kb * 4 * 1024 > bytes)
            bytes = (size_t)kb * 4 * 1024;
        fclose(f);
    }
    *bytes_out = bytes;
    size_t n = bytes / sizeof(double);
    double *buf = malloc(n * sizeof *buf);
    struct bw_slice *sl = calloc((size_t)threads, sizeof *sl);
    pthread_t *tid = calloc((size_t)threads, sizeof *tid);
    double best = 0;
    if (!buf || !sl || !tid) goto done;
    for (size_t i = 0; i < n; i++) buf[i] = 1.0; /* touch every page before timing */
    for (int rep = 0; rep < 3; rep++) {
        size_t per = n / (size_t)threads;
        for (int t = 0; t < threads; t++)
            sl[t] = (struct bw_slice){buf + (size_t)t * per, t + 1 == threads ? n - (size_t)t * per : per, 0};
        double t0 = now_s();
        int started = 0;
        for (; started + 1 < threads; started++)
            if (pthread_create(&tid[started], NULL, bw_sum, &sl[started + 1]) != 0) break;
        bw_sum(&sl[0]);
        for (int t = 0; t < started; t++) pthread_join(tid[t], NULL);
        double dt = now_s() - t0;
        if (started + 1 < threads) goto done; /* could not run every slice */
        double total = 0;
        for (int t = 0; t < threads; t++) total += sl[t].sum;
        if (total != (double)n) goto done; /* every element is 1.0: the reads happened */
        if (dt > 0 && (double)bytes / dt / 1e9 > best) best = (double)bytes / dt / 1e9;
    }
done:
    free(tid);
    free(sl);
    free(buf);
    return best;
}

/* ----------------------------------------------------------- the run */

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The activation in f64 with its exponent argument clipped, so that neither
 * exp overflow nor underflow can occur:  sigmoid(z) = 1 / (1 + e^-z). */
static double ref_act(enum mlp_act act, double z)
{
    if (z > 700) z = 700;
    if (z < -700) z = -700;
    if (act == MLP_ACT_SIGMOID) return z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z));
    if (act == MLP_ACT_TANH) return tanh(z);
    return z;
}

/* An independent forward pass in f64 over the model's own weights: plain
 * loops, no BLAS.  Returns the largest |out[j] - ref[j]|, or NAN on no memory. */
static double reference_error(const struct mlp_model *m, const double *x, const double *out)
{
    uint32_t D = mlp_model_n_in(m), L = mlp_model_n_layers(m);
    double *a = malloc(D * sizeof *a), *z = malloc(D * sizeof *z);
    if (!a || !z) {
        free(a);
        free(z);
        return NAN;
    }
    memcpy(a, x, D * sizeof *a);
    const void *P = mlp_model_params_const(m);
    bool f32 = mlp_model_dtype(m) == MLP_F32;
    for (uint32_t l = 0; l < L; l++) {
        size_t wo = mlp_model_w_offset(m, l), bo = mlp_model_b_offset(m, l);
        enum mlp_act act = mlp_model_layer(m, l).act;
        for (uint32_t j = 0; j < D; j++) {
            double s = f32 ? ((const float *)P)[bo + j] : ((const double *)P)[bo + j];
            if (f32) {
                const float *w = (const float *)P + wo + (size_t)j * D;
                for (uint32_t i = 0; i < D; i++) s += (double)w[i] * a[i];
            } else {
                const double *w = (const double *)P + wo + (size_t)j * D;
                for (uint32_t i = 0; i < D; i++) s += w[i] * a[i];
            }
            z[j] = ref_act(act, s);
        }
        memcpy(a, z, D * sizeof *a);
    }
    double worst = 0;
    for (uint32_t j = 0; j < D; j++) {
        double e = fabs(out[j] - a[j]);
        if (!(e <= worst)) worst = e; /* NaN sticks */
    }
    free(a);
    free(z);
    return worst;
}

static const char *fe_names(int flags, char *buf, size_t n)
{
    snprintf(buf, n, "%s%s%s%s", flags & FE_OVERFLOW ? " overflow" : "", flags & FE_UNDERFLOW ? " underflow" : "",
             flags & FE_DIVBYZERO ? " divide-by-zero" : "", flags & FE_INVALID ? " invalid" : "");
    return *buf ? buf + 1 : "none";
}

static int run_bench(const char *cmd, const struct bench_spec *s, const char *config)
{
    int threads = s->threads;
    int rc = cli_check_threads(cmd, threads); /* in range already: the warning above the cores */
    if (rc != EXIT_OK) return rc;
    if (threads <= 0) {
        long nc = sysconf(_SC_NPROCESSORS_ONLN);
        threads = nc > 0 ? (int)(nc < BENCH_MAX_THREADS ? nc : BENCH_MAX_THREADS) : 1;
    }
    struct mlp_context *cx;
    if ((rc = cli_context(cmd, threads, MLP_KERNELS_FAST, &cx)) != EXIT_OK) return rc;
    uint32_t L = s->layers, D = s->dimension;

    /* L layers of D x D, every one applying the activation: L-1 hidden
     * layers, then an output layer whose MSE head applies the same one. */
    struct mlp_layer_spec *hidden = L > 1 ? calloc(L - 1, sizeof *hidden) : NULL;
    if (L > 1 && !hidden) return cli_fail(cmd, MLP_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i + 1 < L; i++) hidden[i] = (struct mlp_layer_spec){D, s->act};
    struct mlp_model_params mp = mlp_model_params_default();
    mp.dtype = s->dtype;
    mp.n_in = D;
    mp.n_hidden = L - 1;
    mp.hidden = hidden;
    mp.n_out = D;
    mp.head = s->act == MLP_ACT_SIGMOID ? MLP_HEAD_SIGMOID_MSE : MLP_HEAD_TANH_MSE;
    mp.ctx = cx;
    struct mlp_error err = {0};
    struct mlp_model *m = NULL;
    enum mlp_status st = mlp_model_create(&m, &mp, &err);
    free(hidden);
    if (st != MLP_OK) return cli_fail(cmd, st, err.msg);
    /* U(-1/sqrt(D), 1/sqrt(D)) keeps each pre-activation O(1), as seed 003's
     * small random weights do: no layer saturates. */
    double r = 1 / sqrt((double)D);
    if ((st = mlp_model_init(m, MLP_INIT_UNIFORM, -r, r, s->seed)) != MLP_OK) {
        mlp_model_free(m);
        return cli_fail(cmd, st, mlp_status_str(st));
    }

    /* one input vector in [0, 1), in the model's element type */
    double *x = malloc(D * sizeof *x), *out = malloc(D * sizeof *out);
    void *xin = malloc(D * (s->dtype == MLP_F32 ? sizeof(float) : sizeof(double)));
    if (!x || !out || !xin) {
        free(x), free(out), free(xin);
        mlp_model_free(m);
        return cli_fail(cmd, MLP_ERR_NOMEM, "out of memory");
    }
    uint64_t rs = s->seed ^ 0x5EED0003ull;
    for (uint32_t i = 0; i < D; i++) {
        x[i] = (double)(splitmix64(&rs) >> 11) * 0x1.0p-53;
        if (s->dtype == MLP_F32) {
            ((float *)xin)[i] = (float)x[i];
            x[i] = (float)x[i]; /* the reference sees what the model sees */
        } else {
            ((double *)xin)[i] = x[i];
        }
    }
    struct mlp_dataset ds = {.n_rows = 1, .n_cols = D, .x_type = s->dtype == MLP_F32 ? MLP_ELEM_F32 : MLP_ELEM_F64,
                             .x = xin};

    size_t bw_bytes;
    double bw = measure_bandwidth(threads, &bw_bytes);

    if (s->name)
        printf("bench %s (%s): ", s->name, config);
    else
        printf("bench quick: ");
    printf("%s, %u layer(s) of %ux%u %s, batch 1, %u run(s), %d thread(s), seed %llu\n", s->precision, L, D, D,
           mlp_act_name(s->act), s->nepochs, threads, (unsigned long long)s->seed);
    fflush(stdout);

    /* f32, bf16 and int8 run through the inference path (weights packed once,
     * kernels chosen by CPU feature); f64 through the model's own pass. */
    struct mlp_qmodel *qm = NULL;
    if (s->qtype >= 0) st = mlp_qmodel_create(&qm, m, (enum mlp_qtype)s->qtype, NULL, &err);
    /* one untimed run first: the BLAS's thread pool and the pass's buffers */
    if (st == MLP_OK) st = qm ? mlp_qmodel_predict(qm, &ds, 0, 1, out, &err) : mlp_model_predict(m, &ds, 0, 1, out, &err);
    feclearexcept(FE_ALL_EXCEPT);
    double t0 = now_s();
    for (uint32_t e = 0; e < s->nepochs && st == MLP_OK; e++)
        st = qm ? mlp_qmodel_predict(qm, &ds, 0, 1, out, &err) : mlp_model_predict(m, &ds, 0, 1, out, &err);
    double secs = now_s() - t0;
    int fe = fetestexcept(FE_OVERFLOW | FE_UNDERFLOW | FE_DIVBYZERO | FE_INVALID);
    if (st != MLP_OK) {
        free(x), free(out), free(xin);
        mlp_qmodel_free(qm);
        mlp_model_free(m);
        return cli_fail(cmd, st, err.msg);
    }

    double elem = s->dtype == MLP_F32 ? sizeof(float) : sizeof(double);
    double bytes_run = qm ? (double)mlp_qmodel_weight_bytes(qm) : (double)L * D * D * elem, flop_run = 2.0 * L * D * D;
    double gbs = secs > 0 ? bytes_run * s->nepochs / secs / 1e9 : INFINITY;
    double gfs = secs > 0 ? flop_run * s->nepochs / secs / 1e9 : INFINITY;
    printf("Total time for %u run(s) was %.6f ms\n", s->nepochs, secs * 1e3);
    printf("weights streamed: %.2f GB/s (%.1f MB of weights per run)\n", gbs, bytes_run / 1e6);
    printf("compute: %.2f GFLOP/s (%.4g GFLOP per run)\n", gfs, flop_run / 1e9);
    if (bw > 0)
        printf("memory bandwidth (measured, read, %d thread(s), %zu MB buffer): %.1f GB/s; this run: %.0f%% of it\n",
               threads, bw_bytes >> 20, bw, 100 * gbs / bw);
    else
        printf("memory bandwidth: not measured (no %zu MB buffer)\n", bw_bytes >> 20);
    printf("BLAS: %s\n", mlp_blas_info());
    if (qm) printf("kernel: %s (%s weights)\n", mlp_qmodel_kernel(qm), mlp_qtype_name(mlp_qmodel_qtype(qm)));

    /* Seed 003 checks its numbers: here the last output against a plain f64
     * forward pass over the same weights, and each epsilon as a bound on
     * the largest absolute difference. */
    double worst = reference_error(m, x, out);
    char feb[64];
    printf("check: max |output - f64 reference| = %.3g; floating-point exceptions in the timed runs: %s\n", worst,
           fe_names(fe, feb, sizeof feb));
    rc = EXIT_OK;
    for (size_t k = 0; k < s->n_eps; k++) {
        bool ok = worst <= s->eps[k];
        printf("epsilon %g: %s\n", s->eps[k], ok ? "ok" : "FAILED");
        if (!ok) rc = EXIT_FAIL;
    }
    if (isnan(worst)) rc = EXIT_FAIL;
    free(x), free(out), free(xin);
    mlp_qmodel_free(qm);
    mlp_model_free(m);
    if (rc != EXIT_OK) fprintf(stderr, "fastmlp %s: the numerical check failed\n", cmd);
    return rc;
}

/* ---------------------------------------------------------- bench quick */

static int bench_quick(int argc, char **argv)
{
    const char *cmd = "bench quick";
    const char *v[F_EPSILON + 1] = {0};
    const struct opt opts[] = {
        {"--nepochs", 'n', OPT_STR, &v[F_NEPOCHS], "N", "how many runs (epochs) to time (required)", "Benchmark"},
        {"--precision", 'p', OPT_STR, &v[F_PRECISION], "P",
         "f32 f64 bf16 int8, or f4 f8 b2 i1 (f32 bf16 int8: the inference kernels; required)",
         "Benchmark"},
        {"--layers", 'l', OPT_STR, &v[F_LAYERS], "L", "hidden layers (required)", "Benchmark"},
        {"--dimension", 'd', OPT_STR, &v[F_DIMENSION], "D", "units per layer: each layer is D x D (required)",
         "Benchmark"},
        {"--activation", 'a', OPT_STR, &v[F_ACTIVATION], "A", "sigmoid tanh (required)", "Benchmark"},
        {"--threads", 't', OPT_STR, &v[F_THREADS], "T", "threads [all cores]", "Benchmark"},
        {"--epsilon", 'e', OPT_STR, &v[F_EPSILON], "E[,E...]", "fail if the output is further than E from an f64 reference",
         "Benchmark"},
        {"--seed", 0, OPT_STR, &v[F_SEED], "N", "weights and input [1]", "Benchmark"},
        {0}};
    const char *pos[1];
    int n_pos;
    bool help;
    int rc = cli_parse(cmd, argc, argv, 3, opts, pos, 0, &n_pos, &help);
    if (rc != EXIT_OK) return rc;
    if (help) {
        cli_print_help(stdout,
                       "usage: fastmlp bench quick -n N -p f32|f64|bf16|int8 -l L -d D -a sigmoid|tanh [-t T]\n\n"
                       "Times N batch-1 inferences through L layers of D x D (weights, bias, activation), seed 003's\n"
                       "quick benchmark, and reports weights streamed (GB/s), GFLOP/s and the share of the memory\n"
                       "bandwidth measured at startup.",
                       opts);
        return EXIT_OK;
    }
    struct bench_spec s = {.seed = 1};
    static const char *const names[] = {[F_NEPOCHS] = "--nepochs", [F_PRECISION] = "--precision",
                                        [F_LAYERS] = "--layers", [F_DIMENSION] = "--dimension",
                                        [F_ACTIVATION] = "--activation"};
    for (int f = F_NEPOCHS; f <= F_ACTIVATION; f++)
        if (!v[f]) return cli_usage_error(cmd, "option '%s' is required", names[f]);
    char why[200];
    for (int f = F_NEPOCHS; f <= F_SEED; f++) {
        if (!v[f]) continue;
        if (!set_field(&s, (enum field)f, v[f], why, sizeof why)) {
            const char *o = f == F_THREADS ? "--threads" : f == F_SEED ? "--seed" : names[f];
            return cli_usage_error(cmd, "option '%s': %s", o, why);
        }
    }
    if (v[F_EPSILON]) {
        /* "1e-6,1e-4": each one checked */
        char buf[512];
        snprintf(buf, sizeof buf, "%s", v[F_EPSILON]);
        char *save = NULL;
        for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
            if (!set_field(&s, F_EPSILON, t, why, sizeof why)) return cli_usage_error(cmd, "option '--epsilon': %s", why);
        if (s.n_eps == 0) return cli_usage_error(cmd, "option '--epsilon': no value");
    }
    return run_bench(cmd, &s, NULL);
}

/* ------------------------------------------------- bench --config FILE */

/*
 * Seed 003's schema, version 1:
 *   version: 1
 *   benchmark:   {name, nepochs, seed}          (seed: a fastmlp addition)
 *   shape:       {layers, dimension}
 *   math:        {precision, epsilons, activation}   epsilons: a list or one value
 *   performance: {threads}
 * Sections are mappings of scalars.  Errors name the file, the line and the
 * key path.  A version other than 1 is refused before anything else is
 * judged, since a later schema may have keys this one does not know.
 */
enum kkind { K_MAP, K_SCALAR, K_LIST };
struct key {
    const char *path;
    enum kkind kind;
    bool required;
    int field; /* enum field, or -1 */
};
static const struct key schema[] = {
    {"version", K_SCALAR, true, -1},
    {"benchmark", K_MAP, true, -1},
    {"benchmark.name", K_SCALAR, false, F_NAME},
    {"benchmark.nepochs", K_SCALAR, true, F_NEPOCHS},
    {"benchmark.seed", K_SCALAR, false, F_SEED},
    {"shape", K_MAP, true, -1},
    {"shape.layers", K_SCALAR, true, F_LAYERS},
    {"shape.dimension", K_SCALAR, true, F_DIMENSION},
    {"math", K_MAP, true, -1},
    {"math.precision", K_SCALAR, true, F_PRECISION},
    {"math.epsilons", K_LIST, false, F_EPSILON},
    {"math.activation", K_SCALAR, true, F_ACTIVATION},
    {"performance", K_MAP, false, -1},
    {"performance.threads", K_SCALAR, false, F_THREADS},
};
#define N_KEYS (sizeof schema / sizeof schema[0])

/* One value as read (lists: one per item). */
struct item {
    int key; /* index into schema */
    char *value;
    unsigned line;
};

struct yreader {
    const char *cmd, *path;
    yaml_parser_t parser;
    yaml_event_t ev;
    bool have_ev;
    unsigned seen_line[N_KEYS]; /* 0: not seen */
    struct item *items;
    size_t n_items, cap_items;
    /* the first schema error, kept until the version has been judged */
    char first_err[400];
    bool have_err;
};

static int ybad(struct yreader *r, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int ybad(struct yreader *r, unsigned line, const char *fmt, ...)
{
    if (r->have_err) return EXIT_USAGE;
    char buf[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    snprintf(r->first_err, sizeof r->first_err, "%s:%u: %s", r->path, line, buf);
    r->have_err = true;
    return EXIT_USAGE;
}

static int ynext(struct yreader *r)
{
    if (r->have_ev) yaml_event_delete(&r->ev);
    r->have_ev = false;
    if (!yaml_parser_parse(&r->parser, &r->ev)) {
        const yaml_parser_t *p = &r->parser;
        if (p->error == YAML_MEMORY_ERROR) return EXIT_SOFTWARE;
        /* a syntax error ends the reading: it is printed at once */
        if (p->error == YAML_READER_ERROR)
            fprintf(stderr, "fastmlp %s: %s: byte %zu: %s\n", r->cmd, r->path, p->problem_offset,
                    p->problem ? p->problem : "cannot read the YAML text");
        else
            fprintf(stderr, "fastmlp %s: %s:%zu:%zu: YAML syntax error: %s\n", r->cmd, r->path,
                    p->problem_mark.line + 1, p->problem_mark.column + 1, p->problem ? p->problem : "malformed");
        return EXIT_DATAERR; /* told apart from schema errors; the caller maps it to EXIT_USAGE */
    }
    r->have_ev = true;
    return EXIT_OK;
}

static unsigned yline(const yaml_event_t *ev)
{
    return (unsigned)ev->start_mark.line + 1;
}

static bool yis_null(const yaml_event_t *ev)
{
    if (ev->type != YAML_SCALAR_EVENT) return false;
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return false;
    const char *v = (const char *)ev->data.scalar.value;
    return !*v || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

static int add_item(struct yreader *r, int key, unsigned line)
{
    const yaml_event_t *ev = &r->ev;
    if (memchr(ev->data.scalar.value, 0, ev->data.scalar.length))
        return ybad(r, line, "%s: the value holds a NUL byte", schema[key].path);
    if (r->n_items == r->cap_items) {
        size_t cap = r->cap_items ? 2 * r->cap_items : 16;
        struct item *ni = realloc(r->items, cap * sizeof *ni);
        if (!ni) return EXIT_SOFTWARE;
        r->items = ni;
        r->cap_items = cap;
    }
    char *v = malloc(ev->data.scalar.length + 1);
    if (!v) return EXIT_SOFTWARE;
    memcpy(v, ev->data.scalar.value, ev->data.scalar.length);
    v[ev->data.scalar.length] = 0;
    r->items[r->n_items++] = (struct item){key, v, line};
    return EXIT_OK;
}

/* Skip the value that starts at the current event (after a schema error,
 * so that the rest of the file is still checked for syntax). */
static int skip_value(struct yreader *r)
{
    int depth = 0, rc;
    do {
        if (r->ev.type == YAML_MAPPING_START_EVENT || r->ev.type == YAML_SEQUENCE_START_EVENT) depth++;
        if (r->ev.type == YAML_MAPPING_END_EVENT || r->ev.type == YAML_SEQUENCE_END_EVENT) depth--;
        if (depth > 0 && (rc = ynext(r)) != EXIT_OK) return rc;
    } while (depth > 0);
    return EXIT_OK;
}

static const char *ykind(yaml_event_type_t t)
{
    return t == YAML_MAPPING_START_EVENT ? "a mapping" : t == YAML_SEQUENCE_START_EVENT ? "a list" : t == YAML_ALIAS_EVENT ? "an alias" : "a value";
}

/* The mapping that starts at the current event; `prefix` is "" at the top. */
static int read_map(struct yreader *r, const char *prefix)
{
    int rc;
    for (;;) {
        if ((rc = ynext(r)) != EXIT_OK) return rc;
        if (r->ev.type == YAML_MAPPING_END_EVENT) return EXIT_OK;
        unsigned line = yline(&r->ev);
        char path[160];
        int key = -1;
        bool accept = false;
        if (r->ev.type != YAML_SCALAR_EVENT || yis_null(&r->ev)) {
            ybad(r, line, "%s%sa key must be a name", prefix, *prefix ? ": " : "");
        } else {
            snprintf(path, sizeof path, "%s%s%.100s", prefix, *prefix ? "." : "", (const char *)r->ev.data.scalar.value);
            for (size_t k = 0; k < N_KEYS && key < 0; k++)
                if (strcmp(schema[k].path, path) == 0) key = (int)k;
            if (key < 0)
                ybad(r, line, "unknown key '%s'", path);
            else if (r->seen_line[key])
                ybad(r, line, "duplicate key '%s' (first on line %u)", path, r->seen_line[key]);
            else
                r->seen_line[key] = line, accept = true;
        }
        if (r->ev.type != YAML_SCALAR_EVENT && (rc = skip_value(r)) != EXIT_OK) return rc; /* a complex key */
        if ((rc = ynext(r)) != EXIT_OK) return rc;
        yaml_event_type_t t = r->ev.type;
        if (!accept) {
            if ((rc = skip_value(r)) != EXIT_OK) return rc;
            continue;
        }
        const struct key *k = &schema[key];
        if (t == YAML_ALIAS_EVENT) {
            ybad(r, line, "%s: aliases are not supported", k->path);
        } else if (yis_null(&r->ev)) {
            ybad(r, line, "%s has no value", k->path);
        } else if (k->kind == K_MAP) {
            if (t == YAML_MAPPING_START_EVENT) {
                if ((rc = read_map(r, k->path)) != EXIT_OK && rc != EXIT_USAGE) return rc;
                continue;
            }
            ybad(r, line, "%s must be a mapping of keys, not %s", k->path, ykind(t));
        } else if (t == YAML_SCALAR_EVENT) {
            if ((rc = add_item(r, key, line)) != EXIT_OK && rc != EXIT_USAGE) return rc;
            continue;
        } else if (k->kind == K_LIST && t == YAML_SEQUENCE_START_EVENT) {
            for (;;) {
                if ((rc = ynext(r)) != EXIT_OK) return rc;
                if (r->ev.type == YAML_SEQUENCE_END_EVENT) break;
                unsigned il = yline(&r->ev);
                if (r->ev.type != YAML_SCALAR_EVENT || yis_null(&r->ev)) {
                    ybad(r, il, "%s: an item must be a number, not %s", k->path,
                         r->ev.type == YAML_SCALAR_EVENT ? "empty" : ykind(r->ev.type));
                    if ((rc = skip_value(r)) != EXIT_OK) return rc;
                } else if ((rc = add_item(r, key, il)) != EXIT_OK && rc != EXIT_USAGE) {
                    return rc;
                }
            }
            continue;
        } else {
            ybad(r, line, "%s must be a single value, not %s", k->path, ykind(t));
        }
        if ((rc = skip_value(r)) != EXIT_OK) return rc;
    }
}

static int read_yaml_stream(struct yreader *r)
{
    int rc, docs = 0;
    if ((rc = ynext(r)) != EXIT_OK) return rc; /* STREAM-START */
    for (;;) {
        if ((rc = ynext(r)) != EXIT_OK) return rc;
        if (r->ev.type == YAML_STREAM_END_EVENT) return EXIT_OK;
        if (r->ev.type != YAML_DOCUMENT_START_EVENT) return ybad(r, yline(&r->ev), "malformed YAML stream");
        if (++docs > 1) ybad(r, yline(&r->ev), "more than one YAML document");
        if ((rc = ynext(r)) != EXIT_OK) return rc;
        if (r->ev.type == YAML_MAPPING_START_EVENT) {
            if ((rc = read_map(r, "")) != EXIT_OK && rc != EXIT_USAGE) return rc;
        } else {
            if (!yis_null(&r->ev)) ybad(r, yline(&r->ev), "the file must be a mapping (version: 1, benchmark: ...)");
            if ((rc = skip_value(r)) != EXIT_OK) return rc;
        }
        if ((rc = ynext(r)) != EXIT_OK) return rc; /* DOCUMENT-END */
    }
}

static int slurp_file(const char *cmd, const char *path, char **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    int e = f ? 0 : errno;
    struct stat sb;
    if (f && fstat(fileno(f), &sb) != 0) e = errno;
    else if (f && S_ISDIR(sb.st_mode)) e = EISDIR;
    if (e) {
        fprintf(stderr, "fastmlp %s: %s: cannot open: %s\n", cmd, path, strerror(e));
        if (f) fclose(f);
        return EXIT_NOINPUT;
    }
    char *b = malloc(BENCH_YAML_MAX_BYTES + 1);
    if (!b) {
        fclose(f);
        fprintf(stderr, "fastmlp %s: %s: out of memory\n", cmd, path);
        return EXIT_SOFTWARE;
    }
    size_t got = fread(b, 1, BENCH_YAML_MAX_BYTES + 1, f);
    int rc = EXIT_OK;
    if (ferror(f)) {
        fprintf(stderr, "fastmlp %s: %s: cannot read: %s\n", cmd, path, strerror(errno));
        rc = EXIT_IOERR;
    } else if (got > BENCH_YAML_MAX_BYTES) {
        fprintf(stderr, "fastmlp %s: %s: larger than %u bytes: not a benchmark file\n", cmd, path, BENCH_YAML_MAX_BYTES);
        rc = EXIT_USAGE;
    }
    fclose(f);
    if (rc != EXIT_OK) {
        free(b);
        return rc;
    }
    b[got] = 0;
    *buf = b;
    *len = got;
    return EXIT_OK;
}

/* Read and judge the file into *s.  Returns EXIT_OK or an exit code after one
 * stderr line. */
static int read_bench_yaml(const char *cmd, const char *path, struct bench_spec *s)
{
    char *text;
    size_t len;
    int rc = slurp_file(cmd, path, &text, &len);
    if (rc != EXIT_OK) return rc;
    struct yreader r = {.cmd = cmd, .path = path};
    if (!yaml_parser_initialize(&r.parser)) {
        free(text);
        fprintf(stderr, "fastmlp %s: %s: out of memory\n", cmd, path);
        return EXIT_SOFTWARE;
    }
    yaml_parser_set_input_string(&r.parser, (const unsigned char *)text, len);
    rc = read_yaml_stream(&r);
    if (r.have_ev) yaml_event_delete(&r.ev);
    yaml_parser_delete(&r.parser);
    free(text);
    if (rc == EXIT_DATAERR) {
        rc = EXIT_USAGE; /* syntax: already printed */
        goto out;
    }
    if (rc == EXIT_SOFTWARE) {
        fprintf(stderr, "fastmlp %s: %s: out of memory\n", cmd, path);
        goto out;
    }
    /* the version first: a newer file's other keys are not ours to judge */
    for (size_t i = 0; i < r.n_items; i++) {
        if (strcmp(schema[r.items[i].key].path, "version") != 0) continue;
        uint64_t v;
        const char *val = r.items[i].value;
        if (!parse_u64(val, 0, UINT32_MAX, &v) || v == 0)
            rc = cli_usage_error("bench", "%s:%u: version: '%s' is not a schema version (this build reads version %d)",
                                 path, r.items[i].line, val, BENCH_YAML_VERSION);
        else if (v > BENCH_YAML_VERSION)
            rc = cli_usage_error("bench", "%s:%u: version %llu not supported (this build reads version %d)", path,
                                 r.items[i].line, (unsigned long long)v, BENCH_YAML_VERSION);
        if (rc != EXIT_OK) goto out;
    }
    if (r.have_err) {
        rc = cli_usage_error("bench", "%s", r.first_err);
        goto out;
    }
    for (size_t k = 0; k < N_KEYS; k++) {
        if (r.seen_line[k] || !schema[k].required) continue;
        /* a key in a missing optional section is not required either */
        const char *dot = strchr(schema[k].path, '.');
        unsigned parent_line = 0;
        if (dot) {
            size_t pl = (size_t)(dot - schema[k].path);
            bool parent_seen = false;
            for (size_t p = 0; p < N_KEYS; p++)
                if (strlen(schema[p].path) == pl && strncmp(schema[p].path, schema[k].path, pl) == 0) {
                    parent_seen = r.seen_line[p] != 0 || schema[p].required;
                    parent_line = r.seen_line[p];
                }
            if (!parent_seen) continue;
        }
        if (parent_line)
            rc = cli_usage_error("bench", "%s:%u: %.*s: missing required key '%s'", path, parent_line,
                                 (int)(dot - schema[k].path), schema[k].path, schema[k].path);
        else
            rc = cli_usage_error("bench", "%s: missing required key '%s'", path, schema[k].path);
        goto out;
    }
    for (size_t i = 0; i < r.n_items; i++) {
        const struct key *k = &schema[r.items[i].key];
        if (k->field < 0) continue;
        char why[200];
        if (!set_field(s, (enum field)k->field, r.items[i].value, why, sizeof why)) {
            rc = cli_usage_error("bench", "%s:%u: %s: %s", path, r.items[i].line, k->path, why);
            goto out;
        }
    }
out:
    for (size_t i = 0; i < r.n_items; i++) free(r.items[i].value);
    free(r.items);
    return rc;
}

static void bench_help(void)
{
    printf("usage: fastmlp bench quick -n N -p f32|f64|bf16|int8 -l L -d D -a sigmoid|tanh [-t T] [--seed N]\n"
           "       fastmlp bench infer --model FILE --data FILE [--labels FILE] [--runs N] [--latency-rows N]\n"
           "       fastmlp bench ladder [--workload w1|w2|all] [--epochs N] [--short-epochs N]\n"
           "       fastmlp bench --config FILE.yaml\n\n"
           "Seed 003's benchmark: N batch-1 inferences through L layers of D x D.  'fastmlp bench quick --help'\n"
           "lists the flags; 'fastmlp bench infer --help' those of the inference benchmark of a trained\n"
           "model (batch throughput and batch-1 latency).  The YAML file (version 1):\n\n"
           "  version: 1\n"
           "  benchmark:\n"
           "    name: my-bench      # optional\n"
           "    nepochs: 50\n"
           "    seed: 1             # optional (a fastmlp addition)\n"
           "  shape:\n"
           "    layers: 100\n"
           "    dimension: 1024\n"
           "  math:\n"
           "    precision: f32      # f32 f64 bf16 int8 (f4 f8 b2 i1)\n"
           "    epsilons: [1e-6]    # optional; a list or one number\n"
           "    activation: sigmoid # sigmoid tanh\n"
           "  performance:          # optional\n"
           "    threads: 2          # 0 or absent: all cores\n\n"
           "Each epsilon bounds the largest difference between the output and a plain f64 forward pass\n"
           "over the same weights; a bound exceeded fails the run (exit 1).\n");
}

int cmd_bench(int argc, char **argv)
{
    const char *cmd = "bench";
    if (argc >= 3 && strcmp(argv[2], "quick") == 0) return bench_quick(argc, argv);
    if (argc >= 3 && strcmp(argv[2], "infer") == 0) return cmd_bench_infer(argc, argv);
    if (argc >= 3 && strcmp(argv[2], "ladder") == 0) return cmd_bench_ladder(argc, argv);
    /* `bench --config FILE` is read here, not by cli_parse: its file is
     * seed 003's nested schema, not the flat options file of the others. */
    const char *config = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            bench_help();
            return EXIT_OK;
        }
    }
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--config") == 0 || strncmp(a, "--config=", 9) == 0) {
            if (config) return cli_usage_error(cmd, "option '--config' given more than once");
            config = a[8] == '=' ? a + 9 : i + 1 < argc ? argv[++i] : "";
            if (!*config) return cli_usage_error(cmd, "option '--config' needs FILE");
        } else {
            return cli_usage_error(cmd, "unexpected argument '%s' (expected 'quick' or '--config FILE')", a);
        }
    }
    if (!config) return cli_usage_error(cmd, "expected 'quick' or '--config FILE'");
    struct bench_spec s = {.seed = 1};
    int rc = read_bench_yaml(cmd, config, &s);
    if (rc != EXIT_OK) return rc;
    if (!s.name) s.name = "unnamed";
    rc = run_bench(cmd, &s, config);
    return rc;
}
