/* SPDX-License-Identifier: MIT */
/* The name tables for enums: one const table each, looked up by enum value
 * (for messages and files) and by command-line string. */
#include "internal.h"

#include <string.h>

static const char *const act_names[MLP_ACT_COUNT] = {
    "identity", "sigmoid", "tanh", "relu", "leaky-relu"};
static const char *const head_names[MLP_HEAD_COUNT] = {
    "softmax-ce", "sigmoid-bce", "identity-mse", "sigmoid-mse", "tanh-mse"};
static const char *const init_names[MLP_INIT_COUNT] = {"zeros", "uniform", "xavier", "he"};
static const char *const optim_names[MLP_OPT_COUNT] = {"gd", "sgd", "adam", "cg", "lbfgs"};
static const char *const dtype_names[2] = {"f32", "f64"};
static const char *const schedule_names[MLP_SCHED_COUNT] = {"constant", "step", "cosine"};

static const char *name_of(const char *const *tab, int n, int v)
{
    return v >= 0 && v < n ? tab[v] : "?";
}

static int parse_in(const char *const *tab, int n, const char *s)
{
    if (!s) return -1;
    for (int i = 0; i < n; i++)
        if (strcmp(tab[i], s) == 0) return i;
    return -1;
}

const char *mlp_act_name(enum mlp_act a) { return name_of(act_names, MLP_ACT_COUNT, (int)a); }
const char *mlp_head_name(enum mlp_head h) { return name_of(head_names, MLP_HEAD_COUNT, (int)h); }
const char *mlp_init_name(enum mlp_init i) { return name_of(init_names, MLP_INIT_COUNT, (int)i); }
const char *mlp_optim_name(enum mlp_optim o) { return name_of(optim_names, MLP_OPT_COUNT, (int)o); }
const char *mlp_dtype_name(enum mlp_dtype d) { return name_of(dtype_names, 2, (int)d); }

int mlp_act_parse(const char *s)
{
    int v = parse_in(act_names, MLP_ACT_COUNT, s);
    if (v < 0 && s && strcmp(s, "leaky_relu") == 0) v = MLP_ACT_LEAKY_RELU;
    if (v < 0 && s && strcmp(s, "linear") == 0) v = MLP_ACT_IDENTITY;
    return v;
}
const char *mlp_schedule_name(enum mlp_schedule s) { return name_of(schedule_names, MLP_SCHED_COUNT, (int)s); }
int mlp_schedule_parse(const char *s) { return parse_in(schedule_names, MLP_SCHED_COUNT, s); }
int mlp_head_parse(const char *s) { return parse_in(head_names, MLP_HEAD_COUNT, s); }
int mlp_init_parse(const char *s) { return parse_in(init_names, MLP_INIT_COUNT, s); }
int mlp_optim_parse(const char *s) { return parse_in(optim_names, MLP_OPT_COUNT, s); }

int mlp_dtype_parse(const char *s)
{
    /* seed 003 spells them f4/f8 */
    if (s && (strcmp(s, "f4") == 0 || strcmp(s, "float32") == 0)) return MLP_F32;
    if (s && (strcmp(s, "f8") == 0 || strcmp(s, "float64") == 0)) return MLP_F64;
    return parse_in(dtype_names, 2, s);
}

enum mlp_act mlp__head_act(enum mlp_head h)
{
    switch (h) {
    case MLP_HEAD_SOFTMAX_CE: return MLP_ACT_IDENTITY; /* softmax applied by the loss */
    case MLP_HEAD_SIGMOID_BCE: return MLP_ACT_SIGMOID;
    case MLP_HEAD_IDENTITY_MSE: return MLP_ACT_IDENTITY;
    case MLP_HEAD_SIGMOID_MSE: return MLP_ACT_SIGMOID;
    case MLP_HEAD_TANH_MSE: return MLP_ACT_TANH;
    case MLP_HEAD_COUNT: break;
    }
    return MLP_ACT_IDENTITY;
}
