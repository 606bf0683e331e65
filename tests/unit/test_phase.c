/* SPDX-License-Identifier: MIT */
/* The trainer's phase callback (mlp_trainer_set_phase_callback): the exact
 * sequence of (phase, epoch) it hears for each optimiser family, with an
 * evaluation set and checkpoints, on a stop mid-epoch and on a failed
 * checkpoint (IDLE however the run ends); and that listening changes no bit
 * of the trained weights. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { ROWS = 120, EVAL_ROWS = 40, COLS = 4, K = 3, MAX_CALLS = 64 };

static double X[ROWS * COLS], XE[EVAL_ROWS * COLS];
static int32_t Y[ROWS], YE[EVAL_ROWS];
static struct mlp_dataset train = {.n_rows = ROWS, .n_cols = COLS, .x_type = MLP_ELEM_F64, .x = X, .labels = Y,
                                   .n_classes = K};
static struct mlp_dataset eval = {.n_rows = EVAL_ROWS, .n_cols = COLS, .x_type = MLP_ELEM_F64, .x = XE,
                                  .labels = YE, .n_classes = K};
static char dir[] = "/tmp/fastmlp_phase_XXXXXX";

static void make_data(void)
{
    struct mlp_rng r;
    mlp_rng_seed(&r, 9);
    for (int i = 0; i < ROWS * COLS; i++) X[i] = mlp_rng_uniform(&r) - 0.5;
    for (int i = 0; i < EVAL_ROWS * COLS; i++) XE[i] = mlp_rng_uniform(&r) - 0.5;
    for (int i = 0; i < ROWS; i++) Y[i] = (X[i * COLS] + X[i * COLS + 1] > 0) + (X[i * COLS + 2] > 0.2);
    for (int i = 0; i < EVAL_ROWS; i++) YE[i] = (XE[i * COLS] + XE[i * COLS + 1] > 0) + (XE[i * COLS + 2] > 0.2);
}

/* What the callback heard, in order. */
struct heard {
    int n;
    int phase[MAX_CALLS];
    uint32_t epoch[MAX_CALLS];
};

static void record(enum mlp_phase phase, uint32_t epoch, void *user)
{
    struct heard *h = user;
    if (h->n < MAX_CALLS) {
        h->phase[h->n] = (int)phase;
        h->epoch[h->n] = epoch;
    }
    h->n++;
}

/* "T1 E1 C1 ... I0": the sequence as the checks spell it. */
static void spell(const struct heard *h, char *out, size_t cap)
{
    static const char letter[] = "TECI";
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < h->n && i < MAX_CALLS && len + 16 < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%c%u", i ? " " : "",
                                h->phase[i] >= 0 && h->phase[i] <= 3 ? letter[h->phase[i]] : '?', h->epoch[i]);
}

static void check_heard(const char *what, const struct heard *h, const char *want)
{
    char got[512];
    spell(h, got, sizeof got);
    CHECK_MSG(strcmp(got, want) == 0, "%s: heard \"%s\", expected \"%s\"", what, got, want);
}

static int stop_in_epoch_two(const struct mlp_batch_info *b, void *user)
{
    (void)user;
    return b->epoch == 2 && b->batch == 2;
}

struct run {
    const char *what;
    struct mlp_train_params tp;
    const char *ckpt;      /* the run's checkpoint file, or NULL */
    uint32_t ckpt_every;
    mlp_batch_fn on_batch; /* may be NULL */
    enum mlp_status want;  /* mlp_trainer_run's status */
};

/* One run from the same initial weights, with the phase callback (heard
 * not NULL) or without; the trained model, or NULL after a failed check. */
static struct mlp_model *train_once(const struct run *r, struct heard *heard)
{
    struct mlp_layer_spec h[1] = {{8, MLP_ACT_TANH}};
    struct mlp_model *m = test_model(MLP_F64, COLS, 1, h, K, MLP_HEAD_SOFTMAX_CE, 1);
    if (!m) return NULL;
    mlp_model_init(m, MLP_INIT_XAVIER, 0, 0, 3);
    struct mlp_trainer *t = NULL;
    struct mlp_error err = {0};
    CHECK_STATUS(mlp_trainer_create(&t, m, &train, &r->tp, &err), MLP_OK);
    if (!t) {
        mlp_model_free(m);
        return NULL;
    }
    if (heard) mlp_trainer_set_phase_callback(t, record, heard);
    if (r->ckpt) mlp_trainer_set_checkpoint(t, r->ckpt, r->ckpt_every);
    if (r->on_batch) mlp_trainer_set_callbacks(t, NULL, r->on_batch, NULL);
    enum mlp_status st = mlp_trainer_run(t, &err);
    CHECK_MSG(st == r->want, "%s: %s (%s), expected %s", r->what, mlp_status_str(st), err.msg,
              mlp_status_str(r->want));
    mlp_trainer_free(t);
    return m;
}

/* The run heard `want`, and its weights are those of the same run unheard. */
static void phases_of(const struct run *r, const char *want)
{
    struct heard h = {0};
    struct mlp_model *a = train_once(r, &h);
    struct mlp_model *b = train_once(r, NULL);
    check_heard(r->what, &h, want);
    if (a && b)
        CHECK_MSG(memcmp(mlp_model_params_const(a), mlp_model_params_const(b),
                         mlp_model_n_params(a) * sizeof(double)) == 0,
                  "%s: the weights differ with a phase callback", r->what);
    mlp_model_free(a);
    mlp_model_free(b);
}

int main(void)
{
    make_data();
    CHECK(mkdtemp(dir) != NULL);
    char ckpt[64], nowhere[96];
    snprintf(ckpt, sizeof ckpt, "%s/run.ckpt", dir);
    snprintf(nowhere, sizeof nowhere, "%s/no/such/dir/run.ckpt", dir);

    struct mlp_train_params tp = mlp_train_params_default();
    tp.epochs = 3;
    tp.batch = 32;
    tp.lr = 0.01;
    tp.eval = &eval;
    /* Adam: evaluation and a checkpoint after every epoch */
    phases_of(&(struct run){"adam", tp, ckpt, 1, NULL, MLP_OK}, "T1 E1 C1 T2 E2 C2 T3 E3 C3 I0");
    /* a checkpoint every other epoch */
    phases_of(&(struct run){"adam, every 2", tp, ckpt, 2, NULL, MLP_OK}, "T1 E1 T2 E2 C2 T3 E3 I0");

    /* CG: an iteration is an epoch; its line search's evaluations are its
     * training (3 iterations, far from gtol) */
    struct mlp_train_params cg = tp;
    cg.optim = MLP_OPT_CG;
    phases_of(&(struct run){"cg", cg, NULL, 0, NULL, MLP_OK}, "T1 E1 T2 E2 T3 E3 I0");
    /* L-BFGS without an evaluation set or training accuracy: nothing but
     * its iterations */
    struct mlp_train_params lb = cg;
    lb.optim = MLP_OPT_LBFGS;
    lb.eval = NULL;
    lb.eval_train = 0;
    lb.epochs = 2;
    phases_of(&(struct run){"lbfgs", lb, NULL, 0, NULL, MLP_OK}, "T1 T2 I0");

    /* GD, no evaluation set: only the epoch changes */
    struct mlp_train_params gd = tp;
    gd.optim = MLP_OPT_GD;
    gd.eval = NULL;
    gd.epochs = 2;
    phases_of(&(struct run){"gd", gd, NULL, 0, NULL, MLP_OK}, "T1 T2 I0");

    /* SGD stopped within epoch 2: the stop's checkpoint is epoch 2's */
    struct mlp_train_params sgd = tp;
    sgd.optim = MLP_OPT_SGD;
    phases_of(&(struct run){"sgd, stopped", sgd, ckpt, 0, stop_in_epoch_two, MLP_ERR_STOPPED}, "T1 E1 T2 C2 I0");

    /* a checkpoint that cannot be written ends the run: IDLE all the same */
    phases_of(&(struct run){"adam, checkpoint fails", tp, nowhere, 1, NULL, MLP_ERR_OPEN}, "T1 E1 C1 I0");

    unlink(ckpt);
    rmdir(dir);
    return check_report("phase");
}
