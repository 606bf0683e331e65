/* SPDX-License-Identifier: MIT */
/* ONNX export (mlp_model_onnx), checked without onnx or onnxruntime: an
 * independent reader of the protobuf (the wire format and onnx.proto's
 * field numbers, written here from the spec) decodes the graph, a small
 * interpreter runs its nodes on a batch, and the output must be what
 * mlp_model_predict gives, for every activation and head, f32 and f64,
 * with and without preprocessing. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fastmlp.h"
#include "testutil.h"

/* ------------------------------------------------------------ the reader */

struct rd {
    const unsigned char *p, *end;
    int bad;
};

static uint64_t varint(struct rd *r)
{
    uint64_t v = 0;
    for (int s = 0; s < 64; s += 7) {
        if (r->p >= r->end) {
            r->bad = 1;
            return 0;
        }
        unsigned char b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << s;
        if (!(b & 0x80)) return v;
    }
    r->bad = 1;
    return 0;
}

/* The next field: its number, wire type, and a varint value or a
 * length-delimited span / fixed32 bytes in *sub. */
static int next_field(struct rd *r, unsigned *field, unsigned *wt, uint64_t *v, struct rd *sub)
{
    if (r->p >= r->end || r->bad) return 0;
    uint64_t key = varint(r);
    *field = (unsigned)(key >> 3);
    *wt = (unsigned)(key & 7);
    if (*wt == 0) {
        *v = varint(r);
    } else if (*wt == 2 || *wt == 5) {
        uint64_t n = *wt == 5 ? 4 : varint(r);
        if (n > (uint64_t)(r->end - r->p)) {
            r->bad = 1;
            return 0;
        }
        *sub = (struct rd){r->p, r->p + n, 0};
        r->p += n;
    } else {
        r->bad = 1;
        return 0;
    }
    return !r->bad;
}

#define MAXN 64
struct tensor {
    char name[32];
    int elem;
    uint64_t dims[2];
    int n_dims;
    double v[4096];
    size_t n;
};
struct nodeinfo {
    char op[16], in[3][32], out[32], attr[16];
    int n_in;
    double attr_v;
};
struct graph {
    struct tensor t[MAXN];
    int n_t;
    struct nodeinfo node[MAXN];
    int n_node;
    int opset, ir;
};

static void copy_str(char *dst, size_t cap, const struct rd *s)
{
    size_t n = (size_t)(s->end - s->p);
    if (n >= cap) n = cap - 1;
    memcpy(dst, s->p, n);
    dst[n] = 0;
}

static void read_tensor(struct rd r, struct tensor *t)
{
    unsigned f = 0, wt = 0;
    uint64_t v = 0;
    struct rd s = {0};
    memset(t, 0, sizeof *t);
    while (next_field(&r, &f, &wt, &v, &s)) {
        if (f == 1 && wt == 0 && t->n_dims < 2) t->dims[t->n_dims++] = v;
        if (f == 2 && wt == 0) t->elem = (int)v;
        if (f == 8 && wt == 2) copy_str(t->name, sizeof t->name, &s);
        if (f == 9 && wt == 2) {
            size_t esz = t->elem == 1 ? 4 : 8, n = (size_t)(s.end - s.p) / esz;
            for (size_t i = 0; i < n && i < 4096; i++) {
                if (esz == 4) {
                    uint32_t u = (uint32_t)s.p[4 * i] | (uint32_t)s.p[4 * i + 1] << 8 |
                                 (uint32_t)s.p[4 * i + 2] << 16 | (uint32_t)s.p[4 * i + 3] << 24;
                    float x;
                    memcpy(&x, &u, 4);
                    t->v[i] = x;
                } else {
                    uint64_t u = 0;
                    for (int k = 0; k < 8; k++) u |= (uint64_t)s.p[8 * i + k] << (8 * k);
                    memcpy(&t->v[i], &u, 8);
                }
            }
            t->n = n;
        }
    }
}

static void read_node(struct rd r, struct nodeinfo *nd)
{
    unsigned f = 0, wt = 0;
    uint64_t v = 0;
    struct rd s = {0};
    memset(nd, 0, sizeof *nd);
    while (next_field(&r, &f, &wt, &v, &s)) {
        if (f == 1 && wt == 2 && nd->n_in < 3) copy_str(nd->in[nd->n_in++], 32, &s);
        if (f == 2 && wt == 2) copy_str(nd->out, sizeof nd->out, &s);
        if (f == 4 && wt == 2) copy_str(nd->op, sizeof nd->op, &s);
        if (f == 5 && wt == 2) { /* AttributeProto */
            unsigned af = 0, awt = 0;
            uint64_t av = 0;
            struct rd as = {0};
            while (next_field(&s, &af, &awt, &av, &as)) {
                if (af == 1 && awt == 2) copy_str(nd->attr, sizeof nd->attr, &as);
                if (af == 3 && awt == 0) nd->attr_v = (double)(int64_t)av;
                if (af == 2 && awt == 5) {
                    uint32_t u = (uint32_t)as.p[0] | (uint32_t)as.p[1] << 8 | (uint32_t)as.p[2] << 16 |
                                 (uint32_t)as.p[3] << 24;
                    float x;
                    memcpy(&x, &u, 4);
                    nd->attr_v = x;
                }
            }
        }
    }
}

static int read_model(const void *b, size_t n, struct graph *g)
{
    struct rd r = {b, (const unsigned char *)b + n, 0}, s = {0};
    unsigned f = 0, wt = 0;
    uint64_t v = 0;
    memset(g, 0, sizeof *g);
    while (next_field(&r, &f, &wt, &v, &s)) {
        if (f == 1 && wt == 0) g->ir = (int)v;
        if (f == 8 && wt == 2) {
            unsigned of = 0, owt = 0;
            uint64_t ov = 0;
            struct rd os = {0};
            while (next_field(&s, &of, &owt, &ov, &os))
                if (of == 2 && owt == 0) g->opset = (int)ov;
        }
        if (f == 7 && wt == 2) {
            unsigned gf = 0, gwt = 0;
            uint64_t gv = 0;
            struct rd gs = {0};
            while (next_field(&s, &gf, &gwt, &gv, &gs)) {
                if (gf == 1 && gwt == 2 && g->n_node < MAXN) read_node(gs, &g->node[g->n_node++]);
                if (gf == 5 && gwt == 2 && g->n_t < MAXN) read_tensor(gs, &g->t[g->n_t++]);
            }
            if (s.bad) return 0;
        }
    }
    return !r.bad;
}

/* ------------------------------------------------------- the interpreter */

struct val {
    char name[32];
    double *x; /* N x w */
    uint32_t w;
};

static struct val *find_val(struct val *vals, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(vals[i].name, name) == 0) return &vals[i];
    return NULL;
}

static const struct tensor *find_t(const struct graph *g, const char *name)
{
    for (int i = 0; i < g->n_t; i++)
        if (strcmp(g->t[i].name, name) == 0) return &g->t[i];
    return NULL;
}

/* Runs g on X (N x w); the "output" value, or NULL on a node it cannot run. */
static double *run(const struct graph *g, const double *X, uint64_t N, uint32_t w, uint32_t *w_out)
{
    struct val vals[MAXN + 1];
    int nv = 0;
    vals[nv].x = malloc(N * w * sizeof(double));
    memcpy(vals[nv].x, X, N * w * sizeof(double));
    vals[nv].w = w;
    snprintf(vals[nv++].name, 32, "input");
    double *res = NULL;
    for (int k = 0; k < g->n_node; k++) {
        const struct nodeinfo *nd = &g->node[k];
        struct val *a = find_val(vals, nv, nd->in[0]);
        if (!a) break;
        struct val o = {.w = a->w};
        snprintf(o.name, 32, "%s", nd->out);
        if (strcmp(nd->op, "Gemm") == 0) {
            const struct tensor *W = find_t(g, nd->in[1]), *B = find_t(g, nd->in[2]);
            if (!W || !B || W->dims[1] != a->w || nd->attr_v != 1) break;
            o.w = (uint32_t)W->dims[0];
            o.x = malloc(N * o.w * sizeof(double));
            for (uint64_t r = 0; r < N; r++)
                for (uint32_t j = 0; j < o.w; j++) {
                    double s = B->v[j];
                    for (uint32_t i = 0; i < a->w; i++) s += a->x[r * a->w + i] * W->v[(size_t)j * a->w + i];
                    o.x[r * o.w + j] = s;
                }
        } else {
            o.x = malloc(N * o.w * sizeof(double));
            const struct tensor *c = nd->n_in > 1 ? find_t(g, nd->in[1]) : NULL;
            /* Max / Min of two values (the f64 leaky ReLU) */
            const struct val *b2 = nd->n_in > 1 && !c ? find_val(vals, nv, nd->in[1]) : NULL;
            if (nd->n_in > 1 && !c && (!b2 || b2->w != a->w)) {
                free(o.x);
                break;
            }
            for (uint64_t r = 0; r < N; r++) {
                double mx = -INFINITY, sum = 0;
                for (uint32_t j = 0; j < a->w; j++) mx = fmax(mx, a->x[r * a->w + j]);
                for (uint32_t j = 0; j < a->w; j++) sum += exp(a->x[r * a->w + j] - mx);
                for (uint32_t j = 0; j < a->w; j++) {
                    double x = a->x[r * a->w + j], cj = c ? c->v[c->n == 1 ? 0 : j] : 0, y;
                    if (b2 && strcmp(nd->op, "Max") == 0)
                        y = fmax(x, b2->x[r * a->w + j]);
                    else if (b2 && strcmp(nd->op, "Min") == 0)
                        y = fmin(x, b2->x[r * a->w + j]);
                    else if (strcmp(nd->op, "Mul") == 0)
                        y = x * cj;
                    else if (strcmp(nd->op, "Sub") == 0)
                        y = x - cj;
                    else if (strcmp(nd->op, "Relu") == 0)
                        y = x > 0 ? x : 0;
                    else if (strcmp(nd->op, "LeakyRelu") == 0)
                        y = x > 0 ? x : nd->attr_v * x;
                    else if (strcmp(nd->op, "Sigmoid") == 0)
                        y = 1 / (1 + exp(-x));
                    else if (strcmp(nd->op, "Tanh") == 0)
                        y = tanh(x);
                    else if (strcmp(nd->op, "Softmax") == 0)
                        y = exp(x - mx) / sum;
                    else
                        y = NAN;
                    o.x[r * o.w + j] = y;
                }
            }
        }
        vals[nv++] = o;
        if (strcmp(o.name, "output") == 0) {
            res = o.x;
            *w_out = o.w;
            vals[nv - 1].x = NULL;
            break;
        }
    }
    for (int i = 0; i < nv; i++) free(vals[i].x);
    return res;
}

/* ------------------------------------------------------------ the cases */

static void check_case(enum mlp_dtype dt, enum mlp_act act, enum mlp_head head, uint32_t n_hidden, double scale,
                       int standardize, uint32_t n_out, const char *what)
{
    enum { N = 7, NIN = 5 };
    struct mlp_layer_spec hid[2] = {{6, act}, {4, act}};
    struct mlp_model_params mp = mlp_model_params_default();
    mp.dtype = dt;
    mp.n_in = NIN;
    mp.n_hidden = n_hidden;
    mp.hidden = hid;
    mp.n_out = n_out;
    mp.head = head;
    mp.input_scale = scale;
    mp.leaky_slope = 0.2;
    struct mlp_model *m = NULL;
    CHECK_STATUS(mlp_model_create(&m, &mp, NULL), MLP_OK);
    if (!m) return;
    CHECK_STATUS(mlp_model_init(m, MLP_INIT_UNIFORM, -0.9, 0.9, 7), MLP_OK);
    if (standardize) {
        double mean[NIN] = {0.5, -1, 2, 0, 3}, sd[NIN] = {1, 0.5, 2, 4, 0.25};
        CHECK_STATUS(mlp_model_set_standardize(m, mean, sd, NULL), MLP_OK);
    }
    double X[N * NIN];
    for (int i = 0; i < N * NIN; i++) X[i] = sin(1.7 * i) * 3;
    struct mlp_dataset ds = {.n_rows = N, .n_cols = NIN, .x_type = MLP_ELEM_F64, .x = X};
    double want[N * 8];
    CHECK_STATUS(mlp_model_predict(m, &ds, NULL, want, NULL), MLP_OK);
    void *bytes = NULL;
    size_t size = 0;
    CHECK_STATUS(mlp_model_onnx(m, &bytes, &size, NULL), MLP_OK);
    static struct graph g;
    CHECK_MSG(bytes && read_model(bytes, size, &g), "%s: the bytes do not decode", what);
    CHECK_MSG(g.opset == 13 && g.ir == 7, "%s: opset %d, ir %d", what, g.opset, g.ir);
    uint32_t w_out = 0;
    double *got = run(&g, X, N, NIN, &w_out);
    CHECK_MSG(got && w_out == n_out, "%s: no output of %u values", what, n_out);
    double worst = 0;
    for (int i = 0; got && i < N * (int)n_out; i++) worst = fmax(worst, fabs(got[i] - want[i]) / fmax(1, fabs(want[i])));
    /* f32: the interpreter runs in f64 on the f32 weights */
    CHECK_MSG(got && worst <= (dt == MLP_F32 ? 1e-5 : 1e-12), "%s: relative difference %g", what, worst);
    free(got);
    free(bytes);
    mlp_model_free(m);
}

int main(void)
{
    check_case(MLP_F32, MLP_ACT_RELU, MLP_HEAD_SOFTMAX_CE, 2, 1.0 / 255, 1, 3, "f32 relu softmax, scaled, standardised");
    check_case(MLP_F64, MLP_ACT_TANH, MLP_HEAD_IDENTITY_MSE, 1, 1, 1, 2, "f64 tanh identity-mse, standardised");
    check_case(MLP_F32, MLP_ACT_LEAKY_RELU, MLP_HEAD_SIGMOID_BCE, 2, 1, 0, 1, "f32 leaky-relu sigmoid-bce");
    check_case(MLP_F64, MLP_ACT_SIGMOID, MLP_HEAD_SIGMOID_MSE, 1, 2, 0, 2, "f64 sigmoid sigmoid-mse, scaled");
    check_case(MLP_F32, MLP_ACT_IDENTITY, MLP_HEAD_TANH_MSE, 1, 1, 0, 2, "f32 identity tanh-mse");
    check_case(MLP_F64, MLP_ACT_LEAKY_RELU, MLP_HEAD_SOFTMAX_CE, 2, 1, 1, 3, "f64 leaky-relu softmax (Max of x, slope x)");
    check_case(MLP_F64, MLP_ACT_RELU, MLP_HEAD_SIGMOID_BCE, 0, 1, 1, 1, "f64 logistic neuron (seed 000)");
    /* the file is the bytes */
    struct mlp_layer_spec hid[1] = {{3, MLP_ACT_RELU}};
    struct mlp_model *m = test_model(MLP_F32, 2, 1, hid, 2, MLP_HEAD_SOFTMAX_CE, 1);
    char path[] = "/tmp/fastmlp-onnx-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (m && fd >= 0) {
        void *b = NULL;
        size_t n = 0;
        CHECK_STATUS(mlp_model_onnx(m, &b, &n, NULL), MLP_OK);
        CHECK_STATUS(mlp_model_save_onnx(m, path, NULL), MLP_OK);
        FILE *f = fopen(path, "rb");
        unsigned char buf[4096];
        size_t k = f ? fread(buf, 1, sizeof buf, f) : 0;
        if (f) fclose(f);
        CHECK(b && k == n && memcmp(buf, b, n) == 0);
        free(b);
        remove(path);
    }
    mlp_model_free(m);
    /* the producer version in the graph is the library's */
    CHECK(strcmp(mlp_version(), MLP_VERSION_STRING) == 0);
    return check_report("onnx");
}
