/* SPDX-License-Identifier: MIT */
/* Shared pieces of the fastmlp command line: the option table parser, exit
 * codes, data loading by file kind, and atomic output files. */
#ifndef FASTMLP_CLI_H
#define FASTMLP_CLI_H

#include "fastmlp.h"

#include <stdbool.h>
#include <stdio.h>

/* Exit codes (README "Exit codes"; sysexits.h values where one fits). */
enum {
    EXIT_OK = 0,
    EXIT_FAIL = 1,      /* anything not listed below */
    EXIT_DIVERGED = 3,  /* training produced NaN/Inf */
    EXIT_GRADIENT = 4,  /* gradcheck: a gradient is off by more than the tolerance */
    EXIT_USAGE = 64,    /* bad command line */
    EXIT_DATAERR = 65,  /* malformed or inconsistent input data or model */
    EXIT_NOINPUT = 66,  /* an input file cannot be opened */
    EXIT_SOFTWARE = 70, /* internal error, out of memory */
    EXIT_CANTCREAT = 73,/* an output file cannot be created */
    EXIT_IOERR = 74,    /* a read or write failed mid-way */
    EXIT_INTERRUPTED = 130 /* stopped by SIGINT/SIGTERM; a checkpoint was written */
};

/* Status -> exit code. */
int cli_exit_code(enum mlp_status s);
/* Print "fastmlp <cmd>: <message>" on one stderr line; returns the exit code. */
int cli_fail(const char *cmd, enum mlp_status s, const char *msg);
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An output that could not be written: one stderr line ("fastmlp CMD: MSG"),
 * and 73 when it could not be created (MLP_ERR_OPEN), else the status's code. */
int cli_output_fail(const char *cmd, enum mlp_status s, const char *msg);
/* "A,B" with A <= B (--init-range); 0 on success, -1 otherwise. */
int cli_parse_range(const char *s, double *a, double *b);

enum opt_kind { OPT_STR, OPT_U32, OPT_U64, OPT_INT, OPT_DBL, OPT_FLAG };

struct opt {
    const char *name;  /* "--lr" */
    char short_name;   /* 'o' or 0 */
    enum opt_kind kind;
    void *dst;
    const char *meta;  /* "FILE", "N", ... (NULL for flags) */
    const char *help;  /* "learning rate [0.001]" */
    const char *group; /* heading under which --help lists it */
};

/* Parse argv[first..argc) against the table; positional arguments go to
 * pos[] (at most max_pos).  Returns EXIT_OK, or EXIT_USAGE after printing one
 * line; *help is set when -h/--help was given. */
int cli_parse(const char *cmd, int argc, char **argv, int first, const struct opt *opts,
              const char **pos, int max_pos, int *n_pos, bool *help);
void cli_print_help(FILE *f, const char *usage, const struct opt *opts);

/* How input files are read: the same flags for every command. */
struct data_opts {
    const char *format, *delimiter, *label_col, *label_name, *x_key, *y_key;
    int header, no_header, targets;
};
#define DATA_OPTIONS(d)                                                                                        \
    {"--data-format", 0, OPT_STR, &(d).format, "NAME", "auto csv idx npy hdf5 [auto: content + extension]", \
     "Data format"},                                                                                           \
    {"--header", 0, OPT_FLAG, &(d).header, NULL, "CSV: the first row is a header [detected]", "Data format"},   \
    {"--no-header", 0, OPT_FLAG, &(d).no_header, NULL, "CSV: the first row is data [detected]", "Data format"}, \
    {"--delimiter", 0, OPT_STR, &(d).delimiter, "C", "CSV: field delimiter, ',' ';' 'tab' or one byte [detected]", \
     "Data format"},                                                                                           \
    {"--label-col", 0, OPT_STR, &(d).label_col, "N|none", "CSV: label column, 0-based [0]", "Data format"},    \
    {"--label-name", 0, OPT_STR, &(d).label_name, "NAME", "CSV: label column by header name", "Data format"},   \
    {"--targets", 0, OPT_FLAG, &(d).targets, NULL, "CSV: the label column holds real targets (regression)",   \
     "Data format"},                                                                                           \
    {"--x-key", 0, OPT_STR, &(d).x_key, "NAME", "HDF5: dataset holding the inputs [found]", "Data format"},     \
    {"--y-key", 0, OPT_STR, &(d).y_key, "NAME", "HDF5: dataset holding the labels [found]", "Data format"}

/* "256,128" -> a calloc'd layer table (caller frees) with activation act;
 * "", "none" or "0" -> no hidden layer.  0 on success, -1 on a bad list. */
int cli_parse_layers(const char *s, enum mlp_act act, struct mlp_layer_spec **out, uint32_t *n);

/* Flags -> load parameters; EXIT_OK or EXIT_USAGE after one stderr line. */
int cli_load_params(const char *cmd, const struct data_opts *d, struct mlp_load_params *p);
/* Load a data set in any format; y_path is a separate labels file (IDX, NPY). */
enum mlp_status cli_load_data(struct mlp_dataset *ds, const char *x_path, const char *y_path,
                              const struct mlp_load_params *p, struct mlp_error *err);

/* An output file written to PATH.tmp.XXXXXX and renamed over PATH only on
 * success, so a failed run never leaves a half-written or destroyed file.
 * path "-" writes to stdout directly. */
struct out_file {
    FILE *f;
    char *path, *tmp;
};
enum mlp_status out_open(struct out_file *o, const char *path, struct mlp_error *err);
enum mlp_status out_commit(struct out_file *o, struct mlp_error *err);
void out_abort(struct out_file *o);

int cmd_train(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_gradcheck(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_bench_infer(int argc, char **argv);
int cmd_bench_ladder(int argc, char **argv);

#endif
