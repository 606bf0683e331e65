/* SPDX-License-Identifier: MIT */
/* Shared pieces of the fastmlp command line: the option table parser, exit
 * codes, data loading by file kind (cli_common.c); the files a command
 * reads and writes, outputs and signals (cli_files.c). */
#ifndef FASTMLP_CLI_H
#define FASTMLP_CLI_H

#include "cli_exit.h"
#include "fastmlp.h"

#include <stdbool.h>
#include <stdio.h>

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

/* Find --config FILE (or --config=FILE) in argv[first..argc), skipping the
 * values of the table's options exactly as cli_parse does and stopping at
 * "--".  *path is NULL when there is none, or when -h/--help was given (help
 * never reads the file).  Returns EXIT_OK, or EXIT_USAGE after one stderr
 * line (no FILE, or --config given twice). */
int cli_config_find(const char *cmd, int argc, char **argv, int first, const struct opt *opts,
                    const char **path);

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
 * "none" -> no hidden layer.  0 on success; -1 with the reason in why
 * ("" and "0" are refused with a hint to write "none"). */
int cli_parse_layers(const char *s, enum mlp_act act, struct mlp_layer_spec **out, uint32_t *n, char *why,
                     size_t why_len);
/* --threads N, one rule for every command: 0 = all cores; negative or more
 * than MLP_MAX_THREADS refused (EXIT_USAGE after one line); more than the
 * cores allowed, with a warning line on stderr.  EXIT_OK otherwise. */
int cli_check_threads(const char *cmd, long long n);
/* The rule alone: true when n is a thread count, else false and why (why
 * may be NULL with len 0). */
bool cli_threads_ok(long long n, char *why, size_t len);
/* The count a thread setting n stands for: n, or for 0 every online core
 * (at most MLP_MAX_THREADS), so that a report can name it. */
int cli_threads_resolve(int n);

/* Strict numbers, one set for flags, --config keys and bench's settings:
 * the whole text, no leading space; unsigned: digits only (no sign); real:
 * finite.  False when the text is not one (out of range included). */
bool cli_parse_u64(const char *v, uint64_t *out);
bool cli_parse_i64(const char *v, int64_t *out);
bool cli_parse_real(const char *v, double *out);

/* Flags -> load parameters; EXIT_OK or EXIT_USAGE after one stderr line. */
int cli_load_params(const char *cmd, const struct data_opts *d, struct mlp_load_params *p);
/* Load a data set in any format; y_path is a separate labels file (IDX, NPY). */
enum mlp_status cli_load_data(struct mlp_dataset *ds, const char *x_path, const char *y_path,
                              const struct mlp_load_params *p, struct mlp_error *err);

/* The files a command reads and writes.  `out` is 0 for an input, else
 * CLI_OUT | the mlp_output flags it is written with (fastmlp.h). */
#define CLI_OUT (1u << 8)
struct cli_file {
    const char *flag;   /* "-o", "--report", "MODEL": names it in messages */
    const char *path;   /* NULL: not given */
    unsigned out;
    const char *may_be; /* the flag of another entry that may name the same
                         * file (--checkpoint and --resume) */
    const char *what;   /* an output's content, for messages ("the report") */
};
/* Before any work: no output is the same file as an input or another output
 * (64, naming both), and every output can be created (73; 64 for "-" or a
 * terminal where binary content would go).  *stdout_used (may be NULL): an
 * output is standard output, so human-readable lines go to stderr. */
int cli_check_files(const char *cmd, const struct cli_file *files, int n, bool *stdout_used);

/* The process (main, before a command): descriptors 0-2 kept open (on
 * /dev/null if closed), SIGXFSZ and SIGPIPE ignored, so that writing past a
 * file-size limit or into a closed pipe fails with EFBIG/EPIPE (74), and
 * SIGINT/SIGTERM/SIGHUP end the process at once with one line and 130 while
 * no temporary file exists.  From cli_signals_defer on, a signal is only
 * recorded (trainer t, if any, is asked to stop at its next batch
 * boundary): the command checks cli_interrupted() at its safe points, drops
 * what it had not finished, and returns 130; a second signal ends it at
 * once.  cli_signals_for_output(path), before writing an output: deferred
 * for a file (a temporary file will exist), immediate for a stream ("-", a
 * pipe, a device: nothing to remove, and a FIFO's open may wait for a
 * reader). */
void cli_process_init(const char *cmd);
void cli_signals_defer(struct mlp_trainer *t);
void cli_signals_for_output(const char *path);
int cli_interrupted(void);
const char *cli_signal_name(void); /* "SIGINT", "SIGTERM" or "SIGHUP" */

/* Commit an output (mlp_output_commit) unless a signal came meanwhile: then
 * it is dropped (a regular file is untouched) and MLP_ERR_STOPPED returned,
 * as it is when the signal came during the commit (the output is whole). */
enum mlp_status cli_output_commit(struct mlp_output *o, struct mlp_error *err);

int cmd_train(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_gradcheck(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_bench_infer(int argc, char **argv);
int cmd_bench_ladder(int argc, char **argv);

#endif
