"""Eight-lane float32 vectors for the compiled kernels (numba intrinsics).  Imported lazily, with numba.

numba compiles loops to SIMD code only when LLVM's loop vectoriser can
vectorise an innermost loop; it cannot keep a block of accumulators in
registers across a reduction, which is what a fast direct convolution
needs (numba leaves LLVM's SLP vectoriser off).  These intrinsics give the
kernels an explicit vector type instead: ``f32x8`` is LLVM's ``<8 x float>``,
which LLVM maps to one AVX register, two SSE/NEON registers, or whatever
the machine has, so the kernels stay portable.  A kernel holds a few of them
in local variables (registers) and accumulates with :func:`vfma`.

Loads and stores take a float32 array and a flat element index; they do no
bounds checks, so the caller guarantees that ``index + 8`` elements exist.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, models, register_model

#: Lanes of a vector.
LANES = 8

_VEC = ir.VectorType(ir.FloatType(), LANES)


def wide_register_file() -> bool:
    """Whether numba compiles for 32 vector registers of 8 lanes (x86 AVX-512VL): room for 24 accumulators.

    A block of 24 accumulators needs 31 registers with its 6 inputs and a
    weight; with 16 (AVX2) or 128-bit ones (NEON) the kernels keep to blocks of 12.
    """
    from numba.core import codegen, config

    features = config.CPU_FEATURES if config.CPU_FEATURES is not None else codegen.get_host_cpu_features()
    return "+avx512vl" in features.split(",")


class F32x8(types.Type):
    """numba type of an ``<8 x float>`` value."""

    def __init__(self) -> None:
        super().__init__(name="f32x8")


f32x8 = F32x8()


@register_model(F32x8)
class _F32x8Model(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, _VEC)


def _address(context, builder, array_type, array, index):
    data = context.make_array(array_type)(context, builder, array).data
    return builder.bitcast(builder.gep(data, [index]), _VEC.as_pointer())


def _check_array(arr) -> None:
    if not (isinstance(arr, types.Array) and arr.dtype == types.float32):
        raise TypeError(f"f32x8 loads and stores need a float32 array, not {arr}")


@intrinsic
def vload(typingctx, arr, index):
    """``arr.flat[index : index + 8]`` as a vector (unaligned load)."""
    _check_array(arr)

    def codegen(context, builder, sig, args):
        return builder.load(_address(context, builder, sig.args[0], args[0], args[1]), align=4)

    return f32x8(arr, index), codegen


@intrinsic
def vstore(typingctx, arr, index, value):
    """``arr.flat[index : index + 8] = value`` (unaligned store)."""
    _check_array(arr)

    def codegen(context, builder, sig, args):
        builder.store(args[2], _address(context, builder, sig.args[0], args[0], args[1]), align=4)
        return context.get_dummy_value()

    return types.void(arr, index, value), codegen


@intrinsic
def vprefetch_write(typingctx, arr, index):
    """Ask the cache for the line of ``arr.flat[index]``, about to be written (a hint: never faults)."""
    _check_array(arr)

    def codegen(context, builder, sig, args):
        data = context.make_array(sig.args[0])(context, builder, args[0]).data
        address = builder.bitcast(builder.gep(data, [args[1]]), ir.IntType(8).as_pointer())
        i32 = ir.IntType(32)
        prefetch = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [address.type, i32, i32, i32]), "llvm.prefetch.p0i8")
        # write, keep in all cache levels, data cache
        builder.call(prefetch, [address, ir.Constant(i32, 1), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return types.void(arr, index), codegen


@intrinsic
def vstream(typingctx, arr, index, value):
    """``arr.flat[index : index + 8] = value``, past the caches (a non-temporal store).

    The address must be a multiple of 32 bytes.  Streamed stores are weakly
    ordered: a kernel that makes them ends with :func:`vfence`.
    """
    _check_array(arr)

    def codegen(context, builder, sig, args):
        store = builder.store(args[2], _address(context, builder, sig.args[0], args[0], args[1]), align=32)
        store.set_metadata("nontemporal", builder.module.add_metadata([ir.Constant(ir.IntType(32), 1)]))
        return context.get_dummy_value()

    return types.void(arr, index, value), codegen


@intrinsic
def vfence(typingctx):
    """A full memory fence: every store before it, streamed ones too, is visible before any after it."""

    def codegen(context, builder, sig, args):
        builder.fence("seq_cst")
        return context.get_dummy_value()

    return types.void(), codegen


@intrinsic
def vsplat(typingctx, value):
    """A vector with ``value`` (a float32) in every lane."""

    def codegen(context, builder, sig, args):
        one = builder.insert_element(ir.Constant(_VEC, ir.Undefined), args[0], ir.Constant(ir.IntType(32), 0))
        zeros = ir.Constant(ir.VectorType(ir.IntType(32), LANES), [0] * LANES)
        return builder.shuffle_vector(one, ir.Constant(_VEC, ir.Undefined), zeros)

    return f32x8(types.float32), codegen


@intrinsic
def vzero(typingctx):
    """The zero vector."""

    def codegen(context, builder, sig, args):
        return ir.Constant(_VEC, [0.0] * LANES)

    return f32x8(), codegen


@intrinsic
def vfma(typingctx, a, b, c):
    """``a * b + c`` lane by lane, fused into one instruction where the machine has FMA."""

    def codegen(context, builder, sig, args):
        product = builder.fmul(args[0], args[1], flags=("contract",))
        return builder.fadd(product, args[2], flags=("contract",))

    return f32x8(a, b, c), codegen


def _splat_i32(builder, value):
    i32 = ir.IntType(32)
    value = builder.trunc(value, i32) if value.type.width > 32 else value
    one = builder.insert_element(ir.Constant(ir.VectorType(i32, LANES), ir.Undefined), value, ir.Constant(i32, 0))
    return builder.shuffle_vector(one, ir.Constant(ir.VectorType(i32, LANES), ir.Undefined),
                                  ir.Constant(ir.VectorType(i32, LANES), [0] * LANES))


def _keep_lanes(builder, a, lo, hi):
    """``a`` with the lanes outside ``[lo, hi)`` set to zero (``lo`` None: from lane 0)."""
    lanes = ir.Constant(ir.VectorType(ir.IntType(32), LANES), list(range(LANES)))
    keep = builder.icmp_signed("<", lanes, _splat_i32(builder, hi))
    if lo is not None:
        keep = builder.and_(keep, builder.icmp_signed(">=", lanes, _splat_i32(builder, lo)))
    return builder.select(keep, a, ir.Constant(_VEC, [0.0] * LANES))


@intrinsic
def vhead(typingctx, a, count):
    """``a`` with the lanes from ``count`` on set to zero."""

    def codegen(context, builder, sig, args):
        return _keep_lanes(builder, args[0], None, args[1])

    return f32x8(a, count), codegen


@intrinsic
def vrange(typingctx, a, lo, hi):
    """``a`` with the lanes outside ``[lo, hi)`` set to zero."""

    def codegen(context, builder, sig, args):
        return _keep_lanes(builder, args[0], args[1], args[2])

    return f32x8(a, lo, hi), codegen


@intrinsic
def vadd(typingctx, a, b):
    """``a + b`` lane by lane."""

    def codegen(context, builder, sig, args):
        return builder.fadd(args[0], args[1])

    return f32x8(a, b), codegen


def _interleave(builder, a, b, first):
    """Lanes ``first .. first + 3`` of ``a`` and ``b``, interleaved."""
    mask = [i for u in range(first, first + LANES // 2) for i in (u, LANES + u)]
    return builder.shuffle_vector(a, b, ir.Constant(ir.VectorType(ir.IntType(32), LANES), mask))


@intrinsic
def vzip_lo(typingctx, a, b):
    """``[a0, b0, a1, b1, a2, b2, a3, b3]``: the low halves of ``a`` and ``b``, interleaved."""

    def codegen(context, builder, sig, args):
        return _interleave(builder, args[0], args[1], 0)

    return f32x8(a, b), codegen


@intrinsic
def vzip_hi(typingctx, a, b):
    """``[a4, b4, a5, b5, a6, b6, a7, b7]``: the high halves of ``a`` and ``b``, interleaved."""

    def codegen(context, builder, sig, args):
        return _interleave(builder, args[0], args[1], LANES // 2)

    return f32x8(a, b), codegen


@intrinsic
def vsum(typingctx, a):
    """The sum of the lanes of ``a`` (a float32), added pairwise."""

    def codegen(context, builder, sig, args):
        v = args[0]
        width = LANES
        while width > 1:
            width //= 2
            lo = builder.shuffle_vector(v, v, ir.Constant(ir.VectorType(ir.IntType(32), width), list(range(width))))
            hi = builder.shuffle_vector(v, v, ir.Constant(ir.VectorType(ir.IntType(32), width),
                                                         list(range(width, 2 * width))))
            v = builder.fadd(lo, hi)
        return builder.extract_element(v, ir.Constant(ir.IntType(32), 0))

    return types.float32(a), codegen
