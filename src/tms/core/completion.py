"""Completion markers: a folder counts as complete only when its marker matches its contents.

The rule, for every folder a run writes (a figures folder, a train run, a run-cache entry):

1. before its first write into the folder, the run removes the folder's ``complete.json``, so a
   folder being rewritten never looks complete, whatever it held before;
2. it writes its files (each atomically);
3. last, it writes ``complete.json`` with the SHA-256 of every file it vouches for.

A folder is complete when ``complete.json`` exists, parses, and every file it lists exists with
that hash. Readers refuse anything else: an interrupted run, or a rerun interrupted over a
complete one, leaves a folder with no marker, and a file replaced after the marker was written
no longer matches it. A file that is listed nowhere (e.g. an older figure beside a one-figure
rerun) is not vouched for.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tms.core.artifacts import ArtifactError, write_json_atomic

MARKER = "complete.json"
# Files that only a run writes: a folder holding one of them but no marker is an unfinished run.
RUN_FILES = ("summary.json", "summary.md", "metrics.json", "config.yaml", "timing.json")


def sha256_file(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def start(folder) -> None:
    """Before the first write into ``folder``: it no longer looks complete."""
    (Path(folder) / MARKER).unlink(missing_ok=True)


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
    """A file inside a run's folder must be vouched for by that folder's marker.

    A file in a folder with no marker and no other run file (e.g. a ``TrainResult.save`` from a
    notebook) is taken as it is.
    """
    path = Path(path)
    folder = path.parent
    if not (folder / MARKER).exists():
        if any((folder / name).exists() for name in RUN_FILES):
            check(folder)  # raises: an unfinished run's folder
        return
    record = check(folder)
    if path.name not in record["files"]:
        raise ArtifactError(f"{path}: not written by the run that completed {folder} (not in its {MARKER})")
