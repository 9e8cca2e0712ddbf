/* The pooling kernels of one float type; included by pooling.c with T and FN(name) defined. */

/* One tap of the window scan over a unit-stride row of W values: torch's rule (strict > keeps the
 * first maximum, any NaN replaces, so the last NaN wins), branch-free so that it vectorises. */
ALWAYS_INLINE void FN(scan)(const T *RESTRICT vals, T *RESTRICT best, i64 *RESTRICT arg, i64 t, i64 W) {
    for (i64 o = 0; o < W; o++) {
        const T val = vals[o], cur = best[o];
        const int upd = (val > cur) | (val != val);
        best[o] = upd ? val : cur;
        arg[o] = upd ? t : arg[o];
    }
}

/* Window maxima (and their input indices) of the padded planes [start, stop) of xf.
 *
 * xf: P padded planes of L elements, flat; out, idx_out: (P, Q) flat, Q = len(row_pad) * W.  Output
 * row jo (all axes but the last) and last-axis position o read the window at row_pad[jo] + o*s_last
 * (+ tap_pad[t] per tap) in the padded plane; the input index of tap t is row_idx[jo] + o*s_last +
 * tap_idx[t].  Taps outside, rows of W inside: the inner loop is affine and branch-free.  torch's scan:
 * strict > keeps the first maximum, any NaN replaces (the last NaN wins), the padding (-inf) never
 * wins, and an all -inf window reports its first real element (first_idx).  Strided taps are gathered
 * into a unit-stride row first. */
static int FN(max_pool_planes)(const kargs_t *A) {
    const T *xf = (const T *)A->a[0].p;
    const i64 *row_pad = (const i64 *)A->a[1].p, *row_idx = (const i64 *)A->a[2].p;
    const i64 *first_idx = (const i64 *)A->a[3].p, *tap_pad = (const i64 *)A->a[4].p;
    const i64 *tap_idx = (const i64 *)A->a[5].p;
    T *out = (T *)A->a[6].p;
    i64 *idx_out = (i64 *)A->a[7].p;
    const i64 L = A->i[2], W = A->i[3], s_last = A->i[4], with_idx = A->i[5];
    const i64 R = A->a[1].shape[0], Q = R * W, K = A->a[4].shape[0];
    T *best = malloc(sizeof(T) * (size_t)imax(1, W));
    T *tmp = malloc(sizeof(T) * (size_t)imax(1, W));
    i64 *arg = malloc(sizeof(i64) * (size_t)imax(1, W));
    if (!best || !tmp || !arg) {
        free(best);
        free(tmp);
        free(arg);
        return -1;
    }
    for (i64 p = A->i[0]; p < A->i[1]; p++)
        for (i64 jo = 0; jo < R; jo++) {
            const T *rb = xf + p * L + row_pad[jo];
            for (i64 o = 0; o < W; o++) {
                best[o] = -(T)INFINITY;
                arg[o] = -1;
            }
            for (i64 t = 0; t < K; t++) {
                const T *tb = rb + tap_pad[t];
                if (s_last == 1) {
                    FN(scan)(tb, best, arg, t, W);
                } else { /* the same scan, over the gathered row */
                    for (i64 o = 0; o < W; o++) tmp[o] = tb[o * s_last];
                    FN(scan)(tmp, best, arg, t, W);
                }
            }
            const i64 ob = p * Q + jo * W;
            memcpy(out + ob, best, sizeof(T) * (size_t)W);
            if (with_idx)
                for (i64 o = 0; o < W; o++) {
                    const i64 a = arg[o];
                    idx_out[ob + o] = a < 0 ? first_idx[jo * W + o] : row_idx[jo] + o * s_last + tap_idx[a];
                }
        }
    free(best);
    free(tmp);
    free(arg);
    return 0;
}

/* Scatter the planes [start, stop) of x at idx (both (P, Q)) into out (P, L).
 *
 * out is uninitialised: each plane is zeroed and scattered by one thread (later duplicates overwrite
 * earlier ones, as torch); bad[p] is set to the position of the first invalid index of plane p (the
 * caller fills it with -1). */
static int FN(max_unpool_planes)(const kargs_t *A) {
    const T *x = (const T *)A->a[0].p;
    const i64 *idx = (const i64 *)A->a[1].p;
    T *out = (T *)A->a[2].p;
    i64 *bad = (i64 *)A->a[3].p;
    const i64 Q = A->a[0].shape[1], L = A->a[2].shape[1];
    for (i64 p = A->i[0]; p < A->i[1]; p++) {
        T *RESTRICT o = out + p * L;
        for (i64 i = 0; i < L; i++) o[i] = 0;
        for (i64 j = 0; j < Q; j++) {
            const i64 i = idx[p * Q + j];
            if (i < 0 || i >= L) {
                bad[p] = j;
                break;
            }
            o[i] = x[p * Q + j];
        }
    }
    return 0;
}
