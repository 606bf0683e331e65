/* SPDX-License-Identifier: MIT */
/* Private to src/pass: the element-type instances of the passes (pass.inc in
 * pass_f32.c / pass_f64.c, naive.inc in naive_f32.c / naive_f64.c) that the
 * type-independent dispatchers (pass.c, naive.c) call, and the limits both
 * sides share. */
#ifndef MLP_PASS_H
#define MLP_PASS_H

#include "internal.h"

/* The fast stage splits a pass over at most this many tasks (threads), of at
 * least this many rows and this many multiply-adds (the forward pass's) each
 * (pass.inc says why). */
#define MLP_FAST_MAX_TASKS MLP_PASS_MAX_PARTS
#define MLP_FAST_MIN_ROWS 16
#define MLP_FAST_MIN_WORK ((uint64_t)1 << 20)
/* First layers at most this wide over uint8 inputs take the fused kernel. */
#define MLP_NARROW_MAX 16

/* The model-parallel step (step.inc) takes batches of at most this many
 * rows, whose activations stay in cache: larger ones are split by rows
 * (pass.inc), which reads each weight once per block of rows anyway. */
#define MLP_STEP_MAX_ROWS 512

/* Whether the model-parallel step pays for a batch of B rows on nt threads
 * with elements of esz bytes (pass.c). */
bool mlp__step_pays(const struct mlp_model *m, uint32_t B, uint32_t nt, size_t esz);

/* The batched stage (every row on the calling thread, threads only inside
 * the BLAS; the reference backend's serial pass) and the fast stage (rows
 * split over the model's pool), pass.inc.  The rows were checked and
 * p->block_rows set by mlp__run_pass. */
enum mlp_status mlp__run_pass_f32(struct mlp_pass *p, struct mlp_error *err);
enum mlp_status mlp__run_pass_f64(struct mlp_pass *p, struct mlp_error *err);
enum mlp_status mlp__run_pass_fast_f32(struct mlp_pass *p, struct mlp_error *err);
enum mlp_status mlp__run_pass_fast_f64(struct mlp_pass *p, struct mlp_error *err);

/* The model-parallel step when its conditions hold (see mlp__run_step);
 * *done says whether it ran (step.inc). */
enum mlp_status mlp__run_step_f32(struct mlp_pass *p, void (*update)(void *, size_t, size_t), void *update_ctx,
                                  bool *done, struct mlp_error *err);
enum mlp_status mlp__run_step_f64(struct mlp_pass *p, void (*update)(void *, size_t, size_t), void *update_ctx,
                                  bool *done, struct mlp_error *err);

/* The ladder's one-row-at-a-time pass: scalar loops (vec false) or BLAS
 * level 1/2 (vec true), naive.inc. */
/* The same three built per instruction set (pass_<isa>_<type>.c, x86-64
 * only): pass.c takes the one its context's kernel table runs at. */
enum mlp_status mlp__run_pass_avx2_f32(struct mlp_pass *p, struct mlp_error *err);
enum mlp_status mlp__run_pass_fast_avx2_f32(struct mlp_pass *p, struct mlp_error *err);
enum mlp_status mlp__run_step_avx2_f32(struct mlp_pass *p, void (*update)(void *, size_t, size_t), void *update_ctx,
                                       bool *done, struct mlp_error *err);
enum mlp_status mlp__run_pass_avx2_f64(struct mlp_pass *p, struct mlp_error *err);
enum mlp_status mlp__run_pass_fast_avx2_f64(struct mlp_pass *p, struct mlp_error *err);
enum mlp_status mlp__run_step_avx2_f64(struct mlp_pass *p, void (*update)(void *, size_t, size_t), void *update_ctx,
                                       bool *done, struct mlp_error *err);
enum mlp_status mlp__run_pass_avx512_f32(struct mlp_pass *p, struct mlp_error *err);
enum mlp_status mlp__run_pass_fast_avx512_f32(struct mlp_pass *p, struct mlp_error *err);
enum mlp_status mlp__run_step_avx512_f32(struct mlp_pass *p, void (*update)(void *, size_t, size_t), void *update_ctx,
                                       bool *done, struct mlp_error *err);
enum mlp_status mlp__run_pass_avx512_f64(struct mlp_pass *p, struct mlp_error *err);
enum mlp_status mlp__run_pass_fast_avx512_f64(struct mlp_pass *p, struct mlp_error *err);
enum mlp_status mlp__run_step_avx512_f64(struct mlp_pass *p, void (*update)(void *, size_t, size_t), void *update_ctx,
                                       bool *done, struct mlp_error *err);

/* aarch64: the NEON variant's build (pass_neon_<type>.c) */
enum mlp_status mlp__run_pass_neon_f32(struct mlp_pass *p, struct mlp_error *err);
enum mlp_status mlp__run_pass_fast_neon_f32(struct mlp_pass *p, struct mlp_error *err);
enum mlp_status mlp__run_step_neon_f32(struct mlp_pass *p, void (*update)(void *, size_t, size_t), void *update_ctx,
                                       bool *done, struct mlp_error *err);
enum mlp_status mlp__run_pass_neon_f64(struct mlp_pass *p, struct mlp_error *err);
enum mlp_status mlp__run_pass_fast_neon_f64(struct mlp_pass *p, struct mlp_error *err);
enum mlp_status mlp__run_step_neon_f64(struct mlp_pass *p, void (*update)(void *, size_t, size_t), void *update_ctx,
                                       bool *done, struct mlp_error *err);

enum mlp_status mlp__pass_rows_f32(struct mlp_pass *p, bool vec, struct mlp_error *err);
enum mlp_status mlp__pass_rows_f64(struct mlp_pass *p, bool vec, struct mlp_error *err);

#endif
