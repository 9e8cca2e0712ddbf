/* All kernels, for one instruction-set variant: this file is compiled once per variant (setup.py: the
 * x86-64 baseline, AVX2 + FMA, AVX-512; one native build elsewhere) with UPCONV_VARIANT naming it, and
 * exports only that variant's table.  module.c picks the table the CPU runs when it is imported. */
#include <math.h>

#include "common.h"
#include "simd.h"

#include "convolution.c"
#include "gemm.c"
#include "interpolation.c"
#include "pooling.c"
#include "png.c"
#include "rearrange.c"

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

__attribute__((visibility("hidden"))) const kernel_table CAT(upconv_table_, UPCONV_VARIANT) = {
    [K_overlap_add] = {overlap_add_f32, overlap_add_f64},
    [K_overlap_add_simd] = {overlap_add_simd, NULL},
    [K_stamp_direct] = {stamp_direct_f32, stamp_direct_f64},
    [K_im2col] = {im2col_f32, im2col_f64},
    [K_correlate_direct] = {correlate_direct_f32, correlate_direct_f64},
    [K_weight_grad_direct] = {weight_grad_direct_f32, weight_grad_direct_f64},
    [K_pad_copy] = {pad_copy_f32, pad_copy_f64},
    [K_correlate_simd] = {correlate_simd, NULL},
    [K_conv_transpose_simd] = {conv_transpose_simd, NULL},
    [K_pack_weights] = {pack_weights, NULL},
    [K_weight_grad_simd] = {weight_grad_simd, NULL},
    [K_interleave_phases] = {interleave_phases_f32, interleave_phases_f64},
    [K_along_rows] = {along_rows_f32, along_rows_f64},
    [K_along_axis] = {along_axis_f32, along_axis_f64},
    [K_fused_last_two] = {fused_last_two_f32, fused_last_two_f64},
    [K_max_pool_planes] = {max_pool_planes_f32, max_pool_planes_f64},
    [K_max_unpool_planes] = {max_unpool_planes_f32, max_unpool_planes_f64},
    [K_permuted_copy] = {permuted_copy, NULL},
    [K_unfilter] = {unfilter, NULL},
    [K_simd_lanes] = {simd_lanes, NULL},
    [K_gemm] = {gemm_f32, gemm_f64},
};
