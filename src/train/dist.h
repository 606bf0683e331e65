/* SPDX-License-Identifier: MIT */
/* Data-parallel training, below the trainer and above the passes: where a
 * rank's shard sits among all the rows, its part of a global batch, the
 * gradient pass whose per-layer sums over the ranks start as the backward
 * pass finishes each layer, evaluation over sharded sets, the data sets'
 * fingerprints as one process would see them, and the check that every
 * rank holds the same weights.  The collectives are the caller's (struct
 * mlp_comm, fastmlp.h); alone (no comm, or a group of one) nothing here is
 * used and the trainer runs as it always did. */
#ifndef MLP_DIST_H
#define MLP_DIST_H

#include "internal.h"
#include "train/checkpoint.h"

struct mlp_dist {
    const struct mlp_comm *c;
    uint64_t row0, n_total; /* this rank's first row among all; all rows */
    uint64_t n_here;        /* this rank's rows */
    bool labels;            /* the set has class labels (else real targets) */
    uint64_t *local;        /* a batch's rows this rank holds (indices into its shard) */
    uint64_t n_local;       /* how many (mlp__dist_batch_rows) */
    uint32_t *crcs;         /* every rank's weights' CRC (mlp__dist_check_same) */
    struct mlp_ckpt_fp train_fp, eval_fp; /* of the whole sets */
    uint64_t eval_total;
    /* the pass's layer hook (mlp__dist_grad_pass) */
    const struct mlp_model *m;
    void *grad;
    uint32_t issued; /* layers whose sum was started, from the last */
    int fail;        /* a start failed: the message is in msg */
    char msg[160];
    double comm_s;   /* seconds waiting for the gradient's sums (the profile's) */
};

/* The group's view of this rank's train and eval sets (eval may be NULL):
 * gathers every rank's row counts and fingerprints.  Fails on a group of
 * shards that do not fit together (widths, types), and on every rank when
 * one comes `failed` (its own checks failed: it joins only to say so). */
enum mlp_status mlp__dist_init(struct mlp_dist *d, const struct mlp_comm *c, const struct mlp_dataset *train,
                               const struct mlp_dataset *eval, bool failed, struct mlp_error *err);
void mlp__dist_free(struct mlp_dist *d);

/* Sum buf (n elements of dt) over the ranks in place. */
enum mlp_status mlp__dist_sum(struct mlp_dist *d, void *buf, size_t n, enum mlp_dtype dt, struct mlp_error *err);

/* The rows of perm[0..nb) (global row indices) that this rank holds, as
 * indices into its shard, in perm's order, into d->local / d->n_local;
 * perm NULL: rows first..first+nb of the whole set. */
void mlp__dist_batch_rows(struct mlp_dist *d, const uint64_t *perm, uint64_t first, uint64_t nb);

/* The gradient pass of a data-parallel step: ps over d's local rows (its
 * rows, n and row0 are set here; mean_n must be the global batch's rows;
 * no L2 term, no parts), each layer's gradient summed over the ranks
 * (started as the layer is done when the group can overlap, else one sum
 * at the end), then ps->grad is the batch's mean gradient and ps->loss
 * and ps->correct this rank's share (loss: its rows' sum / mean_n). */
enum mlp_status mlp__dist_grad_pass(struct mlp_dist *d, struct mlp_pass *ps, struct mlp_error *err);

/* Mean loss and accuracy (-1 without labels) of the model over a sharded
 * set whose shards hold `total` rows in all.  A rank whose shard does not
 * fit the model, or whose pass fails, still takes part in the sum, and then
 * every rank fails. */
enum mlp_status mlp__dist_evaluate(struct mlp_dist *d, const struct mlp_model *m, const struct mlp_dataset *ds,
                                   uint64_t total, double *loss, double *acc, struct mlp_error *err);

/* Every rank must hold the same weights: compares a CRC-32 of the model's
 * parameters over the ranks after epoch `epoch`. */
enum mlp_status mlp__dist_check_same(struct mlp_dist *d, const struct mlp_model *m, uint32_t epoch,
                                     struct mlp_error *err);

#endif
