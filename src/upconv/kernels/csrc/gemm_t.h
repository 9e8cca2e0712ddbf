/* The fixed-order matrix product of one float type (gemm.c); included with T, V (its vector), VU (the
 * unaligned vector) and FN(name) defined. */

enum { FN(gemm_lanes) = GEMM_VB / (int)sizeof(T), FN(gemm_nr) = 2 * FN(gemm_lanes) };

/* c[0:mr, 0:nv*lanes] (row stride ldc) = (first ? 0 : c) + sum_k ap[k*MR + r] * bp[k*ldb + j], k ascending.
 * mr and nv are constants where it is inlined: one register block of accumulators each. */
ALWAYS_INLINE void FN(gemm_block)(i64 kc, const T *RESTRICT ap, const T *RESTRICT bp, i64 ldb, T *RESTRICT c,
                                  i64 ldc, int first, const int mr, const int nv) {
    enum { L = FN(gemm_lanes), NR = FN(gemm_nr) };
    V acc[GEMM_MR][2];
    _Pragma("GCC unroll 16") for (int r = 0; r < mr; r++)
        _Pragma("GCC unroll 2") for (int v = 0; v < nv; v++)
            acc[r][v] = first ? (V){0} : (V)*(const VU *)(c + r * ldc + v * L);
    for (i64 k = 0; k < kc; k++, ap += GEMM_MR, bp += ldb) {
        V b[2];
        _Pragma("GCC unroll 2") for (int v = 0; v < nv; v++) b[v] = (V)*(const VU *)(bp + v * L);
        _Pragma("GCC unroll 16") for (int r = 0; r < mr; r++) {
            const V a = ap[r] - (V){0}; /* ap[r] in every lane (x - 0 is x, -0 included) */
            _Pragma("GCC unroll 2") for (int v = 0; v < nv; v++) acc[r][v] = FN(gfma)(a, b[v], acc[r][v]);
        }
    }
    _Pragma("GCC unroll 16") for (int r = 0; r < mr; r++)
        _Pragma("GCC unroll 2") for (int v = 0; v < nv; v++) *(VU *)(c + r * ldc + v * L) = acc[r][v];
}

/* gemm_block for the first h rows (h <= MR) and nv vectors, each case compiled on its own */
static void FN(gemm_rows)(i64 kc, const T *ap, const T *bp, i64 ldb, T *c, i64 ldc, int first, i64 h, int nv) {
#define GEMM_CASE(m)                                                                  \
    case m:                                                                           \
        if (nv == 2) FN(gemm_block)(kc, ap, bp, ldb, c, ldc, first, (m), 2);          \
        else FN(gemm_block)(kc, ap, bp, ldb, c, ldc, first, (m), 1);                  \
        return;
    switch (h) {
    GEMM_CASE(1) GEMM_CASE(2) GEMM_CASE(3)
#if GEMM_MR > 3
    GEMM_CASE(4) GEMM_CASE(5) GEMM_CASE(6)
#endif
#if GEMM_MR > 6
    GEMM_CASE(7) GEMM_CASE(8) GEMM_CASE(9) GEMM_CASE(10) GEMM_CASE(11) GEMM_CASE(12) GEMM_CASE(13) GEMM_CASE(14)
#endif
    }
#undef GEMM_CASE
}

/* C = A @ B, batched over G; items are the tiles (g, column block, row block), row block fastest.
 *
 * a  : (G, M, K), or (G, K, M) when a_transposed (A is then its transpose)
 * b  : (G, K, N)
 * c  : (G, M, N), written completely
 * mc, nc : the rows and columns of a tile (any sizes; parallel_for's items are the tiles) */
static int FN(gemm)(const kargs_t *A) {
    enum { L = FN(gemm_lanes), NR = FN(gemm_nr) };
    const arr_t *aa = &A->a[0], *ba = &A->a[1], *ca = &A->a[2];
    const int trans = (int)A->i[2]; /* (start, stop, a_transposed, mc, nc) */
    const i64 G = ca->shape[0], M = ca->shape[1], N = ca->shape[2], K = ba->shape[1];
    const i64 mc = imax(1, A->i[3]), nc = imax(1, A->i[4]);
    if (ba->shape[0] != G || ba->shape[2] != N || aa->shape[0] != G || aa->shape[trans ? 1 : 2] != K ||
        aa->shape[trans ? 2 : 1] != M)
        return 1;
    const T *fa = (const T *)aa->p, *fb = (const T *)ba->p;
    T *fc = (T *)ca->p;
    const i64 tm = (M + mc - 1) / mc, tn = (N + nc - 1) / nc;
    const i64 mcap = (imin(mc, M) + GEMM_MR - 1) / GEMM_MR * GEMM_MR, ncap = (imin(nc, N) + NR - 1) / NR * NR;
    T *ap = gemm_workspace(sizeof(T) * (size_t)(mcap + ncap) * GEMM_KC);
    if (!ap) return -1;
    T *bp = ap + mcap * GEMM_KC;
    T spare[GEMM_MR * NR] __attribute__((aligned(64))) = {0};
    for (i64 item = A->i[0]; item < A->i[1]; item++) {
        const i64 g = item / (tm * tn), i0 = (item % tm) * mc, j0 = (item / tm % tn) * nc;
        const i64 rows = imin(mc, M - i0), cols = imin(nc, N - j0);
        const T *ag = fa + g * M * K, *bg = fb + g * K * N;
        T *cg = fc + g * M * N;
        if (K == 0) {
            for (i64 r = 0; r < rows; r++) memset(cg + (i0 + r) * N + j0, 0, sizeof(T) * (size_t)cols);
            continue;
        }
        /* the tile's rows in np panels of at most MR, as even as can be (16 rows: 8 + 8, not 14 + 2) */
        const i64 np = (rows + GEMM_MR - 1) / GEMM_MR;
        /* with one or two panels a B panel is read once or twice: read B in place rather than pack it */
        const int in_place = np <= 2;
        for (i64 p0 = 0; p0 < K; p0 += GEMM_KC) {
            const i64 kc = imin(GEMM_KC, K - p0);
            for (i64 jr = 0; jr < cols; jr += NR) { /* B[p0:p0+kc, j0+jr:+NR] -> bp[jr*kc + k*NR + j] */
                const i64 w = imin(NR, cols - jr);
                if (in_place && (w == NR || w == L)) continue;
                T *dst = bp + jr * kc;
                const T *src = bg + p0 * N + j0 + jr;
                for (i64 k = 0; k < kc; k++, dst += NR, src += N) {
                    for (i64 j = 0; j < w; j++) dst[j] = src[j];
                    for (i64 j = w; j < NR; j++) dst[j] = 0;
                }
            }
            /* A[rows of panel q, p0:p0+kc] -> ap[q*MR*kc + k*MR + r] */
            if (trans) { /* a row of the stored transpose holds the tile's rows side by side */
                for (i64 k = 0; k < kc; k++) {
                    const T *src = ag + (p0 + k) * M + i0;
                    for (i64 q = 0; q < np; q++) {
                        const i64 lo = q * rows / np, h = (q + 1) * rows / np - lo;
                        T *dst = ap + q * GEMM_MR * kc + k * GEMM_MR;
                        if (h == GEMM_MR) memcpy(dst, src + lo, sizeof(T) * GEMM_MR); /* (a few vector moves) */
                        else for (i64 r = 0; r < h; r++) dst[r] = src[lo + r];
                    }
                }
            } else {
                for (i64 q = 0; q < np; q++) {
                    const i64 lo = q * rows / np, h = (q + 1) * rows / np - lo;
                    T *dst = ap + q * GEMM_MR * kc;
                    for (i64 r = 0; r < h; r++)
                        for (i64 k = 0; k < kc; k++) dst[k * GEMM_MR + r] = ag[(i0 + lo + r) * K + p0 + k];
                }
            }
            for (i64 jr = 0; jr < cols; jr += NR) {
                const i64 w = imin(NR, cols - jr);
                const int nv = w > L ? 2 : 1, whole = w == nv * L;
                const T *b = in_place && whole ? bg + p0 * N + j0 + jr : bp + jr * kc;
                const i64 ldb = in_place && whole ? N : NR;
                for (i64 q = 0; q < np; q++) {
                    const i64 lo = q * rows / np, h = (q + 1) * rows / np - lo;
                    const T *a = ap + q * GEMM_MR * kc;
                    T *c = cg + (i0 + lo) * N + j0 + jr;
                    if (whole) {
                        FN(gemm_rows)(kc, a, b, ldb, c, N, p0 == 0, h, nv);
                    } else { /* the tile's last columns, through a block of spare accumulators */
                        for (i64 r = 0; r < h; r++)
                            for (i64 j = 0; j < w; j++) spare[r * NR + j] = p0 ? c[r * N + j] : 0;
                        FN(gemm_rows)(kc, a, b, ldb, spare, NR, p0 == 0, h, nv);
                        for (i64 r = 0; r < h; r++)
                            for (i64 j = 0; j < w; j++) c[r * N + j] = spare[r * NR + j];
                    }
                }
            }
        }
    }
    return 0;
}
