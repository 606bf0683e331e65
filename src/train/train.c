/* SPDX-License-Identifier: MIT */
/* The trainer: epochs of full-batch gradient descent or mini-batch SGD/Adam
 * over a data set, with seeded shuffling, learning-rate schedules, decoupled
 * weight decay, early stopping on the evaluation loss, per-batch and
 * per-epoch callbacks, a stop request that lands on a batch boundary, and a
 * divergence guard that restores the last good weights.  All of its state
 * lives in struct mlp_trainer (train_state.h); saving and resuming hand a
 * snapshot of it to checkpoint.c, which sits below and knows only that. */
#include "context/context.h"
#include "train/train_state.h"
#include "train/checkpoint.h"
#include "train/optim/minimize.h"
#include "train/optim/optim.h"

#include <math.h>
#include <string.h>

struct mlp_train_params mlp_train_params_default(void)
{
    struct mlp_train_params p = {0};
    p.optim = MLP_OPT_ADAM;
    p.lr = 1e-3;
    p.momentum = 0.9;
    p.beta1 = 0.9;
    p.beta2 = 0.999;
    p.eps = 1e-8;
    p.batch = 64;
    p.epochs = 10;
    p.shuffle = 1;
    p.seed = 42;
    p.eval_train = 1;
    p.schedule = MLP_SCHED_CONSTANT;
    p.step_size = 10;
    p.gamma = 0.1;
    p.gtol = 1e-5;
    p.history = 10;
    return p;
}

const char *mlp_stop_reason_name(enum mlp_stop_reason r)
{
    static const char *const names[MLP_STOP_COUNT] = {"none",     "epochs",      "early",    "gtol",
                                                      "max-iter", "line-search", "diverged", "requested"};
    return (int)r >= 0 && r < MLP_STOP_COUNT ? names[r] : "unknown";
}

static bool all_finite(const struct mlp_model *m)
{
    if (m->dtype == MLP_F32) {
        const float *w = m->params;
        for (size_t i = 0; i < m->n_params; i++)
            if (!isfinite(w[i])) return false;
    } else {
        const double *w = m->params;
        for (size_t i = 0; i < m->n_params; i++)
            if (!isfinite(w[i])) return false;
    }
    return true;
}

/* The L2 term l2/(2m) sum w^2 (weights only; m = l2_m, or n when 0) of the
 * model's weights as they stand: what a pass with these l2 and l2_m adds to
 * its data loss, summed in the same order (src/pass/pass.inc's finish), so
 * that the pass's loss less this is the data loss that evaluation reports. */
static double l2_term(const struct mlp_model *m, double l2, double l2_m, uint64_t n)
{
    double sq = 0, c = l2 / (l2_m > 0 ? l2_m : (double)n);
    for (uint32_t l = 0; l < m->n_layers; l++) {
        const struct mlp_layer *ly = &m->layers[l];
        size_t nw = (size_t)ly->n_in * ly->n_out;
        if (m->dtype == MLP_F32) {
            const float *w = (const float *)m->params + ly->w_off;
            for (size_t i = 0; i < nw; i++) sq += (double)w[i] * (double)w[i];
        } else {
            const double *w = (const double *)m->params + ly->w_off;
            for (size_t i = 0; i < nw; i++) sq += w[i] * w[i];
        }
    }
    return 0.5 * c * sq;
}

static enum mlp_status check_params(const struct mlp_train_params *p, struct mlp_error *err)
{
    if ((int)p->optim < 0 || p->optim >= MLP_OPT_COUNT)
        return mlp__fail(err, MLP_ERR_ARG, "unknown optimizer id %d", (int)p->optim);
    if (!(isfinite(p->lr) && p->lr > 0))
        return mlp__fail(err, MLP_ERR_ARG, "learning rate %g must be positive", p->lr);
    if (!(isfinite(p->l2) && p->l2 >= 0))
        return mlp__fail(err, MLP_ERR_ARG, "L2 penalty %g must be >= 0", p->l2);
    if (!(isfinite(p->momentum) && p->momentum >= 0 && p->momentum < 1))
        return mlp__fail(err, MLP_ERR_ARG, "momentum %g out of range [0, 1)", p->momentum);
    if (!(p->beta1 >= 0 && p->beta1 < 1 && p->beta2 >= 0 && p->beta2 < 1 && p->eps > 0 && isfinite(p->eps)))
        return mlp__fail(err, MLP_ERR_ARG, "Adam needs 0 <= beta1, beta2 < 1 and eps > 0");
    if ((p->optim == MLP_OPT_CG || p->optim == MLP_OPT_LBFGS) && !(isfinite(p->gtol) && p->gtol >= 0))
        return mlp__fail(err, MLP_ERR_ARG, "gradient tolerance %g must be >= 0", p->gtol);
    if (p->optim == MLP_OPT_LBFGS && (p->history == 0 || p->history > 1000))
        return mlp__fail(err, MLP_ERR_ARG, "L-BFGS history %u out of range 1..1000", p->history);
    if ((p->optim == MLP_OPT_SGD || p->optim == MLP_OPT_ADAM) && p->batch == 0)
        return mlp__fail(err, MLP_ERR_ARG, "batch size must be at least 1");
    if ((int)p->schedule < 0 || p->schedule >= MLP_SCHED_COUNT)
        return mlp__fail(err, MLP_ERR_ARG, "unknown schedule id %d", (int)p->schedule);
    if (p->schedule == MLP_SCHED_STEP && (p->step_size == 0 || !(isfinite(p->gamma) && p->gamma > 0)))
        return mlp__fail(err, MLP_ERR_ARG, "the step schedule needs a step size >= 1 and gamma > 0");
    if (p->schedule == MLP_SCHED_COSINE && !(isfinite(p->lr_min) && p->lr_min >= 0 && p->lr_min <= p->lr))
        return mlp__fail(err, MLP_ERR_ARG, "cosine schedule: lr_min %g must be in [0, lr]", p->lr_min);
    if (!(isfinite(p->weight_decay) && p->weight_decay >= 0))
        return mlp__fail(err, MLP_ERR_ARG, "weight decay %g must be >= 0", p->weight_decay);
    return MLP_OK;
}

enum mlp_status mlp_train_params_check(const struct mlp_train_params *p, struct mlp_error *err)
{
    MLP_ASSERT(p);
    return check_params(p, err);
}

/* The learning rate of epoch `epoch` (1-based) under p's schedule. */
static double epoch_lr(const struct mlp_train_params *p, uint32_t epoch)
{
    double e = (double)(epoch - 1);
    switch (p->schedule) {
    case MLP_SCHED_STEP: return p->lr * pow(p->gamma, floor(e / p->step_size));
    case MLP_SCHED_COSINE:
        return p->lr_min + (p->lr - p->lr_min) * 0.5 * (1 + cos(3.14159265358979323846 * e / p->epochs));
    default: return p->lr;
    }
}

/* Optimizer moment vectors a run keeps beside the weights: Adam's two, the
 * velocity of SGD with momentum. */
static int state_vectors(const struct mlp_train_params *p)
{
    return p->optim == MLP_OPT_ADAM ? 2 : p->optim == MLP_OPT_SGD && p->momentum > 0 ? 1 : 0;
}

enum mlp_status mlp_trainer_check_memory(const struct mlp_model_params *mp, const struct mlp_train_params *tp,
                                         struct mlp_error *err)
{
    MLP_ASSERT(mp && tp && (mp->hidden || mp->n_hidden == 0));
    /* In doubles: a network far past MLP_MAX_PARAMS is still measured. */
    double n = 0, prev = mp->n_in;
    for (uint32_t i = 0; i <= mp->n_hidden; i++) {
        double w = i < mp->n_hidden ? mp->hidden[i].n_out : mp->n_out;
        n += prev * w + w;
        prev = w;
    }
    /* The weights, and the trainer's gradient, last good and best copies
     * and moments (mlp_trainer_create's one allocation). */
    double need = n * (4 + state_vectors(tp)) * (double)mlp__dtype_size(mp->dtype);
    uint64_t have = mlp__mem_bound();
    if (have != UINT64_MAX && need > (double)have)
        return mlp__fail(err, MLP_ERR_NOMEM,
                         "the network has %.0f parameters: training needs %.1f GiB, this machine has %.1f GiB", n,
                         need / (1u << 30), (double)have / (1u << 30));
    return MLP_OK;
}

/* A training set's rows: some, and few enough to index (the shuffle's
 * permutation), checked by create and continue alike. */
static enum mlp_status check_train_rows(const struct mlp_dataset *train, struct mlp_error *err)
{
    if (train->n_rows == 0) return mlp__fail(err, MLP_ERR_ARG, "the training set is empty");
    if (train->n_rows > SIZE_MAX / sizeof(uint64_t))
        return mlp__fail(err, MLP_ERR_NOMEM, "%llu training rows: too many to index",
                         (unsigned long long)train->n_rows);
    return MLP_OK;
}

enum mlp_status mlp_trainer_create(struct mlp_trainer **out, struct mlp_model *m, const struct mlp_dataset *train,
                                   const struct mlp_train_params *p, struct mlp_error *err)
{
    MLP_ASSERT(out && m && train && p);
    *out = NULL;
    const struct mlp_dataset *eval = p->eval;
    /* data-parallel: a rank's shard may be empty (more ranks than rows);
     * mlp__dist_init checks the shards against each other and counts all */
    const struct mlp_comm *comm = p->comm && p->comm->size > 1 ? p->comm : NULL;
    enum mlp_status st = check_params(p, err);
    if (st == MLP_OK && (!comm || train->n_rows)) st = mlp__check_data(m, train, true, err);
    if (st == MLP_OK && eval && (!comm || eval->n_rows)) st = mlp__check_data(m, eval, true, err);
    if (!comm) {
        if (st != MLP_OK) return st;
        if ((st = check_train_rows(train, err)) != MLP_OK) return st;
        if (eval && eval->n_rows == 0) return mlp__fail(err, MLP_ERR_ARG, "the evaluation set is empty");
    }
    if (st == MLP_OK && p->patience && !eval)
        st = mlp__fail(err, MLP_ERR_ARG, "early stopping (patience %u) needs an evaluation set", p->patience);

    struct mlp_trainer *t = NULL;
    if (st == MLP_OK && !(t = calloc(1, sizeof *t))) st = mlp__fail(err, MLP_ERR_NOMEM, "cannot allocate a trainer");
    struct mlp_dist dist;
    if (comm) {
        /* a rank whose own checks failed (its shard's labels, its memory)
         * still joins mlp__dist_init's first sum, which tells every rank:
         * all fail here together, none waits in a later sum */
        enum mlp_status dst = mlp__dist_init(&dist, comm, train, eval, st != MLP_OK,
                                             st == MLP_OK ? err : &(struct mlp_error){0});
        if (st == MLP_OK) st = dst;
    }
    if (st != MLP_OK) {
        free(t);
        return st;
    }
    t->m = m;
    t->train = train;
    t->eval = eval;
    t->p = *p;
    t->on_epoch = p->on_epoch;
    t->user = p->user;
    t->phase = MLP_PHASE_IDLE;
    t->p.comm = comm;
    t->N = train->n_rows;
    if (comm) {
        t->dist = dist;
        t->dp = true;
        t->N = t->dist.n_total;
        if (t->N > SIZE_MAX / sizeof(uint64_t)) {
            mlp_trainer_free(t);
            return mlp__fail(err, MLP_ERR_NOMEM, "%llu training rows: too many to index", (unsigned long long)t->N);
        }
    }
    const size_t n = m->n_params, esz = mlp__dtype_size(m->dtype);
    const uint64_t N = t->N;
    t->minibatch = p->optim == MLP_OPT_SGD || p->optim == MLP_OPT_ADAM;
    t->solver = p->optim == MLP_OPT_CG || p->optim == MLP_OPT_LBFGS;
    t->bs = t->minibatch ? (p->batch < N ? p->batch : N) : N;
    t->n_batches = (N + t->bs - 1) / t->bs;
    t->momentum = p->optim == MLP_OPT_SGD && p->momentum > 0;
    t->n_state = state_vectors(p);
    /* One allocation: gradient, last good weights, best weights, optimizer
     * state, each vector starting on a cache line and the starts 576 bytes
     * apart modulo 4 KiB.  Adam reads g, m, v and writes m, v at the same
     * index: back to back (n * 4 bytes apart, 40 mod 64 on W5) its vector
     * loads and stores straddled cache lines, and 4 KiB apart the loads
     * waited on unrelated stores (4K aliasing); on W5 the step took 3x and
     * 1.6x the time it takes now. */
    if (mlp__model_dev(m)) {
        if (t->dp) {
            mlp_trainer_free(t);
            return mlp__fail(err, MLP_ERR_UNSUPPORTED,
                             "data-parallel training on a GPU is not supported: one process per GPU over MPI is "
                             "not built yet (train with --device cpu on several ranks, or on one GPU alone)");
        }
        if ((st = mlp__dev_open(&t->dev, m, err)) != MLP_OK) {
            mlp_trainer_free(t);
            return st;
        }
        t->on_dev = true;
    }
    const size_t stride = (n * esz + 4095) / 4096 * 4096 + 576;
    t->buf = mlp__acalloc((size_t)(3 + t->n_state) * stride);
    t->perm = t->minibatch ? malloc(N * sizeof *t->perm) : NULL;
    t->hist_cap = p->epochs < 1024 ? p->epochs + 1 : 1024;
    t->hist = malloc(t->hist_cap * sizeof *t->hist);
    double lack = !t->buf || (t->minibatch && !t->perm) || !t->hist;
    /* data-parallel: every rank learns whether any could not, so that none
     * goes on to wait for it in the run's first sum */
    if (t->dp && (st = mlp__dist_sum(&t->dist, &lack, 1, MLP_F64, err)) != MLP_OK) {
        mlp_trainer_free(t);
        return st;
    }
    if (lack > 0) {
        bool here = !t->buf || (t->minibatch && !t->perm) || !t->hist;
        mlp_trainer_free(t);
        return mlp__fail(err, MLP_ERR_NOMEM, "cannot allocate training state for %zu parameters%s", n,
                         here ? "" : " on another rank");
    }
    t->grad = t->buf;
    t->good = t->grad + stride;
    t->best = t->good + stride;
    t->s1 = t->best + stride;
    t->s2 = t->s1 + stride;
    mlp__rng_seed(&t->rng, p->seed);
    t->best_loss = INFINITY;
    t->prof.param_bytes = 4 * n * esz;
    t->prof.optim_bytes = (size_t)t->n_state * n * esz;
    *out = t;
    return MLP_OK;
}

void mlp_trainer_free(struct mlp_trainer *t)
{
    if (!t) return;
    if (t->dp) mlp__dist_free(&t->dist);
    if (t->on_dev) mlp__dev_close(&t->dev);
    mlp__afree(t->buf);
    free(t->perm);
    free(t->hist);
    free(t->ckpt_path);
    free(t);
}

enum mlp_status mlp_trainer_continue(struct mlp_trainer *t, const struct mlp_dataset *train, uint32_t epochs,
                                     struct mlp_error *err)
{
    MLP_ASSERT(t && train);
    if (t->dp) return mlp__fail(err, MLP_ERR_UNSUPPORTED, "continue: not in a data-parallel run");
    if (t->solver)
        return mlp__fail(err, MLP_ERR_ARG, "continue: %s keeps no state between data sets; only sgd, adam and gd go on",
                         mlp_optim_name(t->p.optim));
    if (t->p.patience || t->stopped_early)
        return mlp__fail(err, MLP_ERR_ARG, "continue: not with early stopping");
    if (t->p.schedule == MLP_SCHED_COSINE)
        return mlp__fail(err, MLP_ERR_ARG, "continue: the cosine schedule depends on the number of epochs");
    if (t->batch_pos != 0)
        return mlp__fail(err, MLP_ERR_ARG, "continue: the run stands in the middle of epoch %u (batch %llu)",
                         t->epoch_done + 1, (unsigned long long)t->batch_pos);
    if (epochs == 0 || epochs > UINT32_MAX - t->epoch_done)
        return mlp__fail(err, MLP_ERR_ARG, "continue: %u more epochs after %u", epochs, t->epoch_done);
    enum mlp_status st = mlp__check_data(t->m, train, true, err);
    if (st == MLP_OK) st = check_train_rows(train, err);
    if (st != MLP_OK) return st;
    const uint64_t N = train->n_rows;
    if (t->minibatch && N != t->train->n_rows) {
        uint64_t *perm = realloc(t->perm, N * sizeof *perm);
        if (!perm) return mlp__fail(err, MLP_ERR_NOMEM, "cannot allocate a permutation of %llu rows",
                                    (unsigned long long)N);
        t->perm = perm;
    }
    t->train = train;
    t->N = N;
    t->bs = t->minibatch ? (t->p.batch < N ? t->p.batch : N) : N;
    t->n_batches = (N + t->bs - 1) / t->bs;
    t->p.epochs = t->epoch_done + epochs;
    t->stop = 0;
    t->stop_reason = MLP_STOP_NONE;
    return MLP_OK;
}

void mlp_trainer_set_callbacks(struct mlp_trainer *t, mlp_epoch_fn on_epoch, mlp_batch_fn on_batch, void *user)
{
    MLP_ASSERT(t);
    t->on_epoch = on_epoch;
    t->on_batch = on_batch;
    t->user = user;
}

void mlp_trainer_set_phase_callback(struct mlp_trainer *t, mlp_phase_fn on_phase, void *user)
{
    MLP_ASSERT(t);
    t->on_phase = on_phase;
    t->phase_user = user;
    t->phase = MLP_PHASE_IDLE;
    t->phase_epoch = 0;
}

/* The run is now in phase ph of epoch `epoch`: the phase callback hears of
 * it when that is a change.  Called where a phase begins, never per batch,
 * so that without a callback it costs one test per phase. */
static void enter_phase(struct mlp_trainer *t, enum mlp_phase ph, uint32_t epoch)
{
    if (!t->on_phase || (ph == t->phase && epoch == t->phase_epoch)) return;
    t->phase = ph;
    t->phase_epoch = epoch;
    t->on_phase(ph, epoch, t->phase_user);
}

void mlp_trainer_set_checkpoint(struct mlp_trainer *t, const char *path, uint32_t every)
{
    MLP_ASSERT(t);
    free(t->ckpt_path);
    t->ckpt_path = path ? strdup(path) : NULL;
    t->ckpt_every = every;
}

void mlp_trainer_request_stop(struct mlp_trainer *t) { t->stop = 1; }

const struct mlp_epoch_stats *mlp_trainer_history(const struct mlp_trainer *t, uint32_t *n)
{
    MLP_ASSERT(t && n);
    *n = t->n_hist;
    return t->hist;
}

uint32_t mlp_trainer_epochs_done(const struct mlp_trainer *t) { return t->epoch_done; }
int mlp_trainer_stopped_early(const struct mlp_trainer *t) { return t->stopped_early; }
const struct mlp_profile *mlp_trainer_profile(const struct mlp_trainer *t) { return &t->prof; }

/* ------------------------------------------------------------ on a GPU */

/* The run starts (or goes on) on the device: the host's weights and
 * moments (a fresh model, a resumed checkpoint, weights put back) and the
 * data sets go there. */
static enum mlp_status dev_push(struct mlp_trainer *t, struct mlp_error *err)
{
    struct mlp_devrun *r = &t->dev;
    char msg[MLP_DEV_MSG] = "";
    struct mlp_dev_acc drop;
    int rc = r->ops->set_params(r->d, t->m->params, msg);
    if (!rc && t->n_state) rc = r->ops->set_state(r->d, t->s1, t->n_state >= 2 ? t->s2 : NULL, msg);
    if (!rc) rc = r->ops->read_acc(r->d, &drop, msg); /* nothing left from before */
    if (rc) return mlp__dev_status(r, rc, "cannot upload the training state", msg, err);
    /* uploaded once a run, never taken as there by their address alone: a
     * caller may have refilled a set, or freed it and loaded another there */
    r->slot[0] = r->slot[1] = NULL;
    enum mlp_status st = mlp__dev_upload(r, 0, t->train, err);
    if (st == MLP_OK && t->eval && t->eval->n_rows) st = mlp__dev_upload(r, 1, t->eval, err);
    t->dev_order_stale = true;
    t->dev_ahead = false;
    return st;
}

/* The passes' sums since the last read, into the epoch's (a wait for the
 * device): for on_batch, and as part of dev_pull. */
static enum mlp_status dev_sums(struct mlp_trainer *t, struct mlp_error *err)
{
    struct mlp_devrun *r = &t->dev;
    char msg[MLP_DEV_MSG] = "";
    struct mlp_dev_acc acc = {0};
    int rc = r->ops->read_acc(r->d, &acc, msg);
    if (rc) return mlp__dev_status(r, rc, "cannot read the losses back", msg, err);
    t->loss_sum += acc.loss_sum;
    t->pen_sum += acc.pen_sum;
    t->correct += acc.correct;
    return MLP_OK;
}

/* The device's weights, moments and the sums of the passes since the last
 * pull back into the trainer (when the device is ahead). */
static enum mlp_status dev_pull(struct mlp_trainer *t, struct mlp_error *err)
{
    if (!t->on_dev || !t->dev_ahead) return MLP_OK;
    struct mlp_devrun *r = &t->dev;
    enum mlp_status st = dev_sums(t, err);
    if (st != MLP_OK) return st;
    char msg[MLP_DEV_MSG] = "";
    int rc = r->ops->get_params(r->d, t->m->params, msg);
    if (!rc && t->n_state) rc = r->ops->get_state(r->d, t->s1, t->n_state >= 2 ? t->s2 : NULL, msg);
    if (rc) return mlp__dev_status(r, rc, "cannot read the training state back", msg, err);
    t->dev_ahead = false;
    return MLP_OK;
}

/* The training or evaluation set's loss and accuracy with the host's
 * weights (those the caller sees: a solver's accepted point, the weights
 * an epoch ended with), computed where the set already is. */
static enum mlp_status dev_evaluate(struct mlp_trainer *t, const struct mlp_dataset *ds, double *loss,
                                    double *accuracy, struct mlp_error *err)
{
    struct mlp_devrun *r = &t->dev;
    enum mlp_status st = dev_pull(t, err);
    if (st != MLP_OK) return st;
    char msg[MLP_DEV_MSG] = "";
    int rc = r->ops->set_params(r->d, t->m->params, msg);
    if (rc) return mlp__dev_status(r, rc, "cannot upload the parameters", msg, err);
    const int slot = ds == t->train ? 0 : 1;
    if ((st = mlp__dev_upload(r, slot, ds, err)) != MLP_OK) return st;
    if (slot == 0) t->dev_order_stale = true; /* evaluated in the rows' own order */
    double l;
    uint64_t correct;
    if ((st = mlp__dev_evaluate(r, slot, &l, &correct, err)) != MLP_OK) return st;
    if (loss) *loss = ds->labels || ds->targets ? l : 0;
    if (accuracy) *accuracy = ds->labels ? (double)correct / (double)ds->n_rows : -1.0;
    return MLP_OK;
}

/* One step on the device: the pass over the batch (its gradient, loss and
 * correct count stay there) and the update, as run_batch does on the CPU. */
static enum mlp_status dev_step(struct mlp_trainer *t, uint64_t b0, uint64_t nb, double lr, struct mlp_error *err)
{
    struct mlp_devrun *r = &t->dev;
    const struct mlp_train_params *p = &t->p;
    enum mlp_status st;
    if (t->minibatch && t->dev_order_stale) {
        if ((st = mlp__dev_order(r, 0, t->perm, err)) != MLP_OK) return st;
        t->dev_order_stale = false;
    }
    char msg[MLP_DEV_MSG] = "";
    struct mlp_dev_step s = {
        .pass = {.slot = 0, .b0 = b0, .nb = nb, .grad = 1, .l2 = p->l2, .l2_m = (double)t->bs},
        .adam = p->optim == MLP_OPT_ADAM,
        .lr = lr,
        .momentum = t->momentum ? p->momentum : 0,
        .nesterov = p->nesterov,
        .b1 = p->beta1,
        .b2 = p->beta2,
        .decay = p->weight_decay > 0 ? 1 - lr * p->weight_decay : 1,
    };
    if (s.adam) {
        /* the bias corrections folded into the step and epsilon, as
         * src/train/optim/adam.c does */
        const double tt = (double)(t->step + 1), c1 = 1 - pow(p->beta1, tt), c2 = sqrt(1 - pow(p->beta2, tt));
        s.lr_t = lr * c2 / c1;
        s.eps_t = p->eps * c2;
    }
    t->dev_ahead = true;
    int rc;
    if (r->ops->step) { /* one call: the backend may replay it as a unit */
        if ((rc = r->ops->step(r->d, &s, msg))) return mlp__dev_status(r, rc, "training step", msg, err);
        return MLP_OK;
    }
    if ((rc = r->ops->pass(r->d, &s.pass, msg))) return mlp__dev_status(r, rc, "training pass", msg, err);
    rc = s.adam ? r->ops->adam(r->d, s.lr_t, s.b1, s.b2, s.eps_t, msg)
                : r->ops->sgd(r->d, s.lr, s.momentum, s.nesterov, msg);
    if (!rc && s.decay != 1) rc = r->ops->scale_weights(r->d, s.decay, msg);
    if (rc) return mlp__dev_status(r, rc, "update", msg, err);
    return MLP_OK;
}

/* The solvers' objective on the device: loss (with the L2 term) and
 * gradient at the host's weights; *correct the rows classified right. */
static enum mlp_status dev_objective(struct mlp_trainer *t, double *loss, uint64_t *correct, struct mlp_error *err)
{
    struct mlp_devrun *r = &t->dev;
    char msg[MLP_DEV_MSG] = "";
    struct mlp_dev_acc acc = {0};
    struct mlp_dev_pass ps = {.slot = 0, .b0 = 0, .nb = t->N, .grad = 1, .l2 = t->p.l2};
    int rc = r->ops->set_params(r->d, t->m->params, msg);
    if (!rc) rc = r->ops->pass(r->d, &ps, msg);
    if (!rc) rc = r->ops->read_acc(r->d, &acc, msg);
    if (!rc) rc = r->ops->get_grad(r->d, t->grad, msg);
    if (rc) return mlp__dev_status(r, rc, "objective", msg, err);
    *loss = (acc.loss_sum + acc.pen_sum) / (double)t->N;
    *correct = acc.correct;
    return MLP_OK;
}

enum mlp_status mlp_trainer_evaluate(struct mlp_trainer *t, const struct mlp_dataset *ds, double *loss,
                                     double *accuracy, struct mlp_error *err)
{
    MLP_ASSERT(t && ds);
    if (t->on_dev && (ds == t->train || ds == t->eval) && ds->n_rows > 0) return dev_evaluate(t, ds, loss, accuracy, err);
    if (t->on_dev) { /* another set (an on_batch's hold-out): the weights the device has reached */
        enum mlp_status st = dev_pull(t, err);
        if (st != MLP_OK) return st;
    }
    if (!t->dp) return mlp_model_evaluate(t->m, ds, loss, accuracy, err);
    /* the set's rows in all: the training and evaluation sets' are known */
    double total = (double)ds->n_rows;
    if (ds == t->train) total = (double)t->N;
    else if (ds == t->eval) total = (double)t->dist.eval_total;
    else {
        enum mlp_status st = mlp__dist_sum(&t->dist, &total, 1, MLP_F64, err);
        if (st != MLP_OK) return st;
    }
    if (total == 0) return mlp__fail(err, MLP_ERR_ARG, "the data set is empty on every rank");
    return mlp__dist_evaluate(&t->dist, t->m, ds, (uint64_t)total, loss, accuracy, err);
}

/* ------------------------------------------------ between batches and epochs */

static enum mlp_status push_history(struct mlp_trainer *t, const struct mlp_epoch_stats *es, struct mlp_error *err)
{
    if (t->n_hist == t->hist_cap) {
        uint32_t cap = t->hist_cap * 2;
        struct mlp_epoch_stats *h = realloc(t->hist, cap * sizeof *h);
        if (!h) return mlp__fail(err, MLP_ERR_NOMEM, "out of memory for the epoch history");
        t->hist = h;
        t->hist_cap = cap;
    }
    t->hist[t->n_hist++] = *es;
    return MLP_OK;
}

/* The permutation of an epoch: the identity shuffled by the RNG as it stood
 * at the epoch's start, so that a resumed run can rebuild it from that
 * state alone. */
static void shuffle(struct mlp_trainer *t)
{
    const uint64_t N = t->N; /* all ranks' rows: the same order whatever their number */
    t->rng_epoch = t->rng;
    for (uint64_t i = 0; i < N; i++) t->perm[i] = i;
    if (!t->p.shuffle) return;
    for (uint64_t i = N - 1; i > 0; i--) { /* Fisher-Yates */
        uint64_t j = mlp__rng_below(&t->rng, i + 1), x = t->perm[i];
        t->perm[i] = t->perm[j];
        t->perm[j] = x;
    }
}

/* Early stopping on the evaluation loss of the epoch just completed (both
 * the epochs and the solvers' iterations): keep the weights of the best so
 * far; after `patience` epochs without a better one, put them back and
 * answer true (the run ends). */
static bool early_stop(struct mlp_trainer *t, double eval_loss)
{
    if (!t->p.patience) return false;
    struct mlp_model *m = t->m;
    const size_t bytes = m->n_params * mlp__dtype_size(m->dtype);
    if (eval_loss < t->best_loss) {
        t->best_loss = eval_loss;
        t->best_epoch = t->epoch_done;
        t->bad_epochs = 0;
        memcpy(t->best, m->params, bytes);
        return false;
    }
    if (++t->bad_epochs < t->p.patience) return false;
    memcpy(m->params, t->best, bytes);
    t->stopped_early = 1;
    return true;
}

/* A pass's time into the profile. */
static void count_pass(struct mlp_trainer *t, const struct mlp_pass *ps)
{
    t->prof.forward_s += ps->t_forward;
    t->prof.backward_s += ps->t_backward;
    t->prof.forward_n++;
    t->prof.backward_n++;
}

/* ------------------------------------------------------------- checkpoints */

/* The trainer as a checkpoint sees it: the run, where it stands, and the
 * vectors it keeps.  For a resume the same snapshot says what the file
 * must match and where its vectors go. */
static struct mlp_ckpt snapshot(const struct mlp_trainer *t)
{
    struct mlp_ckpt c = {
        .model = t->m,
        .params = t->p,
        /* a data-parallel run's are those of the whole sets, as one
         * process would see them: its checkpoints resume on any number */
        .train_fp = t->dp ? t->dist.train_fp : mlp__ckpt_fingerprint(t->train),
        .eval_fp = t->dp ? t->dist.eval_fp : mlp__ckpt_fingerprint(t->eval),
        .n_batches = t->n_batches,
        .pos = {.epoch_done = t->epoch_done,
                .batch_pos = t->batch_pos,
                .step = t->step,
                .rng = t->rng,
                .rng_epoch = t->rng_epoch,
                .loss_sum = t->loss_sum,
                .pen_sum = t->pen_sum,
                .epoch_s = t->epoch_s,
                .correct = t->correct,
                .best_loss = t->best_loss,
                .best_epoch = t->best_epoch,
                .bad_epochs = t->bad_epochs,
                .stopped_early = t->stopped_early != 0,
                .hist = t->hist,
                .n_hist = t->n_hist},
        .good = t->good,
        .best = t->p.patience ? t->best : NULL,
        .s1 = t->n_state >= 1 ? t->s1 : NULL,
        .s2 = t->n_state >= 2 ? t->s2 : NULL,
    };
    return c;
}

/* Where a checkpoint says the run stood; takes over pos->hist. */
static void restore(struct mlp_trainer *t, const struct mlp_ckpt_pos *pos)
{
    free(t->hist);
    t->hist = pos->hist;
    t->n_hist = t->hist_cap = pos->n_hist;
    if (t->hist_cap == 0) t->hist_cap = 1;
    t->epoch_done = pos->epoch_done;
    t->batch_pos = pos->batch_pos;
    t->step = pos->step;
    t->loss_sum = pos->loss_sum;
    t->pen_sum = pos->pen_sum;
    t->correct = pos->correct;
    t->epoch_s = pos->epoch_s;
    t->best_loss = pos->best_loss;
    t->best_epoch = pos->best_epoch;
    t->bad_epochs = pos->bad_epochs;
    t->stopped_early = pos->stopped_early;
    if (pos->batch_pos > 0 && t->minibatch) {
        /* Mid-epoch: rebuild this epoch's permutation from the RNG as it
         * stood before the shuffle; that also leaves t->rng where it was. */
        t->rng = pos->rng_epoch;
        shuffle(t);
    } else {
        t->rng = pos->rng;
        t->rng_epoch = pos->rng_epoch;
    }
}

enum mlp_status mlp_trainer_save_checkpoint(const struct mlp_trainer *t, const char *path, struct mlp_error *err)
{
    MLP_ASSERT(t && path);
    if (t->solver)
        return mlp__fail(err, MLP_ERR_UNSUPPORTED, "%s runs cannot be checkpointed (the line search's state is not saved)",
                         mlp_optim_name(t->p.optim));
    /* on a GPU mid-epoch (a caller's on_batch): the host's copies are a
     * cache of the device's state, brought up to date first */
    if (t->on_dev && t->dev_ahead) {
        enum mlp_status st = dev_pull((struct mlp_trainer *)(uintptr_t)t, err);
        if (st != MLP_OK) return st;
    }
    struct mlp_ckpt c = snapshot(t);
    return mlp__ckpt_write(path, &c, err);
}

enum mlp_status mlp_trainer_resume(struct mlp_trainer *t, const char *path, struct mlp_error *err)
{
    MLP_ASSERT(t && path);
    if (t->solver)
        return mlp__fail(err, MLP_ERR_UNSUPPORTED, "%s runs cannot be resumed from a checkpoint", mlp_optim_name(t->p.optim));
    struct mlp_ckpt c = snapshot(t);
    enum mlp_status st = mlp__ckpt_read(path, &c, err);
    if (st == MLP_OK) restore(t, &c.pos);
    return st;
}

enum mlp_status mlp_trainer_resume_mem(struct mlp_trainer *t, const struct mlp_buffer *b, struct mlp_error *err)
{
    MLP_ASSERT(t && b);
    if (t->solver)
        return mlp__fail(err, MLP_ERR_UNSUPPORTED, "%s runs cannot be resumed from a checkpoint", mlp_optim_name(t->p.optim));
    struct mlp_ckpt c = snapshot(t);
    enum mlp_status st = mlp__ckpt_read_mem(b, &c, err);
    if (st == MLP_OK) restore(t, &c.pos);
    return st;
}

/* The run's own checkpoint (set_checkpoint), its time in the profile. */
static enum mlp_status timed_checkpoint(struct mlp_trainer *t, struct mlp_error *err)
{
    if (t->dp && t->p.comm->rank != 0) return MLP_OK; /* rank 0 writes for all */
    /* the epoch it belongs to: the one in progress when stopped within it,
     * else the one just completed (a stop's checkpoint just after the
     * periodic one of the same epoch is no change of phase) */
    enter_phase(t, MLP_PHASE_CHECKPOINT, t->epoch_done + (t->batch_pos > 0));
    double c0 = mlp__now();
    enum mlp_status st = mlp_trainer_save_checkpoint(t, t->ckpt_path, err);
    t->prof.checkpoint_s += mlp__now() - c0;
    t->prof.checkpoint_n++;
    return st;
}

static enum mlp_status stop_here(struct mlp_trainer *t, struct mlp_error *err, const char *why)
{
    if (t->solver) /* the line-search state is not checkpointed */
        return mlp__fail(err, MLP_ERR_STOPPED, "%s after iteration %u (no checkpoint: %s runs cannot be resumed)", why,
                         t->epoch_done, mlp_optim_name(t->p.optim));
    enum mlp_status st;
    if (t->ckpt_path && (st = timed_checkpoint(t, err)) != MLP_OK) return st;
    return mlp__fail(err, MLP_ERR_STOPPED, "%s after epoch %u, batch %llu%s%s", why, t->epoch_done + 1,
                     (unsigned long long)t->batch_pos, t->ckpt_path ? ": checkpoint written to " : "",
                     t->ckpt_path ? t->ckpt_path : "");
}

/* ------------------------------------------------ GD, SGD and Adam: epochs */

/* The update of one range of the parameters, for mlp__run_step: the
 * optimiser's own loop on elements [lo, hi). */
struct step_update {
    struct mlp_trainer *t;
    double lr;
    struct mlp_adam adam;
};

static void step_update(void *ctx, size_t lo, size_t hi)
{
    const struct step_update *u = ctx;
    const struct mlp_trainer *t = u->t;
    if (t->p.optim == MLP_OPT_ADAM) {
        mlp__adam_range(&u->adam, lo, hi);
        return;
    }
    const size_t esz = mlp__dtype_size(t->m->dtype);
    mlp__sgd_step(t->m->dtype, hi - lo, (char *)t->m->params + lo * esz, t->grad + lo * esz,
                  t->s1 ? t->s1 + lo * esz : NULL, u->lr, t->momentum ? t->p.momentum : 0, t->p.nesterov);
}

/* The update after a pass that left it to us: the whole vector at once. */
static void update(struct mlp_trainer *t, const struct mlp_pass *ps, double lr)
{
    struct mlp_model *m = t->m;
    const struct mlp_train_params *p = &t->p;
    const size_t n = m->n_params;
    if (p->optim == MLP_OPT_ADAM && ps->n_parts > 1)
        mlp__adam_step_parts(&(struct mlp_adam_step){m->dtype, n, m->params, t->s1, t->s2, lr, p->beta1, p->beta2,
                                                     p->eps, t->step, m->ctx},
                             ps->parts, ps->n_parts);
    else if (p->optim == MLP_OPT_ADAM)
        mlp__adam_step(&(struct mlp_adam_step){m->dtype, n, m->params, t->s1, t->s2, lr, p->beta1, p->beta2, p->eps,
                                               t->step, m->ctx},
                       t->grad);
    else
        mlp__sgd_step(m->dtype, n, m->params, t->grad, t->s1, lr, t->momentum ? p->momentum : 0, p->nesterov);
}

/* Decoupled weight decay on the weights (not the biases). */
static void decay_weights(struct mlp_trainer *t, double lr)
{
    const struct mlp_model *m = t->m;
    double f = 1 - lr * t->p.weight_decay;
    for (uint32_t l = 0; l < m->n_layers; l++) {
        size_t nw = (size_t)m->layers[l].n_in * m->layers[l].n_out, o = m->layers[l].w_off;
        if (m->dtype == MLP_F32)
            for (size_t i = 0; i < nw; i++) ((float *)m->params)[o + i] *= (float)f;
        else
            for (size_t i = 0; i < nw; i++) ((double *)m->params)[o + i] *= f;
    }
}

/* ------------------------------------------------------- data-parallel */

/* The L2 term's gradient, dW += c W (weights only), as one process's pass
 * adds it after its data gradient (src/pass/pass.inc's finish). */
static void add_l2_grad(const struct mlp_model *m, void *grad, double c)
{
    for (uint32_t l = 0; l < m->n_layers; l++) {
        size_t nw = (size_t)m->layers[l].n_in * m->layers[l].n_out, o = m->layers[l].w_off;
        if (m->dtype == MLP_F32) {
            const float *w = (const float *)m->params + o;
            float *g = (float *)grad + o;
            for (size_t i = 0; i < nw; i++) g[i] += (float)(c * (double)w[i]);
        } else {
            const double *w = (const double *)m->params + o;
            double *g = (double *)grad + o;
            for (size_t i = 0; i < nw; i++) g[i] += c * w[i];
        }
    }
}

/* A data-parallel pass over the batch of nb rows at b0 (of the epoch's
 * permutation; GD and the solvers: all rows): this rank's rows of it, the
 * gradient and the loss and correct counts summed over the ranks, then the
 * L2 term (pen, its loss) as one process's pass adds it.  ps then holds
 * what one process's pass over the whole batch gives, up to the rounding
 * of the sums' order.  The sum of the loss also carries the ranks' stop
 * requests (t->stop_agreed: whether any rank had one; a request made after
 * this sum, by on_batch, counts at the next step's) and failures. */
static enum mlp_status dist_pass(struct mlp_trainer *t, struct mlp_pass *ps, uint64_t b0, uint64_t nb, double pen,
                                 struct mlp_error *err)
{
    const double l2 = ps->l2, l2_m = ps->l2_m > 0 ? ps->l2_m : (double)nb;
    mlp__dist_batch_rows(&t->dist, t->minibatch ? t->perm + b0 : NULL, b0, nb);
    ps->l2 = 0;
    ps->mean_n = nb;
    /* a rank whose pass failed (its memory) still takes part in the sums,
     * saying so in the last one, so that every rank fails together */
    enum mlp_status st = mlp__dist_grad_pass(&t->dist, ps, err);
    double sums[4] = {ps->loss, (double)ps->correct, t->stop ? 1 : 0, st != MLP_OK};
    double t0 = mlp__now();
    enum mlp_status sum_st = mlp__dist_sum(&t->dist, sums, 4, MLP_F64, st == MLP_OK ? err : &(struct mlp_error){0});
    t->dist.comm_s += mlp__now() - t0;
    t->prof.comm_n++;
    if (st != MLP_OK) return st;
    if (sum_st != MLP_OK) return sum_st;
    if (sums[3] > 0) return mlp__fail(err, MLP_ERR_IO, "a step failed on %g other rank(s)", sums[3]);
    ps->l2 = l2;
    ps->loss = sums[0] + pen;
    ps->correct = (uint64_t)sums[1];
    t->stop_agreed = sums[2] > 0;
    if (t->stop_agreed) t->stop = 1;
    if (l2 != 0) add_l2_grad(t->m, ps->grad, l2 / l2_m);
    return MLP_OK;
}

/* Whether the training set has class labels (data-parallel: this rank's
 * shard may be empty; the group knows). */
static bool has_labels(const struct mlp_trainer *t)
{
    return t->dp ? t->dist.labels : t->train->labels != NULL;
}

/* Whether to stop here: alone, whether a stop was asked for; data-parallel,
 * whether any rank was asked, agreed now (every rank asks at the same
 * point, so that all stop at the same batch). */
static enum mlp_status agree_stop(struct mlp_trainer *t, bool *stop, struct mlp_error *err)
{
    *stop = t->stop != 0;
    if (!t->dp) return MLP_OK;
    double s = *stop ? 1 : 0;
    enum mlp_status st = mlp__dist_sum(&t->dist, &s, 1, MLP_F64, err);
    *stop = s > 0;
    if (*stop) t->stop = 1;
    return st;
}

/* A fresh epoch; a resumed one has its accumulators and permutation
 * restored by mlp_trainer_resume. */
static void begin_epoch(struct mlp_trainer *t)
{
    memcpy(t->good, t->m->params, t->m->n_params * mlp__dtype_size(t->m->dtype));
    t->loss_sum = 0;
    t->pen_sum = 0;
    t->correct = 0;
    t->epoch_s = 0;
    if (t->minibatch) shuffle(t);
    t->dev_order_stale = true;
}

/* A batch of epoch ep is done, `done` rows of the epoch with it: the
 * position, the epoch's time so far, and on_batch with the running
 * figures (a request to stop is recorded in t->stop). */
static void batch_done(struct mlp_trainer *t, uint32_t ep, uint64_t done, double t0)
{
    t->batch_pos++;
    t->epoch_s = mlp__now() - t0;
    if (!t->on_batch) return;
    struct mlp_batch_info bi = {.epoch = ep, .epochs = t->p.epochs, .batch = t->batch_pos, .n_batches = t->n_batches,
                                .rows_done = done, .loss = t->loss_sum / (double)done,
                                .accuracy = has_labels(t) ? (double)t->correct / (double)done : -1,
                                .seconds = t->epoch_s};
    if (t->on_batch(&bi, t->user)) t->stop = 1;
}

/* Batch t->batch_pos of epoch ep (1-based) at learning rate lr: the pass,
 * the update, the profile and on_batch.  t0: when the epoch started, on
 * the clock of mlp__now (less the time it ran before a resume). */
static enum mlp_status run_batch(struct mlp_trainer *t, uint32_t ep, double lr, double t0, struct mlp_error *err)
{
    struct mlp_model *m = t->m;
    const struct mlp_train_params *p = &t->p;
    const uint64_t N = t->N, b0 = t->batch_pos * t->bs, nb = N - b0 < t->bs ? N - b0 : t->bs;
    if (t->on_dev) { /* pass and update on the GPU; the sums stay there */
        double d0 = mlp__now();
        enum mlp_status st;
        if ((st = dev_step(t, b0, nb, lr, err)) != MLP_OK) return st;
        t->prof.forward_s += mlp__now() - d0; /* the time to queue it: the device runs behind */
        t->prof.forward_n++;
        t->prof.backward_n++;
        t->prof.optim_n++;
        t->step++;
        /* on_batch's running figures are on the device: read back first */
        if (t->on_batch && (st = dev_sums(t, err)) != MLP_OK) return st;
        batch_done(t, ep, b0 + nb, t0);
        return MLP_OK;
    }
    struct mlp_pass ps = {.m = m, .ds = t->train, .row0 = b0, .n = nb, .rows = t->minibatch ? t->perm + b0 : NULL,
                          .l2 = p->l2, .grad = t->grad,
                          /* every batch, the short last one too, gets the
                           * same L2 strength: l2/(2 batch) */
                          .l2_m = (double)t->bs,
                          /* Adam adds the threads' gradients up itself */
                          .keep_parts = p->optim == MLP_OPT_ADAM};
    /* split by units with the update inside where that pays (mlp__run_step:
     * its update's time then counts in the backward pass's), else the pass
     * and then the update */
    struct step_update su = {.t = t, .lr = lr};
    if (p->optim == MLP_OPT_ADAM)
        mlp__adam_init(&su.adam,
                       &(struct mlp_adam_step){m->dtype, m->n_params, m->params, t->s1, t->s2, lr, p->beta1, p->beta2,
                                               p->eps, t->step + 1, m->ctx},
                       t->grad);
    /* the L2 term of the weights the pass sees, which its loss includes:
     * the rest is the data loss (mlp_epoch_stats.train_loss) */
    const double pen = p->l2 != 0 ? l2_term(m, p->l2, ps.l2_m, nb) : 0;
    bool stepped = false;
    enum mlp_status st;
    if (t->dp) { /* the update waits for the sum over the ranks */
        if ((st = dist_pass(t, &ps, b0, nb, pen, err)) != MLP_OK) return st;
    } else {
        if ((st = mlp__run_step(&ps, step_update, &su, &stepped, err)) != MLP_OK) return st;
        if (!stepped && (st = mlp__run_pass(&ps, err)) != MLP_OK) return st;
    }
    count_pass(t, &ps);
    t->loss_sum += (ps.loss - pen) * (double)nb;
    t->pen_sum += pen * (double)nb;
    t->correct += ps.correct;
    t->step++;
    double o0 = mlp__now();
    if (!stepped) update(t, &ps, lr);
    if (p->weight_decay > 0) decay_weights(t, lr);
    t->prof.optim_s += mlp__now() - o0;
    t->prof.optim_n++;
    batch_done(t, ep, b0 + nb, t0);
    return MLP_OK;
}

/* After epoch ep's last batch: its statistics, the divergence guard,
 * evaluation, history, early stopping, the periodic checkpoint and
 * on_epoch.  *last: the run ends with this epoch. */
static enum mlp_status end_epoch(struct mlp_trainer *t, uint32_t ep, bool *last, struct mlp_error *err)
{
    struct mlp_model *m = t->m;
    const struct mlp_train_params *p = &t->p;
    const uint64_t N = t->N;
    struct mlp_epoch_stats es = {.epoch = ep, .train_acc = -1, .test_loss = -1, .test_acc = -1};
    es.seconds = t->epoch_s;
    es.samples_per_s = es.seconds > 0 ? (double)N / es.seconds : 0;
    es.train_loss = t->loss_sum / (double)N;
    es.penalty = t->pen_sum / (double)N;
    if (p->eval_train && has_labels(t)) es.train_acc = (double)t->correct / (double)N;
    if (!isfinite(es.train_loss) || !isfinite(es.penalty) || !all_finite(m)) {
        /* back to the weights this epoch started from: those of the last
         * completed epoch (mlp_train_meta.epoch_kept says which) */
        memcpy(m->params, t->good, m->n_params * mlp__dtype_size(m->dtype));
        t->stop_reason = MLP_STOP_DIVERGED;
        return mlp__fail(err, MLP_ERR_DIVERGED, "training diverged in epoch %u (loss %g): try a smaller learning rate",
                         ep, es.train_loss + es.penalty);
    }
    enum mlp_status st;
    if (t->eval) {
        enter_phase(t, MLP_PHASE_EVAL, ep);
        double e0 = mlp__now();
        st = mlp_trainer_evaluate(t, t->eval, &es.test_loss, &es.test_acc, err);
        t->prof.eval_s += mlp__now() - e0;
        t->prof.eval_n++;
        if (st != MLP_OK) return st;
    }
    t->epoch_done = ep;
    t->batch_pos = 0;
    if (t->dp && (st = mlp__dist_check_same(&t->dist, m, ep, err)) != MLP_OK) return st;
    if ((st = push_history(t, &es, err)) != MLP_OK) return st;
    m->meta.epochs++;
    early_stop(t, es.test_loss);
    *last = t->epoch_done == p->epochs || t->stopped_early;
    /* the last epoch's too: a finished run's checkpoint can be resumed
     * with more epochs */
    if (t->ckpt_path && t->ckpt_every && ep % t->ckpt_every == 0 && (st = timed_checkpoint(t, err)) != MLP_OK)
        return st;
    if (t->on_epoch && t->on_epoch(&es, t->user)) t->stop = 1;
    return MLP_OK;
}

/* Epochs of mini-batches (one batch of all rows for GD) until the last,
 * early stopping or a stop request, from wherever the trainer stands. */
static enum mlp_status run_epochs(struct mlp_trainer *t, struct mlp_error *err)
{
    enum mlp_status st;
    while (t->epoch_done < t->p.epochs && !t->stopped_early) {
        const uint32_t ep = t->epoch_done + 1;
        const double lr = epoch_lr(&t->p, ep);
        enter_phase(t, MLP_PHASE_TRAIN, ep);
        if (t->batch_pos == 0) begin_epoch(t);
        const double t0 = mlp__now() - t->epoch_s;
        while (t->batch_pos < t->n_batches) {
            if ((st = run_batch(t, ep, lr, t0, err)) != MLP_OK) return st;
            /* data-parallel: the request that the batch's sums carried */
            if ((t->dp ? t->stop_agreed : t->stop) && t->batch_pos < t->n_batches) {
                if ((st = dev_pull(t, err)) != MLP_OK) return st;
                return stop_here(t, err, "stopped");
            }
        }
        if ((st = dev_pull(t, err)) != MLP_OK) return st;
        t->epoch_s = mlp__now() - t0; /* the device's work done */
        bool last = false, stop;
        if ((st = end_epoch(t, ep, &last, err)) != MLP_OK) return st;
        if ((st = agree_stop(t, &stop, err)) != MLP_OK) return st;
        if (stop && !last) return stop_here(t, err, "stopped");
    }
    t->stop_reason = t->stopped_early ? MLP_STOP_EARLY : MLP_STOP_EPOCHS;
    if (t->stopped_early) t->epochs_undone = t->epoch_done - t->best_epoch;
    return MLP_OK;
}

/* ------------------------------------------------- CG and L-BFGS (seed 001) */

/* The objective the solvers minimise: the full-batch loss (with L2) as a
 * function of the flat parameter vector, in double whatever the model's
 * dtype.  The epoch statistics split it into the data loss and the L2 term
 * (solver_iter). */
struct solve_ctx {
    struct mlp_trainer *t;
    struct mlp_error *err;
    enum mlp_status st;
    /* The last point the objective was evaluated at and its correct count:
     * the accepted step is usually that point, whose training accuracy
     * then costs no extra pass (a quarter of W2's time otherwise). */
    double *last_x;
    uint64_t last_correct;
    bool have_last;
};

static void set_params(struct mlp_model *m, const double *x)
{
    if (m->dtype == MLP_F64)
        memcpy(m->params, x, m->n_params * sizeof(double));
    else
        for (size_t i = 0; i < m->n_params; i++) ((float *)m->params)[i] = (float)x[i];
}

static double objective(const double *x, double *g, void *vctx)
{
    struct solve_ctx *c = vctx;
    struct mlp_trainer *t = c->t;
    struct mlp_model *m = t->m;
    /* an iteration's training is its objective's evaluations (the line
     * search's); only its first is a change of phase */
    enter_phase(t, MLP_PHASE_TRAIN, t->epoch_done + 1);
    set_params(m, x);
    struct mlp_pass ps = {.m = m, .ds = t->train, .n = t->train->n_rows, .l2 = t->p.l2, .grad = t->grad};
    if (t->on_dev) {
        double d0 = mlp__now();
        if ((c->st = dev_objective(t, &ps.loss, &ps.correct, c->err)) != MLP_OK) return NAN;
        ps.t_forward = mlp__now() - d0;
    } else if (t->dp) {
        const double pen = t->p.l2 != 0 ? l2_term(m, t->p.l2, 0, t->N) : 0;
        if ((c->st = dist_pass(t, &ps, 0, t->N, pen, c->err)) != MLP_OK) return NAN;
    } else if ((c->st = mlp__run_pass(&ps, c->err)) != MLP_OK) {
        return NAN;
    }
    if (c->last_x) {
        memcpy(c->last_x, x, m->n_params * sizeof *x);
        c->last_correct = ps.correct;
        c->have_last = true;
    }
    count_pass(t, &ps);
    if (m->dtype == MLP_F64)
        memcpy(g, t->grad, m->n_params * sizeof(double));
    else
        for (size_t i = 0; i < m->n_params; i++) g[i] = ((const float *)(const void *)t->grad)[i];
    return ps.loss;
}

/* After each accepted step: the epoch statistics, evaluation, early
 * stopping and the caller's callbacks, as for the first-order optimizers. */
static int solver_iter(const struct mlp_min_iter *it, const double *x, void *vctx)
{
    struct solve_ctx *c = vctx;
    struct mlp_trainer *t = c->t;
    struct mlp_model *m = t->m;
    set_params(m, x);
    double now = mlp__now();
    /* it->f is the objective at x: the data loss plus the L2 term */
    const double pen = t->p.l2 != 0 ? l2_term(m, t->p.l2, 0, t->N) : 0;
    struct mlp_epoch_stats es = {.epoch = t->epoch_done + 1, .train_loss = it->f - pen, .train_acc = -1,
                                 .test_loss = -1, .test_acc = -1, .penalty = pen};
    es.seconds = now - t->epoch_s;
    t->epoch_s = now;
    es.samples_per_s = es.seconds > 0 ? (double)t->N / es.seconds : 0;
    double e0 = mlp__now(), ignore;
    const bool acc = t->p.eval_train && has_labels(t);
    const bool acc_known = acc && c->have_last && memcmp(c->last_x, x, m->n_params * sizeof *x) == 0;
    if (t->eval || (acc && !acc_known)) enter_phase(t, MLP_PHASE_EVAL, es.epoch);
    if (acc_known)
        es.train_acc = (double)c->last_correct / (double)t->N;
    else if (acc && (c->st = mlp_trainer_evaluate(t, t->train, &ignore, &es.train_acc, c->err)) != MLP_OK)
        return 1;
    if (t->eval && (c->st = mlp_trainer_evaluate(t, t->eval, &es.test_loss, &es.test_acc, c->err))) return 1;
    t->prof.eval_s += mlp__now() - e0;
    t->prof.eval_n++;
    t->prof.optim_n++;
    t->epoch_done++;
    m->meta.epochs++;
    if ((c->st = push_history(t, &es, c->err)) != MLP_OK) return 1;
    if (early_stop(t, es.test_loss)) return 1;
    if (t->on_batch) {
        struct mlp_batch_info bi = {.epoch = t->epoch_done, .epochs = t->p.epochs, .batch = 1, .n_batches = 1,
                                    .rows_done = t->N, .loss = es.train_loss, .accuracy = es.train_acc,
                                    .seconds = es.seconds};
        if (t->on_batch(&bi, t->user)) t->stop = 1;
    }
    if (t->on_epoch && t->on_epoch(&es, t->user)) t->stop = 1;
    if (t->dp && (c->st = mlp__dist_check_same(&t->dist, m, t->epoch_done, c->err)) != MLP_OK) return 1;
    bool stop;
    if ((c->st = agree_stop(t, &stop, c->err)) != MLP_OK) return 1;
    return stop ? 1 : 0;
}

static enum mlp_status run_solver(struct mlp_trainer *t, struct mlp_error *err)
{
    struct mlp_model *m = t->m;
    const size_t n = m->n_params;
    if (t->epoch_done >= t->p.epochs) return MLP_OK;
    const uint32_t start_done = t->epoch_done;
    double *x = malloc(n * sizeof *x);
    /* last_x may stay NULL (no memory): the accuracy then takes a pass */
    double *last_x = malloc(n * sizeof *last_x);
    if (t->dp) {
        /* every rank must make the same calls: a rank without x fails them
         * all, one without last_x makes them all take the pass */
        double lack[2] = {!x, !last_x};
        enum mlp_status st = mlp__dist_sum(&t->dist, lack, 2, MLP_F64, err);
        if (st != MLP_OK || lack[0] > 0) {
            free(x);
            free(last_x);
            return st != MLP_OK ? st
                                : mlp__fail(err, MLP_ERR_NOMEM, "cannot allocate the solver's vector of %zu parameters%s",
                                            n, x ? " on another rank" : "");
        }
        if (lack[1] > 0) {
            free(last_x);
            last_x = NULL;
        }
    }
    if (!x) {
        free(last_x);
        return mlp__fail(err, MLP_ERR_NOMEM, "cannot allocate the solver's vector of %zu parameters", n);
    }
    for (size_t i = 0; i < n; i++)
        x[i] = m->dtype == MLP_F64 ? ((const double *)m->params)[i] : ((const float *)m->params)[i];
    memcpy(t->good, m->params, n * mlp__dtype_size(m->dtype));
    struct mlp_min_params mp = {.method = t->p.optim == MLP_OPT_CG ? 0 : 1, .max_iter = t->p.epochs - t->epoch_done,
                                .gtol = t->p.gtol, .history = t->p.history, .c1 = 1e-4,
                                .c2 = t->p.optim == MLP_OPT_CG ? 0.4 : 0.9, .max_ls = 40};
    struct solve_ctx c = {.t = t, .err = err, .st = MLP_OK, .last_x = last_x};
    struct mlp_min_iter last = {0};
    double o0 = mlp__now();
    t->epoch_s = o0;
    enum mlp_min_result r = mlp__minimize(objective, &c, n, x, &mp, solver_iter, &c, &last);
    /* the time not spent in passes or evaluations is the solver's own */
    t->prof.optim_s += mlp__now() - o0 - (t->prof.forward_s + t->prof.backward_s + t->prof.eval_s);
    if (t->prof.optim_s < 0) t->prof.optim_s = 0;
    enum mlp_status st = c.st;
    if (st == MLP_OK) {
        if (!t->stopped_early) set_params(m, x); /* else early_stop put the best weights back */
        switch (r) {
        case MLP_MIN_CONVERGED: t->stop_reason = MLP_STOP_GTOL; break;
        case MLP_MIN_MAX_ITER: t->stop_reason = MLP_STOP_MAX_ITER; break;
        /* no further decrease found, as SciPy's warning "Desired error not
         * necessarily achieved": the weights are the best point reached, so
         * the run ends normally */
        case MLP_MIN_LS_FAILED: t->stop_reason = MLP_STOP_LINESEARCH; break;
        case MLP_MIN_STOPPED: t->stop_reason = t->stopped_early ? MLP_STOP_EARLY : MLP_STOP_NONE; break;
        case MLP_MIN_BAD_VALUE: t->stop_reason = MLP_STOP_DIVERGED; break;
        case MLP_MIN_NOMEM: break;
        }
        if (t->stopped_early) t->epochs_undone = t->epoch_done - t->best_epoch;
        if (r == MLP_MIN_NOMEM) st = mlp__fail(err, MLP_ERR_NOMEM, "out of memory in the %s solver", mlp_optim_name(t->p.optim));
        else if (r == MLP_MIN_BAD_VALUE || !all_finite(m)) {
            /* x is the last accepted iterate, never the failed trial point:
             * its weights are kept, as the first-order optimizers keep the
             * last good epoch's; only weights that are not finite themselves
             * go back to where the solver started */
            t->stop_reason = MLP_STOP_DIVERGED;
            if (!all_finite(m)) {
                memcpy(m->params, t->good, n * mlp__dtype_size(m->dtype));
                t->epochs_undone = t->epoch_done - start_done;
            }
            st = mlp__fail(err, MLP_ERR_DIVERGED, "training diverged at iteration %u (the loss became NaN or Inf)",
                           t->epoch_done + 1);
        } else if (r == MLP_MIN_STOPPED && t->stop && !t->stopped_early)
            st = stop_here(t, err, "stopped");
    }
    free(x);
    free(c.last_x);
    return st;
}

/* ------------------------------------------------------------------- run */

/* What the model file records of the run that trained it, and why it
 * ended with which epoch's weights. */
static void record_meta(struct mlp_trainer *t)
{
    const struct mlp_train_params *p = &t->p;
    struct mlp_train_meta *meta = &t->m->meta;
    meta->seed = p->seed;
    meta->optim = (uint32_t)p->optim;
    meta->batch = (uint32_t)t->bs;
    meta->lr = p->lr;
    meta->l2 = p->l2;
    meta->momentum = p->optim == MLP_OPT_SGD ? p->momentum : 0;
    meta->samples = t->N;
    meta->stop_reason = (uint32_t)t->stop_reason;
    meta->epoch_kept = meta->epochs - (t->epochs_undone < meta->epochs ? t->epochs_undone : meta->epochs);
}

enum mlp_status mlp_trainer_run(struct mlp_trainer *t, struct mlp_error *err)
{
    MLP_ASSERT(t);
    const struct mlp_train_params *p = &t->p;
    mlp__log(MLP_LOG_INFO, "train: %llu rows, %zu parameters, %s, batch %llu, %u epochs, BLAS %s",
             (unsigned long long)t->N, t->m->n_params, mlp_optim_name(p->optim), (unsigned long long)t->bs,
             p->epochs, mlp_blas_info());
    enum mlp_status st = MLP_OK;
    if (t->on_dev) mlp__log(MLP_LOG_INFO, "train: on %s", mlp_context_device(t->m->ctx));
    if (t->dp) {
        mlp__log(MLP_LOG_INFO, "train: data-parallel, rank %d of %d holds rows %llu..%llu (%llu), %s sums",
                 p->comm->rank, p->comm->size, (unsigned long long)t->dist.row0,
                 (unsigned long long)(t->dist.row0 + t->dist.n_here), (unsigned long long)t->dist.n_here,
                 p->comm->iallreduce ? "per-layer overlapped" : "one blocking");
        /* the same start (the same seed and file, or checkpoint) everywhere */
        st = mlp__dist_check_same(&t->dist, t->m, t->epoch_done, err);
    }
    if (st == MLP_OK && t->on_dev) st = dev_push(t, err);
    if (st == MLP_OK) st = t->solver ? run_solver(t, err) : run_epochs(t, err);
    t->prof.comm_s = t->dist.comm_s;
    /* a diverged run's model holds the last good weights: say which; a
     * stopped one those it reached (its file says how it was trained) */
    if (st == MLP_ERR_STOPPED) t->stop_reason = MLP_STOP_REQUESTED;
    if (st == MLP_OK || st == MLP_ERR_DIVERGED || st == MLP_ERR_STOPPED) record_meta(t);
    enter_phase(t, MLP_PHASE_IDLE, 0); /* the one way out, whatever the status */
    return st;
}

enum mlp_status mlp_model_train(struct mlp_model *m, const struct mlp_dataset *train,
                                const struct mlp_train_params *p, struct mlp_error *err)
{
    struct mlp_trainer *t;
    enum mlp_status st = mlp_trainer_create(&t, m, train, p, err);
    if (st != MLP_OK) return st;
    st = mlp_trainer_run(t, err);
    if (st == MLP_ERR_STOPPED) mlp__fail(err, st, "stopped by the caller after epoch %u", t->epoch_done);
    mlp_trainer_free(t);
    return st;
}
