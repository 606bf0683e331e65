/* SPDX-License-Identifier: MIT */
/* `fastmlp info MODEL`: what a model file holds: layers, parameter count,
 * dtype, preprocessing, and how it was trained. */
#include "cli.h"

#include <math.h>
#include <stdbool.h>

/* The table the model was trained on (its schema): the task and classes,
 * the layout predict and eval read, the categorical columns and the fill
 * values of missing ones. */
static void print_table(const struct mlp_schema *s)
{
    int64_t lc = mlp_schema_label_column(s);
    char d = mlp_schema_delimiter(s);
    static const char *const hdr[] = {"none", "given", "column names", "0..n-1 (pandas' unnamed frame)"};
    unsigned h = (unsigned)mlp_schema_header(s);
    printf("table       %u columns, delimiter '%s', header: %s\n", mlp_schema_n_columns(s),
           d == '\t' ? "\\t" : (char[2]){d, 0}, h < 4 ? hdr[h] : "?");
    struct mlp_column_info li = {0};
    if (lc >= 0) mlp_schema_column(s, (uint32_t)lc, &li);
    if (lc < 0) {
        printf("task        none (no label column)\n");
    } else if (mlp_schema_task(s) == MLP_TASK_REGRESS) {
        printf("task        regression on column %lld%s%s%s\n", (long long)lc + 1, *li.name ? " '" : "", li.name,
               *li.name ? "'" : "");
    } else {
        uint32_t K = mlp_schema_n_classes(s);
        printf("task        classification on column %lld%s%s%s, %u classes\nclasses    ", (long long)lc + 1,
               *li.name ? " '" : "", li.name, *li.name ? "'" : "", K);
        for (uint32_t k = 0; k < K && k < 64; k++) printf(" %s", mlp_schema_class(s, k));
        printf("%s\n", K > 64 ? " ..." : "");
    }
    printf("missing     %s\n", mlp_missing_name(mlp_schema_missing(s)));
    for (uint32_t i = 0; i < mlp_schema_n_columns(s); i++) {
        struct mlp_column_info c;
        mlp_schema_column(s, i, &c);
        if (c.kind == MLP_COL_LABEL) continue;
        bool filled = c.kind == MLP_COL_NUMERIC ? !isnan(c.fill) : c.fill_category >= 0;
        if (c.kind != MLP_COL_CATEGORICAL && !filled) continue;
        printf("  column %-3u %s%s", i + 1, *c.name ? c.name : "", *c.name ? "  " : "");
        if (c.kind == MLP_COL_CATEGORICAL) {
            printf("categorical, %u categories (inputs %u..%u):", c.n_categories, c.input,
                   c.input + c.n_categories - 1);
            for (uint32_t k = 0; k < c.n_categories && k < 16; k++) printf(" %s", mlp_schema_category(s, i, k));
            if (c.n_categories > 16) printf(" ...");
            if (filled) printf("; missing -> %s", mlp_schema_category(s, i, (uint32_t)c.fill_category));
        } else {
            printf("numeric; missing -> %.9g", c.fill);
        }
        printf("\n");
    }
}

int cmd_info(int argc, char **argv)
{
    const char *cmd = "info";
    const struct opt opts[] = {{0}};
    struct cli_args a = {.cmd = cmd, .first = 2, .opts = opts, .max_pos = 1, .short_help = true,
                         .usage = "usage: fastmlp info MODEL\n\nPrints the layers, parameter count, dtype, "
                                  "preprocessing and training of a model file."};
    int rc = cli_args_parse(&a, argc, argv);
    if (rc != CLI_RUN) return rc;
    if (a.n_pos != 1) return cli_usage_error(cmd, "expected one MODEL file");
    struct mlp_error err = {0};
    struct mlp_model *m = NULL;
    enum mlp_status st = mlp_model_load(&m, a.pos[0], &err);
    if (st != MLP_OK) return cli_fail(cmd, st, err.msg);

    uint32_t L = mlp_model_n_layers(m), n_in = mlp_model_n_in(m);
    printf("model       %s\n", a.pos[0]);
    printf("dtype       %s\n", mlp_dtype_name(mlp_model_dtype(m)));
    printf("parameters  %zu\n", mlp_model_n_params(m));
    printf("layers      %u (%u hidden)\n", L, L - 1);
    printf("  input     %u\n", n_in);
    for (uint32_t i = 0; i < L; i++) {
        struct mlp_layer_spec ls = mlp_model_layer(m, i);
        uint32_t prev = i ? mlp_model_layer(m, i - 1).n_out : n_in;
        if (i + 1 < L)
            printf("  hidden %-3u %u  %s  (%zu parameters)\n", i + 1, ls.n_out, mlp_act_name(ls.act),
                   (size_t)prev * ls.n_out + ls.n_out);
        else
            printf("  output    %u  %s  (%zu parameters)\n", ls.n_out, mlp_head_name(mlp_model_head(m)),
                   (size_t)prev * ls.n_out + ls.n_out);
    }
    for (uint32_t i = 0; i + 1 < L; i++)
        if (mlp_model_layer(m, i).act == MLP_ACT_LEAKY_RELU) {
            printf("leaky slope %g\n", mlp_model_leaky_slope(m));
            break;
        }
    printf("preprocess  scale %.9g", mlp_model_input_scale(m));
    const double *mu = mlp_model_standardize_mean(m), *sd = mlp_model_standardize_std(m);
    if (mu) {
        double mmin = INFINITY, mmax = -INFINITY, smin = INFINITY, smax = -INFINITY;
        for (uint32_t j = 0; j < n_in; j++) {
            mmin = fmin(mmin, mu[j]), mmax = fmax(mmax, mu[j]);
            smin = fmin(smin, sd[j]), smax = fmax(smax, sd[j]);
        }
        printf(", then standardise (mean %.4g..%.4g, std %.4g..%.4g)", mmin, mmax, smin, smax);
    }
    printf("\n");
    if (mlp_model_schema(m)) print_table(mlp_model_schema(m));
    struct mlp_train_meta tm = mlp_model_train_meta(m);
    if (tm.epochs == 0) {
        printf("training    none recorded\n");
    } else {
        printf("training    %s, lr %g, %u epochs, batch %u, l2 %g", mlp_optim_name((enum mlp_optim)tm.optim), tm.lr,
               tm.epochs, tm.batch, tm.l2);
        if (tm.optim == MLP_OPT_SGD) printf(", momentum %g", tm.momentum);
        printf(", seed %llu, %llu rows\n", (unsigned long long)tm.seed, (unsigned long long)tm.samples);
    }
    mlp_model_free(m);
    return EXIT_OK;
}
