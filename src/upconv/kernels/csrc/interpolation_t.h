/* The interpolation kernels of one float type; included by interpolation.c with T, FN(name) and
 * TFMA(a, b, c) (a*b + c with one rounding) defined. */

/* numpy's pairwise_sum for n <= 128: 8 running sums, then a fixed tree. */
static T FN(pairwise_block)(const T *p, i64 n) {
    if (n < 8) {
        T res = p[0];
        for (i64 i = 1; i < n; i++) res += p[i];
        return res;
    }
    T r0 = p[0], r1 = p[1], r2 = p[2], r3 = p[3], r4 = p[4], r5 = p[5], r6 = p[6], r7 = p[7];
    i64 i = 8;
    for (; i < n - (n % 8); i += 8) {
        r0 += p[i];
        r1 += p[i + 1];
        r2 += p[i + 2];
        r3 += p[i + 3];
        r4 += p[i + 4];
        r5 += p[i + 5];
        r6 += p[i + 6];
        r7 += p[i + 7];
    }
    T res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7));
    for (; i < n; i++) res += p[i];
    return res;
}

/* numpy's pairwise_sum of p[:n] (ndarray.sum along a contiguous axis): above 128, the halves cut at a
 * multiple of 8. */
static T FN(pairwise)(const T *p, i64 n) {
    if (n <= 128) return FN(pairwise_block)(p, n);
    i64 half = n / 2;
    half -= half % 8;
    const T left = FN(pairwise)(p, half);
    return left + FN(pairwise)(p + half, n - half);
}

/* dst[i] = sum_t w[t, i] * src[idx[t, i]] for one contiguous row; idx, w: (T, M).
 *
 * order 0: ((w0*x0 + w1*x1) + w2*x2) + ..., every operation rounded; 1: torch's compiled order
 * fma(w0, x0, w1*x1), then fma(wt, xt, acc); 2: numpy's pairwise sum of the rounded products
 * (ndarray.sum over a contiguous axis; equals order 0 below 8 taps).  prod: T scratch elements. */
ALWAYS_INLINE void FN(resample_row)(const T *RESTRICT src, const i64 *RESTRICT idx, const T *RESTRICT w,
                                     T *RESTRICT dst, i64 Tn, i64 M, i64 order, T *RESTRICT prod) {
    if (order == 1 && Tn > 1) {
        const i64 *i0 = idx, *i1 = idx + M;
        const T *w0 = w, *w1 = w + M;
        for (i64 i = 0; i < M; i++) dst[i] = TFMA(w0[i], src[i0[i]], w1[i] * src[i1[i]]);
        for (i64 t = 2; t < Tn; t++) {
            const i64 *it = idx + t * M;
            const T *wt = w + t * M;
            for (i64 i = 0; i < M; i++) dst[i] = TFMA(wt[i], src[it[i]], dst[i]);
        }
        return;
    }
    if (order == 2 && Tn >= 8) {
        for (i64 i = 0; i < M; i++) {
            for (i64 t = 0; t < Tn; t++) prod[t] = w[t * M + i] * src[idx[t * M + i]];
            dst[i] = FN(pairwise)(prod, Tn);
        }
        return;
    }
    for (i64 i = 0; i < M; i++) dst[i] = w[i] * src[idx[i]];
    for (i64 t = 1; t < Tn; t++) {
        const i64 *it = idx + t * M;
        const T *wt = w + t * M;
        for (i64 i = 0; i < M; i++) dst[i] += wt[i] * src[it[i]];
    }
}

/* o[:B] = sum_t w[t, j] * lines[rows[t, j] - lo]: whole lines (contiguous, vectorised); rows, w: (T, M).
 * Taps are summed in order, with torch's multiply-adds when order == 1, or by numpy's pairwise sum
 * when order == 2. */
ALWAYS_INLINE void FN(combine_lines)(const T *RESTRICT lines, i64 B, const i64 *RESTRICT rows, i64 lo,
                                      const T *RESTRICT w, i64 Tn, i64 M, i64 j, T *RESTRICT o, i64 order,
                                      T *RESTRICT prod) {
    if (order == 2 && Tn >= 8) {
        for (i64 b = 0; b < B; b++) {
            for (i64 t = 0; t < Tn; t++) prod[t] = w[t * M + j] * lines[(rows[t * M + j] - lo) * B + b];
            o[b] = FN(pairwise)(prod, Tn);
        }
        return;
    }
    if (order == 1 && Tn > 1) {
        const T *RESTRICT s0 = lines + (rows[j] - lo) * B, *RESTRICT s1 = lines + (rows[M + j] - lo) * B;
        const T w0 = w[j], w1 = w[M + j];
        for (i64 b = 0; b < B; b++) o[b] = TFMA(w0, s0[b], w1 * s1[b]);
        for (i64 t = 2; t < Tn; t++) {
            const T *RESTRICT s = lines + (rows[t * M + j] - lo) * B;
            const T wt = w[t * M + j];
            for (i64 b = 0; b < B; b++) o[b] = TFMA(wt, s[b], o[b]);
        }
        return;
    }
    const T *RESTRICT s = lines + (rows[j] - lo) * B;
    const T w0 = w[j];
    for (i64 b = 0; b < B; b++) o[b] = w0 * s[b];
    for (i64 t = 1; t < Tn; t++) {
        const T *RESTRICT st = lines + (rows[t * M + j] - lo) * B;
        const T wt = w[t * M + j];
        for (i64 b = 0; b < B; b++) o[b] += wt * st[b];
    }
}

/* Resample the last axis: x (R, L) -> out (R, M); items are the rows r. */
static int FN(along_rows)(const kargs_t *A) {
    const arr_t *xa = &A->a[0], *ia = &A->a[1], *oa = &A->a[3];
    const i64 L = xa->shape[1], Tn = ia->shape[0], M = ia->shape[1], order = A->i[2];
    T *prod = malloc(sizeof(T) * (size_t)imax(1, Tn));
    if (!prod) return -1;
    for (i64 r = A->i[0]; r < A->i[1]; r++)
        FN(resample_row)((const T *)xa->p + r * L, (const i64 *)ia->p, (const T *)A->a[2].p, (T *)oa->p + r * M, Tn,
                         M, order, prod);
    free(prod);
    return 0;
}

/* Resample the middle axis: x (A, L, B) -> out (A, M, B).  Each output line out[a, j, :] is a weighted
 * sum of whole input lines (contiguous, vectorised); items are the lines q = a*M + j. */
static int FN(along_axis)(const kargs_t *A) {
    const arr_t *xa = &A->a[0], *ia = &A->a[1], *oa = &A->a[3];
    const i64 L = xa->shape[1], B = xa->shape[2], Tn = ia->shape[0], M = ia->shape[1], order = A->i[2];
    T *prod = malloc(sizeof(T) * (size_t)imax(1, Tn));
    if (!prod) return -1;
    for (i64 q = A->i[0]; q < A->i[1]; q++) {
        const i64 a = q / M, j = q - a * M;
        FN(combine_lines)((const T *)xa->p + a * L * B, B, (const i64 *)ia->p, 0, (const T *)A->a[2].p, Tn, M, j,
                          (T *)oa->p + (a * M + j) * B, order, prod);
    }
    free(prod);
    return 0;
}

/* Resample the last axis, then the second last: x (P, H, W) -> out (P, Ho, Wo).
 *
 * Work items are (plane, block of `block` output rows), q = p*nb + b with nb = ceil(Ho / block) blocks
 * per plane.  An item first resamples, along the last axis, every input row its output rows read (into
 * a small buffer that stays in cache), then combines those rows along the second last axis.  Same
 * arithmetic, in the same order, as along_rows followed by along_axis. */
static int FN(fused_last_two)(const kargs_t *A) {
    const arr_t *xa = &A->a[0], *iha = &A->a[1], *iwa = &A->a[3], *oa = &A->a[5];
    const i64 *ih = (const i64 *)iha->p, *iw = (const i64 *)iwa->p;
    const T *x = (const T *)xa->p, *wh = (const T *)A->a[2].p, *ww = (const T *)A->a[4].p;
    T *out = (T *)oa->p;
    const i64 H = xa->shape[1], W = xa->shape[2], Th = iha->shape[0], Ho = iha->shape[1];
    const i64 Tw = iwa->shape[0], Wo = oa->shape[2], block = A->i[2], order = A->i[3];
    const i64 nb = (Ho + block - 1) / block;
    T *prod = malloc(sizeof(T) * (size_t)imax(1, imax(Th, Tw)));
    T *tmp = NULL;
    unsigned char *need = NULL;
    i64 cap = 0; /* rows of tmp and need */
    int rc = prod ? 0 : -1;
    for (i64 q = A->i[0]; q < A->i[1] && rc == 0; q++) {
        const i64 p = q / nb, j0 = (q - p * nb) * block, j1 = imin(j0 + block, Ho);
        i64 lo = H, hi = -1;
        for (i64 t = 0; t < Th; t++)
            for (i64 j = j0; j < j1; j++) {
                const i64 r = ih[t * Ho + j];
                if (r < lo) lo = r;
                if (r > hi) hi = r;
            }
        const i64 n = hi - lo + 1;
        if (n > cap) {
            free(tmp);
            free(need);
            cap = n;
            tmp = malloc(sizeof(T) * (size_t)imax(1, n * Wo));
            need = malloc((size_t)n);
            if (!tmp || !need) {
                rc = -1;
                break;
            }
        }
        memset(need, 0, (size_t)n);
        for (i64 t = 0; t < Th; t++)
            for (i64 j = j0; j < j1; j++) need[ih[t * Ho + j] - lo] = 1;
        for (i64 r = lo; r <= hi; r++)
            if (need[r - lo]) FN(resample_row)(x + (p * H + r) * W, iw, ww, tmp + (r - lo) * Wo, Tw, Wo, order, prod);
        for (i64 j = j0; j < j1; j++)
            FN(combine_lines)(tmp, Wo, ih, lo, wh, Th, Ho, j, out + (p * Ho + j) * Wo, order, prod);
    }
    free(prod);
    free(tmp);
    free(need);
    return rc;
}
