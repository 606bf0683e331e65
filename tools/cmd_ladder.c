/* SPDX-License-Identifier: MIT */
/* `fastmlp bench ladder`: seeds 000 and 001's optimisation ladder in C.  The
 * same training (W1: seed 000's neuron, W2: seed 001's galaxy network) runs
 * once per stage of kernels (naive, per-sample, batched, fast), each from a
 * fresh model with the same weights; the table gives each stage's time,
 * its speed-up over the naive stage, its final cost, and whether its costs
 * agree with the fast stage's, epoch by epoch.  Only the library's public
 * API is used. */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N_STAGES 4
#define UNSET UINT32_MAX /* --epochs / --short-epochs not given */
#define MAX_EPOCHS 1000000u

/* Ladder order: the slowest first. */
static const enum mlp_kernels stages[N_STAGES] = {MLP_KERNELS_NAIVE, MLP_KERNELS_PERSAMPLE, MLP_KERNELS_BATCHED,
                                                  MLP_KERNELS_FAST};

struct ladder_opts {
    const char *workload, *w1_data, *w2_data;
    uint32_t epochs, short_epochs, repeat;
    double tolerance; /* < 0: each workload's own */
    int threads;
    uint64_t seed;
};

/* One workload: its network, its training, and how its costs are compared. */
struct workload {
    const char *id, *title;
    struct mlp_model_params mp;
    struct mlp_layer_spec hidden[1];
    enum mlp_init init;
    double init_a, init_b;
    struct mlp_train_params tp;
    uint32_t full_epochs, short_epochs;
    /* Costs are compared over epochs 1..compare (all the stage ran when 0),
     * and agree when every relative difference is <= tol. */
    uint32_t compare;
    double tol;
    const char *tol_why;
    struct mlp_dataset ds;
    void *stacked; /* W2: the block holding ds's labels and inputs */
};

struct history {
    double *loss; /* train loss per epoch, 1-based epoch e at [e - 1] */
    uint32_t cap, n;
};

struct stage_result {
    uint32_t epochs;   /* run */
    uint64_t passes;   /* loss+gradient passes over the data */
    double seconds;    /* best of the repeats, for what was run */
    double full_s;     /* scaled to the full run */
    struct history h;
    double max_rel;    /* against the fast stage */
    uint32_t compared; /* epochs compared */
};

static int record_epoch(const struct mlp_epoch_stats *s, void *user)
{
    struct history *h = user;
    if (s->epoch >= 1 && s->epoch <= h->cap) {
        h->loss[s->epoch - 1] = s->train_loss;
        h->n = s->epoch;
    }
    return 0;
}

/* ------------------------------------------------------------ workloads */

/* W1 (seed 000): one sigmoid neuron on the cat/non-cat images / 255, zero
 * initial weights, full-batch gradient descent, f64. */
static enum mlp_status load_w1(struct workload *w, const char *path, struct mlp_error *err)
{
    struct mlp_load_params lp = mlp_load_params_default();
    enum mlp_status st = mlp_dataset_load(&w->ds, path, NULL, &lp, err);
    if (st != MLP_OK) return st;
    if (!w->ds.labels || w->ds.n_classes > 2) {
        snprintf(err->msg, sizeof err->msg, "%s: W1 needs 0/1 labels (seed 000's cat/non-cat), found %s", path,
                 w->ds.labels ? "more than 2 classes" : "none");
        mlp_dataset_free(&w->ds);
        return err->status = MLP_ERR_SHAPE;
    }
    w->id = "W1";
    w->title = "seed 000's neuron (sigmoid-bce, no hidden layer), zero init, full-batch GD lr 0.005, f64";
    w->mp = mlp_model_params_default();
    w->mp.dtype = MLP_F64;
    w->mp.n_in = w->ds.n_cols;
    w->mp.n_hidden = 0;
    w->mp.n_out = 1;
    w->mp.head = MLP_HEAD_SIGMOID_BCE;
    w->mp.input_scale = 1.0 / 255;
    w->init = MLP_INIT_ZEROS;
    w->tp = mlp_train_params_default();
    w->tp.optim = MLP_OPT_GD;
    w->tp.lr = 0.005;
    w->full_epochs = 2000;
    w->short_epochs = 20;
    w->compare = 0;
    w->tol = 1e-9;
    w->tol_why = "W1's f64 goal: the costs of NumPy to 1e-9";
    return MLP_OK;
}

/* W2 (seed 001): galaxy_test.csv stacked 4x, 1024-8-3 sigmoid network,
 * sigmoid-bce outputs, L2 lambda 1, U(-0.2, 0.2), nonlinear CG, f64.  The
 * stacked labels and inputs live in one block, w->stacked. */
static enum mlp_status load_w2(struct workload *w, const char *path, struct mlp_error *err)
{
    struct mlp_load_params lp = mlp_load_params_default();
    struct mlp_dataset one;
    enum mlp_status st = mlp_dataset_load(&one, path, NULL, &lp, err);
    if (st != MLP_OK) return st;
    if (!one.labels || one.n_classes < 2) {
        snprintf(err->msg, sizeof err->msg, "%s: W2 needs class labels in the first column (seed 001's galaxies)",
                 path);
        mlp_dataset_free(&one);
        return err->status = MLP_ERR_SHAPE;
    }
    /* 4 copies, as seed 001's 2700-row training set */
    const uint64_t n = one.n_rows, copies = 4;
    size_t es = one.x_type == MLP_ELEM_U8 ? 1 : one.x_type == MLP_ELEM_F32 ? sizeof(float) : sizeof(double);
    size_t row_bytes = (size_t)one.n_cols * es, xb = (size_t)(n * copies) * row_bytes;
    /* labels first: int32 alignment, then the inputs */
    char *block = malloc((size_t)(n * copies) * sizeof(int32_t) + xb);
    if (!block) {
        mlp_dataset_free(&one);
        snprintf(err->msg, sizeof err->msg, "out of memory for %llu stacked rows", (unsigned long long)(n * copies));
        return err->status = MLP_ERR_NOMEM;
    }
    int32_t *labels = (int32_t *)(void *)block;
    char *x = block + (size_t)(n * copies) * sizeof(int32_t);
    for (uint64_t c = 0; c < copies; c++) {
        memcpy(labels + c * n, one.labels, n * sizeof(int32_t));
        memcpy(x + c * n * row_bytes, one.x, n * row_bytes);
    }
    w->ds = (struct mlp_dataset){.n_rows = n * copies, .n_cols = one.n_cols, .x_type = one.x_type, .x = x,
                                 .labels = labels, .n_classes = one.n_classes};
    mlp_dataset_free(&one);
    w->stacked = block;
    w->hidden[0] = (struct mlp_layer_spec){8, MLP_ACT_SIGMOID};
    w->id = "W2";
    w->title = "seed 001's galaxy network (sigmoid hidden, sigmoid-bce), L2 1, U(-0.2, 0.2), nonlinear CG, f64; "
               "an epoch is one CG iteration";
    w->mp = mlp_model_params_default();
    w->mp.dtype = MLP_F64;
    w->mp.n_in = w->ds.n_cols;
    w->mp.n_hidden = 1;
    w->mp.hidden = w->hidden;
    w->mp.n_out = w->ds.n_classes;
    w->mp.head = MLP_HEAD_SIGMOID_BCE;
    w->mp.input_scale = 1.0 / 255;
    w->init = MLP_INIT_UNIFORM;
    w->init_a = -0.2;
    w->init_b = 0.2;
    w->tp = mlp_train_params_default();
    w->tp.optim = MLP_OPT_CG;
    w->tp.l2 = 1.0;
    w->full_epochs = 600;
    w->short_epochs = 10;
    /* CG amplifies rounding: each line search picks its step from values
     * that differ in the last bits, and later iterations build on those
     * steps.  Measured between the stages (1 and 2 threads): ~1e-15 over
     * iterations 1-5, ~5e-11 by iteration 10, 1e-7 by 30, 1e-5 by 40.  A
     * wrong gradient term moves the cost by 1e-3 or more from iteration 2
     * on; 1e-8 over the first 10 iterations is 200x above the rounding and
     * far below any such error. */
    w->compare = 10;
    w->tol = 1e-8;
    w->tol_why = "CG's first 10 iterations (rounding differences grow along a CG run)";
    return MLP_OK;
}

static void free_workload(struct workload *w)
{
    mlp_dataset_free(&w->ds); /* W1's loaded set; nothing for W2's view */
    free(w->stacked);
    w->stacked = NULL;
}

/* --------------------------------------------------------------- stages */

/* Train a fresh model for `epochs` with the kernels of stage k, `repeat`
 * times; the best time and the first run's history. */
static enum mlp_status run_stage(const struct workload *w, enum mlp_kernels k, uint32_t epochs,
                                 const struct ladder_opts *o, struct stage_result *r, struct mlp_error *err)
{
    memset(r, 0, sizeof *r);
    r->h.loss = calloc(epochs, sizeof *r->h.loss);
    if (!r->h.loss) {
        snprintf(err->msg, sizeof err->msg, "out of memory for a history of %u epochs", epochs);
        return err->status = MLP_ERR_NOMEM;
    }
    r->h.cap = epochs;
    struct mlp_context_params cp = mlp_context_params_default();
    cp.threads = o->threads;
    cp.kernels = k;
    cp.isa = cli_isa;
    struct mlp_context *cx = NULL;
    enum mlp_status st = mlp_context_create(&cx, &cp, err);
    for (uint32_t rep = 0; rep < o->repeat && st == MLP_OK; rep++) {
        struct mlp_model *m = NULL;
        struct mlp_trainer *t = NULL;
        struct history scratch = {r->h.loss, epochs, 0}, *h = rep == 0 ? &r->h : &scratch;
        struct mlp_train_params tp = w->tp;
        tp.epochs = epochs;
        tp.seed = o->seed;
        tp.eval_train = 0; /* time the training alone */
        struct mlp_model_params mp = w->mp;
        mp.ctx = cx;
        st = mlp_model_create(&m, &mp, err);
        if (st == MLP_OK) st = mlp_model_init(m, w->init, w->init_a, w->init_b, o->seed);
        if (st == MLP_OK) st = mlp_trainer_create(&t, m, &w->ds, &tp, err);
        if (st == MLP_OK) {
            mlp_trainer_set_callbacks(t, record_epoch, NULL, h);
            double t0 = mlp_now();
            st = mlp_trainer_run(t, err);
            double s = mlp_now() - t0;
            if (st == MLP_OK && (rep == 0 || s < r->seconds)) r->seconds = s;
            if (rep == 0) {
                r->epochs = mlp_trainer_epochs_done(t);
                r->passes = mlp_trainer_profile(t)->forward_n;
            }
        }
        mlp_trainer_free(t);
        mlp_model_free(m);
    }
    mlp_context_free(cx);
    return st;
}

/* The largest relative difference between r's costs and the reference's
 * over epochs 1..min(r's epochs, compare). */
static void compare_costs(struct stage_result *r, const struct stage_result *ref, uint32_t compare)
{
    uint32_t n = r->h.n < ref->h.n ? r->h.n : ref->h.n;
    if (compare && compare < n) n = compare;
    r->compared = n;
    r->max_rel = n ? 0 : INFINITY;
    for (uint32_t e = 0; e < n; e++) {
        double a = r->h.loss[e], b = ref->h.loss[e];
        double d = fabs(a - b) / fmax(fabs(b), 1e-300);
        if (!(d <= r->max_rel)) r->max_rel = isnan(d) ? INFINITY : d; /* NaN never agrees */
    }
}

static void fmt_time(char *buf, size_t n, double s)
{
    if (s >= 100)
        snprintf(buf, n, "%.1f s", s);
    else if (s >= 1)
        snprintf(buf, n, "%.3f s", s);
    else
        snprintf(buf, n, "%.2f ms", s * 1e3);
}

/* Run the four stages of one workload and print its table; *agree is
 * cleared when a stage's costs differ from the fast stage's. */
static enum mlp_status run_workload(struct workload *w, const struct ladder_opts *o, bool *agree,
                                    struct mlp_error *err)
{
    uint32_t full = o->epochs != UNSET ? o->epochs : w->full_epochs;
    uint32_t shrt = o->short_epochs != UNSET ? o->short_epochs : w->short_epochs;
    if (shrt > full) shrt = full;
    if (o->tolerance >= 0) {
        w->tol = o->tolerance;
        w->tol_why = "--tolerance";
    }
    struct stage_result res[N_STAGES];
    memset(res, 0, sizeof res);
    enum mlp_status st = MLP_OK;
    printf("%s: %s\n", w->id, w->title);
    printf("data: %llu rows x %u inputs (%s); outputs: %u; epochs: %u; threads: %d\n", (unsigned long long)w->ds.n_rows,
           w->ds.n_cols, w->ds.x_type == MLP_ELEM_U8 ? "uint8" : w->ds.x_type == MLP_ELEM_F32 ? "f32" : "f64",
           w->mp.n_out, full, o->threads > 0 ? o->threads : mlp_context_threads(NULL));
    fflush(stdout);
    /* The fast stage first: its history is the reference, and its epoch and
     * pass counts are the full run the short stages are scaled to (CG may
     * stop before the last iteration). */
    for (int i = N_STAGES; i-- > 0 && st == MLP_OK;) {
        bool is_short = stages[i] == MLP_KERNELS_NAIVE || stages[i] == MLP_KERNELS_PERSAMPLE;
        st = run_stage(w, stages[i], is_short ? shrt : full, o, &res[i], err);
    }
    if (st == MLP_OK) {
        const struct stage_result *ref = &res[N_STAGES - 1];
        for (int i = 0; i < N_STAGES; i++) {
            struct stage_result *r = &res[i];
            /* by passes over the data: CG's iterations differ in how many
             * function evaluations their line searches take */
            double scale = r->passes ? (double)ref->passes / (double)r->passes : 1;
            r->full_s = r->epochs < ref->epochs ? r->seconds * scale : r->seconds;
            if (i < N_STAGES - 1) compare_costs(r, ref, w->compare);
        }
        printf("%-11s %-15s %14s %14s %9s  %-22s %s\n", "stage", "epochs run", "full run", "per epoch", "speed-up",
               "cost", "agreement with fast");
        bool scaled = false;
        for (int i = 0; i < N_STAGES; i++) {
            const struct stage_result *r = &res[i];
            char run[40], full_s[32], per[32], spd[32], agr[96];
            snprintf(run, sizeof run, "%u of %u", r->epochs, ref->epochs);
            fmt_time(full_s, sizeof full_s, r->full_s);
            bool sc = r->epochs < ref->epochs;
            scaled |= sc;
            if (sc) strcat(full_s, " *");
            fmt_time(per, sizeof per, ref->epochs ? r->full_s / ref->epochs : 0);
            snprintf(spd, sizeof spd, "%.1fx", r->full_s > 0 ? res[0].full_s / r->full_s : 0);
            if (i == N_STAGES - 1) {
                snprintf(agr, sizeof agr, "reference");
            } else {
                bool ok = r->max_rel <= w->tol;
                if (!ok) *agree = false;
                snprintf(agr, sizeof agr, "%s (max rel diff %.1e, epochs 1-%u)", ok ? "agree" : "DIFFER", r->max_rel,
                         r->compared);
            }
            printf("%-11s %-15s %14s %14s %9s  %-22.17g %s\n", mlp_kernels_name(stages[i]), run, full_s, per, spd,
                   r->h.n ? r->h.loss[r->h.n - 1] : NAN, agr);
        }
        if (scaled)
            printf("* scaled from the epochs run to all %u, by passes over the data (naive: %llu of %llu)\n",
                   ref->epochs, (unsigned long long)res[0].passes, (unsigned long long)ref->passes);
        if (w->compare && ref->epochs > w->compare) {
            /* the full runs' end points, which the tolerance does not cover */
            const struct stage_result *b = &res[N_STAGES - 2];
            if (b->h.n == ref->h.n && ref->h.n > 0) {
                double fb = b->h.loss[b->h.n - 1], ff = ref->h.loss[ref->h.n - 1];
                printf("final costs after %u epochs: batched vs fast differ by %.1e relative (CG amplifies rounding; "
                       "compared over epochs 1-%u only)\n",
                       ref->h.n, fabs(fb - ff) / fmax(fabs(ff), 1e-300), w->compare);
            }
        }
        if (o->repeat > 1) printf("times: best of %u runs per stage\n", o->repeat);
        printf("%s: costs %s (tolerance %g relative: %s)\n\n", w->id, *agree ? "agree" : "DIFFER", w->tol, w->tol_why);
    }
    for (int i = 0; i < N_STAGES; i++) free(res[i].h.loss);
    return st;
}

/* ------------------------------------------------------------ command */

int cmd_bench_ladder(int argc, char **argv)
{
    const char *cmd = "bench ladder";
    struct ladder_opts o = {.workload = "all", .w1_data = "tests/data/train_catvnoncat.h5",
                            .w2_data = "tests/data/galaxy_test.csv", .epochs = UNSET, .short_epochs = UNSET,
                            .repeat = 1, .tolerance = -1, .seed = 917};
    const struct opt opts[] = {
        {"--workload", 0, OPT_STR, &o.workload, "W", "w1 w2 all [all]", "Workloads"},
        {"--w1-data", 0, OPT_STR, &o.w1_data, "FILE", "seed 000's cat/non-cat HDF5 [tests/data/train_catvnoncat.h5]",
         "Workloads"},
        {"--w2-data", 0, OPT_STR, &o.w2_data, "FILE",
         "seed 001's galaxy CSV, stacked 4x [tests/data/galaxy_test.csv]", "Workloads"},
        {"--epochs", 0, OPT_U32, &o.epochs, "N", "epochs (CG iterations) of the full run [W1 2000, W2 600]", "Stages"},
        {"--short-epochs", 0, OPT_U32, &o.short_epochs, "N",
         "epochs the naive and per-sample stages run; their time is scaled [W1 20, W2 10]", "Stages"},
        {"--repeat", 0, OPT_U32, &o.repeat, "N", "time each stage N times and keep the best [1]", "Stages"},
        {"--tolerance", 0, OPT_DBL, &o.tolerance, "X",
         "largest relative difference of costs that agrees [W1 1e-9, W2 1e-8 over 10 iterations]", "Stages"},
        {"--threads", 't', OPT_INT, &o.threads, "T", "threads, 0 for all cores [0]", "Stages"},
        {"--seed", 0, OPT_U64, &o.seed, "N", "initial weights (W2) [917, seed 001's]", "Stages"},
        {0}};
    struct cli_args a = {.cmd = cmd, .first = 3, .opts = opts, .max_pos = 0,
                         .usage = "usage: fastmlp bench ladder [--workload w1|w2|all] [--w1-data FILE] [--w2-data FILE]\n"
                                  "                            [--epochs N] [--short-epochs N] [--repeat N] [-t T]\n\n"
                                  "Seeds 000 and 001's optimisation ladder: the same training run with each stage of kernels\n"
                                  "(naive: scalar loops, one sample at a time; per-sample: BLAS level 1/2 per sample; batched:\n"
                                  "GEMMs over blocks of rows; fast: fastmlp's fastest path).  Per stage: the time of the full\n"
                                  "run (scaled for the short stages), the speed-up over naive, the final cost, and whether its\n"
                                  "costs agree with the fast stage's.  Exit 0 when all agree, 1 when one differs."};
    int rc = cli_args_parse(&a, argc, argv);
    if (rc != CLI_RUN) return rc;
    bool w1 = strcmp(o.workload, "w1") == 0 || strcmp(o.workload, "all") == 0;
    bool w2 = strcmp(o.workload, "w2") == 0 || strcmp(o.workload, "all") == 0;
    if (!w1 && !w2) return cli_usage_error(cmd, "option '--workload': '%s' is not w1, w2 or all", o.workload);
    /* UNSET: the workload's own count; an explicit 0 is a mistake */
    if (o.epochs == 0 || (o.epochs != UNSET && o.epochs > MAX_EPOCHS))
        return cli_usage_error(cmd, "option '--epochs' must be 1..%u", MAX_EPOCHS);
    if (o.short_epochs == 0 || (o.short_epochs != UNSET && o.short_epochs > MAX_EPOCHS))
        return cli_usage_error(cmd, "option '--short-epochs' must be 1..%u", MAX_EPOCHS);
    if (o.repeat == 0 || o.repeat > 1000) return cli_usage_error(cmd, "option '--repeat' must be 1..1000");
    if (o.tolerance != -1 && !(o.tolerance >= 0))
        return cli_usage_error(cmd, "option '--tolerance' must be 0 or more");
    if ((rc = cli_check_threads(cmd, o.threads)) != EXIT_OK) return rc;

    printf("fastmlp %s bench ladder; BLAS: %s\n\n", MLP_VERSION_STRING, mlp_blas_info());
    bool agree = true;
    struct mlp_error err = {0};
    for (int k = 0; k < 2; k++) {
        if (!(k == 0 ? w1 : w2)) continue;
        struct workload w;
        memset(&w, 0, sizeof w);
        enum mlp_status st = k == 0 ? load_w1(&w, o.w1_data, &err) : load_w2(&w, o.w2_data, &err);
        if (st == MLP_OK) {
            bool ok = true;
            st = run_workload(&w, &o, &ok, &err);
            agree &= ok;
        }
        free_workload(&w);
        if (st != MLP_OK) return cli_fail(cmd, st, err.msg);
    }
    return agree ? EXIT_OK : EXIT_FAIL;
}
