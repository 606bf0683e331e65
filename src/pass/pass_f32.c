/* SPDX-License-Identifier: MIT */
/* The f32 instance of the batched and fast passes (pass.inc) and of the
 * model-parallel step (step.inc).  Built with the pass's flags
 * (CMakeLists.txt: FMA contraction, libmvec). */
#define SUF f32
#include "core/tmpl.h"
#include "pass/pass.inc"
#include "pass/step.inc"
