/* SPDX-License-Identifier: MIT */
/* The CSV loader's entry points (fastmlp.h: mlp_dataset_load_csv and
 * _mem): the text read whole (csv.c), its first record judged, then the
 * fast numeric parse (csv.c) or, for a table with text or missing values,
 * the table reader (table.c).  Above both, so that neither calls the other
 * back. */
#include "data/csv_impl.h"
#include "data/shard.h"

#include <string.h>

/* The parse proper, of c->buf (a file's bytes or the caller's): the phases
 * described at the top of csv.c, 1 here and 2-4 there, or the table reader
 * (table.c) for a file with text or missing values.  On failure *ds is
 * freed and zeroed. */
static enum mlp_status csv_parse(struct csv *c, const struct csv_opts *o, struct mlp_dataset *ds,
                                 struct mlp_error *err)
{
    /* 1. BOM, and the line ends that close the file (blank lines at the end). */
    c->text = c->buf;
    c->end = c->buf + c->size;
    if (c->size >= 3 && c->buf[0] == 0xEF && c->buf[1] == 0xBB && c->buf[2] == 0xBF) c->text += 3;
    while (c->end > c->text && is_eol(c->end[-1])) c->end--;
    if (c->end == c->text) return mlp__csv_fail(c, err, MLP_ERR_FORMAT, "empty file (expected rows of numbers)");

    struct csv_job *jobs = calloc(1, sizeof *jobs); /* more once the data's size is known */
    if (!jobs) return mlp__csv_fail(c, err, MLP_ERR_NOMEM, "out of memory");
    bool start_u8;
    enum mlp_status st = mlp__csv_first_record(c, o, &jobs[0], &start_u8, err);
    if (st == MLP_OK) {
        uint64_t n_rows;
        unsigned n_jobs = mlp__csv_cut(c, &jobs, o->jobs, &n_rows);
        bool to_table = c->table;
        if (!to_table) st = mlp__csv_fill(c, jobs, n_jobs, n_rows, start_u8, ds, &to_table, err);
        if (st == MLP_OK && to_table) st = mlp__csv_table(c, &jobs[0], n_rows, ds, err);
    }
    free(jobs);
    /* A shard: the whole file was parsed, because its layout (classes,
     * categories, element type, fill values) comes from every row and every
     * process must agree on it; only now are the other rows dropped. */
    if (st == MLP_OK && mlp__sharded(&o->shard)) {
        uint64_t lo, hi;
        mlp__shard_rows(&o->shard, ds->n_rows, &lo, &hi);
        st = mlp__dataset_keep_rows(ds, lo, hi, err);
    }
    if (st != MLP_OK) mlp_dataset_free(ds);
    return st;
}

enum mlp_status mlp_dataset_load_csv(struct mlp_dataset *ds, const char *path, const struct mlp_load_params *p,
                                     struct mlp_error *err)
{
    MLP_ASSERT(ds && path);
    memset(ds, 0, sizeof *ds);
    enum mlp_status st = mlp__shard_check(p, path, err);
    if (st != MLP_OK) return st;
    struct csv c;
    struct csv_opts o;
    st = mlp__csv_start(&c, path, p, &o, err);
    if (st == MLP_OK) st = mlp__csv_open(&c, o.jobs, err);
    if (st == MLP_OK) st = csv_parse(&c, &o, ds, err);
    mlp__csv_close(&c);
    return st;
}

enum mlp_status mlp_dataset_load_csv_mem(struct mlp_dataset *ds, const struct mlp_buffer *b,
                                         const struct mlp_load_params *p, struct mlp_error *err)
{
    MLP_ASSERT(ds && b && (b->data || b->size == 0));
    memset(ds, 0, sizeof *ds);
    static const unsigned char none[1];
    enum mlp_status st = mlp__shard_check(p, b->name ? b->name : "<memory>", err);
    if (st != MLP_OK) return st;
    struct csv c;
    struct csv_opts o;
    st = mlp__csv_start(&c, b->name ? b->name : "<memory>", p, &o, err);
    /* Parsed where it lies: the parse only reads the text. */
    c.buf = b->size ? b->data : none;
    c.size = b->size;
    if (st == MLP_OK) st = csv_parse(&c, &o, ds, err);
    mlp__csv_close(&c);
    return st;
}
