/* SPDX-License-Identifier: MIT */
/* `fastmlp gradcheck`: the analytic gradient of a network described by the
 * same flags as `train`, against central finite differences, on a data file
 * or a seeded synthetic data set; the worst relative error per layer. */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct gc_opts {
    const char *train, *train_labels;
    double l2, scale, tolerance;
    uint32_t inputs, rows, classes;
    uint64_t seed, limit, max_params;
    int threads, standardize, quiet;
    struct net_opts net;
    struct data_opts data;
};

/* ---------------------------------------------------------------- helpers */

/* The synthetic data set: x ~ U(-1, 1); labels below K for the
 * classification heads, or K real targets inside the range of an MSE head's
 * output (the head's activation must be able to reach them). */
struct synth {
    double *x, *targets;
    int32_t *labels;
};

static enum mlp_status make_synthetic(struct mlp_dataset *ds, struct synth *sy, const struct gc_opts *o,
                                      enum mlp_head head, struct mlp_error *err)
{
    memset(ds, 0, sizeof *ds);
    memset(sy, 0, sizeof *sy);
    const uint64_t R = o->rows, N = o->inputs, K = o->classes;
    bool mse = head >= MLP_HEAD_IDENTITY_MSE;
    sy->x = malloc(R * N * sizeof *sy->x);
    if (mse)
        sy->targets = malloc(R * K * sizeof *sy->targets);
    else
        sy->labels = malloc(R * sizeof *sy->labels);
    if (!sy->x || (mse ? !sy->targets : !sy->labels)) {
        snprintf(err->msg, sizeof err->msg, "out of memory for %llu x %llu synthetic inputs", (unsigned long long)R,
                 (unsigned long long)N);
        return err->status = MLP_ERR_NOMEM;
    }
    struct mlp_rng s;
    mlp_rng_seed(&s, o->seed ^ 0x5eed0da7a5e7ull);
    for (uint64_t i = 0; i < R * N; i++) sy->x[i] = 2 * mlp_rng_uniform(&s) - 1;
    ds->n_rows = R;
    ds->n_cols = (uint32_t)N;
    ds->x_type = MLP_ELEM_F64;
    ds->x = sy->x;
    if (mse) {
        double lo = head == MLP_HEAD_SIGMOID_MSE ? 0.05 : -0.9, hi = 0.9;
        for (uint64_t i = 0; i < R * K; i++) sy->targets[i] = lo + (hi - lo) * mlp_rng_uniform(&s);
        ds->targets = sy->targets;
        ds->n_targets = (uint32_t)K;
    } else {
        for (uint64_t i = 0; i < R; i++) sy->labels[i] = (int32_t)mlp_rng_below(&s, K);
        ds->labels = sy->labels;
        ds->n_classes = (uint32_t)K;
    }
    return MLP_OK;
}

static void free_synthetic(struct synth *sy)
{
    free(sy->x);
    free(sy->targets);
    free(sy->labels);
}

/* How many of each block's parameters to check: all of them when the total
 * fits in max, else max shared out evenly, a small block's unused share going
 * to the larger ones. */
static void share_out(const size_t *size, size_t *take, uint32_t n_blocks, uint64_t max)
{
    uint64_t total = 0;
    for (uint32_t b = 0; b < n_blocks; b++) total += size[b];
    if (total <= max) {
        memcpy(take, size, n_blocks * sizeof *take);
        return;
    }
    for (uint32_t b = 0; b < n_blocks; b++) take[b] = (size_t)-1; /* undecided */
    uint64_t left = max;
    uint32_t open = n_blocks;
    for (bool changed = true; changed && open;) {
        changed = false;
        uint64_t share = left / open;
        for (uint32_t b = 0; b < n_blocks; b++)
            if (take[b] == (size_t)-1 && size[b] <= share) {
                take[b] = size[b];
                left -= size[b];
                open--;
                changed = true;
            }
    }
    uint64_t share = open ? left / open : 0, extra = open ? left % open : 0;
    for (uint32_t b = 0; b < n_blocks; b++)
        if (take[b] == (size_t)-1) {
            take[b] = (size_t)share + (extra > 0);
            if (extra) extra--;
        }
}

/* ------------------------------------------------------------- the check */

/* One gradient check: the model, its f64 reference, the data, the analytic
 * gradient and the sample of parameters per block (a layer's W or b). */
struct gc {
    const char *cmd;
    struct gc_opts o;
    struct net_spec net;
    struct mlp_load_params lp;
    struct mlp_dataset ds;
    struct synth sy;
    struct mlp_model *m, *twin, *ref; /* ref: m itself (f64) or its f64 twin (f32) */
    double *w;                        /* ref's parameters, stepped by the differences */
    double *ga;                       /* the analytic gradient, in f64 */
    double L0, floor;                 /* the loss; the least divisor of a block's error */
    size_t *size, *take, *idx;
    double *num;
    struct mlp_rng rs;                /* the sample's stream */
    uint64_t nonzero, retried;
    struct mlp_error err;
};

static void gc_free(struct gc *c)
{
    free(c->ga);
    free(c->size);
    free(c->take);
    free(c->idx);
    free(c->num);
    mlp_model_free(c->m);
    mlp_model_free(c->twin);
    if (c->o.train)
        mlp_dataset_free(&c->ds);
    else
        free_synthetic(&c->sy);
    net_spec_free(&c->net);
}

static enum mlp_status nomem(struct gc *c, const char *what)
{
    snprintf(c->err.msg, sizeof c->err.msg, "out of memory%s", what);
    return c->err.status = MLP_ERR_NOMEM;
}

static enum mlp_status loss_at(struct gc *c, double *L)
{
    const struct mlp_loss_grad lg = {.l2 = c->o.l2, .loss = L};
    return mlp_model_loss_grad(c->ref, &c->ds, NULL, &lg, &c->err);
}

/* dL/dw_i of the f64 reference model by central differences: the step is
 * relative to the weight (h = rel_h max(1, |w|)) and the divisor is the step
 * as actually stored. */
static enum mlp_status central(struct gc *c, size_t i, double rel_h, double *num)
{
    double w0 = c->w[i], h = rel_h * (fabs(w0) > 1 ? fabs(w0) : 1);
    volatile double wp = w0 + h, wm = w0 - h; /* the steps as stored */
    double Lp, Lm;
    c->w[i] = wp;
    enum mlp_status st = loss_at(c, &Lp);
    c->w[i] = wm;
    if (st == MLP_OK) st = loss_at(c, &Lm);
    c->w[i] = w0;
    if (st == MLP_OK) *num = (Lp - Lm) / (wp - wm);
    return st;
}

/* The command line into c->o: CLI_RUN, or the exit code to return. */
static int gc_args(struct gc *c, int argc, char **argv)
{
    struct gc_opts *o = &c->o;
    *o = (struct gc_opts){.scale = NAN, .tolerance = NAN, .inputs = 10, .rows = 16, .classes = 0, .seed = 42,
                          .limit = 64, .max_params = 2000, .threads = 1, .net = net_opts_default("f64")};
    const struct opt opts[] = {
        {"--train", 0, OPT_STR, &o->train, "FILE", "data to check on (CSV, IDX, NPY, HDF5) [synthetic]", "Data"},
        {"--train-labels", 0, OPT_STR, &o->train_labels, "FILE", "labels for --train, for IDX and NPY", "Data"},
        {"--limit", 0, OPT_U64, &o->limit, "N", "use only the first N rows of --train [64]", "Data"},
        {"--scale", 0, OPT_DBL, &o->scale, "X", "multiply inputs by X [1/255 for uint8 data, else 1]", "Data"},
        {"--standardize", 0, OPT_FLAG, &o->standardize, NULL, "standardise each input by the data's mean and std [off]",
         "Data"},
        {"--classes", 0, OPT_U32, &o->classes, "K",
         "classes (outputs of an MSE head on synthetic data) [3, or 1 + largest label]", "Data"},
        {"--inputs", 0, OPT_U32, &o->inputs, "N", "synthetic data: inputs per row [10]", "Data"},
        {"--rows", 0, OPT_U32, &o->rows, "N", "synthetic data: rows [16]", "Data"},
        NET_OPTIONS(o->net, "precision of the checked gradient [f64]"),
        {"--l2", 0, OPT_DBL, &o->l2, "X", "L2 penalty lambda, part of the checked loss [0]", "Network"},
        {"--seed", 0, OPT_U64, &o->seed, "N", "seed for the weights, the synthetic data and the sample [42]",
         "Network"},
        {"--tolerance", 0, OPT_DBL, &o->tolerance, "X", "largest relative error that passes [1e-6 f64, 1e-3 f32]",
         "Check"},
        {"--max-params", 0, OPT_U64, &o->max_params, "N",
         "check at most N parameters, a seeded sample of each layer's W and b [2000]", "Check"},
        {"--threads", 0, OPT_INT, &o->threads, "N", "threads, 0 = all cores [1]", "Check"},
        {"--quiet", 'q', OPT_FLAG, &o->quiet, NULL, "print only the verdict line", "Output"},
        DATA_OPTIONS(o->data),
        {0}};
    struct cli_args a = {.cmd = c->cmd, .first = 2, .opts = opts,
                         .usage = "usage: fastmlp gradcheck [--train FILE [--train-labels FILE]] [network options]"};
    return cli_args_parse(&a, argc, argv);
}

/* CLI_RUN, or EXIT_USAGE after one line. */
static int gc_check_opts(struct gc *c)
{
    const char *cmd = c->cmd;
    struct gc_opts *o = &c->o;
    int rc = net_spec_parse(cmd, &o->net, &c->net);
    if (rc != EXIT_OK) return rc;
    if (isnan(o->tolerance)) o->tolerance = c->net.dtype == MLP_F32 ? 1e-3 : 1e-6;
    if (!(o->tolerance > 0)) return cli_usage_error(cmd, "--tolerance %g must be positive", o->tolerance);
    if (o->max_params == 0) return cli_usage_error(cmd, "--max-params must be at least 1");
    if (o->limit == 0) return cli_usage_error(cmd, "--limit must be at least 1");
    if (!isnan(o->scale) && (o->scale == 0 || !isfinite(o->scale)))
        return cli_usage_error(cmd, "--scale %g must be finite and non-zero", o->scale);
    if (o->classes > MLP_MAX_CLASSES) return cli_usage_error(cmd, "--classes %u: at most %u", o->classes, MLP_MAX_CLASSES);
    if (!o->train) {
        if (o->train_labels) return cli_usage_error(cmd, "--train-labels needs --train");
        if (o->rows == 0) return cli_usage_error(cmd, "--rows must be at least 1");
        if (o->inputs == 0 || o->inputs > MLP_MAX_WIDTH)
            return cli_usage_error(cmd, "--inputs must be in 1..%u", MLP_MAX_WIDTH);
        if (!o->classes) o->classes = 3;
        if (o->rows > (1u << 20) || (uint64_t)o->rows * o->inputs > (1u << 26))
            return cli_usage_error(cmd, "--rows x --inputs is too large for a gradient check (at most 2^26 values)");
    }
    if (c->net.head == MLP_HEAD_SOFTMAX_CE && o->classes == 1)
        return cli_usage_error(cmd, "softmax-ce needs --classes of at least 2");
    if ((rc = cli_check_threads(cmd, o->threads)) != EXIT_OK) return rc;
    if ((rc = cli_load_params(cmd, &o->data, &c->lp)) != EXIT_OK) return rc;
    c->lp.threads = o->threads;
    if ((rc = cli_context(cmd, o->threads, MLP_KERNELS_FAST, &c->lp.ctx)) != EXIT_OK) return rc;
    return CLI_RUN;
}

/* The data (a file's first rows, or the synthetic set), the model and its
 * f64 reference: finite differences are always taken in f64, since an f32
 * loss differenced at a small step measures only its own rounding, so an f32
 * model gets an f64 twin holding exactly the same weights (and
 * preprocessing). */
static enum mlp_status gc_setup(struct gc *c)
{
    const struct gc_opts *o = &c->o;
    struct mlp_error *err = &c->err;
    enum mlp_status st;
    if (o->train) {
        struct mlp_dataset *sets[] = {&c->ds};
        if ((st = cli_load_data(&c->ds, o->train, o->train_labels, &c->lp, err)) == MLP_OK)
            st = cli_need_labels(&c->ds, o->train, "--train-labels (IDX, NPY), a label column (CSV) or --y-key (HDF5)",
                                 err);
        if (st == MLP_OK && o->limit < c->ds.n_rows) mlp_dataset_truncate(&c->ds, o->limit);
        if (st == MLP_OK) st = cli_share_classes(sets, 1, o->classes, err);
    } else {
        st = make_synthetic(&c->ds, &c->sy, o, c->net.head, err);
    }
    struct mlp_model_params mp;
    if (st == MLP_OK) st = net_params(&c->net, &c->ds, o->scale, &mp, err);
    mp.ctx = c->lp.ctx;
    if (st == MLP_OK) st = net_create(&c->net, &mp, o->seed, &c->m, err);
    if (st == MLP_OK && o->standardize) st = mlp_model_fit_standardize(c->m, &c->ds, err);
    if (st != MLP_OK) return st;
    c->ref = c->m;
    if (c->net.dtype == MLP_F32) {
        mp.dtype = MLP_F64;
        if ((st = mlp_model_create(&c->twin, &mp, err)) != MLP_OK) return st;
        const float *w32 = mlp_model_params_const(c->m);
        double *w64 = mlp_model_params(c->twin);
        for (size_t i = 0; i < mlp_model_n_params(c->m); i++) w64[i] = w32[i];
        if (o->standardize && (st = mlp_model_set_standardize(c->twin, mlp_model_standardize_mean(c->m),
                                                              mlp_model_standardize_std(c->m), err)) != MLP_OK)
            return st;
        c->ref = c->twin;
    }
    c->w = mlp_model_params(c->ref);
    return MLP_OK;
}

/* The analytic gradient (in f64) and the loss at the initial weights, which
 * must be finite; the least divisor of a block's error.  Central differences
 * at step h carry rounding of about eps |L| / h (2e-10 |L| at h = 1e-6), so a
 * component far smaller than that cannot be checked relative to itself.  The
 * error of each block is therefore taken relative to the block's largest
 * component: max |num - ana| / max(|num| + |ana|), with 1e-3 max(1, |L|) as
 * the least divisor (a block of tiny or zero components). */
static enum mlp_status gc_gradient(struct gc *c)
{
    const size_t n = mlp_model_n_params(c->m);
    const bool f32 = c->net.dtype == MLP_F32;
    void *g = NULL;
    if (!(c->ga = malloc(n * sizeof *c->ga)) || !(g = f32 ? malloc(n * sizeof(float)) : (void *)c->ga)) {
        snprintf(c->err.msg, sizeof c->err.msg, "out of memory for a gradient of %zu parameters", n);
        return c->err.status = MLP_ERR_NOMEM;
    }
    const struct mlp_loss_grad lg = {.l2 = c->o.l2, .loss = &c->L0, .grad = g};
    enum mlp_status st = mlp_model_loss_grad(c->m, &c->ds, NULL, &lg, &c->err);
    if (f32) {
        for (size_t i = 0; st == MLP_OK && i < n; i++) c->ga[i] = ((const float *)g)[i];
        free(g);
    }
    double Lref;
    if (st == MLP_OK) st = loss_at(c, &Lref);
    if (st == MLP_OK && (!isfinite(c->L0) || !isfinite(Lref))) {
        snprintf(c->err.msg, sizeof c->err.msg, "the loss at the initial weights is not finite (%g): nothing to "
                 "differentiate (check --scale, --init-range and the data)", isfinite(c->L0) ? Lref : c->L0);
        return c->err.status = MLP_ERR_RANGE;
    }
    c->floor = 1e-3 * (fabs(Lref) > 1 ? fabs(Lref) : 1);
    return st;
}

/* The sample: how many of each block's parameters are checked, and room for
 * the largest block's indices and differences.  *n_checked of them. */
static enum mlp_status gc_sample(struct gc *c, size_t *n_checked)
{
    const uint32_t L = mlp_model_n_layers(c->m), n_blocks = 2 * L;
    if (!(c->size = calloc(n_blocks, sizeof *c->size)) || !(c->take = calloc(n_blocks, sizeof *c->take)))
        return nomem(c, "");
    uint32_t fan_in = mlp_model_n_in(c->m);
    for (uint32_t l = 0; l < L; l++) {
        uint32_t w = mlp_model_layer(c->m, l).n_out;
        c->size[2 * l] = (size_t)w * fan_in;
        c->size[2 * l + 1] = w;
        fan_in = w;
    }
    share_out(c->size, c->take, n_blocks, c->o.max_params);
    size_t most = 1;
    *n_checked = 0;
    for (uint32_t b = 0; b < n_blocks; b++) {
        *n_checked += c->take[b];
        if (c->take[b] > most) most = c->take[b];
    }
    if (!(c->idx = malloc(most * sizeof *c->idx)) || !(c->num = malloc(most * sizeof *c->num))) return nomem(c, "");
    mlp_rng_seed(&c->rs, c->o.seed ^ 0x5a3b1e5ull);
    return MLP_OK;
}

/* Block b (layer b / 2's W or b): its sampled parameters differenced, the
 * worst error into *worst and whether every component was 0 into *all_zero. */
static enum mlp_status check_block(struct gc *c, uint32_t b, double *worst, bool *all_zero)
{
    const uint32_t l = b / 2;
    const size_t off = b % 2 ? mlp_model_b_offset(c->m, l) : mlp_model_w_offset(c->m, l), size = c->size[b];
    size_t need = c->take[b], nk = 0;
    /* Selection sampling (Knuth's algorithm S): each index is taken with
     * probability need / remaining, so exactly take[b] of them. */
    for (size_t k = 0; k < size && need; k++)
        if (c->take[b] == size || mlp_rng_below(&c->rs, size - k) < need) {
            c->idx[nk++] = off + k;
            need--;
        }
    enum mlp_status st = MLP_OK;
    double scale = c->floor;
    uint64_t nz = 0;
    for (size_t k = 0; k < nk && st == MLP_OK; k++) {
        st = central(c, c->idx[k], 1e-6, &c->num[k]);
        double a = fabs(c->num[k]) + fabs(c->ga[c->idx[k]]);
        if (a > scale) scale = a;
        nz += c->num[k] != 0 || c->ga[c->idx[k]] != 0;
    }
    *all_zero = nk > 0 && nz == 0;
    c->nonzero += nz;
    *worst = 0;
    for (size_t k = 0; k < nk && st == MLP_OK; k++) {
        const double ana = c->ga[c->idx[k]];
        double e = fabs(c->num[k] - ana) / scale;
        if (isnan(e)) e = INFINITY; /* a NaN in either fails, never passes */
        /* A step that straddles a kink (ReLU at 0) is wrong by up to the
         * jump in slope; a 16 times smaller one rarely is, while a wrong
         * gradient stays wrong at both steps. */
        if (e > c->o.tolerance) {
            double num2;
            if ((st = central(c, c->idx[k], 1e-6 / 16, &num2)) != MLP_OK) break;
            double e2 = fabs(num2 - ana) / scale;
            if (isnan(e2)) e2 = INFINITY;
            if (e2 < e) e = e2;
            c->retried++;
        }
        if (e > *worst) *worst = e;
    }
    return st;
}

/* Every layer's W and b checked, one line each; the worst error. */
static enum mlp_status check_layers(struct gc *c, double *worst)
{
    const uint32_t L = mlp_model_n_layers(c->m);
    uint32_t fan_in = mlp_model_n_in(c->m);
    *worst = 0;
    for (uint32_t l = 0; l < L; l++) {
        double err[2];
        bool zero[2];
        for (int wb = 0; wb < 2; wb++) {
            enum mlp_status st = check_block(c, 2 * l + (uint32_t)wb, &err[wb], &zero[wb]);
            if (st != MLP_OK) return st;
            if (err[wb] > *worst) *worst = err[wb];
        }
        struct mlp_layer_spec ls = mlp_model_layer(c->m, l);
        if (!c->o.quiet) {
            const size_t *take = c->take + 2 * l, *size = c->size + 2 * l;
            printf("layer %u (%ux%u %s)  W max rel err %.1e  b %.1e", l + 1, ls.n_out, fan_in,
                   l + 1 < L ? mlp_act_name(ls.act) : mlp_head_name(c->net.head), err[0], err[1]);
            if (take[0] < size[0]) printf("  (W: %zu of %zu checked)", take[0], size[0]);
            if (take[1] < size[1]) printf("  (b: %zu of %zu checked)", take[1], size[1]);
            if (zero[0] || zero[1])
                printf("  (%s%s%s: every checked component is 0)", zero[0] ? "W" : "", zero[0] && zero[1] ? ", " : "",
                       zero[1] ? "b" : "");
            printf("\n");
        }
        fan_in = ls.n_out;
    }
    return MLP_OK;
}

int cmd_gradcheck(int argc, char **argv)
{
    struct gc c = {.cmd = "gradcheck"};
    int rc = gc_args(&c, argc, argv);
    if (rc == CLI_RUN) rc = gc_check_opts(&c);
    if (rc != CLI_RUN) {
        net_spec_free(&c.net);
        return rc;
    }
    size_t n_checked = 0;
    double worst = 0;
    enum mlp_status st = gc_setup(&c);
    if (st == MLP_OK) st = gc_gradient(&c);
    if (st == MLP_OK) st = gc_sample(&c, &n_checked);
    if (st == MLP_OK && !c.o.quiet) {
        char net[600];
        net_summary(&c.net, &c.ds, c.m, net, sizeof net);
        const size_t n = mlp_model_n_params(c.m);
        printf("fastmlp %s: %s, loss %.6g; checking %zu%s, h 1e-6\n", c.cmd, net, c.L0, n_checked,
               n_checked < n ? " (a seeded sample per layer)" : "");
        fflush(stdout);
    }
    if (st == MLP_OK) st = check_layers(&c, &worst);
    if (st == MLP_OK) {
        bool pass = worst <= c.o.tolerance;
        if (c.retried && !c.o.quiet)
            printf("(%llu parameters above the tolerance at step h were measured again at h/16: a kink, such as "
                   "ReLU's at 0, inside the step spoils a difference; a wrong gradient stays wrong)\n",
                   (unsigned long long)c.retried);
        printf("worst %.1e (tolerance %g): %s\n", worst, c.o.tolerance, pass ? "ok" : "FAILED");
        if (!c.nonzero)
            fprintf(stderr, "fastmlp %s: warning: every checked gradient component is zero, so the check proves "
                            "nothing (try another --init or --seed)\n", c.cmd);
        rc = pass ? EXIT_OK : EXIT_GRADIENT;
    } else {
        rc = cli_fail(c.cmd, st, c.err.msg);
    }
    gc_free(&c);
    return rc;
}
