/* PNG scanline unfiltering, for upconv.images.files's 16-bit PNG decoder (files that use the Average or
 * Paeth filters, whose recurrences do not vectorise).  Included by kernels.c. */

/* Undo the PNG filters in place: rows[y] (h, n) was filtered with types[y] (0 None .. 4 Paeth).
 * Arithmetic is modulo 256 on bytes; a is the byte bpp to the left, b the byte above, c the byte above
 * a (zero outside the image). */
static int unfilter(const kargs_t *A) {
    const uint8_t *types = (const uint8_t *)A->a[0].p;
    uint8_t *rows = (uint8_t *)A->a[1].p;
    const i64 h = A->a[1].shape[0], n = A->a[1].shape[1], bpp = A->i[0];
    if (A->a[0].size < h) return -2;
    for (i64 y = 0; y < h; y++) {
        const int t = types[y];
        uint8_t *row = rows + y * n;
        const uint8_t *up = y > 0 ? row - n : row;
        for (i64 i = 0; i < n; i++) {
            const int a = i >= bpp ? row[i - bpp] : 0, b = y > 0 ? up[i] : 0;
            const int c = (y > 0 && i >= bpp) ? up[i - bpp] : 0;
            int pred;
            if (t == 0) {
                pred = 0;
            } else if (t == 1) {
                pred = a;
            } else if (t == 2) {
                pred = b;
            } else if (t == 3) {
                pred = (a + b) / 2;
            } else {
                const int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
                pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
            }
            row[i] = (uint8_t)((row[i] + pred) & 255);
        }
    }
    return 0;
}
