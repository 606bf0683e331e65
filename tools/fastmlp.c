/* SPDX-License-Identifier: MIT */
/* The fastmlp command line: a table of subcommands.  Each one turns library
 * statuses into one stderr line and a documented exit code (cli.h). */
#include "cli.h"

#include <errno.h>
#include <string.h>

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"train", cmd_train, "train a network on a data set and save it"},
    {"predict", cmd_predict, "write the predicted class and probabilities for each row"},
    {"eval", cmd_eval, "loss, accuracy, confusion matrix and per-class F1 on labelled data"},
    {"info", cmd_info, "print what a model file holds"},
    {"gradcheck", cmd_gradcheck, "check the analytic gradient against finite differences"},
    {"bench", cmd_bench, "seed 003's benchmark: batch-1 inference through L layers of D x D"},
    {0}};

static void usage(FILE *f)
{
    fprintf(f, "usage: fastmlp COMMAND [options]    (fastmlp COMMAND --help for its options)\n\ncommands:\n");
    for (const struct command *c = commands; c->name; c++) fprintf(f, "  %-10s %s\n", c->name, c->summary);
    fprintf(f, "\n  --version  print the version and the BLAS in use\n");
}

/* Every command's stdout is checked: a full disk behind it is an error
 * (74), not a silent success. */
static int finish(const char *name, int rc)
{
    cli_contexts_free(); /* the command's models are gone by now */
    /* A signal a command recorded but did not act on still ends it as one. */
    if (rc == EXIT_OK && cli_interrupted()) {
        fflush(stdout);
        fprintf(stderr, "fastmlp %s: interrupted by %s\n", name, cli_signal_name());
        return EXIT_INTERRUPTED;
    }
    errno = 0;
    if ((fflush(stdout) != 0 || ferror(stdout)) && rc == EXIT_OK) {
        fprintf(stderr, "fastmlp %s: cannot write to standard output%s%s\n", name, errno ? ": " : "",
                errno ? strerror(errno) : "");
        rc = EXIT_IOERR;
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return finish("--help", EXIT_OK);
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("fastmlp %s\nBLAS: %s\n", MLP_VERSION_STRING, mlp_blas_info());
        const char *h5 = mlp_hdf5_info();
        printf("HDF5: %s\n", h5 ? h5 : "not built in (FASTMLP_HDF5=OFF)");
        printf("inference kernels: f32 %s, bf16 %s, int8 %s\n", mlp_qtype_kernel(MLP_Q_F32),
               mlp_qtype_kernel(MLP_Q_BF16), mlp_qtype_kernel(MLP_Q_INT8));
        return finish("--version", EXIT_OK);
    }
    for (const struct command *c = commands; c->name; c++) {
        if (strcmp(argv[1], c->name) != 0) continue;
        cli_process_init(c->name);
        return finish(c->name, c->run(argc, argv));
    }
    fprintf(stderr, "fastmlp: unknown command '%s' (see 'fastmlp --help')\n", argv[1]);
    return EXIT_USAGE;
}
