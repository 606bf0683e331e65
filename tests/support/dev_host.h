/* SPDX-License-Identifier: MIT */
/* A device backend that runs on the CPU: the table of src/device/device.h
 * implemented with the library's own pass and update kernels on a shadow
 * model, its "device memory" plain host buffers.  Tests put a context on
 * it (mlp__context_set_device) to run the trainer's and the public calls'
 * device paths where there is no GPU: what they upload, in which order
 * they call, when they read back, checked against training on the CPU.
 * It also checks the protocol itself: a pass over a slot never uploaded,
 * rows past the slot's end, or an order that is not a permutation fail it
 * (returned as an error, which the test sees). */
#ifndef FASTMLP_TEST_DEV_HOST_H
#define FASTMLP_TEST_DEV_HOST_H

#include "context/context.h"
#include "device/device.h"
#include "internal.h"
#include "kernels/ktable.h"
#include "train/optim/optim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mlp_dev {
    struct mlp_model m; /* shadow: the engine's own layers and parameters */
    struct mlp_layer *layers;
    double *pre; /* mean, then 1/std (n_in each), or NULL */
    void *grad, *s1, *s2;
    struct mlp_dataset slot[MLP_DEV_SLOTS];
    void *slot_mem[MLP_DEV_SLOTS][3]; /* x, labels, targets copies */
    uint64_t *order[MLP_DEV_SLOTS];   /* NULL: identity */
    struct mlp_dev_acc acc;
    int have_grad;
};

/* counts of what the trainer asked, for the tests */
struct dev_host_counts {
    unsigned opens, uploads, orders, passes, reads, set_params, get_params, steps;
};
static struct dev_host_counts g_dev_counts;
/* the CPU context the shadow models run on (the test's, one thread: the
 * same sums as the CPU model it is compared with); NULL: the default */
static struct mlp_context *g_dev_host_ctx;

static int dh_fail(char *msg, int rc, const char *what)
{
    snprintf(msg, MLP_DEV_MSG, "host device: %.400s", what);
    return rc;
}

static int dh_count(char *msg)
{
    (void)msg;
    return 1;
}

static int dh_describe(int index, char *out, size_t cap, char *msg)
{
    (void)msg;
    snprintf(out, cap, "the CPU standing in for device %d", index);
    return 0;
}

static size_t dh_esz(const struct mlp_dev *d) { return mlp__dtype_size(d->m.dtype); }

static void dh_free_slot(struct mlp_dev *d, int s)
{
    for (int k = 0; k < 3; k++) free(d->slot_mem[s][k]);
    memset(d->slot_mem[s], 0, sizeof d->slot_mem[s]);
    free(d->order[s]);
    d->order[s] = NULL;
    memset(&d->slot[s], 0, sizeof d->slot[s]);
}

static void dh_close(struct mlp_dev *d)
{
    if (!d) return;
    for (int s = 0; s < MLP_DEV_SLOTS; s++) dh_free_slot(d, s);
    mlp__afree(d->m.params);
    mlp__afree(d->grad);
    mlp__afree(d->s1);
    mlp__afree(d->s2);
    free(d->layers);
    free(d->pre);
    free(d);
}

static int dh_open(struct mlp_dev **out, int index, const struct mlp_dev_model *dm, char *msg)
{
    (void)index;
    *out = NULL;
    if (dm->math != MLP_DEV_MATH_EXACT) return dh_fail(msg, MLP_ERR_UNSUPPORTED, "only exact math");
    struct mlp_dev *d = calloc(1, sizeof *d);
    if (!d) return dh_fail(msg, MLP_ERR_NOMEM, "out of memory");
    d->m.dtype = (enum mlp_dtype)dm->dtype;
    d->m.head = (enum mlp_head)dm->head;
    d->m.n_layers = dm->n_layers;
    d->m.leaky_slope = dm->leaky_slope;
    d->m.input_scale = dm->input_scale;
    d->m.n_params = dm->n_params;
    d->layers = calloc(dm->n_layers, sizeof *d->layers);
    const size_t bytes = dm->n_params * mlp__dtype_size(d->m.dtype);
    d->m.params = mlp__acalloc(bytes);
    d->grad = mlp__acalloc(bytes);
    d->s1 = mlp__acalloc(bytes);
    d->s2 = mlp__acalloc(bytes);
    if (!d->layers || !d->m.params || !d->grad || !d->s1 || !d->s2) {
        dh_close(d);
        return dh_fail(msg, MLP_ERR_NOMEM, "out of memory");
    }
    uint32_t maxw = dm->layers[0].n_in;
    for (uint32_t l = 0; l < dm->n_layers; l++) {
        d->layers[l] = (struct mlp_layer){dm->layers[l].n_in, dm->layers[l].n_out, (enum mlp_act)dm->layers[l].act,
                                          dm->layers[l].w_off, dm->layers[l].b_off};
        if (dm->layers[l].n_out > maxw) maxw = dm->layers[l].n_out;
    }
    d->m.layers = d->layers;
    d->m.max_width = maxw;
    if (dm->pre_mean) {
        const uint32_t n_in = dm->layers[0].n_in;
        if (!(d->pre = malloc(2 * n_in * sizeof *d->pre))) {
            dh_close(d);
            return dh_fail(msg, MLP_ERR_NOMEM, "out of memory");
        }
        memcpy(d->pre, dm->pre_mean, n_in * sizeof *d->pre);
        memcpy(d->pre + n_in, dm->pre_inv_std, n_in * sizeof *d->pre);
        d->m.pre_mean = d->pre;
        d->m.pre_inv_std = d->pre + n_in;
    }
    d->m.ctx = g_dev_host_ctx;
    g_dev_counts.opens++;
    *out = d;
    return 0;
}

static int dh_set_params(struct mlp_dev *d, const void *host, char *msg)
{
    (void)msg;
    g_dev_counts.set_params++;
    memcpy(d->m.params, host, d->m.n_params * dh_esz(d));
    return 0;
}

static int dh_get_params(struct mlp_dev *d, void *host, char *msg)
{
    (void)msg;
    g_dev_counts.get_params++;
    memcpy(host, d->m.params, d->m.n_params * dh_esz(d));
    return 0;
}

static int dh_get_grad(struct mlp_dev *d, void *host, char *msg)
{
    if (!d->have_grad) return dh_fail(msg, MLP_ERR_ARG, "no gradient yet");
    memcpy(host, d->grad, d->m.n_params * dh_esz(d));
    return 0;
}

static int dh_set_state(struct mlp_dev *d, const void *s1, const void *s2, char *msg)
{
    (void)msg;
    if (s1) memcpy(d->s1, s1, d->m.n_params * dh_esz(d));
    if (s2) memcpy(d->s2, s2, d->m.n_params * dh_esz(d));
    return 0;
}

static int dh_get_state(struct mlp_dev *d, void *s1, void *s2, char *msg)
{
    (void)msg;
    if (s1) memcpy(s1, d->s1, d->m.n_params * dh_esz(d));
    if (s2) memcpy(s2, d->s2, d->m.n_params * dh_esz(d));
    return 0;
}

static void *dh_dup(const void *p, size_t n)
{
    void *q = malloc(n ? n : 1);
    if (q && n) memcpy(q, p, n);
    return q;
}

static int dh_upload(struct mlp_dev *d, int slot, const struct mlp_dev_data *ds, char *msg)
{
    if (slot < 0 || slot >= MLP_DEV_SLOTS) return dh_fail(msg, MLP_ERR_ARG, "no such slot");
    dh_free_slot(d, slot);
    const size_t es = mlp__elem_size((enum mlp_elem)ds->x_type);
    const uint32_t K = d->m.layers[d->m.n_layers - 1].n_out;
    struct mlp_dataset *s = &d->slot[slot];
    d->slot_mem[slot][0] = dh_dup(ds->x, (size_t)ds->n_rows * ds->n_cols * es);
    if (ds->labels) d->slot_mem[slot][1] = dh_dup(ds->labels, (size_t)ds->n_rows * 4);
    if (ds->targets) d->slot_mem[slot][2] = dh_dup(ds->targets, (size_t)ds->n_rows * K * 8);
    if (!d->slot_mem[slot][0] || (ds->labels && !d->slot_mem[slot][1]) || (ds->targets && !d->slot_mem[slot][2])) {
        dh_free_slot(d, slot);
        return dh_fail(msg, MLP_ERR_NOMEM, "out of memory");
    }
    s->n_rows = ds->n_rows;
    s->n_cols = ds->n_cols;
    s->x_type = (enum mlp_elem)ds->x_type;
    s->x = d->slot_mem[slot][0];
    s->labels = d->slot_mem[slot][1];
    s->targets = d->slot_mem[slot][2];
    s->n_targets = ds->targets ? K : 0;
    s->n_classes = ds->labels ? (K > 1 ? K : 2) : 0;
    g_dev_counts.uploads++;
    return 0;
}

static int dh_set_order(struct mlp_dev *d, int slot, const uint64_t *order, char *msg)
{
    if (slot < 0 || slot >= MLP_DEV_SLOTS || !d->slot[slot].x) return dh_fail(msg, MLP_ERR_ARG, "order of an empty slot");
    const uint64_t n = d->slot[slot].n_rows;
    free(d->order[slot]);
    d->order[slot] = NULL;
    if (!order) return 0;
    uint64_t *o = malloc(n * sizeof *o);
    char *seen = calloc(n, 1);
    if (!o || !seen) {
        free(o);
        free(seen);
        return dh_fail(msg, MLP_ERR_NOMEM, "out of memory");
    }
    for (uint64_t i = 0; i < n; i++) {
        if (order[i] >= n || seen[order[i]]) {
            free(o);
            free(seen);
            return dh_fail(msg, MLP_ERR_ARG, "the order is not a permutation");
        }
        seen[order[i]] = 1;
        o[i] = order[i];
    }
    free(seen);
    d->order[slot] = o;
    g_dev_counts.orders++;
    return 0;
}

static int dh_pass(struct mlp_dev *d, const struct mlp_dev_pass *p, char *msg)
{
    if (p->slot < 0 || p->slot >= MLP_DEV_SLOTS || !d->slot[p->slot].x) return dh_fail(msg, MLP_ERR_ARG, "pass over an empty slot");
    const struct mlp_dataset *ds = &d->slot[p->slot];
    if (p->nb == 0 || p->b0 > ds->n_rows || p->nb > ds->n_rows - p->b0) return dh_fail(msg, MLP_ERR_ARG, "rows out of range");
    struct mlp_pass ps = {.m = &d->m, .ds = ds, .row0 = p->b0, .n = p->nb,
                          .rows = d->order[p->slot] ? d->order[p->slot] + p->b0 : NULL, .mean_n = p->mean_n,
                          .grad = p->grad ? d->grad : NULL};
    struct mlp_error err;
    if (mlp__run_pass(&ps, &err) != MLP_OK) return dh_fail(msg, err.status, err.msg);
    const double mean_n = (double)(p->mean_n ? p->mean_n : p->nb);
    if (ds->labels || ds->targets) d->acc.loss_sum += ps.loss * mean_n;
    d->acc.correct += ps.correct;
    d->acc.rows += p->nb;
    if (p->l2 != 0) {
        double sq = 0, c = p->l2 / (p->l2_m > 0 ? p->l2_m : (double)p->nb);
        for (uint32_t l = 0; l < d->m.n_layers; l++) {
            const struct mlp_layer *ly = &d->m.layers[l];
            size_t nw = (size_t)ly->n_in * ly->n_out;
            for (size_t i = 0; i < nw; i++) {
                double w = d->m.dtype == MLP_F32 ? ((const float *)d->m.params)[ly->w_off + i]
                                                 : ((const double *)d->m.params)[ly->w_off + i];
                sq += w * w;
                if (!p->grad) continue;
                if (d->m.dtype == MLP_F32) ((float *)d->grad)[ly->w_off + i] += (float)(c * w);
                else ((double *)d->grad)[ly->w_off + i] += c * w;
            }
        }
        d->acc.pen_sum += 0.5 * c * sq * (double)p->nb;
    }
    if (p->grad) d->have_grad = 1;
    g_dev_counts.passes++;
    return 0;
}

static int dh_read_acc(struct mlp_dev *d, struct mlp_dev_acc *acc, char *msg)
{
    (void)msg;
    *acc = d->acc;
    memset(&d->acc, 0, sizeof d->acc);
    g_dev_counts.reads++;
    return 0;
}

static int dh_sgd(struct mlp_dev *d, double lr, double momentum, int nesterov, char *msg)
{
    if (!d->have_grad) return dh_fail(msg, MLP_ERR_ARG, "update before a pass");
    mlp__sgd_step(d->m.dtype, d->m.n_params, d->m.params, d->grad, d->s1, lr, momentum, nesterov);
    g_dev_counts.steps++;
    return 0;
}

static int dh_adam(struct mlp_dev *d, double lr_t, double b1, double b2, double eps_t, char *msg)
{
    if (!d->have_grad) return dh_fail(msg, MLP_ERR_ARG, "update before a pass");
    const struct mlp_ktable *kt = mlp__model_kt(&d->m);
    if (d->m.dtype == MLP_F32)
        kt->adam_f32(d->m.n_params, d->m.params, d->grad, NULL, d->s1, d->s2, (float)lr_t, (float)b1, (float)b2,
                     (float)eps_t);
    else
        kt->adam_f64(d->m.n_params, d->m.params, d->grad, NULL, d->s1, d->s2, lr_t, b1, b2, eps_t);
    g_dev_counts.steps++;
    return 0;
}

static int dh_scale_weights(struct mlp_dev *d, double f, char *msg)
{
    (void)msg;
    for (uint32_t l = 0; l < d->m.n_layers; l++) {
        size_t nw = (size_t)d->m.layers[l].n_in * d->m.layers[l].n_out, o = d->m.layers[l].w_off;
        for (size_t i = 0; i < nw; i++) {
            if (d->m.dtype == MLP_F32) ((float *)d->m.params)[o + i] *= (float)f;
            else ((double *)d->m.params)[o + i] *= f;
        }
    }
    return 0;
}

/* The step as its parts (the trainer's fallback order, for comparison). */
static int dh_step(struct mlp_dev *d, const struct mlp_dev_step *s, char *msg)
{
    int rc = dh_pass(d, &s->pass, msg);
    if (!rc) rc = s->adam ? dh_adam(d, s->lr_t, s->b1, s->b2, s->eps_t, msg) : dh_sgd(d, s->lr, s->momentum, s->nesterov, msg);
    if (!rc && s->decay != 1) rc = dh_scale_weights(d, s->decay, msg);
    return rc;
}

static int dh_predict(struct mlp_dev *d, int slot, uint64_t row0, uint64_t n, double *out, char *msg)
{
    if (slot < 0 || slot >= MLP_DEV_SLOTS || !d->slot[slot].x) return dh_fail(msg, MLP_ERR_ARG, "predict from an empty slot");
    struct mlp_dataset x = d->slot[slot];
    x.labels = NULL;
    x.targets = NULL;
    struct mlp_pass ps = {.m = &d->m, .ds = &x, .row0 = row0, .n = n,
                          .rows = d->order[slot] ? d->order[slot] + row0 : NULL, .out = out};
    struct mlp_error err;
    if (mlp__run_pass(&ps, &err) != MLP_OK) return dh_fail(msg, err.status, err.msg);
    return 0;
}

static const struct mlp_dev_ops g_dev_host = {
    .abi = MLP_DEV_ABI,
    .name = "host",
    .count = dh_count,
    .describe = dh_describe,
    .open = dh_open,
    .close = dh_close,
    .set_params = dh_set_params,
    .get_params = dh_get_params,
    .get_grad = dh_get_grad,
    .set_state = dh_set_state,
    .get_state = dh_get_state,
    .upload = dh_upload,
    .set_order = dh_set_order,
    .pass = dh_pass,
    .read_acc = dh_read_acc,
    .sgd = dh_sgd,
    .adam = dh_adam,
    .scale_weights = dh_scale_weights,
    .step = dh_step,
    .predict = dh_predict,
};

#endif
