/* SPDX-License-Identifier: MIT */
/* mlp_context: where and how the work runs (threads, the pass stage, the
 * kernels' instruction set), carried by models instead of process-wide
 * knobs.  Each context owns its thread pool and points at the kernel
 * table of its instruction set (kernels/ktable.h).  A NULL context means the
 * default one, made on first use with every field at its default and never
 * changed after. */
#include "context/context.h"
#include "core/pool.h"
#include "kernels/ktable.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct mlp_context_params mlp_context_params_default(void)
{
    struct mlp_context_params p;
    memset(&p, 0, sizeof p);
    p.size = sizeof p;
    p.threads = 0;
    p.kernels = MLP_KERNELS_FAST;
    p.isa = MLP_ISA_AUTO;
    return p;
}

static enum mlp_status check_params(const struct mlp_context_params *p, struct mlp_error *err)
{
    if (p->size < offsetof(struct mlp_context_params, reserved) || p->size > sizeof *p)
        return mlp__fail(err, MLP_ERR_ARG, "mlp_context_params.size %u: not made by mlp_context_params_default",
                         (unsigned)p->size);
    if (p->threads > MLP_MAX_THREADS)
        return mlp__fail(err, MLP_ERR_ARG, "threads %d: at most %d", p->threads, MLP_MAX_THREADS);
    if ((unsigned)p->kernels > MLP_KERNELS_NAIVE)
        return mlp__fail(err, MLP_ERR_ARG, "kernels %d: not a stage", (int)p->kernels);
    return MLP_OK; /* the isa: mlp__ktable's to judge */
}

static enum mlp_status context_init(struct mlp_context *c, const struct mlp_context_params *p,
                                    struct mlp_error *err)
{
    enum mlp_status st = check_params(p, err);
    if (st != MLP_OK) return st;
    c->threads = p->threads <= 0 ? mlp__online_cores() : p->threads;
    c->kernels = p->kernels;
    c->isa = p->isa;
    c->kt = mlp__ktable(p->isa, err);
    if (!c->kt) return MLP_ERR_ARG;
    c->pool = mlp__pool_create(c->threads);
    if (!c->pool) return mlp__fail(err, MLP_ERR_NOMEM, "out of memory for a thread pool");
    return MLP_OK;
}

enum mlp_status mlp_context_create(struct mlp_context **out, const struct mlp_context_params *p,
                                   struct mlp_error *err)
{
    MLP_ASSERT(out && p);
    *out = NULL;
    struct mlp_context *c = calloc(1, sizeof *c);
    if (!c) return mlp__fail(err, MLP_ERR_NOMEM, "out of memory for a context");
    enum mlp_status st = context_init(c, p, err);
    if (st != MLP_OK) {
        free(c);
        return st;
    }
    *out = c;
    return MLP_OK;
}

void mlp_context_free(struct mlp_context *c)
{
    if (!c) return;
    mlp__pool_free(c->pool);
    free(c);
}

/* The default context lives as long as the process; its pool's workers
 * start on first use like any other's. */
static struct mlp_context default_ctx;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static void default_init(void)
{
    struct mlp_context_params p = mlp_context_params_default();
    if (context_init(&default_ctx, &p, NULL) != MLP_OK) {
        /* No memory for a pool at start-up: run on the calling thread. */
        default_ctx.threads = 1;
        default_ctx.kt = mlp__ktable(MLP_ISA_AUTO, NULL); /* never fails */
        default_ctx.pool = NULL;
    }
}

const struct mlp_context *mlp__ctx(const struct mlp_context *c)
{
    if (c) return c;
    pthread_once(&default_once, default_init);
    return &default_ctx;
}

int mlp_context_threads(const struct mlp_context *c) { return mlp__ctx(c)->threads; }
enum mlp_kernels mlp_context_kernels(const struct mlp_context *c) { return mlp__ctx(c)->kernels; }
enum mlp_isa mlp_context_isa(const struct mlp_context *c) { return mlp__ctx(c)->isa; }

const char *mlp_context_kernel(const struct mlp_context *c, unsigned slot, const char **variant)
{
    const struct mlp_ktable *kt = mlp__ctx(c)->kt;
    if (slot >= MLP_KS_COUNT) return NULL;
    if (variant) *variant = kt->variant[slot];
    return mlp__kslot_names[slot];
}

enum mlp_isa mlp_context_isa_used(const struct mlp_context *c) { return mlp__ctx(c)->kt->isa; }

static const char *const kernel_names[] = {"fast", "batched", "per-sample", "naive"};

const char *mlp_kernels_name(enum mlp_kernels k)
{
    return (unsigned)k <= MLP_KERNELS_NAIVE ? kernel_names[k] : "?";
}

int mlp_kernels_parse(const char *s)
{
    for (int i = 0; i <= MLP_KERNELS_NAIVE; i++)
        if (strcasecmp(s, kernel_names[i]) == 0) return i;
    if (strcasecmp(s, "persample") == 0) return MLP_KERNELS_PERSAMPLE;
    return -1;
}
