/* SPDX-License-Identifier: MIT */
/* The context's insides (context.c) and what the rooms above it read of a
 * model's: its pool, threads, pass stage and kernel table.  Below the data,
 * the passes, the trainer and the inference engine; above the kernels,
 * whose table it holds, and the pool. */
#ifndef MLP_CONTEXT_H
#define MLP_CONTEXT_H

#include "internal.h"

struct mlp_pool;
struct mlp_ktable;
struct mlp_context {
    int threads; /* >= 1 */
    enum mlp_kernels kernels;
    enum mlp_isa isa;            /* as asked (may be AUTO) */
    const struct mlp_ktable *kt; /* the kernels for isa (kernels/ktable.h); never NULL */
    struct mlp_pool *pool;       /* NULL only in a default context made without memory */
};

/* c, or the default context when c is NULL. */
const struct mlp_context *mlp__ctx(const struct mlp_context *c);

/* A model's context's pool, thread count, pass stage and kernel table. */
static inline struct mlp_pool *mlp__model_pool(const struct mlp_model *m) { return mlp__ctx(m->ctx)->pool; }
static inline int mlp__model_threads(const struct mlp_model *m) { return mlp__ctx(m->ctx)->threads; }
static inline enum mlp_kernels mlp__model_kernels(const struct mlp_model *m) { return mlp__ctx(m->ctx)->kernels; }
static inline const struct mlp_ktable *mlp__model_kt(const struct mlp_model *m) { return mlp__ctx(m->ctx)->kt; }

#endif
