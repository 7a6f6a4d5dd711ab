"""Geometry of trained toy models: pure numpy functions of W and the feature layout.

Shapes: W is (I, m, n) for I models (a single (m, n) model is promoted to I = 1), set_id is
(n,) with -1 for independent features. Columns W[:, :, i] are the feature directions.

Thresholds, and why:
- REPRESENTED_NORM = 0.5: a represented feature of these models has ||W_i|| near 1 (it must
  be reconstructed through W^T W); a dropped one decays towards 0 under weight decay. In the
  committed structured 2D models almost no norm lies between 0.1 and 0.5 and none near the
  cut (docs/statistics.md gives the counts); independent-feature controls are less clear-cut.
- COLLAPSE_COS = cos(20 deg) ~ 0.94: two represented features of a set are "collapsed" onto one
  direction when the angle between them is under 20 degrees. In a 2D model the tightest
  non-collapsed arrangement of 3 sets puts 6 directions about 60 degrees apart, so 20 degrees
  sits well inside the gap between "same direction" and "distinct directions".
"""

from __future__ import annotations

import warnings
from itertools import combinations

import numpy as np

from tms.core.structure import set_count

REPRESENTED_NORM = 0.5
COLLAPSE_DEG = 20.0  # a set collapses when its features lie within this angle of one direction
COLLAPSE_COS = float(np.cos(np.deg2rad(COLLAPSE_DEG)))


def _batched(W) -> np.ndarray:
    W = np.asarray(W, dtype=np.float64)
    return W[None] if W.ndim == 2 else W


def set_members(set_id) -> list:
    """Feature indices of each set, in set-id order."""
    set_id = np.asarray(set_id)
    return [np.flatnonzero(set_id == s) for s in range(set_count(set_id))]


def nanmean_rows(values) -> np.ndarray:
    """(I,) mean over axis 1 ignoring NaN (sets with no represented pair); NaN, silently, if none."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, 1)


def feature_norms(W) -> np.ndarray:
    """(I, n) length of each feature direction."""
    return np.linalg.norm(_batched(W), axis=1)


def represented(W, threshold: float = REPRESENTED_NORM) -> np.ndarray:
    """(I, n) True where a feature has a non-negligible direction."""
    return feature_norms(W) >= threshold


def cosine_matrix(W) -> np.ndarray:
    """(I, n, n) cosine between every pair of feature directions (0 for zero vectors)."""
    W = _batched(W)
    norms = np.linalg.norm(W, axis=1, keepdims=True)  # (I, 1, n)
    unit = np.divide(W, norms, out=np.zeros_like(W), where=norms > 0)
    return np.einsum("imj,imk->ijk", unit, unit)


def pair_angles(W, set_id) -> np.ndarray:
    """(I, n_sets) angle in degrees between the first two features of each set."""
    cos = cosine_matrix(W)
    members = set_members(set_id)
    return np.degrees(np.arccos(np.clip(np.stack([cos[:, s[0], s[1]] for s in members], 1), -1, 1)))


def _within_set_mean(values: np.ndarray, mask: np.ndarray, set_id) -> np.ndarray:
    """(I, n_sets) mean of values[i, a, b] over represented pairs a < b within each set."""
    out = []
    for s in set_members(set_id):
        pairs = list(combinations(s, 2))
        v = np.stack([values[:, a, b] for a, b in pairs], 1)  # (I, pairs)
        ok = np.stack([mask[:, a] & mask[:, b] for a, b in pairs], 1)
        with np.errstate(invalid="ignore"):
            out.append(np.where(ok.any(1), (v * ok).sum(1) / ok.sum(1), np.nan))
    return np.stack(out, 1)


def within_set_abs_cos(W, set_id) -> np.ndarray:
    """(I, n_sets) orthogonality of each set: mean |cos| over its represented pairs (0 = orthogonal)."""
    return _within_set_mean(np.abs(cosine_matrix(W)), represented(W), set_id)


def within_set_cos(W, set_id) -> np.ndarray:
    """(I, n_sets) antipodality of each set: mean cos over its represented pairs (-1 = opposite)."""
    return _within_set_mean(cosine_matrix(W), represented(W), set_id)


def collapsed(W, set_id, threshold: float = COLLAPSE_COS) -> np.ndarray:
    """(I, n_sets) True where every feature of a set is represented and all of them point the
    same way (every pair within ``threshold``). A set with an unrepresented feature is "partly
    dropped", not collapsed."""
    cos = cosine_matrix(W)
    rep = represented(W)
    out = []
    for s in set_members(set_id):
        pairs = list(combinations(s, 2))
        both = np.stack([rep[:, a] & rep[:, b] for a, b in pairs], 1)
        close = np.stack([cos[:, a, b] >= threshold for a, b in pairs], 1)
        out.append(both.all(1) & close.all(1))
    return np.stack(out, 1)


def sets_adjacent(W, set_id) -> np.ndarray:
    """(I,) for 2D models: in the circular angular order of all n feature directions, the
    features of every set occupy one contiguous arc (sets of any size). A model with an
    unrepresented feature has no such order of all features and gets False."""
    W = _batched(W)
    if W.shape[1] != 2:
        raise ValueError(f"sets_adjacent needs 2D models (m = 2); got m = {W.shape[1]}")
    set_id = np.asarray(set_id)
    I, _, n = W.shape
    order = np.argsort(np.arctan2(W[:, 1, :], W[:, 0, :]), axis=1, kind="stable")  # (I, n) features by angle
    position = np.argsort(order, axis=1)  # (I, n) each feature's place in that order
    successor = np.take_along_axis(order, (position + 1) % n, axis=1)  # (I, n) the next feature round
    result = represented(W).all(1)
    for s in set_members(set_id):
        # a contiguous arc has exactly one member whose successor leaves the set (none if it is everything)
        leaves = (set_id[successor[:, s]] != set_id[s[0]]).sum(1)
        result &= leaves <= 1
    return result


def angular_gaps(W) -> np.ndarray:
    """(I, n) for 2D models: the angles in degrees between circularly consecutive directions of
    all n features (they sum to 360)."""
    W = _batched(W)
    if W.shape[1] != 2:
        raise ValueError(f"angular_gaps needs 2D models (m = 2); got m = {W.shape[1]}")
    angle = np.sort(np.degrees(np.arctan2(W[:, 1, :], W[:, 0, :])), axis=1)
    return np.diff(np.concatenate([angle, angle[:, :1] + 360.0], axis=1), axis=1)


def regular_polygon_deviation(W) -> np.ndarray:
    """(I,) for 2D models: the largest |gap - 360/n| in degrees between consecutive feature
    directions (0 for a regular n-gon; unrepresented features count as directions too)."""
    gaps = angular_gaps(W)
    return np.abs(gaps - 360.0 / gaps.shape[1]).max(1)


def mean_abs_cos_within_between(W, set_id):
    """(within (I,), between (I,)): mean |cos| over pairs in the same set / in different sets."""
    cos = np.abs(cosine_matrix(W))
    set_id = np.asarray(set_id)
    in_set = set_id >= 0
    same = (set_id[:, None] == set_id[None, :]) & in_set[:, None] & ~np.eye(len(set_id), dtype=bool)
    other = (set_id[:, None] != set_id[None, :]) & in_set[:, None] & in_set[None, :]
    return (cos * same).sum((1, 2)) / max(same.sum(), 1), (cos * other).sum((1, 2)) / max(other.sum(), 1)


def max_abs_cos_within(W, set_id) -> np.ndarray:
    """(I,) largest |cos| between two features of the same set (0 = every set exactly orthogonal)."""
    cos = np.abs(cosine_matrix(W))
    set_id = np.asarray(set_id)
    same = (set_id[:, None] == set_id[None, :]) & (set_id[:, None] >= 0) & ~np.eye(len(set_id), dtype=bool)
    return np.where(same, cos, 0.0).max((1, 2)) if same.any() else np.zeros(cos.shape[0])


def local_basis_ratio(W, set_id) -> np.ndarray:
    """(I,) mean |cos| within sets divided by mean |cos| between sets.

    Well below 1 means each set forms a local almost-orthogonal basis while different sets
    share dimensions (superposition between, not within, sets).
    """
    within, between = mean_abs_cos_within_between(W, set_id)
    return within / np.maximum(between, 1e-12)


def dimensionality(W) -> np.ndarray:
    """(I, n) the paper's feature dimensionality D_i = ||W_i||^2 / sum_j (W_i_hat . W_j)^2."""
    W = _batched(W)
    norms = np.linalg.norm(W, axis=1)  # (I, n)
    unit = np.divide(W, norms[:, None, :], out=np.zeros_like(W), where=norms[:, None, :] > 0)
    dots = np.einsum("imj,imk->ijk", unit, W)  # (I, n, n): W_hat_j . W_k
    denom = (dots**2).sum(-1)
    return np.divide(norms**2, denom, out=np.zeros_like(norms), where=denom > 0)
