/* SPDX-License-Identifier: MIT */
/* The trainer's state, run by train.c.  A checkpoint holds a snapshot of
 * it (struct mlp_ckpt, checkpoint.h), filled and consumed by train.c. */
#ifndef MLP_TRAIN_STATE_H
#define MLP_TRAIN_STATE_H

#include "internal.h"
#include "pass/devrun.h"
#include "train/dist.h"

#include <signal.h>

struct mlp_trainer {
    struct mlp_model *m;
    const struct mlp_dataset *train, *eval;
    struct mlp_train_params p;
    bool minibatch, momentum, solver;
    bool dp;               /* data-parallel (p.comm, a group of 2 or more): dist */
    uint64_t N;            /* the training rows: of all ranks' shards when dp */
    struct mlp_dist dist;
    /* On a GPU (the model's context's device): its engine.  The device is
     * ahead of the host's weights, moments and sums while an epoch runs
     * (dev_ahead); dev_pull brings them back at the epoch's end and before
     * anything reads them.  dev_order_stale: the epoch's permutation is
     * not on the device yet. */
    bool on_dev, dev_ahead, dev_order_stale;
    struct mlp_devrun dev;
    int n_state;           /* optimizer moment vectors: 0, 1 (momentum), 2 (Adam) */
    uint64_t bs, n_batches;

    /* buf: gradient, good (weights at the epoch's start, restored on
     * divergence), best (early stopping), then n_state moment vectors. */
    char *buf, *grad, *good, *best, *s1, *s2;
    uint64_t *perm;

    /* position */
    struct mlp_rng rng;       /* advances with every shuffle */
    struct mlp_rng rng_epoch; /* as it stood before this epoch's shuffle */
    uint32_t epoch_done;      /* completed epochs */
    uint64_t batch_pos;       /* batches done in the epoch in progress */
    uint64_t step;            /* optimizer steps (Adam's t) */
    double loss_sum, epoch_s; /* the epoch in progress: data loss x rows, seconds */
    double pen_sum;           /* its L2 term x rows (mlp_epoch_stats.penalty) */
    uint64_t correct;

    /* early stopping */
    double best_loss;
    uint32_t best_epoch, bad_epochs;
    int stopped_early;
    enum mlp_stop_reason stop_reason; /* why the run ended (mlp_train_meta) */
    uint32_t epochs_undone;           /* completed epochs whose updates the
                                         weights no longer hold (early stopping
                                         or a solver's divergence put older
                                         ones back) */

    struct mlp_epoch_stats *hist;
    uint32_t n_hist, hist_cap;

    mlp_epoch_fn on_epoch;
    mlp_batch_fn on_batch;
    void *user;
    /* mlp_trainer_set_phase_callback's, and the phase and epoch it was last
     * told, so that it hears only changes */
    mlp_phase_fn on_phase;
    void *phase_user;
    enum mlp_phase phase;
    uint32_t phase_epoch;
    char *ckpt_path;
    uint32_t ckpt_every;
    volatile sig_atomic_t stop;
    bool stop_agreed;      /* dp: any rank's stop request, as the last batch's sums carried it */
    struct mlp_profile prof;
};

#endif
