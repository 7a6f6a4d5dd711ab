"""Completion markers: a folder counts as complete only when its marker matches its contents.

The rule, for every folder a run writes (a figures folder, a train run, a run-cache entry):

1. before its first write into the folder, the run replaces the folder's ``complete.json`` by an
   in-progress one (``{"status": "running"}``), so a folder being written never looks complete,
   whatever it held before;
2. it writes its files (each atomically);
3. last, it writes ``complete.json`` with the SHA-256 of every file it vouches for.

A folder is complete when ``complete.json`` exists, lists file hashes, and every file it lists
exists with that hash. Readers refuse anything else: a run interrupted at any point after it
started, first run or rerun, leaves the in-progress marker, and a file replaced after the marker
was written no longer matches it. A file that is listed nowhere (e.g. an older figure beside a
one-figure rerun) is not vouched for. A file in a folder with no ``complete.json`` at all (a
notebook's own ``TrainResult.save``, a folder from before markers) is read as it is.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tms.core.artifacts import ArtifactError, write_json_atomic

MARKER = "complete.json"
RUNNING = {"status": "running"}  # the marker while a run writes the folder


def sha256_file(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def start(folder) -> None:
    """Before the first write into ``folder``: from now on it reads as a run in progress."""
    write_json_atomic(Path(folder) / MARKER, RUNNING)


def finish(folder, files, **record) -> Path:
    """Last: vouch for ``files`` (names inside ``folder``) with their SHA-256, plus ``record``."""
    folder = Path(folder)
    hashes = {str(name): sha256_file(folder / name) for name in sorted(map(str, files))}
    return write_json_atomic(folder / MARKER, {**record, "files": hashes})


def check(folder) -> dict:
    """The marker's record if ``folder`` is complete; else ArtifactError saying what is wrong."""
    folder = Path(folder)
    marker = folder / MARKER
    try:
        record = json.loads(marker.read_text())
    except FileNotFoundError:
        raise ArtifactError(f"{folder}: incomplete (no {MARKER}): the run writing it did not finish") from None
    except (OSError, ValueError) as e:
        raise ArtifactError(f"{marker}: unreadable completion marker ({e})") from None
    if record == RUNNING:
        raise ArtifactError(f"{folder}: incomplete: a run is writing it, or was interrupted while it did")
    files = record.get("files") if isinstance(record, dict) else None
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        raise ArtifactError(f"{marker}: not a completion marker (no file hashes)")
    for name, expected in files.items():
        path = folder / name
        if not path.is_file():
            raise ArtifactError(f"{folder}: incomplete: {name} is listed in {MARKER} but missing")
        if sha256_file(path) != expected:
            raise ArtifactError(f"{folder}: {name} does not match {MARKER}: it was rewritten after the run finished")
    return record


def check_file(path) -> None:
    """A file in a folder with a marker must be vouched for by it; a file in a folder without one
    (a notebook's own ``TrainResult.save``, a folder written before markers) is taken as it is."""
    path = Path(path)
    folder = path.parent
    if not (folder / MARKER).exists():
        return
    record = check(folder)
    if path.name not in record["files"]:
        raise ArtifactError(f"{path}: not written by the run that completed {folder} (not in its {MARKER})")
