"""What a figure is: the parts it trains, and how their saved arrays become a picture and numbers.

A figure module defines one ``Figure``. The figure says which ``Part``s it trains (a run, a
paired control if the settings ask for controls, optional W snapshots); the runner trains every
run of every part under a ``JobKey`` and hands the results back. The figure then turns them into
its npz (``arrays``), measures it (``summarize``, a summary.json entry with 95% intervals), draws
it from the saved npz (``draw``) and says how it reads in summary.md (``markdown``, ``finding``).

npz layout: a one-part figure stores its run's arrays under their own names and its control's W,
b and loss as ``control_W``, ``control_b``, ``control_loss``; a figure of several parts stores
``<part>.<key>`` for each part and ``<part>.control_W`` for its control.

Seeds: in a run with ``seed = s``, a one-part figure F trains from ``derive_seed(s, "F")`` and
part X of figure F from ``derive_seed(s, "F/X")`` (see ``run_config``), so figures and parts never
share initialisations, while each model and its independent-feature control share theirs
(``tms.core.seeds``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from tms.analysis.recipe import recipe
from tms.core.config import RunConfig
from tms.core.controls import control_config
from tms.core.seeds import derive_seed
from tms.core.structure import describe_layout
from tms.core.sweeps import merge_results, sweep_configs
from tms.figures.settings import FigureSettings


@dataclass(frozen=True, order=True)
class JobKey:
    """Which training run a result belongs to."""

    figure: str
    part: str = ""  # "" for a one-part figure; else a sweep geometry or a scaling cell
    control: bool = False  # the part's independent-feature control
    group: int = 0  # a swept part trains as several runs of similar cost

    @property
    def label(self) -> str:
        words = [self.figure] + ([self.part] if self.part else []) + (["control"] if self.control else [])
        return " ".join(words) + (f" #{self.group}" if self.part or self.group else "")


@dataclass(frozen=True)
class Part:
    """One trained part of a figure: a base run, swept over ``sweep`` = (feature probabilities,
    models per value) or trained as it is, with its paired control if ``control``."""

    name: str
    config: RunConfig
    control: bool
    sweep: tuple | None = None
    snapshot_steps: tuple = ()  # W snapshots of the model runs (never of the control)
    models: tuple | None = None  # (first, stop): train only these of the run's models

    def runs(self, control: bool = False) -> list:
        """The RunConfigs to train, in group order: the model's or the control's."""
        base = control_config(self.config) if control else self.config
        if self.sweep is None:
            return [base]
        probabilities, n_instances = self.sweep
        return sweep_configs(base, probabilities, n_instances)  # grouped by the run's own structure


def run_config(settings: FigureSettings, setup: str, seed_label: str, n_instances: int) -> RunConfig:
    """The RunConfig of a named setup under the settings' training recipe and a part's run seed."""
    s = settings.setups[setup]
    return RunConfig(
        data=copy.deepcopy(s.data),
        model=copy.deepcopy(s.model),
        train=copy.deepcopy(settings.train),
        n_instances=n_instances,
        seed=derive_seed(settings.seed, seed_label),
    )


def continued_config(cfg: RunConfig, factor: int) -> RunConfig:
    """``cfg`` trained for ``factor`` x the steps: the same models on the same batches, so with a
    constant schedule its first ``cfg.train.steps`` steps are ``cfg``'s run (bit for bit on the
    fused backend) and the rest continue it, optimiser state included."""
    out = copy.deepcopy(cfg)
    out.train.steps = cfg.train.steps * factor
    return out


def merged(results: dict, part: str = "", control: bool = False):
    """The TrainResult of one part (or its control), its groups merged in order; None if not trained."""
    found = [r for key, r in sorted(results.items()) if key.part == part and key.control == control]
    return merge_results(found) if found else None


def one_part_arrays(results: dict) -> dict:
    """npz content of a one-part figure: the run's arrays, then its control's W, b and loss."""
    arrays = merged(results).arrays()
    control = merged(results, control=True)
    if control is not None:
        arrays.update(control_W=control.W, control_b=control.b, control_loss=control.loss)
    return arrays


def prefixed_arrays(results: dict, parts) -> dict:
    """npz content of a figure of several parts: '<part>.<key>', and '<part>.control_W'."""
    arrays = {}
    for part in parts:
        arrays.update({f"{part}.{k}": v for k, v in merged(results, part).arrays().items()})
        control = merged(results, part, control=True)
        if control is not None:
            arrays[f"{part}.control_W"] = control.W
    return arrays


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
        "marginal_share": marginal_share_of(arrays["set_id"], arrays["set_kind"]),
        **{k: v for k, v in recipe(arrays).items() if k != "steps"},  # steps: what was logged, above
    }


def marginal_share_of(set_id, set_kind) -> int:
    """k such that a feature of this layout is on with probability (1 - S) / k (the control's
    rate, ``tms.core.controls``): the size of its anticorrelated sets, else 1."""
    set_id = np.asarray(set_id)
    sizes = {int((set_id == s).sum()) for s in range(len(set_kind)) if str(set_kind[s]) == "anticorrelated"}
    return max(sizes) if sizes else 1


def recipe_words(setup: dict) -> str:
    """E.g. 'init per-model Xavier ×1, lr 0.001, 10,000 steps'."""
    init = {"per_model": "per-model Xavier", "colab": "whole-tensor (colab) Xavier"}.get(setup.get("init"), "?")
    words = f"init {init} ×{setup.get('init_scale', 1.0):g}" if "init" in setup else ""
    if "lr" in setup:
        words += f", lr {setup['lr']:g}"
    return f"{words}, {setup['steps']:,} steps".lstrip(", ")


@dataclass(frozen=True)
class Figure:
    """Base of every figure; see the module docstring for the contract."""

    name: str
    title: str
    table: str | None = None  # "claims": one row in the shared claims table; None: its own section

    def check(self, settings: FigureSettings) -> None:
        """Raise ConfigError for settings this figure cannot use (before anything trains)."""
        raise NotImplementedError

    def parts(self, settings: FigureSettings) -> list:
        raise NotImplementedError

    def arrays(self, results: dict, settings: FigureSettings) -> dict:
        """npz content from {JobKey: TrainResult} of this figure's runs."""
        raise NotImplementedError

    def summarize(self, arrays: dict) -> dict:
        raise NotImplementedError

    def draw(self, arrays: dict, entry: dict, settings: FigureSettings):
        """The matplotlib Figure, from the saved arrays and this figure's summary entry."""
        raise NotImplementedError

    def companions(self, arrays: dict, entry: dict, settings: FigureSettings) -> dict:
        """Further pictures saved beside the figure as ``<name>_<key>.png``: {key: Figure}."""
        return {}

    def markdown(self, entry: dict) -> list:
        raise NotImplementedError

    def finding(self, entry: dict) -> str:
        return ""

    def further(self, entry: dict) -> list:
        """Rows of the further-claims table (claims measured on this figure's models)."""
        return []
