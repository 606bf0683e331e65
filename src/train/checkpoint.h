/* SPDX-License-Identifier: MIT */
/* The checkpoint file, below the trainer: it writes and reads a snapshot of a
 * run (struct mlp_ckpt) and knows nothing of struct mlp_trainer.  The trainer
 * (train.c) fills a snapshot from its state to save, and to resume it fills
 * in what this run is, lets the reader check the file against that and
 * restores its state from what the reader filled in. */
#ifndef MLP_CHECKPOINT_H
#define MLP_CHECKPOINT_H

#include "internal.h"

/* A data set as a checkpoint identifies it: its size and a CRC-32 of its
 * bytes (all zero for no data set). */
struct mlp_ckpt_fp {
    uint64_t rows;
    uint32_t cols, x_type, crc_x, crc_y;
};
/* CRC-32 of n bytes (any n: zlib takes them in pieces). */
uint32_t mlp__ckpt_crc(const void *p, uint64_t n);
struct mlp_ckpt_fp mlp__ckpt_fingerprint(const struct mlp_dataset *ds);
/* The fingerprint of a's rows followed by b's (a data-parallel run's
 * shards, in rank order), equal to mlp__ckpt_fingerprint of the whole set:
 * b_x_bytes and b_y_bytes are the lengths of the bytes b's CRCs cover. */
struct mlp_ckpt_fp mlp__ckpt_fp_join(struct mlp_ckpt_fp a, struct mlp_ckpt_fp b, uint64_t b_x_bytes,
                                     uint64_t b_y_bytes);
/* Those lengths for a data set (x's bytes; the labels' or targets'). */
void mlp__ckpt_fp_bytes(const struct mlp_dataset *ds, uint64_t *x_bytes, uint64_t *y_bytes);

/* Where a run stands: what a resumed run continues from. */
struct mlp_ckpt_pos {
    uint32_t epoch_done;           /* completed epochs */
    uint64_t batch_pos;            /* batches done in the epoch in progress */
    uint64_t step;                 /* optimizer steps (Adam's t) */
    struct mlp_rng rng, rng_epoch; /* now, and as it stood before this epoch's shuffle */
    double loss_sum, epoch_s;      /* the epoch in progress: data loss x rows, seconds */
    double pen_sum;                /* its L2 term x rows (version 1 files: 0, their
                                      loss_sum holds it) */
    uint64_t correct;
    double best_loss; /* early stopping */
    uint32_t best_epoch, bad_epochs;
    bool stopped_early;
    /* One entry per completed epoch (n_hist == epoch_done).  Reading: a new
     * array of n_hist + 1 entries, which the caller then owns (free). */
    struct mlp_epoch_stats *hist;
    uint32_t n_hist;
};

struct mlp_ckpt {
    /* The run.  Writing: what the file records.  Reading: this run, which
     * the file must match (else the first field that differs is named); on
     * success the model's weights and training metadata become the file's. */
    struct mlp_model *model;
    struct mlp_train_params params; /* the fields the file holds; the others are not read */
    struct mlp_ckpt_fp train_fp, eval_fp;
    uint64_t n_batches; /* batches per epoch; reading only, to check the position */

    struct mlp_ckpt_pos pos; /* reading fills it in on success */

    /* Vectors of model->n_params elements of the model's dtype: the weights
     * at the epoch's start, then those the run keeps, NULL for those it does
     * not: best (early stopping, params.patience > 0), s1 (momentum or
     * Adam's first moment), s2 (Adam's second).  The file holds them in
     * this order and only those; reading fills the caller's buffers. */
    void *good, *best, *s1, *s2;
};

/* Write c to path atomically (mlp__atomic_write): a file at path is
 * replaced only by a complete checkpoint. */
enum mlp_status mlp__ckpt_write(const char *path, const struct mlp_ckpt *c, struct mlp_error *err);

/* Read the checkpoint at path into c, whose run fields (model, params,
 * fingerprints, n_batches) and vector buffers the caller has set.  Both
 * checksums are verified before any field is believed.  Refusals:
 * MLP_ERR_FORMAT for a corrupt or inconsistent file, MLP_ERR_SHAPE for
 * another network or other data, MLP_ERR_ARG for other parameters.  On any
 * failure c's model and position are untouched; the vector buffers are
 * written only once every field before them has passed, so that only a
 * file changed under the reader (MLP_ERR_IO) or a state section longer
 * than its fields (MLP_ERR_FORMAT) can leave them part-written. */
enum mlp_status mlp__ckpt_read(const char *path, struct mlp_ckpt *c, struct mlp_error *err);
/* The same from a checkpoint's bytes in memory (b->name, or "<memory>",
 * names them in messages). */
enum mlp_status mlp__ckpt_read_mem(const struct mlp_buffer *b, struct mlp_ckpt *c, struct mlp_error *err);

#endif
