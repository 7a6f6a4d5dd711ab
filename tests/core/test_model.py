"""The toy model: shapes, initialisation, and hand-derived gradients."""

import math

import numpy as np
import pytest
import torch

from tms.core import model, reference
from tms.core.config import FeatureSet
from tms.core.features import FeatureSampler
from tms.core.model import ToyModel, init_weights, loss_and_grads, loss_per_instance, reconstruct, sparse_loss_and_grads
from tms.core.streams import model_keys
from tms.core.structure import FeatureStructure


def random_problem(I=3, m=2, n=5, B=16, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    W = torch.randn((I, m, n), generator=g, dtype=dtype)
    b = torch.randn((I, n), generator=g, dtype=dtype) * 0.3
    x = torch.rand((I, B, n), generator=g, dtype=dtype) * (torch.rand((I, B, n), generator=g, dtype=dtype) < 0.5)
    importance = torch.rand((n,), generator=g, dtype=dtype) + 0.1
    return W, b, x, importance


def test_forward_shapes():
    model = ToyModel(n=6, m=2, seeds=range(4))
    x = torch.rand(4, 10, 6)
    assert model.W.shape == (4, 2, 6) and model.b.shape == (4, 6)
    assert model(x).shape == (4, 10, 6)
    assert model.loss(x).shape == (4,)


def test_forward_is_relu_of_wtw_x_plus_b():
    W, b, x, _ = random_problem()
    expected = torch.relu(torch.einsum("imn,imk,ibk->ibn", W, W, x) + b[:, None, :])
    torch.testing.assert_close(reconstruct(W, b, x), expected)


def test_instances_do_not_interact():
    W, b, x, imp = random_problem()
    full = loss_per_instance(W, b, x, imp)
    alone = loss_per_instance(W[1:2], b[1:2], x[1:2], imp)
    torch.testing.assert_close(full[1:2], alone)


ROUTES = [True, False]  # through the Gram matrix, through h = x W^T


def feature_major(x: torch.Tensor) -> torch.Tensor:
    """The same batch (I, K, n), laid out as (I, n, K) memory."""
    return x.transpose(1, 2).contiguous().transpose(1, 2)


@pytest.mark.parametrize("layout", ["sample-major", "feature-major"])
@pytest.mark.parametrize("gram", ROUTES)
@pytest.mark.parametrize("n_zero", [0, 7])
def test_hand_derived_gradients_match_the_plain_definition(n_zero, gram, layout, monkeypatch):
    """Loss and gradients of the fast path equal autograd through ``tms.core.reference.loss`` on
    the dense batch, whose n_zero all-zero samples the fast path only counts."""
    monkeypatch.setattr(model, "uses_gram", lambda m, n: gram)
    W, b, x, imp = random_problem()
    Wg, bg = W.clone().requires_grad_(), b.clone().requires_grad_()
    dense = torch.cat([x, torch.zeros(x.shape[0], n_zero, x.shape[2], dtype=x.dtype)], 1)
    loss = reference.loss(Wg, bg, dense, imp)
    loss.sum().backward()
    if layout == "feature-major":
        x = feature_major(x)
    assert model._feature_major(x) == (layout == "feature-major")
    manual_loss, dW, db = loss_and_grads(W, b, x, imp, n_zero)
    torch.testing.assert_close(manual_loss, loss.detach(), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(dW, Wg.grad, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(db, bg.grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("layout", ["sample-major", "feature-major"])
@pytest.mark.parametrize("gram", ROUTES)
def test_uniform_importance_shortcut_gives_the_same_numbers(gram, layout, monkeypatch):
    """Skipping the weighting when every importance is 1 changes no bit of loss or gradients."""
    monkeypatch.setattr(model, "uses_gram", lambda m, n: gram)
    W, b, x, _ = random_problem(dtype=torch.float32)
    if layout == "feature-major":
        x = feature_major(x)
    ones = torch.ones(x.shape[2])
    weighted = loss_and_grads(W, b, x, ones, 4)
    shortcut = loss_and_grads(W, b, x, ones, 4, uniform_importance=True)
    for a, e in zip(shortcut, weighted, strict=True):
        assert torch.equal(a, e)


def test_gradient_matches_finite_differences():
    W, b, x, imp = random_problem(I=2, n=4, B=8, seed=5)

    def loss_from(Wv, bv):
        return loss_per_instance(Wv, bv, x, imp, 3).sum()

    # Central differences are exact away from ReLU kinks; the seeded problem has none within eps.
    assert torch.autograd.gradcheck(loss_from, (W.requires_grad_(), b.requires_grad_()), eps=1e-6, atol=1e-6)
    _, dW, db = loss_and_grads(W.detach(), b.detach(), x, imp, 3)
    eps = 1e-6
    for idx in [(0, 0, 0), (1, 1, 3), (0, 1, 2)]:
        Wp, Wm = W.detach().clone(), W.detach().clone()
        Wp[idx] += eps
        Wm[idx] -= eps
        fd = (loss_from(Wp, b.detach()) - loss_from(Wm, b.detach())) / (2 * eps)
        assert abs(fd.item() - dW[idx].item()) < 1e-6


def test_implicit_zero_samples_equal_explicit_zero_rows():
    W, b, x, imp = random_problem(B=10)
    padded = torch.cat([x, torch.zeros(x.shape[0], 6, x.shape[2], dtype=x.dtype)], 1)
    torch.testing.assert_close(loss_per_instance(W, b, x, imp, 6), loss_per_instance(W, b, padded, imp))
    _, dW1, db1 = loss_and_grads(W, b, x, imp, 6)
    _, dW2, db2 = loss_and_grads(W, b, padded, imp, 0)
    torch.testing.assert_close(dW1, dW2)
    torch.testing.assert_close(db1, db2)


def test_init_is_xavier_normal_per_model_and_independent_of_instance_count():
    m, n = 3, 12
    W, b = init_weights(range(2000), m, n)
    expected_std = math.sqrt(2.0 / (m + n))
    # 72k draws: the sample std has relative standard error ~1/sqrt(2N) = 0.26%; allow 2%.
    assert abs(W.std().item() / expected_std - 1) < 0.02
    assert bool((b == 0).all())
    alone, _ = init_weights([7], m, n)
    torch.testing.assert_close(alone[0], W[7])


def test_toy_model_from_arrays_round_trips():
    W, b, _, _ = random_problem(dtype=torch.float32)
    model = ToyModel.from_arrays(W.numpy(), b.numpy())
    torch.testing.assert_close(model.W.detach(), W)
    torch.testing.assert_close(model.b.detach(), b)


def test_a_single_model_takes_a_plain_batch():
    W, b, _, _ = random_problem(I=1, dtype=torch.float32)
    model = ToyModel.from_arrays(W[0].numpy(), b[0].numpy())  # (m, n) and (n,)
    x = torch.rand(10, W.shape[2])
    assert model(x).shape == (10, W.shape[2]) and repr(model) == f"ToyModel(I=1, m={W.shape[1]}, n={W.shape[2]})"
    torch.testing.assert_close(model(x), model(x[None])[0])
    assert model.loss(x).shape == (1,)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda W, b: ToyModel.from_arrays(W, b[0]), r"b has shape \(5,\); expected \(3, 5\)"),
        (lambda W, b: ToyModel.from_arrays(W, b[:, :4]), r"b has shape \(3, 4\)"),
        (lambda W, b: ToyModel.from_arrays(W[0, 0], b), r"W has shape \(5,\)"),
        (lambda W, b: ToyModel.from_arrays(W, b, importance=[1.0, 2.0]), r"importance has shape \(2,\)"),
        (lambda W, b: ToyModel.from_arrays(W, b)(torch.rand(3, 4, 6)), "x has 6 features; this model has n = 5"),
        (lambda W, b: ToyModel.from_arrays(W, b)(torch.rand(4, 5)), r"expected \(3, batch, 5\)"),
    ],
)
def test_toy_model_refuses_mismatched_shapes_with_a_clear_message(make, message):
    W, b, _, _ = random_problem(dtype=torch.float32)
    with pytest.raises(ValueError, match=message):
        make(W.numpy(), b.numpy())


def sparse_problem(sets, p=0.3, I=3, m=2, batch=64, seed=0):
    structure = FeatureStructure.from_sets(sets)
    s = FeatureSampler(structure, np.full(I, p), model_keys(np.arange(I) + seed))
    g = torch.Generator().manual_seed(seed + 1)
    W = torch.randn((I, m, structure.n), generator=g)
    b = torch.randn((I, structure.n), generator=g) * 0.3
    imp = torch.rand((structure.n,), generator=g) + 0.1
    return W, b, s.sample_sparse(batch), imp


@pytest.mark.parametrize("gram", ROUTES)
@pytest.mark.parametrize(
    "sets",
    [
        [FeatureSet("independent", 7, 1)],
        [FeatureSet("correlated", 3, 2)],
        [FeatureSet("correlated", 2, 1), FeatureSet("anticorrelated", 3, 1), FeatureSet("independent", 2, 1)],
    ],
)
def test_sparse_batch_gradients_equal_the_generic_ones(sets, gram, monkeypatch):
    """The entry-list shortcut gives the generic loss and gradients (float32 against float64)."""
    monkeypatch.setattr(model, "uses_gram", lambda m, n: gram)
    W, b, batch, imp = sparse_problem(sets)
    assert batch.index is not None and batch.n_implicit_zero > 0
    expected = loss_and_grads(W.double(), b.double(), batch.x.double(), imp.double(), batch.n_implicit_zero)
    for uniform in (False, True):
        weights = torch.ones_like(imp) if uniform else imp
        if uniform:
            expected = loss_and_grads(W.double(), b.double(), batch.x.double(), weights.double(), batch.n_implicit_zero)
        got = sparse_loss_and_grads(W, b, batch, weights, uniform_importance=uniform)
        for a, e in zip(got, expected, strict=True):
            torch.testing.assert_close(a.double(), e, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "why"),
    [
        (dict(n=0, m=2), "n = 0; must be an integer >= 1"),
        (dict(n=4, m=0), "m = 0; must be an integer >= 1"),
        (dict(n=4, m=2, seeds=[]), "seeds is empty"),
        (dict(n=4, m=2, seeds=[2**64]), r"seed 18446744073709551616; each seed must be an integer in \[0,"),
        (dict(n=4, m=2, seeds=[-1]), "each seed must be an integer"),
    ],
)
def test_a_toy_model_that_cannot_exist_is_refused_clearly(kwargs, why):
    with pytest.raises(ValueError, match=why):
        ToyModel(**kwargs)
