"""Plotting only draws: figures from hand-made arrays, for any structure, under any backend."""

import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import ROOT, unit
from tms.figures.plot_curves import plot_sparsity_sweep
from tms.figures.plotting import plot_gram, plot_weights_2d, setup_line


def arrays_2d(degrees_per_model, set_id, set_kind=("correlated",), p=None, norms=None):
    W = np.stack([np.stack([unit(d) for d in degrees], 1) for degrees in degrees_per_model])  # (I, 2, n)
    if norms is not None:
        W = W * np.asarray(norms)[None, None, :]
    I = W.shape[0]
    return {
        "W": W,
        "set_id": np.asarray(set_id),
        "set_kind": np.asarray(set_kind),
        "feature_probability": np.full(I, 0.05) if p is None else np.asarray(p),
        "seed": np.arange(I),
        "loss_step": np.asarray([100]),
    }


def texts(fig) -> str:
    return " ".join(t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")))


def test_importing_the_package_leaves_the_matplotlib_backend_alone():
    code = (
        "import matplotlib; matplotlib.use('svg')\n"
        "import tms, tms.figures.plotting, tms.figures\n"
        "assert matplotlib.get_backend() == 'svg', matplotlib.get_backend()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize(
    ("degrees", "set_id", "kinds"),
    [
        ([[0, 72, 144, 216, 288]], [-1, -1, -1, -1, -1], ()),  # independent only
        ([[0, 120, 240, 90, 180, 270]], [0, 0, 0, 1, 1, 1], ("correlated", "correlated")),  # sets of 3
        ([[0, 180, 60, 100]], [0, 0, -1, -1], ("anticorrelated",)),
    ],
)
def test_weights_plot_draws_any_structure(degrees, set_id, kinds):
    fig = plot_weights_2d(arrays_2d(degrees, set_id, kinds), title="t")
    legend = texts(fig)
    for kind in set(kinds):
        assert kind in legend
    if -1 in set_id:
        assert "(independent)" in legend


def test_independent_features_get_distinct_colours():
    fig = plot_weights_2d(arrays_2d([[0, 72, 144, 216, 288]], [-1] * 5, ()))
    colors = {tuple(np.round(line.get_color(), 3)) for line in fig.axes[0].get_lines()[1:]}
    assert len(colors) == 5


def test_weights_plot_refuses_models_that_are_not_2d():
    with pytest.raises(ValueError, match="m = 3"):
        plot_weights_2d({"W": np.zeros((1, 3, 4)), "set_id": np.zeros(4, dtype=int)})


def test_collapsed_sets_are_ringed_and_angles_say_dash_for_missing_features():
    a = arrays_2d(
        [[0, 5, 90, 200], [0, 90, 45, 135]], [0, 0, 1, 1], ("correlated", "correlated"), norms=[1, 1, 1, 0.01]
    )
    fig = plot_weights_2d(a)
    rings = [c for ax in fig.axes for c in ax.collections if c.get_sizes().size and c.get_sizes()[0] == 260]
    assert len(rings) == 1  # model 0 collapsed set 1 (f0, f1 at 5 degrees)
    titles = [ax.get_title() for ax in fig.axes[:2]]
    assert "∠ 5°, –" in titles[0] and "1 collapsed" in titles[0] and "unrepresented" in titles[0]


def test_panels_name_their_feature_probability_when_a_run_has_several():
    fig = plot_weights_2d(arrays_2d([[0, 90, 45, 135]] * 2, [0, 0, 1, 1], ("correlated",) * 2, p=[0.01, 0.1]))
    titles = [ax.get_title() for ax in fig.axes[:2]]
    assert "1−S = 0.01" in titles[0] and "1−S = 0.1" in titles[1]


def test_setup_line_comes_from_the_data_and_omits_missing_steps():
    a = arrays_2d([[0, 90, 45, 135]], [0, 0, 1, 1], ("correlated",) * 2)
    assert setup_line(a) == "2 correlated sets of 2 (n = 4) in m = 2, 1−S = 0.05, 1 models, 100 steps"
    del a["loss_step"]
    assert "steps" not in setup_line(a)


def test_gram_heatmap_names_the_model_it_shows():
    a = arrays_2d([[0, 90, 45, 135], [10, 100, 55, 145]], [0, 0, 1, 1], ("correlated",) * 2)
    fig = plot_gram([("sets", a)], title="t", index=1)
    assert "model 1 (seed 1, 1−S = 0.05)" in fig._suptitle.get_text()


def test_sweep_subtitle_mentions_controls_only_when_there_are_some():
    entry = {"feature_probability": [0.01, 0.1], "fraction": [0.5, 1.0], "fraction_ci95": [[0.2, 0.8], [0.7, 1.0]]}
    without = plot_sparsity_sweep({"c": entry}, {"c": "c"}, title="t")
    assert "dashed" not in without._suptitle.get_text()
    entry = {**entry, "control_fraction": [0.1, 0.2], "control_fraction_ci95": [[0, 0.3], [0.1, 0.4]]}
    with_control = plot_sparsity_sweep({"c": entry}, {"c": "c"}, title="t")
    assert "dashed" in with_control._suptitle.get_text()


def test_weights_plot_refuses_non_finite_weights_instead_of_calling_them_unrepresented():
    arrays = arrays_2d([[0, 90, 45, 135], [0, 90, 45, 135]], [0, 0, 1, 1])
    arrays["W"][1, 0, 2] = np.nan  # model 1 diverged
    with pytest.raises(ValueError, match=r"models \[1\] have non-finite weights"):
        plot_weights_2d(arrays)


@pytest.mark.parametrize(("change", "why"), [("columns", "columns = 0"), ("set_id", "needs W and set_id")])
def test_weights_plot_names_a_bad_argument(change, why):
    arrays = arrays_2d([[0, 90, 45, 135]], [0, 0, 1, 1])
    kwargs = {}
    if change == "columns":
        kwargs["columns"] = 0
    else:
        del arrays["set_id"]
    with pytest.raises(ValueError, match=why):
        plot_weights_2d(arrays, **kwargs)


# --- galleries and batch pictures -----------------------------------------------------------


def test_a_gallery_groups_every_model_by_outcome_with_counts():
    from tms.figures.gallery import gallery_layout, plot_gallery

    # 5 models: strict, collapsed, strict, other, strict (codes index OUTCOMES)
    arrays = arrays_2d([[0, 90, 180, 270]] * 5, [0, 0, 1, 1])
    codes = np.array([0, 1, 0, 3, 0])
    fig = plot_gallery(arrays, codes, title="demo", columns=2)
    words = texts(fig)
    assert "the predicted geometry: 3 of 5 (60%)" in words
    assert "collapsed (a set within 20° of one direction): 1 of 5 (20%)" in words
    assert "other: 1 of 5 (20%)" in words and "dropped (" not in words  # empty groups are left out
    assert "strict 3 · collapsed 1 · dropped 0 · other 1" in words
    layout = gallery_layout(codes, columns=2)
    assert [(name, members.tolist(), row) for name, members, row in layout] == [
        ("strict", [0, 2, 4], 1),
        ("collapsed", [1], 4),
        ("other", [3], 6),
    ]  # a header row, then ceil(count / columns) panel rows per group


def test_a_gallery_refuses_codes_that_do_not_match_the_models():
    from tms.figures.gallery import plot_gallery

    with pytest.raises(ValueError, match="3 outcome codes for 5 models"):
        plot_gallery(arrays_2d([[0, 90, 180, 270]] * 5, [0, 0, 1, 1]), np.zeros(3, int))


def test_plot_batch_shows_the_samples_with_a_feature_on_one_row_each():
    from tms.figures.plot_batch import plot_batch

    x = np.zeros((10, 4))
    x[2, :2] = [0.5, 0.9]  # a correlated pair on together
    x[7, 3] = 0.2  # one feature of an anticorrelated pair
    fig = plot_batch(x, np.array([0, 0, 1, 1]), ["correlated", "anticorrelated"], rows=5)
    image = fig.axes[0].images[0].get_array()
    assert image.shape[:2] == (2, 4)  # only samples 2 and 7 have a feature on
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["2", "7"]
    assert np.all(image[0, 2:, :3] == 1.0) and np.all(image[0, :2, :3] < 1.0)  # white where off
    assert "2 of 10 samples with a feature on" in texts(fig)


def test_plot_batch_refuses_a_batch_of_the_wrong_width():
    from tms.figures.plot_batch import plot_batch

    with pytest.raises(ValueError, match=r"one model's batch \(batch, n = 4\)"):
        plot_batch(np.zeros((3, 10, 4)), np.array([0, 0, 1, 1]))


def test_plot_batch_of_an_all_zero_batch_says_so_instead_of_failing():
    from tms.figures.plot_batch import plot_batch

    fig = plot_batch(np.zeros((10, 4)), np.array([0, 0, 1, 1]), ["correlated", "correlated"])
    assert "0 of 10 samples with a feature on" in texts(fig)


def test_a_gallery_refuses_codes_outside_the_outcomes():
    from tms.figures.gallery import plot_gallery

    with pytest.raises(ValueError, match="outcome codes must index OUTCOMES"):
        plot_gallery(arrays_2d([[0, 90, 180, 270]] * 2, [0, 0, 1, 1]), np.array([0, 4]))
