/* SPDX-License-Identifier: MIT */
/* fastmlp over MPI: the collectives of data-parallel training (struct
 * mlp_comm, fastmlp.h) made from an MPI communicator.  Built when CMake
 * finds MPI (the fastmlp_mpi library, which the fastmlp-mpi program
 * links); fastmlp itself knows nothing of MPI.
 *
 *     struct mlp_comm_mpi cm;
 *     mlp_comm_mpi_init(&cm, MPI_COMM_WORLD, 1, &err);   after MPI_Init
 *     struct mlp_train_params tp = mlp_train_params_default();
 *     tp.comm = &cm.comm;   ... every rank loads its shard
 *     mlp_model_train(m, &shard, &tp, &err);
 *     mlp_comm_mpi_free(&cm);                             before MPI_Finalize
 */
#ifndef FASTMLP_MPI_H
#define FASTMLP_MPI_H

#include <mpi.h>

#include "fastmlp.h"

#ifdef __cplusplus
extern "C" {
#endif

struct mlp_comm_mpi {
    struct mlp_comm comm; /* hand &comm to mlp_train_params.comm */
    MPI_Comm mc;          /* a duplicate of the caller's: its errors are returned */
    MPI_Request *req;     /* the sums started and not yet waited for */
    int n_req, cap_req;
};

/* Over a duplicate of `comm` (its own error handler: an MPI failure then
 * becomes the trainer's MLP_ERR_IO with MPI's message, not an abort).
 * overlap: 1 sums each layer's gradient as soon as the backward pass is
 * done with it (MPI_Iallreduce per layer, then MPI_Waitall), 0 sums the
 * whole gradient once at the end (one blocking MPI_Allreduce). */
enum mlp_status mlp_comm_mpi_init(struct mlp_comm_mpi *c, MPI_Comm comm, int overlap, struct mlp_error *err);
void mlp_comm_mpi_free(struct mlp_comm_mpi *c);

#ifdef __cplusplus
}
#endif

#endif
