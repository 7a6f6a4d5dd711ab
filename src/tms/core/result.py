"""What a training run produced, and what a notebook does with it: save, load, select, rebuild.

A ``TrainResult`` is plain numpy. Its npz form (``save``/``load``, the ``weights.npz`` of a run)
is self-describing: the feature layout is stored as ``set_id`` and ``set_kind``, so the
sampler and the model can be rebuilt from the file alone.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tms.core.artifacts import ArtifactError, load_arrays, write_npz_atomic
from tms.core.completion import check_file
from tms.core.structure import set_count

WEIGHT_KEYS = ("W", "b", "loss", "loss_step", "feature_probability", "importance", "seed", "set_id", "set_kind")


@dataclass
class TrainResult:
    """Trained weights of I models and how they were trained; arrays are numpy, on the CPU."""

    W: np.ndarray  # (I, m, n)
    b: np.ndarray  # (I, n)
    loss: np.ndarray  # (windows, I) mean loss per window of `log_every` steps
    loss_step: np.ndarray  # (windows,) last step (1-based) of each window
    feature_probability: np.ndarray  # (I,) p = 1 - S of each model
    seed: np.ndarray  # (I,) initialisation seed of each model (tms.core.seeds)
    importance: np.ndarray  # (n,)
    set_id: np.ndarray  # (n,) set of each feature, -1 for independent features
    set_kind: np.ndarray  # (sets,) "correlated" or "anticorrelated", by set id
    snapshots: dict = field(default_factory=dict)  # step -> W (I, m, n), for the steps asked for
    config: str = ""  # the resolved run config as JSON (tms.core.train.config_json), for replay

    @property
    def n_instances(self) -> int:
        return self.W.shape[0]

    def __repr__(self) -> str:
        I, m, n = self.W.shape
        ps = ", ".join(f"{p:g}" for p in np.unique(self.feature_probability))
        steps = int(self.loss_step[-1]) if len(self.loss_step) else 0
        return f"TrainResult({I} models, m={m}, n={n}, 1-S in {{{ps}}}, {steps} steps)"

    # --- npz form -------------------------------------------------------------------------

    def arrays(self) -> dict:
        """The npz content: WEIGHT_KEYS, plus ``snapshots`` (S, I, m, n) and ``snapshot_steps``."""
        out = {k: np.asarray(getattr(self, k)) for k in WEIGHT_KEYS}
        if self.config:
            out["config"] = np.asarray(self.config)
        if self.snapshots:
            steps = sorted(self.snapshots)
            out["snapshots"] = np.stack([self.snapshots[s] for s in steps])
            out["snapshot_steps"] = np.asarray(steps, dtype=np.int64)
        return out

    @classmethod
    def from_arrays(cls, arrays, source="arrays") -> TrainResult:
        """The inverse of ``arrays()``; ``source`` names where they came from in errors."""
        missing = [k for k in WEIGHT_KEYS if k not in arrays]
        if missing:
            raise ArtifactError(f"{source}: not a run artifact; missing {', '.join(missing)}")
        problem = _inconsistency({k: np.asarray(arrays[k]) for k in WEIGHT_KEYS})
        if problem:
            raise ArtifactError(f"{source}: not a consistent run artifact ({problem})")
        steps = arrays.get("snapshot_steps", np.zeros(0, dtype=np.int64))
        snapshots = {int(s): np.asarray(arrays["snapshots"][k]) for k, s in enumerate(steps)}
        config = str(np.asarray(arrays["config"])) if "config" in arrays else ""
        return cls(**{k: np.asarray(arrays[k]) for k in WEIGHT_KEYS}, snapshots=snapshots, config=config)

    def save(self, path) -> Path:
        """Write the npz atomically (temp file + rename) and return its path."""
        return write_npz_atomic(path, self.arrays())

    @classmethod
    def load(cls, path) -> TrainResult:
        """Read a ``weights.npz`` (or any npz with WEIGHT_KEYS); a bad file raises ArtifactError,
        and so does a file in a run's folder that the folder's completion marker does not vouch
        for (``tms.core.completion``)."""
        check_file(path)
        return cls.from_arrays(load_arrays(path), source=str(path))

    # --- selecting and rebuilding ---------------------------------------------------------

    def select(self, mask=None, *, feature_probability=None, seed=None) -> TrainResult:
        """The models where ``mask`` (I,) is true and/or that match a feature probability or seed."""
        keep = np.ones(self.n_instances, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
        if keep.shape != (self.n_instances,):
            raise ValueError(f"mask has shape {keep.shape}; expected ({self.n_instances},)")
        if feature_probability is not None:
            keep &= np.isclose(self.feature_probability, feature_probability, rtol=1e-12, atol=0)
        if seed is not None:
            keep &= np.isin(self.seed, np.atleast_1d(seed))
        return dataclasses.replace(
            self,
            W=self.W[keep],
            b=self.b[keep],
            loss=self.loss[:, keep],
            feature_probability=self.feature_probability[keep],
            seed=self.seed[keep],
            snapshots={s: w[keep] for s, w in self.snapshots.items()},
        )

    def feature_sets(self) -> list:
        """The FeatureSets this run was trained on: from its recorded config (with their rates),
        else rebuilt from ``set_id`` and ``set_kind``."""
        from tms.core.config import FeatureSet

        recorded = self._recorded_data().get("sets")
        if recorded:
            return [FeatureSet(**s) for s in recorded]
        return feature_sets(self.set_id, self.set_kind)

    def _recorded_data(self) -> dict:
        """The recorded config's ``data`` section ({} without a config)."""
        import json

        return json.loads(self.config).get("data", {}) if self.config else {}

    def to_model(self):
        """A ``ToyModel`` holding these weights and this importance, for autograd experiments."""
        from tms.core.model import ToyModel

        return ToyModel.from_arrays(self.W, self.b, self.importance)

    def sampler(self, step: int = 0, device="cpu"):
        """A ``FeatureSampler`` drawing these models' own batches (one instance per model), from
        batch ``step`` on (training used batches 0 .. steps - 1; later ones are fresh data)."""
        from tms.core.features import FeatureSampler
        from tms.core.streams import model_keys
        from tms.core.structure import FeatureStructure

        structure = FeatureStructure.from_sets(self.feature_sets())
        rates = structure.unit_rates(self.feature_probability, self.rate_scale)
        values = self._recorded_data().get("values", "uniform")
        return FeatureSampler(structure, rates, model_keys(self.seed), step=step, device=device, values=values)

    @property
    def rate_scale(self) -> float:
        """The run's ``data.rate_scale`` (units are active with probability rate_scale x p); 1
        for artifacts that do not record their config."""
        return float(self._recorded_data().get("rate_scale", 1.0))


def split_prefixed(arrays, prefix: str) -> dict:
    """Keys 'prefix.key' of a multi-part npz (a figure of several parts) -> {key: array}."""
    return {k[len(prefix) + 1 :]: v for k, v in arrays.items() if k.startswith(prefix + ".")}


def load_part(path, part: str | None = None) -> TrainResult:
    """A run artifact npz as a TrainResult, or with ``part`` one part of a figure npz of several
    ('<part>.<key>' arrays). Refuses (ArtifactError) a file its folder's completion marker does
    not vouch for, a part it lacks, and, without ``part``, a figure of several parts."""
    check_file(path)
    arrays = load_arrays(path)
    have = sorted({k.split(".", 1)[0] for k in arrays if "." in k})
    if part is None:
        if "W" not in arrays and have:
            raise ArtifactError(f"{path}: a figure of several parts; pick one of its parts: {', '.join(have)}")
        return TrainResult.from_arrays(arrays, source=str(path))
    found = split_prefixed(arrays, part)
    if not found:
        listed = ", ".join(have) if have else "none (a one-part figure: load it without a prefix)"
        raise ArtifactError(f"{path}: no part {part!r}; its parts: {listed}")
    return TrainResult.from_arrays(found, source=f"{path} [{part}]")


def _inconsistency(a: dict) -> str | None:
    """What makes these arrays no run of the model (shapes that disagree, unknown set kinds)."""
    W = a["W"]
    if W.ndim != 3:
        return f"W has shape {W.shape}; expected (instances, m, n)"
    I, _, n = W.shape
    expected = {"b": (I, n), "feature_probability": (I,), "seed": (I,), "importance": (n,), "set_id": (n,)}
    for key, shape in expected.items():
        if a[key].shape != shape:
            return f"{key} has shape {a[key].shape}; W {W.shape} needs {shape}"
    if a["loss"].ndim != 2 or a["loss"].shape[1] != I or a["loss_step"].shape != (a["loss"].shape[0],):
        return f"loss {a['loss'].shape} and loss_step {a['loss_step'].shape} do not match {I} models"
    kinds = [str(k) for k in a["set_kind"].reshape(-1)]
    unknown = [k for k in kinds if k not in ("correlated", "anticorrelated")]
    if unknown:
        return f"unknown set_kind {unknown[0]!r}; allowed: correlated, anticorrelated"
    sets = set_count(a["set_id"])
    if len(kinds) != sets:
        return f"set_kind lists {len(kinds)} sets, set_id has {sets}"
    return None


def feature_sets(set_id, set_kind) -> list:
    """FeatureSets in feature order from a layout: runs of -1 are independent features."""
    from tms.core.config import FeatureSet

    set_id = np.asarray(set_id)
    sets = []
    f = 0
    while f < len(set_id):
        s = int(set_id[f])
        end = f + 1
        while end < len(set_id) and set_id[end] == s:
            end += 1
        if s < 0:
            sets.append(FeatureSet("independent", end - f, 1))
        else:
            sets.append(FeatureSet(str(set_kind[s]), end - f, 1))
        f = end
    return sets
