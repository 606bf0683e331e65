/* SPDX-License-Identifier: MIT */
/* `fastmlp report --runs A.jsonl B.jsonl ... -o compare.html`: finished
 * runs' --log-json logs (runlog.c) overlaid on one HTML page (report.c),
 * their final figures as a table on the page and on the terminal, and the
 * best run marked. */
#include "cli.h"
#include "report.h"
#include "runlog.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* More curves than a chart's colours can tell apart; and each log may hold
 * up to RUNLOG_MAX_EPOCHS epochs, so the count bounds the memory too. */
#define MAX_RUNS 64

/* ------------------------------------------------------------ --runs */

/* `--runs FILE...` is taken out of argv here, by hand, before the option
 * table's parser sees the rest: the parser's positional arguments are a
 * fixed pair (cli_args.pos[2]) shared by every command, and a list option
 * is this command's need alone, so cli_common.c stays as it is.  The scan
 * knows the table so that an option's value is never taken for a log
 * (`--title --runs` titles the page "--runs"), as the parser would read it.
 * After --runs, every argument up to the next option is a log; after a
 * lone "--" that follows --runs, every argument is.  --runs may be given
 * more than once; a --config file cannot name runs (its values are single
 * options'). */
struct runs_argv {
    char **rest; /* argv without --runs and its files, for cli_args_parse */
    int n_rest;
    const char **files;
    int n_files;
    bool given;
};

static bool take_runs(int argc, char **argv, int first, const struct opt *opts, struct runs_argv *r)
{
    memset(r, 0, sizeof *r);
    r->rest = malloc((size_t)(argc + 1) * sizeof *r->rest);
    r->files = malloc((size_t)(argc + 1) * sizeof *r->files);
    if (!r->rest || !r->files) return false;
    bool collecting = false, only_pos = false;
    for (int i = 0; i < argc; i++) {
        char *a = argv[i];
        if (i < first) {
            r->rest[r->n_rest++] = a;
        } else if (only_pos) {
            if (collecting)
                r->files[r->n_files++] = a;
            else
                r->rest[r->n_rest++] = a;
        } else if (strcmp(a, "--") == 0) {
            only_pos = true;
            if (!collecting) r->rest[r->n_rest++] = a;
        } else if (strcmp(a, "--runs") == 0 || strncmp(a, "--runs=", 7) == 0) {
            r->given = collecting = true;
            if (a[6] == '=') r->files[r->n_files++] = a + 7;
        } else if (collecting && (a[0] != '-' || a[1] == 0)) {
            r->files[r->n_files++] = a;
        } else {
            collecting = false;
            r->rest[r->n_rest++] = a;
            if ((strcmp(a, "--config") == 0 || cli_opt_takes_value(opts, a)) && i + 1 < argc)
                r->rest[r->n_rest++] = argv[++i];
        }
    }
    r->rest[r->n_rest] = NULL;
    return true;
}

/* Before any log is read: no log twice (its curves would hide each other),
 * no "-", and the usual file rules (cli_check_files: -o never names a log). */
static int check_run_files(const char *cmd, const struct runs_argv *r, const char *out, const char *config,
                           bool *stdout_used)
{
    for (int i = 0; i < r->n_files; i++) {
        if (strcmp(r->files[i], "-") == 0)
            return cli_usage_error(cmd, "--runs: standard input ('-') is not read; name the log files");
        struct stat a, b;
        if (stat(r->files[i], &a) != 0) continue; /* reading it will say why */
        for (int j = 0; j < i; j++)
            if (stat(r->files[j], &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
                return cli_usage_error(cmd, "--runs: '%s' and '%s' are the same file", r->files[j], r->files[i]);
    }
    struct cli_file files[2 + MAX_RUNS] = {
        {"-o", out, CLI_OUT | MLP_OUTPUT_STREAM, NULL, "the report"},
        {"--config", config, 0, NULL, NULL},
    };
    for (int i = 0; i < r->n_files; i++) files[2 + i] = (struct cli_file){"--runs", r->files[i], 0, NULL, NULL};
    return cli_check_files(cmd, files, 2 + r->n_files, stdout_used);
}

/* ------------------------------------------------------------ the runs */

/* The run a log tells of: its curves and its final figures. */
static struct report_run run_of(const struct runlog *L)
{
    const struct mlp_epoch_stats *last = &L->epochs[L->n_epochs - 1];
    double seconds = 0;
    for (uint32_t e = 0; e < L->n_epochs; e++)
        seconds = L->epochs[e].seconds >= 0 ? seconds + L->epochs[e].seconds : NAN; /* NaN: one not measured */
    return (struct report_run){.label = L->label,
                               .history = L->epochs,
                               .n_epochs = L->n_epochs,
                               .eval_name = L->eval_name,
                               .train_loss = last->train_loss,
                               .train_acc = last->train_acc,
                               .eval_loss = last->test_loss,
                               .eval_acc = last->test_acc,
                               .seconds = seconds,
                               .final_name = L->eval_name};
}

/* A figure that was computed: -1 is the log's "not computed". */
static bool known(double v) { return isfinite(v) && v >= 0; }

/* The best run: the lowest final evaluation loss when every run has one,
 * else the lowest final train loss; -1 when no run has a finite one. */
static int32_t best_run(const struct report_run *runs, uint32_t n, const char *eval, char *why, size_t len)
{
    bool every_eval = true;
    for (uint32_t i = 0; i < n; i++) every_eval = every_eval && known(runs[i].eval_loss);
    int32_t best = -1;
    for (uint32_t i = 0; i < n; i++) {
        double v = every_eval ? runs[i].eval_loss : runs[i].train_loss;
        double b = best < 0 ? 0 : every_eval ? runs[best].eval_loss : runs[best].train_loss;
        if (isfinite(v) && (best < 0 || v < b)) best = (int32_t)i;
    }
    snprintf(why, len, "lowest %s loss", every_eval ? (eval ? eval : "evaluation") : "train");
    return best;
}

/* Columns a label takes on a terminal: UTF-8 continuation bytes take none. */
static int columns(const char *s)
{
    int n = 0;
    for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static void print_fig(double v, const char *fmt, int width)
{
    if (known(v))
        printf(fmt, width, v);
    else
        printf("  %*s", width, "-");
}

static void print_table(const struct report_run *runs, uint32_t n, int32_t best, const char *eval, const char *why)
{
    int w = 3;
    for (uint32_t i = 0; i < n; i++) {
        int c = columns(runs[i].label);
        w = c > w ? (c > 48 ? 48 : c) : w;
    }
    char el[24], ea[24];
    snprintf(el, sizeof el, "%s_loss", eval ? eval : "eval");
    snprintf(ea, sizeof ea, "%s_acc", eval ? eval : "eval");
    printf("  %-*s  %6s  %11s  %9s  %11s  %9s  %9s\n", w, "run", "epochs", "train_loss", "train_acc", el, ea,
           "seconds");
    for (uint32_t i = 0; i < n; i++) {
        const struct report_run *r = &runs[i];
        int pad = w - columns(r->label);
        printf("%c %s%*s  %6u", (int32_t)i == best ? '*' : ' ', r->label, pad > 0 ? pad : 0, "", r->n_epochs);
        print_fig(r->train_loss, "  %*.6g", 11);
        print_fig(r->train_acc, "  %*.4f", 9);
        print_fig(r->eval_loss, "  %*.6g", 11);
        print_fig(r->eval_acc, "  %*.4f", 9);
        print_fig(r->seconds, "  %*.2f", 9);
        printf("\n");
    }
    if (best >= 0) printf("* best: %s\n", why);
}

/* The page's line under the title: "3 runs", and the model when every log
 * names the same one.  malloc'd (the model is the log's text, any length). */
static char *subtitle(const struct runlog *logs, uint32_t n)
{
    const char *model = logs[0].model;
    for (uint32_t i = 1; i < n && model; i++)
        if (!logs[i].model || strcmp(logs[i].model, model) != 0) model = NULL;
    size_t len = (model ? strlen(model) : 0) + 32;
    char *s = malloc(len);
    if (s) snprintf(s, len, "%u run%s%s%s", n, n == 1 ? "" : "s", model ? "; " : "", model ? model : "");
    return s;
}

/* Read, label and draw; the table after the page is written. */
static int report_runs(const char *cmd, const struct runs_argv *ra, const char *out, const char *plots,
                       const char *title, bool stdout_used)
{
    const uint32_t n = (uint32_t)ra->n_files;
    struct runlog *logs = calloc(n, sizeof *logs);
    struct report_run *runs = calloc(n, sizeof *runs);
    struct mlp_error err = {0};
    enum mlp_status st = logs && runs ? MLP_OK : MLP_ERR_NOMEM;
    if (st != MLP_OK) snprintf(err.msg, sizeof err.msg, "out of memory for %u runs", n);
    for (uint32_t i = 0; i < n && st == MLP_OK; i++) st = runlog_read(ra->files[i], &logs[i], &err);
    if (st == MLP_OK) st = runlog_labels(logs, n, &err);
    int rc = st == MLP_OK ? EXIT_OK : cli_fail(cmd, st, err.msg);
    char *sub = NULL, why[64] = "";
    const char *eval = NULL; /* the evaluated set, when every run's is the same */
    int32_t best = -1;
    if (rc == EXIT_OK) {
        eval = logs[0].eval_name;
        for (uint32_t i = 0; i < n; i++) {
            runs[i] = run_of(&logs[i]);
            if (strcmp(logs[i].eval_name, eval) != 0) eval = NULL;
        }
        best = best_run(runs, n, eval, why, sizeof why);
        if (!(sub = subtitle(logs, n))) rc = cli_fail(cmd, MLP_ERR_NOMEM, "out of memory");
    }
    if (rc == EXIT_OK) {
        struct report_data rd = {.title = title ? title : "fastmlp report",
                                 .subtitle = sub,
                                 .eval_name = eval,
                                 .runs = runs,
                                 .n_runs = n,
                                 .best_run = best,
                                 .best_why = best >= 0 ? why : NULL,
                                 .plots_dir = plots};
        cli_signals_for_output(out); /* a signal now drops the page (cli_output_commit) */
        st = report_write(out, &rd, &err);
        if (st != MLP_OK) rc = cli_output_fail(cmd, st, err.msg);
    }
    if (rc == EXIT_OK && !stdout_used) print_table(runs, n, best, eval, why);
    for (uint32_t i = 0; logs && i < n; i++) runlog_free(&logs[i]);
    free(logs);
    free(runs);
    free(sub);
    return rc;
}

int cmd_report(int argc, char **argv)
{
    const char *cmd = "report";
    const char *out = NULL, *plots = NULL, *title = NULL;
    const struct opt opts[] = {
        {"--output", 'o', OPT_STR, &out, "FILE", "the HTML page ('-': standard output, instead of the table)",
         "Output"},
        {"--plots", 0, OPT_STR, &plots, "DIR", "also write each chart as a standalone SVG file in DIR (created if missing)",
         "Output"},
        {"--title", 0, OPT_STR, &title, "TEXT", "the page's title [fastmlp report]", "Output"},
        {0}};
    struct runs_argv ra;
    if (!take_runs(argc, argv, 2, opts, &ra)) {
        free(ra.rest);
        free(ra.files);
        return cli_fail(cmd, MLP_ERR_NOMEM, "out of memory");
    }
    struct cli_args a = {
        .cmd = cmd,
        .first = 2,
        .opts = opts,
        .max_pos = 2,
        .usage = "usage: fastmlp report --runs LOG.jsonl [LOG.jsonl ...] -o FILE.html [--plots DIR] [--title TEXT]\n\n"
                 "Overlay the loss and accuracy curves of finished runs' --log-json logs on one page, with\n"
                 "a table of their final figures (printed too) and the best run marked.  The legend names\n"
                 "the hyperparameters that differ among the logs' header lines, else the files.\n\n"
                 "Input:\n"
                 "      --runs LOG...            the logs to compare: every argument after it up to the next\n"
                 "                               option (at most 64 logs)"};
    int rc = cli_args_parse(&a, ra.n_rest, ra.rest);
    if (rc == CLI_RUN) {
        rc = EXIT_OK;
        bool stdout_used = false;
        if (a.n_pos > 0)
            rc = cli_usage_error(cmd, "unexpected argument '%s': name the logs after --runs", a.pos[0]);
        else if (!ra.given)
            rc = cli_usage_error(cmd, "expected --runs LOG... (the --log-json logs to compare)");
        else if (ra.n_files == 0)
            rc = cli_usage_error(cmd, "option '--runs' needs at least one LOG");
        else if (ra.n_files > MAX_RUNS)
            rc = cli_usage_error(cmd, "--runs: %d logs, at most %d fit on one chart", ra.n_files, MAX_RUNS);
        else if (!out)
            rc = cli_usage_error(cmd, "expected -o FILE (the HTML page; '-' for standard output)");
        else if (plots && !*plots)
            rc = cli_usage_error(cmd, "option '--plots' needs a DIR");
        if (rc == EXIT_OK) rc = check_run_files(cmd, &ra, out, a.config, &stdout_used);
        if (rc == EXIT_OK) rc = report_runs(cmd, &ra, out, plots, title, stdout_used);
    }
    free(ra.rest);
    free(ra.files);
    return rc;
}
