/* SPDX-License-Identifier: MIT */
/* Model creation and ownership: the layer table and the one flat parameter
 * vector (per layer: W row-major n_out x n_in, then b), initialisers, and the
 * checks of a data set against a model. */
#include "data/schema.h"
#include "internal.h"

#include <inttypes.h>

#include <math.h>
#include <string.h>

struct mlp_model_params mlp_model_params_default(void)
{
    struct mlp_model_params p = {0};
    p.dtype = MLP_F32;
    p.head = MLP_HEAD_SOFTMAX_CE;
    p.leaky_slope = 0.01;
    p.input_scale = 1.0;
    return p;
}

static bool act_ok(int a) { return a >= 0 && a < MLP_ACT_COUNT; }

enum mlp_status mlp_model_create(struct mlp_model **out,
                                 const struct mlp_model_params *p,
                                 struct mlp_error *err)
{
    MLP_ASSERT(out && p);
    *out = NULL;
    if (p->dtype != MLP_F32 && p->dtype != MLP_F64)
        return mlp__fail(err, MLP_ERR_ARG, "unknown dtype id %d", (int)p->dtype);
    if ((int)p->head < 0 || p->head >= MLP_HEAD_COUNT)
        return mlp__fail(err, MLP_ERR_ARG, "unknown output head id %d", (int)p->head);
    if (p->n_in == 0 || p->n_in > MLP_MAX_WIDTH)
        return mlp__fail(err, MLP_ERR_ARG, "input width %u out of range 1..%u", p->n_in, MLP_MAX_WIDTH);
    if (p->n_out == 0 || p->n_out > MLP_MAX_WIDTH)
        return mlp__fail(err, MLP_ERR_ARG, "output width %u out of range 1..%u", p->n_out, MLP_MAX_WIDTH);
    if (p->n_hidden >= MLP_MAX_LAYERS)
        return mlp__fail(err, MLP_ERR_ARG, "%u hidden layers: at most %u", p->n_hidden, MLP_MAX_LAYERS - 1);
    if (p->n_hidden > 0 && !p->hidden)
        return mlp__fail(err, MLP_ERR_ARG, "n_hidden is %u but no layer table given", p->n_hidden);
    if (p->head == MLP_HEAD_SOFTMAX_CE && p->n_out < 2)
        return mlp__fail(err, MLP_ERR_ARG, "softmax-ce needs at least 2 outputs, got %u", p->n_out);
    /* The backward pass takes act'(z) from a = act(z), which needs a leaky
     * slope >= 0 (then a > 0 exactly when z > 0). */
    if (!isfinite(p->leaky_slope) || p->leaky_slope < 0 || p->leaky_slope >= 1)
        return mlp__fail(err, MLP_ERR_ARG, "leaky slope %g out of range [0, 1)", p->leaky_slope);
    if (!isfinite(p->input_scale) || p->input_scale == 0)
        return mlp__fail(err, MLP_ERR_ARG, "input scale %g must be finite and non-zero", p->input_scale);

    uint32_t nl = p->n_hidden + 1;
    struct mlp_model *m = calloc(1, sizeof *m);
    struct mlp_layer *L = calloc(nl, sizeof *L);
    if (!m || !L) {
        free(m);
        free(L);
        return mlp__fail(err, MLP_ERR_NOMEM, "cannot allocate a model of %u layers", nl);
    }
    uint64_t total = 0;
    uint32_t prev = p->n_in, maxw = p->n_in;
    for (uint32_t i = 0; i < nl; i++) {
        bool last = i == nl - 1;
        uint32_t w = last ? p->n_out : p->hidden[i].n_out;
        enum mlp_act a = last ? mlp__head_act(p->head) : p->hidden[i].act;
        if (!last && (w == 0 || w > MLP_MAX_WIDTH)) {
            free(L);
            free(m);
            return mlp__fail(err, MLP_ERR_ARG, "hidden layer %u: width %u out of range 1..%u", i + 1, w, MLP_MAX_WIDTH);
        }
        if (!act_ok((int)a)) {
            free(L);
            free(m);
            return mlp__fail(err, MLP_ERR_ARG, "hidden layer %u: unknown activation id %d", i + 1, (int)a);
        }
        uint64_t nw;
        if (!mlp__mul_ok(prev, w, MLP_MAX_PARAMS, &nw) || total + nw + w > MLP_MAX_PARAMS) {
            free(L);
            free(m);
            return mlp__fail(err, MLP_ERR_ARG, "model too large: more than %llu parameters",
                             (unsigned long long)MLP_MAX_PARAMS);
        }
        L[i] = (struct mlp_layer){.n_in = prev, .n_out = w, .act = a,
                                  .w_off = (size_t)total, .b_off = (size_t)(total + nw)};
        total += nw + w;
        prev = w;
        if (w > maxw) maxw = w;
    }
    m->dtype = p->dtype;
    m->head = p->head;
    m->n_layers = nl;
    m->max_width = maxw;
    m->leaky_slope = p->leaky_slope;
    m->input_scale = p->input_scale;
    m->ctx = p->ctx;
    m->n_params = (size_t)total;
    m->layers = L;
    m->params = mlp__acalloc(m->n_params * mlp__dtype_size(m->dtype));
    if (!m->params) {
        mlp_model_free(m);
        return mlp__fail(err, MLP_ERR_NOMEM, "cannot allocate %zu parameters", (size_t)total);
    }
    *out = m;
    return MLP_OK;
}

void mlp_model_free(struct mlp_model *m)
{
    if (!m) return;
    if (m->dev_cache) m->dev_cache_free(m->dev_cache);
    free(m->pre_mean);
    mlp__schema_free(m->schema);
    mlp__afree(m->params);
    free(m->layers);
    free(m);
}

enum mlp_status mlp_model_clone(struct mlp_model **out, const struct mlp_model *m,
                                struct mlp_error *err)
{
    MLP_ASSERT(out && m);
    *out = NULL;
    struct mlp_model *c = calloc(1, sizeof *c);
    if (!c) return mlp__fail(err, MLP_ERR_NOMEM, "cannot allocate a model copy");
    *c = *m;
    c->layers = malloc(m->n_layers * sizeof *c->layers);
    size_t bytes = m->n_params * mlp__dtype_size(m->dtype);
    c->params = mlp__amalloc(bytes);
    if (!c->layers || !c->params) {
        free(c->layers);
        mlp__afree(c->params);
        free(c);
        return mlp__fail(err, MLP_ERR_NOMEM, "cannot allocate a model copy");
    }
    memcpy(c->layers, m->layers, m->n_layers * sizeof *c->layers);
    memcpy(c->params, m->params, bytes);
    c->pre_mean = c->pre_std = c->pre_inv_std = NULL;
    c->schema = NULL;
    c->dev_cache = NULL; /* the copy opens its own engine when it needs one */
    if (m->pre_mean && mlp_model_set_standardize(c, m->pre_mean, m->pre_std, err) != MLP_OK) {
        mlp_model_free(c);
        return MLP_ERR_NOMEM;
    }
    if (m->schema && !(c->schema = mlp__schema_copy(m->schema))) {
        mlp_model_free(c);
        return mlp__fail(err, MLP_ERR_NOMEM, "cannot allocate a model copy");
    }
    *out = c;
    return MLP_OK;
}

static void set_param(struct mlp_model *m, size_t i, double v)
{
    if (m->dtype == MLP_F32)
        ((float *)m->params)[i] = (float)v;
    else
        ((double *)m->params)[i] = v;
}

enum mlp_status mlp_model_init(struct mlp_model *m, enum mlp_init init,
                               double a, double b, uint64_t seed)
{
    MLP_ASSERT(m);
    if ((int)init < 0 || init >= MLP_INIT_COUNT) return MLP_ERR_ARG;
    if (init == MLP_INIT_UNIFORM && !(isfinite(a) && isfinite(b) && a <= b)) return MLP_ERR_ARG;
    struct mlp_rng rng;
    mlp__rng_seed(&rng, seed);
    /* Draw in flat-vector order so the same seed always gives the same
     * weights, whatever the dtype. */
    for (uint32_t l = 0; l < m->n_layers; l++) {
        const struct mlp_layer *L = &m->layers[l];
        double lo = 0, hi = 0;
        bool bias_too = false;
        switch (init) {
        case MLP_INIT_ZEROS: break;
        case MLP_INIT_UNIFORM: lo = a; hi = b; bias_too = true; break;
        case MLP_INIT_XAVIER: hi = sqrt(6.0 / ((double)L->n_in + L->n_out)); lo = -hi; break;
        case MLP_INIT_HE: hi = sqrt(6.0 / (double)L->n_in); lo = -hi; break;
        case MLP_INIT_COUNT: break;
        }
        size_t nw = (size_t)L->n_in * L->n_out;
        for (size_t i = 0; i < nw; i++)
            set_param(m, L->w_off + i, init == MLP_INIT_ZEROS ? 0.0 : lo + (hi - lo) * mlp__rng_uniform(&rng));
        for (size_t i = 0; i < L->n_out; i++)
            set_param(m, L->b_off + i, bias_too ? lo + (hi - lo) * mlp__rng_uniform(&rng) : 0.0);
    }
    return MLP_OK;
}

enum mlp_dtype mlp_model_dtype(const struct mlp_model *m)
{
    MLP_ASSERT(m);
    return m->dtype;
}
uint32_t mlp_model_n_in(const struct mlp_model *m)
{
    MLP_ASSERT(m);
    return mlp__n_in(m);
}
uint32_t mlp_model_n_out(const struct mlp_model *m)
{
    MLP_ASSERT(m);
    return mlp__n_out(m);
}
uint32_t mlp_model_n_layers(const struct mlp_model *m)
{
    MLP_ASSERT(m);
    return m->n_layers;
}
enum mlp_head mlp_model_head(const struct mlp_model *m)
{
    MLP_ASSERT(m);
    return m->head;
}
double mlp_model_input_scale(const struct mlp_model *m)
{
    MLP_ASSERT(m);
    return m->input_scale;
}
double mlp_model_leaky_slope(const struct mlp_model *m)
{
    MLP_ASSERT(m);
    return m->leaky_slope;
}
size_t mlp_model_n_params(const struct mlp_model *m)
{
    MLP_ASSERT(m);
    return m->n_params;
}
void *mlp_model_params(struct mlp_model *m)
{
    MLP_ASSERT(m);
    return m->params;
}
const void *mlp_model_params_const(const struct mlp_model *m)
{
    MLP_ASSERT(m);
    return m->params;
}

struct mlp_layer_spec mlp_model_layer(const struct mlp_model *m, uint32_t i)
{
    MLP_ASSERT(m && i < m->n_layers);
    return (struct mlp_layer_spec){m->layers[i].n_out, m->layers[i].act};
}

size_t mlp_model_w_offset(const struct mlp_model *m, uint32_t i)
{
    MLP_ASSERT(m && i < m->n_layers);
    return m->layers[i].w_off;
}

size_t mlp_model_b_offset(const struct mlp_model *m, uint32_t i)
{
    MLP_ASSERT(m && i < m->n_layers);
    return m->layers[i].b_off;
}

enum mlp_status mlp__check_data(const struct mlp_model *m, const struct mlp_dataset *ds,
                                bool need_y, struct mlp_error *err)
{
    enum mlp_status st = mlp_dataset_validate(ds, err);
    if (st != MLP_OK) return st;
    if (ds->n_cols != mlp__n_in(m))
        return mlp__fail(err, MLP_ERR_SHAPE, "data has %u columns, the model expects %u inputs",
                         ds->n_cols, mlp__n_in(m));
    if (!need_y) return MLP_OK;
    uint32_t K = mlp__n_out(m);
    if (ds->labels) {
        /* One output: the label itself is the 0/1 target; K outputs: one-hot. */
        uint32_t max_classes = K == 1 ? 2 : K;
        if (ds->n_classes > max_classes)
            return mlp__fail(err, MLP_ERR_RANGE, "data has labels up to %u, the model has %u output%s (classes 0..%u)",
                             ds->n_classes - 1, K, K == 1 ? "" : "s", max_classes - 1);
        return MLP_OK;
    }
    if (ds->targets) {
        if (ds->n_targets != K)
            return mlp__fail(err, MLP_ERR_SHAPE, "data has %u targets per row, the model has %u outputs",
                             ds->n_targets, K);
        if (m->head == MLP_HEAD_SOFTMAX_CE)
            return mlp__fail(err, MLP_ERR_ARG, "softmax-ce needs class labels, the data has real targets");
        return MLP_OK;
    }
    return mlp__fail(err, MLP_ERR_ARG, "data has neither labels nor targets");
}

enum mlp_status mlp_model_check_data(const struct mlp_model *m, const struct mlp_dataset *ds, struct mlp_error *err)
{
    MLP_ASSERT(m && ds);
    return mlp__check_data(m, ds, ds->labels || ds->targets, err);
}

enum mlp_status mlp_model_params_from_data(struct mlp_model_params *p, const struct mlp_dataset *ds,
                                           struct mlp_error *err)
{
    MLP_ASSERT(p && ds);
    if (ds->targets) {
        if (p->head == MLP_HEAD_SOFTMAX_CE || p->head == MLP_HEAD_SIGMOID_BCE)
            return mlp__fail(err, MLP_ERR_ARG, "real targets need an MSE head (identity-mse, sigmoid-mse or tanh-mse), "
                             "not %s", mlp_head_name(p->head));
        p->n_out = ds->n_targets;
    } else if (ds->labels) {
        const uint32_t K = ds->n_classes;
        if (p->head == MLP_HEAD_SOFTMAX_CE && K < 2)
            return mlp__fail(err, MLP_ERR_RANGE, "softmax-ce needs at least 2 classes, the labels have %u", K);
        /* Two classes with a sigmoid or MSE head: one output against the
         * 0/1 label (seed 000). */
        p->n_out = p->head != MLP_HEAD_SOFTMAX_CE && K <= 2 ? 1 : K;
    } else {
        return mlp__fail(err, MLP_ERR_ARG, "data has neither labels nor targets");
    }
    p->n_in = ds->n_cols;
    /* uint8 formats are pixels; a table's small integers are not, even when
     * the CSV loader stores them as uint8 */
    p->input_scale = ds->x_type == MLP_ELEM_U8 && !ds->schema ? 1.0 / 255.0 : 1.0;
    return MLP_OK;
}

static double out_at(const void *out, enum mlp_dtype dt, uint32_t k)
{
    return dt == MLP_F32 ? ((const float *)out)[k] : ((const double *)out)[k];
}

uint32_t mlp__class_of(const void *out, enum mlp_dtype dt, uint32_t K)
{
    /* One output is trained against the 0/1 label itself (seed 000). */
    if (K == 1) return out_at(out, dt, 0) > 0.5;
    uint32_t best = 0;
    for (uint32_t k = 1; k < K; k++)
        if (out_at(out, dt, k) > out_at(out, dt, best)) best = k;
    return best;
}

uint32_t mlp_class_of(const double *p, uint32_t n_out)
{
    MLP_ASSERT(p && n_out > 0);
    return mlp__class_of(p, MLP_F64, n_out);
}

/* ------------------------------------------------------- standardisation */

void mlp_model_clear_standardize(struct mlp_model *m)
{
    MLP_ASSERT(m);
    free(m->pre_mean);
    m->pre_mean = m->pre_std = m->pre_inv_std = NULL;
}

enum mlp_status mlp_model_set_standardize(struct mlp_model *m, const double *mean, const double *std,
                                          struct mlp_error *err)
{
    MLP_ASSERT(m && mean && std);
    uint32_t n = mlp__n_in(m);
    for (uint32_t j = 0; j < n; j++)
        if (!isfinite(mean[j]) || !isfinite(std[j]) || !(std[j] > 0) || !isfinite(1 / std[j]))
            return mlp__fail(err, MLP_ERR_ARG, "standardisation of input %u: mean %g, std %g (need finite, std > 0)",
                             j, mean[j], std[j]);
    double *b = malloc(3 * (size_t)n * sizeof *b);
    if (!b) return mlp__fail(err, MLP_ERR_NOMEM, "cannot allocate standardisation for %u inputs", n);
    for (uint32_t j = 0; j < n; j++) {
        b[j] = mean[j];
        b[n + j] = std[j];
        b[2 * (size_t)n + j] = 1 / std[j];
    }
    mlp_model_clear_standardize(m);
    m->pre_mean = b;
    m->pre_std = b + n;
    m->pre_inv_std = b + 2 * (size_t)n;
    return MLP_OK;
}

static double elem_at(const struct mlp_dataset *ds, size_t i)
{
    switch (ds->x_type) {
    case MLP_ELEM_U8: return ((const uint8_t *)ds->x)[i];
    case MLP_ELEM_F32: return ((const float *)ds->x)[i];
    case MLP_ELEM_F64: return ((const double *)ds->x)[i];
    }
    return 0;
}

/* Sum n doubles over the group (comm NULL: nothing to do); a failure
 * becomes MLP_ERR_IO quoting the group's message. */
static enum mlp_status group_gather(const struct mlp_comm *c, const double *mine, double *all, size_t n,
                                    struct mlp_error *err)
{
    char msg[160] = "";
    if (c->allgather(c->self, mine, all, n * sizeof *mine, msg, sizeof msg))
        return mlp__fail(err, MLP_ERR_IO, "rank %d of %d: gathering the standardisation's sums failed: %s", c->rank,
                         c->size, msg);
    return MLP_OK;
}

enum mlp_status mlp_model_fit_standardize_group(struct mlp_model *m, const struct mlp_dataset *ds,
                                                const struct mlp_comm *comm, struct mlp_error *err)
{
    MLP_ASSERT(m && ds);
    const struct mlp_comm *c = comm && comm->size > 1 ? comm : NULL;
    enum mlp_status st = c && ds->n_rows == 0 ? MLP_OK : mlp__check_data(m, ds, false, err);
    if (st != MLP_OK) return st;
    if (!c && ds->n_rows == 0) return mlp__fail(err, MLP_ERR_ARG, "cannot fit standardisation on an empty data set");
    uint32_t n = mlp__n_in(m);
    const size_t ranks = c ? (size_t)c->size : 1;
    /* mean, m2, amax, then (group) every rank's amax, and its (count, mean, m2) */
    double *mean = calloc(3 * (size_t)n + (c ? ranks * n + ranks * (2 * (size_t)n + 1) + 2 * (size_t)n + 1 : 0),
                          sizeof *mean);
    if (!mean) return mlp__fail(err, MLP_ERR_NOMEM, "cannot allocate standardisation for %u inputs", n);
    double *m2 = mean + n, *amax = m2 + n;
    /* Each input is divided by its largest magnitude before Welford's
     * update, so values near the double range (1e300) cannot overflow the
     * squares; mean and std are scaled back at the end. */
    for (uint64_t r = 0; r < ds->n_rows; r++)
        for (uint32_t j = 0; j < n; j++) amax[j] = fmax(amax[j], fabs(elem_at(ds, (size_t)r * n + j) * m->input_scale));
    double *all_amax = amax + n, *all_stats = all_amax + ranks * n, *mine = all_stats + ranks * (2 * (size_t)n + 1);
    if (c) { /* the largest magnitude of every rank's rows */
        if ((st = group_gather(c, amax, all_amax, n, err)) != MLP_OK) goto done;
        for (size_t r = 0; r < ranks; r++)
            for (uint32_t j = 0; j < n; j++) amax[j] = fmax(amax[j], all_amax[r * n + j]);
    }
    for (uint64_t r = 0; r < ds->n_rows; r++) {
        double k = (double)(r + 1);
        for (uint32_t j = 0; j < n; j++) {
            double x = amax[j] > 0 ? elem_at(ds, (size_t)r * n + j) * m->input_scale / amax[j] : 0;
            double d = x - mean[j];
            mean[j] += d / k;
            m2[j] += d * (x - mean[j]);
        }
    }
    double rows = (double)ds->n_rows;
    if (c) {
        /* the shards' (count, mean, M2) merged in rank order (Chan et al.'s
         * pairwise update): every rank computes the same numbers, which
         * equal one process's Welford pass up to rounding */
        mine[0] = rows;
        memcpy(mine + 1, mean, n * sizeof *mean);
        memcpy(mine + 1 + n, m2, n * sizeof *m2);
        const size_t w = 2 * (size_t)n + 1;
        if ((st = group_gather(c, mine, all_stats, w, err)) != MLP_OK) goto done;
        rows = 0;
        memset(mean, 0, 2 * (size_t)n * sizeof *mean);
        for (size_t r = 0; r < ranks; r++) {
            const double *s = all_stats + r * w, nb = s[0];
            if (nb == 0) continue;
            const double na = rows, tot = na + nb;
            for (uint32_t j = 0; j < n; j++) {
                double d = s[1 + j] - mean[j];
                mean[j] += d * (nb / tot);
                m2[j] += s[1 + n + j] + d * d * (na * nb / tot);
            }
            rows = tot;
        }
        if (rows == 0) {
            st = mlp__fail(err, MLP_ERR_ARG, "cannot fit standardisation on an empty data set");
            goto done;
        }
    }
    for (uint32_t j = 0; j < n; j++) {
        double sd = sqrt(m2[j] / rows) * amax[j];
        mean[j] *= amax[j];
        /* a constant input (or one whose spread is lost in rounding) is only centred */
        m2[j] = sd > 1e-12 * (fabs(mean[j]) + 1e-300) && isfinite(1 / sd) ? sd : 1.0;
    }
    st = mlp_model_set_standardize(m, mean, m2, err);
    if (st == MLP_ERR_ARG) st = MLP_ERR_RANGE; /* the data, not the caller, is at fault */
done:
    free(mean);
    return st;
}

enum mlp_status mlp_model_fit_standardize(struct mlp_model *m, const struct mlp_dataset *ds, struct mlp_error *err)
{
    return mlp_model_fit_standardize_group(m, ds, NULL, err);
}

const double *mlp_model_standardize_mean(const struct mlp_model *m)
{
    MLP_ASSERT(m);
    return m->pre_mean;
}

const double *mlp_model_standardize_std(const struct mlp_model *m)
{
    MLP_ASSERT(m);
    return m->pre_std;
}

struct mlp_train_meta mlp_model_train_meta(const struct mlp_model *m)
{
    MLP_ASSERT(m);
    return m->meta;
}

void mlp_model_set_context(struct mlp_model *m, struct mlp_context *c)
{
    MLP_ASSERT(m);
    m->ctx = c;
}

struct mlp_context *mlp_model_context(const struct mlp_model *m)
{
    MLP_ASSERT(m);
    return m->ctx;
}

/* ------------------------------------------------------------ the schema */

enum mlp_status mlp_model_set_schema(struct mlp_model *m, const struct mlp_schema *s, struct mlp_error *err)
{
    MLP_ASSERT(m);
    if (s && s->n_inputs != mlp__n_in(m))
        return mlp__fail(err, MLP_ERR_SHAPE, "the table has %" PRIu32 " inputs, the model %" PRIu32, s->n_inputs,
                         mlp__n_in(m));
    if (s && s->task == MLP_TASK_CLASSIFY && s->label >= 0) {
        uint32_t K = mlp__n_out(m), want = K == 1 ? 2 : K;
        if (s->classes.n < 2)
            return mlp__fail(err, MLP_ERR_RANGE, "the table's label column holds one class (%s): nothing to classify",
                             s->classes.n ? s->classes.name[0] : "none");
        if (s->classes.n != want)
            return mlp__fail(err, MLP_ERR_SHAPE, "the table has %" PRIu32 " classes, the model's %" PRIu32
                             " output%s stand for %" PRIu32, s->classes.n, K, K == 1 ? "" : "s", want);
    }
    struct mlp_schema *c = NULL;
    if (s && !(c = mlp__schema_copy(s))) return mlp__fail(err, MLP_ERR_NOMEM, "out of memory");
    mlp__schema_free(m->schema);
    m->schema = c;
    return MLP_OK;
}

const struct mlp_schema *mlp_model_schema(const struct mlp_model *m)
{
    MLP_ASSERT(m);
    return m->schema;
}
