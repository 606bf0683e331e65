/* SPDX-License-Identifier: MIT */
/* `fastmlp bench infer`: how fast a trained model runs on a data set, as
 * batch throughput (every row in one predict call, best of N passes) and as
 * batch-1 latency (one row per call: median, p90, p99, mean), with a final
 * RESULT line for scripts (workload W6). */
#include "cli.h"
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Above this many bytes of outputs the throughput pass is cut into chunks. */
#define INFER_MAX_OUT_BYTES ((uint64_t)256 << 20)

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The p-quantile of sorted v[0..n), interpolated linearly between the two
 * nearest ranks (NumPy's default), so that the peers' figures compare. */
static double quantile(const double *v, size_t n, double p)
{
    double pos = p * (double)(n - 1);
    size_t lo = (size_t)pos;
    if (lo + 1 >= n) return v[n - 1];
    return v[lo] + (pos - (double)lo) * (v[lo + 1] - v[lo]);
}

/* Rows whose class (mlp_class_of) is the label. */
static uint64_t count_right(const double *out, const int32_t *labels, uint64_t row0, uint64_t n, uint32_t K)
{
    uint64_t right = 0;
    for (uint64_t i = 0; i < n; i++)
        right += labels[row0 + i] >= 0 && (uint32_t)labels[row0 + i] == mlp_class_of(out + i * K, K);
    return right;
}

/* The model itself, or its quantised form (--quantize), on the data, with
 * room for the outputs of `chunk` rows. */
struct runner {
    const struct mlp_model *m;
    const struct mlp_qmodel *q;
    const struct mlp_dataset *ds;
    uint64_t chunk;
    uint32_t K;
    double *out;
};

static enum mlp_status run_rows(const struct runner *r, uint64_t row0, uint64_t n, struct mlp_error *err)
{
    return r->q ? mlp_qmodel_predict(r->q, r->ds, MLP_ROWS(row0, n), r->out, err)
                : mlp_model_predict(r->m, r->ds, MLP_ROWS(row0, n), r->out, err);
}

/* (a) Throughput: the best of `runs` timed passes over every row, after an
 * untimed warm-up pass (thread pool, buffers, caches); then the rows right
 * (with labels), counted outside the timed passes: in one pass the outputs
 * are still there, in chunks they are computed once more. */
static enum mlp_status throughput(const struct runner *r, uint32_t runs, double *best, uint64_t *right,
                                  struct mlp_error *err)
{
    const uint64_t N = r->ds->n_rows, chunk = r->chunk;
    enum mlp_status st = MLP_OK;
    *best = INFINITY;
    for (uint32_t k = 0; k <= runs && st == MLP_OK; k++) {
        double t0 = mlp_now();
        for (uint64_t r0 = 0; r0 < N && st == MLP_OK; r0 += chunk) st = run_rows(r, r0, N - r0 < chunk ? N - r0 : chunk, err);
        double dt = mlp_now() - t0;
        if (k > 0 && dt < *best) *best = dt;
    }
    *right = 0;
    for (uint64_t r0 = 0; r0 < N && st == MLP_OK && r->ds->labels; r0 += chunk) {
        uint64_t n = N - r0 < chunk ? N - r0 : chunk;
        if (chunk < N) st = run_rows(r, r0, n, err);
        if (st == MLP_OK) *right += count_right(r->out, r->ds->labels, r0, n, r->K);
    }
    return st;
}

struct latency {
    double median, p90, p99, mean, min;
};

/* (b) Latency: one call per row over the first n rows, each timed on its
 * own (lat: room for n), after an untimed sweep over the same rows. */
static enum mlp_status latency(const struct runner *r, uint64_t n, double *lat, struct latency *l,
                               struct mlp_error *err)
{
    enum mlp_status st = MLP_OK;
    for (uint64_t i = 0; i < n && st == MLP_OK; i++) st = run_rows(r, i, 1, err);
    for (uint64_t i = 0; i < n && st == MLP_OK; i++) {
        double t0 = mlp_now();
        st = run_rows(r, i, 1, err);
        lat[i] = (mlp_now() - t0) * 1e6;
    }
    if (st != MLP_OK) return st;
    double sum = 0;
    for (uint64_t i = 0; i < n; i++) sum += lat[i];
    qsort(lat, (size_t)n, sizeof *lat, cmp_double);
    *l = (struct latency){quantile(lat, n, 0.5), quantile(lat, n, 0.9), quantile(lat, n, 0.99), sum / (double)n,
                          lat[0]};
    return MLP_OK;
}

int cmd_bench_infer(int argc, char **argv)
{
    const char *cmd = "bench infer";
    const char *model = NULL, *data = NULL, *labels = NULL, *quantize = NULL;
    uint32_t runs = 5, lat_rows = 1000, threads = 0;
    struct data_opts dopt = {0};
    const struct opt opts[] = {
        {"--model", 0, OPT_STR, &model, "FILE", "the model to run (required)", "Data"},
        {"--data", 0, OPT_STR, &data, "FILE", "rows to run it on: CSV, IDX, NPY or HDF5 (required)", "Data"},
        {"--labels", 0, OPT_STR, &labels, "FILE", "labels for the data (IDX, NPY): adds the accuracy", "Data"},
        {"--runs", 0, OPT_U32, &runs, "N", "throughput: timed passes over every row, the best counts [5]",
         "Benchmark"},
        {"--latency-rows", 0, OPT_U32, &lat_rows, "N", "latency: time one call per row over the first N rows [1000]",
         "Benchmark"},
        {"--threads", 0, OPT_U32, &threads, "T", "threads, 0 = all cores [0]", "Benchmark"},
        {"--quantize", 0, OPT_STR, &quantize, "TYPE",
         "run the model's inference form: f32, bf16 or int8 weights (packed once; int8 with dynamic activation "
         "scales) [the model as trained, through the training passes]",
         "Benchmark"},
        DATA_OPTIONS(dopt),
        {0}};
    struct cli_args a = {.cmd = cmd, .first = 3, .opts = opts, .max_pos = 0,
                         .usage = "usage: fastmlp bench infer --model FILE --data FILE [--labels FILE] [--runs N]\n"
                                  "                           [--latency-rows N] [--threads T]\n\n"
                                  "Times MODEL on DATA: the batch throughput (every row in one pass, best of N passes after\n"
                                  "an untimed one; rows/s and ms per pass, the accuracy when there are labels) and the\n"
                                  "batch-1 latency (one row per call over the first rows after an untimed sweep: median,\n"
                                  "p90, p99 and mean in microseconds).  The last line is 'RESULT infer key=value ...'."};
    int rc = cli_args_parse(&a, argc, argv);
    if (rc != CLI_RUN) return rc;
    if (!model) return cli_usage_error(cmd, "option '--model' is required");
    if (!data) return cli_usage_error(cmd, "option '--data' is required");
    if (runs < 1) return cli_usage_error(cmd, "option '--runs': '0' is not a count of at least 1");
    if (lat_rows < 1) return cli_usage_error(cmd, "option '--latency-rows': '0' is not a count of at least 1");
    if ((rc = cli_check_threads(cmd, threads)) != EXIT_OK) return rc;
    int qt = -1;
    if (quantize && (qt = mlp_qtype_parse(quantize)) < 0)
        return cli_usage_error(cmd, "option '--quantize': unknown type '%s' (expected f32, bf16 or int8)", quantize);
    struct mlp_load_params lp;
    if ((rc = cli_load_params(cmd, &dopt, &lp)) != EXIT_OK) return rc;

    struct mlp_error err = {0};
    struct mlp_model *m = NULL;
    struct mlp_qmodel *q = NULL;
    struct mlp_dataset ds = {0};
    double *out = NULL, *lat = NULL;
    enum mlp_status st = mlp_model_load(&m, model, &err);
    if (st == MLP_OK) {
        lp.schema = mlp_model_schema(m); /* a table is read as the model's training table was */
        st = cli_load_data(&ds, data, labels, &lp, &err);
    }
    if (st != MLP_OK) goto done;
    if (ds.n_cols != mlp_model_n_in(m)) {
        st = err.status = MLP_ERR_SHAPE;
        snprintf(err.msg, sizeof err.msg, "%.300s has %u columns, the model expects %u inputs", data, ds.n_cols,
                 mlp_model_n_in(m));
        goto done;
    }
    if (ds.n_rows == 0) {
        st = err.status = MLP_ERR_FORMAT;
        snprintf(err.msg, sizeof err.msg, "%.300s has no rows", data);
        goto done;
    }
    struct mlp_context *cx;
    if ((rc = cli_context(cmd, (int)threads, MLP_KERNELS_FAST, &cx)) != EXIT_OK) goto done;
    threads = (uint32_t)mlp_context_threads(cx); /* 0 stood for every core: the figure names them */
    mlp_model_set_context(m, cx);
    if (qt >= 0 && (st = mlp_qmodel_create(&q, m, (enum mlp_qtype)qt, NULL, &err)) != MLP_OK) goto done;

    const uint32_t K = mlp_model_n_out(m);
    const uint64_t N = ds.n_rows;
    /* Every row in one call unless the outputs alone would pass the cap. */
    uint64_t chunk = INFER_MAX_OUT_BYTES / ((uint64_t)K * sizeof(double));
    if (chunk < 1) chunk = 1;
    if (chunk > N) chunk = N;
    const uint64_t n_lat = lat_rows < N ? lat_rows : N;
    out = malloc((size_t)(chunk * K) * sizeof *out);
    lat = malloc((size_t)n_lat * sizeof *lat);
    if (!out || !lat) {
        st = err.status = MLP_ERR_NOMEM;
        snprintf(err.msg, sizeof err.msg, "out of memory for %llu rows of %u outputs", (unsigned long long)chunk, K);
        goto done;
    }
    const struct runner run = {m, q, &ds, chunk, K, out};

    char summary[256];
    report_model_summary(m, summary, sizeof summary);
    printf("bench infer: %s (%s) on %s: %llu rows, %u thread(s)", model, summary, data, (unsigned long long)N,
           threads);
    if (q) printf(", quantised: %s weights, kernel %s", mlp_qtype_name((enum mlp_qtype)qt), mlp_qmodel_kernel(q));
    printf("\n");
    fflush(stdout);

    double best;
    uint64_t right;
    if ((st = throughput(&run, runs, &best, &right, &err)) != MLP_OK) goto done;
    const double rows_per_s = best > 0 ? (double)N / best : INFINITY;
    printf("throughput: %.3f ms per pass over %llu rows (best of %u, after 1 untimed), %.0f rows/s%s\n", best * 1e3,
           (unsigned long long)N, runs, rows_per_s, chunk < N ? ", in chunks" : "");
    double acc = -1;
    if (ds.labels) {
        acc = (double)right / (double)N;
        printf("accuracy: %.4f (%llu of %llu right)\n", acc, (unsigned long long)right, (unsigned long long)N);
    }
    fflush(stdout);

    struct latency l;
    if ((st = latency(&run, n_lat, lat, &l, &err)) != MLP_OK) goto done;
    printf("latency: batch 1 over %llu rows (after 1 untimed sweep): median %.2f us, p90 %.2f us, p99 %.2f us, "
           "mean %.2f us, min %.2f us\n",
           (unsigned long long)n_lat, l.median, l.p90, l.p99, l.mean, l.min);
    printf("BLAS: %s\n", mlp_blas_info());
    printf("RESULT infer rows=%llu threads=%u rows_per_s=%.0f ms_per_pass=%.4f", (unsigned long long)N, threads,
           rows_per_s, best * 1e3);
    if (acc >= 0) printf(" accuracy=%.4f", acc);
    printf(" latency_rows=%llu latency_us_median=%.3f latency_us_p90=%.3f latency_us_p99=%.3f latency_us_mean=%.3f"
           " weights=%s\n",
           (unsigned long long)n_lat, l.median, l.p90, l.p99, l.mean, q ? mlp_qtype_name((enum mlp_qtype)qt) : "model");
    if (fflush(stdout) != 0) {
        st = err.status = MLP_ERR_IO;
        snprintf(err.msg, sizeof err.msg, "cannot write to standard output");
    }
done:
    if (st != MLP_OK) rc = cli_fail(cmd, st, err.msg);
    free(out);
    free(lat);
    mlp_qmodel_free(q);
    mlp_model_free(m);
    mlp_dataset_free(&ds);
    return rc;
}
