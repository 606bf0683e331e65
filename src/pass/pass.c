/* SPDX-License-Identifier: MIT */
/* Forward and backward passes over data sets: the engine behind loss+gradient,
 * evaluation and prediction.  This file holds what does not depend on the
 * element type: checking the rows, choosing the stage and the element type's
 * instance.  The passes themselves are written once in pass.inc and step.inc
 * and instantiated by pass_f32.c and pass_f64.c (core/tmpl.h). */
#include "context/context.h"
#include "core/pool.h"
#include "kernels/kernels.h"
#include "kernels/ktable.h"
#include "pass/pass.h"
#include "pass/devrun.h"

/* Whether the model-parallel step pays for a batch of B rows on nt threads:
 * enough weights for the split to matter (as for Adam's own split, ~32K),
 * the work shared evenly (the busiest thread's units no more than 1.25x an
 * even share; a network of 10-unit layers would leave all of it to one
 * thread), and buffers of a sane size. */
bool mlp__step_pays(const struct mlp_model *m, uint32_t B, uint32_t nt, size_t esz)
{
    if (B > MLP_STEP_MAX_ROWS) return false;
    uint64_t total = 0, worst = 0, elems = mlp__n_in(m);
    size_t params = 0;
    for (uint32_t l = 0; l < m->n_layers; l++) {
        total += (uint64_t)m->layers[l].n_in * m->layers[l].n_out;
        params += ((size_t)m->layers[l].n_in + 1) * m->layers[l].n_out;
        elems += 2 * (uint64_t)m->layers[l].n_out;
    }
    if (params != m->n_params || total < 32768 || (uint64_t)B * elems * esz > ((uint64_t)64 << 20)) return false;
    for (uint32_t t = 0; t < nt; t++) {
        uint64_t w = 0;
        for (uint32_t l = 0; l < m->n_layers; l++) {
            size_t lo, hi;
            mlp__pool_slice(m->layers[l].n_out, t, nt, 64 / esz, &lo, &hi);
            w += (uint64_t)(hi - lo) * m->layers[l].n_in;
        }
        if (w > worst) worst = w;
    }
    return worst * nt * 4 <= total * 5;
}

/* Rows per block: about 512K activation elements per block (2 MiB in f32),
 * so that a block's activations stay in L2/L3 while its backward pass runs,
 * but never fewer than 32 rows (GEMM efficiency) nor more than 512. */
static uint32_t default_block_rows(const struct mlp_model *m)
{
    uint64_t width = mlp__n_in(m);
    for (uint32_t l = 0; l < m->n_layers; l++) width += m->layers[l].n_out;
    uint64_t b = (512u * 1024u) / width;
    if (b < 32) b = 32;
    if (b > 512) b = 512;
    return (uint32_t)b;
}

static enum mlp_status check_rows(const struct mlp_pass *p, struct mlp_error *err)
{
    if (p->n == 0) return mlp__fail(err, MLP_ERR_ARG, "no rows to process");
    if (p->rows) {
        for (uint64_t i = 0; i < p->n; i++)
            if (p->rows[i] >= p->ds->n_rows)
                return mlp__fail(err, MLP_ERR_RANGE, "row index %llu out of range (data has %llu rows)",
                                 (unsigned long long)p->rows[i], (unsigned long long)p->ds->n_rows);
    } else if (p->row0 > p->ds->n_rows || p->n > p->ds->n_rows - p->row0) {
        return mlp__fail(err, MLP_ERR_RANGE, "rows %llu..%llu out of range (data has %llu rows)",
                         (unsigned long long)p->row0, (unsigned long long)(p->row0 + p->n),
                         (unsigned long long)p->ds->n_rows);
    }
    return MLP_OK;
}

/* The builds of the fast pass and the step, one per instruction set the
 * kernel table runs at (pass_<isa>_<type>.c; the portable one elsewhere). */
typedef enum mlp_status (*fast_fn)(struct mlp_pass *, struct mlp_error *);
typedef enum mlp_status (*step_fn)(struct mlp_pass *, void (*)(void *, size_t, size_t), void *, bool *,
                                   struct mlp_error *);
struct pass_build {
    fast_fn fast[2]; /* f32, f64 */
    step_fn step[2];
};

static const struct pass_build portable_build = {{mlp__run_pass_fast_f32, mlp__run_pass_fast_f64},
                                                 {mlp__run_step_f32, mlp__run_step_f64}};
#if defined(__x86_64__) || defined(_M_X64)
static const struct pass_build avx2_build = {{mlp__run_pass_fast_avx2_f32, mlp__run_pass_fast_avx2_f64},
                                             {mlp__run_step_avx2_f32, mlp__run_step_avx2_f64}};
static const struct pass_build avx512_build = {{mlp__run_pass_fast_avx512_f32, mlp__run_pass_fast_avx512_f64},
                                               {mlp__run_step_avx512_f32, mlp__run_step_avx512_f64}};
#endif
#if defined(__aarch64__)
static const struct pass_build neon_build = {{mlp__run_pass_fast_neon_f32, mlp__run_pass_fast_neon_f64},
                                             {mlp__run_step_neon_f32, mlp__run_step_neon_f64}};
#endif

/* The build for m's kernel table's instruction set. */
static const struct pass_build *pass_build(const struct mlp_model *m)
{
#if defined(__x86_64__) || defined(_M_X64)
    switch (mlp__model_kt(m)->isa) {
    case MLP_ISA_AVX2: return &avx2_build;
    case MLP_ISA_AVX512:
    case MLP_ISA_AVX512_VNNI:
    case MLP_ISA_AVX512_BF16: return &avx512_build;
    default: break;
    }
#endif
#if defined(__aarch64__)
    if (mlp__model_kt(m)->isa == MLP_ISA_NEON) return &neon_build;
#endif
    (void)m;
    return &portable_build;
}

enum mlp_status mlp__run_step(struct mlp_pass *p, void (*update)(void *ctx, size_t lo, size_t hi), void *ctx,
                              bool *done, struct mlp_error *err)
{
    MLP_ASSERT(p && p->m && p->ds && update && done);
    *done = false;
    if (p->backend == MLP_BACKEND_REF || mlp__model_kernels(p->m) != MLP_KERNELS_FAST || !p->grad || p->l2 != 0 ||
        p->out || !(p->ds->labels || p->ds->targets) || p->n > MLP_STEP_MAX_ROWS || mlp__model_threads(p->m) < 2)
        return MLP_OK;
    /* The step runs GEMMs on every pool thread: the BLAS must not add its
     * own threads (a run of steps may never reach mlp__run_pass, which sets
     * this too; without it W5 ran 3x slower on 2 threads). */
    mlp__blas_threads(1);
    p->loss = 0;
    p->correct = 0;
    p->n_parts = 0;
    enum mlp_status st = check_rows(p, err);
    if (st != MLP_OK) return st;
    return pass_build(p->m)->step[p->m->dtype == MLP_F64](p, update, ctx, done, err);
}

enum mlp_status mlp__run_pass(struct mlp_pass *p, struct mlp_error *err)
{
    MLP_ASSERT(p && p->m && p->ds);
    p->loss = 0;
    p->correct = 0;
    p->n_parts = 0;
    enum mlp_status st = check_rows(p, err);
    if (st != MLP_OK) return st;
    if (p->block_rows == 0) p->block_rows = default_block_rows(p->m);
    const bool f32 = p->m->dtype == MLP_F32;
    /* The reference backend (the tests' oracle) always runs serially. */
    if (p->backend == MLP_BACKEND_REF) return f32 ? mlp__run_pass_f32(p, err) : mlp__run_pass_f64(p, err);
    /* The BLAS's threads: the batched stage's only ones; one while fastmlp's
     * own pool runs several BLAS calls side by side. */
    const enum mlp_kernels stage = mlp__model_kernels(p->m);
    mlp__blas_threads(stage == MLP_KERNELS_FAST ? 1 : mlp__model_threads(p->m));
    switch (stage) {
    case MLP_KERNELS_FAST: return pass_build(p->m)->fast[!f32](p, err);
    /* ladder stages */
    case MLP_KERNELS_NAIVE: return mlp__pass_naive(p, err);
    case MLP_KERNELS_PERSAMPLE: return mlp__pass_persample(p, err);
    default:
        return f32 ? mlp__run_pass_f32(p, err) : mlp__run_pass_f64(p, err);
    }
}

enum mlp_status mlp_model_loss_grad(const struct mlp_model *m, const struct mlp_dataset *ds,
                                    const struct mlp_rows *rows, const struct mlp_loss_grad *lg,
                                    struct mlp_error *err)
{
    MLP_ASSERT(m && ds && lg);
    enum mlp_status st = mlp__check_data(m, ds, true, err);
    if (st != MLP_OK) return st;
    struct mlp_pass p = {.m = m, .ds = ds, .row0 = rows ? rows->row0 : 0, .n = rows ? rows->n : ds->n_rows,
                         .rows = rows ? rows->index : NULL, .l2 = lg->l2, .grad = lg->grad};
    st = mlp__run_pass(&p, err);
    if (st == MLP_OK && lg->loss) *lg->loss = p.loss;
    return st;
}

enum mlp_status mlp_model_evaluate(const struct mlp_model *m, const struct mlp_dataset *ds,
                                   double *loss, double *accuracy, struct mlp_error *err)
{
    MLP_ASSERT(m && ds);
    enum mlp_status st = mlp__check_data(m, ds, true, err);
    if (st != MLP_OK) return st;
    struct mlp_pass p = {.m = m, .ds = ds, .n = ds->n_rows};
    /* on a GPU: the same sums there (pass/devrun.c) */
    if (mlp__model_dev(m) && ds->n_rows > 0) return mlp__dev_model_evaluate(m, ds, loss, accuracy, err);
    st = mlp__run_pass(&p, err);
    if (st != MLP_OK) return st;
    if (loss) *loss = p.loss;
    if (accuracy) *accuracy = ds->labels ? (double)p.correct / (double)ds->n_rows : -1.0;
    return MLP_OK;
}

enum mlp_status mlp_model_predict(const struct mlp_model *m, const struct mlp_dataset *ds,
                                  const struct mlp_rows *rows, double *out, struct mlp_error *err)
{
    MLP_ASSERT(m && ds && out);
    /* a prediction pass needs no targets: hidden from the head and the check */
    const struct mlp_dataset x_only = mlp__x_only(ds);
    enum mlp_status st = mlp__check_data(m, &x_only, false, err);
    if (st != MLP_OK) return st;
    struct mlp_pass p = {.m = m, .ds = &x_only, .row0 = rows ? rows->row0 : 0, .n = rows ? rows->n : ds->n_rows,
                         .rows = rows ? rows->index : NULL, .out = out};
    if (mlp__model_dev(m)) {
        if ((st = check_rows(&p, err)) != MLP_OK) return st;
        return mlp__dev_model_predict(m, ds, rows, out, err);
    }
    return mlp__run_pass(&p, err);
}
