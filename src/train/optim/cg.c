/* SPDX-License-Identifier: MIT */
/* Nonlinear conjugate gradient, Polak-Ribiere+ with restarts, over the
 * strong-Wolfe line search: the algorithm of SciPy's fmin_cg (its initial
 * step, its c2 = 0.4, its max|g| stopping test). */
#include "train/optim/minimize.h"

#include "internal.h"

#include <math.h>
#include <string.h>

/* Workspace: g (gradient at x), d (direction), xt, gt (the line search's
 * trial point and gradient): 4 n doubles, one allocation. */
enum mlp_min_result mlp__minimize_cg(mlp_objective_fn fn, void *ctx, size_t n, double *x,
                                     const struct mlp_min_params *p, mlp_min_callback cb, void *user,
                                     struct mlp_min_iter *final)
{
    struct mlp_min_iter it = {0, NAN, NAN, 0};
    enum mlp_min_result res;
    uint64_t bytes;
    double *w = NULL;
    if (mlp__mul_ok((uint64_t)n, 4 * sizeof(double), SIZE_MAX, &bytes)) w = malloc((size_t)bytes);
    if (!w) {
        res = MLP_MIN_NOMEM;
        goto out;
    }
    double *g = w, *d = w + n, *xt = w + 2 * n, *gt = w + 3 * n;

    double f;
    it.n_evals = 1;
    if (!mlp__min_eval(fn, ctx, n, x, g, &f)) {
        it.f = f;
        res = MLP_MIN_BAD_VALUE;
        goto out;
    }
    it.f = f;
    it.gnorm = mlp__min_amax(n, g);
    double gg = mlp__min_dot(n, g, g);
    for (size_t i = 0; i < n; i++) d[i] = -g[i];
    /* SciPy's fiction of a previous value, which makes the first step
     * 1.01 / ||g||_2 along -g: a move of about unit length. */
    double f_old = f + sqrt(gg) / 2;

    for (;;) {
        if (it.gnorm <= p->gtol) {
            res = MLP_MIN_CONVERGED;
            break;
        }
        if (it.iter >= p->max_iter) {
            res = MLP_MIN_MAX_ITER;
            break;
        }
        double gd = mlp__min_dot(n, g, d);
        int steepest = 0;
        /* Restart along -g when d is not a descent direction, or barely one:
         * g.d <= -0.01 g.g is SciPy's sufficient-descent test (sigma_3). */
        if (!(gd <= -0.01 * gg)) {
            for (size_t i = 0; i < n; i++) d[i] = -g[i];
            gd = -gg;
            steepest = 1;
        }
        struct mlp_ls ls = {fn, ctx, n, x, d, f, gd, p->c1, p->c2, p->max_ls, xt, gt, 0, 0, 0, 0};
        double a0 = 1.01 * 2 * (f - f_old) / gd;
        if (!(a0 > 0) || a0 > 1) a0 = 1; /* min(1, ...), and 1 when f went up */
        enum mlp_ls_result lr = mlp__line_search(&ls, a0);
        it.n_evals += ls.n_evals;
        if (lr == MLP_LS_FAILED && !steepest) {
            /* the conjugate direction failed: try once more along -g */
            for (size_t i = 0; i < n; i++) d[i] = -g[i];
            gd = -gg;
            ls.dphi0 = gd;
            lr = mlp__line_search(&ls, a0);
            it.n_evals += ls.n_evals;
        }
        if (lr != MLP_LS_OK) {
            res = lr == MLP_LS_BAD_VALUE ? MLP_MIN_BAD_VALUE : MLP_MIN_LS_FAILED;
            break;
        }
        /* PR+:  beta = max(0, g+ . (g+ - g) / g . g);   d = -g+ + beta d */
        double gtgt = mlp__min_dot(n, gt, gt), gtg = mlp__min_dot(n, gt, g);
        double beta = (gtgt - gtg) / gg;
        if (!(beta > 0)) beta = 0;
        for (size_t i = 0; i < n; i++) d[i] = -gt[i] + beta * d[i];
        memcpy(x, xt, n * sizeof *x);
        double *tmp = g;
        g = gt, gt = tmp;
        f_old = f;
        f = ls.f;
        gg = gtgt;
        it.iter++;
        it.f = f;
        it.gnorm = mlp__min_amax(n, g);
        if (cb && cb(&it, x, user)) {
            res = MLP_MIN_STOPPED;
            break;
        }
    }
out:
    free(w);
    if (final) *final = it;
    return res;
}
