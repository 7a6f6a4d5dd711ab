"""Uniform random numbers on [0, 1), faster than ``torch.rand`` on the CPU.

``torch.rand`` on the CPU spends one 32-bit Mersenne-Twister draw per float32 and then uses only
24 of its bits. ``uniform`` instead fills an int64 buffer with ``random_`` (one 64-bit draw per
element, about as costly as one float draw), reads it as int32 pairs and keeps the low 24 bits of
each: two floats per draw, each exactly k * 2**-24 with k uniform on [0, 2**24), which is the
same distribution ``torch.rand`` produces. On other devices it defers to ``torch.rand``.
"""

from __future__ import annotations

import math

import torch

_MASK = (1 << 24) - 1
_SCALE = 2.0**-24


def uniform(shape, generator: torch.Generator, device=None) -> torch.Tensor:
    """float32 U[0, 1) of ``shape`` drawn from ``generator``."""
    device = torch.device(device if device is not None else generator.device)
    if device.type != "cpu":
        return torch.rand(shape, generator=generator, device=device)
    count = math.prod(shape)
    bits = torch.empty((count + 1) // 2, dtype=torch.int64).random_(generator=generator)
    halves = bits.view(torch.int32)[:count]  # low halves hold 32 random bits, high halves 31
    return halves.bitwise_and_(_MASK).to(torch.float32).mul_(_SCALE).view(shape)
