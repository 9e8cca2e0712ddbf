/* The float32 vector kernels (8-lane vectors of simd.h): stamping with stride 2, direct convolution, its
 * weight gradient and the direct polyphase transposed convolution, in register blocks.  Included by
 * convolution.c. */

/* overlap_add for float32 and stride 2 along the last axis, in vector registers.
 *
 * An output row is computed 16 outputs at a time: 8 of each residue class, each class summed in a
 * register from whole-vector loads of the stamp rows (lanes outside a tap's range masked to zero), then
 * interleaved by shuffles and stored.  No accumulator goes through memory, which on short rows (decoder
 * layers of 8 x 8 to 16 x 16) took more time than the additions.
 *
 * The masked loads read up to 7 elements past either end of a stamp row, so cols must have 7 readable
 * floats before and after it (upconv.ops.transposed._scatter_gemm leaves a margin around it). */
static int overlap_add_simd(const kargs_t *A) {
    const arr_t *ca = &A->a[0], *oa = &A->a[1];
    const i64 *k = A->t[0], *s = A->t[1], *d = A->t[2], *pb = A->t[3], *m = A->t[4];
    const float *fc = (const float *)ca->p;
    float *fo = (float *)oa->p;
    const i64 N = oa->shape[0], C = oa->shape[1], L0 = oa->shape[2], L1 = oa->shape[3], L2 = oa->shape[4];
    const i64 K = ca->shape[1], P = ca->shape[3], k2 = k[2], m1 = m[1], m2 = m[2];
    const i64 per_class = (L2 + 1) / 2;
    float spare[16];
    gather_t g;
    if (gather_tables(&g, oa->shape + 2, k, s, d, pb, m, sizeof(float))) return -1;
    for (i64 item = A->i[0]; item < A->i[1]; item++) {
        const i64 n = item % N, c = item / N;
        i64 at = (n * C + c) * L0 * L1 * L2;
        const i64 first = (c * K * N + n) * P;
        for (i64 o0 = 0; o0 < L0; o0++)
            for (i64 o1 = 0; o1 < L1; o1++) {
                const i64 nr = row_hits(&g, o0, o1, m1, m2, first, k2 * N * P);
                for (i64 u0 = 0; u0 < per_class; u0 += 8) {
                    v8f even = vzero(), odd = vzero();
                    /* the taps in overlap_add's order (row hits, then the last axis's taps): every output is
                     * the same sum whichever of the two kernels computes it */
                    for (i64 q = 0; q < nr; q++)
                        for (i64 t2 = 0; t2 < k2; t2++) {
                            const i64 *tp = g.taps + 4 * t2;
                            const i64 lo = tp[2] - u0, hi = tp[3] - u0;
                            if (hi <= 0 || lo >= 8) continue;
                            const v8f stamp = vrange(vload(fc + g.rows[q] + t2 * N * P + tp[1] + u0), lo, hi);
                            if (tp[0] == 0) even = vadd(even, stamp); /* class 0 (its offset in an accumulator row) */
                            else odd = vadd(odd, stamp);
                        }
                    const i64 o = at + 2 * u0;
                    if (2 * u0 + 16 <= L2) {
                        vstore(fo + o, vzip_lo(even, odd));
                        vstore(fo + o + 8, vzip_hi(even, odd));
                    } else { /* the row's last outputs */
                        vstore(spare, vzip_lo(even, odd));
                        vstore(spare + 8, vzip_hi(even, odd));
                        for (i64 u = 0; u < L2 - 2 * u0; u++) fo[o + u] = spare[u];
                    }
                }
                at += L2;
            }
    }
    gather_free(&g);
    return 0;
}

/* The register block of the vector kernels: 4 channels x 3 vectors of 8 outputs.
 *
 * out[at + j*stride + v*ostep + u] = sum_e fw[w + 4 (e - lo) + j] * fx[base + v*step + offsets[e] + u]
 * over the entries e in [lo, hi), for channel j < 4, vector v < 3 and lane u < 8: 12 accumulators in
 * vector registers; a step loads 3 input vectors and 4 weights for 12 multiply-adds.  The vectors are
 * 24 outputs of a row (step = ostep = 8) or, for narrow rows, the same columns of 3 rows. */
ALWAYS_INLINE void mac24(const float *fx, const float *fw, i64 base, i64 step, const i64 *offsets, i64 lo, i64 hi,
                         i64 w, float *out, i64 at, i64 ostep, i64 stride) {
    v8f a00 = vzero(), a01 = vzero(), a02 = vzero(), a10 = vzero(), a11 = vzero(), a12 = vzero();
    v8f a20 = vzero(), a21 = vzero(), a22 = vzero(), a30 = vzero(), a31 = vzero(), a32 = vzero();
    const float *wp = fw + w;
    for (i64 e = lo; e < hi; e++, wp += 4) {
        const float *src = fx + base + offsets[e];
        const v8f x0 = vload(src), x1 = vload(src + step), x2 = vload(src + 2 * step);
        v8f c = vsplat(wp[0]);
        a00 = vfma(x0, c, a00), a01 = vfma(x1, c, a01), a02 = vfma(x2, c, a02);
        c = vsplat(wp[1]);
        a10 = vfma(x0, c, a10), a11 = vfma(x1, c, a11), a12 = vfma(x2, c, a12);
        c = vsplat(wp[2]);
        a20 = vfma(x0, c, a20), a21 = vfma(x1, c, a21), a22 = vfma(x2, c, a22);
        c = vsplat(wp[3]);
        a30 = vfma(x0, c, a30), a31 = vfma(x1, c, a31), a32 = vfma(x2, c, a32);
    }
    float *o = out + at;
    vstore(o, a00), vstore(o + ostep, a01), vstore(o + 2 * ostep, a02);
    o += stride;
    vstore(o, a10), vstore(o + ostep, a11), vstore(o + 2 * ostep, a12);
    o += stride;
    vstore(o, a20), vstore(o + ostep, a21), vstore(o + 2 * ostep, a22);
    o += stride;
    vstore(o, a30), vstore(o + ostep, a31), vstore(o + 2 * ostep, a32);
}

/* mac24 for 6 vectors, in 3 pairs: 24 accumulators, for 32 vector registers (AVX-512VL).
 *
 * Pair r < 3 reads fx[base + r*step + offsets[e] + (0 or 8) + u] and is stored at
 * out[at + r*ostep + (0 or 8) + u]: 16 outputs of 3 rows, or with step = ostep = 16 48 outputs of one
 * row.  A step loads 6 input vectors and 4 weights for 24 multiply-adds. */
ALWAYS_INLINE void mac48(const float *fx, const float *fw, i64 base, i64 step, const i64 *offsets, i64 lo, i64 hi,
                         i64 w, float *out, i64 at, i64 ostep, i64 stride) {
    v8f a00 = vzero(), a01 = vzero(), a02 = vzero(), a03 = vzero(), a04 = vzero(), a05 = vzero();
    v8f a10 = vzero(), a11 = vzero(), a12 = vzero(), a13 = vzero(), a14 = vzero(), a15 = vzero();
    v8f a20 = vzero(), a21 = vzero(), a22 = vzero(), a23 = vzero(), a24 = vzero(), a25 = vzero();
    v8f a30 = vzero(), a31 = vzero(), a32 = vzero(), a33 = vzero(), a34 = vzero(), a35 = vzero();
    const float *wp = fw + w;
    for (i64 e = lo; e < hi; e++, wp += 4) {
        const float *src = fx + base + offsets[e];
        const v8f x0 = vload(src), x1 = vload(src + 8), x2 = vload(src + step);
        const v8f x3 = vload(src + step + 8), x4 = vload(src + 2 * step), x5 = vload(src + 2 * step + 8);
        v8f c = vsplat(wp[0]);
        a00 = vfma(x0, c, a00), a01 = vfma(x1, c, a01), a02 = vfma(x2, c, a02);
        a03 = vfma(x3, c, a03), a04 = vfma(x4, c, a04), a05 = vfma(x5, c, a05);
        c = vsplat(wp[1]);
        a10 = vfma(x0, c, a10), a11 = vfma(x1, c, a11), a12 = vfma(x2, c, a12);
        a13 = vfma(x3, c, a13), a14 = vfma(x4, c, a14), a15 = vfma(x5, c, a15);
        c = vsplat(wp[2]);
        a20 = vfma(x0, c, a20), a21 = vfma(x1, c, a21), a22 = vfma(x2, c, a22);
        a23 = vfma(x3, c, a23), a24 = vfma(x4, c, a24), a25 = vfma(x5, c, a25);
        c = vsplat(wp[3]);
        a30 = vfma(x0, c, a30), a31 = vfma(x1, c, a31), a32 = vfma(x2, c, a32);
        a33 = vfma(x3, c, a33), a34 = vfma(x4, c, a34), a35 = vfma(x5, c, a35);
    }
    const i64 o1 = ostep, o2 = 2 * ostep;
    float *o = out + at;
    vstore(o, a00), vstore(o + 8, a01), vstore(o + o1, a02), vstore(o + o1 + 8, a03), vstore(o + o2, a04);
    vstore(o + o2 + 8, a05);
    o += stride;
    vstore(o, a10), vstore(o + 8, a11), vstore(o + o1, a12), vstore(o + o1 + 8, a13), vstore(o + o2, a14);
    vstore(o + o2 + 8, a15);
    o += stride;
    vstore(o, a20), vstore(o + 8, a21), vstore(o + o1, a22), vstore(o + o1 + 8, a23), vstore(o + o2, a24);
    vstore(o + o2 + 8, a25);
    o += stride;
    vstore(o, a30), vstore(o + 8, a31), vstore(o + o1, a32), vstore(o + o1 + 8, a33), vstore(o + o2, a34);
    vstore(o + o2 + 8, a35);
}

/* mac24 for 2 vectors: 8 accumulators. */
ALWAYS_INLINE void mac16(const float *fx, const float *fw, i64 base, i64 step, const i64 *offsets, i64 lo, i64 hi,
                         i64 w, float *out, i64 at, i64 ostep, i64 stride) {
    v8f a00 = vzero(), a01 = vzero(), a10 = vzero(), a11 = vzero();
    v8f a20 = vzero(), a21 = vzero(), a30 = vzero(), a31 = vzero();
    const float *wp = fw + w;
    for (i64 e = lo; e < hi; e++, wp += 4) {
        const float *src = fx + base + offsets[e];
        const v8f x0 = vload(src), x1 = vload(src + step);
        v8f c = vsplat(wp[0]);
        a00 = vfma(x0, c, a00), a01 = vfma(x1, c, a01);
        c = vsplat(wp[1]);
        a10 = vfma(x0, c, a10), a11 = vfma(x1, c, a11);
        c = vsplat(wp[2]);
        a20 = vfma(x0, c, a20), a21 = vfma(x1, c, a21);
        c = vsplat(wp[3]);
        a30 = vfma(x0, c, a30), a31 = vfma(x1, c, a31);
    }
    float *o = out + at;
    vstore(o, a00), vstore(o + ostep, a01);
    o += stride;
    vstore(o, a10), vstore(o + ostep, a11);
    o += stride;
    vstore(o, a20), vstore(o + ostep, a21);
    o += stride;
    vstore(o, a30), vstore(o + ostep, a31);
}

/* mac24 for 1 vector: 4 accumulators. */
ALWAYS_INLINE void mac8(const float *fx, const float *fw, i64 base, const i64 *offsets, i64 lo, i64 hi, i64 w,
                        float *out, i64 at, i64 stride) {
    v8f a0 = vzero(), a1 = vzero(), a2 = vzero(), a3 = vzero();
    const float *wp = fw + w;
    for (i64 e = lo; e < hi; e++, wp += 4) {
        const v8f x0 = vload(fx + base + offsets[e]);
        a0 = vfma(x0, vsplat(wp[0]), a0);
        a1 = vfma(x0, vsplat(wp[1]), a1);
        a2 = vfma(x0, vsplat(wp[2]), a2);
        a3 = vfma(x0, vsplat(wp[3]), a3);
    }
    float *o = out + at;
    vstore(o, a0), vstore(o + stride, a1), vstore(o + 2 * stride, a2), vstore(o + 3 * stride, a3);
}

/* Direct float32 convolution in blocks of 4 channels x 24 (wide: 48) outputs; items are rows (n, g, o0, o1).
 *
 * xp  : (N, C_in, P0, P1, P2) float32, the padded input, its last axis split by phase (pad_copy)
 * wt  : (B, R, 4), the weights of output-channel block b for the R = C_in/groups * k0*k1*k2 (input
 *       channel, tap) pairs (B / groups blocks per group, channels 4b .. 4b+3, zero-padded)
 * out : (N, 4B, L0, L1, L2w), L2w a multiple of 8 (columns past the true output width are computed from
 *       the padding and discarded by the caller):
 *       out[n, 4b + j, o] = sum_r wt[b, r, j] * xp.flat[at(n, g(b), o) + offsets[r]]
 * offsets : (R,) int64, where pair r reads, relative to the element of output o in the group's first
 *       input channel, at(n, g, o) = (((n C_in + g C_in/groups) P0 + o0 s0) P1 + o1 s1) P2 + o2.
 * wide : blocks of 48 outputs (24 accumulators, mac48) while they fit the row
 *
 * The 12 (or, in the last columns, 4) accumulators stay in vector registers through the whole
 * reduction, one flat loop over the pairs.  All channel blocks of a group are computed for one stretch
 * of outputs before the next, while the input it reads is in L1. */
static int correlate_simd(const kargs_t *A) {
    const arr_t *xa = &A->a[0], *wa = &A->a[1], *oa = &A->a[2], *fa = &A->a[3];
    const i64 groups = A->i[2], wide = A->i[3];
    const i64 *s = A->t[0];
    const float *fx = (const float *)xa->p, *fw = (const float *)wa->p;
    const i64 *offsets = (const i64 *)fa->p;
    float *fo = (float *)oa->p;
    const i64 c_in = xa->shape[1], P0 = xa->shape[2], P1 = xa->shape[3], P2 = xa->shape[4];
    const i64 B = wa->shape[0], R = wa->shape[1], L0 = oa->shape[2], L1 = oa->shape[3], Lw = oa->shape[4];
    const i64 nb = B / groups, ci_g = c_in / groups, plane = L0 * L1 * Lw;
    for (i64 item = A->i[0]; item < A->i[1]; item++) {
        const i64 o1 = item % L1, o0 = (item / L1) % L0, g = (item / (L1 * L0)) % groups;
        const i64 n = item / (L1 * L0 * groups);
        const i64 base = (((n * c_in + g * ci_g) * P0 + o0 * s[0]) * P1 + o1 * s[1]) * P2;
        i64 w0 = 0;
        while (w0 < Lw) {
            const i64 width = wide && w0 + 48 <= Lw ? 48 : w0 + 24 <= Lw ? 24 : 8;
            for (i64 b = g * nb; b < (g + 1) * nb; b++) {
                const i64 o = (((n * B + b) * 4 * L0 + o0) * L1 + o1) * Lw + w0;
                if (width == 48)
                    mac48(fx, fw, base + w0, 16, offsets, 0, R, b * R * 4, fo, o, 16, plane);
                else if (width == 24)
                    mac24(fx, fw, base + w0, 8, offsets, 0, R, b * R * 4, fo, o, 8, plane);
                else
                    mac8(fx, fw, base + w0, offsets, 0, R, b * R * 4, fo, o, plane);
            }
            w0 += width;
        }
    }
    return 0;
}

/* The block buffer of conv_transpose_simd: per residue class along the last axis, 4 channels x 3 rows
 * x 24 outputs. */
#define ROW 24
#define CHANNEL (3 * ROW)
#define CLASS (4 * CHANNEL)

/* Interleave a block's classes into an output row: fo[row + s2 (q + u) + r] = tb[at + r CLASS + u] for
 * u < nq and the classes r < classes, where s2 (q + u) + r < L2; with add, added to the output.  Stride 2
 * with whole vectors zips pairs of vectors, each pair one cache line, which stream stores past the
 * caches; otherwise element by element. */
ALWAYS_INLINE void interleave_block(const float *tb, i64 at, float *fo, i64 row, i64 q, i64 nq, i64 L2, i64 s2,
                                    i64 classes, int add, int stream) {
    if (s2 == 2 && 2 * (q + nq) <= L2) {
        for (i64 v = 0; v < nq; v += 8) {
            const v8f a = vload(tb + at + v), b = vload(tb + at + CLASS + v);
            v8f low = vzip_lo(a, b), high = vzip_hi(a, b);
            float *dst = fo + row + 2 * (q + v);
            if (add) low = vadd(low, vload(dst)), high = vadd(high, vload(dst + 8));
            if (stream) {
                vstream(dst, low);
                vstream(dst + 8, high);
            } else {
                vstore(dst, low);
                vstore(dst + 8, high);
            }
        }
        return;
    }
    const i64 nu = imin(nq, (L2 + s2 - 1) / s2 - q);
    for (i64 u = 0; u < nu; u++) {
        const i64 nr = imin(classes, L2 - s2 * (q + u));
        for (i64 r = 0; r < nr; r++) {
            float *o = fo + row + s2 * (q + u) + r;
            const float value = tb[at + r * CLASS + u];
            *o = add ? *o + value : value;
        }
    }
}

/* What all blocks of a unit of conv_transpose_simd share. */
typedef struct {
    const float *fy, *fw;
    float *fo, *tb;
    const i64 *offsets, *starts;
    i64 cls0, classes, chunk, plane, row_step, L2, s2;
} unit_t;

/* One register block of 4 channels for every residue class along the last axis, into the output.
 *
 * The block is nq outputs of each class: 48 or 24 of one row (6 or 3 vectors along it), 16 of 3 rows or
 * 8 of count rows (2 or 1 vectors per row; step the input's row length).  Each class's sum over its
 * entries [lo_k, lo_k + chunk) (counted from its first) goes to tb, then interleave_block writes (or
 * with add adds) the J channels into the output rows row + c plane + j row_step.  Unless they are
 * streamed, the output lines are prefetched first: the multiply-adds hide the latency of fetching them. */
ALWAYS_INLINE void class_block(const unit_t *u, i64 src, i64 step, i64 count, i64 lo_k, i64 w, i64 row, i64 J,
                               i64 q, i64 nq, int add, int stream) {
    const i64 rows = nq >= ROW ? 1 : count, end = imin(u->L2, u->s2 * (q + nq));
    if (!stream)
        for (i64 c = 0; c < J; c++)
            for (i64 j = 0; j < rows; j++)
                for (i64 o = u->s2 * q; o < end; o += 16) vprefetch_write(u->fo + row + c * u->plane + j * u->row_step + o);
    for (i64 r = 0; r < u->classes; r++) {
        const i64 last = u->starts[u->cls0 + r + 1];
        const i64 lo = imin(u->starts[u->cls0 + r] + lo_k, last), hi = imin(lo + u->chunk, last), at = r * CLASS;
        if (nq == 2 * ROW)
            mac48(u->fy, u->fw, src, 16, u->offsets, lo, hi, w + 4 * lo, u->tb, at, 16, CHANNEL);
        else if (nq == ROW)
            mac24(u->fy, u->fw, src, 8, u->offsets, lo, hi, w + 4 * lo, u->tb, at, 8, CHANNEL);
        else if (nq == 16)
            mac48(u->fy, u->fw, src, step, u->offsets, lo, hi, w + 4 * lo, u->tb, at, ROW, CHANNEL);
        else if (count == 3)
            mac24(u->fy, u->fw, src, step, u->offsets, lo, hi, w + 4 * lo, u->tb, at, ROW, CHANNEL);
        else if (count == 2)
            mac16(u->fy, u->fw, src, step, u->offsets, lo, hi, w + 4 * lo, u->tb, at, ROW, CHANNEL);
        else
            mac8(u->fy, u->fw, src, u->offsets, lo, hi, w + 4 * lo, u->tb, at, CHANNEL);
    }
    for (i64 c = 0; c < J; c++)
        for (i64 j = 0; j < rows; j++)
            interleave_block(u->tb, c * CHANNEL + j * ROW, u->fo, row + c * u->plane + j * u->row_step, q, nq, u->L2,
                             u->s2, u->classes, add, stream);
}

/* Direct float32 transposed convolution in register blocks of 4 channels, all classes of a block together.
 *
 * Output o = q*s + r of residue class r (per axis) is a stride-1 correlation of the input with the
 * class's taps (the polyphase view): out[n, c, o] = sum_e wt[b, e, j] * yp.flat[at(n, g, q) + offsets[e]]
 * over the entries e in [starts[cls], starts[cls + 1]) of class cls = (r0 s1 + r1) s2 + r2, for channel
 * c = g C_out/groups + 4 b' + j of block b = g B/groups + b'.
 *
 * y   : (N, C_in, m0, m1, m2) float32, the input; with fused, items are whole inputs (n, g), and each
 *       copies its part of yp itself (pad_copy, margin zeros before) and computes it while it is in cache;
 *       otherwise yp is filled already
 * yp  : (N, C_in, P0, P1, P2) float32, the zero-padded input; at(n, g, q) =
 *       (((n C_in + g C_in/groups) P0 + q0) P1 + q1) P2 + q2, offsets include the margins
 * wt  : (B, E, 4), the weights of every class's (input channel, tap) entries for output-channel block b
 *       (B / groups blocks per group, zero-padded)
 * out : (N, C_out, L0, L1, L2), written completely
 * rows : (H, 2) int64, the output rows o1 = rows[h, 0] + j*s1, j < rows[h, 1] <= 3, of one class along
 *       axis 1 that an item computes together
 * wide : whether 24 accumulators fit the registers (32 vector registers)
 * stream : whether to store past the caches (stride 2 along the last axis, whose rows are whole cache
 *       lines: out 64-byte aligned, L2 a multiple of 16), where a unit's sum takes one chunk
 *
 * Items are (n, g, o0, h) (with fused, (n, g)).  An item's rows are computed in blocks (class_block):
 * 24 outputs of a row where every class has them, then 8 outputs of all the item's rows (wide: 16
 * outputs of 3 rows where an item has 3, else 48 then 24 of a row); a block computes every class along
 * the last axis into a small buffer and interleaves them straight into the output (stride 2: two
 * zipped vectors make 16 outputs), so no output goes through memory twice.  A class's entries are
 * summed in chunks of chunk that keep the input they read in cache across the channel blocks; later
 * chunks add to the output. */
static int conv_transpose_simd(const kargs_t *A) {
    const arr_t *ya = &A->a[0], *pa = &A->a[1], *wa = &A->a[2], *oa = &A->a[3];
    const i64 *starts = (const i64 *)A->a[4].p, *offsets = (const i64 *)A->a[5].p, *rows = (const i64 *)A->a[6].p;
    const i64 fused = A->i[2], groups = A->i[3], chunk = A->i[4], wide = A->i[5], stream = A->i[6];
    const i64 *margin = A->t[0], *s = A->t[1];
    const i64 c_in = pa->shape[1], P0 = pa->shape[2], P1 = pa->shape[3], P2 = pa->shape[4];
    const i64 B = wa->shape[0], E = wa->shape[1];
    const i64 C = oa->shape[1], L0 = oa->shape[2], L1 = oa->shape[3], L2 = oa->shape[4];
    const i64 s0 = s[0], s1 = s[1], s2 = s[2];
    const i64 nb = B / groups, ci_g = c_in / groups, co_g = C / groups, H = A->a[6].shape[0];
    const i64 classes = imin(s2, L2);
    float *tb = aligned_alloc(64, (size_t)((classes * CLASS * 4 + 63) / 64 * 64));
    if (!tb) return -1;
    float *yp = (float *)pa->p;
    const i64 plane = L0 * L1 * L2;
    const i64 across = L2 / s2 / ROW * ROW;                /* blocks of 24 along a row, while every class has them */
    const i64 Qw = ((L2 + s2 - 1) / s2 + 7) / 8 * 8;       /* then blocks of 8 down the rows, the last partly outside */
    const i64 per_item = fused ? L0 * H : 1;               /* fused: an item is a whole input (n, g), all its rows */
    unit_t u = {yp, (const float *)wa->p, (float *)oa->p, tb, offsets, starts, 0, classes, chunk, plane, s1 * L2, L2, s2};
    int rc = 0;
    for (i64 item = A->i[0]; item < A->i[1]; item++) {
        if (fused && pad_copy_range_f32(item * ci_g * P0, (item + 1) * ci_g * P0, (const float *)ya->p, ya->shape, yp,
                                        pa->shape, margin, 1)) {
            rc = -1;
            break;
        }
        for (i64 unit = item * per_item; unit < (item + 1) * per_item; unit++) {
            const i64 h = unit % H, o0 = (unit / H) % L0, g = (unit / (H * L0)) % groups, n = unit / (H * L0 * groups);
            const i64 o1 = rows[2 * h], count = rows[2 * h + 1];
            const i64 base = (((n * c_in + g * ci_g) * P0 + o0 / s0) * P1 + o1 / s1) * P2;
            u.cls0 = ((o0 % s0) * s1 + o1 % s1) * s2;
            i64 chunks = 1;
            for (i64 r = 0; r < classes; r++)
                chunks = imax(chunks, (starts[u.cls0 + r + 1] - starts[u.cls0 + r] + chunk - 1) / chunk);
            const i64 row = (((n * C + g * co_g) * L0 + o0) * L1 + o1) * L2;
            const int streamed = stream && chunks == 1; /* (later chunks read the output back) */
            const i64 down = wide && count == 3 ? L2 / s2 / 16 * 16 : 0; /* blocks of 16 down 3 rows */
            const i64 w0 = g * nb * E * 4; /* the weights of the group's first channel block */
            for (i64 k = 0; k < chunks; k++) { /* (a class that no tap reaches: zeros) */
                for (i64 q = 0; q < down; q += 16)
                    for (i64 bl = 0; bl < nb; bl++)
                        class_block(&u, base + q, P2, count, k * chunk, w0 + bl * E * 4, row + 4 * bl * plane,
                                    imin(4, co_g - 4 * bl), q, 16, k > 0, streamed);
                for (i64 j = 0; j < (down ? 0 : count); j++) {
                    i64 q = 0;
                    while (q < across) { /* wide: blocks of 48 first */
                        const i64 nq = wide && q + 2 * ROW <= L2 / s2 ? 2 * ROW : ROW;
                        for (i64 bl = 0; bl < nb; bl++)
                            class_block(&u, base + j * P2 + q, 8, 1, k * chunk, w0 + bl * E * 4,
                                        row + 4 * bl * plane + j * s1 * L2, imin(4, co_g - 4 * bl), q, nq, k > 0, streamed);
                        q += nq;
                    }
                }
                for (i64 q = down ? down : across; q < Qw; q += 8)
                    for (i64 bl = 0; bl < nb; bl++)
                        class_block(&u, base + q, P2, count, k * chunk, w0 + bl * E * 4, row + 4 * bl * plane,
                                    imin(4, co_g - 4 * bl), q, 8, k > 0, streamed);
            }
        }
    }
    if (stream) vfence(); /* the streamed stores are visible before the caller goes on */
    free(tb);
    return rc;
}

/* The weights of the vector kernels, blocks of 4 channels side by side; items are the blocks b.
 *
 * w  : (C_in, C_out/groups, K), a transposed convolution's weight with its taps flattened
 * source : (E, 2) int64, the input channel ci (of a group) and tap t of entry e
 * wt : (groups * nb, E, 4), wt[b, e, j] = w[g C_in/groups + ci, 4 (b - g nb) + j, t] for b in group g
 *      (nb blocks each), 0 past C_out/groups
 *
 * Written in order (reading a block's weights from cache). */
static int pack_weights(const kargs_t *A) {
    const arr_t *wa = &A->a[0], *sa = &A->a[1], *ta = &A->a[2];
    const float *fw = (const float *)wa->p;
    const i64 *source = (const i64 *)sa->p;
    float *ft = (float *)ta->p;
    const i64 co_g = wa->shape[1], K = wa->shape[2], nb = (co_g + 3) / 4, E = sa->shape[0];
    const i64 ci_g = wa->shape[0] / (ta->shape[0] / nb);
    for (i64 b = A->i[0]; b < A->i[1]; b++) {
        const i64 g = b / nb, c0 = 4 * (b % nb), J = imin(4, co_g - c0), first = (g * ci_g * co_g + c0) * K;
        for (i64 e = 0; e < E; e++) {
            const i64 at = first + source[2 * e] * co_g * K + source[2 * e + 1], to = (b * E + e) * 4;
            for (i64 j = 0; j < 4; j++) ft[to + j] = j < J ? fw[at + j * K] : 0.0f;
        }
    }
    return 0;
}

/* Float32 weight gradient in register blocks of 4 output channels x 3 taps; items are (b, ci).
 *
 * xp : (N, C_in, P0, P1, P2) float32, the padded input split by phase, as correlate_simd
 * taps : (k2w,) int64, the offsets of the last axis' taps in a row, as correlate_simd
 * gy : (N, 4B, L0, L1, L2w) the output gradient, zero in the padded channels and in the columns from
 *      L2 on (L2w a multiple of 8)
 * gw : (B, 4, C_in/groups, k0, k1, k2w), k2w a multiple of 3 (taps past k2 are discarded by the caller):
 *      gw[b, j, ci, t] = sum_{n, o} gy[n, 4b + j, o] * xp[n, g(b) C_in/groups + ci, o*s + t*d]
 *
 * The output positions are taken in tiles (the rows of one (n, o0)), so that the block's gradient rows
 * stay in L1 while every tap of the input channel is computed; each of the 12 accumulators sums one
 * weight's products over the tile in its 8 lanes (re-associated: rounding differs from the GEMM's in
 * the last bits).  The input lanes past L2 are masked, so infinities there cannot meet the zero
 * gradient. */
static int weight_grad_simd(const kargs_t *A) {
    const arr_t *xa = &A->a[0], *ga = &A->a[1], *wa = &A->a[2];
    const i64 groups = A->i[2], L2 = A->i[3];
    const i64 *s = A->t[0], *d = A->t[1], *taps = (const i64 *)A->a[3].p;
    const float *fx = (const float *)xa->p, *fg = (const float *)ga->p;
    float *gw = (float *)wa->p;
    const i64 N = xa->shape[0], c_in = xa->shape[1], P0 = xa->shape[2], P1 = xa->shape[3], P2 = xa->shape[4];
    const i64 L0 = ga->shape[2], L1 = ga->shape[3], Lw = ga->shape[4];
    const i64 B = wa->shape[0], ci_g = wa->shape[2], k0 = wa->shape[3], k1 = wa->shape[4], k2w = wa->shape[5];
    const i64 nb = B / groups, plane = L0 * L1 * Lw, full = L2 - L2 % 8, KK = k0 * k1 * k2w;
    for (i64 item = A->i[0]; item < A->i[1]; item++) {
        const i64 cl = item % ci_g, b = item / ci_g, ci = (b / nb) * ci_g + cl;
        for (i64 j = 0; j < 4; j++) memset(gw + ((b * 4 + j) * ci_g + cl) * KK, 0, sizeof(float) * (size_t)KK);
        for (i64 n = 0; n < N; n++)
            for (i64 o0 = 0; o0 < L0; o0++) { /* a tile: the block's gradient rows stay in L1 for all taps */
                const i64 gt = ((n * B + b) * 4 * L0 + o0) * L1 * Lw;
                for (i64 t0 = 0; t0 < k0; t0++)
                    for (i64 t1 = 0; t1 < k1; t1++) {
                        const i64 r0 = ((n * c_in + ci) * P0 + o0 * s[0] + t0 * d[0]) * P1 + t1 * d[1];
                        for (i64 t2 = 0; t2 < k2w; t2 += 3) {
                            const i64 e0 = taps[t2], e1 = taps[t2 + 1], e2 = taps[t2 + 2];
                            v8f a00 = vzero(), a01 = vzero(), a02 = vzero(), a10 = vzero(), a11 = vzero(), a12 = vzero();
                            v8f a20 = vzero(), a21 = vzero(), a22 = vzero(), a30 = vzero(), a31 = vzero(), a32 = vzero();
                            for (i64 o1 = 0; o1 < L1; o1++) {
                                const float *src = fx + (r0 + o1 * s[1]) * P2, *gr = fg + gt + o1 * Lw;
                                for (i64 w = 0; w < Lw; w += 8) {
                                    v8f x0 = vload(src + e0 + w), x1 = vload(src + e1 + w), x2 = vload(src + e2 + w);
                                    if (w >= full) x0 = vhead(x0, L2 - w), x1 = vhead(x1, L2 - w), x2 = vhead(x2, L2 - w);
                                    v8f g = vload(gr + w);
                                    a00 = vfma(g, x0, a00), a01 = vfma(g, x1, a01), a02 = vfma(g, x2, a02);
                                    g = vload(gr + plane + w);
                                    a10 = vfma(g, x0, a10), a11 = vfma(g, x1, a11), a12 = vfma(g, x2, a12);
                                    g = vload(gr + 2 * plane + w);
                                    a20 = vfma(g, x0, a20), a21 = vfma(g, x1, a21), a22 = vfma(g, x2, a22);
                                    g = vload(gr + 3 * plane + w);
                                    a30 = vfma(g, x0, a30), a31 = vfma(g, x1, a31), a32 = vfma(g, x2, a32);
                                }
                            }
                            const i64 tap = (t0 * k1 + t1) * k2w + t2;
                            float *g0 = gw + ((b * 4 + 0) * ci_g + cl) * KK + tap;
                            float *g1 = gw + ((b * 4 + 1) * ci_g + cl) * KK + tap;
                            float *g2 = gw + ((b * 4 + 2) * ci_g + cl) * KK + tap;
                            float *g3 = gw + ((b * 4 + 3) * ci_g + cl) * KK + tap;
                            g0[0] += vsum(a00), g0[1] += vsum(a01), g0[2] += vsum(a02);
                            g1[0] += vsum(a10), g1[1] += vsum(a11), g1[2] += vsum(a12);
                            g2[0] += vsum(a20), g2[1] += vsum(a21), g2[2] += vsum(a22);
                            g3[0] += vsum(a30), g3[1] += vsum(a31), g3[2] += vsum(a32);
                        }
                    }
            }
    }
    return 0;
}

/* The vector layer lane by lane, for the tests: x (16,) float32, out (7, 8) float32, lo, hi.
 * out rows: zip_lo(a, b), zip_hi(a, b), range(a, lo, hi), head(b, hi), a + b, fma(a, b, a),
 * [sum(a), 0...], where a = x[:8], b = x[8:]. */
static int simd_lanes(const kargs_t *A) {
    const float *x = (const float *)A->a[0].p;
    float *out = (float *)A->a[1].p;
    if (A->a[0].size < 16 || A->a[1].size < 56) return -2;
    const i64 lo = A->i[2], hi = A->i[3];
    vprefetch_write(x); /* a hint: changes nothing */
    const v8f a = vload(x), b = vload(x + 8);
    vstore(out, vzip_lo(a, b));
    vstore(out + 8, vzip_hi(a, b));
    vstore(out + 16, vrange(a, lo, hi));
    vstore(out + 24, vhead(b, hi));
    vstore(out + 32, vadd(a, b));
    vstore(out + 40, vfma(a, b, a));
    vstore(out + 48, vzero());
    out[48] = vsum(a);
    return 0;
}
