"""Atomic, self-describing run artifacts: weights.npz, metrics.json, config.yaml.

Every write goes to a temporary file in the target folder and is renamed into place, so an
interrupted run never leaves a file that looks complete.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

WEIGHT_KEYS = ("W", "b", "loss", "loss_step", "feature_probability", "importance", "seed", "set_id")


def write_bytes_atomic(path, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path, text: str) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path, obj) -> Path:
    return write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=True, default=_jsonable) + "\n")


def write_npz_atomic(path, arrays: Mapping[str, np.ndarray]) -> Path:
    buf = io.BytesIO()
    np.savez_compressed(buf, **{k: np.asarray(v) for k, v in arrays.items()})
    return write_bytes_atomic(path, buf.getvalue())


def weights_arrays(result, extra: Mapping[str, np.ndarray] | None = None) -> dict:
    """The standard weights.npz keys from a TrainResult, plus any extra arrays.

    Snapshots, when the run took any, become ``snapshots`` (S, I, m, n) and ``snapshot_steps`` (S,).
    """
    arrays = {k: getattr(result, k) for k in WEIGHT_KEYS}
    if getattr(result, "snapshots", None):
        steps = sorted(result.snapshots)
        arrays["snapshots"] = np.stack([result.snapshots[s] for s in steps])
        arrays["snapshot_steps"] = np.asarray(steps)
    arrays.update(extra or {})
    return arrays


def load_weights(path) -> dict:
    """Load a weights npz into a plain dict of numpy arrays."""
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def _jsonable(x):
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")
