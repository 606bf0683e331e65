/* SPDX-License-Identifier: MIT */
/* L-BFGS (Nocedal & Wright, Algorithm 7.4/7.5): the two-loop recursion over
 * the last m pairs s = x+ - x, y = g+ - g, the initial matrix gamma I with
 * gamma = s.y / y.y, and the strong-Wolfe line search (c2 = 0.9). */
#include "train/optim/minimize.h"

#include "internal.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* d = -H g by the two-loop recursion; pairs k = 0..cnt-1 stored in the ring
 * from `head` (the oldest) onwards. */
static void two_loop(size_t n, uint32_t m, uint32_t head, uint32_t cnt, const double *S,
                     const double *Y, const double *rho, double *alpha, const double *g, double *d)
{
    for (size_t i = 0; i < n; i++) d[i] = -g[i];
    if (cnt == 0) return;
    for (uint32_t k = cnt; k-- > 0;) { /* newest to oldest */
        uint32_t j = (head + k) % m;
        const double *s = S + (size_t)j * n, *y = Y + (size_t)j * n;
        double a = rho[j] * mlp__min_dot(n, s, d);
        alpha[j] = a;
        for (size_t i = 0; i < n; i++) d[i] -= a * y[i];
    }
    uint32_t newest = (head + cnt - 1) % m;
    const double *yn = Y + (size_t)newest * n;
    /* gamma = s.y / y.y = 1 / (rho y.y) */
    double gamma = 1.0 / (rho[newest] * mlp__min_dot(n, yn, yn));
    for (size_t i = 0; i < n; i++) d[i] *= gamma;
    for (uint32_t k = 0; k < cnt; k++) { /* oldest to newest */
        uint32_t j = (head + k) % m;
        const double *s = S + (size_t)j * n, *y = Y + (size_t)j * n;
        double b = rho[j] * mlp__min_dot(n, y, d);
        double c = alpha[j] - b;
        for (size_t i = 0; i < n; i++) d[i] += c * s[i];
    }
}

/* Workspace: g, d, xt, gt (4 n), S and Y (m n each), rho and alpha (m each):
 * one allocation. */
enum mlp_min_result mlp__minimize_lbfgs(mlp_objective_fn fn, void *ctx, size_t n, double *x,
                                        const struct mlp_min_params *p, mlp_min_callback cb, void *user,
                                        struct mlp_min_iter *final)
{
    struct mlp_min_iter it = {0, NAN, NAN, 0};
    enum mlp_min_result res;
    const uint32_t m = p->history;
    uint64_t cols = 4 + 2 * (uint64_t)m, elems, bytes;
    double *w = NULL;
    if (mlp__mul_ok((uint64_t)n, cols, UINT64_MAX, &elems) && elems + 2 * (uint64_t)m >= elems &&
        mlp__mul_ok(elems + 2 * (uint64_t)m, sizeof(double), SIZE_MAX, &bytes))
        w = malloc((size_t)bytes);
    if (!w) {
        res = MLP_MIN_NOMEM;
        goto out;
    }
    double *g = w, *d = w + n, *xt = w + 2 * n, *gt = w + 3 * n;
    double *S = w + 4 * n, *Y = S + (size_t)m * n;
    double *rho = Y + (size_t)m * n, *alpha = rho + m;
    uint32_t head = 0, cnt = 0;

    double f;
    it.n_evals = 1;
    if (!mlp__min_eval(fn, ctx, n, x, g, &f)) {
        it.f = f;
        res = MLP_MIN_BAD_VALUE;
        goto out;
    }
    it.f = f;
    it.gnorm = mlp__min_amax(n, g);

    for (;;) {
        if (it.gnorm <= p->gtol) {
            res = MLP_MIN_CONVERGED;
            break;
        }
        if (it.iter >= p->max_iter) {
            res = MLP_MIN_MAX_ITER;
            break;
        }
        two_loop(n, m, head, cnt, S, Y, rho, alpha, g, d);
        double gd = mlp__min_dot(n, g, d);
        if (!(gd < 0)) { /* H lost positive definiteness to rounding: forget it */
            cnt = 0;
            two_loop(n, m, head, cnt, S, Y, rho, alpha, g, d);
            gd = mlp__min_dot(n, g, d);
        }
        /* The first step (no curvature yet) moves a unit length along -g. */
        double a0 = cnt == 0 ? fmin(1.0, 1.0 / sqrt(-gd)) : 1.0;
        struct mlp_ls ls = {fn, ctx, n, x, d, f, gd, p->c1, p->c2, p->max_ls, xt, gt, 0, 0, 0, 0};
        enum mlp_ls_result lr = mlp__line_search(&ls, a0);
        it.n_evals += ls.n_evals;
        if (lr == MLP_LS_FAILED && cnt > 0) {
            /* retry once along -g with the memory dropped */
            cnt = 0;
            two_loop(n, m, head, cnt, S, Y, rho, alpha, g, d);
            gd = mlp__min_dot(n, g, d);
            ls.dphi0 = gd;
            lr = mlp__line_search(&ls, fmin(1.0, 1.0 / sqrt(-gd)));
            it.n_evals += ls.n_evals;
        }
        if (lr != MLP_LS_OK) {
            res = lr == MLP_LS_BAD_VALUE ? MLP_MIN_BAD_VALUE : MLP_MIN_LS_FAILED;
            break;
        }
        /* Skip a pair without positive curvature (cannot happen with an exact
         * Wolfe step, can with rounding): H stays positive definite.  s.y and
         * y.y first, so that a skipped pair overwrites nothing. */
        double sy = 0, yy = 0;
        for (size_t i = 0; i < n; i++) {
            double si = xt[i] - x[i], yi = gt[i] - g[i];
            sy += si * yi;
            yy += yi * yi;
        }
        if (sy > DBL_EPSILON * yy && yy > 0) {
            /* into the oldest slot when the ring is full */
            uint32_t j = cnt < m ? (head + cnt) % m : head;
            double *s = S + (size_t)j * n, *y = Y + (size_t)j * n;
            for (size_t i = 0; i < n; i++) {
                s[i] = xt[i] - x[i];
                y[i] = gt[i] - g[i];
            }
            rho[j] = 1.0 / sy;
            if (cnt < m)
                cnt++;
            else
                head = (head + 1) % m;
        }
        memcpy(x, xt, n * sizeof *x);
        double *tmp = g;
        g = gt, gt = tmp;
        f = ls.f;
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
