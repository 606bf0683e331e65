/* SPDX-License-Identifier: MIT */
/* A save that is killed at any moment (SIGKILL) or that runs out of space
 * (RLIMIT_FSIZE, the same EFBIG/ENOSPC path as a full disk) leaves either the
 * complete old model or the complete new one, never a broken file. */
#include "testutil.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct mlp_model *big(double fill)
{
    /* ~4 MB of f64 weights: a save takes long enough to be interrupted. */
    struct mlp_layer_spec h[1] = {{512, MLP_ACT_RELU}};
    struct mlp_model *m = test_model(MLP_F64, 1000, 1, h, 10, MLP_HEAD_SOFTMAX_CE, 1);
    if (!m) return NULL;
    double *w = mlp_model_params(m);
    for (size_t i = 0; i < mlp_model_n_params(m); i++) w[i] = fill + (double)i * 1e-9;
    return m;
}

/* 0 if `path` holds exactly a or b, else -1. */
static int holds_a_or_b(const char *path, const struct mlp_model *a, const struct mlp_model *b)
{
    struct mlp_model *l = NULL;
    struct mlp_error err = {0};
    if (mlp_model_load(&l, path, &err) != MLP_OK) {
        fprintf(stderr, "load after interruption failed: %s\n", err.msg);
        return -1;
    }
    size_t bytes = mlp_model_n_params(l) * 8;
    int ok = memcmp(mlp_model_params_const(l), mlp_model_params_const(a), bytes) == 0 ||
             memcmp(mlp_model_params_const(l), mlp_model_params_const(b), bytes) == 0;
    mlp_model_free(l);
    return ok ? 0 : -1;
}

int main(void)
{
    char dir[] = "/tmp/fastmlp_atomic_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[128];
    snprintf(path, sizeof path, "%s/m.mlp", dir);
    struct mlp_model *a = big(1), *b = big(2);
    if (!a || !b) return check_report("atomic_save");
    CHECK_STATUS(mlp_model_save(a, path, NULL), MLP_OK);

    /* Kill a child that saves a and b in turn, at moments spread over a save. */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_STATUS(mlp_model_save(b, path, NULL), MLP_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long save_us = (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000;
    if (save_us < 100) save_us = 100;
    for (int round = 0; round < 24; round++) {
        pid_t pid = fork();
        if (pid == 0) {
            for (int i = 0;; i++) mlp_model_save(i % 2 ? a : b, path, NULL);
        }
        CHECK(pid > 0);
        if (pid <= 0) break;
        long us = save_us * (round + 1) / 8;
        struct timespec nap = {us / 1000000, (us % 1000000) * 1000};
        nanosleep(&nap, NULL);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        CHECK_MSG(holds_a_or_b(path, a, b) == 0, "round %d: the model file is neither the old nor the new one", round);
    }

    /* Out of space mid-write: the save fails with an I/O error, the old file
     * stays, and no temporary file is left behind. */
    CHECK_STATUS(mlp_model_save(a, path, NULL), MLP_OK);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {1 << 20, 1 << 20}; /* 1 MiB: a quarter of the model */
        setrlimit(RLIMIT_FSIZE, &rl);
        struct mlp_error err = {0};
        enum mlp_status st = mlp_model_save(b, path, &err);
        _exit(st == MLP_ERR_IO && strstr(err.msg, "cannot write") ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a save past the size limit did not fail with an I/O error");
    CHECK(holds_a_or_b(path, a, a) == 0);

    /* Clean up; the only file left must be the model itself (the killed
     * children may leave their temporary files: remove those too). */
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    mlp_model_free(a);
    mlp_model_free(b);
    return check_report("atomic_save");
}
