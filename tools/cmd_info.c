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

/* How the model was trained: only the knobs its optimiser used (the
 * solvers take no learning rate and no batch), then why the run ended and
 * which epoch's weights the model holds, where the file records them. */
static void print_training(const struct mlp_train_meta *tm)
{
    const enum mlp_optim opt = (enum mlp_optim)tm->optim;
    const bool solver = opt == MLP_OPT_CG || opt == MLP_OPT_LBFGS;
    const char *unit = solver ? "iterations" : "epochs";
    printf("training    %s", mlp_optim_name(opt));
    if (!solver) printf(", lr %g", tm->lr);
    printf(", %u %s", tm->epochs, unit);
    if (opt == MLP_OPT_SGD || opt == MLP_OPT_ADAM) printf(", batch %u", tm->batch);
    printf(", l2 %g", tm->l2);
    if (opt == MLP_OPT_SGD) printf(", momentum %g", tm->momentum);
    printf(", seed %llu, %llu rows\n", (unsigned long long)tm->seed, (unsigned long long)tm->samples);
    static const char *const why[MLP_STOP_COUNT] = {
        [MLP_STOP_EPOCHS] = "every epoch asked for ran",
        [MLP_STOP_EARLY] = "early stopping (no better evaluation loss)",
        [MLP_STOP_GTOL] = "converged (max |gradient| <= gtol)",
        [MLP_STOP_MAX_ITER] = "the most iterations asked for ran",
        [MLP_STOP_LINESEARCH] = "the line search found no further decrease",
        [MLP_STOP_DIVERGED] = "diverged; the last good weights kept"};
    if (tm->stop_reason > MLP_STOP_NONE && tm->stop_reason < MLP_STOP_COUNT)
        printf("stopped     %s\n", why[tm->stop_reason]);
    /* 0: not recorded (a file before version 3) */
    if (tm->epoch_kept > 0 || tm->stop_reason != MLP_STOP_NONE)
        printf("weights     of %s %u of %u%s\n", solver ? "iteration" : "epoch", tm->epoch_kept, tm->epochs,
               tm->stop_reason == MLP_STOP_EARLY ? " (the best evaluation loss)" : "");
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
        print_training(&tm);
    }
    mlp_model_free(m);
    return EXIT_OK;
}
