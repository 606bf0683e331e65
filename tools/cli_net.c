/* SPDX-License-Identifier: MIT */
/* The network `train` and `gradcheck` build from the same flags (cli.h:
 * NET_OPTIONS): the options checked and parsed, the model's params from the
 * network and the data, its creation and initialisation, and the rules for
 * the data's labels the two share. */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct net_opts net_opts_default(const char *dtype)
{
    return (struct net_opts){.layers = "256,128", .activation = "relu", .head = "softmax-ce", .init = "he",
                             .dtype = dtype, .init_range = "-0.5,0.5", .leaky = 0.01};
}

int net_spec_parse(const char *cmd, const struct net_opts *o, struct net_spec *s)
{
    memset(s, 0, sizeof *s);
    int act = mlp_act_parse(o->activation), head = mlp_head_parse(o->head), init = mlp_init_parse(o->init);
    int dtype = mlp_dtype_parse(o->dtype);
    if (act < 0) return cli_usage_error(cmd, "unknown activation '%s'", o->activation);
    if (head < 0) return cli_usage_error(cmd, "unknown head '%s'", o->head);
    if (init < 0) return cli_usage_error(cmd, "unknown initialiser '%s'", o->init);
    if (dtype < 0) return cli_usage_error(cmd, "unknown dtype '%s'", o->dtype);
    if (cli_parse_range(o->init_range, &s->init_a, &s->init_b) != 0)
        return cli_usage_error(cmd, "--init-range '%s' is not A,B with A <= B", o->init_range);
    char why[400];
    if (cli_parse_layers(o->layers, (enum mlp_act)act, &s->hidden, &s->n_hidden, why, sizeof why) != 0)
        return cli_usage_error(cmd, "%s", why);
    s->act = (enum mlp_act)act;
    s->head = (enum mlp_head)head;
    s->init = (enum mlp_init)init;
    s->dtype = (enum mlp_dtype)dtype;
    s->leaky = o->leaky;
    s->layers = o->layers;
    return EXIT_OK;
}

void net_spec_free(struct net_spec *s)
{
    free(s->hidden);
    s->hidden = NULL;
}

enum mlp_status net_params(const struct net_spec *s, const struct mlp_dataset *ds, double scale,
                           struct mlp_model_params *mp, struct mlp_error *err)
{
    *mp = mlp_model_params_default();
    mp->dtype = s->dtype;
    mp->n_hidden = s->n_hidden;
    mp->hidden = s->hidden;
    mp->head = s->head;
    mp->leaky_slope = s->leaky;
    enum mlp_status st = mlp_model_params_from_data(mp, ds, err);
    if (!isnan(scale)) mp->input_scale = scale;
    return st;
}

enum mlp_status net_create(const struct net_spec *s, const struct mlp_model_params *mp, uint64_t seed,
                           struct mlp_model **m, struct mlp_error *err)
{
    enum mlp_status st = mlp_model_create(m, mp, err);
    if (st == MLP_OK && (st = mlp_model_init(*m, s->init, s->init_a, s->init_b, seed)) != MLP_OK) {
        snprintf(err->msg, sizeof err->msg, "cannot initialise the model");
        err->status = st;
    }
    return st;
}

void net_summary(const struct net_spec *s, const struct mlp_dataset *ds, const struct mlp_model *m, char *buf,
                 size_t len)
{
    snprintf(buf, len, "%llu x %u -> %s%s%u (%s, %s, %zu parameters)", (unsigned long long)ds->n_rows, ds->n_cols,
             s->n_hidden ? s->layers : "", s->n_hidden ? "," : "", mlp_model_n_out(m),
             mlp_dtype_name(mlp_model_dtype(m)), mlp_head_name(mlp_model_head(m)), mlp_model_n_params(m));
}

enum mlp_status cli_share_classes(struct mlp_dataset *const *sets, int n, uint32_t classes, struct mlp_error *err)
{
    uint32_t K = 0;
    for (int i = 0; i < n; i++)
        if (sets[i] && sets[i]->labels && sets[i]->n_classes > K) K = sets[i]->n_classes;
    if (classes) {
        if (K > classes) {
            snprintf(err->msg, sizeof err->msg, "labels go up to %u but --classes is %u", K - 1, classes);
            return err->status = MLP_ERR_RANGE;
        }
        K = classes;
    }
    for (int i = 0; i < n; i++)
        if (sets[i] && sets[i]->labels) sets[i]->n_classes = K;
    return MLP_OK;
}

enum mlp_status cli_need_labels(const struct mlp_dataset *ds, const char *path, const char *how,
                                struct mlp_error *err)
{
    if (ds->labels || ds->targets) return MLP_OK;
    snprintf(err->msg, sizeof err->msg, "%s has no labels: give %s", path, how);
    return err->status = MLP_ERR_ARG;
}
