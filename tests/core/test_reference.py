"""The fast path trains the model its plain definition (``tms.core.reference``) defines: the same
gradient distribution from exact sparse batches, and the same geometry after training."""

import numpy as np
import pytest
import torch

from tms import DataConfig, FeatureSet, RunConfig, TrainConfig, train
from tms.analysis.claims import CLAIMS
from tms.analysis.metrics import pair_angles
from tms.core import kernel, reference
from tms.core.features import FeatureSampler
from tms.core.model import sparse_loss_and_grads
from tms.core.reference import train_reference
from tms.core.streams import model_keys, slot_parameters
from tms.core.structure import FeatureStructure

SETS = {
    "correlated pairs": [FeatureSet("correlated", 2, 2)],
    "mixed": [FeatureSet("correlated", 2, 1), FeatureSet("anticorrelated", 3, 1), FeatureSet("independent", 2, 1)],
}


def gradient_samples(sets, sampler: str, n_batches=3000, batch=128, p=0.05, seed=0):
    """Flattened (loss, dW, db) for many batches at one fixed W and b: (n_batches, 1 + m n + n).

    sampler: "reference" (``tms.core.reference``: its dense batch, autograd through its loss),
    "torch" (the torch backend's sparse batches and hand-derived gradients) or "fused" (the
    compiled kernel's batches and gradients); the last two on the streams' batches.
    """
    structure = FeatureStructure.from_sets(sets)
    n = structure.n
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(1, 2, n, generator=torch.Generator().manual_seed(123)) * 0.7
    b = torch.linspace(-0.05, 0.3, n)[None]  # some positive biases: all-zero samples matter
    imp = torch.linspace(1.0, 0.5, n)
    if sampler == "fused":
        keys = model_keys([seed])
        slots = slot_parameters([p])
        unit = (structure.unit_first_feature, structure.unit_size, structure.unit_share)
        out = np.empty((1, 2 * n + n), np.float32)
        rows = []
        for step in range(n_batches):
            loss = kernel.batch_gradients(
                W.numpy(), b.numpy(), keys, step, *slots, *unit, False, imp.numpy(), batch, out
            )
            rows.append(np.concatenate([loss, out[0]]))
        return np.stack(rows).astype(np.float64)
    s = FeatureSampler(structure, [p], model_keys([seed]))
    rows = []
    for _ in range(n_batches):
        if sampler == "reference":
            Wg, bg = W.clone().requires_grad_(), b.clone().requires_grad_()
            loss = reference.loss(Wg, bg, reference.sample(structure, torch.tensor([p]), batch, g), imp)
            loss.sum().backward()
            loss, dW, db = loss.detach(), Wg.grad, bg.grad
        else:
            loss, dW, db = sparse_loss_and_grads(W, b, s.sample_sparse(batch), imp)
        rows.append(torch.cat([loss, dW.flatten(), db.flatten()]))
    return torch.stack(rows).double().numpy()


@pytest.mark.parametrize("structure", SETS)
@pytest.mark.parametrize("path", ["torch", "fused"])
def test_sparse_batches_give_the_dense_gradient_distribution(structure, path):
    """Mean and variance of loss and of every gradient component agree between samplers.

    Tolerance: 5 combined standard errors (3000 batches each). The standard error of a variance
    estimate is estimated from the squared deviations themselves, so heavy tails are accounted for.
    """
    sparse = gradient_samples(SETS[structure], path, seed=1)
    dense = gradient_samples(SETS[structure], "reference", seed=2)
    N = len(sparse)
    se_mean = np.sqrt(sparse.var(0) / N + dense.var(0) / N)
    assert np.all(np.abs(sparse.mean(0) - dense.mean(0)) <= 5 * se_mean + 1e-12)
    dev_s = (sparse - sparse.mean(0)) ** 2
    dev_d = (dense - dense.mean(0)) ** 2
    se_var = np.sqrt(dev_s.var(0) / N + dev_d.var(0) / N)
    assert np.all(np.abs(dev_s.mean(0) - dev_d.mean(0)) <= 5 * se_var + 1e-12)
    assert np.all(dense.std(0) > 0)  # every component actually varies, so the test can fail


@pytest.mark.parametrize("sets", [*SETS.values(), [FeatureSet("independent", 12, 1)]])  # dense and sample routes
@pytest.mark.parametrize("p", [0.02, 0.3])
def test_fused_gradients_equal_autograd_on_the_same_batch(sets, p):
    """The kernel's loss and gradients on batch t equal autograd through the plain loss on that
    very batch (float32 sums in another order: 1e-5 relative)."""
    structure = FeatureStructure.from_sets(sets)
    n, I, batch = structure.n, 3, 256
    W = torch.randn(I, 2, n, generator=torch.Generator().manual_seed(5)) * 0.7
    b = torch.linspace(-0.05, 0.3, n).repeat(I, 1)
    imp = torch.linspace(1.0, 0.5, n)
    keys = model_keys([1, 2, 3])
    slots = slot_parameters([p] * I)
    unit = (structure.unit_first_feature, structure.unit_size, structure.unit_share)
    out = np.empty((I, 2 * n + n), np.float32)
    for step in (0, 4):
        loss = kernel.batch_gradients(W.numpy(), b.numpy(), keys, step, *slots, *unit, False, imp.numpy(), batch, out)
        x = FeatureSampler(structure, [p] * I, keys).sample_dense(batch, step=step)
        Wg, bg = W.clone().double().requires_grad_(), b.clone().double().requires_grad_()
        expected = reference.loss(Wg, bg, x.double(), imp.double())
        expected.sum().backward()
        np.testing.assert_allclose(loss, expected.detach().numpy(), rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(out[:, : 2 * n], Wg.grad.reshape(I, -1).numpy(), rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(out[:, 2 * n :], bg.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_fast_trainer_matches_the_plain_autograd_loop_in_geometry():
    """Same config and model count: fraction orthogonal and median within-set angle agree.

    32 models each, 3000 steps (enough for most models to settle). Two fractions near 0.9 from 32
    models each differ by sd ~0.075, so 0.3 is 4 sd; orthogonal pairs sit within ~2 degrees of
    90, so medians agree to 3 degrees.
    """
    steps, seeds = 3000, 32
    fast = train(
        RunConfig(
            data=DataConfig(sets=[FeatureSet("correlated", 2, 2)], feature_probability=0.05),
            train=TrainConfig(steps=steps, progress=False),
            n_instances=seeds,
        )
    )
    plain_W = train_reference(FeatureStructure.from_sets(fast.feature_sets()), 2, 0.05, seeds, steps, seed=0).numpy()
    claim = CLAIMS["correlated_pairs"]
    frac_fast, frac_plain = claim.holds(fast.W, fast.set_id).mean(), claim.holds(plain_W, fast.set_id).mean()
    assert frac_plain > 0.5 and frac_fast > 0.5  # both actually learned the geometry
    assert abs(frac_fast - frac_plain) <= 0.3
    median_fast = np.median(pair_angles(fast.W, fast.set_id))
    median_plain = np.median(pair_angles(plain_W, fast.set_id))
    assert abs(median_fast - median_plain) <= 3.0
