/* SPDX-License-Identifier: MIT */
/* The minimiser's front door: its defaults, its result names, and
 * mlp__minimize, which checks the parameters and dispatches to CG or L-BFGS.
 * It sits beside the trainer, above the solvers and their shared line search
 * (train/optim/), so that no arrow runs back up from a solver. */
#include "train/optim/minimize.h"

#include "internal.h"

const char *mlp__min_result_str(enum mlp_min_result r)
{
    switch (r) {
    case MLP_MIN_CONVERGED: return "converged (gradient norm <= gtol)";
    case MLP_MIN_MAX_ITER: return "maximum number of iterations reached";
    case MLP_MIN_LS_FAILED: return "line search failed (no strong-Wolfe step; precision loss?)";
    case MLP_MIN_STOPPED: return "stopped by the callback";
    case MLP_MIN_BAD_VALUE: return "the objective returned a non-finite value";
    case MLP_MIN_NOMEM: return "out of memory";
    }
    return "unknown result";
}

struct mlp_min_params mlp__min_params_default(int method)
{
    struct mlp_min_params p;
    p.method = method;
    p.max_iter = 1000;
    p.gtol = 1e-5;
    p.history = 10;
    p.c1 = 1e-4;
    p.c2 = method == MLP_MIN_LBFGS ? 0.9 : 0.4;
    p.max_ls = 40;
    return p;
}

enum mlp_min_result mlp__minimize(mlp_objective_fn fn, void *ctx, size_t n, double *x,
                                  const struct mlp_min_params *p, mlp_min_callback cb, void *user,
                                  struct mlp_min_iter *final)
{
    MLP_ASSERT(fn != NULL && x != NULL && p != NULL && n > 0);
    MLP_ASSERT(p->c1 > 0 && p->c1 < p->c2 && p->c2 < 1);
    MLP_ASSERT(p->max_ls >= 1 && p->gtol >= 0);
    if (p->method == MLP_MIN_LBFGS) {
        MLP_ASSERT(p->history >= 1);
        return mlp__minimize_lbfgs(fn, ctx, n, x, p, cb, user, final);
    }
    MLP_ASSERT(p->method == MLP_MIN_CG);
    return mlp__minimize_cg(fn, ctx, n, x, p, cb, user, final);
}
