"""Competitors as strategic agents: a competitor's own scheduled moves and its response to
the focal bank's (`follow_lag_quarters` after each focal move it moves to the focal bank's
tier, with its own ramp, and may cut its loan margin). The tier paths below are worked by
hand from the rule in parksim/banks/moves.py."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import parksim
from parksim.banks.lending import make_offers
from parksim.banks.moves import StrategyMoves
from parksim.banks.tiers import TIER_SPECS, TierTable
from parksim.scenario.errors import ScenarioError
from parksim.scenario.loader import apply_overrides, scenario_from_dict
from parksim.scenario.schema import BankChange, BankSpec, ScheduledChange
from parksim.scenario.validate import to_dict

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"
ONE, TWO = TIER_SPECS[1.0], TIER_SPECS[2.0]
GAP = TWO.attraction - ONE.attraction  # 0.6: what a ramp moves the attraction through


def walk(moves: StrategyMoves, quarters: int, n_competitors: int = 1) -> dict[str, list]:
    """Apply `moves` as the model does, quarter by quarter: each bank's tier, attraction,
    margin cut and investment booked, per quarter 1..`quarters`."""
    focal = (1.0, ONE)
    others = [(1.0, ONE)] * n_competitors
    path: dict[str, list] = {"focal": [], "tier": [], "attraction": [], "cut": [], "paid": []}
    for quarter in range(1, quarters + 1):
        due = moves.due(quarter, *focal, others)
        focal = (due.focal_tier or focal[0], due.focal_spec or focal[1])
        paid = []
        for i, move in enumerate(due.competitors):
            others[i] = (move.tier or others[i][0], move.spec or others[i][1])
            paid.append(move.investment)
        path["focal"].append(focal[0])
        path["tier"].append(others[0][0])
        path["attraction"].append(round(others[0][1].attraction, 10))
        path["cut"].append(others[0][1].margin_cut)
        path["paid"].append(paid[0])
    return path


def focal_move(quarter: int = 4, tier: float = 2.0) -> ScheduledChange:
    return ScheduledChange(quarter=quarter, bank_tier=tier, ramp_quarters=4)


def test_a_follower_moves_lag_quarters_after_the_focal_bank_at_once_without_a_ramp() -> None:
    follower = BankSpec("B", follow_lag_quarters=4, follow_ramp_quarters=0)
    path = walk(StrategyMoves((focal_move(4),), {}, [follower]), 10)
    # Focal bank: 2.0 from quarter 4. Follower: 2.0 from quarter 4 + 4 = 8, all of it at once.
    assert path["focal"] == [1.0] * 3 + [2.0] * 7
    assert path["tier"] == [1.0] * 7 + [2.0] * 3
    assert path["attraction"] == [1.0] * 7 + [TWO.attraction] * 3
    # It pays the climb to 2.0 (upgrade_investment, 2,000 万元) in its move's quarter alone.
    assert path["paid"] == [0.0] * 7 + [TWO.upgrade_investment] + [0.0] * 2


def test_a_followers_capabilities_phase_in_over_its_own_ramp() -> None:
    follower = BankSpec("B", follow_lag_quarters=4, follow_ramp_quarters=3)
    path = walk(StrategyMoves((focal_move(4),), {}, [follower]), 12)
    assert path["tier"] == [1.0] * 7 + [2.0] * 5
    # A share 1/3 in quarter 8, 2/3 in 9, all from 10: 1.0 + 0.6 × (1/3, 2/3, 1).
    ramp = [ONE.attraction + GAP * k / 3 for k in (1, 2, 3)]
    expected = [1.0] * 7 + [round(a, 10) for a in ramp] + [TWO.attraction] * 2
    assert path["attraction"] == pytest.approx(expected)


def test_a_follower_follows_each_move_and_a_zero_lag_means_the_same_quarter() -> None:
    follower = BankSpec("B", follow_lag_quarters=0, follow_ramp_quarters=0)
    changes = (focal_move(2, 2.0), focal_move(5, 3.0))
    path = walk(StrategyMoves(changes, {}, [follower]), 6)
    assert path["tier"] == [1.0, 2.0, 2.0, 2.0, 3.0, 3.0]
    assert path["paid"] == [
        0.0,
        TWO.upgrade_investment,
        0.0,
        0.0,
        TIER_SPECS[3.0].upgrade_investment,
        0.0,
    ]


def test_a_follower_never_moves_if_the_focal_bank_never_moves() -> None:
    follower = BankSpec("B", follow_lag_quarters=1, follow_margin_cut=0.002)
    policy_only = ScheduledChange(quarter=3, operator_model="light")
    path = walk(StrategyMoves((policy_only,), {}, [follower]), 20)
    assert path["tier"] == [1.0] * 20
    assert path["cut"] == [0.0] * 20
    assert path["paid"] == [0.0] * 20


def test_a_bank_without_a_rule_never_follows() -> None:
    path = walk(StrategyMoves((focal_move(4),), {}, [BankSpec("B")]), 20)
    assert path["tier"] == [1.0] * 20


def test_a_follower_already_at_the_focal_tier_answers_with_price_and_appetite() -> None:
    follower = BankSpec(
        "B", tier=2.0, follow_lag_quarters=2, follow_margin_cut=0.003, follow_max_expected_loss=0.03
    )
    moves = StrategyMoves((focal_move(4),), {}, [follower])
    others = [(2.0, TWO)]
    for quarter in range(1, 8):
        due = moves.due(quarter, 1.0, ONE, others)
        move = due.competitors[0]
        assert move.tier is None and move.investment == 0.0  # no move, no cost
        others = [(2.0, move.spec or others[0][1])]
        answered = quarter >= 6
        assert others[0][1].margin_cut == (0.003 if answered else 0.0)
        assert others[0][1].max_expected_loss == (0.03 if answered else TWO.max_expected_loss)
        assert others[0][1].attraction == TWO.attraction


def test_a_followers_appetite_phases_in_with_its_ramp_and_its_price_cut_at_once() -> None:
    follower = BankSpec(
        "B",
        follow_lag_quarters=1,
        follow_ramp_quarters=2,
        follow_margin_cut=0.001,
        follow_max_expected_loss=0.04,
    )
    moves = StrategyMoves((focal_move(2),), {}, [follower])
    others, appetite, cuts = [(1.0, ONE)], [], []
    for quarter in range(1, 6):
        move = moves.due(quarter, 1.0, ONE, others).competitors[0]
        others = [(move.tier or others[0][0], move.spec or others[0][1])]
        appetite.append(others[0][1].max_expected_loss)
        cuts.append(others[0][1].margin_cut)
    # From 1.0's 0.018 to 0.04: half the way in quarter 3, all of it from quarter 4.
    low = ONE.max_expected_loss
    assert appetite == pytest.approx([low, low, low + (0.04 - low) / 2, 0.04, 0.04])
    assert cuts == [0.0, 0.0, 0.001, 0.001, 0.001]


def test_a_competitors_own_change_takes_effect_in_its_quarter_with_its_investment() -> None:
    data = {"name": "B", "changes": [{"quarter": 6, "tier": 2.0, "investment": 800.0}]}
    own = scenario_from_dict(bank_scenario(data), file="competitors.toml").banks[1]
    assert own.changes[0].ramp_quarters is None  # the new tier's ramp (4), as a strategy's
    path = walk(StrategyMoves((), {}, [own]), 10)
    assert path["tier"] == [1.0] * 5 + [2.0] * 5
    ramp = [ONE.attraction + GAP * k / 4 for k in (1, 2, 3, 4)]
    assert path["attraction"] == pytest.approx([1.0] * 5 + ramp + [TWO.attraction])
    assert path["paid"] == [0.0] * 5 + [800.0] + [0.0] * 4


def test_the_price_cut_lowers_the_followers_offered_rate_by_the_cut_from_its_move_on() -> None:
    follower = BankSpec("B", follow_lag_quarters=4, follow_ramp_quarters=0, follow_margin_cut=0.002)
    path = walk(StrategyMoves((focal_move(4),), {}, [follower]), 10)
    assert path["cut"] == [0.0] * 7 + [0.002] * 3
    # Two banks alike but for the cut offer an applicant rates 0.002 apart (below max_rate).
    model = parksim.ParkModel(BASELINE, "tier2_heavy", rng=1, park__enterprises=30, collect=False)
    cfg = model.config
    view = model.loan_market.applicants(
        model.enterprises, np.arange(10), np.full(10, 100.0), quarter=1
    )
    # Both see quality exactly (no view noise), so they differ in the cut alone.
    specs = [dataclasses.replace(TWO, signal_noise=0.0, margin_cut=cut) for cut in (0.0, 0.002)]
    offers = make_offers(view, TierTable.of(specs), cfg.lending, cfg.lifecycle, cfg.credit)
    below_cap = offers.rate[0] < cfg.lending.max_rate
    assert below_cap.any()
    assert offers.rate[0, below_cap] - offers.rate[1, below_cap] == pytest.approx(0.002, abs=1e-12)
    assert (offers.approved[0] == offers.approved[1]).all()  # the price, not the appetite


def test_a_strategy_turns_a_competitors_response_on_by_address() -> None:
    data = bank_scenario({"name": "B"})
    data["strategies"] = [
        {
            "name": "follow",
            "bank_tier": 1.0,
            "operator_model": "heavy",
            "params": {"banks.1.follow_lag_quarters": 2, "banks[1].follow_margin_cut": 0.001},
            "changes": [{"quarter": 2, "bank_tier": 2.0, "ramp_quarters": 0}],
        },
        {"name": "stay", "bank_tier": 1.0, "operator_model": "heavy"},
    ]
    scenario = scenario_from_dict(data, file="competitors.toml")
    follow, _ = apply_overrides(scenario, scenario.strategy("follow"))
    assert follow.banks[1].follow_lag_quarters == 2
    assert follow.banks[1].follow_margin_cut == 0.001
    stay, _ = apply_overrides(scenario, scenario.strategy("stay"))
    assert stay.banks[1].follow_lag_quarters is None  # the other strategies keep the scenario's
    # The model applies the response: Bank B at 2.0 with the cut from quarter 4 on.
    model = parksim.ParkModel(scenario, "follow", rng=3, collect=False)
    tiers, cuts = [], []
    for _ in range(5):
        model.step()
        tiers.append(model.banks[1].tier)
        cuts.append(model.banks[1].spec.margin_cut)
    assert tiers == [1.0, 1.0, 1.0, 2.0, 2.0]
    assert cuts == [0.0, 0.0, 0.0, 0.001, 0.001]
    assert model.banks[2].tier == 1.0  # Bank C has no rule
    bad = {**data["strategies"][0], "params": {"banks.1.follow_lag_quarter": 2}}
    with pytest.raises(ScenarioError, match="follow_lag_quarters"):
        scenario_from_dict({**data, "strategies": [bad]}, file="competitors.toml")


def bank_scenario(competitor: dict, horizon: int = 8) -> dict:
    """The baseline, small and short, with `competitor` as banks[1]."""
    data = to_dict(parksim.load_scenario(BASELINE))
    data["horizon"] = horizon
    data["park"]["enterprises"] = 150
    data["banks"] = [{"name": "Focal bank"}, competitor, {"name": "Bank C"}]
    data["strategies"] = [{"name": "stay", "bank_tier": 1.0, "operator_model": "heavy"}]
    return data


@pytest.mark.parametrize(
    ("competitor", "message"),
    [
        ({"name": "B", "follow_lag_quarters": -1}, "banks[1].follow_lag_quarters: expected"),
        ({"name": "B", "follow_margin_cut": -0.01}, "banks[1].follow_margin_cut: expected"),
        (
            {"name": "B", "changes": [{"quarter": 3, "tier": 2.5}]},
            "banks[1].changes[0].tier: expected one of",
        ),
        (
            {"name": "B", "changes": [{"quarter": 99, "tier": 2.0}]},
            "banks[1] ('B'): changes[].quarter [99] come after the horizon (8 quarters)",
        ),
        (
            {"name": "B", "changes": [{"quarter": 5, "tier": 2.0}, {"quarter": 3, "tier": 3.0}]},
            "bank 'B': changes: expected one change per quarter in increasing quarters",
        ),
        ({"name": "B", "changes": [{"quarter": 3}]}, "banks[1].changes[0].tier"),
    ],
)
def test_a_bad_competitor_is_refused_naming_file_bank_and_field(competitor, message) -> None:
    with pytest.raises(ScenarioError) as error:
        scenario_from_dict(bank_scenario(competitor), file="competitors.toml")
    assert "competitors.toml" in str(error.value)
    assert message in str(error.value)


def test_the_focal_bank_moves_only_by_its_strategies() -> None:
    data = bank_scenario({"name": "B"})
    data["banks"][0]["follow_lag_quarters"] = 2
    with pytest.raises(ScenarioError, match=r"banks\[0\] \('Focal bank'\) is the focal bank"):
        scenario_from_dict(data, file="competitors.toml")


def test_a_change_without_its_own_ramp_takes_the_new_tiers_ramp() -> None:
    # Tier 2.0's ramp_quarters (a [tiers."2.0"] field, ranged for studies) is the default
    # of every move to 2.0 that gives none; a change's own ramp wins over it.
    at_once = {"2.0": {"ramp_quarters": 0}}
    two_quarters = {"2.0": {"ramp_quarters": 2}}
    own = BankChange(quarter=3, tier=2.0, investment=0.0)
    explicit = BankChange(quarter=3, tier=2.0, investment=0.0, ramp_quarters=4)
    bank = BankSpec(name="B", changes=(own,))
    path = walk(StrategyMoves((), at_once, [bank]), 5)
    assert path["attraction"] == pytest.approx([1.0, 1.0] + [TWO.attraction] * 3)
    path = walk(StrategyMoves((), two_quarters, [bank]), 5)
    half = ONE.attraction + GAP / 2
    assert path["attraction"] == pytest.approx([1.0, 1.0, half, TWO.attraction, TWO.attraction])
    bank = BankSpec(name="B", changes=(explicit,))
    path = walk(StrategyMoves((), at_once, [bank]), 6)
    quarter = [ONE.attraction + GAP * k / 4 for k in (1, 2, 3, 4)]
    assert path["attraction"] == pytest.approx([1.0, 1.0, *quarter])
