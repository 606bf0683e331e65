/* SPDX-License-Identifier: MIT */
/* `fastmlp bench`: seed 003's benchmark tool.  `bench quick` times batch-1
 * inference through L dense DxD layers and sets the figure against the
 * machine's measured memory bandwidth; `bench --config FILE.yaml` reads the
 * same benchmark from seed 003's YAML file (bench_spec.c). */
#include "bench_spec.h"
#include "cli.h"

#include <fenv.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

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
        double t0 = mlp_now();
        int started = 0;
        for (; started + 1 < threads; started++)
            if (pthread_create(&tid[started], NULL, bw_sum, &sl[started + 1]) != 0) break;
        bw_sum(&sl[0]);
        for (int t = 0; t < started; t++) pthread_join(tid[t], NULL);
        double dt = mlp_now() - t0;
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

/* The benchmark's network: L layers of D x D, every one applying the
 * activation (L-1 hidden layers, then an output layer whose MSE head applies
 * the same one), with weights U(-1/sqrt(D), 1/sqrt(D)): each pre-activation
 * stays O(1), as seed 003's small random weights keep it, and no layer
 * saturates. */
static enum mlp_status bench_model(const struct bench_spec *s, struct mlp_model **m, struct mlp_error *err)
{
    uint32_t L = s->layers, D = s->dimension;
    struct mlp_layer_spec *hidden = L > 1 ? calloc(L - 1, sizeof *hidden) : NULL;
    if (L > 1 && !hidden) {
        snprintf(err->msg, sizeof err->msg, "out of memory");
        return err->status = MLP_ERR_NOMEM;
    }
    for (uint32_t i = 0; i + 1 < L; i++) hidden[i] = (struct mlp_layer_spec){D, s->act};
    struct mlp_model_params mp = mlp_model_params_default();
    mp.dtype = s->dtype;
    mp.n_in = D;
    mp.n_hidden = L - 1;
    mp.hidden = hidden;
    mp.n_out = D;
    mp.head = s->act == MLP_ACT_SIGMOID ? MLP_HEAD_SIGMOID_MSE : MLP_HEAD_TANH_MSE;
    enum mlp_status st = mlp_model_create(m, &mp, err);
    free(hidden);
    double r = 1 / sqrt((double)D);
    if (st == MLP_OK && (st = mlp_model_init(*m, MLP_INIT_UNIFORM, -r, r, s->seed)) != MLP_OK)
        snprintf(err->msg, sizeof err->msg, "%s", mlp_status_str(st));
    return st;
}

/* One input vector in [0, 1): x in f64 for the reference (as the model sees
 * it: rounded to f32 for an f32 model) and xin in the model's element type. */
struct bench_input {
    double *x, *out;
    void *xin;
    struct mlp_dataset ds;
};

static enum mlp_status bench_input(const struct bench_spec *s, struct bench_input *in, struct mlp_error *err)
{
    uint32_t D = s->dimension;
    bool f32 = s->dtype == MLP_F32;
    in->x = malloc(D * sizeof *in->x);
    in->out = malloc(D * sizeof *in->out);
    in->xin = malloc(D * (f32 ? sizeof(float) : sizeof(double)));
    if (!in->x || !in->out || !in->xin) {
        snprintf(err->msg, sizeof err->msg, "out of memory");
        return err->status = MLP_ERR_NOMEM;
    }
    struct mlp_rng rng;
    mlp_rng_seed(&rng, s->seed ^ 0x5EED0003ull);
    for (uint32_t i = 0; i < D; i++) {
        in->x[i] = mlp_rng_uniform(&rng);
        if (f32) {
            ((float *)in->xin)[i] = (float)in->x[i];
            in->x[i] = (float)in->x[i];
        } else {
            ((double *)in->xin)[i] = in->x[i];
        }
    }
    in->ds = (struct mlp_dataset){.n_rows = 1, .n_cols = D, .x_type = f32 ? MLP_ELEM_F32 : MLP_ELEM_F64, .x = in->xin};
    return MLP_OK;
}

static void bench_input_free(struct bench_input *in)
{
    free(in->x);
    free(in->out);
    free(in->xin);
}

/* The timed runs: one untimed run first (the BLAS's thread pool and the
 * pass's buffers), then nepochs batch-1 predictions; the seconds they took
 * and the floating-point exceptions they raised. */
static enum mlp_status time_runs(const struct bench_spec *s, const struct mlp_model *m, const struct mlp_qmodel *qm,
                                 struct bench_input *in, double *secs, int *fe, struct mlp_error *err)
{
    enum mlp_status st = qm ? mlp_qmodel_predict(qm, &in->ds, MLP_ROWS(0, 1), in->out, err)
                            : mlp_model_predict(m, &in->ds, MLP_ROWS(0, 1), in->out, err);
    feclearexcept(FE_ALL_EXCEPT);
    double t0 = mlp_now();
    for (uint32_t e = 0; e < s->nepochs && st == MLP_OK; e++)
        st = qm ? mlp_qmodel_predict(qm, &in->ds, MLP_ROWS(0, 1), in->out, err)
                : mlp_model_predict(m, &in->ds, MLP_ROWS(0, 1), in->out, err);
    *secs = mlp_now() - t0;
    *fe = fetestexcept(FE_OVERFLOW | FE_UNDERFLOW | FE_DIVBYZERO | FE_INVALID);
    return st;
}

/* Seed 003's figure (its "Total time" line, and its "Completed" line for a
 * named benchmark), then throughput against the measured bandwidth. */
static void print_figures(const struct bench_spec *s, const struct mlp_qmodel *qm, double secs, int threads,
                          double bw, size_t bw_bytes)
{
    uint32_t L = s->layers, D = s->dimension;
    double elem = s->dtype == MLP_F32 ? sizeof(float) : sizeof(double);
    double bytes_run = qm ? (double)mlp_qmodel_weight_bytes(qm) : (double)L * D * D * elem, flop_run = 2.0 * L * D * D;
    double gbs = secs > 0 ? bytes_run * s->nepochs / secs / 1e9 : INFINITY;
    double gfs = secs > 0 ? flop_run * s->nepochs / secs / 1e9 : INFINITY;
    printf("Total time for %u run(s) was %.6f ms\n", s->nepochs, secs * 1e3);
    if (s->name) printf("Completed \"%s\" in %.6f ms\n", s->name, secs * 1e3);
    printf("weights streamed: %.2f GB/s (%.1f MB of weights per run)\n", gbs, bytes_run / 1e6);
    printf("compute: %.2f GFLOP/s (%.4g GFLOP per run)\n", gfs, flop_run / 1e9);
    if (bw > 0)
        printf("memory bandwidth (measured, read, %d thread(s), %zu MB buffer): %.1f GB/s; this run: %.0f%% of it\n",
               threads, bw_bytes >> 20, bw, 100 * gbs / bw);
    else
        printf("memory bandwidth: not measured (no %zu MB buffer)\n", bw_bytes >> 20);
    printf("BLAS: %s\n", mlp_blas_info());
    if (qm) printf("kernel: %s (%s weights)\n", mlp_qmodel_kernel(qm), mlp_qtype_name(mlp_qmodel_qtype(qm)));
}

/* Seed 003's math.epsilons are margins of its clips: sigmoid's exponent
 * is clipped at log(max) - epsilon_exp so that exp cannot overflow (its
 * NumPy raises on overflow), and a clip of squares at sqrt(max) -
 * epsilon_square is defined but never called.  fastmlp clips the exponent
 * itself, well inside exp's range (mlp_model_predict: exponent clipping),
 * and this pass squares nothing, so they are checked and shown, not used. */
static void print_seed_epsilons(const struct bench_spec *s)
{
    if (!s->have_eps_exp && !s->have_eps_square) return;
    printf("seed 003 epsilons:");
    if (s->have_eps_exp) printf(" epsilon_exp %g", s->eps_exp);
    if (s->have_eps_square) printf("%s epsilon_square %g", s->have_eps_exp ? "," : "", s->eps_square);
    printf(" (accepted, not needed: fastmlp clips sigmoid's exponent where exp cannot overflow, and this pass "
           "squares nothing)\n");
}

/* The numbers checked: the last output against a plain f64 forward pass
 * over the same weights, each error bound (--epsilon, max_error) as a bound
 * on the largest absolute difference.  EXIT_OK or EXIT_FAIL. */
static int check_numbers(const char *cmd, const struct bench_spec *s, const struct mlp_model *m,
                         const struct bench_input *in, int fe)
{
    double worst = reference_error(m, in->x, in->out);
    char feb[64];
    printf("check: max |output - f64 reference| = %.3g; floating-point exceptions in the timed runs: %s\n", worst,
           fe_names(fe, feb, sizeof feb));
    print_seed_epsilons(s);
    int rc = isnan(worst) ? EXIT_FAIL : EXIT_OK;
    for (size_t k = 0; k < s->n_eps; k++) {
        bool ok = worst <= s->eps[k];
        printf("epsilon %g: %s\n", s->eps[k], ok ? "ok" : "FAILED");
        if (!ok) rc = EXIT_FAIL;
    }
    if (rc != EXIT_OK) fprintf(stderr, "fastmlp %s: the numerical check failed\n", cmd);
    return rc;
}

static int run_bench(const char *cmd, const struct bench_spec *s, const char *config)
{
    int rc = cli_check_threads(cmd, s->threads); /* in range already: the warning above the cores */
    if (rc != EXIT_OK) return rc;
    struct mlp_context *cx;
    if ((rc = cli_context(cmd, s->threads, MLP_KERNELS_FAST, &cx)) != EXIT_OK) return rc;
    const int threads = mlp_context_threads(cx); /* 0 stood for every core: the report names them */
    struct mlp_error err = {0};
    struct mlp_model *m = NULL;
    struct mlp_qmodel *qm = NULL;
    struct bench_input in = {0};
    enum mlp_status st = bench_model(s, &m, &err);
    if (st == MLP_OK) mlp_model_set_context(m, cx);
    if (st == MLP_OK) st = bench_input(s, &in, &err);
    size_t bw_bytes = 0;
    double bw = st == MLP_OK ? measure_bandwidth(threads, &bw_bytes) : 0, secs = 0;
    if (st == MLP_OK) {
        if (config)
            printf("bench %s (%s): ", s->name ? s->name : "unnamed", config);
        else
            printf("bench quick: ");
        printf("%s, %u layer(s) of %ux%u %s, batch 1, %u run(s), %d thread(s), seed %llu\n", s->precision, s->layers,
               s->dimension, s->dimension, mlp_act_name(s->act), s->nepochs, threads, (unsigned long long)s->seed);
        fflush(stdout);
        /* f32, bf16 and int8 run through the inference path (weights packed
         * once, kernels chosen by CPU feature); f64 through the model's own pass. */
        if (s->qtype >= 0) st = mlp_qmodel_create(&qm, m, (enum mlp_qtype)s->qtype, NULL, &err);
    }
    int fe = 0;
    if (st == MLP_OK) st = time_runs(s, m, qm, &in, &secs, &fe, &err);
    if (st == MLP_OK) {
        print_figures(s, qm, secs, threads, bw, bw_bytes);
        rc = check_numbers(cmd, s, m, &in, fe);
    } else {
        rc = cli_fail(cmd, st, err.msg);
    }
    bench_input_free(&in);
    mlp_qmodel_free(qm);
    mlp_model_free(m);
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
    struct cli_args a = {.cmd = cmd, .first = 3, .opts = opts, .max_pos = 0,
                         .usage = "usage: fastmlp bench quick -n N -p f32|f64|bf16|int8 -l L -d D -a sigmoid|tanh [-t T]\n\n"
                                  "Times N batch-1 inferences through L layers of D x D (weights, bias, activation), seed 003's\n"
                                  "quick benchmark, and reports weights streamed (GB/s), GFLOP/s and the share of the memory\n"
                                  "bandwidth measured at startup."};
    int rc = cli_args_parse(&a, argc, argv);
    if (rc != CLI_RUN) return rc;
    struct bench_spec s = bench_spec_default();
    static const char *const names[] = {[F_NEPOCHS] = "--nepochs", [F_PRECISION] = "--precision",
                                        [F_LAYERS] = "--layers",   [F_DIMENSION] = "--dimension",
                                        [F_ACTIVATION] = "--activation", [F_THREADS] = "--threads",
                                        [F_SEED] = "--seed"};
    for (int f = F_NEPOCHS; f <= F_ACTIVATION; f++)
        if (!v[f]) return cli_usage_error(cmd, "option '%s' is required", names[f]);
    char why[200];
    for (int f = F_NEPOCHS; f <= F_SEED; f++)
        if (v[f] && !bench_set(&s, (enum bench_field)f, v[f], why, sizeof why))
            return cli_usage_error(cmd, "option '%s': %s", names[f], why);
    if (v[F_EPSILON]) {
        /* "1e-6,1e-4": each one checked */
        char buf[512];
        snprintf(buf, sizeof buf, "%s", v[F_EPSILON]);
        char *save = NULL;
        for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
            if (!bench_set(&s, F_EPSILON, t, why, sizeof why)) return cli_usage_error(cmd, "option '--epsilon': %s", why);
        if (s.n_eps == 0) return cli_usage_error(cmd, "option '--epsilon': no value");
    }
    return run_bench(cmd, &s, NULL);
}

static void bench_help(void)
{
    printf("usage: fastmlp bench quick -n N -p f32|f64|bf16|int8 -l L -d D -a sigmoid|tanh [-t T] [--seed N]\n"
           "       fastmlp bench infer --model FILE --data FILE [--labels FILE] [--runs N] [--latency-rows N]\n"
           "       fastmlp bench ladder [--workload w1|w2|all] [--epochs N] [--short-epochs N]\n"
           "       fastmlp bench --config FILE.yaml\n\n"
           "Seed 003's benchmark: N batch-1 inferences through L layers of D x D.  'fastmlp bench quick --help'\n"
           "lists the flags; 'fastmlp bench infer --help' those of the inference benchmark of a trained\n"
           "model (batch throughput and batch-1 latency).  The YAML file is seed 003's (version 1):\n\n"
           "  version: 1\n"
           "  benchmark:\n"
           "    name: \"Hello World!\"    # optional: prints 'Completed \"NAME\" in X ms'\n"
           "    nepochs: 100\n"
           "    seed: 1                 # optional (fastmlp)\n"
           "    shape:\n"
           "      layers: 100\n"
           "      dimension: 128\n"
           "    math:\n"
           "      precision: f4         # f4 f8 (f32 f64), and fastmlp's bf16 int8 (b2 i1)\n"
           "      epsilons:             # optional: seed 003's clip margins, checked (>= 0), not needed\n"
           "        epsilon_exp: 4e-6\n"
           "        epsilon_square: 1e-7\n"
           "      max_error: [1e-6]     # optional (fastmlp): a list or one number\n"
           "      activation: sigmoid   # sigmoid tanh\n"
           "    performance:            # optional\n"
           "      threads: 2            # 0 or absent: all cores\n\n"
           "shape, math and performance may also stand at the top level beside benchmark (the flat layout;\n"
           "there math.epsilons is a list of error bounds, as max_error).  Each error bound is the largest\n"
           "difference allowed between the output and a plain f64 forward pass over the same weights; a\n"
           "bound exceeded fails the run (exit 1).\n");
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
    struct bench_spec s;
    int rc = bench_spec_read(cmd, config, &s);
    return rc != EXIT_OK ? rc : run_bench(cmd, &s, config);
}
