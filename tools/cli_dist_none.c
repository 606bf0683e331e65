/* SPDX-License-Identifier: MIT */
/* The fastmlp program: one process, no MPI (cli_dist.h). */
#include "cli.h"
#include "cli_dist.h"

struct cli_dist cli_dist = {0, 1};

int cli_dist_init(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return EXIT_OK;
}

int cli_dist_finish(int rc) { return rc; }

const char *cli_dist_version(void) { return NULL; }

const struct mlp_comm *cli_dist_comm(int overlap, struct mlp_error *err)
{
    (void)overlap;
    (void)err;
    return NULL;
}

int cli_dist_agree(const char *cmd, int rc)
{
    (void)cmd;
    return rc;
}

int cli_dist_abort(int rc) { return rc; }

uint64_t cli_dist_sum_u64(uint64_t v) { return v; }
