/* The convolution kernels of one float type; included by convolution.c with T (float or double) and
 * FN(name) (the name of this type's version) defined. */

/* Interleave the residue classes (mod s) of acc into the output row out[0:L]. */
ALWAYS_INLINE void FN(store_classes)(const T *RESTRICT acc, T *RESTRICT out, i64 L, i64 s) {
    const i64 per_class = (L + s - 1) / s;
    if (s == 2) { /* the common case, one loop that vectorises with shuffles */
        for (i64 u = 0; u < L / 2; u++) {
            out[2 * u] = acc[u];
            out[2 * u + 1] = acc[per_class + u];
        }
        if (L % 2) out[L - 1] = acc[per_class - 1];
        return;
    }
    for (i64 r = 0; r < imin(s, L); r++)
        for (i64 u = 0; u < (L - r + s - 1) / s; u++) out[r + s * u] = acc[r * per_class + u];
}

/* out[i] = x[src + i*step] for lo <= i < hi and 0 for the other i < length. */
ALWAYS_INLINE void FN(copy_run)(T *RESTRICT out, i64 length, i64 lo, i64 hi, const T *RESTRICT x, i64 src,
                                i64 step) {
    for (i64 i = 0; i < lo; i++) out[i] = 0;
    if (step == 1) { /* contiguous: vectorised */
        const T *RESTRICT from = x + src;
        IVDEP
        for (i64 i = lo; i < hi; i++) out[i] = from[i];
    } else {
        for (i64 i = lo; i < hi; i++) out[i] = x[src + i * step];
    }
    for (i64 i = hi; i < length; i++) out[i] = 0;
}

/* Kernel stamping for up to 3 spatial axes; items are the output planes (c, n), n fastest.
 *
 * cols : (C, k0*k1*k2, N, m0*m1*m2) products of input pixels and kernel taps
 * out  : (N, C, L0, L1, L2), written completely (it need not be zeroed)
 * k, s, d, pb, m : kernel size, stride, dilation, begin padding, input size
 *
 * Input j stamped by tap t lands at j*s + t*d - pb.  Each output row is gathered once: the stamp rows
 * that reach it are summed, per residue class of the last axis, into a small contiguous accumulator
 * (vectorised adds), which is then interleaved into the row.  Consecutive items read adjacent stamp
 * rows (n is next to last in cols). */
static int FN(overlap_add)(const kargs_t *A) {
    const arr_t *ca = &A->a[0], *oa = &A->a[1];
    const i64 *k = A->t[0], *s = A->t[1], *d = A->t[2], *pb = A->t[3], *m = A->t[4];
    const T *fc = (const T *)ca->p;
    T *fo = (T *)oa->p;
    const i64 N = oa->shape[0], C = oa->shape[1], L0 = oa->shape[2], L1 = oa->shape[3], L2 = oa->shape[4];
    const i64 K = ca->shape[1], P = ca->shape[3], k2 = k[2], m1 = m[1], m2 = m[2];
    gather_t g;
    if (gather_tables(&g, oa->shape + 2, k, s, d, pb, m, sizeof(T))) return -1;
    T *RESTRICT acc = (T *)g.acc;
    for (i64 item = A->i[0]; item < A->i[1]; item++) {
        const i64 n = item % N, c = item / N;
        i64 at = (n * C + c) * L0 * L1 * L2;
        const i64 first = (c * K * N + n) * P;
        for (i64 o0 = 0; o0 < L0; o0++)
            for (i64 o1 = 0; o1 < L1; o1++) {
                memset(acc, 0, sizeof(T) * (size_t)g.acc_len);
                const i64 nr = row_hits(&g, o0, o1, m1, m2, first, k2 * N * P);
                for (i64 q = 0; q < nr; q++)
                    for (i64 t2 = 0; t2 < k2; t2++) {
                        const i64 *tp = g.taps + 4 * t2;
                        T *RESTRICT to = acc + tp[0];
                        const T *RESTRICT from = fc + g.rows[q] + t2 * N * P + tp[1];
                        IVDEP
                        for (i64 u = tp[2]; u < tp[3]; u++) to[u] += from[u];
                    }
                FN(store_classes)(acc, fo + at, L2, s[2]);
                at += L2;
            }
    }
    gather_free(&g);
    return 0;
}

/* Kernel stamping without a GEMM, for groups with few input channels.
 *
 * y   : (N, C_in, m0, m1, m2)
 * w   : (C_in, C_out/groups, k0*k1*k2)
 * out : (N, C_out, L0, L1, L2), written completely
 *
 * Every plane (n, c_out) gathers w[c_in, c_out, t] * y[n, c_in] stamped by every tap t for the input
 * channels c_in of its group, row by row as overlap_add does. */
static int FN(stamp_direct)(const kargs_t *A) {
    const arr_t *ya = &A->a[0], *wa = &A->a[1], *oa = &A->a[2];
    const i64 groups = A->i[2];
    const i64 *k = A->t[0], *s = A->t[1], *d = A->t[2], *pb = A->t[3];
    const T *fy = (const T *)ya->p, *fw = (const T *)wa->p;
    T *fo = (T *)oa->p;
    const i64 C = oa->shape[1], L0 = oa->shape[2], L1 = oa->shape[3], L2 = oa->shape[4];
    const i64 c_in = ya->shape[1], m[3] = {ya->shape[2], ya->shape[3], ya->shape[4]};
    const i64 ci_g = c_in / groups, co_g = C / groups, K = wa->shape[2], k2 = k[2], M = m[0] * m[1] * m[2];
    gather_t g;
    if (gather_tables(&g, oa->shape + 2, k, s, d, pb, m, sizeof(T))) return -1;
    T *RESTRICT acc = (T *)g.acc;
    for (i64 plane = A->i[0]; plane < A->i[1]; plane++) {
        const i64 c = plane % C, n = plane / C, gr = c / co_g, co = c - gr * co_g;
        i64 at = plane * L0 * L1 * L2;
        for (i64 o0 = 0; o0 < L0; o0++)
            for (i64 o1 = 0; o1 < L1; o1++) {
                memset(acc, 0, sizeof(T) * (size_t)g.acc_len);
                const i64 nr = row_hits(&g, o0, o1, m[1], m[2], n * c_in * M, 0);
                for (i64 q = 0; q < nr; q++) {
                    const i64 tap = g.hit_taps[q] * k2;
                    for (i64 ci = gr * ci_g; ci < (gr + 1) * ci_g; ci++) {
                        const i64 row = g.rows[q] + ci * M, wrow = (ci * co_g + co) * K + tap;
                        for (i64 t2 = 0; t2 < k2; t2++) {
                            const i64 *tp = g.taps + 4 * t2;
                            const T wv = fw[wrow + t2];
                            T *RESTRICT to = acc + tp[0];
                            const T *RESTRICT from = fy + row + tp[1];
                            IVDEP
                            for (i64 u = tp[2]; u < tp[3]; u++) to[u] += wv * from[u];
                        }
                    }
                }
                FN(store_classes)(acc, fo + at, L2, s[2]);
                at += L2;
            }
    }
    gather_free(&g);
    return 0;
}

/* The im2col matrix of up to 3 spatial axes; items are the rows (c, t, n).
 *
 * x   : (N, C, m0, m1, m2), unpadded
 * out : (C, k0*k1*k2, N, L0, L1, L2), written completely: out[c, t, n, o] = x[n, c, o*s + t*d - pb],
 *       0 outside x
 *
 * Reading the unpadded input saves the padded copy; the zero borders are written as runs. */
static int FN(im2col)(const kargs_t *A) {
    const arr_t *xa = &A->a[0], *oa = &A->a[1];
    const i64 *k = A->t[0], *s = A->t[1], *d = A->t[2], *pb = A->t[3];
    const T *fx = (const T *)xa->p;
    T *fo = (T *)oa->p;
    const i64 N = xa->shape[0], C = xa->shape[1], m0 = xa->shape[2], m1 = xa->shape[3], m2 = xa->shape[4];
    const i64 K = oa->shape[1], L0 = oa->shape[3], L1 = oa->shape[4], L2 = oa->shape[5], k1 = k[1], k2 = k[2];
    for (i64 item = A->i[0]; item < A->i[1]; item++) {
        const i64 n = item % N, t = (item / N) % K, c = item / (N * K);
        const i64 t0 = t / (k1 * k2), t1 = (t / k2) % k1, t2 = t % k2;
        const i64 e2 = t2 * d[2] - pb[2];
        i64 lo2, hi2;
        out_run(L2, m2, e2, s[2], &lo2, &hi2);
        i64 at = item * L0 * L1 * L2;
        for (i64 o0 = 0; o0 < L0; o0++) {
            const i64 i0 = o0 * s[0] + t0 * d[0] - pb[0];
            for (i64 o1 = 0; o1 < L1; o1++) {
                const i64 i1 = o1 * s[1] + t1 * d[1] - pb[1];
                if (i0 < 0 || i0 >= m0 || i1 < 0 || i1 >= m1) {
                    for (i64 o2 = 0; o2 < L2; o2++) fo[at + o2] = 0;
                } else {
                    FN(copy_run)(fo + at, L2, lo2, hi2, fx, (((n * C + c) * m0 + i0) * m1 + i1) * m2 + e2, s[2]);
                }
                at += L2;
            }
        }
    }
    return 0;
}

/* Convolution without im2col, for groups with few output channels; items are the planes (n, co).
 *
 * x   : (N, C_in, m0, m1, m2), unpadded
 * w   : (C_out, C_in/groups, k0*k1*k2)
 * out : (N, C_out, L0, L1, L2), out[n, co, o] = sum_{ci, t} w[co, ci, t] * x[n, ci, o*s + t*d - pb]
 *
 * Each output row is accumulated in a small buffer, one contiguous multiply-add per (input channel,
 * tap), every product and sum rounded. */
static int FN(correlate_direct)(const kargs_t *A) {
    const arr_t *xa = &A->a[0], *wa = &A->a[1], *oa = &A->a[2];
    const i64 groups = A->i[2];
    const i64 *k = A->t[0], *s = A->t[1], *d = A->t[2], *pb = A->t[3];
    const T *fx = (const T *)xa->p, *fw = (const T *)wa->p;
    T *fo = (T *)oa->p;
    const i64 C = oa->shape[1], L0 = oa->shape[2], L1 = oa->shape[3], L2 = oa->shape[4];
    const i64 c_in = xa->shape[1], m0 = xa->shape[2], m1 = xa->shape[3], m2 = xa->shape[4];
    const i64 ci_g = wa->shape[1], co_g = C / groups, K = wa->shape[2];
    const i64 k0 = k[0], k1 = k[1], k2 = k[2], s0 = s[0], s1 = s[1], s2 = s[2];
    T *RESTRICT acc = malloc(sizeof(T) * (size_t)imax(1, L2));
    i64 *runs = malloc(sizeof(i64) * (size_t)imax(1, 2 * k2));
    if (!acc || !runs) {
        free(acc);
        free(runs);
        return -1;
    }
    for (i64 t2 = 0; t2 < k2; t2++) out_run(L2, m2, t2 * d[2] - pb[2], s2, runs + 2 * t2, runs + 2 * t2 + 1);
    for (i64 plane = A->i[0]; plane < A->i[1]; plane++) {
        const i64 co = plane % C, n = plane / C, g = co / co_g;
        i64 at = plane * L0 * L1 * L2;
        for (i64 o0 = 0; o0 < L0; o0++)
            for (i64 o1 = 0; o1 < L1; o1++) {
                memset(acc, 0, sizeof(T) * (size_t)L2);
                for (i64 cl = 0; cl < ci_g; cl++) {
                    const i64 ci = g * ci_g + cl;
                    for (i64 t0 = 0; t0 < k0; t0++) {
                        const i64 i0 = o0 * s0 + t0 * d[0] - pb[0];
                        if (i0 < 0 || i0 >= m0) continue;
                        for (i64 t1 = 0; t1 < k1; t1++) {
                            const i64 i1 = o1 * s1 + t1 * d[1] - pb[1];
                            if (i1 < 0 || i1 >= m1) continue;
                            const i64 row = (((n * c_in + ci) * m0 + i0) * m1 + i1) * m2;
                            const i64 wrow = (co * ci_g + cl) * K + (t0 * k1 + t1) * k2;
                            for (i64 t2 = 0; t2 < k2; t2++) {
                                const i64 lo = runs[2 * t2], hi = runs[2 * t2 + 1], src = row + t2 * d[2] - pb[2];
                                const T wv = fw[wrow + t2];
                                if (s2 == 1) { /* contiguous: vectorised */
                                    const T *RESTRICT from = fx + src;
                                    IVDEP
                                    for (i64 o2 = lo; o2 < hi; o2++) acc[o2] += wv * from[o2];
                                } else {
                                    for (i64 o2 = lo; o2 < hi; o2++) acc[o2] += wv * fx[src + o2 * s2];
                                }
                            }
                        }
                    }
                }
                memcpy(fo + at, acc, sizeof(T) * (size_t)L2);
                at += L2;
            }
    }
    free(acc);
    free(runs);
    return 0;
}

/* sum_i a[i] * b[i] for i < n, re-associated: in vector lanes, two vectors at a time for float */
ALWAYS_INLINE T FN(dot)(const T *RESTRICT a, const T *RESTRICT b, i64 n) {
    T part = 0;
    if (sizeof(T) == 4) { /* float: two accumulators of 8 lanes hide the latency of the multiply-adds */
        const float *fa = (const float *)a, *fb = (const float *)b;
        v8f s0 = vzero(), s1 = vzero();
        i64 i = 0;
        for (; i + 16 <= n; i += 16) {
            s0 = vfma(vload(fa + i), vload(fb + i), s0);
            s1 = vfma(vload(fa + i + 8), vload(fb + i + 8), s1);
        }
        if (i + 8 <= n) {
            s0 = vfma(vload(fa + i), vload(fb + i), s0);
            i += 8;
        }
        part = (T)vsum(vadd(s0, s1));
        for (; i < n; i++) part = MADD(a[i], b[i], part); /* fewer than 8 */
        return part;
    }
#pragma omp simd reduction(+ : part)
    for (i64 j = 0; j < n; j++) part = MADD(a[j], b[j], part);
    return part;
}

/* Weight gradient of a convolution without im2col, for few output channels; items are (co, ci) pairs.
 *
 * x  : (N, C_in, m0, m1, m2), unpadded
 * gy : (N, C_out, L0, L1, L2)
 * gw : (C_out, C_in/groups, k0*k1*k2), gw[co, ci, t] = sum_{n, o} gy[n, co, o] * x[n, ci, o*s + t*d - pb]
 *
 * Dot products of output-gradient rows with input rows, summed in vector lanes (re-associated, so
 * rounding differs from the GEMM's in the last bits). */
static int FN(weight_grad_direct)(const kargs_t *A) {
    const arr_t *xa = &A->a[0], *ga = &A->a[1], *wa = &A->a[2];
    const i64 groups = A->i[2];
    const i64 *k = A->t[0], *s = A->t[1], *d = A->t[2], *pb = A->t[3];
    const T *fx = (const T *)xa->p, *fg = (const T *)ga->p;
    T *gw = (T *)wa->p;
    const i64 N = ga->shape[0], C = ga->shape[1], L0 = ga->shape[2], L1 = ga->shape[3], L2 = ga->shape[4];
    const i64 c_in = xa->shape[1], m0 = xa->shape[2], m1 = xa->shape[3], m2 = xa->shape[4];
    const i64 ci_g = wa->shape[1], co_g = C / groups, K = wa->shape[2];
    const i64 k0 = k[0], k1 = k[1], k2 = k[2], s0 = s[0], s1 = s[1], s2 = s[2];
    for (i64 item = A->i[0]; item < A->i[1]; item++) {
        const i64 co = item / ci_g, cl = item % ci_g, ci = (co / co_g) * ci_g + cl;
        for (i64 t0 = 0; t0 < k0; t0++)
            for (i64 t1 = 0; t1 < k1; t1++)
                for (i64 t2 = 0; t2 < k2; t2++) {
                    const i64 e = t2 * d[2] - pb[2];
                    i64 lo, hi;
                    out_run(L2, m2, e, s2, &lo, &hi);
                    T total = 0;
                    for (i64 n = 0; n < N; n++)
                        for (i64 o0 = 0; o0 < L0; o0++) {
                            const i64 i0 = o0 * s0 + t0 * d[0] - pb[0];
                            if (i0 < 0 || i0 >= m0) continue;
                            for (i64 o1 = 0; o1 < L1; o1++) {
                                const i64 i1 = o1 * s1 + t1 * d[1] - pb[1];
                                if (i1 < 0 || i1 >= m1) continue;
                                const i64 src = (((n * c_in + ci) * m0 + i0) * m1 + i1) * m2 + e;
                                const T *RESTRICT grow = fg + (((n * C + co) * L0 + o0) * L1 + o1) * L2;
                                T part = 0;
                                if (s2 == 1) {
                                    part = FN(dot)(grow + lo, fx + src + lo, hi - lo);
                                } else {
#pragma omp simd reduction(+ : part)
                                    for (i64 o2 = lo; o2 < hi; o2++) part = MADD(grow[o2], fx[src + o2 * s2], part);
                                }
                                total += part;
                            }
                        }
                    gw[(co * ci_g + cl) * K + (t0 * k1 + t1) * k2 + t2] = total;
                }
    }
    return 0;
}

/* The padded copy of the items [start, stop) (slabs (n, c, i0)); see pad_copy. */
static int FN(pad_copy_range)(i64 start, i64 stop, const T *x, const i64 *xs, T *xp, const i64 *ps, const i64 *pb,
                              i64 s2) {
    const i64 m0 = xs[2], m1 = xs[3], m2 = xs[4], P0 = ps[2], P1 = ps[3], P2 = ps[4], Q2 = P2 / s2;
    i64 *runs = malloc(sizeof(i64) * (size_t)(2 * s2)); /* phase r's entries q with 0 <= q*s2 + r - pb2 < m2 */
    if (!runs) return -1;
    for (i64 r = 0; r < s2; r++) {
        runs[2 * r] = imin(Q2, imax(0, floordiv(pb[2] - r + s2 - 1, s2)));
        runs[2 * r + 1] = imax(runs[2 * r], imin(Q2, floordiv(m2 + pb[2] - r + s2 - 1, s2)));
    }
    for (i64 item = start; item < stop; item++) {
        const i64 i0 = item % P0, plane = item / P0, j0 = i0 - pb[0];
        i64 at = item * P1 * P2;
        for (i64 i1 = 0; i1 < P1; i1++) {
            const i64 j1 = i1 - pb[1];
            if (j0 < 0 || j0 >= m0 || j1 < 0 || j1 >= m1) {
                memset(xp + at, 0, sizeof(T) * (size_t)P2);
            } else {
                const i64 row = ((plane * m0 + j0) * m1 + j1) * m2;
                for (i64 r = 0; r < s2; r++)
                    FN(copy_run)(xp + at + r * Q2, Q2, runs[2 * r], runs[2 * r + 1], x, row + r - pb[2], s2);
            }
            at += P2;
        }
    }
    free(runs);
    return 0;
}

/* Zero-padded (or cropped) copy of up to 3 axes, the last split by phase; items are the slabs (n, c, i0).
 *
 * x  : (N, C, m0, m1, m2)
 * xp : (N, C, P0, P1, s2 * Q2), written completely:
 *      xp[n, c, i0, i1, r * Q2 + q] = x[n, c, i0 - pb0, i1 - pb1, q * s2 + r - pb2], 0 outside x
 *      (for s2 = 1 a plain padded copy).  A convolution with stride s2 on the last axis then reads
 *      contiguous runs of a phase. */
static int FN(pad_copy)(const kargs_t *A) {
    return FN(pad_copy_range)(A->i[0], A->i[1], (const T *)A->a[0].p, A->a[0].shape, (T *)A->a[1].p, A->a[1].shape,
                              A->t[0], A->i[2]);
}

/* Interleave the residue classes of the sub-pixel form into the cropped output.
 *
 * phases : (G, s0, s1, s2, C/G, N, m0, m1, m2): class r of un-cropped position j*s + r
 * out    : (N, C, L0, L1, L2), out[o] = full[o + pb], zero beyond the un-cropped result
 *
 * Items are the output planes (n, c). */
static int FN(interleave_phases)(const kargs_t *A) {
    const arr_t *pa = &A->a[0], *oa = &A->a[1];
    const i64 *pb = A->t[0];
    const T *fp = (const T *)pa->p;
    T *fo = (T *)oa->p;
    const i64 N = oa->shape[0], C = oa->shape[1], L0 = oa->shape[2], L1 = oa->shape[3], L2 = oa->shape[4];
    const i64 s0 = pa->shape[1], s1 = pa->shape[2], s2 = pa->shape[3], co_g = pa->shape[4];
    const i64 m0 = pa->shape[6], m1 = pa->shape[7], m2 = pa->shape[8];
    /* per class r2 of the last axis: first output, its source index, how many outputs have a source */
    i64 *runs = malloc(sizeof(i64) * (size_t)(3 * s2));
    if (!runs) return -1;
    for (i64 r2 = 0; r2 < s2; r2++) {
        const i64 first = floormod(r2 - pb[2], s2), j2 = floordiv(first + pb[2], s2);
        runs[3 * r2] = first;
        runs[3 * r2 + 1] = j2;
        runs[3 * r2 + 2] = imax(0, imin(floordiv(L2 - first + s2 - 1, s2), m2 - j2));
    }
    for (i64 plane = A->i[0]; plane < A->i[1]; plane++) {
        const i64 c = plane % C, n = plane / C, g = c / co_g, co = c - g * co_g;
        i64 at = plane * L0 * L1 * L2;
        for (i64 o0 = 0; o0 < L0; o0++) {
            const i64 f0 = o0 + pb[0], j0 = floordiv(f0, s0);
            for (i64 o1 = 0; o1 < L1; o1++) {
                const i64 f1 = o1 + pb[1], j1 = floordiv(f1, s1);
                T *RESTRICT row = fo + at;
                for (i64 o2 = 0; o2 < L2; o2++) row[o2] = 0;
                if (j0 < m0 && j1 < m1) {
                    for (i64 r2 = 0; r2 < s2; r2++) {
                        const i64 first = runs[3 * r2], j2 = runs[3 * r2 + 1], count = runs[3 * r2 + 2];
                        const i64 cls = ((g * s0 + floormod(f0, s0)) * s1 + floormod(f1, s1)) * s2 + r2;
                        const T *RESTRICT from = fp + (((cls * co_g + co) * N + n) * m0 + j0) * m1 * m2 + j1 * m2 + j2;
                        for (i64 u = 0; u < count; u++) row[first + u * s2] = from[u];
                    }
                }
                at += L2;
            }
        }
    }
    free(runs);
    return 0;
}
