/* SPDX-License-Identifier: MIT */
/* Data-parallel training with the library and MPI (fastmlp_mpi.h): every
 * rank makes its shard of a toy two-class problem (points inside or outside
 * a circle), the ranks train one network together, and rank 0 reports the
 * accuracy over all ranks' rows and saves the model.
 *
 *     mpicc mpi_train.c $(pkg-config --cflags --libs fastmlp) -lfastmlp_mpi
 *     mpirun -np 4 ./a.out model.mlp
 *
 * Exits 0 when the network learned the circle (accuracy >= 0.9). */
#include "fastmlp_mpi.h"

#include <stdio.h>
#include <stdlib.h>

#define ROWS 4000 /* in all: rank r makes rows [ROWS*r/N, ROWS*(r+1)/N) */

/* Row i of the whole set, the same whichever rank makes it. */
static void make_row(uint64_t i, double *x, int32_t *y)
{
    uint64_t s = (i + 1) * 0x9E3779B97F4A7C15ull;
    for (int k = 0; k < 2; k++) {
        s ^= s >> 31;
        s *= 0xBF58476D1CE4E5B9ull;
        s ^= s >> 29;
        x[k] = (double)(s >> 11) / 9007199254740992.0 * 2 - 1; /* [-1, 1) */
    }
    *y = x[0] * x[0] + x[1] * x[1] < 0.5;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    struct mlp_error err = {0};
    struct mlp_comm_mpi cm;
    if (mlp_comm_mpi_init(&cm, MPI_COMM_WORLD, 1, &err) != MLP_OK) {
        fprintf(stderr, "rank %d: %s\n", rank, err.msg);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }

    /* this rank's shard */
    uint64_t lo = (uint64_t)ROWS * (uint64_t)rank / (uint64_t)size;
    uint64_t hi = (uint64_t)ROWS * (uint64_t)(rank + 1) / (uint64_t)size;
    double *x = malloc((hi - lo + 1) * 2 * sizeof *x);
    int32_t *y = malloc((hi - lo + 1) * sizeof *y);
    if (!x || !y) MPI_Abort(MPI_COMM_WORLD, 1);
    for (uint64_t i = lo; i < hi; i++) make_row(i, x + (i - lo) * 2, y + (i - lo));
    struct mlp_dataset shard = {.n_rows = hi - lo, .n_cols = 2, .x_type = MLP_ELEM_F64, .x = x, .labels = y,
                                .n_classes = 2};

    /* the same network and seed on every rank: the same start */
    struct mlp_layer_spec hidden[1] = {{16, MLP_ACT_TANH}};
    struct mlp_model_params mp = mlp_model_params_default();
    mp.n_in = 2;
    mp.n_hidden = 1;
    mp.hidden = hidden;
    mp.n_out = 1;
    mp.head = MLP_HEAD_SIGMOID_BCE;
    struct mlp_model *m = NULL;
    struct mlp_trainer *t = NULL;
    enum mlp_status st = mlp_model_create(&m, &mp, &err);
    if (st == MLP_OK) st = mlp_model_init(m, MLP_INIT_XAVIER, 0, 0, 1);

    struct mlp_train_params tp = mlp_train_params_default();
    tp.lr = 0.02;
    tp.batch = 128; /* the global batch, split over the ranks */
    tp.epochs = 30;
    tp.comm = &cm.comm;
    if (st == MLP_OK) st = mlp_trainer_create(&t, m, &shard, &tp, &err);
    if (st == MLP_OK) st = mlp_trainer_run(t, &err);
    double loss = 0, acc = 0;
    if (st == MLP_OK) st = mlp_trainer_evaluate(t, &shard, &loss, &acc, &err); /* over every rank's rows */
    if (st == MLP_OK && rank == 0 && argc > 1) st = mlp_model_save(m, argv[1], &err);
    if (st != MLP_OK) {
        /* a failure here may be this rank's alone: end the job */
        fprintf(stderr, "rank %d: %s\n", rank, err.msg);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    if (rank == 0) printf("%d ranks, %d rows: loss %.4f, accuracy %.4f\n", size, ROWS, loss, acc);

    mlp_trainer_free(t);
    mlp_model_free(m);
    free(x);
    free(y);
    mlp_comm_mpi_free(&cm);
    MPI_Finalize();
    return acc >= 0.9 ? 0 : 1;
}
