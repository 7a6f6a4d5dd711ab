"""The figure registry: one entry per figure, and everything about it in that entry.

Each entry says which setups it needs and how to check its settings, which training jobs it
needs (``jobs``), what goes in its npz (``arrays``), how to draw it from that npz (``draw``),
what it measures (``summarize``, a summary.json entry with 95% intervals), and how that reads
in ``summary.md`` (``markdown`` rows and ``finding``). ``FIGURES`` maps names to entries;
adding a figure means adding one entry. ``make_figures`` runs a selection end to end.

Seeds: figure (or sweep geometry, or scaling cell) X of a run with ``seed = s`` trains from the
run seed ``derive_seed(s, X)``, so figures and sweep points never share initialisations, while
each model and its independent-feature control share theirs (``tms.core.seeds``).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tms.analysis import metrics, stats
from tms.analysis.claims import CLAIMS, LOCAL_BASIS_RATIO, summarize_claim
from tms.analysis.summary import (
    cell,
    collapse_agreement,
    collapse_by_point,
    collapse_counts,
    learning_series,
    num_ci,
    p_value,
    pct,
    pct_ci,
    sweep_points,
)
from tms.core.artifacts import load_arrays, write_json_atomic, write_npz_atomic, write_text_atomic
from tms.core.config import DataConfig, FeatureSet, ModelConfig, RunConfig, check_int
from tms.core.controls import control_config
from tms.core.errors import ConfigError
from tms.core.features import describe_layout
from tms.core.result import TrainResult
from tms.core.seeds import derive_seed
from tms.core.sweeps import merge_results, sweep_configs
from tms.core.train import log_spaced_steps
from tms.figures.plotting import (
    plot_collapse_transition,
    plot_gram,
    plot_learning_dynamics,
    plot_local_basis_scaling,
    plot_sparsity_sweep,
    plot_weights_2d,
    save_figure,
)
from tms.run.apps import FiguresConfig, check_setup, check_sweep, validate_figures
from tms.run.cache import RunCache
from tms.run.provenance import provenance
from tms.run.runner import Job, run_jobs

CLAIMS_HEADER = [
    "| figure | setup | models showing the geometry [95% CI] | control [95% CI] | difference [95% CI] "
    "| paired p | verdict | key metric: mean [95% CI] | models with a collapsed set | unrepresented |",
    "|---|---|---|---|---|---|---|---|---|---|",
]


def split_prefixed(arrays, prefix: str) -> dict:
    """Keys 'prefix.key' of a multi-part npz -> {key: array}."""
    return {k[len(prefix) + 1 :]: v for k, v in arrays.items() if k.startswith(prefix + ".")}


def run_config(app: FiguresConfig, setup: str, seed_label: str, n_instances: int) -> RunConfig:
    """The RunConfig of a setup under the app's training settings and a figure's run seed."""
    s = app.setups[setup]
    return RunConfig(
        data=copy.deepcopy(s.data),
        model=copy.deepcopy(s.model),
        train=copy.deepcopy(app.train),
        n_instances=n_instances,
        seed=derive_seed(app.seed, seed_label),
    )


def setup_summary(arrays) -> dict:
    """What was trained, read off the arrays: layout, n, m, 1 - S, steps, models."""
    W = arrays["W"]
    p = np.unique(arrays["feature_probability"])
    return {
        "layout": describe_layout(arrays["set_id"], arrays["set_kind"]),
        "n": int(W.shape[2]),
        "m": int(W.shape[1]),
        "feature_probability": float(p[0]) if len(p) == 1 else p.tolist(),
        "steps": int(arrays["loss_step"][-1]) if len(arrays["loss_step"]) else 0,
        "n_instances": int(W.shape[0]),
    }


def claim_row(name: str, entry: dict) -> str:
    s = entry["setup"]
    setup = f"{s['layout']}, m={s['m']}, 1−S={s['feature_probability']:g}, {s['steps']:,} steps"
    coll = (
        f"{pct_ci(entry['collapse_fraction'], entry['collapse_fraction_ci95'])} ({entry['collapsed_sets_total']} sets)"
    )
    unrep = f"{pct(entry['unrepresented_fraction'])} of models ({entry['unrepresented_features_total']} features)"
    metric = f"{entry['metric']}: {num_ci(entry['metric_mean'], entry['metric_mean_ci95'])}"
    control = "fraction" in entry and "control_fraction" in entry
    return (
        f"| `{name}` | {cell(setup)} | {pct_ci(entry['fraction'], entry['fraction_ci95'])} of {entry['n_instances']} "
        f"| {pct_ci(entry['control_fraction'], entry['control_fraction_ci95']) if control else '–'} "
        f"| {num_ci(entry['difference'], entry['difference_ci95'], 2) if control else '–'} "
        f"| {p_value(entry['paired_p']) if control else '–'} | {entry.get('verdict') or '–'} "
        f"| {cell(metric)} | {coll} | {unrep} |"
    )


def claim_finding(title: str, entry: dict) -> str:
    if "control_fraction" not in entry:
        return f"**{title}**: {pct_ci(entry['fraction'], entry['fraction_ci95'])} of {entry['n_instances']} models."
    return (
        f"**{title}: {entry['verdict']}.** {pct_ci(entry['fraction'], entry['fraction_ci95'])} of "
        f"{entry['n_instances']} models, control {pct_ci(entry['control_fraction'], entry['control_fraction_ci95'])}; "
        f"paired by seed, {entry['only_model']} models show it only with the structured features and "
        f"{entry['only_control']} only in the control (McNemar p {p_value(entry['paired_p'])})."
    )


@dataclass(frozen=True)
class FigureEntry:
    """Base of the registry entries; see the module docstring for the contract."""

    name: str
    title: str
    table: str | None = None  # "claims": one row in the shared claims table; None: own section

    def setups(self) -> tuple:
        return ()

    def validate(self, app: FiguresConfig) -> None:
        for setup in self.setups():
            check_setup(app, setup)

    def jobs(self, app: FiguresConfig) -> list:
        raise NotImplementedError

    def arrays(self, results: dict, app: FiguresConfig) -> dict:
        raise NotImplementedError

    def draw(self, arrays: dict, entry: dict, app: FiguresConfig):
        """The Figure, from the saved arrays and this figure's summary entry (analysis done)."""
        raise NotImplementedError

    def summarize(self, arrays: dict) -> dict:
        raise NotImplementedError

    def markdown(self, entry: dict) -> list:
        raise NotImplementedError

    def finding(self, entry: dict) -> str:
        return ""


def _model_and_control(results: dict) -> dict:
    model = merge_results([r for (part, _), r in sorted(results.items()) if part == "model"])
    arrays = model.arrays()
    controls = [r for (part, _), r in sorted(results.items()) if part == "control"]
    if controls:
        control = merge_results(controls)
        arrays.update(control_W=control.W, control_b=control.b, control_loss=control.loss)
    return arrays


def sweep_jobs(figure: str, part: str, base: RunConfig, probabilities, n_instances: int, controls: bool) -> list:
    """Jobs of one part of a multi-part figure (a sweep geometry, a scaling cell), and of its
    control as part "<part>.control", split into runs of similar cost."""
    parts = {part: base}
    if controls:
        parts[f"{part}.control"] = control_config(base)
    return [
        Job((figure, name, g), group)
        for name, cfg in parts.items()
        for g, group in enumerate(sweep_configs(cfg, probabilities, n_instances))
    ]


def prefixed_arrays(results: dict, parts) -> dict:
    """npz content of a multi-part figure: '<part>.<key>' per part, '<part>.control_W' for its control."""
    arrays = {}
    for part in parts:
        model = merge_results([r for (name, _), r in sorted(results.items()) if name == part])
        arrays.update({f"{part}.{k}": v for k, v in model.arrays().items()})
        controls = [r for (name, _), r in sorted(results.items()) if name == f"{part}.control"]
        if controls:
            arrays[f"{part}.control_W"] = merge_results(controls).W
    return arrays


@dataclass(frozen=True)
class ClaimFigure(FigureEntry):
    """A paper figure: one setup, its models and their controls, one claim.

    Drawn as aligned 2D weights (m = 2) or, with ``heatmap``, as W^T W beside the control's.
    """

    setup: str = ""
    claim: str = ""
    heatmap: bool = False
    table: str | None = "claims"

    def setups(self) -> tuple:
        return (self.setup,)

    def validate(self, app):
        claim = CLAIMS[self.claim]
        m = claim.m if self.heatmap else 2  # aligned 2D weight plots need m = 2
        check_setup(app, self.setup, m=m, kind=claim.set_kind, single=True)

    def jobs(self, app):
        cfg = run_config(app, self.setup, self.name, app.n_instances)
        jobs = [Job((self.name, "model", 0), cfg)]
        if app.controls:
            jobs.append(Job((self.name, "control", 0), control_config(cfg)))
        return jobs

    def arrays(self, results, app):
        return _model_and_control(results)

    def draw(self, arrays, entry, app):
        if not self.heatmap:
            return plot_weights_2d(arrays, n_shown=app.n_shown, title=self.title)
        panels = [(f"{describe_layout(arrays['set_id'], arrays['set_kind'])} (blocks)", arrays)]
        if "control_W" in arrays:
            panels.append(("control: the same n and m, independent features", {**arrays, "W": arrays["control_W"]}))
        return plot_gram(panels, title=self.title)

    def summarize(self, arrays):
        entry = summarize_claim(self.claim, arrays["W"], arrays["set_id"], arrays.get("control_W"))
        entry["setup"] = setup_summary(arrays)
        return entry

    def markdown(self, entry):
        return [claim_row(self.name, entry)]

    def finding(self, entry):
        return claim_finding(self.title, entry)


@dataclass(frozen=True)
class LearningDynamics(ClaimFigure):
    """A setup trained with W snapshots: W^T W through training and geometry over time."""

    def validate(self, app):
        claim = CLAIMS[self.claim]
        check_setup(app, self.setup, m=claim.m, kind=claim.set_kind, single=True)
        check_int(app.learning_dynamics.n_instances, "learning_dynamics.n_instances", 1)
        # 3 is the fewest that include step 0 and the final step (log_spaced_steps: 0, 1, steps).
        check_int(app.learning_dynamics.n_snapshots, "learning_dynamics.n_snapshots", 3)

    def jobs(self, app):
        ld = app.learning_dynamics
        cfg = run_config(app, self.setup, self.name, ld.n_instances)
        steps = tuple(log_spaced_steps(cfg.train.steps, ld.n_snapshots))
        jobs = [Job((self.name, "model", 0), cfg, steps)]
        if app.controls:
            jobs.append(Job((self.name, "control", 0), control_config(cfg)))
        return jobs

    def draw(self, arrays, entry, app):
        return plot_learning_dynamics(arrays, entry["series"], title=self.title)

    def summarize(self, arrays):
        entry = super().summarize(arrays)
        entry["snapshot_steps"] = arrays["snapshot_steps"].tolist()
        entry["series"] = learning_series(arrays["snapshots"], arrays["set_id"])
        return entry


@dataclass(frozen=True)
class SparsitySweep(FigureEntry):
    """How often each paper geometry (and its control) appears, against 1 - S."""

    claims: tuple = ()  # setup names; each is also the name of its claim

    def setups(self):
        return self.claims

    def validate(self, app):
        for name in self.claims:
            check_setup(app, name, m=CLAIMS[name].m, kind=CLAIMS[name].set_kind)
        check_sweep(app.sparsity_sweep, "sparsity_sweep")

    def jobs(self, app):
        sc = app.sparsity_sweep
        return [
            job
            for geometry in self.claims
            for job in sweep_jobs(
                self.name,
                geometry,
                run_config(app, geometry, f"{self.name}/{geometry}", sc.n_instances),
                sc.feature_probabilities,
                sc.n_instances,
                app.controls,
            )
        ]

    def arrays(self, results, app):
        return prefixed_arrays(results, self.claims)

    def _labels(self, arrays) -> dict:
        out = {}
        for geometry in self.claims:
            part = split_prefixed(arrays, geometry)
            if part:
                m = part["W"].shape[1]
                out[geometry] = f"{CLAIMS[geometry].short}: {describe_layout(part['set_id'], part['set_kind'])}, m={m}"
        return out

    def draw(self, arrays, entry, app):
        parts = [split_prefixed(arrays, g) for g in self.claims]
        parts = [p for p in parts if p]
        per_point = sorted(
            {int(np.sum(p["feature_probability"] == x)) for p in parts for x in np.unique(p["feature_probability"])}
        )
        steps = sorted({int(p["loss_step"][-1]) for p in parts if len(p["loss_step"])})
        subtitle = f"{'/'.join(map(str, per_point))} models per point, {'/'.join(f'{s:,}' for s in steps)} steps"
        return plot_sparsity_sweep(entry["sweep"], entry["labels"], title=self.title, subtitle=subtitle)

    def summarize(self, arrays):
        table = {g: sweep_points(g, split_prefixed(arrays, g)) for g in self.claims if split_prefixed(arrays, g)}
        return {"sweep": table, "labels": self._labels(arrays)}

    def markdown(self, entry):
        sweep = entry["sweep"]
        xs = sorted({x for e in sweep.values() for x in e["feature_probability"]})
        lines = [
            "",
            f"**{self.title}**: fraction of models showing each geometry [95% CI], then its control "
            "(independent features, same seeds); ✓ marks a point where the model beats its control "
            f"(paired McNemar p < {stats.ALPHA}).",
            "",
            "| geometry | " + " | ".join(f"1−S={x:g}" for x in xs) + " |",
            "|---|" + "---:|" * len(xs),
        ]
        for name in (g for g in self.claims if g in sweep):
            e, cells = sweep[name], []
            for x in xs:
                if x not in e["feature_probability"]:
                    cells.append("–")
                    continue
                k = e["feature_probability"].index(x)
                text = pct_ci(e["fraction"][k], e["fraction_ci95"][k])
                if "control_fraction" in e:
                    mark = " ✓" if e["paired_p"][k] < stats.ALPHA and e["difference"][k] > 0 else ""
                    text += f"<br>ctrl {pct_ci(e['control_fraction'][k], e['control_fraction_ci95'][k])}{mark}"
                cells.append(text)
            lines.append(f"| `{name}` ({CLAIMS[name].short}) | " + " | ".join(cells) + " |")
        return lines


@dataclass(frozen=True)
class CollapseTransition(FigureEntry):
    """Collapsed sets of one setup against 1 - S, compared with the paper's reported ranges."""

    setup: str = ""

    def setups(self):
        return (self.setup,)

    def validate(self, app):
        check_setup(app, self.setup, m=2, kind="correlated")
        check_sweep(app.collapse_transition, "collapse_transition")

    def jobs(self, app):
        """Models only: the claim is compared with the paper's counts. (The chance level of the
        three-set geometry is in the sparsity sweep; a control here would cost a quarter of the
        default run.)"""
        sc = app.collapse_transition
        base = run_config(app, self.setup, self.name, sc.n_instances)
        return sweep_jobs(self.name, "model", base, sc.feature_probabilities, sc.n_instances, controls=False)

    def arrays(self, results, app):
        return _model_and_control(results)

    def draw(self, arrays, entry, app):
        return plot_collapse_transition(arrays, entry["per_point"], title=self.title)

    def summarize(self, arrays):
        p = arrays["feature_probability"]
        counts = collapse_counts(arrays["W"], arrays["set_id"])
        sets = int(np.max(arrays["set_id"])) + 1
        entry = {"setup": setup_summary(arrays), "per_point": {"model": collapse_by_point(p, counts)}}
        entry.update(collapse_agreement(p, counts, sets))
        return entry

    def markdown(self, entry):
        sets = len(entry["ranges"][0]["histogram"]) - 1 if entry["ranges"] else 0
        s = entry["setup"]
        lines = [
            "",
            f"**{self.title}** ({s['layout']}, m = {s['m']}) against the paper's reported counts; "
            "ranges of 1−S are half-open (lo, hi]:",
            "",
            "| 1−S range | points | paper: collapsed sets | models | median here [95% CI] "
            "| models matching the paper [95% CI] | models with "
            + " / ".join(map(str, range(sets + 1)))
            + " collapsed |",
            "|---|---|---:|---:|---:|---:|---|",
        ]
        for r in entry["ranges"]:
            lo, hi = r["median_collapsed_ci95"]
            lines.append(
                f"| {r['range_label']} | {', '.join(f'{x:g}' for x in r['feature_probabilities'])} "
                f"| {r['paper_collapsed']} | {r['n_instances']} | {r['median_collapsed']:g} [{lo:g}, {hi:g}] "
                f"| {pct_ci(r['fraction_matching_paper'], r['fraction_matching_paper_ci95'])} "
                f"| {' / '.join(map(str, r['histogram']))} |"
            )
        if entry["between_ranges"]:
            lines += [
                "",
                "Between the paper's ranges (not compared): 1−S = "
                + ", ".join(f"{x:g}" for x in entry["between_ranges"])
                + ".",
            ]
        return lines

    def finding(self, entry):
        parts = [
            f"{r['range_label']}: median {r['median_collapsed']:g} (paper {r['paper_collapsed']}), "
            f"{pct_ci(r['fraction_matching_paper'], r['fraction_matching_paper_ci95'])} of models match"
            for r in entry["ranges"]
        ]
        return f"**{self.title}**: " + "; ".join(parts) + "."


def scaling_cells(app: FiguresConfig):
    """(label, m, sets) for every cell of the local-basis scaling grid."""
    sc = app.local_basis_scaling
    return [(f"m{m}_s{s}", m, s) for m in sc.m for s in sc.sets]


def basis_metrics(W, set_id) -> dict:
    """Per model (I,): local-basis geometry and how much the whole model is in superposition."""
    within, between = metrics.mean_abs_cos_within_between(W, set_id)
    return {
        "within": within,
        "max_within": metrics.max_abs_cos_within(W, set_id),
        "between": between,
        "ratio": within / np.maximum(between, 1e-12),
        "represented_per_dimension": metrics.represented(W).sum(1) / np.asarray(W).shape[1],
        "dimensionality": metrics.dimensionality(W).mean(1),
    }


@dataclass(frozen=True)
class LocalBasisScaling(FigureEntry):
    """Do correlated sets form local almost-orthogonal bases in larger models? s sets of k = m
    correlated features in m dimensions (n = s m > m), each cell with its control."""

    def validate(self, app):
        sc = app.local_basis_scaling
        for field_name in ("m", "sets"):
            values = getattr(sc, field_name)
            if not isinstance(values, (list, tuple)) or not values:
                raise ConfigError(f"local_basis_scaling.{field_name}", "must list at least one value")
            for v in values:
                check_int(v, f"local_basis_scaling.{field_name}", 2)
            if len(set(values)) != len(values):
                raise ConfigError(f"local_basis_scaling.{field_name}", f"got {list(values)}; values must be distinct")
        check_sweep(sc, "local_basis_scaling")

    def jobs(self, app):
        sc, jobs = app.local_basis_scaling, []
        for label, m, s in scaling_cells(app):
            base = RunConfig(
                data=DataConfig(
                    sets=[FeatureSet("correlated", m, s)], feature_probabilities=list(sc.feature_probabilities)
                ),
                model=ModelConfig(m=m),
                train=copy.deepcopy(app.train),
                n_instances=sc.n_instances,
                seed=derive_seed(app.seed, f"{self.name}/{label}"),
            )
            jobs += sweep_jobs(self.name, label, base, sc.feature_probabilities, sc.n_instances, app.controls)
        return jobs

    def arrays(self, results, app):
        return prefixed_arrays(results, [label for label, _, _ in scaling_cells(app)])

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
                    "sets": int(np.max(set_id)) + 1,
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

    def draw(self, arrays, entry, app):
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


PAPER = ("correlated_pairs", "anticorrelated_pairs", "correlated_three_sets", "local_orthogonal_basis")

FIGURES = {
    e.name: e
    for e in (
        ClaimFigure(
            "correlated_pairs",
            "Correlated features get orthogonal directions",
            setup="correlated_pairs",
            claim="correlated_pairs",
        ),
        ClaimFigure(
            "anticorrelated_pairs",
            "Anticorrelated features get opposite directions",
            setup="anticorrelated_pairs",
            claim="anticorrelated_pairs",
        ),
        ClaimFigure(
            "correlated_three_sets",
            "Correlated sets that cannot be orthogonal sit side by side (ringed: collapsed)",
            setup="correlated_three_sets",
            claim="correlated_three_sets",
        ),
        ClaimFigure(
            "local_orthogonal_basis",
            "Each correlated set forms a local almost-orthogonal basis",
            setup="local_orthogonal_basis",
            claim="local_orthogonal_basis",
            heatmap=True,
        ),
        LearningDynamics(
            "learning_dynamics",
            "Learning dynamics: two correlated sets in m = 3",
            setup="correlated_two_triples",
            claim="learning_dynamics",
        ),
        SparsitySweep("sparsity_sweep", "How often each predicted geometry appears, by sparsity", claims=PAPER),
        CollapseTransition(
            "collapse_transition",
            "Collapse of correlated sets in 2D as features get denser",
            setup="correlated_three_sets",
        ),
        LocalBasisScaling("local_basis_scaling", "Local almost-orthogonal bases as models grow"),
    )
}


def summary_markdown(summary: dict) -> str:
    """summary.md: the claims table, then each other figure's section, then the findings."""
    # Registry order, whatever order the entries come in (summary.json is written with sorted keys).
    figures = {name: summary["figures"][name] for name in FIGURES if name in summary["figures"]}
    rows = [FIGURES[n].markdown(e)[0] for n, e in figures.items() if FIGURES[n].table == "claims"]
    lines = CLAIMS_HEADER + rows if rows else []
    for name, entry in figures.items():
        if FIGURES[name].table != "claims":
            lines += FIGURES[name].markdown(entry)
    findings = [f for n, e in figures.items() if (f := FIGURES[n].finding(e))]
    if findings:
        lines += ["", "**Findings, computed from the numbers above:**", ""] + [f"- {f}" for f in findings]
    lines += ["", f"Verdict rule: {VERDICT_RULE}"]
    return "\n".join(lines).strip("\n") + "\n"


VERDICT_RULE = (
    f"*reproduced* when the model shows the geometry more often than its control, paired by seed "
    f"(exact McNemar p < {stats.ALPHA}), and the lower end of its 95% interval is at least "
    f"{stats.MAJORITY:.0%}; *above chance in a minority of models* when p < {stats.ALPHA} but that lower end is "
    f"under {stats.MAJORITY:.0%}; *less often than the control* when the control wins at p < {stats.ALPHA}; "
    f"otherwise *not distinguishable from the control*."
)


def make_figures(app: FiguresConfig, out: Path, log: Callable = print) -> dict:
    """Train (or reuse) every job of the selected figures, then per figure write <name>.npz,
    draw <name>.png/.svg from that npz alone, and summarise it; then summary.json/.md.

    Returns the summary. Timing goes to timing.json (the one file that differs between runs).
    """
    validate_figures(app, FIGURES)
    names = list(FIGURES) if app.figures is None else list(app.figures)
    start = time.perf_counter()
    cache = RunCache(app.cache_dir) if app.cache else None
    jobs = [job for name in names for job in FIGURES[name].jobs(app)]
    results = run_jobs(jobs, app.runner, cache, log=log)
    trained = time.perf_counter() - start
    origin = provenance()
    summary = {"figures": {}, "provenance": origin}
    for name in names:
        entry = FIGURES[name]
        mine = {key[1:]: r for key, r in results.items() if key[0] == name}
        arrays = entry.arrays(mine, app)
        arrays["provenance_json"] = np.asarray(_json_line(origin))
        npz = write_npz_atomic(out / f"{name}.npz", arrays)
        saved = load_arrays(npz)  # figures and summaries are drawn from the saved artifact
        summary["figures"][name] = entry.summarize(saved)
        save_figure(entry.draw(saved, summary["figures"][name], app), out / name)
    write_json_atomic(out / "summary.json", summary)
    write_text_atomic(out / "summary.md", summary_markdown(summary))
    seconds = time.perf_counter() - start
    write_json_atomic(
        out / "timing.json",
        {"seconds_total": round(seconds, 1), "seconds_training": round(trained, 1), "jobs": len(jobs)},
    )
    log(f"wrote {len(names)} figures to {out} in {seconds:.0f}s")
    return summary


def _json_line(obj) -> str:
    import json

    return json.dumps(obj, sort_keys=True)


def load_result(npz_path, prefix: str | None = None) -> TrainResult:
    """A figure npz (or one part of it, e.g. prefix="correlated_pairs" in sparsity_sweep.npz) as a TrainResult."""
    arrays = load_arrays(npz_path)
    return TrainResult.from_arrays(split_prefixed(arrays, prefix) if prefix else arrays, source=str(npz_path))
