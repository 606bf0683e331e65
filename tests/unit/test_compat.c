/* SPDX-License-Identifier: MIT */
/* Files written by an older fastmlp still load and predict what it predicted:
 * a model file and a checkpoint written by commit c3f0560's CLI, with that
 * CLI's predictions beside them (tests/data/c3f0560/, and its README.md for
 * the commands).  The model loads from its path and from memory; the
 * checkpoint resumes from its path and from memory into a trainer set up as
 * that run was, predicts what the weights it holds predicted, and the run
 * finished from it predicts what the run's final model did.  A cut or
 * corrupted checkpoint in memory is refused as its file is, and leaves the
 * trainer as it was. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "datadir.h"
#include "fastmlp.h"
#include "loadtest.h"
#include "testutil.h"

#define ROWS 75u
#define CLASSES 3u

/* c3f0560's `fastmlp predict` output: row,class,label,p0,p1,p2 with a header,
 * probabilities printed with %.9g. */
struct preds {
    int cls[ROWS], label[ROWS];
    double p[ROWS][CLASSES];
};

static int read_preds(const char *name, struct preds *out)
{
    const char *path = test_data_path(name);
    FILE *f = fopen(path, "r");
    CHECK_MSG(f != NULL, "cannot open %s (missing data is a failure)", path);
    if (!f) return 0;
    char line[512];
    int ok = fgets(line, sizeof line, f) && strcmp(line, "row,class,label,p0,p1,p2\n") == 0;
    unsigned n = 0;
    while (ok && fgets(line, sizeof line, f)) {
        unsigned row;
        ok = n < ROWS && sscanf(line, "%u,%d,%d,%lf,%lf,%lf", &row, &out->cls[n], &out->label[n], &out->p[n][0],
                                &out->p[n][1], &out->p[n][2]) == 6 &&
             row == n;
        n++;
    }
    fclose(f);
    CHECK_MSG(ok && n == ROWS, "%s: malformed at row %u", path, n);
    return ok && n == ROWS;
}

/* m's predictions on ds against c3f0560's: the same class for every row, and
 * probabilities equal to the 9 digits it printed. */
static void check_preds(const char *what, const struct mlp_model *m, const struct mlp_dataset *ds,
                        const struct preds *want)
{
    double p[ROWS][CLASSES];
    CHECK_STATUS(mlp_model_predict(m, ds, MLP_ROWS(0, ROWS), &p[0][0], NULL), MLP_OK);
    unsigned bad = 0;
    double worst = 0;
    for (unsigned i = 0; i < ROWS; i++) {
        int cls = 0;
        for (unsigned k = 1; k < CLASSES; k++)
            if (p[i][k] > p[i][cls]) cls = (int)k;
        bad += cls != want->cls[i] || ds->labels[i] != want->label[i];
        for (unsigned k = 0; k < CLASSES; k++)
            if (!(fabs(p[i][k] - want->p[i][k]) <= worst)) worst = fabs(p[i][k] - want->p[i][k]);
    }
    CHECK_MSG(bad == 0, "%s: %u rows with another class or label", what, bad);
    CHECK_MSG(worst <= 2e-9, "%s: a probability differs by %.3g", what, worst);
}

/* The run c3f0560's CLI made (README.md): Adam, lr 0.01, batch 16, 8
 * epochs, seed 7, one thread, no evaluation set, on the model's network. */
static struct mlp_trainer *make_trainer(struct mlp_model *m, const struct mlp_dataset *train)
{
    struct mlp_train_params tp = mlp_train_params_default();
    tp.lr = 0.01;
    tp.batch = 16;
    tp.epochs = 8;
    tp.seed = 7;
    mlp_model_set_context(m, test_use(1, MLP_KERNELS_FAST));
    struct mlp_trainer *t = NULL;
    CHECK_STATUS(mlp_trainer_create(&t, m, train, &tp, NULL), MLP_OK);
    return t;
}

static int same_params(struct mlp_model *a, struct mlp_model *b)
{
    return mlp_model_n_params(a) == mlp_model_n_params(b) &&
           memcmp(mlp_model_params(a), mlp_model_params(b), mlp_model_n_params(a) * sizeof(double)) == 0;
}

int main(void)
{
    tmp_init("compat");
    struct preds final, at5;
    struct mlp_dataset ds;
    struct mlp_error err = {0};
    const char *csv = test_data_path("c3f0560/galaxy_small.csv");
    if (!read_preds("c3f0560/model_pred.csv", &final) || !read_preds("c3f0560/ckpt_pred.csv", &at5) ||
        mlp_dataset_load_csv(&ds, csv, NULL, &err) != MLP_OK) {
        CHECK_MSG(0, "the c3f0560 files cannot be read: %s", err.msg);
        return check_report("compat");
    }
    CHECK(ds.n_rows == ROWS && ds.n_cols == 32 && ds.x_type == MLP_ELEM_U8 && ds.n_classes == CLASSES);

    /* The model file: by path and from memory, the same model, predicting
     * what c3f0560 predicted. */
    const char *model_path = test_data_path("c3f0560/model.mlp");
    struct mlp_model *m = NULL, *mm = NULL;
    CHECK_STATUS(mlp_model_load(&m, model_path, &err), MLP_OK);
    size_t n;
    unsigned char *bytes = read_all(model_path, &n);
    struct mlp_buffer mb = {bytes, n, "model.mlp"};
    CHECK_STATUS(mlp_model_load_mem(&mm, &mb, &err), MLP_OK);
    free(bytes);
    if (!m || !mm) return check_report("compat");
    CHECK(mlp_model_dtype(m) == MLP_F64 && mlp_model_n_in(m) == 32 && mlp_model_n_layers(m) == 2 &&
          mlp_model_layer(m, 0).n_out == 16 && mlp_model_layer(m, 0).act == MLP_ACT_TANH &&
          mlp_model_standardize_mean(m) != NULL && mlp_model_train_meta(m).epochs == 8);
    CHECK(same_params(m, mm));
    check_preds("model.mlp", m, &ds, &final);
    check_preds("model.mlp from memory", mm, &ds, &final);

    /* The checkpoint (written after epoch 5 of 8): resumed by path and from
     * memory, the same weights, predicting what c3f0560's weights after
     * epoch 5 did; the three epochs left end where c3f0560's run ended. */
    const char *ckpt_path = test_data_path("c3f0560/run.ckpt");
    unsigned char *ck = read_all(ckpt_path, &n);
    struct mlp_buffer cb = {ck, n, ckpt_path};
    struct mlp_trainer *t = make_trainer(m, &ds), *tm = make_trainer(mm, &ds);
    if (!t || !tm) return check_report("compat");
    CHECK_STATUS(mlp_trainer_resume(t, ckpt_path, &err), MLP_OK);
    CHECK_MSG(err.msg[0] == 0, "%s", err.msg);
    CHECK_STATUS(mlp_trainer_resume_mem(tm, &cb, &err), MLP_OK);
    CHECK(mlp_trainer_epochs_done(t) == 5 && mlp_trainer_epochs_done(tm) == 5);
    CHECK(same_params(m, mm));
    check_preds("run.ckpt", m, &ds, &at5);
    CHECK_STATUS(mlp_trainer_run(t, &err), MLP_OK);
    CHECK(mlp_trainer_epochs_done(t) == 8);
    check_preds("run.ckpt resumed to the end", m, &ds, &final);

    /* A cut or corrupted checkpoint in memory: refused as its file is, with
     * the trainer left as it was (the weights after epoch 5). */
    size_t np = mlp_model_n_params(mm);
    double *before = malloc(np * sizeof *before);
    CHECK(before != NULL);
    if (before) memcpy(before, mlp_model_params(mm), np * sizeof *before);
    unsigned refused = 0, same_msg = 0, tried = 0;
    for (size_t k = 0; k < n; k += 37) {
        const char *p = write_file("cut.ckpt", ck, k);
        struct mlp_buffer cut = {ck, k, p};
        struct mlp_error ef = {0}, em = {0};
        enum mlp_status sf = mlp_trainer_resume(tm, p, &ef), sm = mlp_trainer_resume_mem(tm, &cut, &em);
        tried++;
        refused += sf == MLP_ERR_FORMAT && sm == MLP_ERR_FORMAT;
        same_msg += strcmp(ef.msg, em.msg) == 0;
        if (sm != MLP_ERR_FORMAT || strcmp(ef.msg, em.msg) != 0)
            fprintf(stderr, "cut to %zu: file %s '%s', memory %s '%s'\n", k, mlp_status_str(sf), ef.msg,
                    mlp_status_str(sm), em.msg);
    }
    CHECK_MSG(refused == tried && same_msg == tried, "%u of %u cuts refused alike", refused, tried);
    ck[n / 2] ^= 0x20;
    struct mlp_buffer flipped = {ck, n, NULL};
    CHECK_STATUS(mlp_trainer_resume_mem(tm, &flipped, &err), MLP_ERR_FORMAT);
    CHECK_MSG(strstr(err.msg, "<memory>: checkpoint checksum mismatch") == err.msg, "%s", err.msg);
    CHECK(mlp_trainer_epochs_done(tm) == 5);
    CHECK(before && memcmp(before, mlp_model_params(mm), np * sizeof *before) == 0);
    printf("test_compat: %u cut checkpoints refused alike from file and memory\n", tried);

    free(before);
    free(ck);
    mlp_trainer_free(t);
    mlp_trainer_free(tm);
    mlp_model_free(m);
    mlp_model_free(mm);
    mlp_dataset_free(&ds);
    tmp_cleanup();
    return check_report("compat");
}
