"""A content-addressed cache of training runs.

A run's key is a SHA-256 of its resolved RunConfig minus purely cosmetic fields (the progress
bar), the requested snapshot steps, the package version, and a hash of every source file of
the training core (``tms.core``), so editing anything there retrains even when the version
number stays the same; a new module in the core is covered without being listed.
An entry is a folder ``<root>/<key>/`` holding
``weights.npz`` and, written last, ``complete.json`` with the npz's SHA-256. An entry without
a valid marker, or whose npz no longer matches it, is never reused: it is retrained and
overwritten.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import hashlib
import json
import warnings
from pathlib import Path

import tms.core
from tms.core.artifacts import ArtifactError, write_json_atomic
from tms.core.config import RunConfig
from tms.core.result import TrainResult
from tms.core.train import train
from tms.run.provenance import package_version

COSMETIC_TRAIN_FIELDS = ("progress", "max_memory_gb")


@functools.lru_cache(maxsize=1)
def code_hash() -> str:
    """SHA-256 of every ``.py`` file of the imported ``tms.core``, by path relative to it."""
    root = Path(tms.core.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        name = path.relative_to(root).as_posix()
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


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
        "code": code_hash(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=float).encode()).hexdigest()[:24]


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
        """The cached result, or None if the entry is missing, partial or damaged in any way."""
        npz, marker = self._paths(key)
        try:
            record = json.loads(marker.read_text())
            if not isinstance(record, dict) or not isinstance(record.get("sha256"), str):
                return None
            if _sha256(npz) != record["sha256"]:
                return None
            return TrainResult.load(npz)
        except (OSError, ValueError, ArtifactError):
            return None

    def put(self, key: str, result: TrainResult) -> bool:
        """Store a result; if the cache cannot be written, warn and return False (never raise:
        a cache problem must not cost the run that was just trained)."""
        npz, marker = self._paths(key)
        try:
            marker.unlink(missing_ok=True)  # the old marker must not vouch for a new npz
            result.save(npz)
            write_json_atomic(marker, {"sha256": _sha256(npz), "version": package_version()})
        except OSError as e:
            warnings.warn(
                f"cache_dir: could not store a run in {self.root} ({e}); continuing without caching it", stacklevel=2
            )
            return False
        return True


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
