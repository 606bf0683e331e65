/* SPDX-License-Identifier: MIT */
/* `fastmlp eval MODEL DATA`: how well a model does on labelled data: loss,
 * accuracy, the confusion matrix and per-class precision / recall / F1 (or
 * loss, MSE and R^2 for real targets), as a table, as JSON, and as an HTML
 * report. */
#include "cli.h"
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SAMPLES_IN_REPORT 48u

/* Matrices wider than this are left out of the text table (JSON has them). */
#define TEXT_MAX_CLASSES 20u

/* A number for JSON: null where JSON has none (NaN, Inf). */
static void json_num(double v)
{
    if (isfinite(v))
        printf("%.17g", v);
    else
        printf("null");
}

/* --quantize: the same figures from the quantised model, beside the model's. */
struct quant_result {
    bool on;
    const char *qtype, *kernel;
    int calibrated;
    double loss, acc; /* acc -1 for real targets */
};

static enum mlp_status eval_quantized(const struct mlp_model *m, const struct mlp_dataset *ds, int qt,
                                      const char *calib_path, const struct mlp_load_params *lp,
                                      struct quant_result *qr, struct mlp_error *err)
{
    struct mlp_dataset cal = {0};
    struct mlp_qmodel *q = NULL;
    enum mlp_status st = MLP_OK;
    if (calib_path && (st = cli_load_data(&cal, calib_path, NULL, lp, err)) != MLP_OK) return st;
    /* (lp->n_cols: the loader has refused a width other than the model's) */
    if (st == MLP_OK) st = mlp_qmodel_create(&q, m, (enum mlp_qtype)qt, calib_path ? &cal : NULL, err);
    if (st == MLP_OK) st = mlp_qmodel_evaluate(q, ds, &qr->loss, &qr->acc, err);
    if (st == MLP_OK) {
        qr->on = true;
        qr->qtype = mlp_qtype_name((enum mlp_qtype)qt);
        qr->kernel = mlp_qmodel_kernel(q);
        qr->calibrated = mlp_qmodel_calibrated(q);
    }
    mlp_qmodel_free(q);
    mlp_dataset_free(&cal);
    return st;
}

static void print_quant_text(const struct quant_result *qr, double loss, double acc)
{
    if (!qr->on) return;
    printf("\nquantized %s (kernel %s%s)\n", qr->qtype, qr->kernel,
           strcmp(qr->qtype, "int8") ? "" : qr->calibrated ? ", calibrated activation ranges"
                                                           : ", per-sample activation ranges");
    printf("loss      %.6f  (model %.6f, %+.6f)\n", qr->loss, loss, qr->loss - loss);
    if (qr->acc >= 0)
        printf("accuracy  %.4f  (model %.4f, %+.2f percentage points)\n", qr->acc, acc, 100 * (qr->acc - acc));
}

static void print_quant_json(const struct quant_result *qr, double loss, double acc)
{
    if (!qr->on) return;
    printf(", \"quantized\": {\"type\": \"%s\", \"kernel\": \"%s\", \"calibrated\": %s, \"loss\": ", qr->qtype,
           qr->kernel, qr->calibrated ? "true" : "false");
    json_num(qr->loss);
    printf(", \"loss_diff\": ");
    json_num(qr->loss - loss);
    if (qr->acc >= 0) {
        printf(", \"accuracy\": ");
        json_num(qr->acc);
        printf(", \"accuracy_diff_pp\": ");
        json_num(100 * (qr->acc - acc));
    }
    printf("}");
}

/* Class k as the model's table names it (its index without a table). */
#define NAME(k) cli_class_name(sc, (k), nb)

static void print_text(const char *model_path, const char *data_path, const struct mlp_dataset *ds, double loss,
                       const uint64_t *cm, uint32_t K, const struct mlp_schema *sc)
{
    char nb[16];
    int cw = 6; /* the class column: as wide as the longest name, at most 24 */
    for (uint32_t k = 0; k < K; k++) {
        int w = (int)strlen(NAME(k));
        cw = w > cw ? (w > 24 ? 24 : w) : cw;
    }
    uint64_t right = 0;
    for (uint32_t k = 0; k < K; k++) right += cm[(size_t)k * K + k];
    printf("model     %s\ndata      %s (%llu rows)\n", model_path, data_path, (unsigned long long)ds->n_rows);
    printf("loss      %.6f\naccuracy  %.4f  (%llu of %llu right)\n", loss,
           ds->n_rows ? (double)right / (double)ds->n_rows : 0, (unsigned long long)right,
           (unsigned long long)ds->n_rows);
    if (K <= TEXT_MAX_CLASSES) {
        uint64_t top = 0;
        for (size_t i = 0; i < (size_t)K * K; i++) top = cm[i] > top ? cm[i] : top;
        int wd = snprintf(NULL, 0, "%llu", (unsigned long long)top);
        if (wd < 3) wd = 3;
        for (uint32_t k = 0; k < K; k++) {
            int w = (int)strlen(NAME(k));
            wd = w > wd ? (w > 24 ? 24 : w) : wd;
        }
        printf("\nconfusion matrix (rows: true class, columns: predicted class)\n%*s", cw, "");
        for (uint32_t p = 0; p < K; p++) printf(" %*.24s", wd, NAME(p));
        printf("\n");
        for (uint32_t t = 0; t < K; t++) {
            printf("%*.24s", cw, NAME(t));
            for (uint32_t p = 0; p < K; p++) printf(" %*llu", wd, (unsigned long long)cm[(size_t)t * K + p]);
            printf("\n");
        }
    } else {
        printf("\nconfusion matrix: %u classes, too wide to print (--json has it)\n", K);
    }
    printf("\n%*s  %9s  %9s  %9s  %9s\n", cw, "class", "precision", "recall", "f1", "support");
    for (uint32_t k = 0; k < K; k++) {
        struct class_metrics c = report_class_metrics(cm, K, k);
        if (!c.support && !c.predicted) continue;
        printf("%*.24s  %9.4f  %9.4f  %9.4f  %9llu\n", cw, NAME(k), c.precision, c.recall, c.f1,
               (unsigned long long)c.support);
    }
    double mp, mr, mf;
    report_macro(cm, K, &mp, &mr, &mf, NULL);
    printf("%*s  %9.4f  %9.4f  %9.4f  %9llu\n", cw, "macro", mp, mr, mf, (unsigned long long)ds->n_rows);
}

static void print_json(const struct mlp_dataset *ds, double loss, const uint64_t *cm, uint32_t K,
                       const struct quant_result *qr, double acc, const struct mlp_schema *sc)
{
    char nb[16];
    uint64_t right = 0;
    for (uint32_t k = 0; k < K; k++) right += cm[(size_t)k * K + k];
    printf("{\"n\": %llu, \"loss\": ", (unsigned long long)ds->n_rows);
    json_num(loss);
    printf(", \"accuracy\": ");
    json_num(ds->n_rows ? (double)right / (double)ds->n_rows : 0);
    printf(", \"n_classes\": %u, \"confusion\": [", K);
    for (uint32_t t = 0; t < K; t++) {
        printf("%s[", t ? ", " : "");
        for (uint32_t p = 0; p < K; p++) printf("%s%llu", p ? ", " : "", (unsigned long long)cm[(size_t)t * K + p]);
        printf("]");
    }
    printf("], \"per_class\": [");
    for (uint32_t k = 0; k < K; k++) {
        struct class_metrics c = report_class_metrics(cm, K, k);
        printf("%s{\"class\": %u, \"name\": ", k ? ", " : "", k);
        cli_json_str(stdout, NAME(k));
        printf(", \"precision\": ");
        json_num(c.precision);
        printf(", \"recall\": ");
        json_num(c.recall);
        printf(", \"f1\": ");
        json_num(c.f1);
        printf(", \"support\": %llu}", (unsigned long long)c.support);
    }
    double mp, mr, mf;
    report_macro(cm, K, &mp, &mr, &mf, NULL);
    printf("], \"macro_precision\": ");
    json_num(mp);
    printf(", \"macro_recall\": ");
    json_num(mr);
    printf(", \"macro_f1\": ");
    json_num(mf);
    print_quant_json(qr, loss, acc);
    printf("}\n");
}

/* One evaluation: what was loaded and the figures so far. */
struct eval_run {
    const char *model_path, *data_path, *report, *plots;
    int json;
    bool report_on_stdout; /* then the report is all that goes there */
    bool in_report;        /* writing it: a failure to create is an output error (73) */
    struct mlp_model *m;
    struct mlp_dataset ds;
    double loss, acc;
    struct quant_result qr;
    struct mlp_error err;
};

static enum mlp_status write_eval_report(struct eval_run *e, const struct report_data *rd)
{
    e->in_report = true;
    if (e->report) cli_signals_for_output(e->report); /* a signal now drops the report (cli_output_commit) */
    struct report_data with = *rd;
    with.plots_dir = e->plots;
    enum mlp_status st = report_write(e->report, &with, &e->err);
    e->in_report = st != MLP_OK;
    return st;
}

/* Real targets: no classes, no matrix; the loss, MSE and R^2. */
static enum mlp_status eval_regression(struct eval_run *e)
{
    double fig[3] = {0};
    enum mlp_status st = cli_regress_metrics(e->m, &e->ds, fig, &e->err);
    const double mse = fig[0], r2 = fig[2];
    if (st == MLP_OK && (e->report || e->plots)) {
        char sub[512], model[256];
        report_model_summary(e->m, model, sizeof model);
        snprintf(sub, sizeof sub, "%s on %s: %llu rows, loss %.6g, mse %.6g, r2 %.6g", model, e->data_path,
                 (unsigned long long)e->ds.n_rows, e->loss, mse, r2);
        struct report_regression reg;
        st = report_regress(e->m, &e->ds, REPORT_POINTS, &reg, &e->err);
        if (st == MLP_OK) {
            const struct mlp_schema *schema = mlp_model_schema(e->m);
            struct report_data rd = {.title = "fastmlp eval",
                                     .subtitle = sub,
                                     .eval_name = "test",
                                     .schema = schema ? schema : mlp_dataset_schema(&e->ds),
                                     .regression = &reg};
            st = write_eval_report(e, &rd);
            report_regression_free(&reg);
        }
    }
    if (st != MLP_OK || e->report_on_stdout) return st;
    if (e->json) {
        printf("{\"n\": %llu, \"loss\": ", (unsigned long long)e->ds.n_rows);
        json_num(e->loss);
        printf(", \"mse\": ");
        json_num(mse);
        printf(", \"mae\": ");
        json_num(fig[1]);
        printf(", \"r2\": ");
        json_num(r2);
        print_quant_json(&e->qr, e->loss, e->acc);
        printf("}\n");
    } else {
        printf("model     %s\ndata      %s (%llu rows, %u target%s)\n", e->model_path, e->data_path,
               (unsigned long long)e->ds.n_rows, e->ds.n_targets, e->ds.n_targets == 1 ? "" : "s");
        printf("loss      %.6g  (the %s loss: 1/2 mean squared error)\nmse       %.6g\nmae       %.6g\nr2        %.6g\n",
               e->loss, mlp_head_name(mlp_model_head(e->m)), mse, fig[1], r2);
        print_quant_text(&e->qr, e->loss, e->acc);
    }
    return MLP_OK;
}

/* Classes: the confusion matrix, per-class figures and image samples. */
static enum mlp_status eval_classes(struct eval_run *e)
{
    const struct mlp_dataset *ds = &e->ds;
    /* One output unit is a two-class model (the output against 0.5). */
    const uint32_t K = mlp_model_n_out(e->m) == 1 ? 2 : mlp_model_n_out(e->m);
    const uint64_t n_pred = ds->n_rows < SAMPLES_IN_REPORT ? ds->n_rows : SAMPLES_IN_REPORT;
    uint64_t *cm = calloc((size_t)K * K, sizeof *cm);
    uint32_t *pred = calloc(n_pred ? n_pred : 1, sizeof *pred);
    enum mlp_status st = MLP_OK;
    if (!cm || !pred) {
        st = e->err.status = MLP_ERR_NOMEM;
        snprintf(e->err.msg, sizeof e->err.msg, "out of memory for a %u x %u confusion matrix", K, K);
    }
    if (st == MLP_OK) st = report_classify(e->m, ds, K, cm, pred, n_pred, &e->err);
    if (st == MLP_OK && (e->report || e->plots)) {
        char sub[512], model[256];
        uint64_t right = 0;
        for (uint32_t k = 0; k < K; k++) right += cm[(size_t)k * K + k];
        report_model_summary(e->m, model, sizeof model);
        snprintf(sub, sizeof sub, "%s on %s: %llu rows, loss %.4f, accuracy %.4f", model, e->data_path,
                 (unsigned long long)ds->n_rows, e->loss, ds->n_rows ? (double)right / (double)ds->n_rows : 0);
        struct report_data rd = {.title = "fastmlp eval",
                                 .subtitle = sub,
                                 .eval_name = "test",
                                 .n_classes = K,
                                 .confusion = cm,
                                 .samples = ds,
                                 .pred = pred,
                                 .n_samples_max = (uint32_t)n_pred,
                                 .input_scale = mlp_model_input_scale(e->m),
                                 .schema = mlp_model_schema(e->m) ? mlp_model_schema(e->m)
                                                                  : mlp_dataset_schema(ds)};
        st = write_eval_report(e, &rd);
    }
    if (st == MLP_OK && !e->report_on_stdout) {
        if (e->json) {
            print_json(ds, e->loss, cm, K, &e->qr, e->acc, mlp_model_schema(e->m));
        } else {
            print_text(e->model_path, e->data_path, ds, e->loss, cm, K, mlp_model_schema(e->m));
            print_quant_text(&e->qr, e->loss, e->acc);
        }
    }
    free(cm);
    free(pred);
    return st;
}

int cmd_eval(int argc, char **argv)
{
    const char *cmd = "eval";
    const char *labels = NULL, *quantize = NULL, *calib = NULL;
    struct eval_run e = {0};
    struct data_opts dopt = {0};
    const struct opt opts[] = {
        {"--labels", 0, OPT_STR, &labels, "FILE", "labels for the data (IDX, NPY)", "Data"},
        {"--json", 0, OPT_FLAG, &e.json, NULL, "print one JSON object instead of tables", "Output"},
        {"--report", 0, OPT_STR, &e.report, "FILE",
         "also write an HTML report: confusion matrix, samples ('-': to stdout, instead of the tables)", "Output"},
        {"--plots", 0, OPT_STR, &e.plots, "DIR", "also write each chart of the report as DIR/NAME.svg", "Output"},
        {"--quantize", 0, OPT_STR, &quantize, "TYPE",
         "also evaluate the model with bf16 or int8 weights (f32 bf16 int8, or f4 b2 i1) and print the difference",
         "Quantization"},
        {"--calib", 0, OPT_STR, &calib, "FILE",
         "int8: fix each layer's activation range on this data (e.g. the training inputs) [per-sample ranges]",
         "Quantization"},
        DATA_OPTIONS(dopt),
        {0}};
    struct cli_args a = {.cmd = cmd, .first = 2, .opts = opts, .max_pos = 2,
                         .usage = "usage: fastmlp eval MODEL DATA [--labels FILE] [--json] [--report FILE.html]\n"
                                  "                   [--quantize bf16|int8 [--calib FILE]]\n\n"
                                  "Loss, accuracy, confusion matrix and per-class precision/recall/F1 of MODEL on\n"
                                  "labelled DATA (loss, MSE and R^2 for real targets)."};
    int rc = cli_args_parse(&a, argc, argv);
    if (rc != CLI_RUN) return rc;
    if (a.n_pos != 2) return cli_usage_error(cmd, "expected MODEL and DATA");
    e.model_path = a.pos[0];
    e.data_path = a.pos[1];
    const int qt = quantize ? mlp_qtype_parse(quantize) : -1;
    if (quantize && qt < 0) return cli_usage_error(cmd, "--quantize '%s' is not one of f32 bf16 int8 f4 b2 i1", quantize);
    if (calib && qt != MLP_Q_INT8) return cli_usage_error(cmd, "--calib needs --quantize int8");
    struct mlp_load_params lp;
    if ((rc = cli_load_params(cmd, &dopt, &lp)) != EXIT_OK) return rc;
    const struct cli_file files[] = {{"MODEL", e.model_path, 0, NULL, NULL},
                                     {"DATA", e.data_path, 0, NULL, NULL},
                                     {"--labels", labels, 0, NULL, NULL},
                                     {"--calib", calib, 0, NULL, NULL},
                                     {"--config", a.config, 0, NULL, NULL},
                                     {"--report", e.report, CLI_OUT | MLP_OUTPUT_STREAM, NULL, "the report"}};
    if ((rc = cli_check_files(cmd, files, (int)(sizeof files / sizeof files[0]), &e.report_on_stdout)) != EXIT_OK)
        return rc;

    /* the default context's settings, with --isa / FASTMLP_ISA's kernels */
    struct mlp_context *cx = NULL;
    if ((rc = cli_context(cmd, 0, MLP_KERNELS_FAST, &cx)) != EXIT_OK) return rc;

    rc = EXIT_OK;
    enum mlp_status st = mlp_model_load(&e.m, e.model_path, &e.err);
    if (st == MLP_OK) mlp_model_set_context(e.m, cx);
    if (st == MLP_OK) {
        lp.n_cols = mlp_model_n_in(e.m); /* refused from the header, before the rows are read */
        lp.schema = mlp_model_schema(e.m); /* a table is read as the model's training table was */
        st = cli_load_data(&e.ds, e.data_path, labels, &lp, &e.err);
        if (st == MLP_OK) cli_warn_schema(cmd, &e.ds);
    }
    /* Shape and labels before the missing labels: data that cannot fit the
     * model is the first thing to hear of. */
    if (st == MLP_OK) st = mlp_model_check_data(e.m, &e.ds, &e.err);
    if (st == MLP_OK && !e.ds.labels && !e.ds.targets)
        rc = cli_usage_error(cmd,
                             "%s has no labels: give them with --labels FILE (IDX, NPY), --label-col N or "
                             "--label-name NAME (CSV), --y-key NAME (HDF5)",
                             e.data_path);
    if (st == MLP_OK && rc == EXIT_OK) st = mlp_model_evaluate(e.m, &e.ds, &e.loss, &e.acc, &e.err);
    if (st == MLP_OK && rc == EXIT_OK && quantize) st = eval_quantized(e.m, &e.ds, qt, calib, &lp, &e.qr, &e.err);
    if (st == MLP_OK && rc == EXIT_OK) st = e.ds.labels ? eval_classes(&e) : eval_regression(&e);
    /* stdout itself is checked by main, after every command. */
    if (st == MLP_ERR_OPEN && e.in_report)
        rc = cli_output_fail(cmd, st, e.err.msg);
    else if (st != MLP_OK)
        rc = cli_fail(cmd, st, e.err.msg);
    mlp_model_free(e.m);
    mlp_dataset_free(&e.ds);
    return rc;
}
