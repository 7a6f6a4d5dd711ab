"""Local almost-orthogonal bases as models grow: s correlated sets of k = m features in
m dimensions (n = s m > m), each cell with its paired independent-feature control.

Regenerate it alone (its npz, png, svg and a one-figure summary) with::

    python -m experiments.correlated 'figures=[local_basis_scaling]' out_dir=/tmp/local_basis_scaling

``python -m experiments.correlated`` regenerates it with every other figure into figures/.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from tms.analysis import stats
from tms.analysis.basis import basis_metrics
from tms.analysis.claims import LOCAL_BASIS_RATIO
from tms.core.config import DataConfig, FeatureSet, ModelConfig, RunConfig, check_int
from tms.core.errors import ConfigError
from tms.core.result import split_prefixed
from tms.core.seeds import derive_seed
from tms.core.structure import set_count
from tms.figures.base import Figure, Part, prefixed_arrays
from tms.figures.plot_curves import plot_local_basis_scaling
from tms.figures.settings import FigureSettings, check_sweep
from tms.figures.tables import num_ci, p_value, pct, pct_ci


def scaling_cells(settings: FigureSettings):
    """(label, m, sets) for every cell of the local-basis scaling grid."""
    sc = settings.local_basis_scaling
    return [(f"m{m}_s{s}", m, s) for m in sc.m for s in sc.sets]


@dataclass(frozen=True)
class LocalBasisScaling(Figure):
    def check(self, settings):
        sc = settings.local_basis_scaling
        for field_name in ("m", "sets"):
            values = getattr(sc, field_name)
            if not isinstance(values, (list, tuple)) or not values:
                raise ConfigError(f"local_basis_scaling.{field_name}", "must list at least one value")
            for v in values:
                check_int(v, f"local_basis_scaling.{field_name}", 2)
            if len(set(values)) != len(values):
                raise ConfigError(f"local_basis_scaling.{field_name}", f"got {list(values)}; values must be distinct")
        check_sweep(sc, "local_basis_scaling")

    def parts(self, settings):
        sc, parts = settings.local_basis_scaling, []
        for label, m, s in scaling_cells(settings):
            base = RunConfig(
                data=DataConfig(
                    sets=[FeatureSet("correlated", m, s)], feature_probabilities=list(sc.feature_probabilities)
                ),
                model=ModelConfig(m=m),
                train=copy.deepcopy(settings.train),
                n_instances=sc.n_instances,
                seed=derive_seed(settings.seed, f"{self.name}/{label}"),
            )
            parts.append(Part(label, base, settings.controls, sweep=(sc.feature_probabilities, sc.n_instances)))
        return parts

    def arrays(self, results, settings):
        return prefixed_arrays(results, [label for label, _, _ in scaling_cells(settings)])

    @staticmethod
    def labels(arrays) -> list:
        return sorted(
            {k.split(".")[0] for k in arrays if k.endswith(".W") and not k.endswith("control_W")},
            key=lambda s: tuple(int(x[1:]) for x in s.split("_")),
        )

    def summarize(self, arrays):
        cells = []
        for label in self.labels(arrays):
            part = split_prefixed(arrays, label)
            set_id, p = part["set_id"], part["feature_probability"]
            for x in np.unique(p):
                at = p == x
                row = {
                    "label": label,
                    "m": int(part["W"].shape[1]),
                    "sets": set_count(set_id),
                    "set_size": int(np.sum(set_id == 0)),
                    "n": int(part["W"].shape[2]),
                    "feature_probability": float(x),
                    "n_instances": int(at.sum()),
                }
                flags = {}
                for which, W in (("model", part["W"]), ("control", part.get("control_W"))):
                    if W is None:
                        continue
                    values = basis_metrics(W[at], set_id)
                    row[which] = {}
                    for name, v in values.items():
                        row[which][f"{name}_mean"], row[which][f"{name}_mean_ci95"] = stats.mean_ci(v)
                    flags[which] = values["ratio"] < LOCAL_BASIS_RATIO
                if "control" in flags:
                    row.update(stats.compare_paired(flags["model"], flags["control"]))
                else:
                    row["fraction"], row["fraction_ci95"] = stats.fraction(flags["model"])
                cells.append(row)
        return {"cells": cells}

    def draw(self, arrays, entry, settings):
        largest = max(self.labels(arrays), key=lambda s: split_prefixed(arrays, s)["W"].shape[2])
        part = split_prefixed(arrays, largest)
        index = int(np.argmax(part["feature_probability"]))  # the denser value, like the paper's figure
        return plot_local_basis_scaling(entry, part, title=self.title, index=index)

    def markdown(self, entry):
        lines = [
            "",
            f"**{self.title}**: s correlated sets of k = m features in m dimensions (n = s·m). Means over models "
            "[95% CI]; the control has the same n, m, 1−S and seeds with independent features. Local basis: "
            f"within/between ratio < {LOCAL_BASIS_RATIO}.",
            "",
            "| cell | n | 1−S | models | within/between ratio | control ratio | max \\|cos\\| within | "
            "represented features per dimension | mean Dᵢ | local basis | control | paired p |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for c in entry["cells"]:
            mdl, ctl = c["model"], c.get("control", {})
            lines.append(
                f"| m={c['m']}, s={c['sets']} | {c['n']} | {c['feature_probability']:g} | {c['n_instances']} "
                f"| {num_ci(mdl['ratio_mean'], mdl['ratio_mean_ci95'], 3)} "
                f"| {num_ci(ctl.get('ratio_mean'), ctl.get('ratio_mean_ci95'), 3)} "
                f"| {num_ci(mdl['max_within_mean'], mdl['max_within_mean_ci95'], 2)} "
                f"| {num_ci(mdl['represented_per_dimension_mean'], mdl['represented_per_dimension_mean_ci95'], 2)} "
                f"| {num_ci(mdl['dimensionality_mean'], mdl['dimensionality_mean_ci95'], 2)} "
                f"| {pct_ci(c['fraction'], c['fraction_ci95'])} "
                f"| {pct_ci(c.get('control_fraction'), c.get('control_fraction_ci95'))} "
                f"| {p_value(c.get('paired_p'))} |"
            )
        return lines

    def finding(self, entry):
        cells = entry["cells"]
        ratios = [c["model"]["ratio_mean"] for c in cells]
        worst = max(cells, key=lambda c: c["model"]["ratio_mean"])
        lo, hi = (pct(f(c["fraction"] for c in cells)) for f in (min, max))
        span = lo if lo == hi else f"{lo}–{hi}"
        return (
            f"**{self.title}**: the mean within/between |cos| ratio ranges from {min(ratios):.3f} "
            f"to {max(ratios):.3f} across {len(cells)} cells (largest at m={worst['m']}, s={worst['sets']}, "
            f"1−S={worst['feature_probability']:g}); "
            f"the local-basis criterion holds in {span} of models per cell."
        )


FIGURE = LocalBasisScaling("local_basis_scaling", "Local almost-orthogonal bases as models grow")
