"""PRIM scenario discovery and the robustness table, on data whose answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from parksim.analysis.sensitivity.assumptions import Parameter
from parksim.analysis.sensitivity.robustness import prim, robustness, wilson_interval


def test_prim_finds_a_planted_box():
    rng = np.random.default_rng(1)
    x = rng.random((2000, 6))
    inside = (x[:, 0] > 0.6) & (x[:, 2] < 0.3)
    box = prim(x, inside)
    assert list(box.restricted()) == [0, 2]
    assert box.lower[0] == pytest.approx(0.6, abs=0.03)
    assert box.upper[2] == pytest.approx(0.3, abs=0.03)
    assert box.coverage > 0.9 and box.density > 0.9


def test_prim_keeps_the_box_under_label_noise():
    rng = np.random.default_rng(2)
    x = rng.random((3000, 5))
    cases = ((x[:, 1] > 0.7) & (x[:, 3] > 0.5)) ^ (rng.random(3000) < 0.03)
    box = prim(x, cases)
    assert set(box.restricted()) == {1, 3}
    assert box.density > 0.8


def test_prim_has_no_box_without_cases():
    assert prim(np.random.default_rng(0).random((50, 2)), np.zeros(50, dtype=bool)) is None


def test_wilson_interval_holds_the_share_and_stays_in_bounds():
    low, high = wilson_interval(0, 20)
    assert low == pytest.approx(0.0, abs=1e-12) and 0.1 < high < 0.2
    low, high = wilson_interval(15, 20)
    assert low < 0.75 < high


def test_robustness_reports_where_a_strategy_wins_and_where_it_flips():
    rng = np.random.default_rng(3)
    n = 400
    levels = pd.DataFrame(rng.random((n, 3)), columns=["a", "b", "c"])
    # The strategy earns more except where a is high: it wins on about 70 % of the space.
    difference = np.where(levels["a"] > 0.7, -1.0, 1.0)
    outputs = pd.DataFrame(
        {
            "point": np.arange(n),
            "strategy": "s",
            "versus": "r",
            "metric": "cum_net_profit",
            "value": difference,
            "se": 0.1,
            "replications": 4,
        }
    )
    parameters = [Parameter("a", 10.0, 20.0), Parameter("b", 0, 1), Parameter("c", 0, 1)]
    table, boxes = robustness(outputs, levels, parameters, {"cum_net_profit": 1.0})
    row = table.iloc[0]
    assert row["share_wins"] == pytest.approx((levels["a"] <= 0.7).mean())
    assert row["share_wins_low"] < row["share_wins"] < row["share_wins_high"]
    assert row["flip"] == "loses"
    assert list(boxes["parameter"]) == ["a"]
    assert boxes["low"].iloc[0] == pytest.approx(17.0, abs=0.3)  # a >= 17 in its own units
    assert row["flip_region"] == f"a >= {boxes['low'].iloc[0]:.4g}"
