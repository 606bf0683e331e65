/* SPDX-License-Identifier: MIT */
/* The full-batch minimisers (CG Polak-Ribiere+ and L-BFGS) on functions with
 * known minima, the strong Wolfe conditions on every accepted step, the
 * failure paths, and seed 001's galaxy network against SciPy's fmin_cg
 * (tests/golden/seed001_cg.txt), with the network's cost written out here in
 * plain C so that the check does not depend on the model code. */
#include "check.h"
#include "datadir.h"
#include "train/optim/minimize.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *method_name(int m) { return m == MLP_MIN_CG ? "CG" : "L-BFGS"; }

/* ------------------------------------------------------------ quadratics */

/* f = 1/2 e'Ae with e = x - x*, A = H diag(lam) H, H = I - 2 v v'/v'v (a
 * reflection, so A is SPD with eigenvalues lam).  Written around x* so that f
 * goes to 0 without cancellation. */
struct quad {
    size_t n;
    double *lam, *v, *xs, *tmp;
    double vv;
};

static void reflect(const struct quad *q, const double *a, double *out)
{
    double s = 0;
    for (size_t i = 0; i < q->n; i++) s += q->v[i] * a[i];
    s *= 2 / q->vv;
    for (size_t i = 0; i < q->n; i++) out[i] = a[i] - s * q->v[i];
}

static double quad_fn(const double *x, double *g, void *ctx)
{
    struct quad *q = ctx;
    for (size_t i = 0; i < q->n; i++) g[i] = x[i] - q->xs[i];
    reflect(q, g, q->tmp); /* H e */
    for (size_t i = 0; i < q->n; i++) q->tmp[i] *= q->lam[i];
    reflect(q, q->tmp, g); /* A e */
    double f = 0;
    for (size_t i = 0; i < q->n; i++) f += (x[i] - q->xs[i]) * g[i];
    return 0.5 * f;
}

static uint64_t lcg_state = 42;
static double urand(void) /* [0, 1) */
{
    lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(lcg_state >> 11) * 0x1.0p-53;
}

static void test_quadratic(size_t n, double cond, int method)
{
    struct quad q = {n, calloc(n, 8), calloc(n, 8), calloc(n, 8), calloc(n, 8), 0};
    double *x = calloc(n, 8);
    if (!q.lam || !q.v || !q.xs || !q.tmp || !x) {
        CHECK(!"out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        q.lam[i] = n == 1 ? 1 : pow(cond, (double)i / (double)(n - 1)); /* 1 .. cond */
        q.v[i] = urand() - 0.5;
        q.xs[i] = 4 * urand() - 2;
        x[i] = 0;
        q.vv += q.v[i] * q.v[i];
    }
    struct mlp_min_params p = mlp__min_params_default(method);
    /* Rounding puts a floor of about lam_max * ulp(x*) on |g| near x*, so
     * gtol cannot go much lower; |x - x*| <= gtol / lam_min = 1e-9. */
    p.gtol = 1e-9;
    p.max_iter = 200000;
    struct mlp_min_iter fin;
    enum mlp_min_result r = mlp__minimize(quad_fn, &q, n, x, &p, NULL, NULL, &fin);
    double err = 0;
    for (size_t i = 0; i < n; i++) err = fmax(err, fabs(x[i] - q.xs[i]));
    CHECK_MSG(r == MLP_MIN_CONVERGED, "%s n=%zu cond=%g: %s", method_name(method), n, cond,
              mlp__min_result_str(r));
    CHECK_MSG(err <= 1e-8, "%s n=%zu cond=%g: max|x - x*| = %g", method_name(method), n, cond, err);
    printf("quadratic n=%zu cond=%g %s: %u iterations, %llu evaluations, max|x-x*| %.2g\n", n, cond,
           method_name(method), fin.iter, (unsigned long long)fin.n_evals, err);
    free(q.lam), free(q.v), free(q.xs), free(q.tmp), free(x);
}

/* ------------------------------------------------------------ Rosenbrock */

static double rosen(const double *x, double *g, void *ctx)
{
    (void)ctx;
    double a = 1 - x[0], b = x[1] - x[0] * x[0];
    g[0] = -2 * a - 400 * x[0] * b;
    g[1] = 200 * b;
    return a * a + 100 * b * b;
}

/* Checks the strong Wolfe conditions on each accepted step s = x+ - x; they
 * are homogeneous in s, so neither alpha nor d is needed:
 *   f+ <= f + c1 g.s     |g+.s| <= c2 |g.s| */
struct wolfe_watch {
    mlp_objective_fn fn;
    void *ctx;
    size_t n;
    double c1, c2;
    double *x, *g, *gn; /* previous iterate and gradient; scratch */
    double f;
    uint32_t steps, bad;
};

static int wolfe_cb(const struct mlp_min_iter *it, const double *x, void *user)
{
    struct wolfe_watch *w = user;
    double fn = w->fn(x, w->gn, w->ctx), gs = 0, gns = 0;
    for (size_t i = 0; i < w->n; i++) {
        double s = x[i] - w->x[i];
        gs += w->g[i] * s;
        gns += w->gn[i] * s;
    }
    int ok = fn == it->f && gs < 0 && fn <= w->f + w->c1 * gs && fabs(gns) <= w->c2 * fabs(gs);
    if (!ok && w->bad++ < 5)
        fprintf(stderr, "step %u: f %.17g -> %.17g (reported %.17g), g.s %g, g+.s %g\n", it->iter, w->f, fn,
                it->f, gs, gns);
    w->steps++;
    memcpy(w->x, x, w->n * sizeof *x);
    memcpy(w->g, w->gn, w->n * sizeof *x);
    w->f = fn;
    return 0;
}

static void test_rosenbrock(int method, uint64_t max_evals)
{
    double x[2] = {-1.2, 1}, xp[2] = {-1.2, 1}, gp[2], gn[2];
    struct mlp_min_params p = mlp__min_params_default(method);
    p.gtol = 1e-9;
    struct wolfe_watch w = {rosen, NULL, 2, p.c1, p.c2, xp, gp, gn, 0, 0, 0};
    w.f = rosen(xp, gp, NULL);
    struct mlp_min_iter fin;
    enum mlp_min_result r = mlp__minimize(rosen, NULL, 2, x, &p, wolfe_cb, &w, &fin);
    CHECK_MSG(r == MLP_MIN_CONVERGED, "%s: %s", method_name(method), mlp__min_result_str(r));
    CHECK_NEAR(x[0], 1, 1e-5);
    CHECK_NEAR(x[1], 1, 1e-5);
    CHECK_MSG(w.bad == 0 && w.steps == fin.iter && fin.iter > 0, "%s: %u of %u steps break strong Wolfe",
              method_name(method), w.bad, w.steps);
    CHECK_MSG(fin.n_evals <= max_evals, "%s: %llu evaluations > %llu", method_name(method),
              (unsigned long long)fin.n_evals, (unsigned long long)max_evals);
    printf("Rosenbrock %s: %u iterations, %llu evaluations, x = (%.12f, %.12f)\n", method_name(method),
           fin.iter, (unsigned long long)fin.n_evals, x[0], x[1]);
}

/* ------------------------------------------------------- the line search */

static void check_ls(mlp_objective_fn fn, void *ctx, size_t n, const double *x, const double *d,
                     double alpha0, double c1, double c2, const char *what)
{
    double g0[100], xt[100], gt[100], gchk[100], xa[100];
    double f0 = fn(x, g0, ctx), dphi0 = 0;
    for (size_t i = 0; i < n; i++) dphi0 += g0[i] * d[i];
    struct mlp_ls ls = {fn, ctx, n, x, d, f0, dphi0, c1, c2, 40, xt, gt, 0, 0, 0, 0};
    enum mlp_ls_result r = mlp__line_search(&ls, alpha0);
    CHECK_MSG(r == MLP_LS_OK, "%s (alpha0 %g): result %d", what, alpha0, (int)r);
    if (r != MLP_LS_OK) return;
    /* recompute independently at x + alpha d */
    for (size_t i = 0; i < n; i++) xa[i] = x[i] + ls.alpha * d[i];
    double fa = fn(xa, gchk, ctx), da = 0;
    for (size_t i = 0; i < n; i++) da += gchk[i] * d[i];
    CHECK_MSG(fa == ls.f && memcmp(xa, xt, n * sizeof *x) == 0 && memcmp(gchk, gt, n * sizeof *x) == 0,
              "%s: xt/gt/f are not the accepted point's", what);
    CHECK_MSG(ls.alpha > 0 && fa <= f0 + c1 * ls.alpha * dphi0, "%s (alpha0 %g): no sufficient decrease", what,
              alpha0);
    CHECK_MSG(fabs(da) <= c2 * fabs(dphi0), "%s (alpha0 %g): curvature |%g| > %g |%g|", what, alpha0, da, c2,
              dphi0);
    CHECK(ls.n_evals >= 1 && ls.n_evals <= 40);
}

static double sine_fn(const double *x, double *g, void *ctx) /* many local minima along a line */
{
    (void)ctx;
    g[0] = cos(x[0]) + 0.02 * x[0];
    return sin(x[0]) + 0.01 * x[0] * x[0];
}

static void test_line_search(void)
{
    const double x[2] = {-1.2, 1};
    double g[2];
    rosen(x, g, NULL);
    double d[2] = {-g[0], -g[1]};
    const double a0s[] = {1e-8, 1e-3, 1.0 / 232, 1, 100, 1e6};
    for (size_t k = 0; k < sizeof a0s / sizeof *a0s; k++) {
        check_ls(rosen, NULL, 2, x, d, a0s[k], 1e-4, 0.4, "Rosenbrock -g, c2 0.4");
        check_ls(rosen, NULL, 2, x, d, a0s[k], 1e-4, 0.9, "Rosenbrock -g, c2 0.9");
        check_ls(rosen, NULL, 2, x, d, a0s[k], 1e-4, 0.01, "Rosenbrock -g, c2 0.01");
    }
    const double xs[1] = {0.3}, ds[1] = {-1};
    for (size_t k = 0; k < sizeof a0s / sizeof *a0s; k++) check_ls(sine_fn, NULL, 1, xs, ds, a0s[k], 1e-4, 0.1, "sine");
}

/* -------------------------------------------------------- failure paths */

static double nan_fn(const double *x, double *g, void *ctx)
{
    (void)ctx;
    g[0] = g[1] = 1;
    return x[0] * 0 + NAN;
}

/* Rosenbrock that fails once a trial leaves |x| < 1.5: the line search runs
 * into it on its first extrapolation from a flat start. */
static double fenced_fn(const double *x, double *g, void *ctx)
{
    if (fabs(x[0]) > 1.5 || fabs(x[1]) > 1.5) {
        g[0] = g[1] = 0;
        return (double)INFINITY;
    }
    return rosen(x, g, ctx);
}

static double inf_grad_fn(const double *x, double *g, void *ctx)
{
    double f = rosen(x, g, ctx);
    if (x[0] > -1.0) g[1] = NAN;
    return f;
}

static double count_fn(const double *x, double *g, void *ctx)
{
    (void)x, (void)g;
    (*(uint32_t *)ctx)++;
    return 0;
}

static int stop_after_3(const struct mlp_min_iter *it, const double *x, void *user)
{
    (void)x;
    (*(uint32_t *)user)++;
    return it->iter >= 3;
}

static void test_failures(int method)
{
    struct mlp_min_params p = mlp__min_params_default(method);
    struct mlp_min_iter fin;
    double x[2] = {-1.2, 1};
    enum mlp_min_result r = mlp__minimize(nan_fn, NULL, 2, x, &p, NULL, NULL, &fin);
    CHECK(r == MLP_MIN_BAD_VALUE && fin.iter == 0 && fin.n_evals == 1);
    CHECK(x[0] == -1.2 && x[1] == 1);

    /* a non-finite value met inside a line search: x stays the last accepted iterate */
    x[0] = -1.2, x[1] = 1;
    r = mlp__minimize(fenced_fn, NULL, 2, x, &p, NULL, NULL, &fin);
    double gx[2];
    CHECK_MSG(r == MLP_MIN_BAD_VALUE, "%s fenced: %s", method_name(method), mlp__min_result_str(r));
    CHECK(isfinite(fenced_fn(x, gx, NULL)) && fin.f == fenced_fn(x, gx, NULL));

    x[0] = -1.2, x[1] = 1;
    r = mlp__minimize(inf_grad_fn, NULL, 2, x, &p, NULL, NULL, &fin);
    CHECK_MSG(r == MLP_MIN_BAD_VALUE, "%s NaN gradient: %s", method_name(method), mlp__min_result_str(r));
    CHECK(x[0] <= -1.0);

    uint32_t calls = 0;
    x[0] = -1.2, x[1] = 1;
    r = mlp__minimize(rosen, NULL, 2, x, &p, stop_after_3, &calls, &fin);
    CHECK(r == MLP_MIN_STOPPED && fin.iter == 3 && calls == 3);
    CHECK(fin.f == rosen(x, gx, NULL));

    x[0] = -1.2, x[1] = 1;
    p.max_iter = 5;
    calls = 0;
    r = mlp__minimize(rosen, NULL, 2, x, &p, stop_after_3, &calls, &fin);
    CHECK(r == MLP_MIN_STOPPED); /* the callback comes first */
    x[0] = -1.2, x[1] = 1;
    r = mlp__minimize(rosen, NULL, 2, x, &p, NULL, NULL, &fin);
    CHECK(r == MLP_MIN_MAX_ITER && fin.iter == 5 && fin.f < 24.2);

    x[0] = -1.2, x[1] = 1;
    p.max_iter = 0;
    r = mlp__minimize(rosen, NULL, 2, x, &p, NULL, NULL, &fin);
    CHECK(r == MLP_MIN_MAX_ITER && fin.iter == 0 && fin.n_evals == 1 && x[0] == -1.2 && fin.f == rosen(x, gx, NULL));

    /* already at the minimum */
    x[0] = 1, x[1] = 1;
    p.max_iter = 10;
    r = mlp__minimize(rosen, NULL, 2, x, &p, NULL, NULL, &fin);
    CHECK(r == MLP_MIN_CONVERGED && fin.iter == 0 && fin.gnorm == 0);

    /* a workspace too large to allocate: NOMEM before any evaluation */
    uint32_t evals = 0;
    r = mlp__minimize(count_fn, &evals, SIZE_MAX / 8, x, &p, NULL, NULL, &fin);
    CHECK(r == MLP_MIN_NOMEM && evals == 0 && fin.iter == 0 && fin.n_evals == 0);

    /* deterministic: two runs give the same bits */
    double a[2] = {-1.2, 1}, b[2] = {-1.2, 1};
    struct mlp_min_iter fa, fb;
    p = mlp__min_params_default(method);
    mlp__minimize(rosen, NULL, 2, a, &p, NULL, NULL, &fa);
    mlp__minimize(rosen, NULL, 2, b, &p, NULL, NULL, &fb);
    CHECK(memcmp(a, b, sizeof a) == 0 && fa.n_evals == fb.n_evals && fa.iter == fb.iter);
}

/* ------------------------------------------------ W2: seed 001 vs SciPy */

enum { G_IN = 1024, G_HID = 8, G_OUT = 3 };
#define G_NPAR ((size_t)G_HID * G_IN + G_HID + G_OUT * G_HID + G_OUT)

struct galaxy {
    size_t m;
    double *X;   /* m x 1024, pixels / 255 */
    int *label;  /* m */
    double *W1T; /* scratch: W1 transposed (1024 x 8) */
    double *gW1T;
};

static double log1pexp(double z) { return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z)); } /* log(1 + e^z) */
static double sigm(double z) { return 1 / (1 + exp(-z)); }

/* The cost of tests/golden/seed001_cg.py in plain C:
 *   J = -(1/m) sum_r sum_k [y log h + (1 - y) log(1 - h)] + 1/(2m) (|W1|^2 + |W2|^2)
 * flat layout W1 (8 x 1024), b1, W2 (3 x 8), b2. */
static double galaxy_fn(const double *t, double *g, void *ctx)
{
    struct galaxy *G = ctx;
    const double *W1 = t, *b1 = t + G_HID * G_IN, *W2 = b1 + G_HID, *b2 = W2 + G_OUT * G_HID;
    double *gW1 = g, *gb1 = g + G_HID * G_IN, *gW2 = gb1 + G_HID, *gb2 = gW2 + G_OUT * G_HID;
    const double m = (double)G->m;
    for (size_t j = 0; j < G_HID; j++)
        for (size_t k = 0; k < G_IN; k++) G->W1T[k * G_HID + j] = W1[j * G_IN + k];
    memset(G->gW1T, 0, sizeof(double) * G_IN * G_HID);
    memset(gb1, 0, sizeof(double) * (G_HID + G_OUT * G_HID + G_OUT));
    double J = 0;
    for (size_t r = 0; r < G->m; r++) {
        const double *xr = G->X + r * G_IN;
        double z[G_HID] = {0}, a[G_HID], d2[G_HID] = {0};
        for (size_t k = 0; k < G_IN; k++)
            for (size_t j = 0; j < G_HID; j++) z[j] += xr[k] * G->W1T[k * G_HID + j];
        for (size_t j = 0; j < G_HID; j++) a[j] = sigm(z[j] + b1[j]);
        for (size_t o = 0; o < G_OUT; o++) {
            double z3 = b2[o];
            for (size_t j = 0; j < G_HID; j++) z3 += W2[o * G_HID + j] * a[j];
            double y = G->label[r] == (int)o;
            /* -[y log h + (1-y) log(1-h)] = y log(1+e^-z) + (1-y) log(1+e^z) */
            J += y * log1pexp(-z3) + (1 - y) * log1pexp(z3);
            double d3 = (sigm(z3) - y) / m; /* dJ/dz3 */
            gb2[o] += d3;
            for (size_t j = 0; j < G_HID; j++) {
                gW2[o * G_HID + j] += d3 * a[j];
                d2[j] += d3 * W2[o * G_HID + j];
            }
        }
        for (size_t j = 0; j < G_HID; j++) {
            d2[j] *= a[j] * (1 - a[j]); /* dJ/dz2 */
            gb1[j] += d2[j];
        }
        for (size_t k = 0; k < G_IN; k++)
            for (size_t j = 0; j < G_HID; j++) G->gW1T[k * G_HID + j] += xr[k] * d2[j];
    }
    J /= m;
    double ss = 0;
    for (size_t j = 0; j < G_HID; j++)
        for (size_t k = 0; k < G_IN; k++) {
            double w = W1[j * G_IN + k];
            ss += w * w;
            gW1[j * G_IN + k] = G->gW1T[k * G_HID + j] + w / m;
        }
    for (size_t i = 0; i < G_OUT * G_HID; i++) {
        ss += W2[i] * W2[i];
        gW2[i] += W2[i] / m;
    }
    return J + ss / (2 * m);
}

static int galaxy_load(struct galaxy *G, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t cap = 1024;
    G->X = malloc(cap * G_IN * sizeof(double));
    G->label = malloc(cap * sizeof(int));
    int ok = G->X && G->label;
    double v;
    while (ok && fscanf(f, "%lf", &v) == 1) {
        if (G->m == cap) {
            ok = 0;
            break;
        }
        G->label[G->m] = (int)v;
        ok = v == 0 || v == 1 || v == 2;
        for (size_t k = 0; ok && k < G_IN; k++) {
            ok = fscanf(f, " ,%lf", &v) == 1;
            G->X[G->m * G_IN + k] = v / 255.0;
        }
        G->m++;
    }
    ok = ok && ferror(f) == 0 && feof(f) && G->m > 0;
    fclose(f);
    return ok;
}

struct golden_run {
    double f;
    int iters, fevals, gevals, warn;
};

struct cg_trace {
    double f50;
    uint32_t it50;
    uint64_t evals50;
};

static int cg_trace_cb(const struct mlp_min_iter *it, const double *x, void *user)
{
    (void)x;
    struct cg_trace *t = user;
    if (it->iter == 50) t->f50 = it->f, t->it50 = it->iter, t->evals50 = it->n_evals;
    return 0;
}

static void test_galaxy(void)
{
    struct galaxy G = {0};
    const char *csv = test_data_path("galaxy_test.csv");
    const char *gold = FASTMLP_GOLDEN_DIR "/seed001_cg.txt";
    int loaded = galaxy_load(&G, csv);
    CHECK_MSG(loaded, "cannot load %s (missing data is a failure)", csv);
    FILE *f = fopen(gold, "r");
    CHECK_MSG(f != NULL, "cannot open %s", gold);
    double *theta = malloc(G_NPAR * sizeof(double)), *g = malloc(G_NPAR * sizeof(double));
    double *start = malloc(G_NPAR * sizeof(double));
    G.W1T = malloc(sizeof(double) * G_IN * G_HID);
    G.gW1T = malloc(sizeof(double) * G_IN * G_HID);
    struct golden_run cg50 = {NAN, 0, 0, 0, 0}, cg600 = cg50, lb = cg50;
    double cost0 = NAN;
    size_t n = 0, nt = 0;
    if (f && theta) {
        char line[256];
        int in_theta = 0;
        while (fgets(line, sizeof line, f)) {
            char meth[16];
            int mi;
            struct golden_run r;
            if (line[0] == '#') continue;
            if (in_theta) {
                if (nt < G_NPAR && sscanf(line, "%lf", &theta[nt]) == 1) nt++;
            } else if (strncmp(line, "theta0", 6) == 0) {
                in_theta = 1;
            } else if (sscanf(line, "n %zu", &n) == 1 || sscanf(line, "cost0 %lf", &cost0) == 1) {
            } else if (sscanf(line, "run %15s %d %lf %d %d %d %d", meth, &mi, &r.f, &r.iters, &r.fevals, &r.gevals,
                              &r.warn) == 7) {
                if (strcmp(meth, "cg") == 0 && mi == 50) cg50 = r;
                if (strcmp(meth, "cg") == 0 && mi == 600) cg600 = r;
                if (strcmp(meth, "lbfgsb") == 0) lb = r;
            }
        }
    }
    if (f) fclose(f);
    CHECK_MSG(n == G_NPAR && nt == G_NPAR, "golden file: n %zu, %zu starting values, expected %zu", n, nt, G_NPAR);
    CHECK(isfinite(cg50.f) && isfinite(cg600.f) && isfinite(cost0));
    if (!loaded || !theta || !g || !start || !G.W1T || !G.gW1T || nt != G_NPAR || !isfinite(cg600.f)) goto out;

    /* the C cost is SciPy's at the start */
    memcpy(start, theta, G_NPAR * sizeof *theta);
    double J0 = galaxy_fn(theta, g, &G);
    CHECK_MSG(fabs(J0 - cost0) <= 1e-12 * cost0, "cost at theta0 %.17g, NumPy's %.17g", J0, cost0);

    /* Under an emulator (FASTMLP_TEST_EMULATED: the aarch64 tests) the
     * first 50 iterations only: 600 CG and 600 L-BFGS iterations of this
     * test's own scalar cost took 285 s of qemu's time; the native build
     * runs them all. */
#ifdef FASTMLP_TEST_EMULATED
    const unsigned iters = 50;
#else
    const unsigned iters = 600;
#endif
    struct mlp_min_params p = mlp__min_params_default(MLP_MIN_CG);
    p.max_iter = iters;
    struct cg_trace tr = {NAN, 0, 0};
    struct mlp_min_iter fin;
    enum mlp_min_result r = mlp__minimize(galaxy_fn, &G, G_NPAR, theta, &p, cg_trace_cb, &tr, &fin);
    CHECK_MSG(r == MLP_MIN_MAX_ITER || r == MLP_MIN_CONVERGED, "W2 CG: %s", mlp__min_result_str(r));
    printf("W2 CG after 50 iterations:  cost %.12f, %llu evaluations (SciPy fmin_cg: %.12f, %d iterations, "
           "%d f + %d g evaluations)\n",
           tr.f50, (unsigned long long)tr.evals50, cg50.f, cg50.iters, cg50.fevals, cg50.gevals);
    printf("W2 CG after %u iterations: cost %.12f, %llu evaluations, %s (SciPy fmin_cg: %.12f, %d iterations, "
           "%d f + %d g evaluations; L-BFGS-B: %.12f in %d iterations)\n",
           fin.iter, fin.f, (unsigned long long)fin.n_evals, mlp__min_result_str(r), cg600.f, cg600.iters,
           cg600.fevals, cg600.gevals, lb.f, lb.iters);
    CHECK_MSG(tr.it50 == 50 && tr.f50 <= cg50.f * (1 + 1e-6), "after 50 iterations: %.17g > SciPy's %.17g", tr.f50,
              cg50.f);
    if (iters == 600)
        CHECK_MSG(fin.f <= cg600.f * (1 + 1e-6), "after 600 iterations: %.17g > SciPy's %.17g", fin.f, cg600.f);

    /* L-BFGS from the same start, for reference beside SciPy's L-BFGS-B
     * (no bound constraints there, so the same method up to its line search) */
    memcpy(theta, start, G_NPAR * sizeof *theta);
    p = mlp__min_params_default(MLP_MIN_LBFGS);
    p.max_iter = iters;
    r = mlp__minimize(galaxy_fn, &G, G_NPAR, theta, &p, NULL, NULL, &fin);
    CHECK_MSG((r == MLP_MIN_MAX_ITER || r == MLP_MIN_CONVERGED) && fin.f < J0, "W2 L-BFGS: %s, cost %g",
              mlp__min_result_str(r), fin.f);
    printf("W2 L-BFGS (m 10) after %u iterations: cost %.12f, %llu evaluations (SciPy L-BFGS-B: %.12f, %d "
           "evaluations)\n",
           fin.iter, fin.f, (unsigned long long)fin.n_evals, lb.f, lb.fevals);
out:
    free(theta), free(g), free(start), free(G.X), free(G.label), free(G.W1T), free(G.gW1T);
}

int main(void)
{
    const size_t ns[] = {2, 10, 100};
    for (int method = 0; method < 2; method++) {
        for (size_t k = 0; k < 3; k++) test_quadratic(ns[k], 10, method);
        test_quadratic(10, 1e6, method);
        test_quadratic(100, 1e6, method);
        test_rosenbrock(method, method == MLP_MIN_CG ? 400 : 150);
        test_failures(method);
    }
    test_line_search();
    test_galaxy();
    return check_report("minimize");
}
