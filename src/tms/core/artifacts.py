"""Atomic writes and checked reads of run artifacts (npz, json, text).

Every write goes to a temporary file in the target folder and is renamed into place, so an
interrupted run never leaves a file that looks complete. Reads refuse anything that is not a
plain npz of arrays, naming the file.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np


class ArtifactError(ValueError):
    """A file is missing, unreadable, or not the artifact it should be; the message names it."""


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
    """Strict JSON (non-finite numbers become null), sorted keys, so equal content is equal bytes."""
    text = json.dumps(_finite(obj), indent=2, sort_keys=True, default=_jsonable, allow_nan=False)
    return write_text_atomic(path, text + "\n")


def _finite(obj):
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _finite(obj.tolist())
    if isinstance(obj, (float, np.floating)) and not np.isfinite(obj):
        return None
    return obj


def write_npz_atomic(path, arrays: Mapping[str, np.ndarray]) -> Path:
    buf = io.BytesIO()
    np.savez_compressed(buf, **{k: np.asarray(v) for k, v in arrays.items()})
    return write_bytes_atomic(path, buf.getvalue())


def load_arrays(path) -> dict:
    """Load an npz of plain arrays into a dict, or raise ArtifactError naming the file."""
    try:
        if not zipfile.is_zipfile(path):
            kind = "a single .npy array" if Path(path).read_bytes()[:6] == b"\x93NUMPY" else "not an npz archive"
            raise ArtifactError(f"{path}: not a valid run artifact ({kind})")
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except FileNotFoundError:
        raise ArtifactError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ArtifactError(f"{path}: a folder, not an npz file") from None
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as e:
        reason = "holds Python objects" if "allow_pickle" in str(e) else str(e).splitlines()[0]
        raise ArtifactError(f"{path}: not a valid run artifact ({reason})") from None


def _jsonable(x):
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")
