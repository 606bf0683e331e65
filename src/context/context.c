/* SPDX-License-Identifier: MIT */
/* mlp_context: where and how the work runs (threads, the pass stage, the
 * kernels' instruction set), carried by models instead of process-wide
 * knobs.  Each context owns its thread pool and points at the kernel
 * table of its instruction set (kernels/ktable.h).  A NULL context means the
 * default one, made on first use with every field at its default and never
 * changed after. */
#include "context/context.h"
#include "core/pool.h"
#include "device/load.h"
#include "kernels/ktable.h"

#include <pthread.h>
#include <stdio.h>
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
    if ((unsigned)p->device > MLP_DEVICE_CUDA)
        return mlp__fail(err, MLP_ERR_ARG, "device %d: not a device", (int)p->device);
    if ((unsigned)p->device_math > MLP_DEVICE_MATH_BF16)
        return mlp__fail(err, MLP_ERR_ARG, "device_math %d: not a precision", (int)p->device_math);
    if (p->device == MLP_DEVICE_CPU && p->device_math != MLP_DEVICE_MATH_EXACT)
        return mlp__fail(err, MLP_ERR_ARG, "device math %s: only on a GPU (the CPU computes exactly)",
                         mlp_device_math_name(p->device_math));
    return MLP_OK; /* the isa: mlp__ktable's to judge */
}

enum mlp_status mlp__context_set_device(struct mlp_context *c, const struct mlp_dev_ops *ops, const char *kind,
                                        uint32_t index, int math, struct mlp_error *err)
{
    char msg[MLP_DEV_MSG] = "";
    int n = ops->count(msg);
    if (n < 0) return mlp__fail(err, MLP_ERR_UNSUPPORTED, "%s:%u: no %s device: %s", kind, index, kind, msg);
    if (n == 0) return mlp__fail(err, MLP_ERR_UNSUPPORTED, "%s:%u: no %s device on this machine", kind, index, kind);
    if (index >= (uint32_t)n)
        return mlp__fail(err, MLP_ERR_ARG, "%s:%u: this machine has %d %s device%s (0..%d)", kind, index, n, kind,
                         n == 1 ? "" : "s", n - 1);
    char desc[200] = "";
    if (ops->describe((int)index, desc, sizeof desc, msg) != 0)
        return mlp__fail(err, MLP_ERR_UNSUPPORTED, "%s:%u: %s", kind, index, msg);
    c->dev = ops;
    c->dev_index = (int)index;
    c->dev_math = math;
    snprintf(c->dev_desc, sizeof c->dev_desc, "%s:%u (%s)", kind, index, desc);
    return MLP_OK;
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
    if (p->device == MLP_DEVICE_CUDA) {
        const struct mlp_dev_ops *ops = mlp__dev_load_cuda(NULL, err);
        if (!ops) return MLP_ERR_UNSUPPORTED;
        if ((st = mlp__context_set_device(c, ops, "cuda", p->device_index, (int)p->device_math, err)) != MLP_OK)
            return st;
    }
    /* the CPU's pool serves a GPU's context too: evaluation of other data
     * sets and the host's share of the work run on it */
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

const char *mlp_context_device(const struct mlp_context *c)
{
    const struct mlp_context *x = mlp__ctx(c);
    return x->dev ? x->dev_desc : "cpu";
}

enum mlp_device mlp_context_device_kind(const struct mlp_context *c)
{
    return mlp__ctx(c)->dev ? MLP_DEVICE_CUDA : MLP_DEVICE_CPU;
}

int mlp_device_parse(const char *s, enum mlp_device *dev, uint32_t *index)
{
    MLP_ASSERT(s && dev && index);
    if (strcasecmp(s, "cpu") == 0) {
        *dev = MLP_DEVICE_CPU;
        *index = 0;
        return 0;
    }
    if (strncasecmp(s, "cuda", 4) != 0) return -1;
    s += 4;
    uint32_t n = 0;
    if (*s == ':') {
        if (!s[1]) return -1;
        for (s++; *s; s++) {
            if (*s < '0' || *s > '9') return -1;
            n = n * 10 + (uint32_t)(*s - '0');
            if (n > 65535) return -1;
        }
    } else if (*s) {
        return -1;
    }
    *dev = MLP_DEVICE_CUDA;
    *index = n;
    return 0;
}

static char cuda_info[1024];
static pthread_once_t cuda_info_once = PTHREAD_ONCE_INIT;

static void cuda_info_init(void)
{
    struct mlp_error err = {0};
    const char *path = NULL;
    const struct mlp_dev_ops *ops = mlp__dev_load_cuda(&path, &err);
    if (!ops) {
        snprintf(cuda_info, sizeof cuda_info, "not available: %s", err.msg);
        return;
    }
    char msg[MLP_DEV_MSG] = "";
    int n = ops->count(msg);
    if (n <= 0) {
        snprintf(cuda_info, sizeof cuda_info, "%s loads; no CUDA device: %s", path,
                 n < 0 ? msg : "the driver reports none");
        return;
    }
    size_t at = (size_t)snprintf(cuda_info, sizeof cuda_info, "%s: %d device%s", path, n, n == 1 ? "" : "s");
    for (int i = 0; i < n && at < sizeof cuda_info; i++) {
        char desc[200] = "";
        if (ops->describe(i, desc, sizeof desc, msg) != 0) snprintf(desc, sizeof desc, "? (%.180s)", msg);
        at += (size_t)snprintf(cuda_info + at, sizeof cuda_info - at, "%s cuda:%d %s", i ? ";" : ":", i, desc);
    }
}

const char *mlp_cuda_info(void)
{
    pthread_once(&cuda_info_once, cuda_info_init);
    return cuda_info;
}

static const char *const math_names[] = {"exact", "tf32", "bf16"};

const char *mlp_device_math_name(enum mlp_device_math m)
{
    return (unsigned)m <= MLP_DEVICE_MATH_BF16 ? math_names[m] : "?";
}

int mlp_device_math_parse(const char *s)
{
    for (int i = 0; i <= MLP_DEVICE_MATH_BF16; i++)
        if (strcasecmp(s, math_names[i]) == 0) return i;
    return -1;
}

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
