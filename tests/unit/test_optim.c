/* SPDX-License-Identifier: MIT */
/* Adam fed the threads' gradient parts (a fast pass with keep_parts) gives
 * bit-for-bit the parameters of the plain path (the pass adds the parts up,
 * then Adam reads the sum), on 2 and 3 threads, f32 and f64; and a pass that
 * cannot keep parts (an L2 term, one thread) says so with n_parts 0. */
#include "check.h"
#include "testutil.h"
#include "train/optim/optim.h"
#include "core/pool.h"

#include <stdlib.h>
#include <string.h>

static void parts_case(enum mlp_dtype dt, int threads, double l2)
{
    test_use(threads, MLP_KERNELS_FAST);
    const struct mlp_layer_spec hidden[] = {{300, MLP_ACT_RELU}, {33, MLP_ACT_TANH}};
    const uint32_t n_in = 37;
    struct mlp_model *m = test_model(dt, n_in, 2, hidden, 5, MLP_HEAD_SOFTMAX_CE, 1.0 / 255);
    if (!m) return;
    mlp_model_init(m, MLP_INIT_HE, 0, 0, 7);
    const uint64_t rows = 200;
    uint8_t *x = malloc(rows * n_in);
    int32_t *y = malloc(rows * sizeof *y);
    for (size_t i = 0; i < rows * n_in; i++) x[i] = (uint8_t)(i * 7919 % 251);
    for (uint64_t i = 0; i < rows; i++) y[i] = (int32_t)(i * 31 % 5);
    struct mlp_dataset ds = {.n_rows = rows, .n_cols = n_in, .x_type = MLP_ELEM_U8, .x = x, .labels = y,
                             .n_classes = 5};
    size_t n = mlp_model_n_params(m), es = dt == MLP_F32 ? 4 : 8;
    void *p0 = malloc(n * es), *g = malloc(n * es), *s1[2], *s2[2], *pend[2];
    memcpy(p0, m->params, n * es);
    for (int way = 0; way < 2; way++) {
        s1[way] = calloc(n, es);
        s2[way] = calloc(n, es);
        memcpy(m->params, p0, n * es);
        for (uint64_t step = 1; step <= 3; step++) {
            struct mlp_pass ps = {.m = m, .ds = &ds, .n = rows, .l2 = l2, .grad = g, .keep_parts = way == 1};
            CHECK_STATUS(mlp__run_pass(&ps, NULL), MLP_OK);
            bool expect_parts = way == 1 && threads > 1 && l2 == 0;
            CHECK_MSG(expect_parts ? ps.n_parts == (uint32_t)threads : ps.n_parts == 0,
                      "%s threads=%d l2=%g way=%d: n_parts %u", mlp_dtype_name(dt), threads, l2, way, ps.n_parts);
            if (ps.n_parts > 1)
                mlp__adam_step_parts(&(struct mlp_adam_step){dt, n, m->params, s1[way], s2[way], 1e-2, 0.9, 0.999,
                                                             1e-8, step, m->ctx},
                                     ps.parts, ps.n_parts);
            else
                mlp__adam_step(&(struct mlp_adam_step){dt, n, m->params, s1[way], s2[way], 1e-2, 0.9, 0.999, 1e-8,
                                                       step, m->ctx},
                               g);
        }
        pend[way] = malloc(n * es);
        memcpy(pend[way], m->params, n * es);
    }
    CHECK_MSG(memcmp(pend[0], pend[1], n * es) == 0 && memcmp(s2[0], s2[1], n * es) == 0 &&
                  memcmp(pend[0], p0, n * es) != 0,
              "%s threads=%d l2=%g: Adam over the parts differs from Adam over the summed gradient",
              mlp_dtype_name(dt), threads, l2);
    for (int way = 0; way < 2; way++) free(s1[way]), free(s2[way]), free(pend[way]);
    free(p0), free(g), free(x), free(y);
    mlp_model_free(m);
}

int main(void)
{
    for (int d = 0; d < 2; d++)
        for (int threads = 1; threads <= 3; threads++) {
            parts_case(d ? MLP_F64 : MLP_F32, threads, 0);
            parts_case(d ? MLP_F64 : MLP_F32, threads, 0.5);
        }
    return check_report("optim");
}
