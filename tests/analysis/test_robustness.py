"""The robustness table: a verdict survives only if every recipe tried agrees with the paper figure's."""

from tms.analysis.robustness import robustness_table


def rows(*verdicts):
    return [{"variant": f"v{k}", "verdict": v} for k, v in enumerate(verdicts)]


def sweep(marks):
    xs = sorted(marks)
    return {
        "feature_probability": xs,
        "paired_p": [0.001 if marks[x] else 0.5 for x in xs],
        "difference": [0.3 for _ in xs],
    }


def test_a_claim_survives_only_when_every_variant_and_sweep_point_agree():
    figures = {
        "correlated_pairs": {"verdict": "reproduced"},
        "anticorrelated_pairs": {"verdict": "reproduced"},
        "init_robustness": {
            "claims": {"correlated_pairs": rows("reproduced", "reproduced"), "anticorrelated_pairs": rows("reproduced")}
        },
        "training_recipes": {
            "claims": {
                "correlated_pairs": rows("reproduced"),
                "anticorrelated_pairs": rows("not distinguishable from the control"),
            }
        },
        "sparsity_sweep": {"sweep": {"correlated_pairs": sweep({0.01: True, 0.1: True})}},
        "sparsity_sweep_small_init": {"sweep": {"correlated_pairs": sweep({0.01: True, 0.1: False})}},
    }
    table = {r["claim"]: r for r in robustness_table(figures)}
    assert set(table) == {"correlated_pairs", "anticorrelated_pairs"}
    pairs, anti = table["correlated_pairs"], table["anticorrelated_pairs"]
    assert pairs["sweep_flips"] == [0.1] and pairs["sweep_gained"] == [] and not pairs["survives"]  # a ✓ lost
    assert anti["recipes"] == [("v0", "not distinguishable from the control")] and not anti["survives"]
    figures["sparsity_sweep_small_init"]["sweep"]["correlated_pairs"] = sweep({0.01: True, 0.1: True})
    assert {r["claim"]: r for r in robustness_table(figures)}["correlated_pairs"]["survives"]


def test_riders_read_the_hexagon_and_collapse_verdicts_of_the_three_set_rows():
    three = {
        "verdict": "reproduced",
        "hexagon": {"verdict": "contradicted"},
        "failures": {"collapsed": {"verdict": "reproduced"}},
    }
    row = {"variant": "init×1", "verdict": "reproduced", **{k: three[k] for k in ("hexagon", "failures")}}
    figures = {"correlated_three_sets": three, "init_robustness": {"claims": {"correlated_three_sets": [row]}}}
    table = {r["claim"]: r for r in robustness_table(figures)}
    assert table["hexagon"]["figure_verdict"] == "contradicted" and table["hexagon"]["init"] == [
        ("init×1", "contradicted")
    ]
    assert table["collapse failure"]["survives"]
