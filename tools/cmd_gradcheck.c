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
    const char *layers, *activation, *head, *init, *dtype, *init_range;
    double leaky, l2, scale, tolerance;
    uint32_t inputs, rows, classes;
    uint64_t seed, limit, max_params;
    int threads, standardize, quiet;
    struct data_opts data;
};

/* ---------------------------------------------------------------- helpers */

/* splitmix64: a seeded stream for the synthetic data and the sample of
 * parameters (the library's generator is private to it). */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double rng_uniform(uint64_t *s) /* [0, 1) */
{
    return (double)(rng_next(s) >> 11) * 0x1.0p-53;
}

static uint64_t rng_below(uint64_t *s, uint64_t n)
{
    return (uint64_t)(rng_uniform(s) * (double)n); /* n is small: the bias is far below anything we measure */
}

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
    uint64_t s = o->seed ^ 0x5eed0da7a5e7ull;
    for (uint64_t i = 0; i < R * N; i++) sy->x[i] = 2 * rng_uniform(&s) - 1;
    ds->n_rows = R;
    ds->n_cols = (uint32_t)N;
    ds->x_type = MLP_ELEM_F64;
    ds->x = sy->x;
    if (mse) {
        double lo = head == MLP_HEAD_SIGMOID_MSE ? 0.05 : -0.9, hi = 0.9;
        for (uint64_t i = 0; i < R * K; i++) sy->targets[i] = lo + (hi - lo) * rng_uniform(&s);
        ds->targets = sy->targets;
        ds->n_targets = (uint32_t)K;
    } else {
        for (uint64_t i = 0; i < R; i++) sy->labels[i] = (int32_t)rng_below(&s, K);
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

/* dL/dw_i of the f64 reference model by central differences: the step is
 * relative to the weight (h = rel_h max(1, |w|)) and the divisor is the step
 * as actually stored. */
struct fd_ctx {
    struct mlp_model *ref;
    double *w;
    const struct mlp_dataset *ds;
    double l2, floor; /* least divisor of a block's error */
};

static enum mlp_status loss_at(const struct fd_ctx *c, double *L, struct mlp_error *err)
{
    return mlp_model_loss_grad(c->ref, c->ds, 0, c->ds->n_rows, NULL, c->l2, L, NULL, err);
}

static enum mlp_status central(const struct fd_ctx *c, size_t i, double rel_h, double *num, struct mlp_error *err)
{
    double w0 = c->w[i], h = rel_h * (fabs(w0) > 1 ? fabs(w0) : 1);
    volatile double wp = w0 + h, wm = w0 - h; /* the steps as stored */
    double Lp, Lm;
    enum mlp_status st;
    c->w[i] = wp;
    st = loss_at(c, &Lp, err);
    c->w[i] = wm;
    if (st == MLP_OK) st = loss_at(c, &Lm, err);
    c->w[i] = w0;
    if (st == MLP_OK) *num = (Lp - Lm) / (wp - wm);
    return st;
}


/* ---------------------------------------------------------------- command */

int cmd_gradcheck(int argc, char **argv)
{
    const char *cmd = "gradcheck";
    struct gc_opts o = {
        .layers = "256,128", .activation = "relu", .head = "softmax-ce", .init = "he", .dtype = "f64",
        .init_range = "-0.5,0.5", .leaky = 0.01, .scale = NAN, .tolerance = NAN, .inputs = 10, .rows = 16,
        .classes = 0, .seed = 42, .limit = 64, .max_params = 2000, .threads = 1};
    const struct opt opts[] = {
        {"--train", 0, OPT_STR, &o.train, "FILE", "data to check on (CSV, IDX, NPY, HDF5) [synthetic]", "Data"},
        {"--train-labels", 0, OPT_STR, &o.train_labels, "FILE", "labels for --train, for IDX and NPY", "Data"},
        {"--limit", 0, OPT_U64, &o.limit, "N", "use only the first N rows of --train [64]", "Data"},
        {"--scale", 0, OPT_DBL, &o.scale, "X", "multiply inputs by X [1/255 for uint8 data, else 1]", "Data"},
        {"--standardize", 0, OPT_FLAG, &o.standardize, NULL, "standardise each input by the data's mean and std [off]",
         "Data"},
        {"--classes", 0, OPT_U32, &o.classes, "K",
         "classes (outputs of an MSE head on synthetic data) [3, or 1 + largest label]", "Data"},
        {"--inputs", 0, OPT_U32, &o.inputs, "N", "synthetic data: inputs per row [10]", "Data"},
        {"--rows", 0, OPT_U32, &o.rows, "N", "synthetic data: rows [16]", "Data"},
        {"--layers", 0, OPT_STR, &o.layers, "W,W,..", "hidden layer widths, 'none' for none [256,128]", "Network"},
        {"--activation", 0, OPT_STR, &o.activation, "NAME",
         "hidden activation: identity sigmoid tanh relu leaky-relu [relu]", "Network"},
        {"--leaky-slope", 0, OPT_DBL, &o.leaky, "X", "slope of leaky-relu below 0 [0.01]", "Network"},
        {"--head", 0, OPT_STR, &o.head, "NAME",
         "output head: softmax-ce sigmoid-bce identity-mse sigmoid-mse tanh-mse [softmax-ce]", "Network"},
        {"--dtype", 0, OPT_STR, &o.dtype, "f32|f64", "precision of the checked gradient [f64]", "Network"},
        {"--init", 0, OPT_STR, &o.init, "NAME", "initialiser: zeros uniform xavier he [he]", "Network"},
        {"--init-range", 0, OPT_STR, &o.init_range, "A,B", "range for --init uniform [-0.5,0.5]", "Network"},
        {"--l2", 0, OPT_DBL, &o.l2, "X", "L2 penalty lambda, part of the checked loss [0]", "Network"},
        {"--seed", 0, OPT_U64, &o.seed, "N", "seed for the weights, the synthetic data and the sample [42]",
         "Network"},
        {"--tolerance", 0, OPT_DBL, &o.tolerance, "X", "largest relative error that passes [1e-6 f64, 1e-3 f32]",
         "Check"},
        {"--max-params", 0, OPT_U64, &o.max_params, "N",
         "check at most N parameters, a seeded sample of each layer's W and b [2000]", "Check"},
        {"--threads", 0, OPT_INT, &o.threads, "N", "threads, 0 = all cores [1]", "Check"},
        {"--quiet", 'q', OPT_FLAG, &o.quiet, NULL, "print only the verdict line", "Output"},
        DATA_OPTIONS(o.data),
        {0}};
    const char *pos[1];
    int n_pos;
    bool help;
    int rc = cli_parse(cmd, argc, argv, 2, opts, pos, 0, &n_pos, &help);
    if (rc != EXIT_OK) return rc;
    if (help) {
        cli_print_help(stdout, "usage: fastmlp gradcheck [--train FILE [--train-labels FILE]] [network options]", opts);
        return EXIT_OK;
    }
    int act = mlp_act_parse(o.activation), head = mlp_head_parse(o.head), init = mlp_init_parse(o.init);
    int dtype = mlp_dtype_parse(o.dtype);
    if (act < 0) return cli_usage_error(cmd, "unknown activation '%s'", o.activation);
    if (head < 0) return cli_usage_error(cmd, "unknown head '%s'", o.head);
    if (init < 0) return cli_usage_error(cmd, "unknown initialiser '%s'", o.init);
    if (dtype < 0) return cli_usage_error(cmd, "unknown dtype '%s'", o.dtype);
    double ia, ib;
    if (cli_parse_range(o.init_range, &ia, &ib) != 0)
        return cli_usage_error(cmd, "--init-range '%s' is not A,B with A <= B", o.init_range);
    if (isnan(o.tolerance)) o.tolerance = dtype == MLP_F32 ? 1e-3 : 1e-6;
    if (!(o.tolerance > 0)) return cli_usage_error(cmd, "--tolerance %g must be positive", o.tolerance);
    if (o.max_params == 0) return cli_usage_error(cmd, "--max-params must be at least 1");
    if (o.limit == 0) return cli_usage_error(cmd, "--limit must be at least 1");
    if (!isnan(o.scale) && (o.scale == 0 || !isfinite(o.scale)))
        return cli_usage_error(cmd, "--scale %g must be finite and non-zero", o.scale);
    if (o.classes > MLP_MAX_CLASSES) return cli_usage_error(cmd, "--classes %u: at most %u", o.classes, MLP_MAX_CLASSES);
    if (!o.train) {
        if (o.train_labels) return cli_usage_error(cmd, "--train-labels needs --train");
        if (o.rows == 0) return cli_usage_error(cmd, "--rows must be at least 1");
        if (o.inputs == 0 || o.inputs > MLP_MAX_WIDTH)
            return cli_usage_error(cmd, "--inputs must be in 1..%u", MLP_MAX_WIDTH);
        if (!o.classes) o.classes = 3;
        if (o.rows > (1u << 20) || (uint64_t)o.rows * o.inputs > (1u << 26))
            return cli_usage_error(cmd, "--rows x --inputs is too large for a gradient check (at most 2^26 values)");
    }
    if (head == MLP_HEAD_SOFTMAX_CE && o.classes == 1)
        return cli_usage_error(cmd, "softmax-ce needs --classes of at least 2");
    if ((rc = cli_check_threads(cmd, o.threads)) != EXIT_OK) return rc;
    struct mlp_load_params lp;
    if ((rc = cli_load_params(cmd, &o.data, &lp)) != EXIT_OK) return rc;
    lp.threads = o.threads;
    struct mlp_layer_spec *hidden;
    uint32_t n_hidden;
    char why[400];
    if (cli_parse_layers(o.layers, (enum mlp_act)act, &hidden, &n_hidden, why, sizeof why) != 0)
        return cli_usage_error(cmd, "%s", why);
    struct mlp_context *cx;
    if ((rc = cli_context(cmd, o.threads, MLP_KERNELS_FAST, &cx)) != EXIT_OK) {
        free(hidden);
        return rc;
    }

    struct mlp_error err = {0};
    struct mlp_dataset ds = {0};
    struct synth sy = {0};
    struct mlp_model *m = NULL, *twin = NULL;
    double *ga = NULL;
    void *g = NULL;
    size_t *size = NULL, *take = NULL, *idx = NULL;
    double *num = NULL;
    enum mlp_status st;
    uint32_t K;
    if (o.train) {
        if ((st = cli_load_data(&ds, o.train, o.train_labels, &lp, &err)) != MLP_OK) goto done;
        if (!ds.labels && !ds.targets) {
            st = MLP_ERR_ARG;
            snprintf(err.msg, sizeof err.msg,
                     "%s has no labels: give --train-labels (IDX, NPY), a label column (CSV) or --y-key (HDF5)", o.train);
            goto done;
        }
        if (o.limit < ds.n_rows) mlp_dataset_truncate(&ds, o.limit);
        if (o.classes && ds.labels) {
            if (ds.n_classes > o.classes) {
                st = MLP_ERR_RANGE;
                snprintf(err.msg, sizeof err.msg, "labels go up to %u but --classes is %u", ds.n_classes - 1, o.classes);
                goto done;
            }
            ds.n_classes = o.classes;
        }
        K = ds.targets ? ds.n_targets : ds.n_classes;
        if (ds.targets && head < MLP_HEAD_IDENTITY_MSE) {
            st = MLP_ERR_ARG;
            snprintf(err.msg, sizeof err.msg, "real targets need an MSE head (--head identity-mse), not %s", o.head);
            goto done;
        }
        if (head == MLP_HEAD_SOFTMAX_CE && K < 2) {
            st = MLP_ERR_RANGE;
            snprintf(err.msg, sizeof err.msg, "softmax-ce needs at least 2 classes, the labels have %u", K);
            goto done;
        }
    } else {
        if ((st = make_synthetic(&ds, &sy, &o, (enum mlp_head)head, &err)) != MLP_OK) goto done;
        K = o.classes;
    }
    /* As train does: two classes with a sigmoid or MSE head use one output. */
    uint32_t n_out = ds.labels && head != MLP_HEAD_SOFTMAX_CE && K <= 2 ? 1 : K;

    struct mlp_model_params mp = mlp_model_params_default();
    mp.dtype = (enum mlp_dtype)dtype;
    mp.n_in = ds.n_cols;
    mp.n_hidden = n_hidden;
    mp.hidden = hidden;
    mp.n_out = n_out;
    mp.head = (enum mlp_head)head;
    mp.leaky_slope = o.leaky;
    mp.input_scale = !isnan(o.scale) ? o.scale : ds.x_type == MLP_ELEM_U8 ? 1.0 / 255.0 : 1.0;
    mp.ctx = cx;
    if ((st = mlp_model_create(&m, &mp, &err)) != MLP_OK) goto done;
    if ((st = mlp_model_init(m, (enum mlp_init)init, ia, ib, o.seed)) != MLP_OK) {
        snprintf(err.msg, sizeof err.msg, "cannot initialise the model");
        goto done;
    }
    if (o.standardize && (st = mlp_model_fit_standardize(m, &ds, &err)) != MLP_OK) goto done;
    const size_t n = mlp_model_n_params(m);

    /* Finite differences are always taken in f64: an f32 loss differenced at
     * a small step measures only its own rounding.  An f32 model gets an f64
     * twin holding exactly the same weights (and preprocessing). */
    struct mlp_model *ref = m;
    if (dtype == MLP_F32) {
        mp.dtype = MLP_F64;
        if ((st = mlp_model_create(&twin, &mp, &err)) != MLP_OK) goto done;
        const float *w32 = mlp_model_params_const(m);
        double *w64 = mlp_model_params(twin);
        for (size_t i = 0; i < n; i++) w64[i] = w32[i];
        if (o.standardize &&
            (st = mlp_model_set_standardize(twin, mlp_model_standardize_mean(m), mlp_model_standardize_std(m), &err)) !=
                MLP_OK)
            goto done;
        ref = twin;
    }
    if (!(ga = malloc(n * sizeof *ga)) || !(g = dtype == MLP_F32 ? malloc(n * sizeof(float)) : (void *)ga)) {
        st = MLP_ERR_NOMEM;
        snprintf(err.msg, sizeof err.msg, "out of memory for a gradient of %zu parameters", n);
        goto done;
    }
    double L0;
    if ((st = mlp_model_loss_grad(m, &ds, 0, ds.n_rows, NULL, o.l2, &L0, g, &err)) != MLP_OK) goto done;
    if (dtype == MLP_F32)
        for (size_t i = 0; i < n; i++) ga[i] = ((const float *)g)[i];
    double Lref;
    struct fd_ctx c = {.ref = ref, .w = mlp_model_params(ref), .ds = &ds, .l2 = o.l2};
    if ((st = loss_at(&c, &Lref, &err)) != MLP_OK) goto done;
    if (!isfinite(L0) || !isfinite(Lref)) {
        st = MLP_ERR_RANGE;
        snprintf(err.msg, sizeof err.msg, "the loss at the initial weights is not finite (%g): nothing to differentiate "
                 "(check --scale, --init-range and the data)", isfinite(L0) ? Lref : L0);
        goto done;
    }
    /* Central differences at step h carry rounding of about eps |L| / h
     * (2e-10 |L| at h = 1e-6), so a component far smaller than that cannot
     * be checked relative to itself.  The error of each block (a layer's W
     * or b) is therefore taken relative to the block's largest component:
     * max |num - ana| / max(|num| + |ana|), with 1e-3 max(1, |L|) as the
     * least divisor (a block of tiny or zero components). */
    const double rel_h = 1e-6;
    c.floor = 1e-3 * (fabs(Lref) > 1 ? fabs(Lref) : 1);

    const uint32_t L = mlp_model_n_layers(m), n_blocks = 2 * L;
    if (!(size = calloc(n_blocks, sizeof *size)) || !(take = calloc(n_blocks, sizeof *take))) {
        st = MLP_ERR_NOMEM;
        snprintf(err.msg, sizeof err.msg, "out of memory");
        goto done;
    }
    uint32_t fan_in = mlp_model_n_in(m);
    for (uint32_t l = 0; l < L; l++) {
        uint32_t w = mlp_model_layer(m, l).n_out;
        size[2 * l] = (size_t)w * fan_in;
        size[2 * l + 1] = w;
        fan_in = w;
    }
    share_out(size, take, n_blocks, o.max_params);
    size_t n_checked = 0;
    for (uint32_t b = 0; b < n_blocks; b++) n_checked += take[b];
    if (!o.quiet) {
        printf("fastmlp %s: %llu x %u -> %s%s%u (%s, %s, %zu parameters), loss %.6g; checking %zu%s, h 1e-6\n", cmd,
               (unsigned long long)ds.n_rows, ds.n_cols, n_hidden ? o.layers : "", n_hidden ? "," : "", n_out,
               mlp_dtype_name((enum mlp_dtype)dtype), mlp_head_name((enum mlp_head)head), n, L0, n_checked,
               n_checked < n ? " (a seeded sample per layer)" : "");
        fflush(stdout);
    }

    double worst = 0;
    uint64_t s = o.seed ^ 0x5a3b1e5ull, nonzero = 0, retried = 0;
    size_t most = 0;
    for (uint32_t b = 0; b < n_blocks; b++) most = take[b] > most ? take[b] : most;
    if (!(idx = malloc((most ? most : 1) * sizeof *idx)) || !(num = malloc((most ? most : 1) * sizeof *num))) {
        st = MLP_ERR_NOMEM;
        snprintf(err.msg, sizeof err.msg, "out of memory");
        goto done;
    }
    fan_in = mlp_model_n_in(m);
    for (uint32_t l = 0; l < L && st == MLP_OK; l++) {
        double block_err[2] = {0, 0};
        bool all_zero[2] = {false, false};
        for (int wb = 0; wb < 2 && st == MLP_OK; wb++) {
            uint32_t bi = 2 * l + (uint32_t)wb;
            size_t off = wb ? mlp_model_b_offset(m, l) : mlp_model_w_offset(m, l), need = take[bi], nk = 0;
            /* Selection sampling (Knuth's algorithm S): each index is taken
             * with probability need / remaining, so exactly take[bi] of them. */
            for (size_t k = 0; k < size[bi] && need; k++)
                if (take[bi] == size[bi] || rng_below(&s, size[bi] - k) < need) {
                    idx[nk++] = off + k;
                    need--;
                }
            double scale = c.floor;
            uint64_t nz = 0;
            for (size_t k = 0; k < nk && st == MLP_OK; k++) {
                st = central(&c, idx[k], rel_h, &num[k], &err);
                double a = fabs(num[k]) + fabs(ga[idx[k]]);
                if (a > scale) scale = a;
                nz += num[k] != 0 || ga[idx[k]] != 0;
            }
            all_zero[wb] = nk > 0 && nz == 0;
            nonzero += nz;
            for (size_t k = 0; k < nk && st == MLP_OK; k++) {
                double e = fabs(num[k] - ga[idx[k]]) / scale;
                if (isnan(e)) e = INFINITY; /* a NaN in either fails, never passes */
                /* A step that straddles a kink (ReLU at 0) is wrong by up to
                 * the jump in slope; a 16 times smaller one rarely is, while
                 * a wrong gradient stays wrong at both steps. */
                if (e > o.tolerance) {
                    double num2;
                    if ((st = central(&c, idx[k], rel_h / 16, &num2, &err)) != MLP_OK) break;
                    double e2 = fabs(num2 - ga[idx[k]]) / scale;
                    if (isnan(e2)) e2 = INFINITY;
                    if (e2 < e) e = e2;
                    retried++;
                }
                if (e > block_err[wb]) block_err[wb] = e;
            }
        }
        struct mlp_layer_spec ls = mlp_model_layer(m, l);
        if (!o.quiet && st == MLP_OK) {
            printf("layer %u (%ux%u %s)  W max rel err %.1e  b %.1e", l + 1, ls.n_out, fan_in,
                   l + 1 < L ? mlp_act_name(ls.act) : mlp_head_name((enum mlp_head)head), block_err[0], block_err[1]);
            if (take[2 * l] < size[2 * l]) printf("  (W: %zu of %zu checked)", take[2 * l], size[2 * l]);
            if (take[2 * l + 1] < size[2 * l + 1]) printf("  (b: %zu of %zu checked)", take[2 * l + 1], size[2 * l + 1]);
            if (all_zero[0] || all_zero[1])
                printf("  (%s%s%s: every checked component is 0)", all_zero[0] ? "W" : "",
                       all_zero[0] && all_zero[1] ? ", " : "", all_zero[1] ? "b" : "");
            printf("\n");
        }
        for (int wb = 0; wb < 2; wb++)
            if (block_err[wb] > worst) worst = block_err[wb];
        fan_in = ls.n_out;
    }
    if (st != MLP_OK) goto done;
    bool pass = worst <= o.tolerance;
    if (retried && !o.quiet)
        printf("(%llu parameters above the tolerance at step h were measured again at h/16: a kink, such as "
               "ReLU's at 0, inside the step spoils a difference; a wrong gradient stays wrong)\n",
               (unsigned long long)retried);
    printf("worst %.1e (tolerance %g): %s\n", worst, o.tolerance, pass ? "ok" : "FAILED");
    if (!nonzero)
        fprintf(stderr, "fastmlp %s: warning: every checked gradient component is zero, so the check proves nothing "
                        "(try another --init or --seed)\n", cmd);
    rc = pass ? EXIT_OK : EXIT_GRADIENT;
done:
    if (st != MLP_OK) rc = cli_fail(cmd, st, err.msg);
    if (g != ga) free(g);
    free(ga);
    free(size);
    free(take);
    free(idx);
    free(num);
    mlp_model_free(m);
    mlp_model_free(twin);
    if (o.train)
        mlp_dataset_free(&ds);
    else
        free_synthetic(&sy);
    free(hidden);
    return rc;
}
