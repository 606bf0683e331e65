/* SPDX-License-Identifier: MIT */
/* The HTML report: one self-contained file (inline CSS and SVG, images as
 * data: URIs, no scripts, nothing fetched from anywhere) with the learning
 * curves, the confusion matrix as a heat map with per-class figures, and a
 * grid of image samples marked right or wrong.  Images are encoded here as
 * PNG through zlib; every text from outside is HTML-escaped. */
#include "report_svg.h"

#include "cli.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>
#include <zlib.h>

/* The heat map's ramps. */
static const int RAMP_OK[3] = {8, 69, 148};   /* correct cells: white -> dark blue */
static const int RAMP_BAD[3] = {178, 24, 43}; /* confusions: white -> dark red */

/* Beyond these the part is summarised instead of drawn. */
#define HEAT_MAX_CLASSES 64u
#define TABLE_MAX_ROWS 1000u
#define SAMPLE_MAX_VALUES (1u << 20) /* h*w*c of one image */
#define SAMPLE_PX 84.0               /* drawn size of an image's longer side */

/* ------------------------------------------------------------ metrics */

struct class_metrics report_class_metrics(const uint64_t *confusion, uint32_t K, uint32_t k)
{
    struct class_metrics c = {0};
    uint64_t tp = confusion[(size_t)k * K + k];
    for (uint32_t j = 0; j < K; j++) {
        c.support += confusion[(size_t)k * K + j];
        c.predicted += confusion[(size_t)j * K + k];
    }
    c.precision = c.predicted ? (double)tp / (double)c.predicted : 0;
    c.recall = c.support ? (double)tp / (double)c.support : 0;
    c.f1 = c.precision + c.recall > 0 ? 2 * c.precision * c.recall / (c.precision + c.recall) : 0;
    return c;
}

void report_macro(const uint64_t *confusion, uint32_t K, double *precision, double *recall, double *f1,
                  uint32_t *n_used)
{
    double p = 0, r = 0, f = 0;
    uint32_t n = 0;
    for (uint32_t k = 0; k < K; k++) {
        struct class_metrics c = report_class_metrics(confusion, K, k);
        if (!c.support && !c.predicted) continue;
        p += c.precision, r += c.recall, f += c.f1, n++;
    }
    *precision = n ? p / n : 0;
    *recall = n ? r / n : 0;
    *f1 = n ? f / n : 0;
    if (n_used) *n_used = n;
}

/* ------------------------------------------------------------ text */

/* Class k's name from the schema, or NULL when it has none for k. */
static const char *class_name(const struct report_data *r, uint32_t k)
{
    const struct mlp_schema *s = r->schema;
    if (!s || mlp_schema_task(s) != MLP_TASK_CLASSIFY || k >= mlp_schema_n_classes(s)) return NULL;
    return mlp_schema_class(s, k);
}

/* Class k as shown: its name cut to max_chars, escaped; else its index. */
static void put_class(FILE *f, const struct report_data *r, uint32_t k, size_t max_chars)
{
    const char *name = class_name(r, k);
    if (name)
        report_esc_cut(f, name, max_chars);
    else
        fprintf(f, "%u", k);
}

/* The widest class label of 0..K-1 in characters (name cut to max_chars). */
static size_t widest_class(const struct report_data *r, uint32_t K, size_t max_chars)
{
    size_t w = 1;
    for (uint32_t k = 0; k < K; k++) {
        const char *name = class_name(r, k);
        size_t n = name ? report_shown_chars(name, max_chars) : (size_t)snprintf(NULL, 0, "%u", k);
        if (n > w) w = n;
    }
    return w;
}

static const char CSS[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;"
    "color:#222;background:#fff;max-width:1180px;margin:24px auto;padding:0 16px;line-height:1.4}\n"
    "h1{font-size:22px;margin:0 0 4px}\n"
    "h2{font-size:17px;margin:28px 0 10px;padding-bottom:4px;border-bottom:1px solid #ddd}\n"
    ".sub{color:#555;margin:0}\n"
    ".note{color:#666;font-size:13px;margin:6px 0}\n"
    ".row{display:flex;flex-wrap:wrap;gap:20px;align-items:flex-start}\n"
    "svg text{font-size:12px;fill:#333}\n"
    "svg .title{font-size:14px;font-weight:600}\n"
    "svg .cell{font-size:11px}\n"
    "table.metrics{border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums}\n"
    "table.metrics th,table.metrics td{padding:3px 10px;text-align:right;border-bottom:1px solid #eee}\n"
    "table.metrics thead th{border-bottom:2px solid #ccc}\n"
    "table.metrics tfoot td{border-top:2px solid #ccc;font-weight:600}\n"
    "table.metrics td.name{text-align:left}\n"
    "table.runs tr.best td{font-weight:700}\n"
    "table.runs th:first-child{text-align:left}\n"
    ".swatch{display:inline-block;width:12px;height:12px;margin-right:6px;vertical-align:-1px}\n"
    ".bar{display:inline-block;height:9px;background:#1f77b4;margin-right:6px;vertical-align:middle}\n"
    ".grid{display:flex;flex-wrap:wrap;gap:10px}\n"
    "figure{margin:0;text-align:center;font-size:11px}\n"
    "figure svg{display:block}\n"
    "figure.bad figcaption{color:#b2182b;font-weight:700}\n"
    "footer{color:#888;font-size:12px;margin:32px 0 8px}\n";

/* ------------------------------------------------------------ PNG */

static void be32_put(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

/* One chunk at p: length, type, data, CRC-32 of type and data. */
static size_t png_chunk(unsigned char *p, const char type[4], const unsigned char *data, uint32_t n)
{
    be32_put(p, n);
    memcpy(p + 4, type, 4);
    if (n) memmove(p + 8, data, n);
    uLong crc = crc32(0L, p + 4, 4);
    if (n) crc = crc32(crc, p + 8, n);
    be32_put(p + 8 + n, (uint32_t)crc);
    return 12 + (size_t)n;
}

/*
 * pix: h rows of w pixels of c bytes (1 grey, 3 RGB, 4 RGBA) -> a PNG file
 * (malloc'd, *len bytes): 8-bit samples, every scanline with filter 0
 * (none), one zlib stream in one IDAT.  NULL when out of memory.
 */
static unsigned char *png_encode(const unsigned char *pix, uint32_t w, uint32_t h, uint32_t c, size_t *len)
{
    size_t line = (size_t)w * c, raw_n = (line + 1) * h;
    unsigned char *raw = malloc(raw_n);
    if (!raw) return NULL;
    for (uint32_t y = 0; y < h; y++) {
        raw[y * (line + 1)] = 0;
        memcpy(raw + y * (line + 1) + 1, pix + y * line, line);
    }
    uLongf z_n = compressBound((uLong)raw_n);
    unsigned char *png = malloc(8 + 25 + 12 + (size_t)z_n + 12);
    if (!png) {
        free(raw);
        return NULL;
    }
    /* The IDAT data is compressed straight into place after its header. */
    unsigned char *idat = png + 8 + 25 + 8;
    if (compress(idat, &z_n, raw, (uLong)raw_n) != Z_OK) {
        free(raw);
        free(png);
        return NULL;
    }
    free(raw);
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memcpy(png, sig, 8);
    unsigned char ihdr[13];
    be32_put(ihdr, w);
    be32_put(ihdr + 4, h);
    ihdr[8] = 8;                                  /* bit depth */
    ihdr[9] = c == 1 ? 0 : c == 3 ? 2 : 6;        /* grey, RGB, RGBA */
    ihdr[10] = ihdr[11] = ihdr[12] = 0;           /* deflate, filter set 0, no interlace */
    size_t n = 8 + png_chunk(png + 8, "IHDR", ihdr, 13);
    n += png_chunk(png + n, "IDAT", idat, (uint32_t)z_n); /* data already in place */
    n += png_chunk(png + n, "IEND", NULL, 0);
    *len = n;
    return png;
}

static void put_base64(FILE *f, const unsigned char *p, size_t n)
{
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        fputc(A[v >> 18], f), fputc(A[(v >> 12) & 63], f), fputc(A[(v >> 6) & 63], f), fputc(A[v & 63], f);
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        fputc(A[v >> 18], f), fputc(A[(v >> 12) & 63], f), fputs("==", f);
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        fputc(A[v >> 18], f), fputc(A[(v >> 12) & 63], f), fputc(A[(v >> 6) & 63], f), fputc('=', f);
    }
}

/* ------------------------------------------------------------ confusion */

/* White blended towards ramp by t in [0, 1], as #rrggbb into buf. */
static void ramp(char buf[8], const int rgb[3], double t)
{
    int o[3];
    for (int i = 0; i < 3; i++) o[i] = (int)lround(255 + (rgb[i] - 255) * t);
    snprintf(buf, 8, "#%02x%02x%02x", o[0] & 255, o[1] & 255, o[2] & 255);
}

/* Drawn length of a character of the 12px labels (an average; wide
 * letters run over, which the margins' slack absorbs). */
#define LABEL_CHAR_PX 7.0
#define HEAT_NAME_CHARS 16u /* class names on the heat map's axes */
#define TABLE_NAME_CHARS 32u
#define TIP_NAME_CHARS 80u /* in tooltips */
#define CAPTION_NAME_CHARS 12u /* under a sample, about its width */

static bool heatmap_write(FILE *f, const struct report_data *r, bool standalone)
{
    if (!r->confusion || !r->n_classes || r->n_classes > HEAT_MAX_CLASSES) return false;
    const uint64_t *cm = r->confusion;
    const uint32_t K = r->n_classes;
    double cell = K <= 10 ? 46 : fmax(10, floor(460.0 / K));
    /* Room for the labels: names widen the left margin, and stand upright
     * above the columns once they no longer fit a cell's width. */
    double label_px = LABEL_CHAR_PX * (double)widest_class(r, K, HEAT_NAME_CHARS);
    bool upright = label_px > cell - 4;
    double left = fmax(70, 34 + label_px), top = upright ? fmax(64, 40 + label_px) : 64, size = cell * K;
    double W = left + size + 16, H = top + size + 16;
    bool numbers = cell >= 26;
    bool every_label = cell >= 16;
    chart_open(f, "heat", W, H, "confusion matrix", standalone);
    fprintf(f, "<text class=\"title\" x=\"%.1f\" y=\"18\" text-anchor=\"middle\">predicted class</text>\n",
            left + size / 2);
    fprintf(f, "<text class=\"title\" x=\"18\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 18 %.1f)\">"
               "true class</text>\n",
            top + size / 2, top + size / 2);
    for (uint32_t k = 0; k < K; k++) {
        if (!every_label && k % 5 && k + 1 != K) continue;
        double mid = k * cell + cell / 2;
        if (upright)
            fprintf(f, "<text class=\"col\" x=\"%.1f\" y=\"%.1f\" transform=\"rotate(-90 %.1f %.1f)\">",
                    left + mid + 4, top - 8, left + mid + 4, top - 8);
        else
            fprintf(f, "<text class=\"col\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", left + mid, top - 8);
        put_class(f, r, k, HEAT_NAME_CHARS);
        fprintf(f, "</text>\n<text class=\"row\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", left - 8,
                top + mid + 4);
        put_class(f, r, k, HEAT_NAME_CHARS);
        fputs("</text>\n", f);
    }
    for (uint32_t t = 0; t < K; t++) {
        uint64_t row = 0;
        for (uint32_t p = 0; p < K; p++) row += cm[(size_t)t * K + p];
        for (uint32_t p = 0; p < K; p++) {
            uint64_t v = cm[(size_t)t * K + p];
            /* Colour: the share of the true class's rows; the square root
             * lets a few confusions still show. */
            double share = row ? (double)v / (double)row : 0, tone = sqrt(share);
            char fill[8];
            ramp(fill, t == p ? RAMP_OK : RAMP_BAD, tone);
            double x = left + p * cell, y = top + t * cell;
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" stroke=\"#ddd\">"
                       "<title>true ",
                    x, y, cell, cell, fill);
            put_class(f, r, t, TIP_NAME_CHARS);
            fputs(", predicted ", f);
            put_class(f, r, p, TIP_NAME_CHARS);
            fprintf(f, ": %llu (%.1f%% of class ", (unsigned long long)v, 100 * share);
            put_class(f, r, t, TIP_NAME_CHARS);
            fputs(")</title></rect>\n", f);
            if (numbers)
                fprintf(f, "<text class=\"cell\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" style=\"fill:%s\">"
                           "%llu</text>\n",
                        x + cell / 2, y + cell / 2 + 4, tone > 0.6 ? "#fff" : "#222", (unsigned long long)v);
        }
    }
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#666\"/>\n",
            left, top, size, size);
    fputs("</svg>\n", f);
    return true;
}

static void table_write(FILE *f, const struct report_data *r)
{
    const uint64_t *cm = r->confusion;
    const uint32_t K = r->n_classes;
    fputs("<table class=\"metrics\">\n<thead><tr><th>class</th><th>support</th><th>predicted</th>"
          "<th>precision</th><th>recall</th><th>F1</th></tr></thead>\n<tbody>\n",
          f);
    uint32_t rows = 0, skipped = 0;
    uint64_t n = 0, right = 0;
    for (uint32_t k = 0; k < K; k++) {
        struct class_metrics c = report_class_metrics(cm, K, k);
        n += c.support;
        right += cm[(size_t)k * K + k];
        if (!c.support && !c.predicted) continue;
        if (rows == TABLE_MAX_ROWS) {
            skipped++;
            continue;
        }
        rows++;
        const char *name = class_name(r, k);
        if (name) {
            /* the whole name (up to a bound) on hover, with the index */
            fprintf(f, "<tr><td class=\"name\" title=\"class %u: ", k);
            report_esc_cut(f, name, TIP_NAME_CHARS);
            fputs("\">", f);
            report_esc_cut(f, name, TABLE_NAME_CHARS);
        } else {
            fprintf(f, "<tr><td>%u", k);
        }
        fprintf(f, "</td><td>%llu</td><td>%llu</td><td>%.4f</td><td>%.4f</td><td><span class=\"bar\" "
                   "style=\"width:%.0fpx\"></span>%.4f</td></tr>\n",
                (unsigned long long)c.support, (unsigned long long)c.predicted, c.precision, c.recall,
                60 * c.f1, c.f1);
    }
    fputs("</tbody>\n<tfoot>\n", f);
    double mp, mr, mf;
    report_macro(cm, K, &mp, &mr, &mf, NULL);
    fprintf(f, "<tr><td>macro avg</td><td>%llu</td><td>%llu</td><td>%.4f</td><td>%.4f</td><td>%.4f</td></tr>\n",
            (unsigned long long)n, (unsigned long long)n, mp, mr, mf);
    fprintf(f, "<tr><td>accuracy</td><td colspan=\"5\">%.4f (%llu of %llu)</td></tr>\n",
            n ? (double)right / (double)n : 0, (unsigned long long)right, (unsigned long long)n);
    fputs("</tfoot>\n</table>\n", f);
    if (skipped) fprintf(f, "<p class=\"note\">%u more classes not listed.</p>\n", skipped);
}

/* ------------------------------------------------------------ regression */

#define COL_POINT "#1f77b4"
#define COL_RESID "#d95f02"
#define REG_MAX_TABLE 8u /* targets listed one per row; the mean covers all */

/* The target's name for axis labels: the label column's header name, else
 * "target". */
static const char *target_name(const struct report_data *r)
{
    const struct mlp_schema *s = r->schema;
    struct mlp_column_info ci;
    int64_t col = s ? mlp_schema_label_column(s) : -1;
    if (col < 0 || mlp_schema_column(s, (uint32_t)col, &ci) != MLP_OK || !ci.name || !*ci.name) return "target";
    return ci.name;
}

/* The name the regression plots' axes use. */
static const char *regression_name(const struct report_data *r)
{
    return r->regression->n_targets > 1 ? "target 1" : target_name(r);
}

/* Predicted against true on one scale for both axes, so that the y = x
 * line is the diagonal and a point's distance from it is its error. */
static bool scatter_write(FILE *f, const struct report_data *r, bool standalone)
{
    if (!r->regression) return false;
    const char *name = regression_name(r);
    const struct report_regression *g = r->regression;
    double lo = INFINITY, hi = -INFINITY;
    for (uint64_t i = 0; i < g->n_points; i++) {
        if (!isfinite(g->pred[i]) || !isfinite(g->truth[i])) continue;
        lo = fmin(lo, fmin(g->truth[i], g->pred[i])), hi = fmax(hi, fmax(g->truth[i], g->pred[i]));
    }
    if (!(hi >= lo)) return false;
    struct chart c = {.f = f, .w = 420, .h = 400, .left = 70, .right = 20, .top = 40, .bottom = 50,
                      .standalone = standalone};
    double st;
    chart_nice_range(lo, hi, &c.x0, &c.x1, &st);
    c.y0 = c.x0, c.y1 = c.x1;
    char xl[160], yl[160];
    snprintf(xl, sizeof xl, "true %s", name);
    snprintf(yl, sizeof yl, "predicted %s", name);
    chart_frame(&c, "predicted vs true", "Predicted vs true", xl, yl, st, st);
    fprintf(f, "<line class=\"diag\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\" "
               "stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\n",
            chart_x(&c, c.x0), chart_y(&c, c.y0), chart_x(&c, c.x1), chart_y(&c, c.y1));
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" style=\"fill:#666\">y = x</text>\n",
            chart_x(&c, c.x1) - 30, chart_y(&c, c.y1) + 12);
    /* translucent points: where they pile up the colour deepens */
    fprintf(f, "<g class=\"points\" fill=\"%s\" fill-opacity=\"0.45\">\n", COL_POINT);
    for (uint64_t i = 0; i < g->n_points; i++)
        if (isfinite(g->pred[i]) && isfinite(g->truth[i]))
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\"/>\n", chart_x(&c, g->truth[i]), chart_y(&c, g->pred[i]));
    fputs("</g>\n</svg>\n", f);
    return true;
}

/* Residuals (true - predicted) against the prediction, rather than their
 * histogram: the histogram shows only the spread, while against the
 * prediction a bias over part of the range (a curve), a spread growing with
 * the value (a funnel) or a clipped output (a wall) show as shapes.  The
 * y axis is symmetric about the zero line so that a bias is seen as one. */
static bool residuals_write(FILE *f, const struct report_data *r, bool standalone)
{
    if (!r->regression) return false;
    const char *name = regression_name(r);
    const struct report_regression *g = r->regression;
    double lo = INFINITY, hi = -INFINITY, big = 0;
    for (uint64_t i = 0; i < g->n_points; i++) {
        if (!isfinite(g->pred[i]) || !isfinite(g->truth[i])) continue;
        lo = fmin(lo, g->pred[i]), hi = fmax(hi, g->pred[i]);
        big = fmax(big, fabs(g->truth[i] - g->pred[i]));
    }
    if (!(hi >= lo)) return false;
    struct chart c = {.f = f, .w = 520, .h = 400, .left = 70, .right = 20, .top = 40, .bottom = 50,
                      .standalone = standalone};
    double xs, ys;
    chart_nice_range(lo, hi, &c.x0, &c.x1, &xs);
    if (!(big > 0)) big = 1;
    ys = chart_nice_step(2.1 * big, 6);
    c.y1 = ceil(1.05 * big / ys - 1e-9) * ys, c.y0 = -c.y1;
    char xl[160];
    snprintf(xl, sizeof xl, "predicted %s", name);
    chart_frame(&c, "residuals", "Residuals", xl, "residual (true \xe2\x88\x92 predicted)", xs, ys);
    fprintf(f, "<line class=\"zero\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#555\" "
               "stroke-width=\"1.5\"/>\n",
            chart_x(&c, c.x0), chart_y(&c, 0), chart_x(&c, c.x1), chart_y(&c, 0));
    fprintf(f, "<g class=\"points\" fill=\"%s\" fill-opacity=\"0.45\">\n", COL_RESID);
    for (uint64_t i = 0; i < g->n_points; i++)
        if (isfinite(g->pred[i]) && isfinite(g->truth[i]))
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\"/>\n", chart_x(&c, g->pred[i]),
                    chart_y(&c, g->truth[i] - g->pred[i]));
    fputs("</g>\n</svg>\n", f);
    return true;
}

static void regression_table_write(FILE *f, const struct report_regression *g, const char *name)
{
    fputs("<table class=\"metrics regress\">\n<thead><tr><th>target</th><th>MSE</th><th>MAE</th><th>R&#178;</th>"
          "</tr></thead>\n<tbody>\n",
          f);
    uint32_t shown_n = g->n_targets < REG_MAX_TABLE ? g->n_targets : REG_MAX_TABLE;
    for (uint32_t k = 0; k < shown_n; k++) {
        if (g->n_targets == 1) {
            fputs("<tr><td class=\"name\">", f);
            report_esc_cut(f, name, TABLE_NAME_CHARS);
        } else {
            fprintf(f, "<tr><td>%u", k + 1);
        }
        fprintf(f, "</td><td>%.6g</td><td>%.6g</td><td>%.6g</td></tr>\n", g->mse[k], g->mae[k], g->r2[k]);
    }
    fputs("</tbody>\n", f);
    if (g->n_targets > 1)
        fprintf(f, "<tfoot><tr><td>mean of %u</td><td>%.6g</td><td>%.6g</td><td>%.6g</td></tr></tfoot>\n",
                g->n_targets, g->mse_mean, g->mae_mean, g->r2_mean);
    fputs("</table>\n", f);
}

/* ------------------------------------------------------------ plots */

/* The page being written: each chart goes into it and, with --plots, into
 * a file of its own; the first failure is kept and ends the writing. */
struct page {
    FILE *f;
    const struct report_data *r;
    struct mlp_error *err;
    enum mlp_status st;
};

typedef bool (*draw_fn)(FILE *f, const struct report_data *r, bool standalone);

static bool draw_loss(FILE *f, const struct report_data *r, bool standalone)
{
    return chart_curves(f, r, false, standalone);
}
static bool draw_acc(FILE *f, const struct report_data *r, bool standalone)
{
    return chart_curves(f, r, true, standalone);
}
static bool draw_phases(FILE *f, const struct report_data *r, bool standalone)
{
    return chart_phases(f, r->profile, standalone);
}
static bool draw_memory(FILE *f, const struct report_data *r, bool standalone)
{
    return chart_memory(f, r->profile, standalone);
}

/* The directory of --plots: made when missing (its parent must exist). */
static enum mlp_status plots_dir_make(const char *dir, struct mlp_error *err)
{
    struct stat sb;
    if (stat(dir, &sb) == 0) {
        if (S_ISDIR(sb.st_mode)) return MLP_OK;
        snprintf(err->msg, sizeof err->msg, "%.300s: not a directory (--plots)", dir);
        return err->status = MLP_ERR_OPEN;
    }
    if (mkdir(dir, 0777) == 0 || errno == EEXIST) return MLP_OK;
    snprintf(err->msg, sizeof err->msg, "%.300s: cannot create the --plots directory: %s", dir, strerror(errno));
    return err->status = MLP_ERR_OPEN;
}

/* One chart: into the page, and as DIR/NAME.svg with --plots (replaced
 * atomically, as every output). */
static void plot(struct page *pg, const char *name, draw_fn draw)
{
    if (pg->st != MLP_OK || !draw(pg->f, pg->r, false) || !pg->r->plots_dir) return;
    char path[4200];
    if ((size_t)snprintf(path, sizeof path, "%s/%s.svg", pg->r->plots_dir, name) >= sizeof path) {
        snprintf(pg->err->msg, sizeof pg->err->msg, "--plots: the directory's path is too long");
        pg->st = pg->err->status = MLP_ERR_ARG;
        return;
    }
    struct mlp_output *o;
    if ((pg->st = mlp_output_open(&o, path, 0, pg->err)) != MLP_OK) return;
    draw(mlp_output_file(o), pg->r, true);
    pg->st = cli_output_commit(o, pg->err);
}

static void regression_write(struct page *pg, const char *ename)
{
    FILE *f = pg->f;
    const struct report_regression *g = pg->r->regression;
    fputs("<section>\n<h2>Predictions (", f);
    report_esc(f, ename);
    fputs(" data)</h2>\n<div class=\"row\">\n", f);
    plot(pg, "predicted_vs_true", scatter_write);
    plot(pg, "residuals", residuals_write);
    regression_table_write(f, g, regression_name(pg->r));
    fputs("</div>\n", f);
    uint64_t bad = 0;
    for (uint64_t i = 0; i < g->n_points; i++) bad += !isfinite(g->pred[i]) || !isfinite(g->truth[i]);
    fputs("<p class=\"note\">", f);
    if (g->n_points < g->n_rows)
        fprintf(f, "Plotted: %llu of the %llu rows, evenly spaced; the figures are over every row. ",
                (unsigned long long)g->n_points, (unsigned long long)g->n_rows);
    if (g->n_targets > 1) fprintf(f, "The plots show the first of the %u targets. ", g->n_targets);
    if (bad) fprintf(f, "%llu plotted rows have a prediction that is not a number; left out. ", (unsigned long long)bad);
    fputs("Residual = true &minus; predicted: points above the zero line are under-predicted.</p>\n</section>\n", f);
}

/* ------------------------------------------------------------ samples */

/* Row r of ds as h*w*c bytes of pixels. */
static void sample_pixels(const struct mlp_dataset *ds, uint64_t r, double scale, unsigned char *out)
{
    size_t n = ds->n_cols, base = (size_t)r * n;
    if (ds->x_type == MLP_ELEM_U8) {
        memcpy(out, (const unsigned char *)ds->x + base, n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        double v = ds->x_type == MLP_ELEM_F32 ? ((const float *)ds->x)[base + i] : ((const double *)ds->x)[base + i];
        v *= scale * 255;
        out[i] = !(v > 0) ? 0 : v >= 255 ? 255 : (unsigned char)(v + 0.5);
    }
}

static bool samples_drawable(const struct report_data *r)
{
    const struct mlp_dataset *ds = r->samples;
    if (!ds || !ds->labels || !r->pred || !r->n_samples_max || !ds->n_rows) return false;
    uint64_t h = ds->sample_shape[0], w = ds->sample_shape[1], c = ds->sample_shape[2];
    return h && w && (c == 1 || c == 3 || c == 4) && h * w * c == ds->n_cols && h * w * c <= SAMPLE_MAX_VALUES;
}

static enum mlp_status samples_write(FILE *f, const struct report_data *r, struct mlp_error *err)
{
    const struct mlp_dataset *ds = r->samples;
    uint32_t h = ds->sample_shape[0], w = ds->sample_shape[1], c = ds->sample_shape[2];
    uint64_t n = ds->n_rows < r->n_samples_max ? ds->n_rows : r->n_samples_max;
    unsigned char *pix = malloc(ds->n_cols);
    if (!pix) {
        snprintf(err->msg, sizeof err->msg, "out of memory drawing the samples");
        return err->status = MLP_ERR_NOMEM;
    }
    uint64_t wrong = 0;
    for (uint64_t i = 0; i < n; i++) wrong += (int64_t)r->pred[i] != ds->labels[i];
    fprintf(f, "<p class=\"note\">The first %llu rows (%u&times;%u%s): %llu predicted wrong, marked in red.</p>\n",
            (unsigned long long)n, w, h, c == 1 ? "" : c == 3 ? " RGB" : " RGBA", (unsigned long long)wrong);
    double big = h > w ? h : w, dw = SAMPLE_PX * w / big, dh = SAMPLE_PX * h / big;
    fputs("<div class=\"grid\">\n", f);
    enum mlp_status st = MLP_OK;
    for (uint64_t i = 0; i < n; i++) {
        sample_pixels(ds, i, r->input_scale, pix);
        size_t len;
        unsigned char *png = png_encode(pix, w, h, c, &len);
        if (!png) {
            snprintf(err->msg, sizeof err->msg, "out of memory encoding a sample image");
            st = err->status = MLP_ERR_NOMEM;
            break;
        }
        bool bad = (int64_t)r->pred[i] != ds->labels[i];
        fprintf(f, "<figure class=\"%s\"><svg width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
                   "aria-label=\"row %llu\">",
                bad ? "bad" : "ok", dw + 8, dh + 8, dw + 8, dh + 8, (unsigned long long)i);
        fprintf(f, "<image x=\"4\" y=\"4\" width=\"%.0f\" height=\"%.0f\" preserveAspectRatio=\"none\" "
                   "style=\"image-rendering:pixelated\" href=\"data:image/png;base64,",
                dw, dh);
        put_base64(f, png, len);
        free(png);
        fprintf(f, "\"/><rect x=\"%.1f\" y=\"%.1f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"%s\" "
                   "stroke-width=\"%d\"/></svg>",
                bad ? 1.5 : 3.5, bad ? 1.5 : 3.5, bad ? dw + 5 : dw + 1, bad ? dh + 5 : dh + 1,
                bad ? "#d62728" : "#ccc", bad ? 3 : 1);
        fputs("<figcaption>pred ", f);
        put_class(f, r, r->pred[i], CAPTION_NAME_CHARS);
        fputs(" / true ", f);
        put_class(f, r, (uint32_t)ds->labels[i], CAPTION_NAME_CHARS);
        fputs("</figcaption></figure>\n", f);
    }
    fputs("</div>\n", f);
    free(pix);
    return st;
}

/* ------------------------------------------------------------ the page */

/* A figure of the runs' table: -1 or NaN (not known) as a dash. */
static void put_figure(FILE *f, double v, int decimals)
{
    if (isfinite(v) && v >= 0)
        fprintf(f, "<td>%.*f</td>", decimals, v);
    else
        fputs("<td>&ndash;</td>", f);
}

/* The runs compared (a sweep's, or the logs of report --runs): a row each,
 * its colour in the overlays, the best marked. */
static void runs_write(FILE *f, const struct report_data *r)
{
    const struct report_run *run = r->runs;
    const char *fin = run[0].final_name ? run[0].final_name : run[0].eval_name ? run[0].eval_name : "test";
    for (uint32_t i = 1; i < r->n_runs; i++) {
        const char *o = run[i].final_name ? run[i].final_name : run[i].eval_name ? run[i].eval_name : "test";
        if (strcmp(o, fin)) fin = "evaluation"; /* logs of different sets */
    }
    fputs("<table class=\"metrics runs\">\n<thead><tr><th>run</th><th>epochs</th><th>train loss</th>"
          "<th>train acc</th><th>", f);
    report_esc(f, fin);
    fputs(" loss</th><th>", f);
    report_esc(f, fin);
    fputs(" acc</th><th>seconds</th></tr></thead>\n<tbody>\n", f);
    for (uint32_t i = 0; i < r->n_runs && i < TABLE_MAX_ROWS; i++) {
        bool best = (int64_t)i == r->best_run;
        uint32_t epochs = run[i].n_epochs ? run[i].history[run[i].n_epochs - 1].epoch : 0;
        fprintf(f, "<tr%s><td class=\"name\"><span class=\"swatch\" style=\"background:%s\"></span>",
                best ? " class=\"best\"" : "", chart_run_colour(i));
        report_esc_cut(f, run[i].label ? run[i].label : "", TIP_NAME_CHARS);
        fprintf(f, "%s</td><td>%u</td>", best ? " \xe2\x98\x85" : "", epochs);
        put_figure(f, run[i].train_loss, 5);
        put_figure(f, run[i].train_acc, 4);
        put_figure(f, run[i].eval_loss, 5);
        put_figure(f, run[i].eval_acc, 4);
        put_figure(f, run[i].seconds, 2);
        fputs("</tr>\n", f);
    }
    fputs("</tbody>\n</table>\n", f);
    if (r->n_runs > TABLE_MAX_ROWS) fprintf(f, "<p class=\"note\">%u more runs not listed.</p>\n", r->n_runs - TABLE_MAX_ROWS);
    if (r->best_run >= 0 && (uint32_t)r->best_run < r->n_runs) {
        fputs("<p class=\"note\">Best (&#9733;): ", f);
        report_esc(f, run[r->best_run].label ? run[r->best_run].label : "");
        if (r->best_why) {
            fputs(", the ", f);
            report_esc(f, r->best_why);
        }
        fputs(".</p>\n", f);
    }
}

/* One run's learning curves, and its last epoch's figures under them. */
static void curves_write(struct page *pg, const char *ename)
{
    FILE *f = pg->f;
    const struct report_data *r = pg->r;
    fputs("<section>\n<h2>Learning curves</h2>\n<div class=\"row\">\n", f);
    plot(pg, "loss", draw_loss);
    plot(pg, "accuracy", draw_acc);
    fputs("</div>\n", f);
    if (r->n_runs > 0) {
        fputs("<p class=\"note\">One colour per run: train solid, ", f);
        report_esc(f, ename);
        fputs(" dashed; the best run is drawn widest.</p>\n</section>\n", f);
        return;
    }
    const struct mlp_epoch_stats *last = &r->history[r->n_epochs - 1];
    fprintf(f, "<p class=\"note\">Epoch %u: train loss %.5g", last->epoch, last->train_loss);
    if (isfinite(last->train_acc) && last->train_acc >= 0) fprintf(f, ", train accuracy %.4f", last->train_acc);
    if (isfinite(last->test_loss) && last->test_loss >= 0) {
        fputs(", ", f);
        report_esc(f, ename);
        fprintf(f, " loss %.5g", last->test_loss);
    }
    if (isfinite(last->test_acc) && last->test_acc >= 0) {
        fputs(", ", f);
        report_esc(f, ename);
        fprintf(f, " accuracy %.4f", last->test_acc);
    }
    fputs(".</p>\n</section>\n", f);
}

/* --profile: the phases' times and memory over time. */
static void profile_write(struct page *pg)
{
    FILE *f = pg->f;
    const struct report_profile *p = pg->r->profile;
    fputs("<section>\n<h2>Profile</h2>\n<div class=\"row\">\n", f);
    plot(pg, "phases", draw_phases);
    plot(pg, "memory", draw_memory);
    fputs("</div>\n<p class=\"note\">", f);
    fprintf(f, "Wall time %.3f s.", p->total_s);
    if (p->n_samples >= 2)
        fprintf(f, " Resident memory sampled every %.3g s (%zu samples) in a thread beside the run; the bands are "
                   "the phase each sample found%s.",
                p->interval_s, p->n_samples, p->peak_bytes > 0 ? ", the dashed line the process's peak" : "");
    else
        fputs(" No memory samples (the sampler could not run here).", f);
    fputs("</p>\n</section>\n", f);
}

static enum mlp_status page_write(FILE *f, const struct report_data *r, struct mlp_error *err)
{
    const char *title = r->title ? r->title : "fastmlp report";
    const char *ename = r->eval_name ? r->eval_name : "test";
    struct page pg = {.f = f, .r = r, .err = err, .st = MLP_OK};
    if (r->plots_dir && (pg.st = plots_dir_make(r->plots_dir, err)) != MLP_OK) return pg.st;
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
          f);
    report_esc(f, title);
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<header>\n<h1>", CSS);
    report_esc(f, title);
    fputs("</h1>\n", f);
    if (r->subtitle) {
        fputs("<p class=\"sub\">", f);
        report_esc(f, r->subtitle);
        fputs("</p>\n", f);
    }
    fputs("</header>\n", f);

    if (r->n_runs > 0) {
        fputs("<section>\n<h2>Runs</h2>\n", f);
        runs_write(f, r);
        fputs("</section>\n", f);
        const char *e0 = r->runs[0].eval_name ? r->runs[0].eval_name : "test";
        curves_write(&pg, e0);
    } else if (r->n_epochs > 0 && r->history) {
        curves_write(&pg, ename);
    }

    const uint32_t K = r->n_classes;
    if (r->confusion && K > 0 && pg.st == MLP_OK) {
        fputs("<section>\n<h2>Confusion matrix (", f);
        report_esc(f, ename);
        fputs(" data)</h2>\n<div class=\"row\">\n", f);
        if (K <= HEAT_MAX_CLASSES)
            plot(&pg, "confusion", heatmap_write);
        else
            fprintf(f, "<p class=\"note\">%u classes: too many to draw as a heat map.</p>\n", K);
        table_write(f, r);
        fputs("</div>\n<p class=\"note\">Rows: true class; columns: predicted class.  A cell's colour is its "
              "share of the true class's rows (blue: right, red: confused with another class).</p>\n"
              "</section>\n",
              f);
    }

    if (r->regression && pg.st == MLP_OK) regression_write(&pg, ename);

    if (samples_drawable(r) && pg.st == MLP_OK) {
        fputs("<section>\n<h2>Samples (", f);
        report_esc(f, ename);
        fputs(" data)</h2>\n", f);
        enum mlp_status st = samples_write(f, r, err);
        if (st != MLP_OK) return st;
        fputs("</section>\n", f);
    }
    if (r->profile && pg.st == MLP_OK) profile_write(&pg);
    if (pg.st != MLP_OK) return pg.st;
    fputs("<footer>Written by fastmlp " MLP_VERSION_STRING ".</footer>\n</body>\n</html>\n", f);
    return MLP_OK;
}

enum mlp_status report_write(const char *path, const struct report_data *r, struct mlp_error *err)
{
    if (!path) { /* the plots alone: the page is drawn into nothing */
        FILE *sink = fopen("/dev/null", "w");
        if (!sink) {
            snprintf(err->msg, sizeof err->msg, "/dev/null: %s", strerror(errno));
            return err->status = MLP_ERR_IO;
        }
        enum mlp_status st = page_write(sink, r, err);
        fclose(sink);
        return st;
    }
    struct mlp_output *o;
    enum mlp_status st = mlp_output_open(&o, path, MLP_OUTPUT_STREAM, err);
    if (st != MLP_OK) return st;
    st = page_write(mlp_output_file(o), r, err);
    if (st != MLP_OK) {
        mlp_output_abort(o);
        return st;
    }
    return cli_output_commit(o, err); /* a write error is reported there */
}

/* ------------------------------------------------ figures for eval and train */

/* Rows per predict call: 1024, fewer for very wide outputs (<= 128 MiB). */
uint64_t report_chunk_rows(uint32_t K)
{
    return K > (1u << 14) ? ((1u << 24) / K > 0 ? (1u << 24) / K : 1) : 1024;
}

/* The model in one line: "784-32-10 relu, softmax-ce, f32, 25450 parameters". */
void report_model_summary(const struct mlp_model *m, char *buf, size_t len)
{
    size_t n = (size_t)snprintf(buf, len, "%u", mlp_model_n_in(m));
    uint32_t L = mlp_model_n_layers(m);
    for (uint32_t i = 0; i < L && n < len; i++)
        n += (size_t)snprintf(buf + n, len - n, "-%u", mlp_model_layer(m, i).n_out);
    if (n < len && L > 1) n += (size_t)snprintf(buf + n, len - n, " %s", mlp_act_name(mlp_model_layer(m, 0).act));
    if (n < len)
        snprintf(buf + n, len - n, ", %s, %s, %zu parameters", mlp_head_name(mlp_model_head(m)),
                 mlp_dtype_name(mlp_model_dtype(m)), mlp_model_n_params(m));
}

/* The predicted class of every row into the K x K confusion matrix (row =
 * true class), and those of the first n_pred rows into pred. */
enum mlp_status report_classify(const struct mlp_model *m, const struct mlp_dataset *ds, uint32_t K, uint64_t *cm,
                                uint32_t *pred, uint64_t n_pred, struct mlp_error *err)
{
    const uint32_t n_out = mlp_model_n_out(m);
    const uint64_t chunk = report_chunk_rows(n_out);
    double *out = malloc(chunk * n_out * sizeof *out);
    if (!out) {
        snprintf(err->msg, sizeof err->msg, "out of memory");
        return err->status = MLP_ERR_NOMEM;
    }
    enum mlp_status st = MLP_OK;
    for (uint64_t r0 = 0; r0 < ds->n_rows; r0 += chunk) {
        uint64_t n = ds->n_rows - r0 < chunk ? ds->n_rows - r0 : chunk;
        if ((st = mlp_model_predict(m, ds, MLP_ROWS(r0, n), out, err)) != MLP_OK) break;
        for (uint64_t i = 0; i < n; i++) {
            const double *p = out + i * n_out;
            const uint32_t best = mlp_class_of(p, n_out);
            /* mlp__check_data (through evaluate) has bounded labels by K */
            cm[(size_t)ds->labels[r0 + i] * K + best]++;
            if (r0 + i < n_pred) pred[r0 + i] = best;
        }
    }
    free(out);
    return st;
}

void report_regression_free(struct report_regression *g)
{
    if (!g) return;
    free(g->buf_);
    memset(g, 0, sizeof *g);
}

/* Two passes: the targets' means first (they are in memory), then the
 * predictions chunk by chunk:
 *   MSE = mean (y - p)^2,  MAE = mean |y - p|,  R^2 = 1 - SS_res / SS_tot
 * with SS_tot = sum (y - mean y)^2 (NaN for a constant target, as eval). */
enum mlp_status report_regress(const struct mlp_model *m, const struct mlp_dataset *ds, uint64_t max_points,
                               struct report_regression *g, struct mlp_error *err)
{
    memset(g, 0, sizeof *g);
    enum mlp_status st = mlp_model_check_data(m, ds, err);
    if (st != MLP_OK) return st;
    if (!ds->targets) {
        snprintf(err->msg, sizeof err->msg, "the data set has no real targets to plot");
        return err->status = MLP_ERR_ARG;
    }
    const uint32_t K = mlp_model_n_out(m);
    const uint64_t n = ds->n_rows, chunk = report_chunk_rows(K);
    const uint64_t N = n < max_points ? n : max_points;
    /* mean, SS_tot, SS_res, sum |y - p| per target; then the points */
    double *buf = calloc(4 * (size_t)K + 2 * (size_t)N, sizeof *buf);
    double *out = malloc(chunk * K * sizeof *out);
    if (!buf || !out) {
        free(buf);
        free(out);
        snprintf(err->msg, sizeof err->msg, "out of memory");
        return err->status = MLP_ERR_NOMEM;
    }
    double *mean = buf, *ss_tot = buf + K, *ss_res = buf + 2 * (size_t)K, *abs_res = buf + 3 * (size_t)K;
    for (uint64_t i = 0; i < n; i++)
        for (uint32_t k = 0; k < K; k++) mean[k] += ds->targets[i * K + k];
    for (uint32_t k = 0; k < K; k++) mean[k] = n ? mean[k] / (double)n : 0;
    g->truth = buf + 4 * (size_t)K, g->pred = g->truth + N;
    /* point j is row floor(j * n / N): evenly spaced and the same every run */
    uint64_t j = 0, next = 0;
    for (uint64_t r0 = 0; r0 < n; r0 += chunk) {
        uint64_t m_rows = n - r0 < chunk ? n - r0 : chunk;
        if ((st = mlp_model_predict(m, ds, MLP_ROWS(r0, m_rows), out, err)) != MLP_OK) break;
        for (uint64_t i = 0; i < m_rows; i++) {
            const double *y = ds->targets + (r0 + i) * K, *p = out + i * K;
            for (uint32_t k = 0; k < K; k++) {
                double d = y[k] - p[k], t = y[k] - mean[k];
                ss_res[k] += d * d, ss_tot[k] += t * t, abs_res[k] += fabs(d);
            }
            if (j < N && r0 + i == next) {
                g->truth[j] = y[0], g->pred[j] = p[0];
                j++;
                next = j * n / N;
            }
        }
    }
    free(out);
    if (st != MLP_OK) {
        free(buf);
        memset(g, 0, sizeof *g);
        return st;
    }
    /* the per-target figures overwrite the sums they come from */
    for (uint32_t k = 0; k < K; k++) {
        double r2 = ss_tot[k] > 0 ? 1 - ss_res[k] / ss_tot[k] : NAN;
        mean[k] = n ? ss_res[k] / (double)n : NAN; /* MSE */
        ss_tot[k] = n ? abs_res[k] / (double)n : NAN; /* MAE */
        ss_res[k] = r2;
        g->mse_mean += mean[k] / K, g->mae_mean += ss_tot[k] / K, g->r2_mean += r2 / K;
    }
    g->mse = mean, g->mae = ss_tot, g->r2 = ss_res;
    g->n_targets = K, g->n_rows = n, g->n_points = N, g->buf_ = buf;
    return MLP_OK;
}
