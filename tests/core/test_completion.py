"""Completion markers: a folder is complete only when its marker exists and matches its contents."""

import json

import numpy as np
import pytest

from tests.conftest import tiny_run_config
from tms import ArtifactError, TrainResult, train
from tms.core import completion


@pytest.fixture(scope="module")
def result():
    return train(tiny_run_config(steps=5))


def complete_folder(folder, result):
    completion.start(folder)
    result.save(folder / "weights.npz")
    (folder / "metrics.json").write_text("{}")
    completion.finish(folder, ["weights.npz", "metrics.json"])
    return folder


def test_a_finished_folder_is_complete_and_its_files_load(tmp_path, result):
    complete_folder(tmp_path, result)
    record = completion.check(tmp_path)
    assert sorted(record["files"]) == ["metrics.json", "weights.npz"]
    assert np.array_equal(TrainResult.load(tmp_path / "weights.npz").W, result.W)


def test_starting_a_rewrite_makes_the_folder_incomplete_until_it_finishes(tmp_path, result):
    complete_folder(tmp_path, result)
    completion.start(tmp_path)  # a rerun begins: the old files are still there, vouched for by nothing
    with pytest.raises(ArtifactError, match="incomplete: a run is writing it, or was interrupted"):
        completion.check(tmp_path)
    with pytest.raises(ArtifactError, match="incomplete"):
        TrainResult.load(tmp_path / "weights.npz")


def test_a_file_replaced_after_the_marker_no_longer_matches_it(tmp_path, result):
    complete_folder(tmp_path, result)
    (tmp_path / "metrics.json").write_text('{"another": "run"}')
    with pytest.raises(ArtifactError, match="metrics.json does not match complete.json"):
        completion.check(tmp_path)


def test_a_listed_file_that_is_missing_makes_the_folder_incomplete(tmp_path, result):
    complete_folder(tmp_path, result)
    (tmp_path / "metrics.json").unlink()
    with pytest.raises(ArtifactError, match="metrics.json is listed in complete.json but missing"):
        completion.check(tmp_path)


@pytest.mark.parametrize("marker", ["{broken", "[]", "{}", '{"files": [1]}', '{"files": {"a": 1}}'])
def test_anything_but_a_marker_with_file_hashes_is_refused(tmp_path, marker):
    (tmp_path / "complete.json").write_text(marker)
    with pytest.raises(ArtifactError, match="complete.json"):
        completion.check(tmp_path)


def test_a_file_the_marker_does_not_list_is_not_vouched_for(tmp_path, result):
    complete_folder(tmp_path, result)
    result.save(tmp_path / "older.npz")  # e.g. an older figure beside a one-figure rerun
    with pytest.raises(ArtifactError, match="not written by the run that completed"):
        TrainResult.load(tmp_path / "older.npz")


def test_a_lone_saved_result_loads_without_a_marker(tmp_path, result):
    path = result.save(tmp_path / "mine.npz")  # a notebook's own file: no run folder around it
    assert np.array_equal(TrainResult.load(path).W, result.W)


def test_a_first_run_interrupted_after_its_first_file_is_refused(tmp_path, result):
    folder = tmp_path / "fresh"
    completion.start(folder)  # a run into a new folder: its marker says "running" from the start
    result.save(folder / "weights.npz")
    with pytest.raises(ArtifactError, match="incomplete: a run is writing it"):
        TrainResult.load(folder / "weights.npz")


def test_a_folder_without_any_marker_is_read_as_it_is(tmp_path, result):
    """A notebook's working folder, or a run from before markers, holding run-like files."""
    result.save(tmp_path / "weights.npz")
    (tmp_path / "metrics.json").write_text(json.dumps({"from": "an earlier version"}))
    assert np.array_equal(TrainResult.load(tmp_path / "weights.npz").W, result.W)
    with pytest.raises(ArtifactError, match="no complete.json"):
        completion.check(tmp_path)  # but nothing says it is complete
