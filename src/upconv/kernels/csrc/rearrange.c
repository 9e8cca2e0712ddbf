/* The transposing copy of the sub-pixel rearrangements (upconv.ops.rearrange), for items of 1, 2, 4 and
 * 8 bytes (every dtype moves as raw unsigned integers).  Included by kernels.c. */

#define PERMUTED_COPY(U)                                                                              \
    static void permuted_copy_##U(i64 start, i64 stop, const U *src, U *dst, const i64 *outer_shape,  \
                                  const i64 *outer_strides, i64 D, i64 n0, i64 s0, i64 n1, i64 s1) {  \
        const i64 block = n0 * n1;                                                                    \
        for (i64 m = start; m < stop; m++) {                                                          \
            i64 off = 0, rem = m;                                                                     \
            for (i64 a = D - 1; a >= 0; a--) {                                                        \
                const i64 q = rem / outer_shape[a];                                                   \
                off += (rem - q * outer_shape[a]) * outer_strides[a];                                 \
                rem = q;                                                                              \
            }                                                                                         \
            U *RESTRICT to = dst + m * block;                                                         \
            if (s0 == 1) {                                                                            \
                for (i64 j = 0; j < n1; j++) {                                                        \
                    const U *RESTRICT from = src + off + j * s1;                                      \
                    for (i64 i = 0; i < n0; i++) to[i * n1 + j] = from[i];                            \
                }                                                                                     \
            } else {                                                                                  \
                for (i64 i = 0; i < n0; i++) {                                                        \
                    const U *RESTRICT from = src + off + i * s0;                                      \
                    for (i64 j = 0; j < n1; j++) to[i * n1 + j] = from[j * s1];                       \
                }                                                                                     \
            }                                                                                         \
        }                                                                                             \
    }

PERMUTED_COPY(uint8_t)
PERMUTED_COPY(uint16_t)
PERMUTED_COPY(uint32_t)
PERMUTED_COPY(uint64_t)

/* dst[m, i, j] = src[offset(m) + i*s0 + j*s1] for the blocks m in [start, stop).
 *
 * m runs row-major over outer_shape (element strides outer_strides in src); dst is flat, n0 * n1 items
 * per block.  When the middle axis is contiguous in src the copy reads along it (its writes then stride
 * n1). */
static int permuted_copy(const kargs_t *A) {
    const i64 D = A->a[2].shape[0], *shape = (const i64 *)A->a[2].p, *strides = (const i64 *)A->a[3].p;
    const i64 n0 = A->i[2], s0 = A->i[3], n1 = A->i[4], s1 = A->i[5];
    const void *src = A->a[0].p;
    void *dst = A->a[1].p;
    switch (A->a[0].itemsize) {
    case 1: permuted_copy_uint8_t(A->i[0], A->i[1], src, dst, shape, strides, D, n0, s0, n1, s1); break;
    case 2: permuted_copy_uint16_t(A->i[0], A->i[1], src, dst, shape, strides, D, n0, s0, n1, s1); break;
    case 4: permuted_copy_uint32_t(A->i[0], A->i[1], src, dst, shape, strides, D, n0, s0, n1, s1); break;
    default: permuted_copy_uint64_t(A->i[0], A->i[1], src, dst, shape, strides, D, n0, s0, n1, s1); break;
    }
    return 0;
}
