/* SPDX-License-Identifier: MIT */
/*
 * Seed 000 (workload W1): one logistic neuron on cat/non-cat, zero init,
 * full-batch GD, lr 0.005, 2000 epochs.  fastmlp must agree with the
 * independent NumPy implementation (tests/golden/seed000_logreg.py, its output
 * tests/golden/seed000_logreg.txt) to 1e-9 relative in f64, on 1 and on 2
 * threads, and to 1e-4 relative in f32 over the first 100 epochs.
 *
 * Reads train_catvnoncat.h5 from the data directory (support/datadir.h:
 * $FASTMLP_DATA_DIR, else the source tree's tests/data) and seed000_logreg.txt
 * from FASTMLP_GOLDEN_DIR (a compile definition).  Missing data or a missing
 * golden file is a failure, not a skip.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "datadir.h"
#include "testutil.h"
#include "fastmlp.h"
#include "h5_cat.h"

#ifndef FASTMLP_GOLDEN_DIR
#error "FASTMLP_GOLDEN_DIR (the directory of seed000_logreg.txt) must be defined"
#endif

#define N_IN 12288u
#define EPOCHS 2000u
#define LR 0.005
#define MAX_GOLDEN 64

struct golden {
    int n;                        /* recorded epochs */
    unsigned epoch[MAX_GOLDEN];
    double cost[MAX_GOLDEN];
    double b, w_l2, w0, w100, w12287;
    double acc, final_cost;       /* from the header's "# final:" line */
};

/* Parse seed000_logreg.txt; 0 on success, -1 with a message on stderr. */
static int golden_load(struct golden *g, const char *path)
{
    memset(g, 0, sizeof *g);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "seed000: cannot open golden file %s\n", path);
        return -1;
    }
    char line[512];
    int have_b = 0, have_l2 = 0, have_w = 0, have_final = 0, bad = 0, lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        int used = 0;
        unsigned e;
        double v, v2, v3;
        int k1, k2;
        if (line[0] == '#') {
            if (sscanf(line, "# final: train accuracy (a > 0.5) %lf (%d/%d), cost after the "
                             "last update %lf", &v, &k1, &k2, &v2) == 4) {
                g->acc = v;
                g->final_cost = v2;
                have_final = 1;
            }
            continue;
        }
        if (line[0] == '\n' || line[0] == '\0') continue;
        if (sscanf(line, "b %lf %n", &v, &used) == 1 && line[used] == '\0') {
            g->b = v;
            have_b = 1;
        } else if (sscanf(line, "w_l2 %lf %n", &v, &used) == 1 && line[used] == '\0') {
            g->w_l2 = v;
            have_l2 = 1;
        } else if (sscanf(line, "w0 %lf w100 %lf w12287 %lf %n", &v, &v2, &v3, &used) == 3 &&
                   line[used] == '\0') {
            g->w0 = v;
            g->w100 = v2;
            g->w12287 = v3;
            have_w = 1;
        } else if (sscanf(line, "%u %lf %n", &e, &v, &used) == 2 && line[used] == '\0' &&
                   e >= 1 && e <= EPOCHS && g->n < MAX_GOLDEN &&
                   (g->n == 0 || e > g->epoch[g->n - 1])) {
            g->epoch[g->n] = e;
            g->cost[g->n] = v;
            g->n++;
        } else {
            fprintf(stderr, "seed000: %s:%d: cannot parse: %s", path, lineno, line);
            bad = 1;
        }
    }
    int read_err = ferror(f);
    fclose(f);
    if (read_err || bad || !have_b || !have_l2 || !have_w || !have_final || g->n < 4 ||
        g->epoch[0] != 1 || g->epoch[g->n - 1] != EPOCHS) {
        fprintf(stderr, "seed000: golden file %s is incomplete or malformed\n", path);
        return -1;
    }
    return 0;
}

/* |got - want| <= rtol * |want|, reported with both values when it fails. */
static void check_rel(const char *what, double got, double want, double rtol)
{
    double rel = want != 0 ? fabs(got - want) / fabs(want) : fabs(got);
    int within_rtol = isfinite(got) && rel <= rtol;
    CHECK_MSG(within_rtol, "%s: got %.17g, want %.17g (rel %.3g > %.3g)", what, got, want,
              rel, rtol);
}

struct recorder {
    unsigned n, max;
    int in_order;
    double *loss; /* loss[e - 1] = train_loss of epoch e */
};

static int on_epoch(const struct mlp_epoch_stats *s, void *user)
{
    struct recorder *r = user;
    if (s->epoch != r->n + 1 || r->n >= r->max) {
        r->in_order = 0;
        return 1;
    }
    r->loss[r->n++] = s->train_loss;
    return 0;
}

/* Read parameter i (flat layout) of a model of either dtype as a double. */
static double param(const struct mlp_model *m, size_t i)
{
    const void *p = mlp_model_params_const(m);
    return mlp_model_dtype(m) == MLP_F64 ? ((const double *)p)[i] : (double)((const float *)p)[i];
}

/* Train a fresh seed-000 model; on success *out is the trained model and
 * rec holds the per-epoch losses.  Returns 0 or -1 (already reported). */
static int train_seed000(struct mlp_model **out, const struct mlp_dataset *ds,
                         enum mlp_dtype dtype, unsigned epochs, int threads,
                         struct recorder *rec)
{
    struct mlp_error err = {0};
    struct mlp_model_params mp = mlp_model_params_default();
    mp.dtype = dtype;
    mp.n_in = N_IN;
    mp.n_hidden = 0;
    mp.hidden = NULL;
    mp.n_out = 1;
    mp.head = MLP_HEAD_SIGMOID_BCE;
    mp.input_scale = 1.0 / 255.0;

    *out = NULL;
    struct mlp_model *m = NULL;
    enum mlp_status st = mlp_model_create(&m, &mp, &err);
    if (st != MLP_OK) fprintf(stderr, "seed000: mlp_model_create: %s\n", err.msg);
    CHECK_STATUS(st, MLP_OK);
    if (st != MLP_OK || !m) return -1;
    CHECK_STATUS(mlp_model_init(m, MLP_INIT_ZEROS, 0, 0, 0), MLP_OK);
    CHECK(mlp_model_n_in(m) == N_IN);
    CHECK(mlp_model_n_out(m) == 1);
    CHECK(mlp_model_n_layers(m) == 1);
    CHECK(mlp_model_n_params(m) == N_IN + 1);
    CHECK(mlp_model_w_offset(m, 0) == 0);
    CHECK(mlp_model_b_offset(m, 0) == N_IN);
    if (mlp_model_n_params(m) != N_IN + 1) {
        mlp_model_free(m);
        return -1;
    }
    for (size_t i = 0; i < N_IN + 1; i++)
        if (param(m, i) != 0) {
            CHECK(param(m, i) == 0);
            break;
        }

    struct mlp_train_params tp = mlp_train_params_default();
    tp.optim = MLP_OPT_GD;
    tp.lr = LR;
    tp.epochs = epochs;
    tp.l2 = 0;
    mlp_model_set_context(m, test_use(threads, MLP_KERNELS_FAST));
    rec->n = 0;
    rec->in_order = 1;
    tp.on_epoch = on_epoch;
    tp.user = rec;
    st = mlp_model_train(m, ds, &tp, &err);
    if (st != MLP_OK)
        fprintf(stderr, "seed000: mlp_model_train (%s, %d threads): %s\n",
                mlp_dtype_name(dtype), threads, err.msg);
    CHECK_STATUS(st, MLP_OK);
    CHECK(rec->in_order);
    CHECK(rec->n == epochs);
    if (st != MLP_OK || !rec->in_order || rec->n != epochs) {
        mlp_model_free(m);
        return -1;
    }
    *out = m;
    return 0;
}

/* The full W1 run in f64 on `threads` threads against the golden file. */
static void check_f64(const struct mlp_dataset *ds, const struct golden *g, int threads,
                      struct recorder *rec)
{
    char what[96];
    struct mlp_model *m = NULL;
    if (train_seed000(&m, ds, MLP_F64, EPOCHS, threads, rec) != 0) return;

    for (int k = 0; k < g->n; k++) {
        snprintf(what, sizeof what, "f64 %d thr: cost at epoch %u", threads, g->epoch[k]);
        check_rel(what, rec->loss[g->epoch[k] - 1], g->cost[k], 1e-9);
    }
    /* epoch 1: zero weights, every a = 1/2 */
    CHECK_NEAR(rec->loss[0], log(2.0), 1e-12);

    const size_t w = mlp_model_w_offset(m, 0), b = mlp_model_b_offset(m, 0);
    double ss = 0;
    for (size_t i = 0; i < N_IN; i++) ss += param(m, w + i) * param(m, w + i);
    snprintf(what, sizeof what, "f64 %d thr: final b", threads);
    check_rel(what, param(m, b), g->b, 1e-9);
    snprintf(what, sizeof what, "f64 %d thr: final ||w||_2", threads);
    check_rel(what, sqrt(ss), g->w_l2, 1e-9);
    snprintf(what, sizeof what, "f64 %d thr: final w[0]", threads);
    check_rel(what, param(m, w + 0), g->w0, 1e-9);
    snprintf(what, sizeof what, "f64 %d thr: final w[100]", threads);
    check_rel(what, param(m, w + 100), g->w100, 1e-9);
    snprintf(what, sizeof what, "f64 %d thr: final w[12287]", threads);
    check_rel(what, param(m, w + 12287), g->w12287, 1e-9);

    /* The trained model through the evaluation path: loss after the last
     * update and the train accuracy (207/209 at the 0.5 threshold). */
    struct mlp_error err = {0};
    double loss = -1, acc = -1;
    enum mlp_status st = mlp_model_evaluate(m, ds, &loss, &acc, &err);
    if (st != MLP_OK) fprintf(stderr, "seed000: mlp_model_evaluate: %s\n", err.msg);
    CHECK_STATUS(st, MLP_OK);
    if (st == MLP_OK) {
        snprintf(what, sizeof what, "f64 %d thr: final evaluated loss", threads);
        check_rel(what, loss, g->final_cost, 1e-9);
        snprintf(what, sizeof what, "f64 %d thr: final train accuracy", threads);
        check_rel(what, acc, g->acc, 1e-12);
    }
    mlp_model_free(m);
}

/* f32, 100 epochs: the golden costs up to epoch 100 to 1e-4 relative. */
static void check_f32(const struct mlp_dataset *ds, const struct golden *g,
                      struct recorder *rec)
{
    char what[96];
    struct mlp_model *m = NULL;
    if (train_seed000(&m, ds, MLP_F32, 100, 1, rec) != 0) return;
    int compared = 0;
    for (int k = 0; k < g->n && g->epoch[k] <= 100; k++) {
        snprintf(what, sizeof what, "f32: cost at epoch %u", g->epoch[k]);
        check_rel(what, rec->loss[g->epoch[k] - 1], g->cost[k], 1e-4);
        compared++;
    }
    CHECK(compared >= 4); /* epochs 1, 2, 3 (10) and 100 */
    mlp_model_free(m);
}

int main(void)
{
    const char *data_path = test_data_path("train_catvnoncat.h5");
    const char *golden_path = FASTMLP_GOLDEN_DIR "/seed000_logreg.txt";

    struct golden g;
    int golden_ok = golden_load(&g, golden_path) == 0;
    CHECK(golden_ok);

    struct h5_cat cat;
    char msg[512];
    int data_ok = h5_cat_load(&cat, data_path, "train", msg, sizeof msg) == 0;
    if (!data_ok) fprintf(stderr, "seed000: %s\n", msg);
    CHECK(data_ok);

    if (golden_ok && data_ok) {
        CHECK(cat.ds.n_rows == 209);
        CHECK(cat.ds.n_cols == N_IN);
        struct mlp_error err = {0};
        CHECK_STATUS(mlp_dataset_validate(&cat.ds, &err), MLP_OK);

        struct recorder rec = {0, EPOCHS, 1, calloc(EPOCHS, sizeof(double))};
        CHECK(rec.loss != NULL);
        if (rec.loss && cat.ds.n_rows == 209 && cat.ds.n_cols == N_IN) {
            check_f64(&cat.ds, &g, 1, &rec);
            check_f64(&cat.ds, &g, 2, &rec);
            check_f32(&cat.ds, &g, &rec);
        }
        free(rec.loss);
    }
    h5_cat_free(&cat);
    return check_report("seed000");
}
