/* Eight-lane float32 vectors for the vector kernels (GCC/Clang vector extensions).
 *
 * A compiler vectorises loops, but it does not keep a block of accumulators in registers across a
 * reduction, which a fast direct convolution needs; ``v8f`` is an explicit vector type instead: one AVX
 * register, two SSE or NEON registers, whatever the build's instruction set has.  A kernel holds a few
 * in local variables (registers) and accumulates with ``vfma``.
 *
 * Loads and stores take a float pointer; they do no bounds checks (the caller guarantees that 8
 * elements exist there) and need no alignment, except ``vstream`` (32 bytes).
 */
#ifndef UPCONV_SIMD_H
#define UPCONV_SIMD_H

#include "common.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif
#if defined(__aarch64__)
#include <arm_neon.h>
#endif

#define LANES 8

typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
typedef float v8f_u __attribute__((vector_size(32), aligned(4), may_alias)); /* unaligned access */

#if defined(__clang__)
#define SHUFFLE8(a, b, i0, i1, i2, i3, i4, i5, i6, i7) __builtin_shufflevector(a, b, i0, i1, i2, i3, i4, i5, i6, i7)
#else
#define SHUFFLE8(a, b, i0, i1, i2, i3, i4, i5, i6, i7) __builtin_shuffle(a, b, (v8i){i0, i1, i2, i3, i4, i5, i6, i7})
#endif

/* p[0:8] as a vector (unaligned load) */
ALWAYS_INLINE v8f vload(const float *p) { return *(const v8f_u *)p; }

/* p[0:8] = v (unaligned store) */
ALWAYS_INLINE void vstore(float *p, v8f v) { *(v8f_u *)p = v; }

ALWAYS_INLINE v8f vzero(void) { return (v8f){0, 0, 0, 0, 0, 0, 0, 0}; }

/* x in every lane */
ALWAYS_INLINE v8f vsplat(float x) { return (v8f){x, x, x, x, x, x, x, x}; }

ALWAYS_INLINE v8f vadd(v8f a, v8f b) { return a + b; }

/* a * b + c lane by lane: one rounding where the instruction set has FMA, else two (as the builds
 * compile with -ffp-contract=off, nothing else is fused) */
ALWAYS_INLINE v8f vfma(v8f a, v8f b, v8f c) {
#if defined(__FMA__)
    return (v8f)_mm256_fmadd_ps((__m256)a, (__m256)b, (__m256)c);
#elif defined(__aarch64__)
    union { v8f v; float32x4_t h[2]; } x = {a}, y = {b}, z = {c}, r;
    r.h[0] = vfmaq_f32(z.h[0], x.h[0], y.h[0]);
    r.h[1] = vfmaq_f32(z.h[1], x.h[1], y.h[1]);
    return r.v;
#else
    return a * b + c;
#endif
}

/* a with the lanes outside [lo, hi) set to zero */
ALWAYS_INLINE v8f vrange(v8f a, i64 lo, i64 hi) {
    const v8i lanes = {0, 1, 2, 3, 4, 5, 6, 7};
    const int32_t l = (int32_t)imax(imin(lo, LANES), -1), h = (int32_t)imax(imin(hi, LANES), -1);
    const v8i vl = {l, l, l, l, l, l, l, l}, vh = {h, h, h, h, h, h, h, h};
    const v8i keep = (lanes >= vl) & (lanes < vh);
    return (v8f)((v8i)a & keep);
}

/* a with the lanes from count on set to zero */
ALWAYS_INLINE v8f vhead(v8f a, i64 count) { return vrange(a, 0, count); }

/* [a0, b0, a1, b1, a2, b2, a3, b3]: the low halves of a and b, interleaved */
ALWAYS_INLINE v8f vzip_lo(v8f a, v8f b) { return SHUFFLE8(a, b, 0, 8, 1, 9, 2, 10, 3, 11); }

/* [a4, b4, a5, b5, a6, b6, a7, b7]: the high halves, interleaved */
ALWAYS_INLINE v8f vzip_hi(v8f a, v8f b) { return SHUFFLE8(a, b, 4, 12, 5, 13, 6, 14, 7, 15); }

/* The sum of the lanes, added pairwise: halves, then quarters, then the last two. */
ALWAYS_INLINE float vsum(v8f a) { return ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7])); }

/* p[0:8] = v past the caches (a non-temporal store); p a multiple of 32 bytes.  Streamed stores are
 * weakly ordered: a kernel that makes them ends with vfence(). */
ALWAYS_INLINE void vstream(float *p, v8f v) {
#if defined(__AVX__)
    _mm256_stream_ps(p, (__m256)v);
#elif defined(__SSE2__)
    union { v8f v; __m128 h[2]; } u = {v};
    _mm_stream_ps(p, u.h[0]);
    _mm_stream_ps(p + 4, u.h[1]);
#else
    vstore(p, v);
#endif
}

/* A full memory fence: every store before it, streamed ones too, is visible before any after it. */
ALWAYS_INLINE void vfence(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

/* Ask the cache for the line of p, about to be written (a hint: never faults). */
ALWAYS_INLINE void vprefetch_write(const float *p) { __builtin_prefetch(p, 1, 3); }

#endif
