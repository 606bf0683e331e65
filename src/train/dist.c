/* SPDX-License-Identifier: MIT */
/* Data-parallel training's part below the trainer (dist.h): the shards'
 * places among all rows, a batch's local rows, the gradient pass with its
 * sums over the ranks, sharded evaluation and the weights' agreement. */
#include "context/context.h"
#include "train/dist.h"

#include <stdio.h>
#include <string.h>

/* What each rank says of its shards at the start. */
struct shard_info {
    uint64_t n_train, n_eval;
    uint64_t tx_bytes, ty_bytes, ex_bytes, ey_bytes;
    struct mlp_ckpt_fp train_fp, eval_fp;
    uint32_t cols, x_type, y_kind, n_classes, n_targets, has_eval;
};

static enum mlp_status comm_fail(const struct mlp_dist *d, const char *what, const char *msg,
                                 struct mlp_error *err)
{
    return mlp__fail(err, MLP_ERR_IO, "rank %d of %d: %s failed: %s", d->c->rank, d->c->size, what,
                     msg[0] ? msg : "(no message)");
}

static uint32_t y_kind(const struct mlp_dataset *ds)
{
    return ds->labels ? 1 : ds->targets ? 2 : 0;
}

static struct shard_info describe(const struct mlp_dataset *train, const struct mlp_dataset *eval)
{
    struct shard_info s = {.n_train = train->n_rows, .cols = train->n_cols, .x_type = (uint32_t)train->x_type,
                           .y_kind = y_kind(train), .n_classes = train->n_classes, .n_targets = train->n_targets,
                           .train_fp = mlp__ckpt_fingerprint(train)};
    mlp__ckpt_fp_bytes(train, &s.tx_bytes, &s.ty_bytes);
    if (eval) {
        s.has_eval = 1;
        s.n_eval = eval->n_rows;
        s.eval_fp = mlp__ckpt_fingerprint(eval);
        mlp__ckpt_fp_bytes(eval, &s.ex_bytes, &s.ey_bytes);
    }
    return s;
}

enum mlp_status mlp__dist_init(struct mlp_dist *d, const struct mlp_comm *c, const struct mlp_dataset *train,
                               const struct mlp_dataset *eval, bool failed, struct mlp_error *err)
{
    memset(d, 0, sizeof *d);
    d->c = c;
    if (c->size < 2 || c->rank < 0 || c->rank >= c->size || !c->allreduce || !c->allgather || (c->iallreduce && !c->wait))
        return mlp__fail(err, MLP_ERR_ARG, "data-parallel group: rank %d of %d, or a collective missing", c->rank,
                         c->size);
    struct shard_info mine = describe(train, eval);
    struct shard_info *all = calloc((size_t)c->size, sizeof *all);
    d->local = malloc((train->n_rows ? train->n_rows : 1) * sizeof *d->local);
    d->crcs = malloc((size_t)c->size * sizeof *d->crcs);
    /* every rank learns whether any failed (its checks, these buffers),
     * before the gather that one without its buffer could not join */
    char msg[160] = "";
    const bool nomem = !all || !d->local || !d->crcs;
    double lack = failed || nomem;
    if (c->allreduce(c->self, &lack, 1, MLP_F64, msg, sizeof msg) || lack > 0) {
        free(all);
        mlp__dist_free(d);
        if (msg[0]) return comm_fail(d, "agreeing on the data-parallel state", msg, err);
        if (nomem) return mlp__fail(err, MLP_ERR_NOMEM, "cannot allocate the data-parallel state");
        return mlp__fail(err, MLP_ERR_IO, "the data-parallel run cannot start: it failed on %g %srank(s)", lack,
                         failed ? "" : "other ");
    }
    if (c->allgather(c->self, &mine, all, sizeof mine, msg, sizeof msg)) {
        free(all);
        mlp__dist_free(d);
        return comm_fail(d, "gathering the shards' sizes", msg, err);
    }
    enum mlp_status st = MLP_OK;
    /* the first non-empty shard describes the set; every other must agree */
    const struct shard_info *ref = &all[0];
    for (int r = 0; r < c->size; r++)
        if (all[r].n_train) {
            ref = &all[r];
            break;
        }
    for (int r = 0; r < c->size && st == MLP_OK; r++) {
        const struct shard_info *s = &all[r];
        if (s->has_eval != ref->has_eval)
            st = mlp__fail(err, MLP_ERR_ARG, "rank %d has %s evaluation set, rank %d %s", r,
                           s->has_eval ? "an" : "no", (int)(ref - all), ref->has_eval ? "has one" : "has none");
        else if (s->cols != ref->cols)
            st = mlp__fail(err, MLP_ERR_SHAPE, "rank %d's shard has %u columns, another's %u", r, s->cols, ref->cols);
        else if (s->n_train && (s->x_type != ref->x_type || s->y_kind != ref->y_kind ||
                                s->n_classes != ref->n_classes || s->n_targets != ref->n_targets))
            st = mlp__fail(err, MLP_ERR_SHAPE,
                           "rank %d's shard is not of the same data set as rank %d's (element type, labels or "
                           "classes differ): every rank must load the same file",
                           r, (int)(ref - all));
        d->n_total += s->n_train;
        d->eval_total += s->n_eval;
        if (r < c->rank) d->row0 += s->n_train;
    }
    d->n_here = train->n_rows;
    d->labels = ref->y_kind == 1;
    if (st == MLP_OK) {
        d->train_fp = all[0].train_fp;
        d->eval_fp = all[0].eval_fp;
        for (int r = 1; r < c->size; r++) {
            d->train_fp = mlp__ckpt_fp_join(d->train_fp, all[r].train_fp, all[r].tx_bytes, all[r].ty_bytes);
            if (all[r].has_eval)
                d->eval_fp = mlp__ckpt_fp_join(d->eval_fp, all[r].eval_fp, all[r].ex_bytes, all[r].ey_bytes);
        }
        /* the set's width and type as a non-empty shard has them (an empty
         * one's may be a hand-filled view's defaults) */
        d->train_fp.cols = ref->cols;
        d->train_fp.x_type = ref->x_type;
        for (int r = 0; r < c->size; r++)
            if (all[r].n_eval) {
                d->eval_fp.cols = all[r].eval_fp.cols;
                d->eval_fp.x_type = all[r].eval_fp.x_type;
                break;
            }
        if (d->n_total == 0) st = mlp__fail(err, MLP_ERR_ARG, "the training set is empty on every rank");
        else if (mine.has_eval && d->eval_total == 0)
            st = mlp__fail(err, MLP_ERR_ARG, "the evaluation set is empty on every rank");
    }
    free(all);
    if (st != MLP_OK) mlp__dist_free(d);
    return st;
}

void mlp__dist_free(struct mlp_dist *d)
{
    free(d->local);
    free(d->crcs);
    d->local = NULL;
    d->crcs = NULL;
}

enum mlp_status mlp__dist_sum(struct mlp_dist *d, void *buf, size_t n, enum mlp_dtype dt, struct mlp_error *err)
{
    char msg[160] = "";
    int rc = d->c->allreduce(d->c->self, buf, n, dt, msg, sizeof msg);
    return rc ? comm_fail(d, "a sum over the ranks", msg, err) : MLP_OK;
}

void mlp__dist_batch_rows(struct mlp_dist *d, const uint64_t *perm, uint64_t first, uint64_t nb)
{
    /* rows this rank holds: row0 <= g < row0 + here, one unsigned compare */
    const uint64_t here = d->n_here, row0 = d->row0;
    uint64_t k = 0;
    for (uint64_t i = 0; i < nb; i++) {
        uint64_t g = (perm ? perm[i] : first + i) - row0;
        if (g < here) d->local[k++] = g;
    }
    d->n_local = k;
}

/* A layer's gradient: the elements [w_off, b_off + n_out) of the flat vector. */
static void start_layer(struct mlp_dist *d, uint32_t l)
{
    const struct mlp_layer *ly = &d->m->layers[l];
    const size_t esz = mlp__dtype_size(d->m->dtype);
    size_t n = (size_t)ly->n_in * ly->n_out + ly->n_out;
    if (!d->fail && d->c->iallreduce(d->c->self, (char *)d->grad + ly->w_off * esz, n, d->m->dtype, d->msg,
                                     sizeof d->msg))
        d->fail = 1;
    d->issued++;
}

/* The pass's hook: start the sum of layer l, in the order L-1, ..., 0 on
 * every rank (a stage that calls it out of that order leaves the rest to
 * mlp__dist_grad_pass, which starts them in order). */
static void layer_done(void *ctx, uint32_t l)
{
    struct mlp_dist *d = ctx;
    if (l + 1 + d->issued == d->m->n_layers) start_layer(d, l);
}

enum mlp_status mlp__dist_grad_pass(struct mlp_dist *d, struct mlp_pass *ps, struct mlp_error *err)
{
    const struct mlp_model *m = ps->m;
    const bool overlap = d->c->iallreduce != NULL;
    d->m = m;
    d->grad = ps->grad;
    d->issued = 0;
    d->fail = 0;
    d->msg[0] = 0;
    ps->rows = d->local;
    ps->row0 = 0;
    ps->n = d->n_local;
    ps->keep_parts = false;
    ps->layer_done = overlap ? layer_done : NULL;
    ps->layer_ctx = d;
    enum mlp_status st = MLP_OK;
    if (d->n_local > 0) {
        st = mlp__run_pass(ps, err);
    } else {
        /* none of the batch's rows are here: this rank adds zeros */
        memset(ps->grad, 0, m->n_params * mlp__dtype_size(m->dtype));
        ps->loss = 0;
        ps->correct = 0;
    }
    /* A failed pass still takes part in the sums the others wait in; the
     * caller's next sum tells them it failed (dist_pass, train.c). */
    double t0 = mlp__now();
    char msg[160] = "";
    int rc = 0;
    if (overlap) {
        while (d->issued < m->n_layers) start_layer(d, m->n_layers - 1 - d->issued);
        rc = d->c->wait(d->c->self, msg, sizeof msg);
    } else {
        rc = d->c->allreduce(d->c->self, ps->grad, m->n_params, m->dtype, msg, sizeof msg);
    }
    d->comm_s += mlp__now() - t0;
    if (st != MLP_OK) return st;
    if (d->fail) return comm_fail(d, "starting a sum of a layer's gradient", d->msg, err);
    if (rc) return comm_fail(d, "summing the gradient over the ranks", msg, err);
    return MLP_OK;
}

enum mlp_status mlp__dist_evaluate(struct mlp_dist *d, const struct mlp_model *m, const struct mlp_dataset *ds,
                                   uint64_t total, double *loss, double *acc, struct mlp_error *err)
{
    /* this rank's loss / total, its correct count, and whether it failed:
     * a rank whose pass fails still takes part in the sum, and every rank
     * then fails together */
    double sums[3] = {0, 0, 0};
    enum mlp_status st = MLP_OK;
    if (ds->n_rows > 0 && (st = mlp__check_data(m, ds, true, err)) != MLP_OK) {
        sums[2] = 1;
    } else if (ds->n_rows > 0) {
        struct mlp_pass ps = {.m = m, .ds = ds, .n = ds->n_rows, .mean_n = total};
        if ((st = mlp__run_pass(&ps, err)) == MLP_OK) {
            sums[0] = ps.loss;
            sums[1] = (double)ps.correct;
        } else {
            sums[2] = 1;
        }
    }
    enum mlp_status sum_st = mlp__dist_sum(d, sums, 3, MLP_F64, st == MLP_OK ? err : &(struct mlp_error){0});
    if (st != MLP_OK) return st;
    if (sum_st != MLP_OK) return sum_st;
    if (sums[2] > 0) return mlp__fail(err, MLP_ERR_IO, "the evaluation failed on %g other rank(s)", sums[2]);
    if (loss) *loss = sums[0];
    if (acc) *acc = d->labels ? sums[1] / (double)total : -1;
    return MLP_OK;
}

enum mlp_status mlp__dist_check_same(struct mlp_dist *d, const struct mlp_model *m, uint32_t epoch,
                                     struct mlp_error *err)
{
    /* (d->crcs was made with the other buffers, before the first
     * collective: no rank can fail to join this gather for want of it) */
    uint32_t mine = mlp__ckpt_crc(m->params, m->n_params * mlp__dtype_size(m->dtype)), *all = d->crcs;
    char msg[160] = "";
    if (d->c->allgather(d->c->self, &mine, all, sizeof mine, msg, sizeof msg))
        return comm_fail(d, "gathering the weights' checksums", msg, err);
    for (int r = 1; r < d->c->size; r++)
        if (all[r] != all[0])
            return mlp__fail(err, MLP_ERR_IO,
                             "the ranks hold different weights after epoch %u: CRC-32 %08x on rank 0, %08x on rank %d",
                             epoch, all[0], all[r], r);
    return MLP_OK;
}
