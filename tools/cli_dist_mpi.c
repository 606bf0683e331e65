/* SPDX-License-Identifier: MIT */
/* fastmlp-mpi: one rank of an MPI job (cli_dist.h). */
#include "cli.h"
#include "cli_dist.h"
#include "fastmlp_mpi.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct cli_dist cli_dist = {0, 1};

static struct mlp_comm_mpi cm;
static bool have_comm;
static FILE *kept_stderr; /* rank > 0: what it wrote to stderr */
static int real_stderr = -1;

int cli_dist_init(int *argc, char ***argv)
{
    int provided;
    /* the library's own threads never call MPI: only the main thread does */
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "fastmlp: MPI_Init failed\n");
        return EXIT_SOFTWARE;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &cli_dist.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &cli_dist.size);
    /* a rank that cannot set itself up ends the job: the others would wait
     * for it in the first agreement */
    if (provided < MPI_THREAD_FUNNELED) {
        fprintf(stderr, "fastmlp: rank %d: the MPI library gives no MPI_THREAD_FUNNELED (fastmlp's threads)\n",
                cli_dist.rank);
        MPI_Abort(MPI_COMM_WORLD, EXIT_SOFTWARE);
    }
    if (cli_dist.rank > 0) {
        fflush(stdout);
        fflush(stderr);
        kept_stderr = tmpfile();
        real_stderr = dup(STDERR_FILENO);
        if (!freopen("/dev/null", "w", stdout) || !kept_stderr || real_stderr < 0 ||
            dup2(fileno(kept_stderr), STDERR_FILENO) < 0) {
            fprintf(stderr, "fastmlp: rank %d: cannot keep its messages in a temporary file (TMPDIR)\n",
                    cli_dist.rank);
            MPI_Abort(MPI_COMM_WORLD, EXIT_CANTCREAT);
        }
    }
    return EXIT_OK;
}

int cli_dist_finish(int rc)
{
    /* The command is over.  A rank that exits non-zero makes mpirun send
     * SIGTERM to the others, which may still be in MPI_Finalize's fence:
     * that must not print "interrupted" over the failure rank 0 reported. */
    if (cli_dist.size > 1) {
        signal(SIGTERM, SIG_IGN);
        signal(SIGINT, SIG_IGN);
    }
    if (have_comm) mlp_comm_mpi_free(&cm);
    have_comm = false;
    MPI_Finalize();
    return rc;
}

const char *cli_dist_version(void)
{
    static char v[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    if (MPI_Get_library_version(v, &len) != MPI_SUCCESS) return "unknown";
    char *nl = strpbrk(v, "\n,");
    if (nl) *nl = 0; /* the first part: "Open MPI v4.1.4" */
    return v;
}

const struct mlp_comm *cli_dist_comm(int overlap, struct mlp_error *err)
{
    if (cli_dist.size < 2) return NULL;
    if (!have_comm) {
        if (mlp_comm_mpi_init(&cm, MPI_COMM_WORLD, overlap, err) != MLP_OK) return NULL;
        have_comm = true;
    }
    return &cm.comm;
}

/* The last non-empty line this rank wrote to stderr (rank 0: none kept). */
static void last_line(char *out, size_t cap)
{
    out[0] = 0;
    if (!kept_stderr) return;
    fflush(stderr);
    char buf[1024];
    if (cap > sizeof buf) cap = sizeof buf;
    long end = lseek(STDERR_FILENO, 0, SEEK_END);
    long from = end > (long)cap ? end - (long)cap + 1 : 0;
    ssize_t n = pread(STDERR_FILENO, buf, cap - 1, from);
    if (n <= 0) return;
    buf[n] = 0;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) buf[--n] = 0;
    const char *nl = strrchr(buf, '\n'), *line = nl ? nl + 1 : buf;
    size_t k = strlen(line) < cap - 1 ? strlen(line) : cap - 1;
    memcpy(out, line, k);
    out[k] = 0;
}

/* "fastmlp CMD: MSG" -> "MSG" */
static const char *message_part(const char *line, const char *cmd)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "fastmlp %s: ", cmd);
    return strncmp(line, prefix, strlen(prefix)) == 0 ? line + strlen(prefix) : line;
}

int cli_dist_agree(const char *cmd, int rc)
{
    if (cli_dist.size < 2) return rc;
    struct {
        int rc;
        char line[400];
    } mine = {.rc = rc}, *all = calloc((size_t)cli_dist.size, sizeof *all);
    if (!all) return cli_dist_abort(EXIT_SOFTWARE);
    if (rc != CLI_RUN) last_line(mine.line, sizeof mine.line);
    if (MPI_Allgather(&mine, sizeof mine, MPI_BYTE, all, sizeof mine, MPI_BYTE, MPI_COMM_WORLD) != MPI_SUCCESS) {
        free(all);
        return cli_dist_abort(EXIT_SOFTWARE);
    }
    int out = CLI_RUN;
    for (int r = 0; r < cli_dist.size; r++)
        if (all[r].rc != CLI_RUN) {
            out = all[r].rc;
            /* rank 0 printed its own line; another's comes through it */
            if (cli_dist.rank == 0 && r > 0 && all[r].line[0])
                fprintf(stderr, "fastmlp %s: rank %d of %d: %s\n", cmd, r, cli_dist.size,
                        message_part(all[r].line, cmd));
            break;
        }
    free(all);
    return out;
}

int cli_dist_abort(int rc)
{
    if (cli_dist.size < 2) return rc;
    char line[400];
    last_line(line, sizeof line);
    if (real_stderr >= 0 && line[0]) {
        char out[460];
        int n = snprintf(out, sizeof out, "rank %d of %d: %s\n", cli_dist.rank, cli_dist.size, line);
        if (n > 0 && write(real_stderr, out, (size_t)n < sizeof out ? (size_t)n : sizeof out - 1) < 0) {
            /* nothing more can be said */
        }
    }
    fflush(stdout);
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, rc == CLI_RUN || rc == EXIT_OK ? EXIT_SOFTWARE : rc);
    return rc;
}

uint64_t cli_dist_sum_u64(uint64_t v)
{
    uint64_t s = v;
    if (cli_dist.size > 1 && MPI_Allreduce(&v, &s, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS)
        cli_dist_abort(EXIT_SOFTWARE);
    return s;
}
