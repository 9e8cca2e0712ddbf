/* A matrix product whose every element is one fixed sum: C[m, n] = sum_k A[m, k] B[k, n], accumulated
 * in the order k = 0, 1, ..., K-1 (one multiply-add after another, from zero), whatever the shapes.
 *
 * A BLAS rounds an element differently depending on the matrix it sits in (its kernels, blocks and thread
 * split depend on M, N and K), so a convolution computed on part of an image, or a batch of another size,
 * differs from the whole in the last bits.  This product gives every element the same sum in every
 * matrix: results do not depend on the batch, the chunking or the threads (upconv.ops.paths.matmul).
 *
 * It is blocked like BLIS: C is cut into tiles of MC x NC (the items, ranged over by parallel_for); each
 * tile goes through K in blocks of KC, packing its A block into panels of MR rows and its B block into
 * panels of NR (two vectors of) columns, and a register block of MR rows x 2 vectors of C is multiplied
 * out over the block; a tile of one or two row panels reads B in place instead (it would use a packed
 * panel only once or twice).  Storing an accumulator between K blocks and loading it again rounds nothing (it is already in
 * the element type), so the blocking does not change the sum.  Included by kernels.c. */

#include <pthread.h>

#if defined(__AVX512F__)
#define GEMM_VB 64 /* bytes of a vector */
#define GEMM_MR 14 /* rows of a register block: MR x 2 accumulators, of 32 vector registers */
#elif defined(__aarch64__)
#define GEMM_VB 32 /* two NEON registers */
#define GEMM_MR 6
#elif defined(__AVX__)
#define GEMM_VB 32
#define GEMM_MR 6 /* 12 accumulators of 16 registers */
#else
#define GEMM_VB 32 /* two SSE registers */
#define GEMM_MR 3
#endif
#define GEMM_KC (1024 / (i64)sizeof(T)) /* depth of a block: a B panel of KC x NR stays in L1 */

typedef float gvf __attribute__((vector_size(GEMM_VB)));
typedef float gvf_u __attribute__((vector_size(GEMM_VB), aligned(4), may_alias));
typedef double gvd __attribute__((vector_size(GEMM_VB)));
typedef double gvd_u __attribute__((vector_size(GEMM_VB), aligned(8), may_alias));

/* a * b + c, lane by lane: one rounding where the instruction set has FMA, else two */
ALWAYS_INLINE gvf gfma_f32(gvf a, gvf b, gvf c) {
#if defined(__AVX512F__)
    return (gvf)_mm512_fmadd_ps((__m512)a, (__m512)b, (__m512)c);
#else
    return vfma(a, b, c); /* simd.h's: gvf is its 8-lane vector here */
#endif
}

ALWAYS_INLINE gvd gfma_f64(gvd a, gvd b, gvd c) {
#if defined(__AVX512F__)
    return (gvd)_mm512_fmadd_pd((__m512d)a, (__m512d)b, (__m512d)c);
#elif defined(__FMA__)
    return (gvd)_mm256_fmadd_pd((__m256d)a, (__m256d)b, (__m256d)c);
#elif defined(__aarch64__)
    union { gvd v; float64x2_t h[2]; } x = {a}, y = {b}, z = {c}, r;
    r.h[0] = vfmaq_f64(z.h[0], x.h[0], y.h[0]);
    r.h[1] = vfmaq_f64(z.h[1], x.h[1], y.h[1]);
    return r.v;
#else
    return a * b + c;
#endif
}

/* The packing buffers of the calling thread, grown as needed and kept until the thread ends (under 1 MiB). */
typedef struct {
    void *p;
    size_t bytes;
} gemm_buffer_t;

static pthread_key_t gemm_key;
static pthread_once_t gemm_key_once = PTHREAD_ONCE_INIT;
static int gemm_key_failed = 0;

static void gemm_buffer_free(void *buffer) {
    free(((gemm_buffer_t *)buffer)->p);
    free(buffer);
}

static void gemm_key_create(void) { gemm_key_failed = pthread_key_create(&gemm_key, gemm_buffer_free) != 0; }

static void *gemm_workspace(size_t bytes) {
    if (pthread_once(&gemm_key_once, gemm_key_create) != 0 || gemm_key_failed) return NULL;
    gemm_buffer_t *b = pthread_getspecific(gemm_key);
    if (!b) {
        if (!(b = calloc(1, sizeof *b))) return NULL;
        if (pthread_setspecific(gemm_key, b) != 0) {
            free(b);
            return NULL;
        }
    }
    if (bytes <= b->bytes) return b->p;
    bytes = (bytes + 63) / 64 * 64;
    void *p = aligned_alloc(64, bytes);
    if (!p) return NULL;
    free(b->p);
    b->p = p;
    b->bytes = bytes;
    return p;
}

#define T float
#define V gvf
#define VU gvf_u
#define FN(name) name##_f32
#include "gemm_t.h"
#undef T
#undef V
#undef VU
#undef FN
#define T double
#define V gvd
#define VU gvd_u
#define FN(name) name##_f64
#include "gemm_t.h"
#undef T
#undef V
#undef VU
#undef FN
