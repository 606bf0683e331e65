/* SPDX-License-Identifier: MIT */
/* The --log-json reader behind `fastmlp report --runs` (tools/runlog.c):
 * logs with and without the header line give the same epochs, valid_* keys,
 * NaN and -1 figures, every refusal with its message, and the legend rule
 * (the differing hyperparameters, else the files' names, told apart). */
#include "check.h"
#include "runlog.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/fastmlp_runlog_XXXXXX";

/* dir/name holding text; the path in a static buffer of 8 (rotating). */
static const char *put(const char *name, const char *text)
{
    static char paths[8][256];
    static int k;
    char *p = paths[k++ % 8];
    snprintf(p, 256, "%s/%s", dir, name);
    char sub[256];
    snprintf(sub, sizeof sub, "%s", p);
    for (char *s = sub + strlen(dir) + 1; (s = strchr(s, '/')); s++) {
        *s = 0;
        mkdir(sub, 0700);
        *s = '/';
    }
    FILE *f = fopen(p, "wb");
    if (!f) return p;
    fputs(text, f);
    fclose(f);
    return p;
}

/* The header train writes, with lr and batch (and an optional sweep) set. */
static char *header(const char *lr, const char *batch, const char *sweep)
{
    static char h[2048];
    snprintf(h, sizeof h,
             "{\"fastmlp_log\": 1, \"version\": \"0.20.0\", \"command\": \"train\", \"data\": \"path/train.csv\", "
             "\"eval\": \"test\", \"model\": \"784-256-128-10 relu, softmax-ce, f32, 235146 parameters\", "
             "\"hyperparameters\": {\"optimizer\": \"adam\", \"lr\": %s, \"momentum\": 0.9, \"nesterov\": false, "
             "\"batch\": %s, \"epochs\": 5, \"l2\": 0, \"seed\": 42, \"schedule\": \"constant\", \"step_size\": 10, "
             "\"gamma\": 0.1, \"lr_min\": 0, \"weight_decay\": 0, \"patience\": 0, \"gtol\": 1e-05, \"history\": 10, "
             "\"layers\": \"256,128\", \"activation\": \"relu\", \"head\": \"softmax-ce\", \"init\": \"he\", "
             "\"dtype\": \"f32\", \"standardize\": false, \"valid_fraction\": 0, \"limit\": null, \"threads\": 2}%s%s}\n",
             lr, batch, sweep ? ", \"sweep\": " : "", sweep ? sweep : "");
    return h;
}

/* Epoch lines exactly as cmd_train's json_epoch writes them. */
static const char *EPOCHS =
    "{\"epoch\": 1, \"train_loss\": 0.53125000000000000, \"train_acc\": 0.8125, \"test_loss\": 0.40000000000000002, "
    "\"test_acc\": 0.875, \"seconds\": 1.250000, \"samples_per_s\": 48000.000, \"penalty\": 0}\n"
    "{\"epoch\": 2, \"train_loss\": 0.25, \"train_acc\": 0.90000000000000002, \"test_loss\": 0.29999999999999999, "
    "\"test_acc\": 0.90625, \"seconds\": 1.125000, \"samples_per_s\": 53333.333, \"penalty\": 0.001}\n";

static char *cat(const char *a, const char *b)
{
    static char s[8192];
    snprintf(s, sizeof s, "%s%s", a, b);
    return s;
}

static bool same_epoch(const struct mlp_epoch_stats *a, const struct mlp_epoch_stats *b)
{
    return a->epoch == b->epoch && a->train_loss == b->train_loss && a->train_acc == b->train_acc &&
           a->test_loss == b->test_loss && a->test_acc == b->test_acc && a->seconds == b->seconds &&
           a->samples_per_s == b->samples_per_s && a->penalty == b->penalty;
}

static void test_header_and_plain(void)
{
    struct runlog h, p;
    struct mlp_error err = {0};
    CHECK_STATUS(runlog_read(put("h.jsonl", cat(header("0.01", "64", NULL), EPOCHS)), &h, &err), MLP_OK);
    CHECK_STATUS(runlog_read(put("p.jsonl", EPOCHS), &p, &err), MLP_OK);
    CHECK(h.has_header && !p.has_header);
    CHECK(h.n_epochs == 2 && p.n_epochs == 2);
    for (uint32_t e = 0; e < 2 && h.n_epochs == 2 && p.n_epochs == 2; e++)
        CHECK_MSG(same_epoch(&h.epochs[e], &p.epochs[e]), "epoch %u differs", e + 1);
    if (p.n_epochs == 2) {
        CHECK(p.epochs[0].epoch == 1 && p.epochs[1].epoch == 2);
        CHECK(p.epochs[0].train_loss == 0.53125 && p.epochs[1].test_acc == 0.90625);
        CHECK(p.epochs[0].test_loss == 0.4 && p.epochs[1].penalty == 0.001 && p.epochs[0].seconds == 1.25);
    }
    CHECK(strcmp(h.eval_name, "test") == 0 && strcmp(p.eval_name, "test") == 0);
    CHECK(h.model && strcmp(h.model, "784-256-128-10 relu, softmax-ce, f32, 235146 parameters") == 0);
    CHECK(p.model == NULL && p.n_hp == 0 && p.hp == NULL);
    /* the hyperparameters in header order, as written */
    CHECK(h.n_hp == 25);
    if (h.n_hp == 25) {
        CHECK(strcmp(h.hp[0].key, "optimizer") == 0 && strcmp(h.hp[0].value, "adam") == 0);
        CHECK(strcmp(h.hp[1].key, "lr") == 0 && strcmp(h.hp[1].value, "0.01") == 0);
        CHECK(strcmp(h.hp[3].value, "false") == 0 && strcmp(h.hp[14].value, "1e-05") == 0);
        CHECK(strcmp(h.hp[23].key, "limit") == 0 && strcmp(h.hp[23].value, "null") == 0);
        CHECK(strcmp(h.hp[24].key, "threads") == 0);
    }
    runlog_free(&h);
    runlog_free(&p);
    CHECK(h.path == NULL && h.epochs == NULL && h.n_epochs == 0);
    runlog_free(&h); /* twice: a zeroed log is a no-op */

    /* a sweep's keys: those of the hyperparameters once, others after them */
    CHECK_STATUS(runlog_read(put("s.jsonl", cat(header("0.01", "64", "{\"lr\": 0.01, \"warmup\": 3}"), EPOCHS)), &h,
                             &err),
                 MLP_OK);
    CHECK(h.n_hp == 26);
    if (h.n_hp == 26) CHECK(strcmp(h.hp[25].key, "warmup") == 0 && strcmp(h.hp[25].value, "3") == 0);
    runlog_free(&h);

    /* blank lines, CRLF ends and keys this build does not know, nested too */
    CHECK_STATUS(runlog_read(put("x.jsonl", "\n{\"fastmlp_log\": 1, \"future\": {\"a\": [1, 2]}}\r\n\n"
                                            "{\"epoch\": 3, \"train_loss\": 1, \"note\": \"resumed\", \"x\": [1, {}]}\r\n"
                                            "   \n{\"epoch\": 7, \"train_loss\": 2}"),
                             &h, &err),
                 MLP_OK);
    CHECK(h.has_header && h.n_epochs == 2 && h.n_hp == 0 && h.model == NULL);
    if (h.n_epochs == 2) {
        CHECK(h.epochs[0].epoch == 3 && h.epochs[1].epoch == 7 && h.epochs[1].train_loss == 2);
        /* what a line leaves out */
        CHECK(h.epochs[0].train_acc == -1 && h.epochs[0].test_loss == -1 && h.epochs[0].test_acc == -1);
        CHECK(isnan(h.epochs[0].seconds) && isnan(h.epochs[0].samples_per_s) && h.epochs[0].penalty == 0);
    }
    runlog_free(&h);
}

static void test_valid_and_special_values(void)
{
    struct runlog r;
    struct mlp_error err = {0};
    CHECK_STATUS(runlog_read(put("v.jsonl", "{\"epoch\": 1, \"train_loss\": 0.5, \"train_acc\": -1, \"valid_loss\": "
                                            "0.75, \"valid_acc\": 0.5, \"seconds\": 0.5}\n"
                                            "{\"epoch\": 2, \"train_loss\": nan, \"train_acc\": -1, \"valid_loss\": "
                                            "-nan, \"valid_acc\": inf, \"seconds\": 0.5, \"penalty\": null}\n"),
                             &r, &err),
                 MLP_OK);
    CHECK(strcmp(r.eval_name, "valid") == 0 && r.n_epochs == 2);
    if (r.n_epochs == 2) {
        CHECK(r.epochs[0].test_loss == 0.75 && r.epochs[0].test_acc == 0.5 && r.epochs[0].train_acc == -1);
        CHECK(isnan(r.epochs[1].train_loss) && isnan(r.epochs[1].test_loss) && isinf(r.epochs[1].test_acc));
        CHECK(isnan(r.epochs[1].penalty));
    }
    runlog_free(&r);
    /* the header names the set; epoch lines without figures say nothing */
    CHECK_STATUS(runlog_read(put("hv.jsonl", "{\"fastmlp_log\": 1, \"eval\": \"valid\"}\n{\"epoch\": 1, \"train_loss\": 1}\n"),
                             &r, &err),
                 MLP_OK);
    CHECK(strcmp(r.eval_name, "valid") == 0 && r.has_header);
    runlog_free(&r);
}

/* runlog_read(text) fails with status s and a message holding every one
 * of the NULL-ended strings; "@" stands for the file's path. */
static void refuses(const char *name, const char *text, enum mlp_status s, ...)
{
    struct runlog r;
    struct mlp_error err = {0};
    const char *path = put(name, text);
    CHECK_STATUS(runlog_read(path, &r, &err), s);
    CHECK(r.n_epochs == 0 || r.epochs != NULL); /* the caller frees either way */
    runlog_free(&r);
    va_list ap;
    va_start(ap, s);
    for (const char *want; (want = va_arg(ap, const char *));) {
        char buf[512];
        if (want[0] == '@')
            snprintf(buf, sizeof buf, "%s%s", path, want + 1);
        else
            snprintf(buf, sizeof buf, "%s", want);
        CHECK_MSG(strstr(err.msg, buf) != NULL, "%s: message '%s' lacks '%s'", name, err.msg, buf);
    }
    va_end(ap);
    CHECK_MSG(!strchr(err.msg, '\n'), "%s: message on more than one line", name);
}

static void test_refusals(void)
{
    struct runlog r;
    struct mlp_error err = {0};
    char path[300];
    snprintf(path, sizeof path, "%s/missing.jsonl", dir);
    CHECK_STATUS(runlog_read(path, &r, &err), MLP_ERR_OPEN);
    CHECK_MSG(strstr(err.msg, path) && strstr(err.msg, "cannot open"), "%s", err.msg);
    runlog_free(&r);
    CHECK_STATUS(runlog_read(dir, &r, &err), MLP_ERR_OPEN);
    CHECK_MSG(strstr(err.msg, "is a directory") != NULL, "%s", err.msg);
    runlog_free(&r);

    refuses("empty.jsonl", "", MLP_ERR_FORMAT, "@: no epochs", NULL);
    refuses("blank.jsonl", "\n  \n\n", MLP_ERR_FORMAT, "no epochs", NULL);
    refuses("onlyhead.jsonl", header("0.1", "8", NULL), MLP_ERR_FORMAT, "no epochs after the header line", NULL);
    refuses("malformed.jsonl", "{\"epoch\": 1, \"train_loss\": 1}\n{\"epoch\": 2, \"train_loss\": 1}}\n",
            MLP_ERR_FORMAT, "@:2: ", "malformed JSON", NULL);
    refuses("unclosed.jsonl", "{\"epoch\": 1, \"train_loss\": 1\n", MLP_ERR_FORMAT, "@:1: ", "malformed JSON", NULL);
    refuses("cut.jsonl", "{\"epoch\": 1, \"train_loss\": 1}\n{\"epoch\": 2, \"train_lo", MLP_ERR_FORMAT, "@:2: ",
            "malformed JSON", "still writing", NULL);
    refuses("array.jsonl", "[1, 2]\n", MLP_ERR_FORMAT, "@:1: not a JSON object", NULL);
    refuses("scalar.jsonl", "{\"epoch\": 1, \"train_loss\": 1}\nhello\n", MLP_ERR_FORMAT, "@:2: not a JSON object",
            NULL);
    refuses("noepoch.jsonl", "{\"epoch\": 1, \"train_loss\": 1}\n\n{\"train_loss\": 0.5}\n", MLP_ERR_FORMAT,
            "@:3: no \"epoch\"", NULL);
    refuses("noloss.jsonl", "{\"epoch\": 1, \"train_acc\": 0.5}\n", MLP_ERR_FORMAT, "@:1: epoch 1 has no \"train_loss\"",
            NULL);
    refuses("repeat.jsonl", "{\"epoch\": 1, \"train_loss\": 1}\n{\"epoch\": 2, \"train_loss\": 1}\n"
                            "{\"epoch\": 2, \"train_loss\": 1}\n",
            MLP_ERR_FORMAT, "@:3: epoch 2 after epoch 2", "must increase", NULL);
    refuses("back.jsonl", "{\"epoch\": 5, \"train_loss\": 1}\n{\"epoch\": 1, \"train_loss\": 1}\n", MLP_ERR_FORMAT,
            "@:2: epoch 1 after epoch 5", NULL);
    refuses("newer.jsonl", "{\"fastmlp_log\": 2, \"whatever\": 1}\n{\"epoch\": 1, \"train_loss\": 1}\n",
            MLP_ERR_FORMAT, "@:1: written by a newer fastmlp (log format 2; this build reads 1)", NULL);
    refuses("badformat.jsonl", "{\"fastmlp_log\": \"one\"}\n{\"epoch\": 1, \"train_loss\": 1}\n", MLP_ERR_FORMAT,
            "'one' is not a log format version", NULL);
    refuses("second.jsonl", cat("{\"epoch\": 1, \"train_loss\": 1}\n", header("0.1", "8", NULL)), MLP_ERR_FORMAT,
            "@:2: a second header line", NULL);
    refuses("badeval.jsonl", "{\"fastmlp_log\": 1, \"eval\": \"train\"}\n{\"epoch\": 1, \"train_loss\": 1}\n",
            MLP_ERR_FORMAT, "\"eval\": 'train' is not test or valid", NULL);
    refuses("mixhdr.jsonl", cat(header("0.1", "8", NULL), "{\"epoch\": 1, \"train_loss\": 1, \"valid_loss\": 1}\n"),
            MLP_ERR_FORMAT, "@:2: valid_* figures, but the header on line 1 has test", NULL);
    refuses("mixlines.jsonl", "{\"epoch\": 1, \"train_loss\": 1, \"test_acc\": 1}\n{\"epoch\": 2, \"train_loss\": 1}\n"
                              "{\"epoch\": 3, \"train_loss\": 1, \"valid_acc\": 1}\n",
            MLP_ERR_FORMAT, "@:3: valid_* figures, but line 1 has test", NULL);
    refuses("both.jsonl", "{\"epoch\": 1, \"train_loss\": 1, \"test_loss\": 1, \"valid_loss\": 1}\n", MLP_ERR_FORMAT,
            "both test_* and valid_*", NULL);
    refuses("frac.jsonl", "{\"epoch\": 1.5, \"train_loss\": 1}\n", MLP_ERR_FORMAT, "\"epoch\": '1.5' is not a whole",
            NULL);
    refuses("negepoch.jsonl", "{\"epoch\": -1, \"train_loss\": 1}\n", MLP_ERR_FORMAT, "is not a whole number", NULL);
    refuses("bigepoch.jsonl", "{\"epoch\": 4294967296, \"train_loss\": 1}\n", MLP_ERR_FORMAT, "not a whole number",
            NULL);
    refuses("word.jsonl", "{\"epoch\": 1, \"train_loss\": \"low\"}\n", MLP_ERR_FORMAT,
            "@:1: \"train_loss\": 'low' is not a number", NULL);
    refuses("listval.jsonl", "{\"epoch\": 1, \"train_loss\": [1]}\n", MLP_ERR_FORMAT, "\"train_loss\" is not a number",
            NULL);
    refuses("twice.jsonl", "{\"epoch\": 1, \"train_loss\": 1, \"epoch\": 2}\n", MLP_ERR_FORMAT,
            "\"epoch\" given twice", NULL);
    refuses("hpnotobj.jsonl", "{\"fastmlp_log\": 1, \"hyperparameters\": 3}\n{\"epoch\": 1, \"train_loss\": 1}\n",
            MLP_ERR_FORMAT, "\"hyperparameters\" is not an object", NULL);
    /* a NUL byte (fwrite: put() would stop at it) */
    snprintf(path, sizeof path, "%s/nul2.jsonl", dir);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite("{\"epoch\": 1, \"train_loss\": 1}\n{\"ep\0ch\": 2}\n", 1, 43, f);
        fclose(f);
    }
    CHECK_STATUS(runlog_read(path, &r, &err), MLP_ERR_FORMAT);
    CHECK_MSG(strstr(err.msg, ":2: a NUL byte") != NULL, "%s", err.msg);
    runlog_free(&r);

    /* a line over the bound is refused before it is held whole */
    size_t n = RUNLOG_MAX_LINE + 100;
    char *big = malloc(n + 1);
    if (big) {
        memset(big, ' ', n);
        memcpy(big, "{\"epoch\": 1, \"train_loss\": 1, \"pad\": \"", 38);
        big[n - 3] = '"';
        big[n - 2] = '}';
        big[n - 1] = '\n';
        big[n] = 0;
        refuses("long.jsonl", big, MLP_ERR_FORMAT, "@:1: a line longer than 1048576 bytes", NULL);
        /* just under the bound is a line like any other */
        size_t m = RUNLOG_MAX_LINE;
        memset(big + 38, 'x', m - 38);
        big[m - 3] = '"';
        big[m - 2] = '}';
        big[m - 1] = '\n';
        big[m] = 0;
        CHECK_STATUS(runlog_read(put("long_ok.jsonl", big), &r, &err), MLP_OK);
        runlog_free(&r);
        free(big);
    }
}

/* Read the logs at paths[0..n) and label them. */
static void labels_of(struct runlog *logs, const char *const *paths, uint32_t n)
{
    struct mlp_error err = {0};
    for (uint32_t i = 0; i < n; i++) CHECK_STATUS(runlog_read(paths[i], &logs[i], &err), MLP_OK);
    CHECK_STATUS(runlog_labels(logs, n, &err), MLP_OK);
}

static void free_all(struct runlog *logs, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) runlog_free(&logs[i]);
}

#define LABEL_IS(log, want) CHECK_MSG((log).label && strcmp((log).label, want) == 0, "label '%s', want '%s'", \
                                      (log).label ? (log).label : "(null)", want)

static void test_labels(void)
{
    struct runlog L[4];
    /* lr and batch differ: both, in header order */
    const char *a[3] = {strdup(put("r1/run.jsonl", cat(header("0.01", "32", NULL), EPOCHS))),
                        strdup(put("r2/run.jsonl", cat(header("0.001", "32", NULL), EPOCHS))),
                        strdup(put("r3/run.jsonl", cat(header("0.01", "64", NULL), EPOCHS)))};
    labels_of(L, a, 3);
    LABEL_IS(L[0], "lr=0.01 batch=32");
    LABEL_IS(L[1], "lr=0.001 batch=32");
    LABEL_IS(L[2], "lr=0.01 batch=64");
    free_all(L, 3);
    /* only lr: the others are left out; a header-less log gets its file name */
    const char *b[3] = {a[0], a[1], strdup(put("plain/other.jsonl", EPOCHS))};
    labels_of(L, b, 3);
    LABEL_IS(L[0], "lr=0.01");
    LABEL_IS(L[1], "lr=0.001");
    LABEL_IS(L[2], "other.jsonl");
    free_all(L, 3);
    /* nothing differs: the files, told apart by their directories */
    const char *c[2] = {a[0], strdup(put("r4/run.jsonl", cat(header("1e-2", "32", NULL), EPOCHS)))};
    labels_of(L, c, 2);
    LABEL_IS(L[0], "r1/run.jsonl");
    LABEL_IS(L[1], "r4/run.jsonl");
    free_all(L, 2);
    /* as many directories as it takes, and a shorter path stays whole */
    const char *d[4] = {strdup(put("x/a/log.jsonl", EPOCHS)), strdup(put("y/a/log.jsonl", EPOCHS)),
                        strdup(put("x/b/log.jsonl", EPOCHS)), strdup(put("solo.jsonl", EPOCHS))};
    labels_of(L, d, 4);
    LABEL_IS(L[0], "x/a/log.jsonl");
    LABEL_IS(L[1], "y/a/log.jsonl");
    LABEL_IS(L[2], "b/log.jsonl");
    LABEL_IS(L[3], "solo.jsonl");
    free_all(L, 4);
    /* the same values shown twice: the file follows */
    const char *e[3] = {a[0], a[1], strdup(put("r5/again.jsonl", cat(header("0.01", "32", "{\"lr\": 0.01}"), EPOCHS)))};
    labels_of(L, e, 3);
    LABEL_IS(L[0], "lr=0.01 (r1/run.jsonl)"); /* run.jsonl twice among the logs */
    LABEL_IS(L[1], "lr=0.001");
    LABEL_IS(L[2], "lr=0.01 (again.jsonl)");
    free_all(L, 3);
    /* more than four differing keys: four, then "…" */
    char h5[4096];
    snprintf(h5, sizeof h5, "%s", header("0.5", "16", NULL));
    char *s;
    if ((s = strstr(h5, "\"seed\": 42"))) memcpy(s, "\"seed\": 43", 10);
    if ((s = strstr(h5, "\"epochs\": 5"))) memcpy(s, "\"epochs\": 6", 11);
    if ((s = strstr(h5, "\"threads\": 2"))) memcpy(s, "\"threads\": 4", 12);
    const char *f[2] = {a[0], strdup(put("r6/many.jsonl", cat(h5, EPOCHS)))};
    labels_of(L, f, 2);
    LABEL_IS(L[0], "lr=0.01 batch=32 epochs=5 seed=42 \xe2\x80\xa6");
    LABEL_IS(L[1], "lr=0.5 batch=16 epochs=6 seed=43 \xe2\x80\xa6");
    /* labelling again replaces the labels */
    struct mlp_error err = {0};
    CHECK_STATUS(runlog_labels(L, 1, &err), MLP_OK);
    LABEL_IS(L[0], "run.jsonl");
    free_all(L, 2);
    free((void *)f[1]);
    free((void *)e[2]);
    for (int i = 0; i < 4; i++) free((void *)d[i]);
    free((void *)c[1]);
    free((void *)b[2]);
    for (int i = 0; i < 3; i++) free((void *)a[i]);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_header_and_plain();
    test_valid_and_special_values();
    test_refusals();
    test_labels();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return check_report("runlog");
}
