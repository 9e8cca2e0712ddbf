/* Kernels of the interpolation engine (upconv.ops.resampling.apply); float32 and float64 versions
 * (interpolation_t.h).  Included by kernels.c.
 *
 * Every kernel computes out[o] = sum_t w[t, o] * x[idx[t, o]] along one axis, summing taps in order
 * (t = 0 first) in the dtype of out (the dtype of x and w), in one of three orders (upconv.ops.resampling's
 * SEQUENTIAL, TORCH_FMA, PAIRWISE); nothing is re-associated or fused beyond that, so results are
 * reproducible and the fused kernel equals the two single-axis passes bit for bit.  Each works on the
 * items [start, stop) (rows, lines or blocks of rows). */

#define T float
#define FN(name) name##_f32
#define TFMA(a, b, c) __builtin_fmaf(a, b, c)
#include "interpolation_t.h"
#undef T
#undef FN
#undef TFMA
#define T double
#define FN(name) name##_f64
#define TFMA(a, b, c) __builtin_fma(a, b, c)
#include "interpolation_t.h"
#undef T
#undef FN
#undef TFMA
