"""Rotate-and-flip alignment of 2D solutions into one canonical orientation.

A toy model is only defined up to an orthogonal map of its hidden space (W -> Q W leaves
W^T W, and so the model's function, unchanged). To compare models side by side, the paper
shows them "rotated and flipped" into a consistent orientation. Our rule:

1. Anchor: the lowest-index *represented* feature (norm >= ``min_norm``) is rotated onto +x.
2. Flip: the lowest-index represented feature that is not collinear with the anchor
   (|sin(angle)| > ``collinear_sin``) is reflected, if needed, into the upper half-plane.
   If every feature is collinear with the anchor (antipodal or collapsed solutions), no
   reflection is applied: such solutions are already symmetric under y -> -y.

The rule depends only on angles and norms, which orthogonal maps preserve, so aligning
``Q W`` gives the same result as aligning ``W`` for any rotation or reflection Q, and
aligning twice changes nothing.
"""

from __future__ import annotations

import numpy as np

from tms.analysis.metrics import REPRESENTED_NORM

COLLINEAR_SIN = float(np.sin(np.deg2rad(1.0)))


def canonical_rotation(W, min_norm: float = REPRESENTED_NORM, collinear_sin: float = COLLINEAR_SIN) -> np.ndarray:
    """Orthogonal Q (I, 2, 2) such that Q @ W is in canonical orientation; W is (I, 2, n) or (2, n)."""
    W = np.asarray(W, dtype=np.float64)
    single = W.ndim == 2
    W = W[None] if single else W
    assert W.shape[1] == 2, "alignment is defined for 2D solutions (m = 2)"
    I, _, n = W.shape
    norms = np.linalg.norm(W, axis=1)  # (I, n)
    rep = norms >= min_norm
    # Models with no represented feature are anchored on their largest feature.
    anchor = np.where(rep.any(1), rep.argmax(1), norms.argmax(1))  # (I,)
    a = W[np.arange(I), :, anchor]  # (I, 2)
    theta = np.arctan2(a[:, 1], a[:, 0])
    c, s = np.cos(-theta), np.sin(-theta)
    rot = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)  # (I, 2, 2)
    rotated = rot @ W  # (I, 2, n)
    sin = np.divide(rotated[:, 1, :], norms, out=np.zeros_like(norms), where=norms > 0)
    off_axis = rep & (np.abs(sin) > collinear_sin)
    first = off_axis.argmax(1)
    flip = off_axis.any(1) & (rotated[np.arange(I), 1, first] < 0)
    reflect = np.where(flip, -1.0, 1.0)
    Q = rot * np.stack([np.ones(I), reflect], -1)[:, :, None]  # scale row 1 of rot by +-1
    return Q[0] if single else Q


def align_2d(W, **kwargs) -> np.ndarray:
    """W (I, 2, n) or (2, n) rotated and flipped into canonical orientation (same shape)."""
    W = np.asarray(W, dtype=np.float64)
    return canonical_rotation(W, **kwargs) @ W
