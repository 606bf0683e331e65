/* SPDX-License-Identifier: MIT */
/* Seed 003's numerical-stability rule: exponent arguments are clipped so
 * that no overflow or underflow trap fires, in either precision.  With the
 * FP traps enabled (a trap would kill this test with SIGFPE), pre-activations
 * far beyond exp's range go through every exponential activation and head:
 * forward with all of overflow, underflow, divide-by-zero and invalid
 * trapped, forward+backward with all but underflow (tiny gradients may be
 * subnormal, which is harmless).  The same exceptions' flags are checked
 * after each pass too: where traps cannot be enabled (feenableexcept fails
 * under qemu-aarch64 and on most ARM cores) the flags are the whole test.
 * The passes use the reference GEMM: the
 * rule is about fastmlp's own arithmetic, and OpenBLAS's packed kernels may
 * compute on padding whose flags are none of our business. */
#define _GNU_SOURCE /* feenableexcept */
#include "testutil.h"
#include "internal.h"

#include <fenv.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static void run(enum mlp_dtype dt, enum mlp_act act, enum mlp_head head, uint32_t K, bool grad)
{
    struct mlp_layer_spec h[1] = {{4, act}};
    struct mlp_model *m = test_model(dt, 3, 1, h, K, head, 1);
    if (!m) return;
    /* weights of +-300 on inputs of +-10: |z| in the thousands */
    size_t n = mlp_model_n_params(m);
    for (size_t i = 0; i < n; i++) {
        double v = (i % 3 == 0 ? 300.0 : i % 3 == 1 ? -300.0 : 150.0);
        if (dt == MLP_F32)
            ((float *)mlp_model_params(m))[i] = (float)v;
        else
            ((double *)mlp_model_params(m))[i] = v;
    }
    static const double x[12] = {10, -10, 5, -10, 10, -5, 0.5, 0.25, -1, 9, 9, 9};
    static const int32_t y[4] = {0, 1, 0, 1};
    struct mlp_dataset ds = {.n_rows = 4, .n_cols = 3, .x_type = MLP_ELEM_F64, .x = x, .labels = y, .n_classes = 2};
    double out[4 * 3], loss;
    void *g = calloc(n, 8);
    feclearexcept(FE_ALL_EXCEPT);
    int traps = FE_OVERFLOW | FE_DIVBYZERO | FE_INVALID | (grad ? 0 : FE_UNDERFLOW);
    feenableexcept(traps);
    /* Forward alone is inference (seed 003): no labels, so no loss, whose
     * squares of tiny errors may legitimately be subnormal. */
    struct mlp_dataset x_only = ds;
    x_only.labels = NULL;
    struct mlp_pass p = {.m = m, .ds = grad ? &ds : &x_only, .n = 4, .backend = MLP_BACKEND_REF,
                         .grad = grad ? g : NULL, .out = out};
    enum mlp_status st = mlp__run_pass(&p, NULL);
    loss = p.loss;
    const int raised = fetestexcept(traps);
    fedisableexcept(traps);
    CHECK_MSG(raised == 0, "%s %s %s K=%u%s: FP exceptions raised (%s%s%s%s)", mlp_dtype_name(dt), mlp_act_name(act),
              mlp_head_name(head), K, grad ? " with gradient" : "", raised & FE_OVERFLOW ? "overflow " : "",
              raised & FE_UNDERFLOW ? "underflow " : "", raised & FE_DIVBYZERO ? "divide-by-zero " : "",
              raised & FE_INVALID ? "invalid" : "");
    CHECK_STATUS(st, MLP_OK);
    CHECK(isfinite(loss));
    free(g);
    mlp_model_free(m);
}

int main(void)
{
    const enum mlp_act acts[] = {MLP_ACT_SIGMOID, MLP_ACT_TANH, MLP_ACT_RELU};
    const struct {
        enum mlp_head head;
        uint32_t K;
    } heads[] = {{MLP_HEAD_SOFTMAX_CE, 3}, {MLP_HEAD_SIGMOID_BCE, 1}, {MLP_HEAD_SIGMOID_BCE, 3},
                 {MLP_HEAD_SIGMOID_MSE, 1}, {MLP_HEAD_TANH_MSE, 2}};
    for (int d = 0; d < 2; d++)
        for (size_t a = 0; a < sizeof acts / sizeof acts[0]; a++)
            for (size_t h = 0; h < sizeof heads / sizeof heads[0]; h++)
                for (int grad = 0; grad < 2; grad++)
                    if (!(heads[h].head == MLP_HEAD_SIGMOID_MSE && heads[h].K != 1))
                        run(d ? MLP_F64 : MLP_F32, acts[a], heads[h].head, heads[h].K, grad);
    return check_report("fpe");
}
