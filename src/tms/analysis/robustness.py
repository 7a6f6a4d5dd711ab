"""One claim under one variant of the training recipe: strict fraction against the control,
every model's outcome, and (on the three-set setup) the hexagon and failure claims."""

from __future__ import annotations

from tms.analysis.claims import HEXAGON_SETUP, hexagon_claim, summarize_claim
from tms.analysis.failures import failure_summary
from tms.analysis.recipe import recipe
from tms.analysis.stats import ALPHA

# Setups whose rows also carry the hexagon claim and the failure claims (losses by outcome),
# measured on the same models and controls.
RIDERS = (HEXAGON_SETUP,)


def variant_entry(claim: str, label: str, part: dict) -> dict:
    """The summary row of claim ``claim`` trained under variant ``label`` (a figure part's arrays)."""
    entry = summarize_claim(claim, part["W"], part["set_id"], part.get("control_W"))
    entry["variant"] = label
    entry["recipe"] = recipe(part)
    keep = (
        "fraction",
        "fraction_ci95",
        "control_fraction",
        "control_fraction_ci95",
        "difference",
        "difference_ci95",
        "paired_p",
        "verdict",
        "n_instances",
        "outcomes",
        "control_outcomes",
    )
    row = {k: entry[k] for k in ("variant", "recipe", *keep) if k in entry}
    if claim in RIDERS:
        failures = failure_summary(claim, part)
        row["failures"] = failures["failures"]
        row["loss_by_outcome"] = failures["expected_loss"]["by_outcome"]
        if "control_W" in part:
            row["hexagon"] = hexagon_claim(part["W"], part["control_W"], part["set_id"])
    return row


def _rider(row: dict, claim: str):
    if claim == "hexagon":
        return row.get("hexagon", {}).get("verdict")
    if claim == "collapse failure":
        return row.get("failures", {}).get("collapsed", {}).get("verdict")
    return row.get("verdict")


ROBUSTNESS_CLAIMS = (
    ("correlated_pairs", "correlated_pairs"),
    ("anticorrelated_pairs", "anticorrelated_pairs"),
    ("correlated_three_sets", "correlated_three_sets"),
    ("local_orthogonal_basis", "local_orthogonal_basis"),
    ("learning_dynamics", "learning_dynamics"),
    ("hexagon", HEXAGON_SETUP),
    ("collapse failure", HEXAGON_SETUP),
)


def _verdicts(entry, setup: str, claim: str) -> list:
    """[(variant, verdict)] of one robustness figure's rows for a claim (empty if not trained)."""
    if entry is None or setup not in entry["claims"]:
        return []
    return [(row["variant"], _rider(row, claim)) for row in entry["claims"][setup]]


def _sweep_marks(entry, setup: str) -> dict:
    """{1 - S: beats its control?} of one sparsity sweep's geometry."""
    if entry is None or setup not in entry["sweep"]:
        return {}
    e = entry["sweep"][setup]
    if "paired_p" not in e:
        return {}
    return {
        x: bool(p < ALPHA and d > 0)
        for x, p, d in zip(e["feature_probability"], e["paired_p"], e["difference"], strict=True)
    }


def robustness_table(figures: dict) -> list:
    """Per claim: its verdict on the paper figure (default recipe), the verdicts under every init
    scale and every other recipe tried, the sweep points whose mark changes at the small init,
    and whether every verdict tried agrees with the paper figure's."""
    rows = []
    for claim, setup in ROBUSTNESS_CLAIMS:
        figure = figures.get(setup)
        if figure is None:
            continue
        base = _rider(figure, claim)
        init = _verdicts(figures.get("init_robustness"), setup, claim)
        recipes = _verdicts(figures.get("training_recipes"), setup, claim)
        default = _sweep_marks(figures.get("sparsity_sweep"), setup) if claim == setup else {}
        small = _sweep_marks(figures.get("sparsity_sweep_small_init"), setup) if claim == setup else {}
        flips = sorted(x for x in default if x in small and default[x] != small[x])
        gained = [x for x in flips if small[x]]  # a ✓ at the small init that the default lacks
        tried = [v for _, v in init + recipes]
        rows.append(
            {
                "claim": claim,
                "setup": setup,
                "figure_verdict": base,
                "init": init,
                "recipes": recipes,
                "sweep_points": sorted(set(default) & set(small)),
                "sweep_flips": flips,
                "sweep_gained": gained,
                "survives": bool(tried) and all(v == base for v in tried) and not flips,
            }
        )
    return rows
