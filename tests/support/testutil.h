/* SPDX-License-Identifier: MIT */
/* Helpers shared by the tests that build models (after check.h). */
#ifndef FASTMLP_TESTUTIL_H
#define FASTMLP_TESTUTIL_H

#include "check.h"
#include "fastmlp.h"
#include "kernels/ktable.h" /* MLP_ISA_LAST */

/* The context the tests' models run on.  test_use(threads, stage) picks
 * one (threads 0: all cores), made on first use and kept for the process,
 * one per pair; test_ctx() is the one picked last (the default context
 * until a test picks one).  Tests that loop over thread counts call
 * test_use and bind their models to test_ctx(). */
static struct mlp_context *test_ctx_now;

static inline struct mlp_context *test_use(int threads, enum mlp_kernels stage)
{
    static struct mlp_context *made[MLP_MAX_THREADS + 1][4];
    if (threads < 0 || threads > MLP_MAX_THREADS || (unsigned)stage > MLP_KERNELS_NAIVE) {
        CHECK_MSG(0, "test_use(%d, %d): out of range", threads, (int)stage);
        return test_ctx_now;
    }
    if (!made[threads][stage]) {
        struct mlp_context_params cp = mlp_context_params_default();
        cp.threads = threads;
        cp.kernels = stage;
        CHECK_STATUS(mlp_context_create(&made[threads][stage], &cp, NULL), MLP_OK);
    }
    return test_ctx_now = made[threads][stage];
}

/* test_use on one instruction-set variant of the kernel table (AUTO: the
 * same as test_use), or NULL, with no check failing, where this CPU cannot
 * run it (the caller says it skipped it). */
static inline struct mlp_context *test_use_isa(int threads, enum mlp_kernels stage, enum mlp_isa isa)
{
    static struct mlp_context *made[MLP_MAX_THREADS + 1][4][MLP_ISA_LAST + 1];
    if (isa == MLP_ISA_AUTO) return test_use(threads, stage);
    if (threads < 0 || threads > MLP_MAX_THREADS || (unsigned)stage > MLP_KERNELS_NAIVE ||
        (unsigned)isa > MLP_ISA_LAST) {
        CHECK_MSG(0, "test_use_isa(%d, %d, %d): out of range", threads, (int)stage, (int)isa);
        return NULL;
    }
    if (!made[threads][stage][isa]) {
        struct mlp_context_params cp = mlp_context_params_default();
        cp.threads = threads;
        cp.kernels = stage;
        cp.isa = isa;
        if (mlp_context_create(&made[threads][stage][isa], &cp, NULL) != MLP_OK) return NULL;
    }
    return test_ctx_now = made[threads][stage][isa];
}

static inline struct mlp_context *test_ctx(void) { return test_ctx_now; }

/* A model with all parameters zero, or NULL after a recorded check failure. */
static inline struct mlp_model *test_model(enum mlp_dtype dt, uint32_t n_in, uint32_t n_hidden,
                                           const struct mlp_layer_spec *hidden, uint32_t n_out,
                                           enum mlp_head head, double input_scale)
{
    struct mlp_model_params p = mlp_model_params_default();
    p.dtype = dt;
    p.n_in = n_in;
    p.n_hidden = n_hidden;
    p.hidden = hidden;
    p.n_out = n_out;
    p.head = head;
    p.input_scale = input_scale;
    p.ctx = test_ctx();
    struct mlp_model *m = NULL;
    CHECK_STATUS(mlp_model_create(&m, &p, NULL), MLP_OK);
    return m;
}

#endif
