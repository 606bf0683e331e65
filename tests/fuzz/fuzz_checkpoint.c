/* SPDX-License-Identifier: MIT */
/* libFuzzer target: resuming from arbitrary checkpoint bytes, into a fixed
 * small trainer (the one its seed was written by), must either be refused
 * with the trainer left exactly as it was, or succeed and leave a run that
 * trains on to its last epoch; never crash, leak or hang.
 *
 * Its seed, corpus_checkpoint/adam_mid_epoch, is that trainer stopped in the
 * middle of its second epoch: FASTMLP_FUZZ_WRITE_SEED=PATH makes the target
 * write it to PATH when it starts (run the replay on any input). */
#include "fuzz_common.h"

static const double x[8][3] = {{0.1, 2, -1},  {0.5, 1, 0}, {-1, 0.25, 3}, {2, -2, 1},
                               {0, 0, 0.5},   {1, 1, 1},   {-0.5, 3, 2},  {0.75, -1, -2}};
static const int32_t y[8] = {0, 1, 1, 0, 1, 0, 0, 1};

/* The trainer every input resumes into (made once), and its model. */
static struct mlp_model *g_model;
static struct mlp_trainer *g_trainer;
static const struct mlp_dataset g_data = {.n_rows = 8, .n_cols = 3, .x_type = MLP_ELEM_F64, .x = x,
                                          .labels = y, .n_classes = 2};

static struct mlp_trainer *make_trainer(struct mlp_model *m)
{
    struct mlp_train_params p = mlp_train_params_default();
    p.batch = 3;
    p.epochs = 3;
    p.seed = 5;
    p.lr = 0.05;
    struct mlp_trainer *t = NULL;
    if (mlp_trainer_create(&t, m, &g_data, &p, NULL) != MLP_OK) abort();
    return t;
}

static int stop_mid_epoch_2(const struct mlp_batch_info *b, void *user)
{
    (void)user;
    return b->epoch == 2 && b->batch == 1;
}

static void setup(void)
{
    struct mlp_layer_spec hidden[1] = {{4, MLP_ACT_RELU}};
    struct mlp_model_params mp = mlp_model_params_default();
    mp.n_in = 3;
    mp.n_hidden = 1;
    mp.hidden = hidden;
    mp.n_out = 2;
    if (mlp_model_create(&g_model, &mp, NULL) != MLP_OK) abort();
    mlp_model_init(g_model, MLP_INIT_HE, 0, 0, 3);
    g_trainer = make_trainer(g_model);
    const char *seed = getenv("FASTMLP_FUZZ_WRITE_SEED");
    if (seed) {
        /* A second model and trainer, so that g_trainer stays untrained. */
        struct mlp_model *m = NULL;
        if (mlp_model_clone(&m, g_model, NULL) != MLP_OK) abort();
        struct mlp_trainer *t = make_trainer(m);
        mlp_trainer_set_callbacks(t, NULL, stop_mid_epoch_2, NULL);
        if (mlp_trainer_run(t, NULL) != MLP_ERR_STOPPED || mlp_trainer_save_checkpoint(t, seed, NULL) != MLP_OK)
            abort();
        mlp_trainer_free(t);
        mlp_model_free(m);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_trainer) setup();
    size_t np = mlp_model_n_params(g_model);
    float before[64];
    if (np > 64) abort();
    memcpy(before, mlp_model_params(g_model), np * sizeof(float));
    uint32_t done = mlp_trainer_epochs_done(g_trainer);

    struct mlp_buffer b = {data, size, "fuzz.ckpt"};
    if (mlp_trainer_resume_mem(g_trainer, &b, NULL) != MLP_OK) {
        /* Refused: nothing changed. */
        if (memcmp(before, mlp_model_params(g_model), np * sizeof(float)) != 0 ||
            mlp_trainer_epochs_done(g_trainer) != done)
            abort();
        return 0;
    }
    /* Accepted: a consistent position, from which the run goes on (or
     * diverges, or stops early) without a crash. */
    if (mlp_trainer_epochs_done(g_trainer) > 3) abort();
    enum mlp_status st = mlp_trainer_run(g_trainer, NULL);
    if (st != MLP_OK && st != MLP_ERR_DIVERGED) abort();
    return 0;
}
