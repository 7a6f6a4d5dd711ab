"""A content-addressed cache of training runs.

A run's key is a SHA-256 of its resolved RunConfig minus purely cosmetic fields (the progress
bar), the requested snapshot steps, the package version, and a hash of every source file of
the training core (``tms.core``), so editing anything there retrains even when the version
number stays the same; a new module in the core is covered without being listed.
An entry is a folder ``<root>/<key>/`` holding
``weights.npz`` and, written last, ``complete.json`` with the npz's SHA-256 and the version
(``tms.core.completion``). An entry without a valid marker, whose npz no longer matches it,
stored by another version, or (checked against the run's config) holding another run, e.g. a
folder copied from another key, is never reused: it is retrained and overwritten, with one
warning.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import hashlib
import json
import warnings
from pathlib import Path

import numpy as np

import tms.core
from tms.core import completion
from tms.core.artifacts import ArtifactError, load_arrays
from tms.core.config import RunConfig
from tms.core.result import TrainResult
from tms.core.structure import FeatureStructure
from tms.core.train import importance_vector, instance_layout, train
from tms.run.provenance import package_version

COSMETIC_TRAIN_FIELDS = ("progress", "max_memory_gb")
WEIGHTS = "weights.npz"


@functools.lru_cache(maxsize=1)
def code_hash() -> str:
    """SHA-256 of every ``.py`` file of the imported ``tms.core``, by path relative to it."""
    root = Path(tms.core.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        name = path.relative_to(root).as_posix()
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def run_key(cfg: RunConfig, snapshot_steps=(), models=None) -> str:
    """Hex key identifying what a run (or its models ``models`` = (first, stop)) computes (not
    how it is displayed)."""
    if callable(cfg.train.schedule):
        raise ValueError("a run with a callable train.schedule cannot be cached: its code is not part of the key")
    # Only RunConfig's own fields: entry points subclass it with output and cache settings.
    cfg = copy.deepcopy(RunConfig(**{f.name: getattr(cfg, f.name) for f in dataclasses.fields(RunConfig)}))
    for name in COSMETIC_TRAIN_FIELDS:
        setattr(cfg.train, name, None)
    payload = {
        "config": dataclasses.asdict(cfg),
        "snapshot_steps": sorted(int(s) for s in snapshot_steps),
        "version": package_version(),
        "code": code_hash(),
    }
    if models is not None:
        payload["models"] = [int(models[0]), int(models[1])]
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=float).encode()).hexdigest()[:24]


def mismatch(result: TrainResult, cfg: RunConfig, snapshot_steps=(), models=None) -> str | None:
    """What in ``result`` contradicts the run ``cfg`` describes, or its models ``models`` =
    (first, stop) (None if nothing does): shapes, layout, feature probabilities, seeds,
    importance and snapshot steps."""
    p, seeds = instance_layout(cfg)
    if models is not None:
        p, seeds = p[models[0] : models[1]], seeds[models[0] : models[1]]
    structure = FeatureStructure.from_sets(cfg.data.sets)
    want_shape = (len(seeds), cfg.model.m, structure.n)
    if result.W.shape != want_shape:
        return f"W is {result.W.shape}, the config trains {want_shape}"
    if result.b.shape != (len(seeds), structure.n):
        return f"b is {result.b.shape}, the config trains {(len(seeds), structure.n)}"
    if not np.array_equal(result.set_id, structure.set_id) or list(result.set_kind) != structure.set_kinds:
        return "another feature layout"
    if not np.array_equal(result.feature_probability, p):
        return "other feature probabilities"
    if not np.array_equal(result.seed, seeds):
        return "other seeds"
    if not np.array_equal(result.importance, importance_vector(cfg)):
        return "another importance"
    wanted = {int(s) for s in snapshot_steps if 0 <= int(s) <= cfg.train.steps}
    if set(result.snapshots) != wanted:
        return f"snapshots at {sorted(result.snapshots)}, not {sorted(wanted)}"
    return None


class RunCache:
    """get/put TrainResults by run key under ``root``; each entry is a folder ``<root>/<key>/``
    completed by ``tms.core.completion``'s marker."""

    def __init__(self, root):
        self.root = Path(root)
        self._warned = False

    def get(self, key: str, cfg: RunConfig | None = None, snapshot_steps=(), models=None) -> TrainResult | None:
        """The cached result, or None if the entry is missing, partial or damaged in any way, was
        stored by another version, or (given the run's ``cfg``) holds another run."""
        folder = self.root / key
        try:
            record = completion.check(folder)  # hashes weights.npz too
            if WEIGHTS not in record["files"]:
                return None
            result = TrainResult.from_arrays(load_arrays(folder / WEIGHTS), source=str(folder / WEIGHTS))
        except (OSError, ArtifactError):
            return None
        problem = None
        if record.get("version") != package_version():
            problem = f"stored by tms {record.get('version')!r}, this is {package_version()!r}"
        elif cfg is not None:
            problem = mismatch(result, cfg, snapshot_steps, models)
        if problem is not None:
            self._warn(f"cache_dir: entry {key} does not hold the run its key names ({problem}); retraining it")
            return None
        return result

    def _warn(self, message: str) -> None:
        if not self._warned:  # once per cache: one damaged folder usually means more
            warnings.warn(message, stacklevel=3)
            self._warned = True

    def put(self, key: str, result: TrainResult) -> bool:
        """Store a result; if the cache cannot be written, warn and return False (never raise:
        a cache problem must not cost the run that was just trained)."""
        folder = self.root / key
        try:
            completion.start(folder)  # the old marker must not vouch for a new npz
            result.save(folder / WEIGHTS)
            completion.finish(folder, [WEIGHTS], version=package_version())
        except OSError as e:
            warnings.warn(
                f"cache_dir: could not store a run in {self.root} ({e}); continuing without caching it", stacklevel=2
            )
            return False
        return True


def cached_train(cfg: RunConfig, cache: RunCache | None, snapshot_steps=(), label: str = "train", models=None):
    """(TrainResult, was_cached): reuse a complete cache entry or train and store one; with
    ``models`` = (first, stop), only those models of the run (a shard)."""
    index = None if models is None else range(models[0], models[1])
    if cache is None:
        return train(cfg, snapshot_steps=snapshot_steps, label=label, models=index), False
    key = run_key(cfg, snapshot_steps, models)
    hit = cache.get(key, cfg, snapshot_steps, models)
    if hit is not None:
        return hit, True
    result = train(cfg, snapshot_steps=snapshot_steps, label=label, models=index)
    cache.put(key, result)
    return result, False
