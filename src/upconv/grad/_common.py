"""What every gradient shares: the check of grad_out and the bias gradient."""

from __future__ import annotations

import numpy as np

# --------------------------------------------------------------------------
# shared helpers


def _check_grad_out(func: str, grad_out: np.ndarray, expected: tuple[int, ...], op: str) -> None:
    if grad_out.shape != tuple(expected):
        raise ValueError(
            f"{func}: grad_out must have the shape of {op}'s output, {tuple(expected)}, got {grad_out.shape}"
        )


def _sum_bias(grad_out: np.ndarray, unbatched: bool) -> np.ndarray:
    """``dL/db``: ``grad_out`` summed over every axis but the channel axis."""
    axes = tuple(a for a in range(grad_out.ndim) if a != (0 if unbatched else 1))
    return grad_out.sum(axis=axes)
