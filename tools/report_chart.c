/* SPDX-License-Identifier: MIT */
/* The report's charts drawn from figures over time: learning curves of one
 * run or of several overlaid (seed 000's "learning rate effect" figure),
 * the profile's phase times as bars and resident memory over time with the
 * phases as bands behind it (seed 001's mprof plot); and the scales and
 * frames every x-y plot of the report shares.  Plain SVG, written by hand:
 * a plotting library would pull a scripting runtime or a renderer into a C
 * tool for a few hundred lines of text. */
#include "report_svg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Series colours of one run (the usual blue / orange pair). */
#define COL_TRAIN "#1f77b4"
#define COL_EVAL "#ff7f0e"

/* The styles a standalone SVG carries (the page's CSS gives them inline). */
static const char SVG_STYLE[] =
    "text{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;"
    "font-size:12px;fill:#333}\n.title{font-size:14px;font-weight:600}\n.cell{font-size:11px}\n";

/* ------------------------------------------------------------ text */

/* Bytes in the valid UTF-8 sequence at s (at most n bytes there), 0 when
 * it is not one (overlong forms and surrogates included): such bytes are
 * written as '?' so that a label in Latin-1 still makes a valid page. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (!len || len > n) return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80) return 0;
    if (len > 2) {
        unsigned lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80, hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
        if (s[1] < lo || s[1] > hi) return 0;
    }
    return len;
}

/* At most max_chars characters of s, HTML-escaped: & < > " ' as
 * entities, control bytes (which HTML forbids) and invalid UTF-8 as '?', and
 * a cut marked by an ellipsis. */
void report_esc_cut(FILE *f, const char *s, size_t max_chars)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), chars = 0;
    while (n) {
        if (chars++ == max_chars) {
            fputs("\xe2\x80\xa6", f); /* U+2026 horizontal ellipsis */
            return;
        }
        size_t len = utf8_len(p, n);
        switch (len ? *p : 0) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default:
            if (!len || (*p < 0x20 && *p != '\t') || *p == 0x7f)
                fputc('?', f);
            else
                fwrite(p, 1, len, f);
        }
        if (!len) len = 1;
        p += len, n -= len;
    }
}

void report_esc(FILE *f, const char *s) { report_esc_cut(f, s, SIZE_MAX); }

/* Characters report_esc_cut(s, max_chars) shows, the ellipsis included. */
size_t report_shown_chars(const char *s, size_t max_chars)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), chars = 0;
    while (n && chars <= max_chars) {
        size_t len = utf8_len(p, n);
        if (!len) len = 1;
        p += len, n -= len, chars++;
    }
    return chars;
}

/* ------------------------------------------------------------ scales */

double chart_nice_step(double range, int ticks)
{
    double raw = range / ticks, mag = pow(10, floor(log10(raw))), r = raw / mag;
    return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 2.5 ? 2.5 : r <= 5 ? 5 : 10) * mag;
}

int chart_step_decimals(double step)
{
    int d = 0;
    while (d < 9 && fabs(step * pow(10, d) - round(step * pow(10, d))) > 1e-6 * step * pow(10, d)) d++;
    return d;
}

void chart_tick(FILE *f, double v, double step)
{
    if (fabs(v) < step * 1e-6) v = 0;
    if (v != 0 && (fabs(v) >= 1e6 || step < 1e-4))
        fprintf(f, "%.3g", v);
    else
        fprintf(f, "%.*f", chart_step_decimals(step), v);
}

void chart_nice_range(double lo, double hi, double *r0, double *r1, double *step)
{
    if (!(hi > lo)) {
        double d = fabs(lo) > 0 ? fabs(lo) * 0.05 : 0.5;
        lo -= d, hi += d;
    }
    double pad = (hi - lo) * 0.05;
    lo -= pad, hi += pad;
    double st = chart_nice_step(hi - lo, 6);
    *r0 = floor(lo / st + 1e-9) * st, *r1 = ceil(hi / st - 1e-9) * st, *step = st;
    if (!(*r1 > *r0)) *r1 = *r0 + st;
}

/* ------------------------------------------------------------ frames */

void chart_open(FILE *f, const char *cls, double w, double h, const char *aria, bool standalone)
{
    if (standalone) fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"%s\" width=\"%.0f\" height=\"%.0f\" "
               "viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"",
            cls, w, h, w, h);
    report_esc(f, aria);
    fputs("\">\n", f);
    if (standalone) fprintf(f, "<style>\n%s</style>\n", SVG_STYLE);
    fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#fff\"/>\n", w, h);
}

/* The title, centred over the plot. */
static void chart_title(const struct chart *c, const char *title)
{
    fprintf(c->f, "<text class=\"title\" x=\"%.1f\" y=\"22\" text-anchor=\"middle\">", (c->left + c->w - c->right) / 2);
    report_esc(c->f, title);
    fputs("</text>\n", c->f);
}

/* Horizontal grid lines, y ticks and their labels at multiples of ys. */
static void chart_yticks(const struct chart *c, double ys)
{
    FILE *f = c->f;
    double pl = c->left, pr = c->w - c->right;
    for (double y = c->y0; y <= c->y1 + ys * 1e-6; y += ys) {
        double py = chart_y(c, y);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>\n", pl, py, pr, py);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n", pl - 5, py, pl, py);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", pl - 8, py + 4);
        chart_tick(f, y, ys);
        fputs("</text>\n", f);
    }
}

/* One vertical grid line and x tick labelled by the caller's text. */
static void chart_xtick(const struct chart *c, double x)
{
    FILE *f = c->f;
    double px = chart_x(c, x), pt = c->top, pb = c->h - c->bottom;
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>\n", px, pt, px, pb);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n", px, pb, px, pb + 5);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", px, pb + 18);
}

/* Vertical grid lines and x ticks labelled with their values, from `from`
 * to the range's end every xs. */
static void chart_xticks(const struct chart *c, double from, double xs)
{
    for (double x = from; x <= c->x1 + xs * 1e-6; x += xs) {
        chart_xtick(c, x);
        chart_tick(c->f, x, xs);
        fputs("</text>\n", c->f);
    }
}

/* The axes' lines and labels (user text: escaped, cut). */
static void chart_axes(const struct chart *c, const char *x_label, const char *y_label)
{
    FILE *f = c->f;
    double pl = c->left, pr = c->w - c->right, pt = c->top, pb = c->h - c->bottom;
    fprintf(f, "<path d=\"M%.1f %.1fV%.1fH%.1f\" fill=\"none\" stroke=\"#333\" stroke-width=\"1.2\"/>\n", pl, pt,
            pb, pr);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", (pl + pr) / 2, c->h - 10);
    report_esc_cut(f, x_label, 60);
    fprintf(f, "</text>\n<text x=\"16\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 16 %.1f)\">",
            (pt + pb) / 2, (pt + pb) / 2);
    report_esc_cut(f, y_label, 40);
    fputs("</text>\n", f);
}

void chart_frame(const struct chart *c, const char *aria, const char *title, const char *x_label,
                 const char *y_label, double xs, double ys)
{
    chart_open(c->f, "chart", c->w, c->h, aria, c->standalone);
    chart_title(c, title);
    chart_yticks(c, ys);
    chart_xticks(c, c->x0, xs);
    chart_axes(c, x_label, y_label);
}

/* ------------------------------------------------------------ learning curves */

/* Ten colours that stay apart (the usual category palette); runs beyond
 * ten reuse them, which the legend's order still tells apart. */
static const char *const RUN_COLOURS[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                          "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
#define N_RUN_COLOURS (sizeof RUN_COLOURS / sizeof RUN_COLOURS[0])
#define LEGEND_MAX_RUNS 20u
#define CURVE_MAX_POINTS 2000u /* listed in the legend; the rest summed up in one line */

const char *chart_run_colour(uint32_t i) { return RUN_COLOURS[i % N_RUN_COLOURS]; }

/* -1 means "not computed"; NaN/Inf cannot be drawn either. */
static bool shown(double v) { return isfinite(v) && v >= 0; }

static double stat_of(const struct mlp_epoch_stats *s, bool acc, bool eval)
{
    return acc ? (eval ? s->test_acc : s->train_acc) : (eval ? s->test_loss : s->train_loss);
}

/* The runs a curves chart draws: r->runs, or r->history as one run. */
static uint32_t curve_runs(const struct report_data *r, const struct report_run **runs, struct report_run *one)
{
    if (r->n_runs > 0) {
        *runs = r->runs;
        return r->n_runs;
    }
    *one = (struct report_run){.history = r->history, .n_epochs = r->history ? r->n_epochs : 0,
                               .eval_name = r->eval_name};
    *runs = one;
    return 1;
}

/* One series as one path (a gap where a figure is missing: a new M) and,
 * while they stay apart, markers. */
static void draw_series(const struct chart *c, const struct report_run *run, uint32_t i, bool acc, bool eval,
                        const char *colour, double width, bool markers)
{
    FILE *f = c->f;
    bool open = false, any = false;
    /* A long log (a solver's thousands of iterations) is thinned to about
     * CURVE_MAX_POINTS, its last epoch kept: the page stays small. */
    const uint32_t n = run->n_epochs, stride = n > CURVE_MAX_POINTS ? (n + CURVE_MAX_POINTS - 1) / CURVE_MAX_POINTS : 1;
    for (uint32_t k = 0; k < n; k = k + stride < n || k + 1 == n ? k + stride : n - 1) {
        double v = stat_of(&run->history[k], acc, eval);
        if (!shown(v)) {
            open = false;
            continue;
        }
        if (!any)
            fprintf(f, "<path class=\"curve %s\" data-run=\"%u\" fill=\"none\" stroke=\"%s\" stroke-width=\"%.1f\""
                       "%s stroke-linejoin=\"round\" d=\"",
                    eval ? "eval" : "train", i, colour, width, eval ? " stroke-dasharray=\"6 3\"" : "");
        fprintf(f, "%s%c%.1f %.1f", any ? " " : "", open ? 'L' : 'M', chart_x(c, run->history[k].epoch),
                chart_y(c, v));
        open = any = true;
    }
    if (any) fputs("\"/>\n", f);
    if (!markers) return;
    for (uint32_t k = 0; k < run->n_epochs; k++) {
        double v = stat_of(&run->history[k], acc, eval);
        if (shown(v))
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", chart_x(c, run->history[k].epoch),
                    chart_y(c, v), colour);
    }
}

/* A legend line: a short stroke in the series' style and its text. */
static void legend_line(FILE *f, double x, double y, const char *colour, double width, bool dashed)
{
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"%.1f\"%s/>\n", x,
            y - 4, x + 26, y - 4, colour, width, dashed ? " stroke-dasharray=\"6 3\"" : "");
}

bool chart_curves(FILE *f, const struct report_data *r, bool acc, bool standalone)
{
    struct report_run one;
    const struct report_run *runs;
    const uint32_t n_runs = curve_runs(r, &runs, &one);
    const bool overlay = r->n_runs > 0;
    double lo = INFINITY, hi = -INFINITY, e0 = INFINITY, e1 = -INFINITY;
    bool has[2] = {false, false};
    uint64_t points = 0;
    for (uint32_t i = 0; i < n_runs; i++)
        for (uint32_t k = 0; k < runs[i].n_epochs; k++) {
            const struct mlp_epoch_stats *s = &runs[i].history[k];
            e0 = fmin(e0, s->epoch), e1 = fmax(e1, s->epoch);
            for (int ev = 0; ev < 2; ev++) {
                double v = stat_of(s, acc, ev);
                if (!shown(v)) continue;
                has[ev] = true, points++;
                lo = fmin(lo, v), hi = fmax(hi, v);
            }
        }
    if (!has[0] && !has[1]) return false;
    const char *title = acc ? "Accuracy per epoch" : "Loss per epoch";

    /* An overlay's legend lists the runs: it goes right of the plot, where
     * it hides no curve however many there are. */
    uint32_t n_leg = overlay ? (n_runs < LEGEND_MAX_RUNS ? n_runs : LEGEND_MAX_RUNS) : 0;
    struct chart c = {.f = f, .w = overlay ? 760 : 560, .h = 340, .left = 64, .right = overlay ? 220 : 20,
                      .top = 40, .bottom = 50, .standalone = standalone};
    if (overlay) c.h = fmax(340, 90 + 18.0 * (n_leg + 3));
    /* y: a little room around the figures, on round ticks; accuracy stays
     * inside [0, 1]. */
    if (!(hi > lo)) {
        double d = lo > 0 ? lo * 0.05 : 0.05;
        lo -= d, hi += d;
    }
    double pad = (hi - lo) * 0.05;
    lo -= pad, hi += pad;
    if (acc) lo = fmax(lo, 0), hi = fmin(hi, 1);
    if (!acc && lo < 0) lo = 0;
    double ys = chart_nice_step(hi - lo, 6);
    c.y0 = floor(lo / ys + 1e-9) * ys, c.y1 = ceil(hi / ys - 1e-9) * ys;
    if (!(c.y1 > c.y0)) c.y1 = c.y0 + ys;
    /* x: the epochs, half a unit of room either side when there is only one */
    c.x0 = e1 > e0 ? e0 : e0 - 0.5, c.x1 = e1 > e0 ? e1 : e1 + 0.5;
    double xs = ceil(chart_nice_step(c.x1 - c.x0, 8));
    if (xs < 1) xs = 1;

    chart_open(f, "chart", c.w, c.h, title, standalone);
    chart_title(&c, title);
    chart_yticks(&c, ys);
    for (double x = ceil(c.x0 / xs) * xs; x <= c.x1 + 1e-9; x += xs) {
        if (x < c.x0 || (x == 0 && e0 >= 1)) continue; /* epochs count from 1 */
        chart_xtick(&c, x);
        fprintf(f, "%.0f</text>\n", x);
    }
    chart_axes(&c, "epoch", acc ? "accuracy" : "loss");

    const char *ename = runs[0].eval_name ? runs[0].eval_name : "test";
    double pr = c.w - c.right, pt = c.top, pb = c.h - c.bottom;
    if (!overlay) {
        bool markers = points <= 120; /* while they stay apart */
        if (has[0]) draw_series(&c, &runs[0], 0, acc, false, COL_TRAIN, 2, markers);
        if (has[1]) draw_series(&c, &runs[0], 0, acc, true, COL_EVAL, 2, markers);
        /* legend, top right inside the plot: loss falls, so that corner
         * stays clear; accuracy rises, so its legend goes bottom right */
        int n = has[0] + has[1];
        double lw = 130, lh = 8 + 18.0 * n, lx = pr - lw - 8, ly = acc ? pb - lh - 8 : pt + 8;
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.0f\" height=\"%.0f\" fill=\"#fff\" fill-opacity=\"0.9\" "
                   "stroke=\"#ccc\"/>\n",
                lx, ly, lw, lh);
        int row = 0;
        for (int k = 0; k < 2; k++) {
            if (!has[k]) continue;
            double yy = ly + 14 + 18.0 * row++;
            legend_line(f, lx + 8, yy, k ? COL_EVAL : COL_TRAIN, 2, k);
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", lx + 42, yy);
            report_esc(f, k ? ename : "train");
            fputs("</text>\n", f);
        }
        fputs("</svg>\n", f);
        return true;
    }

    /* Overlay: the best run drawn last (on top) and wider. */
    for (uint32_t pass = 0; pass < 2; pass++)
        for (uint32_t i = 0; i < n_runs; i++) {
            bool best = (int64_t)i == r->best_run;
            if (best != (pass == 1)) continue;
            for (int ev = 0; ev < 2; ev++)
                if (has[ev]) draw_series(&c, &runs[i], i, acc, ev, chart_run_colour(i), best ? 3.2 : 1.6, false);
        }
    /* legend: the line styles, then one line per run */
    double lx = pr + 16, y = pt + 10;
    if (has[0]) {
        legend_line(f, lx, y, "#555", 1.6, false);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">train</text>\n", lx + 34, y);
        y += 18;
    }
    if (has[1]) {
        legend_line(f, lx, y, "#555", 1.6, true);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", lx + 34, y);
        report_esc(f, ename);
        fputs("</text>\n", f);
        y += 18;
    }
    y += 8;
    for (uint32_t i = 0; i < n_leg; i++, y += 18) {
        bool best = (int64_t)i == r->best_run;
        legend_line(f, lx, y, chart_run_colour(i), best ? 3.2 : 2, false);
        fprintf(f, "<text class=\"run%s\" x=\"%.1f\" y=\"%.1f\"%s>", best ? " best" : "", lx + 34, y,
                best ? " style=\"font-weight:700\"" : "");
        report_esc_cut(f, runs[i].label ? runs[i].label : "", 24);
        if (best) fputs(" \xe2\x98\x85 best", f); /* U+2605 black star */
        fputs("</text>\n", f);
    }
    if (n_runs > n_leg) fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">and %u more</text>\n", lx, y, n_runs - n_leg);
    fputs("</svg>\n", f);
    return true;
}

/* ------------------------------------------------------------ profile */

/* A phase's colour in the bands and bars: by its name, so that the bars and
 * the memory plot agree; training's epochs alternate two shades. */
static const char *phase_colour(const char *name, uint32_t epoch)
{
    if (!name) return "#eeeeee";
    if (!strcmp(name, "training") || !strcmp(name, "forward") || !strcmp(name, "backward") ||
        !strcmp(name, "optimizer step"))
        return epoch % 2 ? "#c6dbef" : "#9ecae1";
    if (!strcmp(name, "evaluation") || !strcmp(name, "final evaluation")) return "#fdd0a2";
    if (!strcmp(name, "checkpoints")) return "#c7e9c0";
    if (!strncmp(name, "data loading", 12) || !strcmp(name, "loading")) return "#dadaeb";
    if (!strcmp(name, "saving the model")) return "#fcbba1";
    if (!strcmp(name, "writing the report")) return "#d9d9d9";
    return "#f0f0f0";
}

bool chart_phases(FILE *f, const struct report_profile *p, bool standalone)
{
    if (!p || !p->n_phases || !(p->total_s > 0)) return false;
    const double row = 24, left = 190, right = 150, top = 44;
    struct chart c = {.f = f, .w = 620, .h = top + row * p->n_phases + 44, .left = left, .right = right, .top = top,
                      .bottom = 44, .standalone = standalone};
    double hi = 0;
    for (uint32_t i = 0; i < p->n_phases; i++) hi = fmax(hi, p->phases[i].seconds);
    if (!(hi > 0)) hi = p->total_s;
    double xs = chart_nice_step(hi, 5);
    c.x0 = 0, c.x1 = ceil(hi / xs - 1e-9) * xs, c.y0 = 0, c.y1 = 1;
    chart_open(f, "chart", c.w, c.h, "time per phase", standalone);
    chart_title(&c, "Time per phase");
    chart_xticks(&c, 0, xs);
    for (uint32_t i = 0; i < p->n_phases; i++) {
        const struct report_phase *ph = &p->phases[i];
        double y = top + row * i + 4, w = chart_x(&c, fmax(ph->seconds, 0)) - left;
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", left - 8, y + 12);
        report_esc_cut(f, ph->name, 28);
        fprintf(f, "</text>\n<rect class=\"phase\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
                   "stroke=\"#999\" stroke-width=\"0.5\"><title>",
                left, y, fmax(w, 0.5), row - 8, phase_colour(ph->name, 1));
        report_esc(f, ph->name);
        fprintf(f, ": %.3f s", ph->seconds);
        if (ph->calls) fprintf(f, ", %llu calls", (unsigned long long)ph->calls);
        fprintf(f, "</title></rect>\n<text x=\"%.1f\" y=\"%.1f\">%.3f s (%.1f%%)</text>\n", left + w + 6, y + 12,
                ph->seconds, 100 * ph->seconds / p->total_s);
    }
    fprintf(f, "<path d=\"M%.1f %.1fV%.1fH%.1f\" fill=\"none\" stroke=\"#333\" stroke-width=\"1.2\"/>\n", left,
            top, c.h - c.bottom, c.w - right);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">seconds (total %.3f)</text>\n",
            (left + c.w - right) / 2, c.h - 10, p->total_s);
    fputs("</svg>\n", f);
    return true;
}

#define MIB (1024.0 * 1024.0)

bool chart_memory(FILE *f, const struct report_profile *p, bool standalone)
{
    if (!p || p->n_samples < 2) return false;
    const struct memtrace_sample *s = p->samples;
    const size_t n = p->n_samples;
    double hi = p->peak_bytes / MIB;
    for (size_t i = 0; i < n; i++) hi = fmax(hi, (double)s[i].rss_bytes / MIB);
    double t1 = s[n - 1].t > s[0].t ? s[n - 1].t : s[0].t + 1;
    struct chart c = {.f = f, .w = 800, .h = 360, .left = 70, .right = 220, .top = 40, .bottom = 50,
                      .standalone = standalone};
    double ys = chart_nice_step(fmax(hi, 1), 6), xs;
    c.y0 = 0, c.y1 = ceil(hi * 1.05 / ys) * ys;
    if (!(c.y1 > 0)) c.y1 = ys;
    c.x0 = s[0].t < 0 ? s[0].t : 0;
    xs = chart_nice_step(t1 - c.x0, 8);
    c.x1 = ceil(t1 / xs - 1e-9) * xs;
    chart_open(f, "chart", c.w, c.h, "memory over time", standalone);
    chart_title(&c, "Resident memory over time");
    /* bands first, behind the grid: one per stretch of samples in the same
     * phase (and epoch), from midway between samples */
    double pt = c.top, pb = c.h - c.bottom;
    bool seen[64] = {false};
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && s[j + 1].phase == s[i].phase && s[j + 1].epoch == s[i].epoch) j++;
        double a = i ? (s[i - 1].t + s[i].t) / 2 : s[0].t, b = j + 1 < n ? (s[j].t + s[j + 1].t) / 2 : s[n - 1].t;
        int32_t ph = s[i].phase;
        const char *name = ph >= 0 && (uint32_t)ph < p->n_phase_names ? p->phase_names[ph] : NULL;
        if (name) {
            if (ph < 64) seen[ph] = true;
            fprintf(f, "<rect class=\"band\" x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" fill=\"%s\"><title>",
                    chart_x(&c, a), pt, fmax(chart_x(&c, b) - chart_x(&c, a), 0.3), pb - pt,
                    phase_colour(name, s[i].epoch));
            report_esc(f, name);
            if (s[i].epoch) fprintf(f, ", epoch %u", s[i].epoch);
            fprintf(f, ": %.3f to %.3f s</title></rect>\n", a, b);
        }
        i = j + 1;
    }
    chart_yticks(&c, ys);
    chart_xticks(&c, ceil(c.x0 / xs) * xs, xs);
    chart_axes(&c, "seconds", "resident memory (MiB)");
    if (p->peak_bytes > 0) {
        double py = chart_y(&c, p->peak_bytes / MIB);
        fprintf(f, "<line class=\"peak\" x1=\"%.1f\" y1=\"%.2f\" x2=\"%.1f\" y2=\"%.2f\" stroke=\"#d62728\" "
                   "stroke-dasharray=\"5 3\"/>\n<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" style=\"fill:#d62728\">"
                   "peak %.1f MiB</text>\n",
                c.left, py, c.w - c.right, py, c.w - c.right - 4, py - 5, p->peak_bytes / MIB);
    }
    fprintf(f, "<path class=\"mem\" fill=\"none\" stroke=\"#08306b\" stroke-width=\"1.8\" stroke-linejoin=\"round\" "
               "d=\"");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%c%.2f %.2f", i ? " " : "", i ? 'L' : 'M', chart_x(&c, s[i].t),
                chart_y(&c, (double)s[i].rss_bytes / MIB));
    fputs("\"/>\n", f);
    /* the phases' legend, right of the plot */
    double lx = c.w - c.right + 16, y = pt + 10;
    for (uint32_t k = 0; k < p->n_phase_names && k < 64; k++) {
        if (!seen[k]) continue;
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"12\" fill=\"%s\" stroke=\"#999\" "
                   "stroke-width=\"0.5\"/>\n<text x=\"%.1f\" y=\"%.1f\">",
                lx, y - 10, phase_colour(p->phase_names[k], 1), lx + 20, y);
        report_esc_cut(f, p->phase_names[k], 28);
        fputs("</text>\n", f);
        y += 18;
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" style=\"fill:#666\">every %.3g s, %zu samples</text>\n", lx, y + 8,
            p->interval_s, n);
    fputs("</svg>\n", f);
    return true;
}
