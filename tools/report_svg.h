/* SPDX-License-Identifier: MIT */
/* Inside the report: report_chart.c's text escaping, scales, frames and the
 * charts drawn from a run's figures, under report.c's page.  Each chart writes one
 * <svg> element; `standalone` makes it a file of its own (the XML
 * declaration and the styles the page's CSS would give it), for --plots. */
#ifndef FASTMLP_REPORT_SVG_H
#define FASTMLP_REPORT_SVG_H

#include "report.h"

#include <stdbool.h>
#include <stdio.h>

/* s HTML/XML-escaped, at most max_chars characters (a cut ends in an
 * ellipsis); control bytes and invalid UTF-8 as '?'. */
void report_esc_cut(FILE *f, const char *s, size_t max_chars);
void report_esc(FILE *f, const char *s);
/* Characters report_esc_cut(s, max_chars) shows, the ellipsis included. */
size_t report_shown_chars(const char *s, size_t max_chars);

/* A plot area: the SVG's size, the margins around the plot, the data range. */
struct chart {
    FILE *f;
    double w, h, left, right, top, bottom; /* pixels */
    double x0, x1, y0, y1;                 /* data range */
    bool standalone;
};
static inline double chart_x(const struct chart *c, double x)
{
    return c->left + (x - c->x0) / (c->x1 - c->x0) * (c->w - c->left - c->right);
}
static inline double chart_y(const struct chart *c, double y)
{
    return c->h - c->bottom - (y - c->y0) / (c->y1 - c->y0) * (c->h - c->top - c->bottom);
}

/* A step of 1, 2, 2.5 or 5 times a power of ten giving about `ticks` ticks. */
double chart_nice_step(double range, int ticks);
/* Decimals that show a multiple of step exactly (2.5e-2 -> 3). */
int chart_step_decimals(double step);
/* The range [lo, hi] widened by 5% and onto round ticks (*step). */
void chart_nice_range(double lo, double hi, double *r0, double *r1, double *step);
/* A tick label: fixed decimals from the step while that stays short, else
 * 3 significant digits. */
void chart_tick(FILE *f, double v, double step);
/* <svg ...> with a white background; standalone: the XML declaration,
 * the namespace and the styles first.  aria is user text: escaped. */
void chart_open(FILE *f, const char *cls, double w, double h, const char *aria, bool standalone);
/* The frame of an x-y plot in c: chart_open, title, grid, ticks, axes and
 * their labels (user text: escaped).  The svg is left open. */
void chart_frame(const struct chart *c, const char *aria, const char *title, const char *x_label,
                 const char *y_label, double xs, double ys);

/* The charts of report_chart.c; each returns false (and writes nothing)
 * when it has nothing to draw. */
/* Loss (acc false) or accuracy per epoch: of r->history (train solid blue,
 * evaluation dashed orange), or of r->runs overlaid (a colour per run). */
bool chart_curves(FILE *f, const struct report_data *r, bool acc, bool standalone);
/* The colour of run i in the overlays (#rrggbb). */
const char *chart_run_colour(uint32_t i);
/* The profile's phases as horizontal bars of seconds. */
bool chart_phases(FILE *f, const struct report_profile *p, bool standalone);
/* Resident memory over time, the phases as bands behind it, the peak. */
bool chart_memory(FILE *f, const struct report_profile *p, bool standalone);

#endif
