/* SPDX-License-Identifier: MIT */
/* The strong-Wolfe line search shared by CG and L-BFGS (Nocedal & Wright,
 * Algorithm 3.5 bracketing + Algorithm 3.6 zoom, cubic interpolation with
 * safeguards), and the helpers both solvers share. */
#include "train/optim/minimize.h"

#include "internal.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------ helpers */

double mlp__min_amax(size_t n, const double *v)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double a = fabs(v[i]);
        if (a > m || a != a) m = a; /* a NaN propagates */
    }
    return m;
}

double mlp__min_dot(size_t n, const double *a, const double *b)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

int mlp__min_eval(mlp_objective_fn fn, void *ctx, size_t n, const double *x, double *g, double *f)
{
    *f = fn(x, g, ctx);
    if (!isfinite(*f)) return 0;
    /* sum of g is finite iff every g_i is (0 * inf and inf - inf are NaN) */
    double s = 0;
    for (size_t i = 0; i < n; i++) s += 0.0 * g[i];
    return s == 0;
}

/* ------------------------------------------------------- interpolation */

/* Minimiser of the cubic through (a, fa, da) and (b, fb, db) (N&W eq. 3.59);
 * NAN when the cubic has no minimiser. */
static double cubic_min(double a, double fa, double da, double b, double fb, double db)
{
    double d1 = da + db - 3 * (fa - fb) / (a - b);
    double r = d1 * d1 - da * db;
    if (!(r >= 0)) return NAN;
    double d2 = copysign(sqrt(r), b - a);
    double den = db - da + 2 * d2;
    if (den == 0) return NAN;
    return b - (b - a) * (db + d2 - d1) / den;
}

/* Minimiser of the quadratic with value fa and slope da at a, value fb at b. */
static double quad_min(double a, double fa, double da, double b, double fb)
{
    double h = b - a;
    double den = 2 * (fb - fa - da * h);
    if (!(den > 0)) return NAN;
    return a - da * h * h / den;
}

/* ----------------------------------------------------------- the search */

/* phi(a) and phi'(a) at x + a d, into ls->xt / ls->gt. */
static int phi_eval(struct mlp_ls *ls, double a, double *f, double *df)
{
    const double *x = ls->x, *d = ls->d;
    double *xt = ls->xt;
    for (size_t i = 0; i < ls->n; i++) xt[i] = x[i] + a * d[i];
    ls->n_evals++;
    if (!mlp__min_eval(ls->fn, ls->ctx, ls->n, xt, ls->gt, f)) return 0;
    *df = mlp__min_dot(ls->n, ls->gt, d);
    return isfinite(*df);
}

/* A bracket end: step, phi, phi'. */
struct ls_pt {
    double a, f, d;
};

/* Algorithm 3.6: lo satisfies sufficient decrease and is the best such point
 * so far, phi'(lo) (hi - lo) < 0, and [lo, hi] holds a strong-Wolfe step. */
static enum mlp_ls_result zoom(struct mlp_ls *ls, struct ls_pt lo, struct ls_pt hi)
{
    const double f0 = ls->f0, g0 = ls->dphi0;
    for (;;) {
        if (ls->n_evals >= ls->max_evals) return MLP_LS_FAILED;
        double lo_a = fmin(lo.a, hi.a), hi_a = fmax(lo.a, hi.a), w = hi_a - lo_a;
        /* the interval has shrunk to rounding: no progress possible */
        if (w <= 1e-14 * hi_a) return MLP_LS_FAILED;
        /* keep the trial away from the ends so that the bracket shrinks */
        double safe_lo = lo_a + 0.1 * w, safe_hi = hi_a - 0.1 * w;
        double a = cubic_min(lo.a, lo.f, lo.d, hi.a, hi.f, hi.d);
        if (!(a >= safe_lo && a <= safe_hi)) a = quad_min(lo.a, lo.f, lo.d, hi.a, hi.f);
        if (!(a >= safe_lo && a <= safe_hi)) a = 0.5 * (lo.a + hi.a);
        double f, df;
        if (!phi_eval(ls, a, &f, &df)) return MLP_LS_BAD_VALUE;
        if (f > f0 + ls->c1 * a * g0 || f >= lo.f) {
            hi = (struct ls_pt){a, f, df};
        } else {
            if (fabs(df) <= -ls->c2 * g0) {
                ls->alpha = a, ls->f = f, ls->dphi = df;
                return MLP_LS_OK;
            }
            if (df * (hi.a - lo.a) >= 0) hi = lo;
            lo = (struct ls_pt){a, f, df};
        }
    }
}

enum mlp_ls_result mlp__line_search(struct mlp_ls *ls, double alpha0)
{
    MLP_ASSERT(ls->dphi0 < 0 && alpha0 > 0);
    const double f0 = ls->f0, g0 = ls->dphi0;
    const double amax = 1e100; /* as SciPy's fmin_cg */
    ls->n_evals = 0;
    struct ls_pt prev = {0, f0, g0};
    double a = fmin(alpha0, amax);
    for (uint32_t i = 1;; i++) {
        double f, df;
        if (!phi_eval(ls, a, &f, &df)) return MLP_LS_BAD_VALUE;
        struct ls_pt cur = {a, f, df};
        if (f > f0 + ls->c1 * a * g0 || (i > 1 && f >= prev.f)) return zoom(ls, prev, cur);
        if (fabs(df) <= -ls->c2 * g0) {
            ls->alpha = a, ls->f = f, ls->dphi = df;
            return MLP_LS_OK;
        }
        if (df >= 0) return zoom(ls, cur, prev);
        if (ls->n_evals >= ls->max_evals || a >= amax) return MLP_LS_FAILED;
        /* Still descending: extrapolate, the cubic's minimiser kept within
         * [a + 1.1 (a - prev), a + 4 (a - prev)] (More & Thuente's bounds). */
        double step = a - prev.a;
        double lo = a + 1.1 * step, hi = a + 4 * step;
        double next = cubic_min(prev.a, prev.f, prev.d, a, f, df);
        if (!(next >= lo)) next = hi; /* no minimiser ahead, or too close */
        if (next > hi) next = hi;
        prev = cur;
        a = fmin(next, amax);
    }
}
