/* SPDX-License-Identifier: MIT */
/* The command line's place in a data-parallel job.  The fastmlp program
 * runs alone (cli_dist_none.c); fastmlp-mpi is one rank of an MPI job
 * started by mpirun or srun (cli_dist_mpi.c).  Only `train` runs on
 * several ranks; its code asks cli_dist.size and calls these, never MPI.
 *
 * On a rank other than 0 the lines for people go nowhere (stdout is
 * /dev/null) and stderr is kept in a file, so that a failure found there
 * reaches the user once, as rank 0's line (cli_dist_agree), or, where the
 * others cannot be waited for, as the failing rank's line before the job
 * is ended (cli_dist_abort). */
#ifndef FASTMLP_CLI_DIST_H
#define FASTMLP_CLI_DIST_H

#include "fastmlp.h"

#include <stdint.h>

struct cli_dist {
    int rank, size; /* 0 and 1 alone */
};
extern struct cli_dist cli_dist;

/* At the start of main: MPI_Init and the rank's streams.  EXIT_OK or an
 * exit code after one stderr line. */
int cli_dist_init(int *argc, char ***argv);
/* The MPI library this program runs on ("Open MPI v4.1.4, ..."), or NULL
 * alone. */
const char *cli_dist_version(void);
/* At the end of main: rc, after MPI_Finalize. */
int cli_dist_finish(int rc);

/* The collectives of data-parallel training over all ranks (overlap: per
 * layer, else one sum; fastmlp_mpi.h), made once; NULL alone or when they
 * cannot be made (err says why). */
const struct mlp_comm *cli_dist_comm(int overlap, struct mlp_error *err);

/* Every rank says how it stands (rc: CLI_RUN to go on, else its exit
 * code); all get the same answer: CLI_RUN when every rank goes on, else
 * the exit code of the lowest failing rank, whose last stderr line rank 0
 * prints ("fastmlp CMD: rank R of N: ...").  A collective call. */
int cli_dist_agree(const char *cmd, int rc);

/* A failure the other ranks cannot be told of (they may be waiting in a
 * sum): this rank's last stderr line on the real stderr, then the whole
 * job ends with rc.  Alone: returns rc. */
int cli_dist_abort(int rc);

/* Sum of v over the ranks (v alone).  A collective call. */
uint64_t cli_dist_sum_u64(uint64_t v);

#endif
