"""Gradients (vector-Jacobian products) of every upconv operator.

For an operator ``y = f(x, weight, bias, ...)`` and the gradient
``grad_out = dL/dy`` of a scalar loss ``L``, the function
``f_grad_<arg>(grad_out, <f's arguments>)`` returns ``dL/d<arg>``: one
function per (operator, differentiable argument), named
``<operator>_grad_input``, ``<operator>_grad_weight`` and
``<operator>_grad_bias``.

Every function takes ``grad_out`` followed by the forward call's arguments,
unchanged (same names, order and defaults), so that a forward call
``f(*args, **kwargs)`` is differentiated by ``f_grad_input(g, *args,
**kwargs)``.  Arguments a gradient does not depend on (``bias`` for the input
gradient, the values of ``x`` for a linear operator's input gradient) are
accepted and validated but not read.  ``grad_out`` must have the shape of the
forward output; results have the shape of the argument, and the dtype rule of
the forward function.

The two gradients the seeds are about:

* **conv's input gradient is** :func:`upconv.conv_transpose` with the same
  weight, stride, padding and dilation, and the ``output_padding`` that gives
  back the input's size (:func:`upconv.shapes.conv_transpose_output_padding`);
* **conv_transpose's input gradient is** :func:`upconv.conv` with the same
  parameters.

Weight gradients are correlations of the input with the output gradient,
computed as im2col (the windows :func:`upconv.conv` multiplies) + one
GEMM per group over the batch and output positions, in batch chunks of
bounded size.

=========================  ==================================================
conv, conv_transpose       input (each other), weight, bias
resize_conv                input, weight, bias
max_pool                   input: ``grad_out`` scattered (added) to the argmax
max_unpool                 input: ``grad_out`` gathered at the indices
unpool                     input: block sums (nearest), strided slice (nails)
pixel_shuffle & co.        input: the inverse rearrangement
interpolate, resize        input: the transposed interpolation
=========================  ==================================================
"""

from __future__ import annotations

from upconv.grad.convolution import (
    conv_grad_bias,
    conv_grad_input,
    conv_grad_weight,
    conv_transpose_grad_bias,
    conv_transpose_grad_input,
    conv_transpose_grad_weight,
)
from upconv.grad.interpolation import interpolate_grad_input, resize_grad_input
from upconv.grad.pooling import (
    max_pool_grad_input,
    max_unpool_grad_input,
    unpool_grad_input,
)
from upconv.grad.rearrange import (
    depth_to_space_grad_input,
    pixel_shuffle_grad_input,
    pixel_unshuffle_grad_input,
    space_to_depth_grad_input,
)
from upconv.grad.resize_convolution import (
    resize_conv_grad_bias,
    resize_conv_grad_input,
    resize_conv_grad_weight,
)

__all__ = [
    "conv_grad_input",
    "conv_grad_weight",
    "conv_grad_bias",
    "conv_transpose_grad_input",
    "conv_transpose_grad_weight",
    "conv_transpose_grad_bias",
    "max_pool_grad_input",
    "max_unpool_grad_input",
    "unpool_grad_input",
    "pixel_shuffle_grad_input",
    "pixel_unshuffle_grad_input",
    "depth_to_space_grad_input",
    "space_to_depth_grad_input",
    "interpolate_grad_input",
    "resize_grad_input",
    "resize_conv_grad_input",
    "resize_conv_grad_weight",
    "resize_conv_grad_bias",
]
