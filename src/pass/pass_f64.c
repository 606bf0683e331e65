/* SPDX-License-Identifier: MIT */
/* The f64 instance of the batched and fast passes (pass.inc) and of the
 * model-parallel step (step.inc).  Built with the pass's flags
 * (CMakeLists.txt: FMA contraction, libmvec). */
#define SUF f64
#include "core/tmpl.h"
#include "pass/pass.inc"
#include "pass/step.inc"
