/* Shared by the kernels and the Python binding: argument records, the kernel list, integer helpers.
 *
 * Every kernel has the signature ``int kernel(const kargs_t *)``: the binding (module.c) checks and
 * unpacks the Python arguments into a kargs_t (arrays, ints and 3-tuples, each in the order they come)
 * and calls the kernel without the GIL.  A kernel returns 0, or -1 when it could not allocate scratch.
 */
#ifndef UPCONV_COMMON_H
#define UPCONV_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef int64_t i64;

#define MAXDIM 9   /* the most axes of an array argument */
#define MAXARR 12  /* array arguments of one kernel */
#define MAXINT 12  /* int (and bool) arguments, start and stop included */
#define MAXTUP 6   /* 3-tuple arguments */

/* A C-contiguous array argument. */
typedef struct {
    char *p;
    i64 size;        /* elements */
    int ndim;
    int itemsize;
    i64 shape[MAXDIM];
} arr_t;

/* The arguments of one call; i[0], i[1] are start and stop of ranged kernels. */
typedef struct {
    arr_t a[MAXARR];
    i64 i[MAXINT];
    i64 t[MAXTUP][3];
} kargs_t;

typedef int (*kernel_fn)(const kargs_t *);

/* The kernels: name and argument spec.  After (start, stop) (left out where the spec starts with '!'),
 * one token per argument: 'i' int, 'b' bool, 't' tuple of 3 ints, or an array: 'r' (read) / 'w' (written),
 * then its dtype ('F' the kernel's float type, float32 or float64, shared by all 'F' arrays; 'f' float32;
 * 'q' int64; 'u' uint8; 'X' any items of 1, 2, 4 or 8 bytes, the same for all 'X' arrays), then its number
 * of axes.  Kernels with an 'F' array have a float32 and a float64 version. */
#define UPCONV_KERNELS(X)                                                                         \
    X(overlap_add, "rF4 wF5 t t t t t")                                                           \
    X(overlap_add_simd, "rf4 wf5 t t t t t")                                                      \
    X(stamp_direct, "rF5 rF3 wF5 i t t t t")                                                      \
    X(im2col, "rF5 wF6 t t t t")                                                                  \
    X(correlate_direct, "rF5 rF3 wF5 i t t t t")                                                  \
    X(weight_grad_direct, "rF5 rF5 wF3 i t t t t")                                                \
    X(pad_copy, "rF5 wF5 t i")                                                                    \
    X(correlate_simd, "rf5 rf3 wf5 i t rq1 b")                                                    \
    X(conv_transpose_simd, "rf5 b wf5 t rf3 wf5 i t rq1 rq1 rq2 i b b")                           \
    X(pack_weights, "rf3 rq2 wf3")                                                                \
    X(weight_grad_simd, "rf5 rf5 wf6 i t t rq1 i")                                                \
    X(interleave_phases, "rF9 wF5 t")                                                             \
    X(along_rows, "rF2 rq2 rF2 wF2 i")                                                            \
    X(along_axis, "rF3 rq2 rF2 wF3 i")                                                            \
    X(fused_last_two, "rF3 rq2 rF2 rq2 rF2 wF3 i i")                                              \
    X(max_pool_planes, "rF1 i rq1 rq1 rq1 i i rq1 rq1 wF1 wq1 b")                                 \
    X(max_unpool_planes, "rF2 rq2 wF2 wq1")                                                       \
    X(permuted_copy, "rX1 wX1 rq1 rq1 i i i i")                                                   \
    X(unfilter, "! ru1 wu2 i")                                                                    \
    X(simd_lanes, "rf1 wf2 i i")                                                                  \
    X(gemm, "rF3 rF3 wF3 b i i")

enum {
#define UPCONV_ENUM(name, spec) K_##name,
    UPCONV_KERNELS(UPCONV_ENUM)
#undef UPCONV_ENUM
    K_COUNT
};

/* One instruction-set variant: [kernel][0 float32 / 1 float64] (kernels without 'F' arrays: [kernel][0]). */
typedef kernel_fn kernel_table[K_COUNT][2];

#define ALWAYS_INLINE static inline __attribute__((always_inline))
#define RESTRICT __restrict__
/* The next loop's iterations are independent (its pointers do not alias): vectorise it without a
 * run-time overlap test, which costs more than the loop on short rows. */
#if defined(__clang__)
#define IVDEP _Pragma("clang loop vectorize(assume_safety)")
#elif defined(__GNUC__)
#define IVDEP _Pragma("GCC ivdep")
#else
#define IVDEP
#endif

ALWAYS_INLINE i64 imin(i64 a, i64 b) { return a < b ? a : b; }
ALWAYS_INLINE i64 imax(i64 a, i64 b) { return a > b ? a : b; }
/* Python's a // b and a % b (rounded toward minus infinity), for b > 0 */
ALWAYS_INLINE i64 floordiv(i64 a, i64 b) { i64 q = a / b; return (a % b != 0 && a < 0) ? q - 1 : q; }
ALWAYS_INLINE i64 floormod(i64 a, i64 b) { i64 r = a % b; return r < 0 ? r + b : r; }

#endif
