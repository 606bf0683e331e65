/* SPDX-License-Identifier: MIT */
/* The f64 instance of the ladder's naive and per-sample passes (naive.inc). */
#define SUF f64
#include "core/tmpl.h"
#include "pass/naive.inc"
