/* SPDX-License-Identifier: MIT */
/* First-order update rules over the flat parameter vector: each is one loop
 * over n numbers, whatever the network (kann's habit). */
#ifndef MLP_OPTIM_H
#define MLP_OPTIM_H

#include "internal.h"

/* SGD with (Nesterov) momentum, PyTorch's convention:
 *   v = mu v + g;   p -= lr (nesterov ? g + mu v : v)
 * mu = 0 gives plain gradient descent p -= lr g (v is then unused, may be NULL). */
void mlp__sgd_step(enum mlp_dtype dt, size_t n, void *p, const void *g, void *v,
                   double lr, double mu, int nesterov);
/* Its element-type instances (sgd.inc in sgd_f32.c / sgd_f64.c). */
void mlp__sgd_f32(size_t n, float *p, const float *g, float *v, float lr, float mu, int nesterov);
void mlp__sgd_f64(size_t n, double *p, const double *g, double *v, double lr, double mu, int nesterov);

/* Adam (Kingma & Ba), bias-corrected; t is the 1-based step count:
 *   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
 *   p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps) */
struct mlp_adam_step {
    enum mlp_dtype dt;
    size_t n;
    void *p, *m, *v; /* parameters, first and second moments (n each) */
    double lr, b1, b2, eps;
    uint64_t t;
    const struct mlp_context *cx; /* whose pool runs it (NULL: the default) */
};
void mlp__adam_step(const struct mlp_adam_step *s, const void *g);

/* The same on ranges [lo, hi) of the vectors, on the calling thread (for a
 * step that updates its parameters piece by piece, mlp__run_step): init
 * computes the step's coefficients once, range updates elements lo..hi-1
 * exactly as mlp__adam_step would. */
struct mlp_ktable;
struct mlp_adam {
    const struct mlp_ktable *kt; /* the step's context's (mlp_adam_step.cx) */
    enum mlp_dtype dt;
    void *p, *m, *v;
    const void *g;
    double lr_t, b1, b2, eps_t;
};
void mlp__adam_init(struct mlp_adam *a, const struct mlp_adam_step *s, const void *g);
void mlp__adam_range(const struct mlp_adam *a, size_t lo, size_t hi);

/* The same with the gradient in parts, as a fast pass leaves it with
 * keep_parts (struct mlp_pass): gradient = ((parts[0] + parts[1]) + ...),
 * the same numbers as the pass's own reduction.  Runs on the pool the pass
 * left held, and releases it. */
void mlp__adam_step_parts(const struct mlp_adam_step *s, void *const *parts, uint32_t n_parts);

#endif
