"""Atomic writes: a failed write leaves neither a partial file nor a temp file."""

import os

import numpy as np
import pytest

from tms.core.artifacts import ArtifactError, load_arrays, write_json_atomic, write_npz_atomic
from tms.core.progress import Progress


def test_npz_round_trips(tmp_path):
    path = write_npz_atomic(tmp_path / "w.npz", {"W": np.ones((2, 3)), "seed": np.arange(2)})
    loaded = load_arrays(path)
    assert loaded["W"].shape == (2, 3) and loaded["seed"].tolist() == [0, 1]


def test_interrupted_write_leaves_no_file(tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        write_json_atomic(tmp_path / "metrics.json", {"a": 1})
    assert list(tmp_path.iterdir()) == []


def test_failed_write_keeps_the_previous_complete_file(tmp_path, monkeypatch):
    target = tmp_path / "metrics.json"
    write_json_atomic(target, {"version": 1})
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        write_json_atomic(target, {"version": 2})
    assert '"version": 1' in target.read_text()


def test_progress_bar_is_quiet_under_ci(monkeypatch, capsys):
    monkeypatch.setenv("CI", "true")
    bar = Progress(10)
    bar.update(10)
    bar.close()
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "not a valid run artifact"),
        (b"not an npz at all", "not a valid run artifact"),
        (None, "not a valid run artifact"),  # a truncated npz
    ],
)
def test_loading_a_bad_file_names_it_and_never_suggests_pickle(tmp_path, content, reason):
    path = tmp_path / "weights.npz"
    if content is None:
        write_npz_atomic(path, {"W": np.ones((4, 4))})
        path.write_bytes(path.read_bytes()[:40])
    else:
        path.write_bytes(content)
    with pytest.raises(ArtifactError) as info:
        load_arrays(path)
    assert str(path) in str(info.value) and reason in str(info.value)
    assert "pickle" not in str(info.value)


def test_an_npz_holding_python_objects_is_refused_without_mentioning_pickle(tmp_path):
    path = tmp_path / "objects.npz"
    np.savez(path, W=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ArtifactError) as info:
        load_arrays(path)
    assert "holds Python objects" in str(info.value) and "pickle" not in str(info.value)


def test_json_is_strict_non_finite_numbers_become_null(tmp_path):
    import json

    path = write_json_atomic(tmp_path / "m.json", {"a": float("nan"), "b": [1.0, float("inf")], "c": np.float32(2)})
    assert json.loads(path.read_text()) == {"a": None, "b": [1.0, None], "c": 2.0}
