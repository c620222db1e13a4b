"""Scheduled strategy changes: a move takes effect in its quarter and not before, the park
keeps the book it built under the old tier, new capabilities phase in, and a bad change
is refused with the key that is wrong."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import parksim
from parksim.banks.moves import upgrade_investment
from parksim.banks.tiers import TIER_SPECS
from parksim.scenario.errors import ScenarioError
from parksim.scenario.loader import scenario_from_dict
from parksim.scenario.validate import to_dict

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"
SWITCH = 4


def scenario_with(*strategies: dict, horizon: int = 8) -> parksim.Scenario:
    data = to_dict(parksim.load_scenario(BASELINE))
    data["horizon"] = horizon
    data["park"]["enterprises"] = 250
    data["strategies"] = list(strategies)
    return scenario_from_dict(data, file="moves.toml")


STAY = {"name": "stay", "bank_tier": 1.0, "operator_model": "heavy"}
MOVE = {
    "name": "move",
    "bank_tier": 1.0,
    "operator_model": "heavy",
    "changes": [{"quarter": SWITCH, "bank_tier": 2.0, "investment": 1500.0, "ramp_quarters": 4}],
}
TIER2 = {"name": "tier2", "bank_tier": 2.0, "operator_model": "heavy"}


@pytest.fixture(scope="module")
def runs() -> dict[str, parksim.ParkModel]:
    scenario = scenario_with(STAY, MOVE, TIER2)
    return {
        name: parksim.ParkModel(scenario, name, rng=np.random.default_rng(5)).run()
        for name in ("stay", "move", "tier2")
    }


def test_a_move_takes_effect_in_its_quarter_and_not_before(runs) -> None:
    stay, move = runs["stay"].timeseries(), runs["move"].timeseries()
    before = slice(0, SWITCH - 1)
    assert stay.loc[before].equals(move.loc[before])
    assert list(move["focal_tier"]) == [1.0] * SWITCH + [2.0] * (len(move) - SWITCH)
    assert list(move["investment"]) == [0.0] * SWITCH + [1500.0] + [0.0] * (len(move) - SWITCH - 1)
    # The investment is a cost of the move's quarter, in operating cost and profit.
    at = move.loc[SWITCH]
    assert at["operating_cost"] >= 1500.0 + TIER_SPECS[2.0].fixed_cost


def test_the_book_built_under_the_old_tier_is_carried_over(runs) -> None:
    stay, move, tier2 = (runs[n].timeseries() for n in ("stay", "move", "tier2"))
    # The mover opens with the tier-1.0 book, not the bigger one of a tier-2.0 bank ...
    assert move.loc[0, "exposure"] == stay.loc[0, "exposure"] != tier2.loc[0, "exposure"]
    # ... and enters the switch quarter with it: the exposure rolls forward from the
    # tier-1.0 balance (new loans less repayments, write-offs and what the single-name
    # limit sold), with no fresh book.
    at, last = move.loc[SWITCH], stay.loc[SWITCH - 1, "exposure"]
    rolled = last + at["new_loans"] - at["repayments"] - at["written_off"] - at["sold_down"]
    assert at["exposure"] == pytest.approx(rolled, rel=1e-9, abs=1e-6)


def test_new_capabilities_phase_in_over_the_ramp_and_costs_switch_at_once() -> None:
    scenario = scenario_with(STAY, MOVE)
    model = parksim.ParkModel(scenario, "move", rng=np.random.default_rng(5))
    old, new = TIER_SPECS[1.0], TIER_SPECS[2.0]
    model.run(SWITCH - 1)
    assert model.focal_bank.spec == old
    seen = []
    for _ in range(5):
        model.step()
        seen.append(model.focal_bank.spec)
    quarter_share = [spec.signal_noise for spec in seen]
    expected = [old.signal_noise + w * (new.signal_noise - old.signal_noise) for w in (0.25, 0.5)]
    assert quarter_share[:2] == pytest.approx(expected)
    assert seen[3] == new and seen[4] == new
    assert all(spec.fixed_cost == new.fixed_cost and spec.products == new.products for spec in seen)


def test_a_pool_that_opens_later_pays_only_from_then_and_the_operator_can_turn_light() -> None:
    later = {
        "name": "later",
        "bank_tier": 2.0,
        "operator_model": "heavy",
        "changes": [
            {"quarter": 3, "policy": {"risk_pool_share": 0.5, "risk_pool_size": 8000.0}},
            {"quarter": 5, "operator_model": "light"},
        ],
    }
    model = parksim.ParkModel(scenario_with(later), rng=np.random.default_rng(2))
    model.run(2)
    assert model.pool_remaining == 0.0 and model.policy.risk_pool_share == 0.0
    model.step()
    # Capital arrives in quarter 3; loans booked from then carry the cover (some may
    # already default in the quarter they were booked).
    assert 0 < model.pool_remaining <= 8000.0
    assert model.loan_market.policy.risk_pool_share == 0.5
    table = model.run(3).timeseries()
    assert (table.loc[:2, "policy_recoveries"] == 0).all()
    assert list(table["operator_asset_model"]) == ["heavy"] * 5 + ["light"] * 2


def test_default_investment_adds_up_the_tiers_climbed() -> None:
    assert upgrade_investment(1.0, 2.0) == 2000.0
    assert upgrade_investment(1.0, 3.0) == upgrade_investment(1.0, 2.0) + upgrade_investment(
        2.0, 3.0
    )
    assert upgrade_investment(3.0, 1.0) == 0.0


def test_default_investment_follows_the_scenarios_tier_changes() -> None:
    changes = {"3.0": {"upgrade_investment": 500.0}, "2.0": {"signal_noise": 0.5}}
    assert upgrade_investment(1.0, 3.0, changes) == upgrade_investment(1.0, 2.0) + 500.0
    assert upgrade_investment(2.0, 3.0, changes) == 500.0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"quarter": 4, "policy": {"risk_pool_shar": 0.5}},
            "strategies[0].changes[0].policy.risk_pool_shar: unknown key",
        ),
        (
            {"quarter": 4, "policy": {"risk_pool_share": 1.5, "risk_pool_size": 10.0}},
            "strategies[0].changes[0].policy.risk_pool_share: expected a share in [0, 1]",
        ),
        ({"quarter": 4, "bank_tier": 2.5}, "strategies[0].changes[0].bank_tier: expected one of"),
        ({"quarter": 0, "bank_tier": 2.0}, "strategies[0].changes[0].quarter: expected"),
        ({"quarter": 4, "investment": 10.0, "operator_model": "light"}, "investment: only"),
        ({"quarter": 4}, "a change needs at least one of"),
        ({"quarter": 99, "bank_tier": 2.0}, "come after the horizon"),
    ],
)
def test_a_bad_change_is_refused_naming_file_and_key(change: dict, message: str) -> None:
    strategy = {**STAY, "changes": [change]}
    with pytest.raises(ScenarioError) as error:
        scenario_with(strategy)
    assert "moves.toml" in str(error.value)
    assert message in str(error.value)


def test_changes_must_come_in_increasing_quarters() -> None:
    strategy = {
        **STAY,
        "changes": [{"quarter": 5, "bank_tier": 2.0}, {"quarter": 3, "bank_tier": 3.0}],
    }
    with pytest.raises(ScenarioError, match="increasing quarters"):
        scenario_with(strategy)


def test_every_preset_states_its_policy_defaults_in_its_header() -> None:
    # A user copying a preset must see what policy every strategy inherits (BioBAY's
    # [policy] gives every strategy a 50 % pool).
    from parksim.policy import PolicyPackage

    defaults = to_dict(PolicyPackage())
    generated = {"baseline_calibrated.toml"}  # written by `parksim calibrate`
    for path in sorted(BASELINE.parent.glob("*.toml")):
        if path.name in generated:
            continue
        text = path.read_text(encoding="utf-8")
        # The leading comment block, up to the first key.
        header = text.split("\nname = ")[0]
        assert "Policy defaults" in header, f"{path.name}: no 'Policy defaults' in its header"
        policy = to_dict(parksim.load_scenario(path).policy)
        changed = [k for k, v in policy.items() if v != defaults[k]]
        missing = [k for k in changed if k not in header]
        assert not missing, f"{path.name}: header does not name its [policy] fields {missing}"


def test_validate_prints_each_strategys_tier_operator_policy_and_changes(capsys) -> None:
    from parksim.cli import EXIT_OK, main

    assert main(["validate", str(BASELINE.parent / "upgrade_paths.toml")]) == EXIT_OK
    out = capsys.readouterr().out
    assert "reference strategy (differences.csv): stay_1_heavy" in out
    assert "to2_q4_to3_q16_light: tier 1.0, operator light" in out
    assert "change quarter 16: tier 2.0 -> 3.0 (investment 3,000 万元, ramp 4 quarters)" in out
    assert "policy risk_pool_share=0.5 risk_pool_size=20000" in out
    n_strategies = len(parksim.load_scenario(BASELINE.parent / "upgrade_paths.toml").strategies)
    assert out.count("risk_pool_share=0 ") == n_strategies  # pools open by a change


def _validate(path: Path, capsys) -> str:
    from parksim.cli import EXIT_OK, main

    assert main(["validate", str(path)]) == EXIT_OK
    return capsys.readouterr().out


def _block(out: str, strategy: str) -> str:
    """The lines `parksim validate` prints for one strategy."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{strategy}: "))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith(" ")), None)
    return "\n".join(lines[start:end])


def test_validate_prints_params_and_the_follower_a_strategy_turns_on(capsys) -> None:
    out = _validate(BASELINE.parent / "upgrade_paths.toml", capsys)
    follow = _block(out, "to2_q4_follow4_heavy")
    assert "    params: banks.1.follow_lag_quarters=4" in follow
    assert "competitor Bank B: tier 1.0, follow_lag_quarters=4 follow_ramp_quarters=4" in follow
    assert "competitor Bank C: tier 1.0, no moves" in follow
    cut = _block(out, "to2_q4_follow4_cut_heavy")
    assert "follow_lag_quarters=4 follow_ramp_quarters=4 follow_margin_cut=0.002" in cut
    # The reference turns nothing on: Bank B does not follow there.
    assert "competitor Bank B: tier 1.0, no moves" in _block(out, "stay_1_heavy")
    assert "competitor Bank B: tier 2.0, no moves" in _block(out, "stay_1_rival2_heavy")
    assert "    stress: none" in follow


def test_validate_prints_a_competitors_own_changes_and_the_stress_in_force(
    tmp_path: Path, capsys
) -> None:
    text = BASELINE.read_text(encoding="utf-8")
    extra = (
        '\n[stress]\npreset = "severe"\nstart_quarter = 3\n'
        # Bank D's own move: 1.0 -> 3.0 climbs 2.0 and 3.0 (2,000 + 3,000 万元).
        '\n[[banks]]\nname = "Bank D"\n[[banks.changes]]\nquarter = 6\ntier = 3.0\n'
        "ramp_quarters = 2\n"
    )
    scenario = tmp_path / "stressed.toml"
    scenario.write_text(text + extra, encoding="utf-8")
    out = _validate(scenario, capsys)
    first = _block(out, parksim.load_scenario(scenario).strategies[0].name)
    assert "stress ([stress]): preset severe severity=1 start_quarter=3" in first
    # The preset's first year (quarters 1-4) falls in the scenario's quarters 3-6.
    assert "stress quarters 3-6: macro_shift=-2.7" in first
    assert "competitor Bank D: tier 1.0" in first
    assert (
        "competitor Bank D change quarter 6: tier 1.0 -> 3.0 (investment 5,000 万元, "
        "ramp 2 quarters)" in first
    )
