"""scripts/where_the_move_pays.py: classes of hand-made points, shares with intervals on a
synthetic Sobol'-shaped study folder, the PRIM region of a known box, and the page."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from parksim.analysis.sensitivity.robustness import wilson_interval

ROOT = Path(__file__).resolve().parents[1]
SPEC = importlib.util.spec_from_file_location(
    "where_the_move_pays", ROOT / "scripts" / "where_the_move_pays.py"
)
wmp = importlib.util.module_from_spec(SPEC)
sys.modules[SPEC.name] = wmp  # dataclasses look their module up
SPEC.loader.exec_module(wmp)

SAMPLES = 100  # Sobol' base samples: 2 × 100 space-filling rows
K = 3  # parameters: park size, the competitor's tier, a noise dimension
THRESHOLD = 0.5  # probability level of park size above which the move pays


def test_probability_positive_is_the_one_sided_t():
    # d = 1, 2, 3: mean 2, sd 1, t = 2√3 on 2 df; the t(2) CDF is 1/2 + t / (2√(2 + t²))
    t = 2 * math.sqrt(3)
    assert wmp.probability_positive(np.array([1.0, 2.0, 3.0])) == pytest.approx(
        0.5 + t / (2 * math.sqrt(2 + t * t))
    )
    assert wmp.probability_positive(np.array([-1.0, -2.0, -3.0])) == pytest.approx(
        0.5 - t / (2 * math.sqrt(2 + t * t))
    )
    # replications that do not vary: the sign of the mean
    assert wmp.probability_positive(np.array([3.0, 3.0, 3.0])) == 1.0
    assert wmp.probability_positive(np.array([0.0, 0.0])) == 0.5
    assert wmp.probability_positive(np.array([-4.0])) == 0.0


def test_classify_hand_made_points():
    # 1, 2, 3: P ≈ 0.963 pays; 5, −5, 1: P ≈ 0.61 breaks even; −1, −2, −3 loses
    assert wmp.classify(wmp.probability_positive(np.array([1.0, 2.0, 3.0]))) == wmp.PAYS
    assert wmp.classify(wmp.probability_positive(np.array([5.0, -5.0, 1.0]))) == wmp.EVEN
    assert wmp.classify(wmp.probability_positive(np.array([-1.0, -2.0, -3.0]))) == wmp.LOSES
    # the thresholds themselves: ≥ 0.9 pays, ≤ 0.1 loses
    assert wmp.classify(0.9) == wmp.PAYS
    assert wmp.classify(0.1) == wmp.LOSES
    assert wmp.classify(0.89) == wmp.EVEN


def _parameters() -> list[dict]:
    base = {"mode": None, "scale": False, "integer": False, "reason": "", "defaults": {}}
    return [
        {
            **base,
            "key": "park.enterprises",
            "low": 150.0,
            "high": 2000.0,
            "distribution": "log-uniform",
            "levels": [],
            "structural": True,
        },
        {
            **base,
            "key": "banks[1].tier",
            "low": 0.0,
            "high": 0.0,
            "distribution": "uniform",
            "levels": [1.0, 2.0, 3.0],
            "structural": True,
        },
        {
            **base,
            "key": "lifecycle.graduation",
            "low": 0.7,
            "high": 1.3,
            "distribution": "uniform",
            "levels": [],
            "structural": False,
        },
    ]


def _study(folder: Path) -> tuple[Path, np.ndarray]:
    """A Sobol'-shaped study (blocks of K + 2 points, base rows first and last) in which
    the move pays clearly where park size's level > THRESHOLD and loses clearly below;
    the noise dimension plays no part. Returns the folder and each point's level of
    park size."""
    rng = np.random.default_rng(7)
    points = SAMPLES * (K + 2)
    levels = rng.uniform(size=(points, K))
    names = [p["key"] for p in _parameters()]
    design = pd.DataFrame(
        [
            {"point": i, "parameter": names[j], "level": levels[i, j], "value": levels[i, j]}
            for i in range(points)
            for j in range(K)
        ]
    )
    design.to_parquet(folder / "design.parquet")
    rows = []
    for i in range(points):
        gain = 1000.0 if levels[i, 0] > THRESHOLD else -1000.0
        for r in range(3):
            rows.append({"point": i, "strategy": "stay", "replication": r, "m": 0.0, "g": 0.0})
            noise = rng.normal(0.0, 50.0)
            rows.append(
                {
                    "point": i,
                    "strategy": "move",
                    "replication": r,
                    "m": gain + noise,
                    "g": 2 * gain + noise,
                }
            )
    reps = pd.DataFrame(rows).rename(columns={"m": "cum_net_profit", "g": "cum_group_net_profit"})
    reps.to_parquet(folder / "replications.parquet")
    indices = pd.DataFrame(
        [
            {
                "parameter": name,
                "strategy": "move",
                "versus": "stay",
                "metric": metric,
                "S1": s,
                "S1_conf": 0.1,
                "ST": s,
                "ST_conf": 0.1,
            }
            for metric in wmp.VIEWS
            for name, s in zip(names, (0.9, 0.0, 0.01), strict=True)
        ]
    )
    indices.to_csv(folder / "indices.csv", index=False)
    manifest = {
        "kind": "sensitivity",
        "status": "complete",
        "method": "sobol",
        "size": SAMPLES,
        "points": points,
        "replications": 3,
        "seed": 11,
        "pairs": [["move", "stay"]],
        "chosen_pairs": [["move", "stay"]],
        "parameters": _parameters(),
        "scenario": {
            "strategies": [
                {"name": "stay", "bank_tier": 1.0, "changes": []},
                {"name": "move", "bank_tier": 1.0, "changes": [{"quarter": 4, "bank_tier": 2.0}]},
            ]
        },
        "versions": {"parksim": "0.0.test", "parksim_source": "abc", "numpy": "x", "mesa": "y"},
        "command": "parksim sensitivity synthetic",
        "failed_runs": 0,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder, levels[:, 0]


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    folder, size_level = _study(tmp_path_factory.mktemp("study"))
    return wmp.load(folder), size_level


def test_shares_count_the_base_rows_with_wilson_intervals(study):
    loaded, size_level = study
    result = wmp.analyse(loaded, "cum_net_profit")
    position = np.arange(len(size_level)) % (K + 2)
    base = (position == 0) | (position == K + 1)
    assert len(result["used"]) == 2 * SAMPLES
    wins = int((size_level[base] > THRESHOLD).sum())
    value, low, high = result["shares"][wmp.PAYS]
    assert value == pytest.approx(wins / (2 * SAMPLES))
    assert (low, high) == pytest.approx(wilson_interval(wins, 2 * SAMPLES))
    assert low < value < high
    assert result["shares"][wmp.LOSES][0] == pytest.approx(1 - wins / (2 * SAMPLES))
    assert result["shares"][wmp.EVEN][0] == 0.0


def test_the_region_is_the_known_box_and_spares_the_noise(study):
    loaded, _ = study
    found = wmp.analyse(loaded, "cum_net_profit")["regions"][wmp.PAYS]
    assert "`park.enterprises` ≥" in found.short
    assert "lifecycle.graduation" not in found.short
    assert "banks[1].tier" not in found.short
    # the bound sits near park size at level 0.5: √(150 × 2,000) ≈ 548 firms
    bound = float(found.short.split("≥ ")[1].split(" ")[0].replace(",", ""))
    assert 450 < bound < 650


def test_the_page_has_every_section(study):
    loaded, _ = study
    page = wmp.render([loaded], "python scripts/where_the_move_pays.py X")
    for heading in (
        "# Where the move pays",
        "## Headline",
        "## 1.0 → 2.0: `move` against `stay`",
        "### For the bank",
        "### For the group",
        "## Caveats",
    ):
        assert heading in page
    assert (
        "| park size (firms) | competitor at 1.0 | competitor at 2.0 | competitor at 3.0 |" in page
    )
    assert "| `park.enterprises` | 0.90 |" in page
    assert "parksim sensitivity synthetic" in page
    assert "python scripts/where_the_move_pays.py X" in page
    assert "seed 11" in page
    assert "The move 1.0 → 2.0 pays the bank with ≥ 90 % probability in" in page


def test_a_restriction_within_the_levels_is_no_restriction():
    tier = wmp.Parameter(**_parameters()[1])
    size = wmp.Parameter(**_parameters()[0])
    # levels 1.0, 2.0, 3.0 at probability thirds: 0.02-0.98 keeps all three
    assert not wmp.restricts({"level_low": 0.02, "level_high": 0.98}, tier)
    assert wmp.restricts({"level_low": 0.4, "level_high": 0.98}, tier)
    assert wmp.words({"level_low": 0.4, "level_high": 0.98}, tier) == "`banks[1].tier` ∈ {2.0, 3.0}"
    assert wmp.restricts({"level_low": 0.02, "level_high": 0.98}, size)
