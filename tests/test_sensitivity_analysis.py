"""The analysis path (design.parquet + outputs.parquet -> indices.csv) on known functions."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from SALib.test_functions import Ishigami

from parksim.analysis.sensitivity.analysis import design_points, design_table
from parksim.analysis.sensitivity.assumptions import Parameter
from parksim.analysis.sensitivity.study import indices_from_folder

PI = np.pi


def _study_folder(tmp_path, method, parameters, size, function, seed=11):
    """A study folder holding a known function's outputs, as a model study writes them."""
    keys = [p.key for p in parameters]
    design = design_points(method, keys, size, seed)
    values = np.column_stack([p.from_unit(design.levels[:, i]) for i, p in enumerate(parameters)])
    design_table(design, values).to_parquet(tmp_path / "design.parquet", index=False)
    y = function(values)
    outputs = pd.DataFrame(
        {
            "point": np.arange(design.points),
            "strategy": "f",
            "versus": "",
            "metric": "y",
            "value": y,
            "se": 0.0,
            "replications": 1,
        }
    )
    outputs.to_parquet(tmp_path / "outputs.parquet", index=False)
    manifest = {"method": method, "seed": seed, "parameters": [{"key": k} for k in keys]}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    return indices_from_folder(tmp_path).set_index("parameter")


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Analytic first-order and total Sobol indices of the Ishigami function."""
    v1 = 0.5 * (1 + b * PI**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * PI**8 * (1 / 18 - 1 / 50)
    variance = v1 + v2 + v13
    first = np.array([v1, v2, 0.0]) / variance
    total = np.array([v1 + v13, v2, v13]) / variance
    return first, total


def test_sobol_indices_of_ishigami_match_the_analytic_ones(tmp_path):
    parameters = [Parameter(f"x{i}", -PI, PI) for i in (1, 2, 3)]
    table = _study_folder(tmp_path, "sobol", parameters, 2048, Ishigami.evaluate)
    first, total = ishigami_indices()
    # SALib's 95 % bootstrap half-widths at 2,048 base samples are 0.02-0.06; each index
    # must lie within its own interval of the analytic value (fixed seed: deterministic).
    for column, conf, expected in (("S1", "S1_conf", first), ("ST", "ST_conf", total)):
        assert (table[conf] < 0.07).all(), table
        assert (np.abs(table[column].to_numpy() - expected) <= table[conf].to_numpy()).all(), table
    assert (tmp_path / "indices.csv").exists()


def test_an_output_that_never_moves_has_no_sobol_indices_and_no_warning(tmp_path):
    # A difference between two strategies the parameters do not touch is the same at
    # every point: no variance to share out, so the indices are undefined (NaN), and
    # SALib is not asked (it divided by zero: 16 RuntimeWarnings in notebook 02).
    parameters = [Parameter(f"x{i}", 0.0, 1.0) for i in (1, 2, 3)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = _study_folder(tmp_path, "sobol", parameters, 16, lambda v: np.full(len(v), 3.0))
    assert table[["S1", "S1_conf", "ST", "ST_conf"]].isna().all().all()


def test_morris_effects_of_a_linear_function_are_its_slopes_times_the_range(tmp_path):
    parameters = [
        Parameter("a", 0.0, 2.0),
        Parameter("b", 1.0, 1.5),
        Parameter("c", 0.1, 10.0, "log-uniform"),
    ]
    slopes = np.array([3.0, -4.0, 0.0])
    table = _study_folder(tmp_path, "morris", parameters, 12, lambda v: v @ slopes)
    ranges = np.array([2.0, 0.5, 9.9])
    assert table["mu_star"].to_numpy() == pytest.approx(np.abs(slopes) * ranges)
    assert table["mu"].to_numpy() == pytest.approx(slopes * ranges)
    assert table["sigma"].to_numpy() == pytest.approx(0.0, abs=1e-9)


def test_a_failed_point_drops_its_trajectory_not_the_study(tmp_path):
    parameters = [Parameter("a", 0.0, 1.0), Parameter("b", 0.0, 1.0)]

    def with_a_failure(values):
        y = 2 * values[:, 0] + values[:, 1]
        y[4] = np.nan  # a point of the second trajectory (3 points each)
        return y

    table = _study_folder(tmp_path, "morris", parameters, 6, with_a_failure)
    assert table["mu_star"].to_numpy() == pytest.approx([2.0, 1.0])


# --- feature scoring with extra trees ------------------------------------------------------


def _difference_outputs(value: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "point": np.arange(len(value)),
            "strategy": "b",
            "versus": "a",
            "metric": "m",
            "value": value,
            "se": 0.0,
            "replications": 1,
        }
    )


def test_extra_trees_score_the_parameters_that_move_a_difference():
    """y = 10 a + 3 b² on a Sobol design, c and d inert: a scores most, then b; the inert
    parameters score almost nothing, and the scores sum to 1."""
    pytest.importorskip("sklearn")
    from parksim.analysis.sensitivity.screening import feature_scores

    names = ["a", "b", "c", "d"]
    design = design_points("sobol", names, 64, 3)
    levels = pd.DataFrame(design.levels, columns=names)
    value = 10 * levels["a"] + 3 * levels["b"] ** 2
    table = feature_scores(_difference_outputs(value.to_numpy()), levels, names, "sobol")
    scores = table.set_index("parameter")["score"]
    assert scores.sum() == pytest.approx(1.0)
    assert list(table.sort_values("rank")["parameter"][:2]) == ["a", "b"]
    assert scores["a"] > 0.6 and scores[["c", "d"]].max() < 0.05
    assert table.set_index("parameter").loc["a", "rank"] == 1


def test_extra_trees_grown_in_threads_score_the_same():
    """A study grows its trees in as many threads as it had workers: the scores must not
    depend on that (scikit-learn draws each tree's seed before growing any)."""
    pytest.importorskip("sklearn")
    from parksim.analysis.sensitivity.screening import extra_trees_scores

    rng = np.random.default_rng(3)
    x = rng.random((200, 6))
    y = 4 * x[:, 0] + x[:, 2] ** 2 + rng.normal(0.0, 0.1, 200)
    alone = extra_trees_scores(x, y, seed=7, jobs=1)
    assert alone.argmax() == 0
    assert extra_trees_scores(x, y, seed=7, jobs=2).tolist() == alone.tolist()
    assert extra_trees_scores(x, y, seed=8, jobs=2).tolist() != alone.tolist()


def test_extra_trees_that_explain_nothing_score_zero_without_a_warning():
    """A small Morris study's outcome that no split of leaves of two explains (a tiny
    study printed numpy's 'invalid value encountered in divide' from scikit-learn's
    0/0): every score is zero, and nothing warns."""
    pytest.importorskip("sklearn")
    import warnings

    from parksim.analysis.sensitivity.screening import extra_trees_scores

    third, two_thirds = 1 / 3, 2 / 3
    x = [[third, 0.0], [1.0, 0.0], [1.0, two_thirds], [1.0, two_thirds], [third, two_thirds]]
    x.append([third, 0.0])
    y = [19.0, 19.5, 19.0, 19.0, 19.5, 19.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scores = extra_trees_scores(np.array(x), np.array(y))
    assert scores.tolist() == [0.0, 0.0]


def test_without_scikit_learn_there_are_no_feature_scores(monkeypatch):
    import builtins

    from parksim.analysis.sensitivity.screening import feature_scores

    real_import = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    levels = pd.DataFrame(np.random.default_rng(0).random((10, 2)), columns=["a", "b"])
    outputs = _difference_outputs(levels["a"].to_numpy())
    assert feature_scores(outputs, levels, ["a", "b"], "points") is None


# --- the one-at-a-time design (the tornado's) ------------------------------------------------


def test_the_one_at_a_time_design_moves_one_parameter_to_its_10th_and_90th_percentiles():
    """y = 10 a − 2 b, c inert, around centre levels (0.3, 0.5, 0.7): the swings are the
    closed forms 10 × 0.8 = 8 and 2 × 0.8 = 1.6, c's is 0, and the centre is y there."""
    from parksim.analysis.sensitivity.analysis import indices

    design = design_points("oat", ["a", "b", "c"], 1, 0, centre=[0.3, 0.5, 0.7])
    assert design.points == 7 and design.group_size == 7
    assert design.levels[0].tolist() == [0.3, 0.5, 0.7]
    assert design.levels[1].tolist() == [0.1, 0.5, 0.7]  # a at its 10th percentile
    assert design.levels[6].tolist() == [0.3, 0.5, 0.9]  # c at its 90th
    y = 10 * design.levels[:, 0] - 2 * design.levels[:, 1]
    table = indices(design, y).set_index("parameter")
    assert table["swing"].to_dict() == pytest.approx({"a": 8.0, "b": 1.6, "c": 0.0})
    assert table.loc["b", "low"] > table.loc["b", "high"]  # b lowers y
    assert table["centre"].to_numpy() == pytest.approx(np.full(3, 10 * 0.3 - 2 * 0.5))
    # A failed point leaves the design's swings unknown, not wrong.
    y[3] = np.nan
    assert indices(design, y)["swing"].isna().all()


@pytest.mark.parametrize(
    "parameter",
    [
        Parameter("x", 2.0, 10.0),
        Parameter("x", 0.5, 8.0, distribution="log-uniform"),
        Parameter("x", 1.0, 5.0, distribution="triangular", mode=2.0),
    ],
    ids=["uniform", "log-uniform", "triangular"],
)
def test_a_values_level_inverts_the_distribution(parameter):
    for level in (0.0, 0.1, 0.37, 0.9, 1.0):
        value = float(parameter.from_unit(np.array(level)))
        assert parameter.to_unit(value) == pytest.approx(level, abs=1e-9)
    assert parameter.to_unit(parameter.high * 10) == 1.0  # outside the range: held
