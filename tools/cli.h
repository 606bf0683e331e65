/* SPDX-License-Identifier: MIT */
/* Shared pieces of the fastmlp command line: the option table parser, strict
 * numbers, the --threads rule, data loading (cli_common.c); the network
 * train and gradcheck build (cli_net.c); the files a command reads and
 * writes, outputs and signals (cli_files.c).  Exit codes: cli_exit.h; the
 * YAML reader under --config: config.h. */
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

enum opt_kind { OPT_STR, OPT_U32, OPT_U64, OPT_INT, OPT_DBL, OPT_FLAG, OPT_LIST };

/* An OPT_LIST option's values: each occurrence adds one (a --config file's
 * value first; the first on the command line replaces the file's). */
#define CLI_LIST_MAX 8
struct cli_list {
    const char *v[CLI_LIST_MAX];
    int n;
    int from_config; /* of v[], set from the --config file */
};

struct opt {
    const char *name;  /* "--lr" */
    char short_name;   /* 'o' or 0 */
    enum opt_kind kind;
    void *dst;
    const char *meta;  /* "FILE", "N", ... (NULL for flags) */
    const char *help;  /* "learning rate [0.001]" */
    const char *group; /* heading under which --help lists it */
};

/* A command's command line, parsed once: the table's options (a --config
 * FILE's keys first, flags over them) and positional arguments, --help
 * printed (usage, then the table's options unless short_help), and the
 * --config file's path, which cli_check_files wants among the inputs. */
struct cli_args {
    const char *cmd;        /* "train", "bench quick" */
    int first;              /* argv index of the first option */
    const struct opt *opts; /* ends with {0} */
    const char *usage;      /* --help's first lines */
    bool short_help;        /* --help prints only the usage */
    int max_pos;            /* positional arguments allowed, at most 2 */
    const char *pos[2];     /* out: the positional arguments */
    int n_pos;
    const char *config;     /* out: --config FILE, or NULL */
};
/* CLI_RUN: go on with the command; else the exit code to return now
 * (EXIT_OK after --help, EXIT_USAGE after one stderr line, or the --config
 * file's code: cli_config_read). */
enum { CLI_RUN = -1 };
int cli_args_parse(struct cli_args *a, int argc, char **argv);
/* Whether argument a is one of the table's options that takes the next
 * argument as its value (not --name=value, not a flag): how the parser
 * skips values, for a command that scans argv itself. */
bool cli_opt_takes_value(const struct opt *opts, const char *a);
void cli_print_help(FILE *f, const char *usage, const struct opt *opts);

/* How input files are read: the same flags for every command. */
struct data_opts {
    const char *format, *delimiter, *label_col, *label_name, *x_key, *y_key;
    const char *task, *missing, *categorical, *unknown;
    int header, no_header, targets;
};
#define DATA_OPTIONS(d)                                                                                        \
    {"--data-format", 0, OPT_STR, &(d).format, "NAME", "auto csv idx npy hdf5 [auto: content + extension]", \
     "Data format"},                                                                                           \
    {"--header", 0, OPT_FLAG, &(d).header, NULL, "CSV: the first row is a header [detected]", "Data format"},   \
    {"--no-header", 0, OPT_FLAG, &(d).no_header, NULL, "CSV: the first row is data [detected]", "Data format"}, \
    {"--delimiter", 0, OPT_STR, &(d).delimiter, "C", "CSV: field delimiter, ',' ';' 'tab' or one byte [detected]", \
     "Data format"},                                                                                           \
    {"--label-col", 0, OPT_STR, &(d).label_col, "N|-N|last|none",                                            \
     "CSV: label column, 0-based, or counted from the end (-1 = last) [a column named target, label, class or " \
     "y; else 0]",                                                                                              \
     "Data format"},                                                                                           \
    {"--label-name", 0, OPT_STR, &(d).label_name, "NAME", "CSV: label column by header name", "Data format"},   \
    {"--task", 0, OPT_STR, &(d).task, "NAME",                                                                  \
     "CSV: auto classify regress: what the label column holds [auto: text or few distinct integers are "       \
     "classes, other numbers targets]",                                                                         \
     "Data format"},                                                                                           \
    {"--targets", 0, OPT_FLAG, &(d).targets, NULL, "CSV: the label column holds real targets (= --task regress)", \
     "Data format"},                                                                                           \
    {"--missing", 0, OPT_STR, &(d).missing, "HOW",                                                             \
     "CSV: missing values (empty, NA, nan, ?): error drop mean median [error]", "Data format"},                 \
    {"--categorical", 0, OPT_STR, &(d).categorical, "COLS",                                                    \
     "CSV: columns (names or 0-based indices) read as categories even when numbers [text columns]",             \
     "Data format"},                                                                                           \
    {"--unknown-category", 0, OPT_STR, &(d).unknown, "zeros|error",                                            \
     "CSV: a category the model never saw: all zeros with a warning, or an error [zeros]", "Data format"},      \
    {"--x-key", 0, OPT_STR, &(d).x_key, "NAME", "HDF5: dataset holding the inputs [found]", "Data format"},     \
    {"--y-key", 0, OPT_STR, &(d).y_key, "NAME", "HDF5: dataset holding the labels [found]", "Data format"}

/* "256,128" -> a calloc'd layer table (caller frees) with activation act;
 * "none" -> no hidden layer.  0 on success; -1 with the reason in why
 * ("" and "0" are refused with a hint to write "none"). */
int cli_parse_layers(const char *s, enum mlp_act act, struct mlp_layer_spec **out, uint32_t *n, char *why,
                     size_t why_len);
/* The network train and gradcheck build (cli_net.c): one option table,
 * NET_OPTIONS, beside the command's own (dtype_help: --dtype's help with its
 * default), and one builder. */
struct net_opts {
    const char *layers, *activation, *head, *init, *dtype, *init_range;
    double leaky;
};
struct net_opts net_opts_default(const char *dtype);
#define NET_OPTIONS(n, dtype_help)                                                                               \
    {"--layers", 0, OPT_STR, &(n).layers, "W,W,..", "hidden layer widths, 'none' for none [256,128]", "Network"},  \
    {"--activation", 0, OPT_STR, &(n).activation, "NAME",                                                        \
     "hidden activation: identity sigmoid tanh relu leaky-relu [relu]", "Network"},                             \
    {"--leaky-slope", 0, OPT_DBL, &(n).leaky, "X", "slope of leaky-relu below 0 [0.01]", "Network"},              \
    {"--head", 0, OPT_STR, &(n).head, "NAME",                                                                    \
     "output head: softmax-ce sigmoid-bce identity-mse sigmoid-mse tanh-mse [softmax-ce]", "Network"},           \
    {"--dtype", 0, OPT_STR, &(n).dtype, "f32|f64", dtype_help, "Network"},                                       \
    {"--init", 0, OPT_STR, &(n).init, "NAME", "initialiser: zeros uniform xavier he [he]", "Network"},            \
    {"--init-range", 0, OPT_STR, &(n).init_range, "A,B", "range for --init uniform [-0.5,0.5]", "Network"}

/* The options, checked and parsed. */
struct net_spec {
    enum mlp_act act;
    enum mlp_head head;
    enum mlp_init init;
    enum mlp_dtype dtype;
    double init_a, init_b, leaky;
    struct mlp_layer_spec *hidden; /* n_hidden, owned (net_spec_free) */
    uint32_t n_hidden;
    const char *layers;            /* as written, for summary lines */
};
/* EXIT_OK, or EXIT_USAGE after one line (an unknown name, a bad
 * --init-range or --layers); *s is freed either way by net_spec_free. */
int net_spec_parse(const char *cmd, const struct net_opts *o, struct net_spec *s);
void net_spec_free(struct net_spec *s);
/* The model params of network s for the data it will be trained on: the
 * shape, output count and input scale from the data
 * (mlp_model_params_from_data), the input scale replaced by `scale` unless
 * it is NaN (--scale).  mp->hidden points into s. */
enum mlp_status net_params(const struct net_spec *s, const struct mlp_dataset *ds, double scale,
                           struct mlp_model_params *mp, struct mlp_error *err);
/* Create the model of mp and initialise it from seed as s says. */
enum mlp_status net_create(const struct net_spec *s, const struct mlp_model_params *mp, uint64_t seed,
                           struct mlp_model **m, struct mlp_error *err);

/* "16 x 10 -> 6,5,3 (f64, sigmoid-bce, 119 parameters)": the data and the
 * model of network s, for the first line of train and gradcheck. */
void net_summary(const struct net_spec *s, const struct mlp_dataset *ds, const struct mlp_model *m, char *buf,
                 size_t len);

/* Labels of data sets that share a model (the training set and its
 * evaluation sets): the classes are 1 + the largest label of any of them,
 * or `classes` (--classes) when not 0, which must hold them all
 * (MLP_ERR_RANGE otherwise); every set with labels gets that count.  NULL
 * entries are passed over. */
enum mlp_status cli_share_classes(struct mlp_dataset *const *sets, int n, uint32_t classes, struct mlp_error *err);
/* MLP_ERR_ARG "PATH has no labels: give HOW" for a set with neither labels
 * nor targets, else MLP_OK. */
enum mlp_status cli_need_labels(const struct mlp_dataset *ds, const char *path, const char *how,
                                struct mlp_error *err);

/* --threads N, one rule for every command: 0 = all cores; negative or more
 * than MLP_MAX_THREADS refused (EXIT_USAGE after one line); more than the
 * cores allowed, with a warning line on stderr.  EXIT_OK otherwise. */
int cli_check_threads(const char *cmd, long long n);
/* The rule alone: true when n is a thread count, else false and why (why
 * may be NULL with len 0). */
bool cli_threads_ok(long long n, char *why, size_t len);

/* Strict numbers, one set for flags, --config keys and bench's settings:
 * the whole text, no leading space; unsigned: digits only (no sign); real:
 * finite.  False when the text is not one (out of range included). */
bool cli_parse_u64(const char *v, uint64_t *out);
bool cli_parse_i64(const char *v, int64_t *out);
bool cli_parse_real(const char *v, double *out);
/* s as a JSON string: quoted, with quotes, backslashes and control bytes
 * escaped (the user's text: class names, paths). */
void cli_json_str(FILE *f, const char *s);

/* The instruction set the kernels use: --isa, else FASTMLP_ISA, else auto
 * (fastmlp.c sets it before any command runs). */
extern enum mlp_isa cli_isa;
/* The device (--device, --device-math; fastmlp.c takes them out of any
 * command's line): every context cli_context makes runs there. */
extern enum mlp_device cli_device;
extern uint32_t cli_device_index;
extern enum mlp_device_math cli_device_math;

/* A context for a command: `threads` (0: all cores) and the pass stage,
 * with cli_isa.  *out stays the CLI's until cli_contexts_free (main calls it
 * after the command).  EXIT_OK, or an exit code after one stderr line. */
int cli_context(const char *cmd, int threads, enum mlp_kernels k, struct mlp_context **out);
void cli_contexts_free(void);

/* Flags -> load parameters; EXIT_OK or EXIT_USAGE after one stderr line. */
int cli_load_params(const char *cmd, const struct data_opts *d, struct mlp_load_params *p);
/* After loading a table with a model's schema: one warning line on stderr
 * per column with categories the model never saw, and one for dropped
 * rows. */
void cli_warn_schema(const char *cmd, const struct mlp_dataset *ds);
/* "setosa" (the schema's name of class k), or k in digits into buf. */
const char *cli_class_name(const struct mlp_schema *s, uint32_t k, char buf[16]);
/* Regression figures of m over every row of ds (which has targets): out[0]
 * the mean squared error and out[1] the mean absolute error over every
 * output, out[2] R^2 as scikit-learn's uniform average: the mean over the
 * outputs of 1 - SS_res / SS_tot (for an output whose targets are constant,
 * 1 when predicted exactly, else 0, as its force_finite). */
enum mlp_status cli_regress_metrics(const struct mlp_model *m, const struct mlp_dataset *ds, double out[3],
                                    struct mlp_error *err);
/* A CSV field: s as it is, or quoted (RFC 4180) when it holds the
 * delimiter, a quote or a line end. */
void cli_csv_field(FILE *f, const char *s);
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
 * boundary, at once if one was recorded already; NULL before t is freed):
 * the command checks cli_interrupted() at its safe points, drops
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
int cmd_export(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_gradcheck(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_bench_infer(int argc, char **argv);
int cmd_bench_ladder(int argc, char **argv);
int cmd_report(int argc, char **argv);

#endif
