/* Convolution kernels: kernel stamping (overlap-add), im2col, direct convolution and its weight gradient,
 * the padded copy, the sub-pixel interleave (float32 and float64: convolution_t.h), and the float32
 * vector kernels (convolution_simd.c).  Included by kernels.c.
 *
 * Each kernel is serial and works on the items [start, stop) (output planes or rows);
 * upconv.kernels.parallel.parallel_for runs slices of them on several threads.  Geometry comes as 3-tuples
 * (kernel size k, stride s, dilation d, begin padding pb, input size m): up to 3 spatial axes, leading
 * ones of size 1.
 */
#include "simd.h"

/* hits[o * k + t]: the input index j whose tap t lands on output o = j*s + t*d - pb, else -1
 * (the index map of upconv.shapes.tap_reach). */
static i64 *hits_table(i64 L, i64 k, i64 d, i64 pb, i64 s, i64 m) {
    i64 *hits = malloc(sizeof(i64) * (size_t)imax(1, L * k));
    if (!hits) return NULL;
    for (i64 i = 0; i < L * k; i++) hits[i] = -1;
    for (i64 t = 0; t < k; t++)
        for (i64 j = 0; j < m; j++) {
            const i64 o = j * s + t * d - pb;
            if (0 <= o && o < L) hits[o * k + t] = j;
        }
    return hits;
}

/* Where each tap of the last axis lands, as runs over the output's residue classes mod s.
 * Output o = r + s*u (class r) gets tap t of input j = u + shift.  Row t: offset r * ceil(L/s) of
 * class r in the accumulator, shift, and the range [lo, hi) of u with 0 <= j < m. */
static i64 *last_axis_taps(i64 L, i64 k, i64 d, i64 pb, i64 s, i64 m) {
    i64 *taps = malloc(sizeof(i64) * (size_t)imax(1, 4 * k));
    if (!taps) return NULL;
    const i64 per_class = (L + s - 1) / s;
    for (i64 t = 0; t < k; t++) {
        const i64 e = t * d - pb, r = floormod(e, s), shift = floordiv(r - e, s);
        taps[4 * t] = r * per_class;
        taps[4 * t + 1] = shift;
        taps[4 * t + 2] = imax(0, -shift);
        taps[4 * t + 3] = imin(floordiv(L - r + s - 1, s), m - shift);
    }
    return taps;
}

/* The tables with which kernel stamping gathers each output row (and its row accumulator). */
typedef struct {
    i64 *hits0, *hits1, *taps;  /* (L0, k0), (L1, k1), (k2, 4) */
    i64 *hit_taps, *rows;       /* (k0 k1,): the stamp rows that reach one output row */
    void *acc;                  /* (s2 ceil(L2 / s2),) in the kernel's dtype */
    i64 acc_len, k0, k1;
} gather_t;

static void gather_free(gather_t *g) {
    free(g->hits0);
    free(g->hits1);
    free(g->taps);
    free(g->hit_taps);
    free(g->rows);
    free(g->acc);
}

static int gather_tables(gather_t *g, const i64 *L, const i64 *k, const i64 *s, const i64 *d, const i64 *pb,
                         const i64 *m, size_t itemsize) {
    g->k0 = k[0];
    g->k1 = k[1];
    g->acc_len = s[2] * ((L[2] + s[2] - 1) / s[2]);
    g->hits0 = hits_table(L[0], k[0], d[0], pb[0], s[0], m[0]);
    g->hits1 = hits_table(L[1], k[1], d[1], pb[1], s[1], m[1]);
    g->taps = last_axis_taps(L[2], k[2], d[2], pb[2], s[2], m[2]);
    g->hit_taps = malloc(sizeof(i64) * (size_t)imax(1, k[0] * k[1]));
    g->rows = malloc(sizeof(i64) * (size_t)imax(1, k[0] * k[1]));
    g->acc = malloc(itemsize * (size_t)imax(1, g->acc_len));
    if (!g->hits0 || !g->hits1 || !g->taps || !g->hit_taps || !g->rows || !g->acc) {
        gather_free(g);
        return -1;
    }
    return 0;
}

/* The nr stamp rows that reach output row (o0, o1), returns nr.  hit_taps[:nr]: their taps t0 k1 + t1;
 * rows[:nr]: where they start, first + taps * tap_step + (j0 m1 + j1) m2 for input (j0, j1). */
ALWAYS_INLINE i64 row_hits(const gather_t *g, i64 o0, i64 o1, i64 m1, i64 m2, i64 first, i64 tap_step) {
    const i64 k0 = g->k0, k1 = g->k1;
    i64 nr = 0;
    for (i64 t0 = 0; t0 < k0; t0++) {
        const i64 j0 = g->hits0[o0 * k0 + t0];
        if (j0 < 0) continue;
        for (i64 t1 = 0; t1 < k1; t1++) {
            const i64 j1 = g->hits1[o1 * k1 + t1];
            if (j1 < 0) continue;
            g->hit_taps[nr] = t0 * k1 + t1;
            g->rows[nr] = first + g->hit_taps[nr] * tap_step + (j0 * m1 + j1) * m2;
            nr++;
        }
    }
    return nr;
}

/* [lo, hi): the outputs o < L whose input o*s + e lies in [0, m). */
ALWAYS_INLINE void out_run(i64 L, i64 m, i64 e, i64 s, i64 *lo, i64 *hi) {
    *lo = imin(L, imax(0, floordiv(s - 1 - e, s)));
    *hi = m - 1 - e >= 0 ? imax(*lo, imin(L, floordiv(m - 1 - e, s) + 1)) : *lo;
}

/* MADD(a, b, c): a*b + c in the re-associated reductions, fused where the instruction set has FMA */
#if defined(__FMA__) || defined(__aarch64__)
#define T float
#define FN(name) name##_f32
#define MADD(a, b, c) __builtin_fmaf(a, b, c)
#include "convolution_t.h"
#undef T
#undef FN
#undef MADD
#define T double
#define FN(name) name##_f64
#define MADD(a, b, c) __builtin_fma(a, b, c)
#include "convolution_t.h"
#else
#define MADD(a, b, c) ((a) * (b) + (c))
#define T float
#define FN(name) name##_f32
#include "convolution_t.h"
#undef T
#undef FN
#define T double
#define FN(name) name##_f64
#include "convolution_t.h"
#endif
#undef T
#undef FN
#undef MADD

#include "convolution_simd.c"
