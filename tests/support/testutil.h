/* SPDX-License-Identifier: MIT */
/* Helpers shared by the tests that build models (after check.h). */
#ifndef FASTMLP_TESTUTIL_H
#define FASTMLP_TESTUTIL_H

#include "check.h"
#include "fastmlp.h"

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
    struct mlp_model *m = NULL;
    CHECK_STATUS(mlp_model_create(&m, &p, NULL), MLP_OK);
    return m;
}

#endif
