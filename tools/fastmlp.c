/* SPDX-License-Identifier: MIT */
/* The fastmlp command line: a table of subcommands.  Each one turns library
 * statuses into one stderr line and a documented exit code (cli.h). */
#include "cli.h"
#include "cli_dist.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
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
    {"export", cmd_export, "write a model as an ONNX graph"},
    {"gradcheck", cmd_gradcheck, "check the analytic gradient against finite differences"},
    {"bench", cmd_bench, "seed 003's benchmark: batch-1 inference through L layers of D x D"},
    {"report", cmd_report, "overlay the learning curves of finished runs' --log-json logs"},
    {0}};

static void usage(FILE *f)
{
    fprintf(f, "usage: fastmlp COMMAND [options]    (fastmlp COMMAND --help for its options)\n\ncommands:\n");
    for (const struct command *c = commands; c->name; c++) fprintf(f, "  %-10s %s\n", c->name, c->summary);
    fprintf(f, "\nglobal options (before the command):\n"
               "  --isa NAME  the kernels' instruction set: auto (the best this CPU runs), portable, avx2,\n"
               "              avx512, avx512-vnni, avx512-bf16 (x86-64); neon (aarch64) [FASTMLP_ISA, else auto]\n"
               "  --version   print the version, the BLAS in use, the kernel chosen for each slot and the GPUs\n"
               "\noptions of every command (anywhere on its line):\n"
               "  --device D  where models train and run: cpu (default), cuda (GPU 0) or cuda:N; the CUDA\n"
               "              backend is a plugin, libfastmlp_cuda.so, loaded only when asked for\n"
               "  --device-math M  a GPU's f32 matrix products: exact (default), tf32 or bf16 (tensor cores)\n");
}

/* NAME as --isa or FASTMLP_ISA (`what`) gives it: the instruction set, or
 * -1 after one stderr line.  "native" is auto's old name. */
static int parse_isa(const char *what, const char *name)
{
    int i = strcmp(name, "native") == 0 ? MLP_ISA_AUTO : mlp_isa_parse(name);
    if (i < 0)
        fprintf(stderr, "fastmlp: %s '%s' is not one of auto portable avx2 avx512 avx512-vnni avx512-bf16 neon\n", what,
                name);
    return i;
}

/* --device D and --device-math M (or --device=D, --device-math=M) taken out
 * of argv wherever they stand (before a lone "--"), into cli_device*:
 * every command's context runs there.  EXIT_OK, or EXIT_USAGE after one
 * stderr line. */
static int take_device_options(int *argc, char **argv)
{
    int out = 1;
    bool rest = false;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        bool dev = !rest && (strcmp(a, "--device") == 0 || strncmp(a, "--device=", 9) == 0);
        bool math = !rest && (strcmp(a, "--device-math") == 0 || strncmp(a, "--device-math=", 14) == 0);
        if (strcmp(a, "--") == 0) rest = true;
        if (!dev && !math) {
            argv[out++] = argv[i];
            continue;
        }
        const char *eq = strchr(a, '=');
        const char *v = eq ? eq + 1 : i + 1 < *argc ? argv[++i] : NULL;
        const char *flag = dev ? "--device" : "--device-math";
        if (!v || !*v) {
            fprintf(stderr, "fastmlp: %s needs a value (see 'fastmlp --help')\n", flag);
            return EXIT_USAGE;
        }
        if (dev && mlp_device_parse(v, &cli_device, &cli_device_index) != 0) {
            fprintf(stderr, "fastmlp: --device '%s' is not cpu, cuda or cuda:N\n", v);
            return EXIT_USAGE;
        }
        if (math) {
            int m = mlp_device_math_parse(v);
            if (m < 0) {
                fprintf(stderr, "fastmlp: --device-math '%s' is not one of exact tf32 bf16\n", v);
                return EXIT_USAGE;
            }
            cli_device_math = (enum mlp_device_math)m;
        }
    }
    argv[out] = NULL;
    *argc = out;
    if (cli_device == MLP_DEVICE_CPU && cli_device_math != MLP_DEVICE_MATH_EXACT) {
        fprintf(stderr, "fastmlp: --device-math %s is for a GPU: add --device cuda\n",
                mlp_device_math_name(cli_device_math));
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* --version: the kernel table a context with cli_isa gets, slot by slot. */
static int print_version(void)
{
    struct mlp_context *c = NULL;
    int rc = cli_context("--version", 1, MLP_KERNELS_FAST, &c);
    if (rc != EXIT_OK) return rc;
    printf("fastmlp %s\nBLAS: %s\n", mlp_version(), mlp_blas_info());
    const char *h5 = mlp_hdf5_info();
    printf("HDF5: %s\n", h5 ? h5 : "not built in (FASTMLP_HDF5=OFF)");
    const char *mpi = cli_dist_version();
    if (mpi) printf("MPI: %s (rank %d of %d)\n", mpi, cli_dist.rank, cli_dist.size);
    printf("kernels: %s (--isa %s)\n", mlp_isa_name(mlp_context_isa_used(c)), mlp_isa_name(cli_isa));
    const char *slot, *variant, *q[3] = {"?", "?", "?"};
    for (unsigned i = 0; (slot = mlp_context_kernel(c, i, &variant)) != NULL; i++) {
        printf("  %-12s %s\n", slot, variant);
        static const char *const qs[3] = {"quant-f32", "quant-bf16", "quant-int8"};
        for (int k = 0; k < 3; k++)
            if (strcmp(slot, qs[k]) == 0) q[k] = variant;
    }
    printf("inference kernels: f32 %s, bf16 %s, int8 %s\n", q[0], q[1], q[2]);
    printf("CUDA: %s\n", mlp_cuda_info());
    if (cli_device != MLP_DEVICE_CPU) printf("device: %s, %s math\n", mlp_context_device(c),
                                             mlp_device_math_name(cli_device_math));
    return EXIT_OK;
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

static int run(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    int drc = take_device_options(&argc, argv);
    if (drc != EXIT_OK) return drc;
    /* Global options come before the command; --isa wins over FASTMLP_ISA
     * (the library reads no environment: the CLI passes it on). */
    const char *env = getenv("FASTMLP_ISA");
    if (env && *env) {
        int i = parse_isa("FASTMLP_ISA", env);
        if (i < 0) return EXIT_USAGE;
        cli_isa = (enum mlp_isa)i;
    }
    while (argc >= 2 && strncmp(argv[1], "--isa", 5) == 0 && (argv[1][5] == '\0' || argv[1][5] == '=')) {
        const bool eq = argv[1][5] == '=';
        if (!eq && argc < 3) {
            fprintf(stderr, "fastmlp: --isa needs a value (see 'fastmlp --help')\n");
            return EXIT_USAGE;
        }
        int i = parse_isa("--isa", eq ? argv[1] + 6 : argv[2]);
        if (i < 0) return EXIT_USAGE;
        cli_isa = (enum mlp_isa)i;
        const int used = eq ? 1 : 2;
        argv[used] = argv[0]; /* the command sees argv[0] COMMAND ... */
        argv += used;
        argc -= used;
    }
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return finish("--help", EXIT_OK);
    }
    if (strcmp(argv[1], "--version") == 0) {
        return finish("--version", print_version());
    }
    for (const struct command *c = commands; c->name; c++) {
        if (strcmp(argv[1], c->name) != 0) continue;
        /* several ranks share one training run; any other command would
         * only run N times over */
        if (cli_dist.size > 1 && strcmp(c->name, "train") != 0) {
            if (cli_dist.rank == 0)
                fprintf(stderr, "fastmlp %s: only train runs on several ranks (this job has %d): run %s alone\n",
                        c->name, cli_dist.size, c->name);
            return EXIT_USAGE;
        }
        cli_process_init(c->name);
        return finish(c->name, c->run(argc, argv));
    }
    fprintf(stderr, "fastmlp: unknown command '%s' (see 'fastmlp --help')\n", argv[1]);
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    int rc = cli_dist_init(&argc, &argv);
    if (rc == EXIT_OK) rc = run(argc, argv);
    return cli_dist_finish(rc);
}
