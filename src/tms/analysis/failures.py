"""The paper's "optimization failure": do collapsed (or dropped) models reach a worse loss?

Each model's loss is its expected loss (``tms.analysis.expected_loss``) from its saved W and b;
models are grouped by outcome (``tms.analysis.outcomes``). The claim for a failure outcome F:
models with outcome F reach a higher loss than strict models of the same setup. Verdict rule
(``failure_verdict``): *reproduced* when the difference in mean loss (F - strict) has a 95%
interval above 0 and a permutation p < ALPHA; *contradicted* when the interval is below 0 with
p < ALPHA; *not distinguishable* otherwise; *too few models* when either group has fewer
than MIN_GROUP models.
"""

from __future__ import annotations

import numpy as np

from tms.analysis import stats
from tms.analysis.claims import CLAIMS
from tms.analysis.expected_loss import expected_loss
from tms.analysis.outcomes import OUTCOMES, STRICT, transitions
from tms.analysis.recipe import unit_rates, values

MIN_GROUP = 5


def loss_by_outcome(loss, codes) -> dict:
    """{outcome: {"count", "mean", "mean_ci95"}} of the models' expected losses."""
    loss, codes = np.asarray(loss), np.asarray(codes)
    out = {}
    for k, name in enumerate(OUTCOMES):
        mean, ci = stats.mean_ci(loss[codes == k])
        out[name] = {"count": int((codes == k).sum()), "mean": mean, "mean_ci95": ci}
    return out


def failure_verdict(entry: dict) -> str:
    if min(entry["n_a"], entry["n_b"]) < MIN_GROUP:
        return "too few models"
    lo, hi = entry["difference_ci95"]
    if entry["p"] < stats.ALPHA and lo > 0:
        return "reproduced"
    if entry["p"] < stats.ALPHA and hi < 0:
        return "contradicted"
    return "not distinguishable"


def failure_claim(loss, codes, failure: str) -> dict:
    """Failure outcome ``failure`` ("collapsed", "dropped" or "other") against strict models: both mean
    losses with intervals, their difference, the permutation p and the verdict."""
    loss, codes = np.asarray(loss), np.asarray(codes)
    entry = stats.compare_means(loss[codes == OUTCOMES.index(failure)], loss[codes == STRICT])
    entry["failure"] = failure
    entry["ratio"] = entry["mean_a"] / entry["mean_b"] if entry["mean_a"] is not None and entry["mean_b"] else None
    entry["verdict"] = failure_verdict(entry)
    return entry


def model_losses(arrays, prefix: str = "") -> tuple:
    """(expected loss (I,), its standard error (I,)) of the models ``<prefix>W``, ``<prefix>b``
    of a figure's arrays, at their own unit rates and value distribution."""
    rate = unit_rates(arrays)
    W, b = arrays[f"{prefix}W"], arrays[f"{prefix}b"]
    layout = arrays["set_id"], arrays["set_kind"]
    return expected_loss(W, b, *layout, rate[: len(W)], arrays.get("importance"), values=values(arrays))


def failure_summary(claim: str, arrays) -> dict:
    """A claim figure's losses by outcome, its failure claims, and (with continued models) how
    many failed models change outcome when trained on."""
    codes = CLAIMS[claim].outcomes(arrays["W"], arrays["set_id"])
    loss, error = model_losses(arrays)
    out = {
        "expected_loss": {
            "by_outcome": loss_by_outcome(loss, codes),
            "standard_error_max": float(error.max()),
            "relative_error_max": float((error / np.maximum(loss, 1e-30)).max()),
        },
        "failures": {name: failure_claim(loss, codes, name) for name in OUTCOMES[1:]},
    }
    if "continued_W" in arrays:
        later_W = arrays["continued_W"]
        count = len(later_W)
        later = CLAIMS[claim].outcomes(later_W, arrays["set_id"])
        later_loss, _ = model_losses(arrays, "continued_")
        failed = codes[:count] != STRICT
        ratio = later_loss[failed] / np.maximum(loss[:count][failed], 1e-30)
        out["continued"] = {
            "from_steps": int(arrays["loss_step"][-1]) if len(arrays["loss_step"]) else 0,
            "steps": int(arrays["continued_loss_step"][-1]) if len(arrays["continued_loss_step"]) else 0,
            **transitions(codes[:count], later),
            "failed_loss_ratio_median": float(np.median(ratio)) if ratio.size else None,
        }
    return out
