/* Kernels of max pooling and max unpooling (upconv.ops.pooling), float32 and float64 (pooling_t.h).
 * Included by kernels.c.  Each works on the planes [start, stop) of (planes, flat plane) arrays; the
 * N-d window geometry arrives as flat offsets, so one kernel serves every number of spatial axes. */

#define T float
#define FN(name) name##_f32
#include "pooling_t.h"
#undef T
#undef FN
#define T double
#define FN(name) name##_f64
#include "pooling_t.h"
#undef T
#undef FN
