/* SPDX-License-Identifier: MIT */
/* struct mlp_comm over MPI (fastmlp_mpi.h).  MPI counts are ints: longer
 * vectors go in pieces of at most 2^30 elements. */
#include "fastmlp_mpi.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PIECE ((size_t)1 << 30)

static int say(int rc, const char *what, char *msg, size_t cap)
{
    char s[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, s, &len) != MPI_SUCCESS) snprintf(s, sizeof s, "MPI error %d", rc);
    snprintf(msg, cap, "%s: %s", what, s);
    return 1;
}

static MPI_Datatype type_of(enum mlp_dtype dt)
{
    return dt == MLP_F32 ? MPI_FLOAT : MPI_DOUBLE;
}

static size_t size_of(enum mlp_dtype dt)
{
    return dt == MLP_F32 ? sizeof(float) : sizeof(double);
}

static int allreduce(void *self, void *buf, size_t n, enum mlp_dtype dt, char *msg, size_t cap)
{
    struct mlp_comm_mpi *c = self;
    for (size_t o = 0; o < n; o += PIECE) {
        int k = (int)(n - o < PIECE ? n - o : PIECE);
        int rc = MPI_Allreduce(MPI_IN_PLACE, (char *)buf + o * size_of(dt), k, type_of(dt), MPI_SUM, c->mc);
        if (rc != MPI_SUCCESS) return say(rc, "MPI_Allreduce", msg, cap);
    }
    return 0;
}

static int iallreduce(void *self, void *buf, size_t n, enum mlp_dtype dt, char *msg, size_t cap)
{
    struct mlp_comm_mpi *c = self;
    for (size_t o = 0; o < n; o += PIECE) {
        if (c->n_req == c->cap_req) {
            int cap2 = c->cap_req ? 2 * c->cap_req : 16;
            MPI_Request *r = realloc(c->req, (size_t)cap2 * sizeof *r);
            if (!r) {
                snprintf(msg, cap, "out of memory for %d MPI requests", cap2);
                return 1;
            }
            c->req = r;
            c->cap_req = cap2;
        }
        int k = (int)(n - o < PIECE ? n - o : PIECE);
        int rc = MPI_Iallreduce(MPI_IN_PLACE, (char *)buf + o * size_of(dt), k, type_of(dt), MPI_SUM, c->mc,
                                &c->req[c->n_req]);
        if (rc != MPI_SUCCESS) return say(rc, "MPI_Iallreduce", msg, cap);
        c->n_req++;
    }
    /* Open MPI moves a nonblocking collective on only inside MPI calls (no
     * progress thread): a test of those started so far lets the earlier
     * layers' sums advance while the backward pass computes the next */
    int done;
    int rc = MPI_Testall(c->n_req, c->req, &done, MPI_STATUSES_IGNORE);
    return rc == MPI_SUCCESS ? 0 : say(rc, "MPI_Testall", msg, cap);
}

static int wait_all(void *self, char *msg, size_t cap)
{
    struct mlp_comm_mpi *c = self;
    int rc = MPI_Waitall(c->n_req, c->req, MPI_STATUSES_IGNORE);
    c->n_req = 0;
    return rc == MPI_SUCCESS ? 0 : say(rc, "MPI_Waitall", msg, cap);
}

static int allgather(void *self, const void *mine, void *all, size_t bytes, char *msg, size_t cap)
{
    struct mlp_comm_mpi *c = self;
    if (bytes > INT_MAX) {
        snprintf(msg, cap, "MPI_Allgather of %zu bytes a rank: too many", bytes);
        return 1;
    }
    int rc = MPI_Allgather(mine, (int)bytes, MPI_BYTE, all, (int)bytes, MPI_BYTE, c->mc);
    return rc == MPI_SUCCESS ? 0 : say(rc, "MPI_Allgather", msg, cap);
}

enum mlp_status mlp_comm_mpi_init(struct mlp_comm_mpi *c, MPI_Comm comm, int overlap, struct mlp_error *err)
{
    memset(c, 0, sizeof *c);
    c->mc = MPI_COMM_NULL;
    int rc = MPI_Comm_dup(comm, &c->mc);
    if (rc == MPI_SUCCESS) rc = MPI_Comm_set_errhandler(c->mc, MPI_ERRORS_RETURN);
    if (rc == MPI_SUCCESS) rc = MPI_Comm_rank(c->mc, &c->comm.rank);
    if (rc == MPI_SUCCESS) rc = MPI_Comm_size(c->mc, &c->comm.size);
    if (rc != MPI_SUCCESS) {
        char m[sizeof err->msg];
        say(rc, "cannot set up the MPI communicator", m, sizeof m);
        if (err) {
            err->status = MLP_ERR_IO;
            snprintf(err->msg, sizeof err->msg, "%s", m);
        }
        if (c->mc != MPI_COMM_NULL) MPI_Comm_free(&c->mc);
        return MLP_ERR_IO;
    }
    c->comm.self = c;
    c->comm.allreduce = allreduce;
    c->comm.iallreduce = overlap ? iallreduce : NULL;
    c->comm.wait = overlap ? wait_all : NULL;
    c->comm.allgather = allgather;
    return MLP_OK;
}

void mlp_comm_mpi_free(struct mlp_comm_mpi *c)
{
    if (c->mc != MPI_COMM_NULL) MPI_Comm_free(&c->mc);
    free(c->req);
    c->req = NULL;
    c->n_req = c->cap_req = 0;
}
