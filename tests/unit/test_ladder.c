/* SPDX-License-Identifier: MIT */
/* The ladder's one-sample-at-a-time stages (naive, per-sample) against the
 * reference pass (plain-loop GEMMs, MLP_BACKEND_REF) on random small
 * networks: f32 and f64, every hidden activation x output head, the L2 term,
 * uint8 inputs with a scale, f32/f64 inputs, index lists with repeats, grad
 * NULL or not, out NULL or not; called directly and through mlp__run_pass's
 * dispatch (a context's stage).  A negative control checks that the comparison
 * notices a one-weight change of 1e-6. */
#include "check.h"
#include "testutil.h"
#include "kernels/kernels.h"

#include <math.h>
#include <string.h>

#define N_IN 11
#define MAX_ROWS 40
#define MAX_K 3

struct data {
    double xd[MAX_ROWS * N_IN];
    float xf[MAX_ROWS * N_IN];
    uint8_t xu[MAX_ROWS * N_IN];
    int32_t labels[MAX_ROWS];
    double targets[MAX_ROWS * MAX_K];
    uint64_t idx[MAX_ROWS];
    struct mlp_dataset ds;
};

static void make_data(struct data *d, enum mlp_elem xt, enum mlp_head head, bool real_targets, uint32_t K,
                      uint64_t rows, uint64_t seed)
{
    struct mlp_rng r;
    mlp__rng_seed(&r, seed);
    for (size_t i = 0; i < rows * N_IN; i++) {
        d->xd[i] = 4 * mlp__rng_uniform(&r) - 2;
        d->xf[i] = (float)d->xd[i];
        d->xu[i] = (uint8_t)mlp__rng_below(&r, 256);
    }
    for (uint64_t i = 0; i < rows; i++) d->idx[i] = mlp__rng_below(&r, rows); /* repeats on purpose */
    memset(&d->ds, 0, sizeof d->ds);
    d->ds.n_rows = rows;
    d->ds.n_cols = N_IN;
    d->ds.x_type = xt;
    d->ds.x = xt == MLP_ELEM_U8 ? (const void *)d->xu : xt == MLP_ELEM_F32 ? (const void *)d->xf : (const void *)d->xd;
    if (real_targets) {
        double lo = head == MLP_HEAD_SIGMOID_MSE || head == MLP_HEAD_SIGMOID_BCE ? 0.05 : -0.9;
        for (size_t i = 0; i < rows * K; i++) d->targets[i] = lo + (0.9 - lo) * mlp__rng_uniform(&r);
        d->ds.targets = d->targets;
        d->ds.n_targets = K;
    } else {
        uint32_t classes = K == 1 ? 2 : K;
        for (uint64_t i = 0; i < rows; i++) d->labels[i] = (int32_t)mlp__rng_below(&r, classes);
        d->ds.labels = d->labels;
        d->ds.n_classes = classes;
    }
}

static double elem(const struct mlp_model *m, const void *v, size_t i)
{
    return mlp_model_dtype(m) == MLP_F32 ? ((const float *)v)[i] : ((const double *)v)[i];
}

/* Does pass `a` match reference pass `r` within tol (relative)?  With
 * `report` set, a mismatch is printed with `what`. */
static bool same_pass(const struct mlp_pass *a, const struct mlp_pass *r, double tol, bool report, const char *what)
{
    const struct mlp_model *m = r->m;
    size_t n = mlp_model_n_params(m), K = mlp_model_n_out(m);
    double eg = 0, gmax = 0, eo = 0, omax = 0;
    if (r->grad)
        for (size_t i = 0; i < n; i++) {
            eg = fmax(eg, fabs(elem(m, a->grad, i) - elem(m, r->grad, i)));
            gmax = fmax(gmax, fabs(elem(m, r->grad, i)));
        }
    if (r->out)
        for (size_t i = 0; i < r->n * K; i++) {
            eo = fmax(eo, fabs(a->out[i] - r->out[i]));
            omax = fmax(omax, fabs(r->out[i]));
        }
    double el = fabs(a->loss - r->loss);
    bool ok = el <= tol * fabs(r->loss) && r->loss > 0 && eg <= tol * gmax && eo <= tol * (1 + omax) &&
              a->correct == r->correct && (!r->grad || gmax > 0) && isfinite(a->loss);
    if (!ok && report)
        fprintf(stderr, "  %s: loss %.17g vs %.17g (rel %.3g), grad err %.3g of max %.3g, out err %.3g, correct %llu vs %llu\n",
                what, a->loss, r->loss, el / fabs(r->loss), eg, gmax, eo, (unsigned long long)a->correct,
                (unsigned long long)r->correct);
    return ok;
}

struct ladder_case {
    enum mlp_dtype dt;
    enum mlp_act act;
    enum mlp_head head;
    uint32_t K;
    uint64_t rows;
    enum mlp_elem xt;
    bool index, real_targets, with_grad, with_out;
    double l2_m;
    const uint32_t *widths; /* hidden layers, all with act */
    uint32_t n_hidden;
};

static void run_case(const struct ladder_case *c, uint64_t seed)
{
    struct mlp_layer_spec hidden[4];
    for (uint32_t i = 0; i < c->n_hidden; i++) hidden[i] = (struct mlp_layer_spec){c->widths[i], c->act};
    struct mlp_model_params mp = mlp_model_params_default();
    mp.dtype = c->dt;
    mp.n_in = N_IN;
    mp.n_hidden = c->n_hidden;
    mp.hidden = hidden;
    mp.n_out = c->K;
    mp.head = c->head;
    mp.leaky_slope = 0.1;
    mp.input_scale = c->xt == MLP_ELEM_U8 ? 1.0 / 255 : 1.0;
    struct mlp_model *m = NULL;
    mp.ctx = test_ctx();
    CHECK_STATUS(mlp_model_create(&m, &mp, NULL), MLP_OK);
    if (!m) return;
    CHECK_STATUS(mlp_model_init(m, MLP_INIT_UNIFORM, -0.8, 0.8, seed), MLP_OK);
    static struct data d;
    make_data(&d, c->xt, c->head, c->real_targets, c->K, c->rows, seed * 7 + 1);

    size_t n = mlp_model_n_params(m), es = c->dt == MLP_F32 ? sizeof(float) : sizeof(double);
    void *g[3] = {0};
    double *o[3] = {0};
    struct mlp_pass ps[3];
    for (int s = 0; s < 3; s++) {
        if (c->with_grad) g[s] = malloc(n * es);
        if (c->with_out) o[s] = malloc(c->rows * c->K * sizeof(double));
        ps[s] = (struct mlp_pass){.m = m, .ds = &d.ds, .n = c->rows, .rows = c->index ? d.idx : NULL,
                                  .l2 = 0.3, .l2_m = c->l2_m, .backend = s == 0 ? MLP_BACKEND_REF : MLP_BACKEND_BLAS,
                                  .grad = g[s], .out = o[s]};
    }
    /* the reference, then each stage called directly */
    CHECK_STATUS(mlp__run_pass(&ps[0], NULL), MLP_OK);
    CHECK_STATUS(mlp__pass_naive(&ps[1], NULL), MLP_OK);
    CHECK_STATUS(mlp__pass_persample(&ps[2], NULL), MLP_OK);
    const double tol = c->dt == MLP_F32 ? 1e-5 : 1e-12;
    char what[200];
    snprintf(what, sizeof what, "%s %s/%s K=%u rows=%llu x=%d index=%d targets=%d grad=%d out=%d hidden=%u",
             mlp_dtype_name(c->dt), mlp_act_name(c->act), mlp_head_name(c->head), c->K, (unsigned long long)c->rows,
             (int)c->xt, c->index, c->real_targets, c->with_grad, c->with_out, c->n_hidden);
    for (int s = 1; s < 3; s++) {
        CHECK_MSG(same_pass(&ps[s], &ps[0], tol, true, what), "%s stage differs from the reference: %s",
                  s == 1 ? "naive" : "per-sample", what);
        CHECK(ps[s].t_forward >= 0 && (c->with_grad ? ps[s].t_backward >= 0 : ps[s].t_backward == 0));
    }

    /* the same through mlp__run_pass's dispatch, which the library uses */
    const enum mlp_kernels stage[3] = {MLP_KERNELS_FAST, MLP_KERNELS_NAIVE, MLP_KERNELS_PERSAMPLE};
    for (int s = 1; s < 3; s++) {
        struct mlp_context *cx = test_ctx();
        mlp_model_set_context(m, test_use(mlp_context_threads(cx), stage[s]));
        CHECK(mlp_context_kernels(mlp_model_context(m)) == stage[s]);
        struct mlp_pass q = ps[s];
        if (q.grad) memset(q.grad, 0xff, n * es); /* NaN: the pass must overwrite it */
        q.loss = NAN;
        CHECK_STATUS(mlp__run_pass(&q, NULL), MLP_OK);
        CHECK_MSG(same_pass(&q, &ps[0], tol, true, what), "%s via the context's stage differs: %s",
                  mlp_kernels_name(stage[s]), what);
        mlp_model_set_context(m, test_use(mlp_context_threads(cx), MLP_KERNELS_FAST));
    }
    for (int s = 0; s < 3; s++) free(g[s]), free(o[s]);
    mlp_model_free(m);
}

static void all_cases(void)
{
    const uint32_t w2[] = {6, 4}, w1[] = {1}, w3[] = {9, 1, 5};
    uint64_t seed = 1;
    for (int d = 0; d < 2; d++) {
        enum mlp_dtype dt = d ? MLP_F64 : MLP_F32;
        for (int a = 0; a < MLP_ACT_COUNT; a++)
            for (int h = 0; h < MLP_HEAD_COUNT; h++) {
                bool mse = h >= MLP_HEAD_IDENTITY_MSE;
                /* vary the rest with the combination, so every option meets
                 * both dtypes and several heads */
                unsigned v = (unsigned)(a * MLP_HEAD_COUNT + h);
                struct ladder_case c = {.dt = dt, .act = (enum mlp_act)a, .head = (enum mlp_head)h,
                                        .K = h == MLP_HEAD_SOFTMAX_CE ? 3 : (v % 3 == 0 ? 1 : 2 + v % 2),
                                        .rows = 17 + v % 23, .xt = (enum mlp_elem)(v % 3), .index = v % 2,
                                        .real_targets = mse && v % 2, .with_grad = v % 5 != 4,
                                        .with_out = v % 3 != 1, .l2_m = v % 4 == 3 ? 50 : 0,
                                        .widths = w2, .n_hidden = 2};
                run_case(&c, seed++);
            }
        /* seed 000's shape (no hidden layer, one output: the dot/axpy path),
         * a one-unit hidden layer, and seed 001's shape in miniature */
        struct ladder_case c0 = {.dt = dt, .head = MLP_HEAD_SIGMOID_BCE, .K = 1, .rows = 40, .xt = MLP_ELEM_U8,
                                 .with_grad = true, .with_out = true};
        run_case(&c0, seed++);
        struct ladder_case c1 = {.dt = dt, .act = MLP_ACT_TANH, .head = MLP_HEAD_SOFTMAX_CE, .K = 3, .rows = 33,
                                 .xt = MLP_ELEM_F64, .index = true, .with_grad = true, .widths = w1, .n_hidden = 1};
        run_case(&c1, seed++);
        struct ladder_case c2 = {.dt = dt, .act = MLP_ACT_SIGMOID, .head = MLP_HEAD_SIGMOID_BCE, .K = 3, .rows = 40,
                                 .xt = MLP_ELEM_U8, .with_grad = true, .with_out = true, .widths = w3, .n_hidden = 3};
        run_case(&c2, seed++);
    }
}

/* The comparison must be able to fail: one weight moved by 1e-6 (relative)
 * changes the loss and gradient by far more than the f64 tolerance. */
static void negative_control(void)
{
    const uint32_t w[] = {6, 4};
    struct mlp_layer_spec hidden[2] = {{w[0], MLP_ACT_SIGMOID}, {w[1], MLP_ACT_SIGMOID}};
    struct mlp_model_params mp = mlp_model_params_default();
    mp.dtype = MLP_F64;
    mp.n_in = N_IN;
    mp.n_hidden = 2;
    mp.hidden = hidden;
    mp.n_out = 3;
    mp.head = MLP_HEAD_SIGMOID_BCE;
    struct mlp_model *m = NULL, *m2 = NULL;
    mp.ctx = test_ctx();
    CHECK_STATUS(mlp_model_create(&m, &mp, NULL), MLP_OK);
    if (!m) return;
    mlp_model_init(m, MLP_INIT_UNIFORM, -0.8, 0.8, 99);
    CHECK_STATUS(mlp_model_clone(&m2, m, NULL), MLP_OK);
    if (!m2) {
        mlp_model_free(m);
        return;
    }
    ((double *)mlp_model_params(m2))[mlp_model_w_offset(m2, 1) + 5] *= 1 + 1e-6;
    static struct data d;
    make_data(&d, MLP_ELEM_F64, MLP_HEAD_SIGMOID_BCE, false, 3, 30, 5);
    size_t n = mlp_model_n_params(m);
    double *g0 = malloc(n * 8), *g1 = malloc(n * 8), *g2 = malloc(n * 8);
    struct mlp_pass r = {.m = m, .ds = &d.ds, .n = 30, .l2 = 0.3, .backend = MLP_BACKEND_REF, .grad = g0};
    struct mlp_pass a = {.m = m2, .ds = &d.ds, .n = 30, .l2 = 0.3, .backend = MLP_BACKEND_BLAS, .grad = g1};
    struct mlp_pass b = a;
    b.grad = g2;
    CHECK_STATUS(mlp__run_pass(&r, NULL), MLP_OK);
    CHECK_STATUS(mlp__pass_naive(&a, NULL), MLP_OK);
    CHECK_STATUS(mlp__pass_persample(&b, NULL), MLP_OK);
    CHECK_MSG(!same_pass(&a, &r, 1e-12, false, ""), "naive: a changed weight went unnoticed");
    CHECK_MSG(!same_pass(&b, &r, 1e-12, false, ""), "per-sample: a changed weight went unnoticed");
    free(g0), free(g1), free(g2);
    mlp_model_free(m);
    mlp_model_free(m2);
}

int main(void)
{
    for (int threads = 1; threads <= 2; threads++) {
        test_use(threads, MLP_KERNELS_FAST);
        all_cases();
    }
    negative_control();
    return check_report("ladder");
}
