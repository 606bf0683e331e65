/* SPDX-License-Identifier: MIT */
/* A model on its context's device (pass/devrun.h): opening an engine with
 * the model's shape and parameters, putting data sets into its slots, and
 * evaluate/predict through it.  The engine computes what the CPU pass does
 * (device/device.h says how exactly); this file only translates. */
#include "pass/devrun.h"

#include "context/context.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum mlp_status mlp__dev_status(const struct mlp_devrun *r, int rc, const char *what, const char *msg,
                                struct mlp_error *err)
{
    if (rc == 0) return MLP_OK;
    enum mlp_status st = rc > 0 && rc <= MLP_ERR_STOPPED ? (enum mlp_status)rc : MLP_ERR_IO;
    return mlp__fail(err, st, "%s: %s: %s", r && r->ops ? r->ops->name : "device", what, msg[0] ? msg : "failed");
}

enum mlp_status mlp__dev_open(struct mlp_devrun *r, const struct mlp_model *m, struct mlp_error *err)
{
    memset(r, 0, sizeof *r);
    const struct mlp_context *c = mlp__ctx(m->ctx);
    MLP_ASSERT(c->dev);
    r->ops = c->dev;
    struct mlp_dev_layer *ly = malloc(m->n_layers * sizeof *ly);
    if (!ly) return mlp__fail(err, MLP_ERR_NOMEM, "out of memory for %u layers", m->n_layers);
    for (uint32_t l = 0; l < m->n_layers; l++)
        ly[l] = (struct mlp_dev_layer){.n_in = m->layers[l].n_in, .n_out = m->layers[l].n_out,
                                       .act = (int)m->layers[l].act, .w_off = m->layers[l].w_off,
                                       .b_off = m->layers[l].b_off};
    struct mlp_dev_model dm = {.dtype = (int)m->dtype, .head = (int)m->head, .n_layers = m->n_layers, .layers = ly,
                               .n_params = m->n_params, .leaky_slope = m->leaky_slope,
                               .input_scale = m->input_scale, .pre_mean = m->pre_mean,
                               .pre_inv_std = m->pre_inv_std, .math = c->dev_math};
    char msg[MLP_DEV_MSG] = "";
    int rc = r->ops->open(&r->d, c->dev_index, &dm, msg);
    free(ly);
    if (rc) {
        r->d = NULL;
        return mlp__dev_status(r, rc, "cannot set the model up", msg, err);
    }
    rc = r->ops->set_params(r->d, m->params, msg);
    if (rc) {
        enum mlp_status st = mlp__dev_status(r, rc, "cannot upload the parameters", msg, err);
        mlp__dev_close(r);
        return st;
    }
    return MLP_OK;
}

void mlp__dev_close(struct mlp_devrun *r)
{
    if (r->ops && r->d) r->ops->close(r->d);
    memset(r, 0, sizeof *r);
}

/* rows [row0, row0 + n) of ds as the backend takes them (a view, no copy) */
static struct mlp_dev_data dev_data(const struct mlp_dataset *ds, uint64_t row0, uint64_t n)
{
    const size_t es = mlp__elem_size(ds->x_type);
    return (struct mlp_dev_data){
        .n_rows = n,
        .n_cols = ds->n_cols,
        .x_type = (int)ds->x_type,
        .x = (const char *)ds->x + (size_t)row0 * ds->n_cols * es,
        .labels = ds->labels ? ds->labels + row0 : NULL,
        .targets = ds->targets ? ds->targets + (size_t)row0 * ds->n_targets : NULL,
    };
}

/* dd into slot, whatever it held (its order then the identity); the slot
 * is then known to hold ds (NULL: rows no caller will name again). */
static enum mlp_status put(struct mlp_devrun *r, int slot, const struct mlp_dataset *ds, const struct mlp_dev_data *dd,
                           const char *what, struct mlp_error *err)
{
    char msg[MLP_DEV_MSG] = "";
    r->slot[slot] = NULL;
    int rc = r->ops->upload(r->d, slot, dd, msg);
    if (rc) return mlp__dev_status(r, rc, what, msg, err);
    r->slot[slot] = ds;
    r->ordered[slot] = false;
    return MLP_OK;
}

enum mlp_status mlp__dev_upload(struct mlp_devrun *r, int slot, const struct mlp_dataset *ds, struct mlp_error *err)
{
    if (r->slot[slot] == ds) return MLP_OK;
    struct mlp_dev_data dd = dev_data(ds, 0, ds->n_rows);
    return put(r, slot, ds, &dd, slot ? "cannot upload the evaluation set" : "cannot upload the training set", err);
}

enum mlp_status mlp__dev_order(struct mlp_devrun *r, int slot, const uint64_t *order, struct mlp_error *err)
{
    if (!order && !r->ordered[slot]) return MLP_OK;
    char msg[MLP_DEV_MSG] = "";
    int rc = r->ops->set_order(r->d, slot, order, msg);
    if (rc) return mlp__dev_status(r, rc, "cannot set the rows' order", msg, err);
    r->ordered[slot] = order != NULL;
    return MLP_OK;
}

enum mlp_status mlp__dev_evaluate(struct mlp_devrun *r, int slot, double *loss, uint64_t *correct,
                                  struct mlp_error *err)
{
    const struct mlp_dataset *ds = r->slot[slot];
    MLP_ASSERT(ds && ds->n_rows > 0);
    enum mlp_status st = mlp__dev_order(r, slot, NULL, err);
    if (st != MLP_OK) return st;
    char msg[MLP_DEV_MSG] = "";
    struct mlp_dev_acc acc;
    /* the accumulator holds nothing here: the trainer reads its sums back
     * (dev_pull) before it evaluates */
    struct mlp_dev_pass p = {.slot = slot, .b0 = 0, .nb = ds->n_rows};
    int rc = r->ops->pass(r->d, &p, msg);
    if (!rc) rc = r->ops->read_acc(r->d, &acc, msg);
    if (rc) return mlp__dev_status(r, rc, "evaluation", msg, err);
    *loss = acc.loss_sum / (double)ds->n_rows;
    *correct = acc.correct;
    return MLP_OK;
}

/* The engine a model keeps for evaluate and predict (mlp_model.dev_cache):
 * opened on first use with the model's shape and input transform (opened
 * again when those changed), its parameters uploaded when the host's
 * differ from the copy of what the device holds (a memcmp: a model being
 * trained between calls, or a caller writing mlp_model_params, is seen).
 * One call at a time per model (lock): the engine is not thread-safe. */
struct mlp_devcache {
    pthread_mutex_t lock;
    struct mlp_devrun r;
    void *params;       /* what the device holds */
    double *pre;        /* mean then 1/std as opened with (2 n_in), or NULL */
    double input_scale; /* as opened with */
};

static void cache_close(struct mlp_devcache *c)
{
    mlp__dev_close(&c->r);
    free(c->params);
    free(c->pre);
    c->params = NULL;
    c->pre = NULL;
}

static void cache_free(void *p)
{
    struct mlp_devcache *c = p;
    cache_close(c);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static pthread_mutex_t cache_make_lock = PTHREAD_MUTEX_INITIALIZER;

/* m's cache, locked, its engine holding m's parameters; the caller unlocks. */
static enum mlp_status cache_get(const struct mlp_model *m, struct mlp_devcache **out, struct mlp_error *err)
{
    /* made once per model: two first calls from two threads make one */
    pthread_mutex_lock(&cache_make_lock);
    struct mlp_model *mm = (struct mlp_model *)(uintptr_t)m; /* the cache is not the model's value */
    if (!mm->dev_cache) {
        struct mlp_devcache *c = calloc(1, sizeof *c);
        if (c && pthread_mutex_init(&c->lock, NULL) != 0) {
            free(c);
            c = NULL;
        }
        if (c) {
            mm->dev_cache = c;
            mm->dev_cache_free = cache_free;
        }
    }
    struct mlp_devcache *c = mm->dev_cache;
    pthread_mutex_unlock(&cache_make_lock);
    if (!c) return mlp__fail(err, MLP_ERR_NOMEM, "out of memory for the device's engine");
    pthread_mutex_lock(&c->lock);
    const uint32_t n_in = mlp__n_in(m);
    const size_t bytes = m->n_params * mlp__dtype_size(m->dtype);
    bool same = c->r.d && c->input_scale == m->input_scale && !c->pre == !m->pre_mean &&
                (!c->pre || (memcmp(c->pre, m->pre_mean, n_in * sizeof *c->pre) == 0 &&
                             memcmp(c->pre + n_in, m->pre_inv_std, n_in * sizeof *c->pre) == 0));
    enum mlp_status st = MLP_OK;
    if (!same) {
        cache_close(c);
        c->params = malloc(bytes ? bytes : 1);
        c->pre = m->pre_mean ? malloc(2 * n_in * sizeof *c->pre) : NULL;
        if (!c->params || (m->pre_mean && !c->pre)) st = mlp__fail(err, MLP_ERR_NOMEM, "out of memory for the device's engine");
        if (st == MLP_OK) st = mlp__dev_open(&c->r, m, err);
        if (st == MLP_OK) {
            memcpy(c->params, m->params, bytes);
            if (c->pre) {
                memcpy(c->pre, m->pre_mean, n_in * sizeof *c->pre);
                memcpy(c->pre + n_in, m->pre_inv_std, n_in * sizeof *c->pre);
            }
            c->input_scale = m->input_scale;
        }
    } else if (memcmp(c->params, m->params, bytes) != 0) {
        char msg[MLP_DEV_MSG] = "";
        int rc = c->r.ops->set_params(c->r.d, m->params, msg);
        if (rc) st = mlp__dev_status(&c->r, rc, "cannot upload the parameters", msg, err);
        else memcpy(c->params, m->params, bytes);
    }
    if (st != MLP_OK) {
        cache_close(c);
        pthread_mutex_unlock(&c->lock);
        return st;
    }
    *out = c;
    return MLP_OK;
}

enum mlp_status mlp__dev_model_evaluate(const struct mlp_model *m, const struct mlp_dataset *ds, double *loss,
                                        double *accuracy, struct mlp_error *err)
{
    struct mlp_devcache *c;
    enum mlp_status st = cache_get(m, &c, err);
    if (st != MLP_OK) return st;
    double l = 0;
    uint64_t correct = 0;
    /* the caller's data may have changed since the last call: uploaded each time */
    struct mlp_dev_data dd = dev_data(ds, 0, ds->n_rows);
    st = put(&c->r, 0, ds, &dd, "cannot upload the data", err);
    if (st == MLP_OK) st = mlp__dev_evaluate(&c->r, 0, &l, &correct, err);
    pthread_mutex_unlock(&c->lock);
    if (st != MLP_OK) return st;
    /* a data set without targets has no loss: 0, as the CPU pass gives */
    if (loss) *loss = ds->labels || ds->targets ? l : 0;
    if (accuracy) *accuracy = ds->labels ? (double)correct / (double)ds->n_rows : -1.0;
    return MLP_OK;
}

enum mlp_status mlp__dev_model_predict(const struct mlp_model *m, const struct mlp_dataset *ds,
                                       const struct mlp_rows *rows, double *out, struct mlp_error *err)
{
    const uint64_t n = rows ? rows->n : ds->n_rows, row0 = rows && !rows->index ? rows->row0 : 0;
    if (n == 0) return MLP_OK;
    /* a range is a view of ds; listed rows are gathered into one block */
    struct mlp_dataset x = *ds;
    x.labels = NULL;
    x.targets = NULL;
    void *gathered = NULL;
    if (rows && rows->index) {
        const size_t row = ds->n_cols * mlp__elem_size(ds->x_type);
        if (n > SIZE_MAX / (row ? row : 1) || !(gathered = malloc((size_t)n * row)))
            return mlp__fail(err, MLP_ERR_NOMEM, "out of memory gathering %llu rows for the device",
                             (unsigned long long)n);
        for (uint64_t i = 0; i < n; i++)
            memcpy((char *)gathered + (size_t)i * row, (const char *)ds->x + (size_t)rows->index[i] * row, row);
        x.x = gathered;
        x.n_rows = n;
    }
    struct mlp_devcache *c;
    enum mlp_status st = cache_get(m, &c, err);
    if (st == MLP_OK) {
        struct mlp_dev_data dd = dev_data(&x, row0, n);
        st = put(&c->r, 0, NULL, &dd, "cannot upload the rows", err);
        if (st == MLP_OK) {
            char msg[MLP_DEV_MSG] = "";
            st = mlp__dev_status(&c->r, c->r.ops->predict(c->r.d, 0, 0, n, out, msg), "prediction", msg, err);
        }
        pthread_mutex_unlock(&c->lock);
    }
    free(gathered);
    return st;
}
