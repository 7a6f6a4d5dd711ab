"""Atomic writes: a failed write leaves neither a partial file nor a temp file."""

import os

import numpy as np
import pytest

from tms.artifacts import load_weights, write_json_atomic, write_npz_atomic
from tms.progress import Progress


def test_npz_round_trips(tmp_path):
    path = write_npz_atomic(tmp_path / "w.npz", {"W": np.ones((2, 3)), "seed": np.arange(2)})
    loaded = load_weights(path)
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
