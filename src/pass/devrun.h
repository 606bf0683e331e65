/* SPDX-License-Identifier: MIT */
/* A model on its context's device (device/device.h): the engine opened
 * for it, what each data slot holds, and the calls the trainer and the
 * public evaluate/predict make (pass/devrun.c).  Above the model and the
 * context, beside the CPU passes; the trainer sits above it. */
#ifndef MLP_PASS_DEVRUN_H
#define MLP_PASS_DEVRUN_H

#include "device/device.h"
#include "internal.h"

struct mlp_devrun {
    const struct mlp_dev_ops *ops;
    struct mlp_dev *d;
    /* the data set each slot holds (NULL: none), and whether its order is
     * a permutation set by the trainer (else the identity) */
    const struct mlp_dataset *slot[MLP_DEV_SLOTS];
    bool ordered[MLP_DEV_SLOTS];
};

/* An engine for m on its context's device, holding m's parameters. */
enum mlp_status mlp__dev_open(struct mlp_devrun *r, const struct mlp_model *m, struct mlp_error *err);
void mlp__dev_close(struct mlp_devrun *r);

/* A backend call's result as a status: rc 0 is MLP_OK; else rc when it is
 * a status, MLP_ERR_IO otherwise, with the backend's message after `what`. */
enum mlp_status mlp__dev_status(const struct mlp_devrun *r, int rc, const char *what, const char *msg,
                                struct mlp_error *err);

/* Put ds into slot (nothing to do when it holds it already), identity order. */
enum mlp_status mlp__dev_upload(struct mlp_devrun *r, int slot, const struct mlp_dataset *ds, struct mlp_error *err);
/* The slot's order from now on: order (its rows' count), or the identity. */
enum mlp_status mlp__dev_order(struct mlp_devrun *r, int slot, const uint64_t *order, struct mlp_error *err);

/* The data loss (mean over the slot's rows, no L2 term) and correct count
 * of the engine's parameters on a whole slot, as mlp_model_evaluate. */
enum mlp_status mlp__dev_evaluate(struct mlp_devrun *r, int slot, double *loss, uint64_t *correct,
                                  struct mlp_error *err);

/* mlp_model_evaluate and mlp_model_predict for a model on a device: the
 * engine the model keeps (mlp_model.dev_cache, opened on first use), its
 * parameters uploaded when they changed; the data are uploaded each call
 * (the caller's buffer may have changed since). */
enum mlp_status mlp__dev_model_evaluate(const struct mlp_model *m, const struct mlp_dataset *ds, double *loss,
                                        double *accuracy, struct mlp_error *err);
enum mlp_status mlp__dev_model_predict(const struct mlp_model *m, const struct mlp_dataset *ds,
                                       const struct mlp_rows *rows, double *out, struct mlp_error *err);

#endif
