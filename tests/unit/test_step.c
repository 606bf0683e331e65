/* SPDX-License-Identifier: MIT */
/* The model-parallel training step (mlp__run_step, src/step_impl.h) against
 * the reference: the plain-loop pass (MLP_BACKEND_REF) followed by the
 * optimiser over the whole vector.  For f32 and f64, 2 and 3 threads, batch
 * sizes from 1 to the step's limit, shuffled row lists, every head and the
 * hidden activations, Adam and SGD with (Nesterov) momentum, three steps
 * each: the parameters, loss and correct count agree; the update ranges
 * cover every parameter exactly once a step; two runs are bit-identical; and
 * the step declines (leaving everything untouched) where it does not apply:
 * one thread, an L2 term, too many rows, layers too narrow to share. */
#include "check.h"
#include "testutil.h"
#include "train/optim/optim.h"

#include <stdlib.h>
#include <string.h>

enum opt { OPT_ADAM, OPT_MOMENTUM, OPT_NESTEROV };

struct upd {
    enum mlp_dtype dt;
    enum opt opt;
    void *p, *g, *s1, *s2;
    struct mlp_adam adam;
    unsigned char *hits; /* per parameter, updates this step */
};

static const double LR = 1e-2, MU = 0.9;

static void update(void *ctx, size_t lo, size_t hi)
{
    struct upd *u = ctx;
    const size_t es = u->dt == MLP_F32 ? 4 : 8;
    for (size_t i = lo; i < hi; i++) u->hits[i]++;
    if (u->opt == OPT_ADAM)
        mlp__adam_range(&u->adam, lo, hi);
    else
        mlp__sgd_step(u->dt, hi - lo, (char *)u->p + lo * es, (char *)u->g + lo * es, (char *)u->s1 + lo * es, LR,
                      MU, u->opt == OPT_NESTEROV);
}

struct net {
    struct mlp_model *m;
    struct mlp_dataset ds;
    uint8_t *x;
    int32_t *y;
    double *tg;
};

/* n_in uint8 inputs -> h0 -> h1 -> K outputs, with `rows` rows of data */
static bool make_net(struct net *n, enum mlp_dtype dt, uint32_t n_in, uint32_t h0, uint32_t h1, enum mlp_act a0, enum mlp_act a1,
                     enum mlp_head head, uint64_t rows)
{
    memset(n, 0, sizeof *n);
    const uint32_t K = head == MLP_HEAD_SOFTMAX_CE ? 3 : head == MLP_HEAD_SIGMOID_BCE ? 1 : 2;
    const struct mlp_layer_spec hidden[] = {{h0, a0}, {h1, a1}};
    n->m = test_model(dt, n_in, 2, hidden, K, head, 1.0 / 255);
    if (!n->m) return false;
    mlp_model_init(n->m, MLP_INIT_HE, 0, 0, 11);
    n->x = malloc(rows * n_in);
    for (size_t i = 0; i < rows * n_in; i++) n->x[i] = (uint8_t)(i * 7919 % 253);
    n->ds = (struct mlp_dataset){.n_rows = rows, .n_cols = n_in, .x_type = MLP_ELEM_U8, .x = n->x};
    if (head == MLP_HEAD_SOFTMAX_CE || head == MLP_HEAD_SIGMOID_BCE) {
        n->y = malloc(rows * sizeof *n->y);
        for (uint64_t i = 0; i < rows; i++) n->y[i] = (int32_t)(i * 31 % (K == 1 ? 2 : K));
        n->ds.labels = n->y;
        n->ds.n_classes = K == 1 ? 2 : K;
    } else {
        n->tg = malloc(rows * K * sizeof *n->tg);
        for (uint64_t i = 0; i < rows * K; i++) n->tg[i] = 0.9 * sin((double)i);
        n->ds.targets = n->tg;
    }
    return true;
}

static void free_net(struct net *n)
{
    mlp_model_free(n->m);
    free(n->x), free(n->y), free(n->tg);
}

static double at(const void *v, enum mlp_dtype dt, size_t i)
{
    return dt == MLP_F32 ? ((const float *)v)[i] : ((const double *)v)[i];
}

/* Three steps of run_step, each checked against the reference from the
 * same parameters: its gradient (left in the gradient buffer) against the
 * reference pass's, to a tolerance relative to the largest element; its
 * loss and correct count; and its new parameters and optimiser state
 * against the optimiser run over the whole vector with that gradient, bit
 * for bit (elementwise, so the split must not matter).  The parameters
 * after the three steps go to out. */
static void run3(struct net *n, const void *p0, enum opt opt, const uint64_t *rows, uint64_t nb, void *out,
                 const char *what)
{
    struct mlp_model *m = n->m;
    const enum mlp_dtype dt = m->dtype;
    const size_t np = mlp_model_n_params(m), es = dt == MLP_F32 ? 4 : 8, bytes = np * es;
    struct upd u = {.dt = dt, .opt = opt, .p = m->params, .g = calloc(np, es), .s1 = calloc(np, es),
                    .s2 = calloc(np, es), .hits = calloc(np, 1)};
    void *P = malloc(bytes), *gref = malloc(bytes), *S1 = calloc(np, es), *S2 = calloc(np, es);
    memcpy(m->params, p0, bytes);
    for (uint64_t step = 1; step <= 3; step++) {
        memcpy(P, m->params, bytes);
        struct mlp_pass ps = {.m = m, .ds = &n->ds, .n = nb, .rows = rows + (step - 1) * nb, .grad = u.g};
        if (opt == OPT_ADAM) mlp__adam_init(&u.adam, &(struct mlp_adam_step){dt, np, u.p, u.s1, u.s2, LR, 0.9, 0.999, 1e-8, step, m->ctx}, u.g);
        bool done = false;
        memset(u.hits, 0, np);
        CHECK_STATUS(mlp__run_step(&ps, update, &u, &done, NULL), MLP_OK);
        CHECK_MSG(done, "%s: the step did not run", what);
        if (!done) break;
        size_t bad = 0;
        for (size_t i = 0; i < np; i++) bad += u.hits[i] != 1;
        CHECK_MSG(bad == 0, "%s: %zu parameters not updated exactly once", what, bad);

        /* the reference pass from the same parameters */
        void *after = malloc(bytes);
        memcpy(after, m->params, bytes);
        memcpy(m->params, P, bytes);
        struct mlp_pass rp = {.m = m, .ds = &n->ds, .n = nb, .rows = ps.rows, .grad = gref,
                              .backend = MLP_BACKEND_REF};
        CHECK_STATUS(mlp__run_pass(&rp, NULL), MLP_OK);
        double big = 0, worst = 0;
        for (size_t i = 0; i < np; i++) {
            big = fmax(big, fabs(at(gref, dt, i)));
            worst = fmax(worst, fabs(at(u.g, dt, i) - at(gref, dt, i)));
        }
        CHECK_MSG(big > 0 && worst <= (dt == MLP_F32 ? 1e-5 : 1e-13) * big, "%s: step %llu gradient off by %.3g (largest %.3g)",
                  what, (unsigned long long)step, worst, big);
        CHECK_MSG(fabs(ps.loss - rp.loss) <= (dt == MLP_F32 ? 1e-5 : 1e-13) * (1 + fabs(rp.loss)),
                  "%s: step %llu loss %.17g vs %.17g", what, (unsigned long long)step, ps.loss, rp.loss);
        CHECK_MSG(ps.correct == rp.correct, "%s: step %llu correct %llu vs %llu", what, (unsigned long long)step,
                  (unsigned long long)ps.correct, (unsigned long long)rp.correct);

        /* the optimiser over the whole vector with the step's gradient */
        if (opt == OPT_ADAM) {
            struct mlp_adam a;
            mlp__adam_init(&a, &(struct mlp_adam_step){dt, np, m->params, S1, S2, LR, 0.9, 0.999, 1e-8, step, m->ctx}, u.g);
            mlp__adam_range(&a, 0, np);
        } else {
            mlp__sgd_step(dt, np, m->params, u.g, S1, LR, MU, opt == OPT_NESTEROV);
        }
        CHECK_MSG(memcmp(m->params, after, bytes) == 0 && memcmp(S1, u.s1, bytes) == 0 &&
                      memcmp(S2, u.s2, bytes) == 0,
                  "%s: step %llu: the ranges' updates differ from the optimiser's over the whole vector", what,
                  (unsigned long long)step);
        memcpy(m->params, after, bytes);
        memcpy(S1, u.s1, bytes);
        memcpy(S2, u.s2, bytes);
        free(after);
    }
    memcpy(out, m->params, bytes);
    free(u.g), free(u.s1), free(u.s2), free(u.hits), free(P), free(gref), free(S1), free(S2);
}

static void step_case(enum mlp_dtype dt, int threads, uint32_t h0, uint32_t h1, enum mlp_act a0, enum mlp_act a1,
                      enum mlp_head head, uint64_t nb, enum opt opt)
{
    char what[160];
    snprintf(what, sizeof what, "%s threads=%d 200-%u-%u (%s,%s) %s batch %llu opt %d", mlp_dtype_name(dt), threads,
             h0, h1, mlp_act_name(a0), mlp_act_name(a1), mlp_head_name(head), (unsigned long long)nb, (int)opt);
    test_use(threads, MLP_KERNELS_FAST);
    const uint64_t n_rows = 3 * nb + 5;
    struct net n;
    if (!make_net(&n, dt, 200, h0, h1, a0, a1, head, n_rows)) return;
    const size_t np = mlp_model_n_params(n.m), es = dt == MLP_F32 ? 4 : 8;
    uint64_t *rows = malloc(3 * nb * sizeof *rows);
    for (uint64_t i = 0; i < 3 * nb; i++) rows[i] = (i * 7 + 3) % n_rows; /* shuffled, 7 coprime to n_rows */
    void *p0 = malloc(np * es), *got = malloc(np * es), *again = malloc(np * es);
    memcpy(p0, n.m->params, np * es);
    run3(&n, p0, opt, rows, nb, got, what);
    run3(&n, p0, opt, rows, nb, again, what);
    CHECK_MSG(memcmp(got, again, np * es) == 0, "%s: two runs differ", what);
    double moved = 0;
    for (size_t i = 0; i < np; i++) moved = fmax(moved, fabs(at(got, dt, i) - at(p0, dt, i)));
    CHECK_MSG(moved > LR / 10, "%s: the parameters did not move (%.3g)", what, moved);
    free(p0), free(got), free(again), free(rows);
    free_net(&n);
}

/* The step declines: *done false, parameters and gradient untouched. */
static void declines(const char *what, int threads, uint32_t n_in, uint32_t h0, uint32_t h1, uint64_t nb, double l2)
{
    test_use(threads, MLP_KERNELS_FAST);
    struct net n;
    if (!make_net(&n, MLP_F32, n_in, h0, h1, MLP_ACT_RELU, MLP_ACT_RELU, MLP_HEAD_SOFTMAX_CE, nb)) return;
    const size_t np = mlp_model_n_params(n.m);
    float *g = calloc(np, 4), *p0 = malloc(np * 4);
    memcpy(p0, n.m->params, np * 4);
    struct upd u = {.dt = MLP_F32, .opt = OPT_NESTEROV, .p = n.m->params, .g = g, .s1 = calloc(np, 4),
                    .hits = calloc(np, 1)};
    struct mlp_pass ps = {.m = n.m, .ds = &n.ds, .n = nb, .grad = g, .l2 = l2};
    bool done = true;
    CHECK_STATUS(mlp__run_step(&ps, update, &u, &done, NULL), MLP_OK);
    size_t touched = 0;
    for (size_t i = 0; i < np; i++) touched += g[i] != 0 || u.hits[i] != 0;
    CHECK_MSG(!done && touched == 0 && memcmp(p0, n.m->params, np * 4) == 0, "%s: the step ran (done %d, %zu touched)",
              what, (int)done, touched);
    free(g), free(p0), free(u.s1), free(u.hits);
    free_net(&n);
}

int main(void)
{
    /* under an emulator (FASTMLP_TEST_EMULATED: the aarch64 tests) the
     * largest batches are left to the native build */
#ifdef FASTMLP_TEST_EMULATED
    const uint64_t batches[] = {1, 7, 130};
#else
    const uint64_t batches[] = {1, 7, 64, 130, 512};
#endif
    for (int d = 0; d < 2; d++) {
        const enum mlp_dtype dt = d ? MLP_F64 : MLP_F32;
        for (size_t b = 0; b < sizeof batches / sizeof *batches; b++) {
            step_case(dt, 2, 160, 70, MLP_ACT_RELU, MLP_ACT_TANH, MLP_HEAD_SOFTMAX_CE, batches[b], OPT_ADAM);
            step_case(dt, 3, 192, 96, MLP_ACT_SIGMOID, MLP_ACT_LEAKY_RELU, MLP_HEAD_SOFTMAX_CE, batches[b], OPT_ADAM);
        }
        step_case(dt, 2, 176, 50, MLP_ACT_TANH, MLP_ACT_RELU, MLP_HEAD_SIGMOID_BCE, 33, OPT_MOMENTUM);
        step_case(dt, 2, 160, 64, MLP_ACT_LEAKY_RELU, MLP_ACT_SIGMOID, MLP_HEAD_IDENTITY_MSE, 40, OPT_NESTEROV);
        step_case(dt, 3, 192, 96, MLP_ACT_RELU, MLP_ACT_RELU, MLP_HEAD_TANH_MSE, 17, OPT_ADAM);
        step_case(dt, 2, 160, 70, MLP_ACT_RELU, MLP_ACT_RELU, MLP_HEAD_SIGMOID_MSE, 64, OPT_MOMENTUM);
    }
    declines("one thread", 1, 200, 160, 70, 64, 0);
    declines("an L2 term", 2, 200, 160, 70, 64, 0.5);
    declines("513 rows", 2, 200, 160, 70, 513, 0);
    /* 48K weights, all in 12-unit layers that one thread would own */
    declines("12-unit layers", 2, 4000, 12, 12, 64, 0);
    declines("too few weights", 2, 100, 100, 100, 64, 0);
    return check_report("step");
}
