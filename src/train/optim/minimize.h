/* SPDX-License-Identifier: MIT */
/* Full-batch minimisers of a smooth function of a flat double vector (seed
 * 001's solvers): nonlinear conjugate gradient (Polak-Ribiere+, the algorithm
 * behind SciPy's fmin_cg) and L-BFGS, both over one strong-Wolfe line search
 * (Nocedal & Wright, Algorithms 3.5 and 3.6).  They know nothing of models:
 * the caller supplies f and its gradient. */
#ifndef MLP_MINIMIZE_H
#define MLP_MINIMIZE_H

#include <stddef.h>
#include <stdint.h>

/* Returns f(x) and writes its gradient into g (n doubles).  A NAN or an
 * infinite f (or gradient) means the evaluation failed. */
typedef double (*mlp_objective_fn)(const double *x, double *g, void *ctx);

enum mlp_min_method { MLP_MIN_CG = 0, MLP_MIN_LBFGS = 1 };

struct mlp_min_params {
    int method;        /* enum mlp_min_method */
    uint32_t max_iter; /* accepted steps at most (0: none, x is only checked) */
    double gtol;       /* converged when max_i |g_i| <= gtol (SciPy: 1e-5, norm=Inf) */
    uint32_t history;  /* L-BFGS pairs kept (m), >= 1 */
    double c1, c2;     /* strong Wolfe constants, 0 < c1 < c2 < 1 */
    uint32_t max_ls;   /* function evaluations per line search, >= 1 */
};

/* The defaults for a method: max_iter 1000, gtol 1e-5, history 10, c1 1e-4,
 * c2 0.4 for CG (as fmin_cg) and 0.9 for L-BFGS, max_ls 40. */
struct mlp_min_params mlp__min_params_default(int method);

/* One accepted step: iter counts from 1; gnorm = max_i |g_i|; n_evals counts
 * every call of the objective so far, the first one included. */
struct mlp_min_iter {
    uint32_t iter;
    double f, gnorm;
    uint64_t n_evals;
};

/* Called after each accepted step with the new x (read only); non-zero stops. */
typedef int (*mlp_min_callback)(const struct mlp_min_iter *it, const double *x, void *user);

enum mlp_min_result {
    MLP_MIN_CONVERGED, /* gnorm <= gtol */
    MLP_MIN_MAX_ITER,  /* max_iter steps taken */
    MLP_MIN_LS_FAILED, /* no strong-Wolfe step along -g either (precision lost) */
    MLP_MIN_STOPPED,   /* the callback asked */
    MLP_MIN_BAD_VALUE, /* the objective returned a non-finite value */
    MLP_MIN_NOMEM
};
const char *mlp__min_result_str(enum mlp_min_result r);

/* Minimise fn from x (n doubles, updated in place to the last accepted
 * iterate: x is never left at a rejected or failed trial point).  cb and
 * final may be NULL; final receives the last accepted iterate's figures
 * (iter 0 and the starting point when no step was taken).  One workspace
 * allocation, freed before returning.  Deterministic. */
enum mlp_min_result mlp__minimize(mlp_objective_fn fn, void *ctx, size_t n, double *x,
                                  const struct mlp_min_params *p, mlp_min_callback cb, void *user,
                                  struct mlp_min_iter *final);

/* ------------------------------------------------------------ internals */

/* The strong Wolfe line search along d from x, where phi(a) = f(x + a d):
 *   phi(a) <= phi(0) + c1 a phi'(0)     and     |phi'(a)| <= c2 |phi'(0)|
 * Needs phi'(0) = dphi0 < 0.  xt and gt (n doubles each) receive the accepted
 * point and its gradient, which is always the last one evaluated. */
struct mlp_ls {
    mlp_objective_fn fn;
    void *ctx;
    size_t n;
    const double *x, *d;
    double f0, dphi0;
    double c1, c2;
    uint32_t max_evals;
    double *xt, *gt;
    /* out */
    double alpha, f, dphi;
    uint32_t n_evals;
};
enum mlp_ls_result { MLP_LS_OK = 0, MLP_LS_FAILED, MLP_LS_BAD_VALUE };
enum mlp_ls_result mlp__line_search(struct mlp_ls *ls, double alpha0);

/* The two solvers behind mlp__minimize (same contract; p already checked). */
enum mlp_min_result mlp__minimize_cg(mlp_objective_fn fn, void *ctx, size_t n, double *x,
                                     const struct mlp_min_params *p, mlp_min_callback cb, void *user,
                                     struct mlp_min_iter *final);
enum mlp_min_result mlp__minimize_lbfgs(mlp_objective_fn fn, void *ctx, size_t n, double *x,
                                        const struct mlp_min_params *p, mlp_min_callback cb, void *user,
                                        struct mlp_min_iter *final);

/* Shared by both: max_i |v_i|, the dot product, and one checked evaluation
 * (false when f or g is not finite). */
double mlp__min_amax(size_t n, const double *v);
double mlp__min_dot(size_t n, const double *a, const double *b);
int mlp__min_eval(mlp_objective_fn fn, void *ctx, size_t n, const double *x, double *g, double *f);

#endif /* MLP_MINIMIZE_H */
