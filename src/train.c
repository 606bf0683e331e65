/* SPDX-License-Identifier: MIT */
/* The trainer: epochs of full-batch gradient descent or mini-batch SGD/Adam
 * over a data set, with seeded shuffling, per-epoch statistics through a
 * callback, and a divergence guard that restores the last good weights. */
#include "internal.h"
#include "optim/optim.h"

#include <math.h>
#include <string.h>
#include <time.h>

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
    return p;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
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
    if (p->optim != MLP_OPT_GD && p->batch == 0)
        return mlp__fail(err, MLP_ERR_ARG, "batch size must be at least 1");
    return MLP_OK;
}

enum mlp_status mlp_model_train(struct mlp_model *m, const struct mlp_dataset *train,
                                const struct mlp_dataset *test, const struct mlp_train_params *p,
                                mlp_epoch_fn on_epoch, void *user, struct mlp_error *err)
{
    MLP_ASSERT(m && train && p);
    enum mlp_status st = check_params(p, err);
    if (st == MLP_OK) st = mlp__check_data(m, train, true, err);
    if (st == MLP_OK && test) st = mlp__check_data(m, test, true, err);
    if (st != MLP_OK) return st;
    if (train->n_rows == 0) return mlp__fail(err, MLP_ERR_ARG, "the training set is empty");
    if (test && test->n_rows == 0) return mlp__fail(err, MLP_ERR_ARG, "the test set is empty");
    if (train->n_rows > SIZE_MAX / sizeof(uint64_t))
        return mlp__fail(err, MLP_ERR_NOMEM, "%llu training rows: too many to index",
                         (unsigned long long)train->n_rows);
    mlp_set_threads(p->threads);

    const size_t n = m->n_params, esz = mlp__dtype_size(m->dtype);
    const uint64_t N = train->n_rows;
    const bool minibatch = p->optim != MLP_OPT_GD;
    const uint64_t bs = minibatch ? (p->batch < N ? p->batch : N) : N;
    const bool momentum = p->optim == MLP_OPT_SGD && p->momentum > 0;
    int n_state = p->optim == MLP_OPT_ADAM ? 2 : momentum ? 1 : 0;

    /* One allocation for gradient, optimizer state and the last good weights. */
    void *buf = mlp__acalloc((size_t)(2 + n_state) * n * esz);
    uint64_t *perm = minibatch ? malloc(N * sizeof *perm) : NULL;
    if (!buf || (minibatch && !perm)) {
        mlp__afree(buf);
        free(perm);
        return mlp__fail(err, MLP_ERR_NOMEM, "cannot allocate training state for %zu parameters", n);
    }
    char *grad = buf, *good = grad + n * esz, *s1 = good + n * esz, *s2 = s1 + n * esz;
    for (uint64_t i = 0; minibatch && i < N; i++) perm[i] = i;
    struct mlp_rng rng;
    mlp__rng_seed(&rng, p->seed);
    mlp__log(MLP_LOG_INFO, "train: %llu rows, %zu parameters, %s, batch %llu, %u epochs, BLAS %s",
             (unsigned long long)N, n, mlp_optim_name(p->optim), (unsigned long long)bs, p->epochs, mlp_blas_info());
    uint64_t step = 0;
    uint32_t epochs_done = 0;

    for (uint32_t ep = 1; ep <= p->epochs && st == MLP_OK; ep++) {
        memcpy(good, m->params, n * esz);
        double t0 = now_s(), loss_sum = 0;
        uint64_t correct = 0;
        if (minibatch && p->shuffle)
            for (uint64_t i = N - 1; i > 0; i--) { /* Fisher-Yates */
                uint64_t j = mlp__rng_below(&rng, i + 1), t = perm[i];
                perm[i] = perm[j];
                perm[j] = t;
            }
        for (uint64_t b0 = 0; b0 < N && st == MLP_OK; b0 += bs) {
            uint64_t nb = N - b0 < bs ? N - b0 : bs;
            struct mlp_pass ps = {.m = m, .ds = train, .row0 = b0, .n = nb,
                                  .rows = minibatch ? perm + b0 : NULL, .l2 = p->l2, .grad = grad,
                                  /* every batch, the short last one too, gets the
                                   * same L2 strength: l2/(2 batch) */
                                  .l2_m = (double)bs};
            st = mlp__run_pass(&ps, err);
            if (st != MLP_OK) break;
            loss_sum += ps.loss * (double)nb;
            correct += ps.correct;
            step++;
            if (p->optim == MLP_OPT_ADAM)
                mlp__adam_step(m->dtype, n, m->params, grad, s1, s2, p->lr, p->beta1, p->beta2, p->eps, step);
            else
                mlp__sgd_step(m->dtype, n, m->params, grad, s1, p->lr, momentum ? p->momentum : 0, p->nesterov);
        }
        if (st != MLP_OK) break;
        struct mlp_epoch_stats es = {.epoch = ep, .train_acc = -1, .test_loss = -1, .test_acc = -1};
        es.seconds = now_s() - t0;
        es.samples_per_s = es.seconds > 0 ? (double)N / es.seconds : 0;
        es.train_loss = loss_sum / (double)N;
        if (p->eval_train && train->labels) es.train_acc = (double)correct / (double)N;
        if (!isfinite(es.train_loss) || !all_finite(m)) {
            memcpy(m->params, good, n * esz);
            st = mlp__fail(err, MLP_ERR_DIVERGED,
                           "training diverged in epoch %u (loss %g): weights of epoch %u kept; try a smaller learning rate",
                           ep, es.train_loss, ep - 1);
            break;
        }
        if (test) {
            st = mlp_model_evaluate(m, test, &es.test_loss, &es.test_acc, err);
            if (st != MLP_OK) break;
        }
        epochs_done = ep;
        if (on_epoch && on_epoch(&es, user)) {
            st = mlp__fail(err, MLP_ERR_STOPPED, "stopped by the caller after epoch %u", ep);
            break;
        }
    }
    m->meta.seed = p->seed;
    m->meta.optim = (uint32_t)p->optim;
    m->meta.epochs += epochs_done;
    m->meta.batch = (uint32_t)bs;
    m->meta.lr = p->lr;
    m->meta.l2 = p->l2;
    m->meta.momentum = p->optim == MLP_OPT_SGD ? p->momentum : 0;
    m->meta.samples = N;
    mlp__afree(buf);
    free(perm);
    return st;
}
