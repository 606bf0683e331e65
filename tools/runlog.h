/* SPDX-License-Identifier: MIT */
/* The reader of `fastmlp train --log-json` logs, for `fastmlp report
 * --runs`: an optional header line (format version, model, hyperparameters)
 * and one JSON object per epoch, turned back into the trainer's
 * mlp_epoch_stats; and the legend that tells several logs apart. */
#ifndef FASTMLP_RUNLOG_H
#define FASTMLP_RUNLOG_H

#include "fastmlp.h"

#include <stdbool.h>
#include <stdint.h>

/* The log format this build writes and reads (the header's "fastmlp_log"). */
#define RUNLOG_FORMAT 1
/* Bounds on what a log may hold: a line longer than this is not one of
 * ours (a model file, a data set named by mistake), and the epochs stay
 * under 640 MB of mlp_epoch_stats. */
#define RUNLOG_MAX_LINE (1u << 20)
#define RUNLOG_MAX_EPOCHS 10000000u

/* One hyperparameter as the header wrote it: numbers as written, strings
 * unquoted, true / false / null as those words. */
struct runlog_kv {
    char *key, *value;
};

struct runlog {
    char *path;
    bool has_header;
    /* The evaluated set of the epochs' test_loss / test_acc: "test" or
     * "valid" (the header's "eval", else the epoch lines' keys; "test" when
     * neither says). */
    char eval_name[8];
    /* The header's "hyperparameters" in its order, then those of its
     * "sweep" that it does not already hold (a sweep's values are the
     * run's hyperparameters, so a key given in both is kept once). */
    struct runlog_kv *hp;
    uint32_t n_hp;
    char *model; /* the header's "model", or NULL */
    /* In file order, epochs strictly increasing; figures a line does not
     * hold are -1 (accuracy, evaluation), NaN (seconds, samples_per_s) or 0
     * (penalty); JSON null reads as NaN. */
    struct mlp_epoch_stats *epochs;
    uint32_t n_epochs;
    char *label; /* the legend (runlog_labels), or NULL */
};

/*
 * Read the log at `path` into *out (zeroed first; the caller frees it with
 * runlog_free, on failure too).  Errors, each one line naming path:line:
 * MLP_ERR_OPEN (cannot open, a directory), MLP_ERR_IO (a read failed),
 * MLP_ERR_FORMAT (malformed JSON, a line that is not an object, a missing
 * "epoch" or "train_loss", epochs not strictly increasing, a header written
 * by a newer fastmlp, a line over RUNLOG_MAX_LINE, no epochs at all),
 * MLP_ERR_NOMEM (more than RUNLOG_MAX_EPOCHS epochs, or out of memory).
 * Keys this build does not know are ignored.  err must not be NULL.
 */
enum mlp_status runlog_read(const char *path, struct runlog *out, struct mlp_error *err);
/* Free what r holds and zero it; a zeroed runlog is a no-op. */
void runlog_free(struct runlog *r);

/*
 * Set each log's label (owned by the log): the hyperparameters whose values
 * differ among the logs that have a header, in header order, as
 * "lr=0.01 batch=32" (at most RUNLOG_LABEL_KEYS of them, then "…"); when two
 * logs would get the same such label, the file's name follows it in
 * parentheses.  A log without a header, or every log when no value differs:
 * its file's base name, with as many of the path's directories before it as
 * tell it apart from the other logs'.  MLP_ERR_NOMEM, or MLP_OK.
 */
#define RUNLOG_LABEL_KEYS 4
enum mlp_status runlog_labels(struct runlog *logs, uint32_t n, struct mlp_error *err);

#endif
