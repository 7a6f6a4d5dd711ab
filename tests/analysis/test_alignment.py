"""Rotate-and-flip alignment: orthogonal, idempotent, and blind to the input's orientation."""

import numpy as np
import pytest

from tms.analysis.alignment import align_2d, canonical_rotation


def rotation(theta):
    return np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])


FLIP = np.diag([1.0, -1.0])


def solutions():
    rng = np.random.default_rng(0)
    generic = rng.normal(size=(6, 2, 6))
    antipodal = np.array([[[1.0, -1.0, 0.0, 0.0], [0.0, 0.0, 1.0, -1.0]]])  # two opposite pairs
    collapsed = np.array([[[1.0, 0.99, -1.0, -0.98], [0.0, 0.05, 0.0, -0.04]]])
    all_collinear = np.array([[[0.8, -0.8, 0.0], [0.6, -0.6, 0.0]]])  # third feature unrepresented
    return [generic, antipodal, collapsed, all_collinear]


@pytest.mark.parametrize("W", solutions())
def test_alignment_is_orthogonal_so_gram_is_unchanged(W):
    Q = canonical_rotation(W)
    assert np.allclose(Q @ np.swapaxes(Q, 1, 2), np.eye(2))
    A = align_2d(W)
    assert np.allclose(np.swapaxes(A, 1, 2) @ A, np.swapaxes(W, 1, 2) @ W)


@pytest.mark.parametrize("W", solutions())
def test_alignment_is_idempotent(W):
    A = align_2d(W)
    assert np.allclose(align_2d(A), A)


@pytest.mark.parametrize("W", solutions())
@pytest.mark.parametrize("theta", [0.3, 2.0, -2.7])
@pytest.mark.parametrize("reflect", [False, True])
def test_rotating_or_reflecting_the_input_gives_the_same_output(W, theta, reflect):
    Q = rotation(theta) @ (FLIP if reflect else np.eye(2))
    assert np.allclose(align_2d(Q @ W), align_2d(W), atol=1e-9)


def test_canonical_orientation_puts_first_feature_on_positive_x_and_next_above():
    A = align_2d(np.random.default_rng(1).normal(size=(2, 5)))
    assert A[1, 0] == pytest.approx(0, abs=1e-12) and A[0, 0] > 0
    assert A[1, 1] > 0


def test_unrepresented_first_feature_is_not_the_anchor():
    W = np.array([[0.01, 0.0, 1.0], [0.02, -1.0, 0.0]])  # feature 0 has a negligible norm
    A = align_2d(W)
    assert A[0, 1] == pytest.approx(1.0) and A[1, 1] == pytest.approx(0.0, abs=1e-12)
