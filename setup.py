"""Build the compiled kernels (upconv.kernels._native); the package metadata is in pyproject.toml.

The kernels (src/upconv/kernels/csrc/kernels.c) are compiled once per instruction-set variant, each
object file exporting its own table, and linked with the binding (module.c, compiled for the baseline)
into one extension module, which picks the variant the CPU supports when it is imported.  On x86-64 the
variants are the baseline (SSE2), AVX2 + FMA and AVX-512 (F, VL, BW, DQ, CD: 32 vector registers); on
other machines one build for the baseline of the architecture (aarch64: NEON with FMA).  An optional
variant that the compiler cannot build is left out with a warning.  Needs a C compiler (GCC or Clang).
"""

from __future__ import annotations

import glob
import os
import platform
from concurrent.futures import ThreadPoolExecutor

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

CSRC = os.path.join("src", "upconv", "kernels", "csrc")
# No contraction of a*b + c into an FMA unless the source asks for one (results are reproducible and
# equal to NumPy's and torch's where the tests pin them); -fopenmp-simd only honours "omp simd" pragmas.
# -fno-wrapv and -g0 undo two of Python's CFLAGS: wrapping signed overflow stops loop optimisations.
FLAGS = ["-O3", "-std=gnu11", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math", "-fopenmp-simd",
         "-fvisibility=hidden", "-Wno-psabi", "-fno-wrapv", "-g0", "-funroll-loops"]
X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686", "x86")
AVX2 = ["-mavx2", "-mfma"]
VARIANTS = {
    "base": [],
    "avx2": AVX2,
    # GCC's generic tuning would auto-vectorise with 512-bit vectors; the kernels' own blocks are 256-bit
    "avx512": AVX2 + ["-mavx512f", "-mavx512vl", "-mavx512bw", "-mavx512dq", "-mavx512cd", "-mprefer-vector-width=256"],
} if X86 else {"base": []}


class BuildKernels(build_ext):
    """build_ext that compiles the kernels once per variant (in parallel) before linking the extension."""

    def build_extension(self, ext: Extension) -> None:
        if ext.name != "upconv.kernels._native":
            super().build_extension(ext)
            return
        if self.compiler.compiler_type == "msvc":
            raise RuntimeError("upconv's kernels need GCC or Clang (they use GNU C vector extensions)")
        target = self.get_ext_fullpath(ext.name)
        sources = glob.glob(os.path.join(CSRC, "*"))
        if not self.force and os.path.exists(target) and all(
                os.path.getmtime(s) <= os.path.getmtime(target) for s in sources + [__file__]):
            return  # up to date

        def compile_variant(name: str) -> list[str]:
            try:
                return self.compiler.compile([os.path.join(CSRC, "kernels.c")],
                                             output_dir=os.path.join(self.build_temp, "variant_" + name),
                                             macros=[("UPCONV_VARIANT", name)], include_dirs=[CSRC],
                                             extra_postargs=FLAGS + VARIANTS[name])
            except Exception as error:  # an old compiler without the variant's flags: leave it out
                if name == "base":
                    raise
                self.warn(f"upconv: the {name} kernels are left out ({error})")
                return []

        with ThreadPoolExecutor(len(VARIANTS)) as pool:
            objects = dict(zip(VARIANTS, pool.map(compile_variant, VARIANTS), strict=True))
        ext.extra_objects = [o for objs in objects.values() for o in objs]
        ext.define_macros = [(f"UPCONV_HAVE_{name.upper()}", "1") for name, objs in objects.items()
                             if objs and name != "base"]
        ext.extra_compile_args = FLAGS
        self.force = True  # the variants were compiled: link
        super().build_extension(ext)


setup(
    ext_modules=[Extension("upconv.kernels._native", sources=[os.path.join(CSRC, "module.c")],
                           include_dirs=[CSRC], depends=glob.glob(os.path.join(CSRC, "*")))],
    cmdclass={"build_ext": BuildKernels},
)
