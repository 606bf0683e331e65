/* SPDX-License-Identifier: MIT */
/* A model as an ONNX graph (opset 13): the input's preprocessing (scale,
 * standardisation) as Mul/Sub/Mul nodes, each layer a Gemm (transB = 1: the
 * weights stay in fastmlp's n_out x n_in layout) and its activation, the
 * head's Softmax / Sigmoid / Tanh last.  The input is the data set's numeric
 * row (a table's categories already one-hot, its gaps already filled).
 *
 * The protobuf is written by hand: the graph is a handful of messages of
 * known fields (ModelProto, GraphProto, NodeProto, TensorProto,
 * ValueInfoProto), all written here and never read, so an encoder of
 * varints and length-delimited fields (~100 lines) does what
 * libprotobuf-c's generated code and runtime would, without a build-time
 * code generator or the onnx.proto file in the tree.  Field numbers are
 * those of onnx.proto (onnx/onnx on GitHub, IR version 7). */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------- the encoder */

/* A growing byte buffer; `bad` once an allocation failed (every later
 * write is dropped, the caller checks once at the end). */
struct pb {
    unsigned char *b;
    size_t n, cap;
    bool bad;
};

static void pb_bytes(struct pb *p, const void *s, size_t n)
{
    if (p->bad || n == 0) return;
    if (p->n + n > p->cap) {
        size_t cap = p->cap ? p->cap : 256;
        while (cap < p->n + n) cap *= 2;
        unsigned char *b = realloc(p->b, cap);
        if (!b) {
            p->bad = true;
            return;
        }
        p->b = b;
        p->cap = cap;
    }
    memcpy(p->b + p->n, s, n);
    p->n += n;
}

static void pb_varint(struct pb *p, uint64_t v)
{
    unsigned char b[10];
    size_t k = 0;
    do {
        b[k] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v) b[k] |= 0x80;
        k++;
    } while (v);
    pb_bytes(p, b, k);
}

/* wire types: 0 varint, 5 fixed32, 2 length-delimited */
static void pb_int(struct pb *p, unsigned field, uint64_t v)
{
    pb_varint(p, (uint64_t)field << 3);
    pb_varint(p, v);
}
static void pb_len(struct pb *p, unsigned field, const void *s, size_t n)
{
    pb_varint(p, (uint64_t)field << 3 | 2);
    pb_varint(p, n);
    pb_bytes(p, s, n);
}
static void pb_str(struct pb *p, unsigned field, const char *s) { pb_len(p, field, s, strlen(s)); }
static void pb_f32(struct pb *p, unsigned field, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    unsigned char b[4];
    mlp__put_le32(b, u);
    pb_varint(p, (uint64_t)field << 3 | 5);
    pb_bytes(p, b, 4);
}
/* A nested message: its bytes (sub), then freed. */
static void pb_msg(struct pb *p, unsigned field, struct pb *sub)
{
    if (sub->bad) p->bad = true;
    pb_len(p, field, sub->b, sub->n);
    free(sub->b);
    memset(sub, 0, sizeof *sub);
}

/* ------------------------------------------------------------ the graph */

enum { ONNX_FLOAT = 1, ONNX_DOUBLE = 11, ATTR_FLOAT = 1, ATTR_INT = 2 };

/* TensorProto: dims (1), data_type (2), name (8), raw_data (9, little-endian). */
static void tensor(struct pb *graph, const char *name, int elem, const uint64_t *dims, int n_dims, const double *v,
                   size_t n)
{
    struct pb t = {0};
    for (int i = 0; i < n_dims; i++) pb_int(&t, 1, dims[i]);
    pb_int(&t, 2, (uint64_t)elem);
    pb_str(&t, 8, name);
    const size_t esz = elem == ONNX_FLOAT ? 4 : 8;
    unsigned char *raw = malloc(n * esz + 1);
    if (!raw) {
        graph->bad = true;
        free(t.b);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (elem == ONNX_FLOAT) {
            float f = (float)v[i];
            uint32_t u;
            memcpy(&u, &f, 4);
            mlp__put_le32(raw + 4 * i, u);
        } else {
            uint64_t u;
            memcpy(&u, &v[i], 8);
            mlp__put_le64(raw + 8 * i, u);
        }
    }
    pb_len(&t, 9, raw, n * esz);
    free(raw);
    pb_msg(graph, 5, &t); /* GraphProto.initializer */
}

/* NodeProto: input (1), output (2), name (3), op_type (4), attribute (5);
 * at most one attribute (AttributeProto: name 1, f 2, i 3, type 20). */
static void node(struct pb *graph, const char *op, const char *in1, const char *in2, const char *in3, const char *out,
                 const char *attr, int attr_type, double attr_v)
{
    struct pb n = {0};
    pb_str(&n, 1, in1);
    if (in2) pb_str(&n, 1, in2);
    if (in3) pb_str(&n, 1, in3);
    pb_str(&n, 2, out);
    pb_str(&n, 3, out); /* a node is named after what it makes */
    pb_str(&n, 4, op);
    if (attr) {
        struct pb a = {0};
        pb_str(&a, 1, attr);
        if (attr_type == ATTR_FLOAT)
            pb_f32(&a, 2, (float)attr_v);
        else
            pb_int(&a, 3, (uint64_t)(int64_t)attr_v);
        pb_int(&a, 20, (uint64_t)attr_type);
        pb_msg(&n, 5, &a);
    }
    pb_msg(graph, 1, &n);
}

/* ValueInfoProto: name (1), type (2) = TypeProto { tensor_type (1) =
 * { elem_type (1), shape (2) = { dim (1) = { dim_value (1) | dim_param (2) } } } }:
 * a batch of "N" rows of `width` values. */
static void value_info(struct pb *graph, unsigned field, const char *name, int elem, uint32_t width)
{
    struct pb d0 = {0}, d1 = {0}, shape = {0}, tt = {0}, type = {0}, vi = {0};
    pb_str(&d0, 2, "N");
    pb_int(&d1, 1, width);
    pb_msg(&shape, 1, &d0);
    pb_msg(&shape, 1, &d1);
    pb_int(&tt, 1, (uint64_t)elem);
    pb_msg(&tt, 2, &shape);
    pb_msg(&type, 1, &tt);
    pb_str(&vi, 1, name);
    pb_msg(&vi, 2, &type);
    pb_msg(graph, field, &vi);
}

static const char *act_op(enum mlp_act a)
{
    switch (a) {
    case MLP_ACT_SIGMOID: return "Sigmoid";
    case MLP_ACT_TANH: return "Tanh";
    case MLP_ACT_RELU: return "Relu";
    case MLP_ACT_LEAKY_RELU: return "LeakyRelu";
    default: return NULL; /* identity: no node */
    }
}

/* The graph's nodes and initializers for m into g. */
static void build_graph(struct pb *g, const struct mlp_model *m, int elem)
{
    const uint32_t n_in = mlp__n_in(m);
    char cur[32] = "input", next[32];
    const uint64_t one[1] = {1};
    if (m->input_scale != 1.0) {
        tensor(g, "scale", elem, one, 1, &m->input_scale, 1);
        node(g, "Mul", cur, "scale", NULL, "scaled", NULL, 0, 0);
        snprintf(cur, sizeof cur, "scaled");
    }
    if (m->pre_mean) {
        const uint64_t d[1] = {n_in};
        tensor(g, "mean", elem, d, 1, m->pre_mean, n_in);
        tensor(g, "inv_std", elem, d, 1, m->pre_inv_std, n_in);
        node(g, "Sub", cur, "mean", NULL, "centered", NULL, 0, 0);
        node(g, "Mul", "centered", "inv_std", NULL, "standardized", NULL, 0, 0);
        snprintf(cur, sizeof cur, "standardized");
    }
    double *buf = NULL;
    for (uint32_t l = 0; l < m->n_layers && !g->bad; l++) {
        const struct mlp_layer *L = &m->layers[l];
        const bool last = l + 1 == m->n_layers;
        const size_t nw = (size_t)L->n_in * L->n_out;
        double *nb = realloc(buf, (nw + L->n_out) * sizeof *buf);
        if (!nb) {
            g->bad = true;
            break;
        }
        buf = nb;
        for (size_t i = 0; i < nw + L->n_out; i++) {
            size_t at = i < nw ? L->w_off + i : L->b_off + (i - nw);
            buf[i] = m->dtype == MLP_F32 ? ((const float *)m->params)[at] : ((const double *)m->params)[at];
        }
        char w[32], b[32];
        snprintf(w, sizeof w, "W%u", l);
        snprintf(b, sizeof b, "b%u", l);
        const uint64_t dw[2] = {L->n_out, L->n_in}, db[1] = {L->n_out};
        tensor(g, w, elem, dw, 2, buf, nw);
        tensor(g, b, elem, db, 1, buf + nw, L->n_out);
        enum mlp_act act = last ? mlp__head_act(m->head) : L->act;
        const char *op = act_op(act);
        bool softmax = last && m->head == MLP_HEAD_SOFTMAX_CE;
        snprintf(next, sizeof next, last && !op && !softmax ? "output" : "z%u", l);
        node(g, "Gemm", cur, w, b, next, "transB", ATTR_INT, 1);
        snprintf(cur, sizeof cur, "%s", next);
        if (softmax) {
            node(g, "Softmax", cur, NULL, NULL, "output", "axis", ATTR_INT, 1);
        } else if (op && act == MLP_ACT_LEAKY_RELU && elem == ONNX_DOUBLE) {
            /* onnxruntime implements LeakyRelu for float only, and its alpha
             * attribute is a float: in double, max(x, slope x) (min for a
             * slope above 1) with the slope as a double tensor, exact. */
            char sl[32], sx[32];
            snprintf(sl, sizeof sl, "slope%u", l);
            snprintf(sx, sizeof sx, "slope_x%u", l);
            snprintf(next, sizeof next, last ? "output" : "a%u", l);
            tensor(g, sl, elem, one, 1, &m->leaky_slope, 1);
            node(g, "Mul", cur, sl, NULL, sx, NULL, 0, 0);
            node(g, m->leaky_slope <= 1.0 ? "Max" : "Min", cur, sx, NULL, next, NULL, 0, 0);
            snprintf(cur, sizeof cur, "%s", next);
        } else if (op) {
            snprintf(next, sizeof next, last ? "output" : "a%u", l);
            node(g, op, cur, NULL, NULL, next, act == MLP_ACT_LEAKY_RELU ? "alpha" : NULL, ATTR_FLOAT,
                 m->leaky_slope);
            snprintf(cur, sizeof cur, "%s", next);
        }
    }
    free(buf);
}

enum mlp_status mlp_model_onnx(const struct mlp_model *m, void **bytes, size_t *size, struct mlp_error *err)
{
    MLP_ASSERT(m && bytes && size);
    *bytes = NULL;
    *size = 0;
    const int elem = m->dtype == MLP_F32 ? ONNX_FLOAT : ONNX_DOUBLE;
    struct pb g = {0}, model = {0}, opset = {0};
    build_graph(&g, m, elem);
    pb_str(&g, 2, "fastmlp");
    value_info(&g, 11, "input", elem, mlp__n_in(m));
    value_info(&g, 12, "output", elem, mlp__n_out(m));
    pb_int(&model, 1, 7); /* ir_version: 7 goes with opset 13 */
    pb_str(&model, 2, "fastmlp");
    pb_str(&model, 3, MLP_VERSION_STRING);
    pb_msg(&model, 7, &g);
    pb_str(&opset, 1, "");
    pb_int(&opset, 2, 13);
    pb_msg(&model, 8, &opset);
    if (model.bad) {
        free(model.b);
        return mlp__fail(err, MLP_ERR_NOMEM, "out of memory writing the ONNX graph");
    }
    *bytes = model.b;
    *size = model.n;
    return MLP_OK;
}

struct onnx_bytes {
    const void *b;
    size_t n;
};

static bool write_bytes(FILE *f, const void *ctx)
{
    const struct onnx_bytes *o = ctx;
    return fwrite(o->b, 1, o->n, f) == o->n;
}

enum mlp_status mlp_model_save_onnx(const struct mlp_model *m, const char *path, struct mlp_error *err)
{
    MLP_ASSERT(m && path);
    void *b;
    size_t n;
    enum mlp_status st = mlp_model_onnx(m, &b, &n, err);
    if (st != MLP_OK) return st;
    const struct onnx_bytes o = {b, n};
    st = mlp__atomic_write(path, "the ONNX model", MLP_OUTPUT_STREAM | MLP_OUTPUT_BINARY, write_bytes, &o, err);
    free(b);
    return st;
}
