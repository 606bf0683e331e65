/* SPDX-License-Identifier: MIT */
/* The CSV loader's private header, shared by csv.c (reading, the fast
 * numeric parse, the loader) and table.c (the table reader for text and
 * missing values, and the label helpers both use): the load's state, one
 * field as the general reader sees it, and the functions each file calls in
 * the other (mlp__csv_*, hidden like every mlp__ name). */
#ifndef MLP_CSV_IMPL_H
#define MLP_CSV_IMPL_H

#include "data/schema.h"
#include "internal.h"

#include <locale.h>
#include <stdatomic.h>

/* No field (quoted content or number) is longer than this: a 10 MB token is
 * refused before anything is copied. */
#define CSV_MAX_TOKEN 4096u

#if defined(__GNUC__) || defined(__clang__)
#define CSV_INLINE static inline __attribute__((always_inline))
#define CSV_NOINLINE static __attribute__((noinline))
#define CSV_LIKELY(x) __builtin_expect(!!(x), 1)
#define CSV_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define CSV_INLINE static inline
#define CSV_NOINLINE static
#define CSV_LIKELY(x) (x)
#define CSV_UNLIKELY(x) (x)
#endif

/* ---------------------------------------------------------------- state */

/* A parse error: where it is (a pointer into the file) and what it is.  The
 * line and column are worked out only when the message is written. */
struct csv_err {
    enum mlp_status st; /* MLP_OK: none */
    const unsigned char *at;
    char what[400];
};

/* What a whole load shares (read-only once the threads run). */
struct csv {
    const char *name;         /* the path, or the buffer's name: for messages */
    struct mlp_pool *pool;    /* the load's context's: runs the ranges and reads */
    int fd;                   /* a file's, -1 for a buffer */
    const unsigned char *buf; /* the text whole: `own`, or the caller's buffer */
    size_t size;
    unsigned char *own;       /* a file read whole (mlp__big_alloc, or realloc for a stream) */
    bool own_mapped;
    locale_t cloc;            /* "C", for strtod */
    const unsigned char *text; /* after the BOM: line 1 starts here */
    const unsigned char *end;  /* the file's end less its final line ends */
    const unsigned char *data; /* the first data row */
    unsigned char delim;
    uint32_t n_fields;        /* fields in every row */
    int64_t label;            /* field index of the label, -1 none */
    const char *fields_from;  /* "the header" or "the first data row" */
    /* tabular data (fastmlp.h) */
    const struct mlp_schema *apply; /* the caller's schema, or NULL */
    int64_t apply_skip;       /* applying: the schema's label column, absent
                                 from this file (features only), else -1 */
    enum mlp_header_why header;
    enum mlp_task task;
    enum mlp_missing missing;
    bool unknown_error;
    bool table;               /* read by the table reader (text, missing values) */
    bool *forced;             /* n_fields: --categorical, or NULL */
    char **names;             /* n_fields: the header's names, or NULL */
};

/* One thread's share: a range of whole records and the rows they fill. */
struct csv_job {
    const struct csv *c;
    const unsigned char *begin, *end;
    uint64_t row0, n_rows;     /* counted in phase 3 */
    bool has_quote, has_cr;
    /* phase 4 */
    void *x;                   /* the data set's whole input matrix */
    double *y;                 /* the label column's values (n_rows) */
    atomic_int *stop_u8;       /* set by whoever meets a non-u8 input, or text */
    bool not_u8;               /* this job met one */
    bool not_num;              /* this job met text or a missing value */
    struct csv_err err;
    unsigned char field[CSV_MAX_TOKEN + 1]; /* a quoted field, unescaped */
    char num[CSV_MAX_TOKEN + 1];            /* a number for strtod */
};

/* Record a parse error in *ce; returns st. */
enum mlp_status mlp__csv_ce_set(struct csv_err *ce, enum mlp_status st, const unsigned char *at,
                                const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* "FILE: what" for failures without a position. */
enum mlp_status mlp__csv_fail(const struct csv *c, struct mlp_error *err, enum mlp_status st,
                              const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* "FILE:LINE:COL: what" from a parse error. */
enum mlp_status mlp__csv_fail_at(const struct csv *c, struct mlp_error *err, const struct csv_err *ce);
/* A token for a message: at most 32 bytes, non-printable bytes as \xNN. */
const char *mlp__csv_tok_show(char out[160], const unsigned char *s, size_t n);

/* --------------------------------------------------------------- fields */

/* A one-liner both files inline (parse_range among them). */
CSV_INLINE bool is_eol(unsigned char ch) { return ch == '\n' || ch == '\r'; }

/* One field as the general reader sees it. */
struct csv_field {
    const unsigned char *s, *e; /* content, blanks trimmed, quotes undone */
    const unsigned char *at;    /* where it starts in the file */
    const unsigned char *next;  /* the delimiter, line end or `end` after it */
};

/* What a field holds: a number, a missing value, or text. */
enum cell { CELL_NUM = 0, CELL_MISSING = 1, CELL_TEXT = 2 };

/* The general field reader (csv.c): blanks, RFC 4180 quotes, every error. */
enum mlp_status mlp__csv_field_scan(const struct csv *c, const unsigned char *p, const unsigned char *end,
                                    unsigned char *buf, struct csv_field *f, struct csv_err *ce);
/* The kind of a field and, for a number, its value (csv.c). */
enum mlp_status mlp__csv_cell_of(const struct csv *c, const struct csv_field *f, char *tmp, enum cell *k,
                                 double *v, struct csv_err *ce);
/* The end of field f: the next field or record in *next; false (j->err set)
 * on a ragged row.  A call for table.c: parse_range inlines its own. */
bool mlp__csv_field_end(struct csv_job *j, uint32_t f, const unsigned char *q, const unsigned char *end,
                        const unsigned char **next);

/* ------------------------------------------------------- labels, schema */

/* table.c: the distinct values of v[0..n), sorted, into a new array; the
 * task MLP_TASK_AUTO picks for a numeric label column; classes named after
 * sorted distinct numbers; a message's list of classes.  false: no memory. */
bool mlp__csv_distinct(const double *v, uint64_t n, double **out, uint64_t *n_out);
enum mlp_task mlp__csv_auto_task(const double *u, uint64_t n_distinct, uint64_t n_rows);
bool mlp__csv_number_names(struct mlp__names *l, const double *u, uint64_t n);
void mlp__csv_class_list(const struct mlp__names *l, char *buf, size_t len);

/* The table reader (table.c): a file with text or missing values, whole,
 * into *ds with its schema, reading with scratch's buffers. */
enum mlp_status mlp__csv_table(struct csv *c, struct csv_job *scratch, uint64_t n_rows, struct mlp_dataset *ds,
                               struct mlp_error *err);

/* A column's fill value over its k present values v (reordered): their
 * mean, or their median (the mean of the middle two for even k); 0 when
 * there are none (table.c). */
double mlp__csv_fill_value(double *v, uint64_t k, enum mlp_missing how);

/* The caller's parameters, resolved and checked before any byte is read
 * (p == NULL: the defaults of mlp_load_params_default, load.c). */
struct csv_opts {
    int header;             /* -1 detect, 0 none, 1 */
    char delim;             /* 0 detect */
    int32_t label_col;
    const char *label_name;
    int32_t label_from_end; /* k >= 1: the k-th column from the end */
    bool label_auto;
    const char *categorical;
    unsigned jobs;          /* at most this many ranges (and file readers) */
    uint32_t want_cols;     /* 0: any width */
    struct mlp_load_params shard; /* its shard_index and shard_count only */
};

/* The loader's phases (csv.c; the comment at its top), for csv_load.c:
 * the caller's options checked, a file read whole (a buffer is parsed
 * where it lies), the first record, the ranges counted, the fast parse
 * (*to_table: the table reader's instead), and the reader's resources. */
enum mlp_status mlp__csv_start(struct csv *c, const char *name, const struct mlp_load_params *p, struct csv_opts *o,
                               struct mlp_error *err);
enum mlp_status mlp__csv_open(struct csv *c, unsigned threads, struct mlp_error *err);
void mlp__csv_close(struct csv *c);
enum mlp_status mlp__csv_first_record(struct csv *c, const struct csv_opts *o, struct csv_job *scratch, bool *start_u8,
                                      struct mlp_error *err);
unsigned mlp__csv_cut(struct csv *c, struct csv_job **jobs, unsigned max_jobs, uint64_t *n_rows);
enum mlp_status mlp__csv_fill(struct csv *c, struct csv_job *jobs, unsigned n_jobs, uint64_t n_rows, bool start_u8,
                              struct mlp_dataset *ds, bool *to_table, struct mlp_error *err);

#endif
