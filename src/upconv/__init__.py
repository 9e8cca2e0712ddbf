"""upconv: up-sampling for neural networks on NumPy, exact to PyTorch and ONNX.

Operators
---------
conv, conv_transpose
    N-d convolution and transposed convolution (torch semantics); the
    transposed convolution computed four ways (``method=``).

Explaining
----------
conv_matrix
    The sparse matrix C of a convolution (its transpose is the transposed
    convolution).
shapes
    Every size and padding formula, on plain integers.

Configuration
-------------
get_memory_limit, set_memory_limit
"""

from . import shapes
from ._validate import get_memory_limit, set_memory_limit
from .conv import conv, conv_transpose
from .matrix import conv_matrix

__version__ = "0.1.0"

__all__ = [
    "conv",
    "conv_transpose",
    "conv_matrix",
    "shapes",
    "get_memory_limit",
    "set_memory_limit",
]
