/* SPDX-License-Identifier: MIT */
/* Tabular data through the library (fastmlp.h, "tabular data"): the table
 * reader's one-hot categories and missing values by hand, a schema applied
 * to later data (fill values, unseen categories, a file without its label
 * column), and the schema kept by a model through its file, whose corrupt
 * schema section is refused. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "fastmlp.h"

static char g_dir[] = "/tmp/fastmlp-tab-XXXXXX";

static enum mlp_status load(struct mlp_dataset *ds, const char *text, const struct mlp_load_params *p,
                            struct mlp_error *err)
{
    const struct mlp_buffer b = {text, strlen(text), "t.csv"};
    return mlp_dataset_load_csv_mem(ds, &b, p, err);
}

static double x_at(const struct mlp_dataset *ds, uint64_t r, uint32_t c)
{
    return ((const double *)ds->x)[r * ds->n_cols + c];
}

/* island (text), mass (a number with a gap), sex (text with a gap), label */
static const char *const TRAIN = "island,mass,sex,class\n"
                                 "Dream,3000,f,A\n"
                                 "Biscoe,,m,B\n"
                                 "Dream,5000,NA,A\n"
                                 "Torgersen,4000,m,C\n";

static void test_table(void)
{
    struct mlp_dataset ds;
    struct mlp_error err;
    struct mlp_load_params p = mlp_load_params_default();
    p.label_auto = 1;
    /* missing values are an error by default, at the first of them */
    CHECK_STATUS(load(&ds, TRAIN, &p, &err), MLP_ERR_FORMAT);
    CHECK_MSG(strstr(err.msg, "t.csv:3:8: missing value (empty field)") != NULL, "%s", err.msg);
    /* the mean: 4000 for mass; sex's most frequent category, m */
    p.missing = MLP_MISSING_MEAN;
    CHECK_STATUS(load(&ds, TRAIN, &p, &err), MLP_OK);
    const struct mlp_schema *s = mlp_dataset_schema(&ds);
    CHECK(s && ds.n_rows == 4 && ds.n_cols == 3 + 1 + 2 && ds.labels && ds.n_classes == 3);
    if (!s) return;
    CHECK(mlp_schema_label_column(s) == 3 && mlp_schema_task(s) == MLP_TASK_CLASSIFY);
    struct mlp_column_info ci;
    CHECK_STATUS(mlp_schema_column(s, 0, &ci), MLP_OK);
    CHECK(ci.kind == MLP_COL_CATEGORICAL && ci.n_categories == 3 && ci.input == 0 && strcmp(ci.name, "island") == 0);
    CHECK(strcmp(mlp_schema_category(s, 0, 0), "Biscoe") == 0 && strcmp(mlp_schema_category(s, 0, 2), "Torgersen") == 0);
    CHECK_STATUS(mlp_schema_column(s, 1, &ci), MLP_OK);
    CHECK(ci.kind == MLP_COL_NUMERIC && ci.input == 3 && ci.fill == 4000 && ci.n_missing == 1);
    CHECK_STATUS(mlp_schema_column(s, 2, &ci), MLP_OK);
    CHECK(ci.kind == MLP_COL_CATEGORICAL && ci.fill_category == 1 && ci.n_missing == 1); /* f m: m */
    CHECK(mlp_schema_column(s, 4, &ci) == MLP_ERR_ARG);
    CHECK(mlp_schema_fields_filled(s) == 2 && mlp_schema_rows_dropped(s) == 0 && mlp_schema_kept_rows(s) == NULL);
    /* row 1: Biscoe, mass filled with 4000, m; row 2: Dream, 5000, sex filled m */
    static const double want[4][6] = {
        {0, 1, 0, 3000, 1, 0}, {1, 0, 0, 4000, 0, 1}, {0, 1, 0, 5000, 0, 1}, {0, 0, 1, 4000, 0, 1}};
    int same = 1;
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 6; c++) same &= x_at(&ds, (uint64_t)r, (uint32_t)c) == want[r][c];
    CHECK(same);
    CHECK(ds.labels[0] == 0 && ds.labels[1] == 1 && ds.labels[3] == 2);
    mlp_dataset_free(&ds);
    /* the median of 3000, 5000, 4000 is 4000 too; of 3000 and 5000 (drop
     * the third row's mass) it is their mean */
    p.missing = MLP_MISSING_MEDIAN;
    CHECK_STATUS(load(&ds, "m,y\n3000,a\n,b\n5000,a\n", &p, &err), MLP_OK);
    CHECK(ds.schema && mlp_schema_column(ds.schema, 0, &ci) == MLP_OK && ci.fill == 4000 && x_at(&ds, 1, 0) == 4000);
    mlp_dataset_free(&ds);
    CHECK_STATUS(load(&ds, "m,y\n1,a\n,b\n2,a\n10,a\n", &p, &err), MLP_OK);
    CHECK(ds.schema && mlp_schema_column(ds.schema, 0, &ci) == MLP_OK && ci.fill == 2);
    mlp_dataset_free(&ds);
    /* drop: the row goes, and is counted */
    p.missing = MLP_MISSING_DROP;
    CHECK_STATUS(load(&ds, TRAIN, &p, &err), MLP_OK);
    CHECK(ds.n_rows == 2 && mlp_schema_rows_dropped(ds.schema) == 2 && x_at(&ds, 1, 0) == 0);
    const uint64_t *kept = mlp_schema_kept_rows(ds.schema);
    CHECK(kept && kept[0] == 0 && kept[1] == 3);
    mlp_dataset_free(&ds);
    /* --categorical: a column of numbers read as categories */
    p.missing = MLP_MISSING_MEAN;
    p.categorical = "mass";
    CHECK_STATUS(load(&ds, TRAIN, &p, &err), MLP_OK);
    CHECK(ds.n_cols == 3 + 3 + 2 && mlp_schema_column(ds.schema, 1, &ci) == MLP_OK && ci.kind == MLP_COL_CATEGORICAL);
    CHECK(strcmp(mlp_schema_category(ds.schema, 1, 0), "3000") == 0);
    mlp_dataset_free(&ds);
    p.categorical = "class";
    CHECK_STATUS(load(&ds, TRAIN, &p, &err), MLP_ERR_ARG);
    CHECK(strstr(err.msg, "is the label column") != NULL);
}

static void test_apply(void)
{
    struct mlp_dataset tr, te;
    struct mlp_error err;
    struct mlp_load_params p = mlp_load_params_default();
    p.label_auto = 1;
    p.missing = MLP_MISSING_MEAN;
    CHECK_STATUS(load(&tr, TRAIN, &p, &err), MLP_OK);
    struct mlp_load_params a = mlp_load_params_default();
    a.schema = mlp_dataset_schema(&tr);
    /* gaps filled with the training values; an unseen island is all zeros,
     * counted; the classes are the training set's even where few appear */
    CHECK_STATUS(load(&te, "island,mass,sex,class\nAtlantis,,?,C\nDream,100,f,A\n", &a, &err), MLP_OK);
    struct mlp_column_info ci;
    CHECK(te.n_rows == 2 && te.n_cols == 6 && te.n_classes == 3 && te.labels[0] == 2 && te.labels[1] == 0);
    CHECK(x_at(&te, 0, 0) == 0 && x_at(&te, 0, 1) == 0 && x_at(&te, 0, 2) == 0 && x_at(&te, 0, 3) == 4000 &&
          x_at(&te, 0, 5) == 1);
    CHECK(mlp_schema_column(te.schema, 0, &ci) == MLP_OK && ci.n_unknown == 1);
    mlp_dataset_free(&te);
    /* or an error naming it */
    a.unknown_category = 1;
    CHECK_STATUS(load(&te, "island,mass,sex,class\nDream,1,f,A\nAtlantis,2,f,C\n", &a, &err), MLP_ERR_RANGE);
    CHECK_MSG(strstr(err.msg, "category 'Atlantis' of column 1 ('island') in data row 2") != NULL, "%s", err.msg);
    a.unknown_category = 0;
    /* without the label column: inputs only */
    CHECK_STATUS(load(&te, "island,mass,sex\nBiscoe,1,m\n", &a, &err), MLP_OK);
    CHECK(te.n_rows == 1 && te.n_cols == 6 && !te.labels && !te.targets && x_at(&te, 0, 0) == 1);
    mlp_dataset_free(&te);
    /* a class the training set did not have */
    CHECK_STATUS(load(&te, "island,mass,sex,class\nDream,1,f,Z\n", &a, &err), MLP_ERR_RANGE);
    CHECK_MSG(strstr(err.msg, "label 'Z' in data row 1 is not one of the model's classes (A, B, C)") != NULL, "%s",
              err.msg);
    /* another width */
    CHECK_STATUS(load(&te, "a,b\n1,2\n", &a, &err), MLP_ERR_SHAPE);
    CHECK(strstr(err.msg, "2 columns, but the model was trained on a table of 4") != NULL);
    mlp_dataset_free(&tr);
}

static void test_model_keeps_it(void)
{
    struct mlp_dataset tr;
    struct mlp_error err;
    struct mlp_load_params p = mlp_load_params_default();
    p.label_auto = 1;
    p.missing = MLP_MISSING_MEDIAN;
    CHECK_STATUS(load(&tr, TRAIN, &p, &err), MLP_OK);
    struct mlp_model_params mp = mlp_model_params_default();
    mp.head = MLP_HEAD_SOFTMAX_CE;
    CHECK_STATUS(mlp_model_params_from_data(&mp, &tr, &err), MLP_OK);
    CHECK(mp.input_scale == 1.0);
    struct mlp_model *m = NULL, *l = NULL;
    CHECK_STATUS(mlp_model_create(&m, &mp, &err), MLP_OK);
    if (!m) return;
    CHECK(mlp_model_schema(m) == NULL);
    CHECK_STATUS(mlp_model_set_schema(m, mlp_dataset_schema(&tr), &err), MLP_OK);
    char path[64];
    snprintf(path, sizeof path, "%s/m.mlp", g_dir);
    CHECK_STATUS(mlp_model_save(m, path, &err), MLP_OK);
    CHECK_STATUS(mlp_model_load(&l, path, &err), MLP_OK);
    const struct mlp_schema *s = l ? mlp_model_schema(l) : NULL;
    CHECK(s != NULL);
    if (s) {
        struct mlp_column_info ci;
        CHECK(mlp_schema_n_classes(s) == 3 && strcmp(mlp_schema_class(s, 2), "C") == 0);
        CHECK(mlp_schema_class_index(s, "B") == 1 && mlp_schema_class_index(s, "D") == -1);
        CHECK(mlp_schema_column(s, 1, &ci) == MLP_OK && ci.fill == 4000 && ci.n_missing == 0);
        CHECK(mlp_schema_column(s, 2, &ci) == MLP_OK && ci.fill_category == 1);
        CHECK(mlp_schema_n_inputs(s) == 6 && mlp_schema_missing(s) == MLP_MISSING_MEDIAN);
        CHECK(mlp_schema_header(s) == MLP_HEADER_NAMES && mlp_schema_delimiter(s) == ',');
    }
    /* a model of another width refuses the schema; clearing it works */
    struct mlp_model *m2 = NULL;
    mp.n_in = 5;
    CHECK_STATUS(mlp_model_create(&m2, &mp, &err), MLP_OK);
    if (m2) CHECK_STATUS(mlp_model_set_schema(m2, mlp_dataset_schema(&tr), &err), MLP_ERR_SHAPE);
    mlp_model_free(m2);
    CHECK_STATUS(mlp_model_set_schema(m, NULL, &err), MLP_OK);
    CHECK(mlp_model_schema(m) == NULL);
    /* every byte of the schema section flipped in turn: refused, never a
     * crash (the schema's own checks, or the CRC after them) */
    FILE *f = fopen(path, "rb");
    unsigned char buf[8192];
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f) fclose(f);
    uint64_t sb = 0;
    for (int i = 0; i < 8; i++) sb |= (uint64_t)buf[120 + i] << (8 * i);
    CHECK(n > 0 && sb > 0 && sb < n);
    int refused = 0, total = 0;
    const size_t start = 128 + 8 * 2 + 0; /* header, two layers; no standardisation */
    for (size_t i = start; i < start + sb && i < n; i++) {
        buf[i] ^= 0x41;
        struct mlp_model *c = NULL;
        const struct mlp_buffer b = {buf, n, "flip.mlp"};
        total++;
        refused += mlp_model_load_mem(&c, &b, &err) == MLP_ERR_FORMAT && c == NULL;
        mlp_model_free(c);
        buf[i] ^= 0x41;
    }
    CHECK_MSG(refused == total, "%d of %d flipped schema bytes refused", refused, total);
    mlp_model_free(l);
    mlp_model_free(m);
    mlp_dataset_free(&tr);
    unlink(path);
}

/* A schema made from arrays (mlp_schema_create, what the Python package
 * gives a model trained on NumPy arrays): classes sorted as the loader sorts
 * them, numbers named as it names them, repeats and bad params refused; a
 * model keeps it through its file, and a CSV read with it puts the label
 * first or leaves it out. */
static void test_schema_create(void)
{
    struct mlp_error err;
    struct mlp_schema *s = NULL;
    const char *names[] = {"b", "a", "x"};
    const char *cls[] = {"emu", "10", "2.0", "cat"};
    struct mlp_schema_params sp = {0};
    sp.task = MLP_TASK_CLASSIFY;
    sp.n_inputs = 3;
    sp.input_names = names;
    sp.classes = cls;
    sp.n_classes = 4;
    CHECK_STATUS(mlp_schema_create(&s, &sp, &err), MLP_OK);
    if (!s) return;
    /* numbers by value first ("2.0" named "2"), then text by bytes */
    CHECK(mlp_schema_n_classes(s) == 4 && strcmp(mlp_schema_class(s, 0), "2") == 0 &&
          strcmp(mlp_schema_class(s, 1), "10") == 0 && strcmp(mlp_schema_class(s, 2), "cat") == 0 &&
          strcmp(mlp_schema_class(s, 3), "emu") == 0);
    CHECK(mlp_schema_class_index(s, "2") == 0 && mlp_schema_class_index(s, "2.00") == 0 &&
          mlp_schema_class_index(s, "dog") == -1);
    CHECK(mlp_schema_n_columns(s) == 4 && mlp_schema_label_column(s) == 0 && mlp_schema_n_inputs(s) == 3);
    CHECK(mlp_schema_task(s) == MLP_TASK_CLASSIFY && mlp_schema_header(s) == MLP_HEADER_NAMES);
    struct mlp_column_info ci;
    CHECK(mlp_schema_column(s, 2, &ci) == MLP_OK && strcmp(ci.name, "a") == 0 && ci.input == 1 &&
          ci.kind == MLP_COL_NUMERIC);

    /* a model of 3 inputs and 4 outputs keeps it through its file */
    struct mlp_model_params mp = mlp_model_params_default();
    mp.n_in = 3;
    mp.n_out = 4;
    struct mlp_model *m = NULL, *l = NULL;
    CHECK_STATUS(mlp_model_create(&m, &mp, &err), MLP_OK);
    if (m) CHECK_STATUS(mlp_model_set_schema(m, s, &err), MLP_OK);
    size_t n = 0;
    void *bytes = NULL;
    if (m) CHECK_STATUS(mlp_model_save_mem(m, &bytes, &n, &err), MLP_OK);
    const struct mlp_buffer mb = {bytes, n, "s.mlp"};
    if (bytes) CHECK_STATUS(mlp_model_load_mem(&l, &mb, &err), MLP_OK);
    CHECK(l && mlp_model_schema(l) && strcmp(mlp_schema_class(mlp_model_schema(l), 3), "emu") == 0);
    /* data read with it: the label first, or no label column at all */
    struct mlp_dataset ds;
    struct mlp_load_params p = mlp_load_params_default();
    p.schema = s;
    CHECK_STATUS(load(&ds, "cat,1.5,2,3\nemu,4.5,5,6\n10,7.5,8,9\n", &p, &err), MLP_OK);
    CHECK(ds.n_rows == 3 && ds.n_cols == 3 && ds.labels && ds.labels[0] == 2 && ds.labels[1] == 3 &&
          ds.labels[2] == 1);
    mlp_dataset_free(&ds);
    CHECK_STATUS(load(&ds, "species,b,a,x\ncat,1.5,2,3\n", &p, &err), MLP_OK);
    CHECK(ds.n_rows == 1 && ds.labels && ds.labels[0] == 2);
    mlp_dataset_free(&ds);
    CHECK_STATUS(load(&ds, "species,b,x,a\ncat,1.5,2,3\n", &p, &err), MLP_ERR_SHAPE); /* inputs' names checked */
    CHECK_STATUS(load(&ds, "1.5,2,3\n4.5,5,6\n", &p, &err), MLP_OK);
    CHECK(ds.n_rows == 2 && ds.n_cols == 3 && !ds.labels && ds.x_type == MLP_ELEM_F64 && x_at(&ds, 1, 0) == 4.5);
    mlp_dataset_free(&ds);
    free(bytes);
    mlp_model_free(l);
    mlp_model_free(m);
    mlp_schema_free(s);

    /* refusals: repeats (also as numbers), one class, no name, no inputs, a bad task */
    const char *rep[] = {"1", "1.0"};
    sp.classes = rep;
    sp.n_classes = 2;
    s = NULL;
    CHECK_STATUS(mlp_schema_create(&s, &sp, &err), MLP_ERR_ARG);
    CHECK(s == NULL && strstr(err.msg, "repeat") != NULL);
    sp.n_classes = 1;
    CHECK_STATUS(mlp_schema_create(&s, &sp, &err), MLP_ERR_ARG);
    const char *na[] = {"a", "NA"}, *comma[] = {"a,b", "c"}, *space[] = {"a", "b "};
    sp.n_classes = 2;
    sp.classes = na;
    CHECK_STATUS(mlp_schema_create(&s, &sp, &err), MLP_ERR_ARG);
    CHECK(s == NULL && strstr(err.msg, "'NA'") != NULL);
    sp.classes = comma;
    CHECK_STATUS(mlp_schema_create(&s, &sp, &err), MLP_ERR_ARG);
    sp.classes = space;
    CHECK_STATUS(mlp_schema_create(&s, &sp, &err), MLP_ERR_ARG);
    sp.classes = NULL;
    CHECK_STATUS(mlp_schema_create(&s, &sp, &err), MLP_ERR_ARG);
    CHECK(strstr(err.msg, "NULL") != NULL);
    const char *empty[] = {"a", ""};
    sp.classes = empty;
    sp.n_classes = 2;
    CHECK_STATUS(mlp_schema_create(&s, &sp, &err), MLP_ERR_ARG);
    sp.n_inputs = 0;
    CHECK_STATUS(mlp_schema_create(&s, &sp, &err), MLP_ERR_ARG);
    sp.n_inputs = 3;
    sp.task = MLP_TASK_AUTO;
    CHECK_STATUS(mlp_schema_create(&s, &sp, &err), MLP_ERR_ARG);
    /* regression: no classes needed */
    sp.task = MLP_TASK_REGRESS;
    sp.classes = NULL;
    sp.n_classes = 0;
    sp.input_names = NULL;
    CHECK_STATUS(mlp_schema_create(&s, &sp, &err), MLP_OK);
    CHECK(s && mlp_schema_task(s) == MLP_TASK_REGRESS && mlp_schema_n_classes(s) == 0 &&
          mlp_schema_header(s) == MLP_HEADER_NONE);
    mlp_schema_free(s);
    mlp_schema_free(NULL);
}

int main(void)
{
    if (!mkdtemp(g_dir)) return 2;
    test_table();
    test_apply();
    test_model_keeps_it();
    test_schema_create();
    rmdir(g_dir);
    return check_report("tabular");
}
