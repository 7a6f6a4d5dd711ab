"""A content-addressed cache of training runs.

A run's key is a SHA-256 of its resolved RunConfig minus purely cosmetic fields (the progress
bar), the requested snapshot steps, and the package version. An entry is a folder
``<root>/<key>/`` holding ``weights.npz`` and, written last, ``complete.json`` with the npz's
SHA-256. An entry without the marker, or whose npz no longer matches its checksum, is never
reused: it is retrained and overwritten.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from importlib import metadata
from pathlib import Path

import numpy as np

from tms.artifacts import load_weights, weights_arrays, write_json_atomic, write_npz_atomic
from tms.config import RunConfig
from tms.train import TrainResult, train

COSMETIC_TRAIN_FIELDS = ("progress",)


def package_version() -> str:
    try:
        return metadata.version("tms")
    except metadata.PackageNotFoundError:
        return "unknown"


def run_key(cfg: RunConfig, snapshot_steps=()) -> str:
    """Hex key identifying what a run computes (not how it is displayed)."""
    # Only RunConfig's own fields: entry points subclass it with output and cache settings.
    cfg = copy.deepcopy(RunConfig(**{f.name: getattr(cfg, f.name) for f in dataclasses.fields(RunConfig)}))
    for name in COSMETIC_TRAIN_FIELDS:
        setattr(cfg.train, name, None)
    payload = {
        "config": dataclasses.asdict(cfg),
        "snapshot_steps": sorted(int(s) for s in snapshot_steps),
        "version": package_version(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:24]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class RunCache:
    """get/put TrainResults by run key under ``root``."""

    def __init__(self, root):
        self.root = Path(root)

    def _paths(self, key: str):
        folder = self.root / key
        return folder / "weights.npz", folder / "complete.json"

    def get(self, key: str) -> TrainResult | None:
        npz, marker = self._paths(key)
        try:
            expected = json.loads(marker.read_text())["sha256"]
            if _sha256(npz) != expected:
                return None
            arrays = load_weights(npz)
        except (OSError, ValueError, KeyError, json.JSONDecodeError):
            return None
        steps = arrays.get("snapshot_steps", np.zeros(0, dtype=np.int64))
        snapshots = {int(s): arrays["snapshots"][k] for k, s in enumerate(steps)}
        fields = {f.name for f in dataclasses.fields(TrainResult)} - {"snapshots"}
        return TrainResult(**{k: arrays[k] for k in fields}, snapshots=snapshots)

    def put(self, key: str, result: TrainResult) -> None:
        npz, marker = self._paths(key)
        marker.unlink(missing_ok=True)  # the old marker must not vouch for a new npz
        write_npz_atomic(npz, weights_arrays(result))
        write_json_atomic(marker, {"sha256": _sha256(npz), "version": package_version()})


def cached_train(cfg: RunConfig, cache: RunCache | None, snapshot_steps=(), label: str = "train"):
    """(TrainResult, was_cached): reuse a complete cache entry or train and store one."""
    if cache is None:
        return train(cfg, snapshot_steps=snapshot_steps, label=label), False
    key = run_key(cfg, snapshot_steps)
    hit = cache.get(key)
    if hit is not None:
        return hit, True
    result = train(cfg, snapshot_steps=snapshot_steps, label=label)
    cache.put(key, result)
    return result, False
