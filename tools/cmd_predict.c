/* SPDX-License-Identifier: MIT */
/* `fastmlp predict MODEL DATA`: for every row the predicted class (its name
 * in the model's table) and the output probabilities, or for a regression
 * model the predicted target, as CSV with a header or as JSON lines. */
#include "cli.h"
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A JSON number, or null where JSON has none (NaN, Inf). */
static void json_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.9g", v);
    else
        fputs("null", f);
}

/* A class for JSON: a string (a table's class name), or the bare index
 * (a model without a table, as before). */
static void json_str(FILE *f, const char *s, bool quoted)
{
    if (!quoted) {
        fputs(s, f);
        return;
    }
    cli_json_str(f, s);
}

int cmd_predict(int argc, char **argv)
{
    const char *cmd = "predict";
    const char *out = "-", *labels = NULL, *format = "csv", *quantize = NULL;
    struct data_opts dopt = {0};
    const struct opt opts[] = {
        {"--labels", 0, OPT_STR, &labels, "FILE", "labels for the data (IDX, NPY); adds a 'label' column", "Data"},
        {"--output", 'o', OPT_STR, &out, "FILE", "write the predictions to FILE ('-' = stdout) [-]", "Output"},
        {"--format", 0, OPT_STR, &format, "NAME",
         "csv: row,class[,label],p_CLASS,... (regression: row,prediction[,target]) with a header; jsonl: one JSON "
         "object per row [csv]",
         "Output"},
        {"--quantize", 0, OPT_STR, &quantize, "TYPE",
         "predict with the weights converted to f32, bf16 or int8 (or f4 b2 i1) [the model's own]", "Model"},
        DATA_OPTIONS(dopt),
        {0}};
    struct cli_args a = {.cmd = cmd, .first = 2, .opts = opts, .max_pos = 2,
                         .usage = "usage: fastmlp predict MODEL DATA [-o out.csv] [--format csv|jsonl]"};
    int rc = cli_args_parse(&a, argc, argv);
    if (rc != CLI_RUN) return rc;
    if (a.n_pos != 2) return cli_usage_error(cmd, "expected MODEL and DATA");
    const bool jsonl = strcmp(format, "jsonl") == 0;
    if (!jsonl && strcmp(format, "csv") != 0)
        return cli_usage_error(cmd, "--format '%s' is not csv or jsonl", format);
    const int qt = quantize ? mlp_qtype_parse(quantize) : -1;
    if (quantize && qt < 0) return cli_usage_error(cmd, "--quantize '%s' is not one of f32 bf16 int8 f4 b2 i1", quantize);
    struct mlp_load_params lp;
    if ((rc = cli_load_params(cmd, &dopt, &lp)) != EXIT_OK) return rc;
    const struct cli_file files[] = {{"MODEL", a.pos[0], 0, NULL, NULL},
                                     {"DATA", a.pos[1], 0, NULL, NULL},
                                     {"--labels", labels, 0, NULL, NULL},
                                     {"--config", a.config, 0, NULL, NULL},
                                     {"-o", out, CLI_OUT | MLP_OUTPUT_STREAM, NULL, "the predictions"}};
    if ((rc = cli_check_files(cmd, files, (int)(sizeof files / sizeof files[0]), NULL)) != EXIT_OK) return rc;
    /* the default context's settings, with --isa / FASTMLP_ISA's kernels */
    struct mlp_context *cx = NULL;
    if ((rc = cli_context(cmd, 0, MLP_KERNELS_FAST, &cx)) != EXIT_OK) return rc;

    struct mlp_error err = {0};
    struct mlp_model *m = NULL;
    struct mlp_qmodel *q = NULL;
    struct mlp_dataset ds = {0};
    struct mlp_output *of = NULL;
    double *probs = NULL;
    enum mlp_status st = mlp_model_load(&m, a.pos[0], &err);
    if (st == MLP_OK) mlp_model_set_context(m, cx);
    if (st == MLP_OK && quantize) st = mlp_qmodel_create(&q, m, (enum mlp_qtype)qt, NULL, &err);
    if (st == MLP_OK) {
        lp.n_cols = mlp_model_n_in(m); /* refused from the header, before the rows are read */
        lp.schema = mlp_model_schema(m); /* a table is read as the model's training table was */
        st = cli_load_data(&ds, a.pos[1], labels, &lp, &err);
        if (st == MLP_OK) cli_warn_schema(cmd, &ds);
    }
    if (st != MLP_OK) goto done;
    /* Labels beyond the model's classes are refused as eval refuses them. */
    if ((st = mlp_model_check_data(m, &ds, &err)) != MLP_OK) goto done;
    const uint32_t K = mlp_model_n_out(m);
    const uint64_t chunk = report_chunk_rows(K);
    const struct mlp_schema *sc = mlp_model_schema(m);
    /* What the outputs are: classes, or targets (a table's regression, or
     * an identity-mse model without one). */
    const bool regress = sc ? mlp_schema_task(sc) == MLP_TASK_REGRESS : mlp_model_head(m) == MLP_HEAD_IDENTITY_MSE;
    char nb[16], nb2[16];
    const uint64_t *kept = mlp_dataset_schema(&ds) ? mlp_schema_kept_rows(mlp_dataset_schema(&ds)) : NULL;
    if (!(probs = malloc(chunk * K * sizeof *probs))) {
        st = MLP_ERR_NOMEM;
        snprintf(err.msg, sizeof err.msg, "out of memory");
        goto done;
    }
    /* From here a signal ends the loop and drops the output. */
    cli_signals_for_output(out);
    if ((st = mlp_output_open(&of, out, MLP_OUTPUT_STREAM, &err)) != MLP_OK) {
        if (st == MLP_ERR_OPEN) {
            rc = cli_output_fail(cmd, st, err.msg);
            st = MLP_OK;
        }
        goto done;
    }
    FILE *f = mlp_output_file(of);
    if (!jsonl && regress) {
        fprintf(f, "row");
        for (uint32_t k = 0; k < K; k++) fprintf(f, K == 1 ? ",prediction" : ",prediction_%u", k);
        for (uint32_t k = 0; ds.targets && k < K; k++) fprintf(f, K == 1 ? ",target" : ",target_%u", k);
        fputc('\n', f);
    } else if (!jsonl) {
        fprintf(f, "row,class");
        if (ds.labels) fprintf(f, ",label");
        /* one output is the probability of the second class */
        for (uint32_t k = 0; k < K; k++) {
            char col[600];
            /* p_NAME for a table's classes, p0 p1 ... without names */
            snprintf(col, sizeof col, sc ? "p_%s" : "p%s", cli_class_name(sc, K == 1 ? 1 : k, nb));
            fputc(',', f);
            cli_csv_field(f, col);
        }
        fputc('\n', f);
    }
    for (uint64_t r0 = 0; r0 < ds.n_rows && !cli_interrupted(); r0 += chunk) {
        uint64_t n = ds.n_rows - r0 < chunk ? ds.n_rows - r0 : chunk;
        st = q ? mlp_qmodel_predict(q, &ds, MLP_ROWS(r0, n), probs, &err)
               : mlp_model_predict(m, &ds, MLP_ROWS(r0, n), probs, &err);
        if (st != MLP_OK) break;
        for (uint64_t i = 0; i < n; i++) {
            const double *p = probs + i * K;
            /* what the file calls the row, also after rows were dropped */
            const uint64_t row = kept ? kept[r0 + i] : r0 + i;
            if (regress) {
                if (jsonl) {
                    fprintf(f, "{\"row\": %llu, \"prediction\": ", (unsigned long long)row);
                    if (K > 1) fputc('[', f);
                    for (uint32_t k = 0; k < K; k++) {
                        if (k) fputs(", ", f);
                        json_num(f, p[k]);
                    }
                    if (K > 1) fputc(']', f);
                    if (ds.targets) {
                        fputs(", \"target\": ", f);
                        if (K > 1) fputc('[', f);
                        for (uint32_t k = 0; k < K; k++) {
                            if (k) fputs(", ", f);
                            json_num(f, ds.targets[(r0 + i) * K + k]);
                        }
                        if (K > 1) fputc(']', f);
                    }
                    fputs("}\n", f);
                    continue;
                }
                fprintf(f, "%llu", (unsigned long long)row);
                for (uint32_t k = 0; k < K; k++) fprintf(f, ",%.9g", p[k]);
                for (uint32_t k = 0; ds.targets && k < K; k++) fprintf(f, ",%.17g", ds.targets[(r0 + i) * K + k]);
                fputc('\n', f);
                continue;
            }
            const uint32_t best = mlp_class_of(p, K);
            const char *pred = cli_class_name(sc, best, nb);
            const char *truth = ds.labels ? cli_class_name(sc, (uint32_t)ds.labels[r0 + i], nb2) : NULL;
            if (jsonl) {
                fprintf(f, "{\"row\": %llu, \"class\": ", (unsigned long long)row);
                json_str(f, pred, sc != NULL);
                if (truth) {
                    fputs(", \"label\": ", f);
                    json_str(f, truth, sc != NULL);
                }
                fputs(", \"p\": [", f);
                for (uint32_t k = 0; k < K; k++) {
                    if (k) fputs(", ", f);
                    json_num(f, p[k]);
                }
                fputs("]}\n", f);
                continue;
            }
            fprintf(f, "%llu,", (unsigned long long)row);
            cli_csv_field(f, pred);
            if (truth) {
                fputc(',', f);
                cli_csv_field(f, truth);
            }
            for (uint32_t k = 0; k < K; k++) fprintf(f, ",%.9g", p[k]);
            fputc('\n', f);
        }
    }
    if (st == MLP_OK) {
        st = cli_output_commit(of, &err); /* a write error or a signal is reported there */
        of = NULL;
    }
done:
    if (st != MLP_OK) rc = cli_fail(cmd, st, err.msg);
    mlp_output_abort(of);
    free(probs);
    mlp_qmodel_free(q);
    mlp_model_free(m);
    mlp_dataset_free(&ds);
    return rc;
}
