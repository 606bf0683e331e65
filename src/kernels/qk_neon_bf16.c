/* SPDX-License-Identifier: MIT */
/* The bf16 panel kernel of qkernels.h with Arm's BF16 extension (BFDOT:
 * FEAT_BF16, Neoverse V1/N2 and later, Cortex-A510/A710 and later).  This
 * file is built with -march=armv8.2-a+bf16 (CMakeLists.txt), and
 * mlp__qk_select gives its function only where getauxval reports BF16
 * (MLP_QK_HAS_ARM_BF16).
 *
 * BFDOT Vd.4S, Vn.8H, Vm.8H adds to f32 lane e the two products of
 * elements 2e and 2e + 1: qkernels.h's lanes, 8 products per instruction
 * where the shift-convert kernel (kernels/qk_neon.c) takes two FMLA for 4
 * and two instructions per 4 weights to widen them.  It cannot give the
 * portable bits: without FEAT_EBF16 (or with FPCR.EBF clear, as Linux
 * leaves it) the Arm ARM's BFDotAdd adds the two exact products with one
 * rounding, then that sum to the lane with another, both rounding to odd
 * and flushing subnormals to zero (QEMU's bfdotadd does the same).  So each
 * lane rounds twice per element pair, as the portable kernel does, but
 * each rounding errs by less than one ulp (2^-23 relative) instead of
 * half of one; with the same tree the result is within
 * (2 K/16 + 4) 2^-24 sum |w x| of the exact dot product (first order),
 * against the portable kernel's (K/16 + 6) 2^-24 sum |w x|
 * (tests/unit/test_quant.c checks the sum of the two).  Same inputs, same
 * bits, on every CPU that runs it.
 *
 * BFMMLA (2 x 4 by 4 x 2 bf16, 16 products) does not suit the panel:
 * its operands pair two samples' and two rows' 4 elements in one register,
 * where the panel keeps a row's 32 together: the 64-bit zips that pair
 * them cost 6 instructions per 16-byte part of 2 samples x 4 rows, against
 * the 4 of 8 BFDOT it saves.
 *
 * The passes over the panel are qk_neon.c's f32 ones: 4 float32x4 lane
 * groups per (sample, row), Q of them per pass so that the accumulators
 * stay 16 at most; a lane still adds its element pairs in chunk order. */
#include "kernels/qk_neon.h"

#ifdef MLP_QK_NEON

#include <arm_neon.h>

/* AI, LOAD_FENCE (GCC 12 would hoist a chunk's loads of every row above
 * the BFDOTs and spill accumulators), qkernels.h's lane tree for four rows
 * (tree4), LANE_GROUPS and the per-panel dispatch (QK_PANELS):
 * kernels/qk_neon.h. */

AI bfloat16x8_t ld_bf16(const uint16_t *p) { return vreinterpretq_bf16_u8(vld1q_u8((const uint8_t *)p)); }

AI void bf16_panel(const uint16_t *wp, uint32_t nch, const uint16_t *x, size_t ldx, const uint32_t NS, float *y,
                   size_t ldy)
{
    const uint32_t Q = LANE_GROUPS(NS);
    float lanes[MLP_QK_MAX_NS][4][16];
    for (uint32_t k0 = 0; k0 < 4; k0 += Q) {
        float32x4_t acc[MLP_QK_MAX_NS][4][4];
        acc_zero(acc, NS, Q);
        const uint16_t *wc = wp + 8 * k0, *xc = x + 8 * k0;
        for (uint32_t c = 0; c < nch; c++, wc += 128, xc += 32) {
            bfloat16x8_t xv[MLP_QK_MAX_NS][4];
            for (uint32_t s = 0; s < NS; s++)
                for (uint32_t k = 0; k < Q; k++) xv[s][k] = ld_bf16(xc + s * ldx + 8 * k);
            for (int i = 0; i < 4; i++) {
                bfloat16x8_t w[4];
                if (Q == 4) { /* a row's chunk in one LD1 of 4 vectors */
                    const uint8x16x4_t v = vld1q_u8_x4((const uint8_t *)(wc + 32 * i));
                    for (uint32_t k = 0; k < 4; k++) w[k] = vreinterpretq_bf16_u8(v.val[k]);
                } else
                    for (uint32_t k = 0; k < Q; k++) w[k] = ld_bf16(wc + 32 * i + 8 * k);
                for (uint32_t k = 0; k < Q; k++)
                    for (uint32_t s = 0; s < NS; s++) acc[s][i][k] = vbfdotq_f32(acc[s][i][k], xv[s][k], w[k]);
                LOAD_FENCE();
            }
        }
        acc_store(lanes, acc, NS, Q, k0);
    }
    lanes_out(lanes, NS, y, ldy);
}

void mlp__qk_bf16_neon_bf16(const uint16_t *w, size_t panel_stride, uint32_t nch, uint32_t p0, uint32_t p1,
                            const uint16_t *x, size_t ldx, uint32_t ns, float *y, size_t ldy)
{
    QK_PANELS(bf16_panel, w, panel_stride, nch, p0, p1, x, ldx, ns, y, ldy);
}

#endif /* MLP_QK_NEON */
