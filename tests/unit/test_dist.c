/* SPDX-License-Identifier: MIT */
/* Data-parallel training (struct mlp_comm) without MPI: R threads play R
 * ranks over an in-process group whose sums add the ranks' buffers in rank
 * order, so that this runs under the sanitizers with nothing installed
 * (the mpirun tests, tests/mpi/, run the same over Open MPI).  Each rank
 * holds its shard of the rows, [N*r/R, N*(r+1)/R), as the loaders give it.
 * Checked for SGD with momentum, Adam, GD, CG and L-BFGS, f32 and f64:
 * the ranks end with byte-identical weights, equal to one process's up to
 * the rounding of the sums (bounds per dtype below), the epoch statistics
 * (train and sharded eval loss) agree with one process's, two runs give
 * the same bytes, an empty shard (more ranks than rows) takes part, ranks
 * that start from different weights are caught, a shard that does not fit
 * the network on one rank fails every rank (none waits in a sum), and a
 * checkpoint written by 2 ranks resumes on 3 and on 1. */
#include "params_diff.h"
#include "testutil.h"
#include "fastmlp.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_RANKS 4
#define N_ROWS 203
#define N_COLS 6
#define N_EVAL 61

/* ------------------------------------------------- an in-process group */

struct group {
    int size;
    pthread_barrier_t bar;
    const void *slot[MAX_RANKS];
};

struct rank_comm {
    struct mlp_comm c;
    struct group *g;
};

static int g_allreduce(void *self, void *buf, size_t n, enum mlp_dtype dt, char *msg, size_t cap)
{
    (void)msg;
    (void)cap;
    struct rank_comm *rc = self;
    struct group *g = rc->g;
    const size_t esz = dt == MLP_F32 ? 4 : 8;
    void *sum = malloc(n > 0 ? n * esz : 1);
    g->slot[rc->c.rank] = buf;
    pthread_barrier_wait(&g->bar);
    for (size_t i = 0; i < n; i++) { /* in rank order: every rank the same bits */
        if (dt == MLP_F32) {
            float s = 0;
            for (int r = 0; r < g->size; r++) s += ((const float *)g->slot[r])[i];
            ((float *)sum)[i] = s;
        } else {
            double s = 0;
            for (int r = 0; r < g->size; r++) s += ((const double *)g->slot[r])[i];
            ((double *)sum)[i] = s;
        }
    }
    pthread_barrier_wait(&g->bar); /* every rank has read every buffer */
    memcpy(buf, sum, n * esz);
    free(sum);
    return 0;
}

/* Started and finished at once: the ranks start the same sums in the same
 * order, which is all the trainer promises. */
static int g_iallreduce(void *self, void *buf, size_t n, enum mlp_dtype dt, char *msg, size_t cap)
{
    return g_allreduce(self, buf, n, dt, msg, cap);
}

static int g_wait(void *self, char *msg, size_t cap)
{
    (void)self;
    (void)msg;
    (void)cap;
    return 0;
}

static int g_allgather(void *self, const void *mine, void *all, size_t bytes, char *msg, size_t cap)
{
    (void)msg;
    (void)cap;
    struct rank_comm *rc = self;
    struct group *g = rc->g;
    g->slot[rc->c.rank] = mine;
    pthread_barrier_wait(&g->bar);
    for (int r = 0; r < g->size; r++) memcpy((char *)all + (size_t)r * bytes, g->slot[r], bytes);
    pthread_barrier_wait(&g->bar);
    return 0;
}

/* ------------------------------------------------------------- the data */

static double X[N_ROWS * N_COLS], XE[N_EVAL * N_COLS];
static int32_t Y[N_ROWS], YE[N_EVAL];

static void make_data(void)
{
    struct mlp_rng { uint64_t s; } r = {12345};
    for (int set = 0; set < 2; set++) {
        double *x = set ? XE : X;
        int32_t *y = set ? YE : Y;
        int n = set ? N_EVAL : N_ROWS;
        for (int i = 0; i < n; i++) {
            y[i] = i % 3;
            for (int j = 0; j < N_COLS; j++) {
                r.s = r.s * 6364136223846793005ull + 1442695040888963407ull;
                double u = (double)(r.s >> 11) / 9007199254740992.0;
                x[i * N_COLS + j] = (j % 3 == y[i] ? 1.0 : 0.0) + 0.8 * (u - 0.5);
            }
        }
    }
}

/* Rows [N*r/R, N*(r+1)/R) of a set, as a view. */
static struct mlp_dataset shard(const double *x, const int32_t *y, uint64_t n, int r, int R)
{
    uint64_t lo = n * (uint64_t)r / (uint64_t)R, hi = n * (uint64_t)(r + 1) / (uint64_t)R;
    return (struct mlp_dataset){.n_rows = hi - lo, .n_cols = N_COLS, .x_type = MLP_ELEM_F64,
                                .x = x + lo * N_COLS, .labels = y + lo, .n_classes = 3};
}

/* ------------------------------------------------------------ the runs */

struct run {
    enum mlp_dtype dt;
    enum mlp_optim optim;
    uint32_t epochs, batch;
    double l2;
    uint64_t n_rows; /* of the training set (<= N_ROWS) */
    uint64_t init_seed_rank1; /* rank 1 starts from other weights when not 0 */
    const char *ckpt_out;     /* written at the end by rank 0 (every epoch) */
    const char *resume;       /* resumed from */
    int broken;               /* rank 1's shard says 7 classes (the net has 3):
                                 1 its training shard, 2 a set evaluated after
                                 the run (eval_st, eval_msg) */
};

struct rank_job {
    const struct run *run;
    struct rank_comm comm;
    int rank, size;
    struct mlp_context *ctx;
    struct mlp_model *m;
    struct mlp_epoch_stats hist[64];
    uint32_t n_hist;
    enum mlp_status st, eval_st;
    char msg[512], eval_msg[512];
};

static struct mlp_model *make_model(const struct run *run, struct mlp_context *ctx, uint64_t seed)
{
    struct mlp_layer_spec h[2] = {{8, MLP_ACT_TANH}, {5, MLP_ACT_RELU}};
    struct mlp_model_params p = mlp_model_params_default();
    p.dtype = run->dt;
    p.n_in = N_COLS;
    p.n_hidden = 2;
    p.hidden = h;
    p.n_out = 3;
    p.head = MLP_HEAD_SOFTMAX_CE;
    p.input_scale = 1;
    p.ctx = ctx;
    struct mlp_model *m = NULL;
    if (mlp_model_create(&m, &p, NULL) != MLP_OK) return NULL;
    mlp_model_init(m, MLP_INIT_XAVIER, 0, 0, seed);
    return m;
}

static void *rank_main(void *arg)
{
    struct rank_job *j = arg;
    const struct run *run = j->run;
    struct mlp_error err = {0};
    struct mlp_dataset tr = shard(X, Y, run->n_rows, j->rank, j->size);
    if (run->broken == 1 && j->rank == 1) tr.n_classes = 7;
    struct mlp_dataset ev = shard(XE, YE, N_EVAL, j->rank, j->size);
    j->m = make_model(run, j->ctx, run->init_seed_rank1 && j->rank == 1 ? run->init_seed_rank1 : 3);
    struct mlp_train_params tp = mlp_train_params_default();
    tp.optim = run->optim;
    tp.lr = run->optim == MLP_OPT_SGD ? 0.05 : run->optim == MLP_OPT_GD ? 0.3 : 0.01;
    tp.batch = run->batch;
    tp.epochs = run->epochs;
    tp.l2 = run->l2;
    tp.seed = 9;
    tp.eval = &ev;
    tp.comm = j->size > 1 ? &j->comm.c : NULL;
    struct mlp_trainer *t = NULL;
    j->st = j->m ? mlp_trainer_create(&t, j->m, &tr, &tp, &err) : MLP_ERR_NOMEM;
    if (j->st == MLP_OK && run->ckpt_out) mlp_trainer_set_checkpoint(t, run->ckpt_out, 1);
    if (j->st == MLP_OK && run->resume) j->st = mlp_trainer_resume(t, run->resume, &err);
    if (j->st == MLP_OK) j->st = mlp_trainer_run(t, &err);
    if (j->st == MLP_OK && run->broken == 2) {
        struct mlp_dataset other = shard(XE, YE, N_EVAL, j->rank, j->size);
        if (j->rank == 1) other.n_classes = 7;
        struct mlp_error e2 = {0};
        double loss, acc;
        j->eval_st = mlp_trainer_evaluate(t, &other, &loss, &acc, &e2);
        snprintf(j->eval_msg, sizeof j->eval_msg, "%s", e2.msg);
    }
    if (t) {
        const struct mlp_epoch_stats *h = mlp_trainer_history(t, &j->n_hist);
        if (j->n_hist > 64) j->n_hist = 64;
        memcpy(j->hist, h, j->n_hist * sizeof *h);
    }
    snprintf(j->msg, sizeof j->msg, "%s", err.msg);
    mlp_trainer_free(t);
    return NULL;
}

/* One run on R ranks (R = 1: alone, no group); jobs[r] hold the results. */
static void run_ranks(const struct run *run, int R, struct rank_job *jobs)
{
    struct group g = {.size = R};
    pthread_barrier_init(&g.bar, NULL, (unsigned)R);
    pthread_t th[MAX_RANKS];
    for (int r = 0; r < R; r++) {
        struct mlp_context_params cp = mlp_context_params_default();
        cp.threads = 1;
        jobs[r] = (struct rank_job){.run = run, .rank = r, .size = R};
        jobs[r].comm = (struct rank_comm){.c = {.rank = r, .size = R, .allreduce = g_allreduce,
                                                .iallreduce = g_iallreduce, .wait = g_wait,
                                                .allgather = g_allgather},
                                          .g = &g};
        jobs[r].comm.c.self = &jobs[r].comm;
        if (mlp_context_create(&jobs[r].ctx, &cp, NULL) != MLP_OK) jobs[r].ctx = NULL;
    }
    for (int r = 0; r < R; r++) pthread_create(&th[r], NULL, rank_main, &jobs[r]);
    for (int r = 0; r < R; r++) pthread_join(th[r], NULL);
    pthread_barrier_destroy(&g.bar);
}

static void free_jobs(struct rank_job *jobs, int R)
{
    for (int r = 0; r < R; r++) {
        mlp_model_free(jobs[r].m);
        mlp_context_free(jobs[r].ctx);
    }
}

/* R ranks against one process: the ranks agree to the byte, and with one
 * process to `tol` (weights) and `ltol` (the epochs' losses, relative). */
static void against_alone(const struct run *run, int R, double tol, double ltol)
{
    struct rank_job alone[1], jobs[MAX_RANKS], again[MAX_RANKS];
    run_ranks(run, 1, alone);
    run_ranks(run, R, jobs);
    const char *what = mlp_optim_name(run->optim), *dt = mlp_dtype_name(run->dt);
    CHECK_MSG(alone[0].st == MLP_OK, "%s %s alone: %s", what, dt, alone[0].msg);
    for (int r = 0; r < R; r++) CHECK_MSG(jobs[r].st == MLP_OK, "%s %s rank %d of %d: %s", what, dt, r, R, jobs[r].msg);
    if (alone[0].st == MLP_OK && jobs[0].st == MLP_OK) {
        for (int r = 1; r < R; r++)
            CHECK_MSG(jobs[r].m && params_same(jobs[0].m, jobs[r].m), "%s %s: rank %d's weights differ from rank 0's",
                      what, dt, r);
        double d = params_max_diff(alone[0].m, jobs[0].m);
        CHECK_MSG(d <= tol, "%s %s on %d ranks: weights differ from one process's by %.3g (bound %.3g)", what, dt, R,
                  d, tol);
        CHECK_MSG(jobs[0].n_hist == alone[0].n_hist, "%s %s: %u epochs on %d ranks, %u alone", what, dt,
                  jobs[0].n_hist, R, alone[0].n_hist);
        for (uint32_t e = 0; e < jobs[0].n_hist && e < alone[0].n_hist; e++) {
            const struct mlp_epoch_stats *a = &alone[0].hist[e], *b = &jobs[0].hist[e];
            CHECK_MSG(fabs(a->train_loss - b->train_loss) <= ltol * fabs(a->train_loss) &&
                          fabs(a->test_loss - b->test_loss) <= ltol * fabs(a->test_loss) &&
                          fabs(a->train_acc - b->train_acc) <= 1e-12 && fabs(a->test_acc - b->test_acc) <= 1e-12,
                      "%s %s epoch %u on %d ranks: train %.17g/%.17g test %.17g/%.17g acc %g/%g", what, dt, e + 1, R,
                      a->train_loss, b->train_loss, a->test_loss, b->test_loss, a->test_acc, b->test_acc);
        }
    }
    /* the same run again: the same bytes */
    run_ranks(run, R, again);
    if (jobs[0].st == MLP_OK && again[0].st == MLP_OK)
        CHECK_MSG(params_same(jobs[0].m, again[0].m), "%s %s on %d ranks: two runs differ", what, dt, R);
    free_jobs(alone, 1);
    free_jobs(jobs, R);
    free_jobs(again, R);
}

int main(void)
{
    make_data();
    /* f64: the sums' order moves the last bits; over a few epochs the
     * weights stay within ~1e-12 of one process's (bound 1e-9).  f32:
     * the same in float's 24 bits, amplified by Adam's 1/sqrt(v) where v
     * is tiny (bound 1e-4 on weights of size ~1). */
    const struct run runs[] = {
        {MLP_F64, MLP_OPT_SGD, 4, 16, 1e-3, N_ROWS, 0, NULL, NULL, 0},
        {MLP_F64, MLP_OPT_ADAM, 4, 32, 0, N_ROWS, 0, NULL, NULL, 0},
        {MLP_F32, MLP_OPT_ADAM, 4, 32, 1e-3, N_ROWS, 0, NULL, NULL, 0},
        {MLP_F64, MLP_OPT_GD, 10, 0, 1e-3, N_ROWS, 0, NULL, NULL, 0},
        {MLP_F32, MLP_OPT_SGD, 3, 50, 0, N_ROWS, 0, NULL, NULL, 0},
    };
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++)
        for (int R = 2; R <= 3; R++)
            against_alone(&runs[i], R, runs[i].dt == MLP_F64 ? 1e-9 : 1e-4, runs[i].dt == MLP_F64 ? 1e-12 : 1e-5);
    /* the solvers: the line search's steps depend on every bit of the
     * gradient, so few iterations and a looser bound */
    const struct run solvers[] = {
        {MLP_F64, MLP_OPT_CG, 8, 0, 1e-3, N_ROWS, 0, NULL, NULL, 0},
        {MLP_F64, MLP_OPT_LBFGS, 8, 0, 0, N_ROWS, 0, NULL, NULL, 0},
    };
    for (size_t i = 0; i < 2; i++) against_alone(&solvers[i], 3, 1e-7, 1e-9);

    /* more ranks than rows: rank 2's shard of 2 rows is empty */
    const struct run tiny = {MLP_F64, MLP_OPT_ADAM, 3, 1, 0, 2, 0, NULL, NULL, 0};
    against_alone(&tiny, 3, 1e-12, 1e-12);

    /* ranks that start from different weights are caught before any step */
    {
        const struct run bad = {MLP_F64, MLP_OPT_ADAM, 2, 32, 0, N_ROWS, 77, NULL, NULL, 0};
        struct rank_job jobs[MAX_RANKS];
        run_ranks(&bad, 2, jobs);
        for (int r = 0; r < 2; r++)
            CHECK_MSG(jobs[r].st == MLP_ERR_IO && strstr(jobs[r].msg, "different weights"),
                      "rank %d: status %d: %s", r, (int)jobs[r].st, jobs[r].msg);
        free_jobs(jobs, 2);
    }

    /* a shard that does not fit the network on rank 1 only: every rank
     * fails, rank 1 saying why, none left waiting in a sum (a hang would
     * end this test by ctest's timeout) */
    for (int broken = 1; broken <= 2; broken++) {
        const struct run bad = {MLP_F64, MLP_OPT_ADAM, 1, 32, 0, N_ROWS, 0, NULL, NULL, broken};
        struct rank_job jobs[MAX_RANKS];
        run_ranks(&bad, 3, jobs);
        for (int r = 0; r < 3; r++) {
            enum mlp_status got = broken == 1 ? jobs[r].st : jobs[r].eval_st;
            const char *msg = broken == 1 ? jobs[r].msg : jobs[r].eval_msg;
            CHECK_MSG(broken == 1 || jobs[r].st == MLP_OK, "broken %d rank %d: the run failed: %s", broken, r,
                      jobs[r].msg);
            if (r == 1)
                CHECK_MSG(got == MLP_ERR_RANGE && strstr(msg, "labels up to 6"), "broken %d rank 1: %d %s", broken,
                          (int)got, msg);
            else
                CHECK_MSG(got == MLP_ERR_IO && strstr(msg, "1 other rank"), "broken %d rank %d: %d %s", broken, r,
                          (int)got, msg);
        }
        free_jobs(jobs, 3);
    }

    /* a checkpoint of 2 ranks (rank 0 writes it) resumes on 3 and alone,
     * as an uninterrupted run on 2 would have gone on */
    {
        char dir[] = "/tmp/fastmlp_test_dist_XXXXXX", ck[64];
        CHECK(mkdtemp(dir) != NULL);
        snprintf(ck, sizeof ck, "%s/run.ckpt", dir);
        const struct run first = {MLP_F64, MLP_OPT_ADAM, 2, 32, 1e-3, N_ROWS, 0, ck, NULL, 0};
        const struct run whole = {MLP_F64, MLP_OPT_ADAM, 4, 32, 1e-3, N_ROWS, 0, NULL, NULL, 0};
        const struct run rest = {MLP_F64, MLP_OPT_ADAM, 4, 32, 1e-3, N_ROWS, 0, NULL, ck, 0};
        struct rank_job a[MAX_RANKS], ref[MAX_RANKS], on3[MAX_RANKS], on1[1], on2[MAX_RANKS];
        run_ranks(&first, 2, a);
        CHECK_MSG(a[0].st == MLP_OK && access(ck, F_OK) == 0, "2 ranks with a checkpoint: %s", a[0].msg);
        run_ranks(&whole, 2, ref);
        run_ranks(&rest, 3, on3);
        run_ranks(&rest, 1, on1);
        run_ranks(&rest, 2, on2);
        CHECK_MSG(on3[0].st == MLP_OK, "resume on 3 ranks: %s", on3[0].msg);
        CHECK_MSG(on1[0].st == MLP_OK, "resume alone: %s", on1[0].msg);
        CHECK_MSG(on2[0].st == MLP_OK, "resume on 2 ranks: %s", on2[0].msg);
        if (ref[0].st == MLP_OK && on2[0].st == MLP_OK)
            CHECK_MSG(params_same(ref[0].m, on2[0].m), "2 ranks resumed on 2 differ from an uninterrupted run");
        if (ref[0].st == MLP_OK && on3[0].st == MLP_OK) CHECK(params_max_diff(ref[0].m, on3[0].m) <= 1e-9);
        if (ref[0].st == MLP_OK && on1[0].st == MLP_OK) CHECK(params_max_diff(ref[0].m, on1[0].m) <= 1e-9);
        CHECK(on3[0].n_hist == 4 && on1[0].n_hist == 4);
        free_jobs(a, 2);
        free_jobs(ref, 2);
        free_jobs(on3, 3);
        free_jobs(on1, 1);
        free_jobs(on2, 2);
        unlink(ck);
        rmdir(dir);
    }
    return check_report("test_dist");
}
