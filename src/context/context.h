/* SPDX-License-Identifier: MIT */
/* The context's insides (context.c) and what the rooms above it read of a
 * model's: its pool, threads, pass stage and kernel table.  Below the data,
 * the passes, the trainer and the inference engine; above the kernels,
 * whose table it holds, and the pool. */
#ifndef MLP_CONTEXT_H
#define MLP_CONTEXT_H

#include "internal.h"
#include "device/device.h"

struct mlp_pool;
struct mlp_ktable;
struct mlp_context {
    int threads; /* >= 1 */
    enum mlp_kernels kernels;
    enum mlp_isa isa;            /* as asked (may be AUTO) */
    const struct mlp_ktable *kt; /* the kernels for isa (kernels/ktable.h); never NULL */
    struct mlp_pool *pool;       /* NULL only in a default context made without memory */
    /* The device (mlp_context_params.device): NULL for the CPU, else its
     * backend's table (device/device.h), the device's number, the matrix
     * products' precision and the device as the backend describes it. */
    const struct mlp_dev_ops *dev;
    int dev_index;
    int dev_math;
    char dev_desc[256];
};

/* Put c on device `index` of the backend `ops` (the CUDA plugin's, or a
 * test's own table): what mlp_context_create does for a GPU once it has
 * loaded the plugin, the device counted and described. */
enum mlp_status mlp__context_set_device(struct mlp_context *c, const struct mlp_dev_ops *ops, const char *kind,
                                        uint32_t index, int math, struct mlp_error *err);

/* c, or the default context when c is NULL. */
const struct mlp_context *mlp__ctx(const struct mlp_context *c);

/* A model's context's pool, thread count, pass stage and kernel table. */
static inline struct mlp_pool *mlp__model_pool(const struct mlp_model *m) { return mlp__ctx(m->ctx)->pool; }
static inline int mlp__model_threads(const struct mlp_model *m) { return mlp__ctx(m->ctx)->threads; }
static inline enum mlp_kernels mlp__model_kernels(const struct mlp_model *m) { return mlp__ctx(m->ctx)->kernels; }
static inline const struct mlp_ktable *mlp__model_kt(const struct mlp_model *m) { return mlp__ctx(m->ctx)->kt; }
/* A model's device backend, or NULL (the CPU). */
static inline const struct mlp_dev_ops *mlp__model_dev(const struct mlp_model *m) { return mlp__ctx(m->ctx)->dev; }

#endif
