"""The bank-economics and market moments, on hand-made runs worked on paper.

The columns they read are the focal bank's management accounts (docs/columns.md); the
runs here are written by hand so every expected value is a sum a reader can redo.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from parksim.analysis.calibration import moments
from parksim.analysis.calibration.observe import Observation
from parksim.analysis.calibration.targets import Measurement, Target, TargetSet, load_targets
from parksim.scenario.loader import load_scenario

# Four quarters; the moments below pool quarters 2 and 3 (from_quarter=2).
TIMESERIES = pd.DataFrame(
    {
        "quarter": [0, 1, 2, 3],
        "net_interest_income": [10.0, 10.0, 6.0, 8.0],
        "fee_income": [1.0, 1.0, 2.0, 2.0],
        "personal_finance_income": [0.0, 0.0, 1.0, 1.0],
        "equity_income": [0.0, 0.0, 1.0, 0.0],
        # Gone from the accounts (the deposits' margin is inside net interest income):
        # a column of that name must not count as revenue.
        "deposit_income": [50.0, 50.0, 50.0, 50.0],
        "operating_cost": [5.0, 5.0, 4.0, 3.3],
        "pre_tax_profit": [5.0, 5.0, 5.0, 6.0],
        "balance_sheet": [100.0, 100.0, 1000.0, 1000.0],
        "listings": [0, 1, 1, 0],
        "n_growth": [5, 5, 6, 4],
        "n_pre_ipo": [2, 2, 2, 2],
        "n_listed": [1, 1, 1, 1],
    }
)
# Revenue of quarters 2-3: (6 + 2 + 1 + 1) + (8 + 2 + 1 + 0) = 21.
FIRMS = pd.DataFrame(
    {
        "stage": ["seed", "seed", "startup", "growth", "pre_ipo", "failed", "listed"],
        "lender": [-1, 0, 2, -1, 1, 0, -1],
    },
    index=pd.Index(list("ABCDEFG"), name="id"),
)
RUN = Observation(firms=FIRMS, book=pd.DataFrame(), timeseries=TIMESERIES, horizon=3)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (moments.fee_share, 4 / 21),
        (moments.cost_income, 7.3 / 21),
        (moments.pretax_roa, 4 * 11 / 2000),  # annualised over Σ balance sheet
        (moments.nim, 4 * 14 / 2000),
        # One listing in quarters 2-3 over 9 + 7 high-tech firm-quarters, annualised.
        (moments.ipo_rate, 4 * 1 / 16),
    ],
)
def test_bank_moments_of_a_hand_made_run(moment, expected) -> None:
    assert moment([RUN], from_quarter=2) == pytest.approx(expected)
    assert moment([RUN, RUN], from_quarter=2) == pytest.approx(expected)


def test_bank_moments_pool_sums_not_ratios() -> None:
    # A second run with twice the revenue and the same cost: pooled 14.6 / 63, whereas
    # the mean of the two runs' ratios would be (7.3/21 + 7.3/42) / 2.
    doubled = TIMESERIES.copy()
    for column in moments.REVENUE_COLUMNS:
        doubled[column] *= 2
    other = Observation(firms=FIRMS, book=pd.DataFrame(), timeseries=doubled, horizon=3)
    assert moments.cost_income([RUN, other], from_quarter=2) == pytest.approx(14.6 / 63)


def test_a_bank_moment_without_income_is_nan() -> None:
    empty = TIMESERIES.assign(
        **{c: 0.0 for c in moments.REVENUE_COLUMNS},
        balance_sheet=0.0,
        n_growth=0,
        n_pre_ipo=0,
        n_listed=0,
    )
    run = Observation(firms=FIRMS, book=pd.DataFrame(), timeseries=empty, horizon=3)
    for moment in (moments.fee_share, moments.cost_income, moments.nim, moments.ipo_rate):
        assert np.isnan(moment([run], from_quarter=2))


def test_credit_access_counts_active_small_firms_with_any_loan() -> None:
    # Seed, startup and growth firms: A, B, C, D; B (bank 0) and C (bank 2) borrow. The
    # failed firm F, still on a book, and the pre-IPO and listed firms do not count.
    assert moments.credit_access([RUN]) == pytest.approx(2 / 4)
    assert moments.credit_access([RUN, RUN]) == pytest.approx(2 / 4)
    assert moments.credit_access([RUN], stages=["pre_ipo", "listed"]) == pytest.approx(1 / 2)
    with pytest.raises(ValueError, match="unknown stages"):
        moments.credit_access([RUN], stages=["seeds"])


def test_bank_economics_reads_an_ensembles_timeseries_per_strategy() -> None:
    costly = TIMESERIES.assign(operating_cost=2 * TIMESERIES["operating_cost"])
    table = pd.concat(
        [
            TIMESERIES.assign(strategy="a", replication=0),
            TIMESERIES.assign(strategy="a", replication=1),
            costly.assign(strategy="b", replication=0),
        ]
    )
    result = moments.bank_economics(table, from_quarter=2)
    assert list(result.index) == ["a", "b"]
    assert result.loc["a", "cost_income"] == pytest.approx(7.3 / 21)
    assert result.loc["b", "cost_income"] == pytest.approx(14.6 / 21)
    assert result.loc["b", "fee_share"] == pytest.approx(4 / 21)
    assert result.loc["a", "pretax_roa"] == pytest.approx(0.022)
    assert result.loc["a", "nim"] == pytest.approx(0.028)


def test_the_new_moments_can_be_named_in_a_targets_file() -> None:
    for name in ("cost_income", "pretax_roa", "nim", "fee_share", "ipo_rate", "credit_access"):
        assert name in moments.MOMENTS


# ------------------------------------------------------------------ per-strategy targets
def _target(**changes) -> Target:
    base = dict(
        name="cost_income_ratio",
        moment="cost_income",
        value=0.3,
        band=(0.25, 0.5),
        source="s",
        role="check",
    )
    return Target(**{**base, **changes})


def test_a_target_names_its_strategies() -> None:
    scenario = load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml")
    names = [s.name for s in scenario.strategies]
    assert _target().strategies(scenario, "tier1_heavy") == ["tier1_heavy"]
    assert _target(strategy="tier2_heavy").strategies(scenario, "tier1_heavy") == ["tier2_heavy"]
    assert _target(strategy="*").strategies(scenario, "tier1_heavy") == names
    assert len(names) > 1


def test_a_fit_or_parameter_target_cannot_choose_a_strategy() -> None:
    with pytest.raises(ValueError, match="fit target"):
        _target(role="fit", strategy="*")
    with pytest.raises(ValueError, match="no strategy"):
        _target(moment="parameter", args={"key": "lending.base_rate"}, strategy="*")


def test_the_projects_bank_targets_are_checked_on_every_strategy() -> None:
    targets = {t.name: t for t in load_targets().targets}
    for name in ("cost_income_ratio", "pretax_roa", "fee_income_share", "net_interest_margin"):
        assert targets[name].strategy == "*" and targets[name].role == "check"
    assert TargetSet(Measurement(strategy="x"), (_target(strategy="*"),))


def test_measure_runs_a_strategy_target_on_each_strategy_and_reuses_given_runs() -> None:
    from dataclasses import replace

    from parksim.analysis.calibration.fit import measure, simulate

    base = load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml")
    scenario = replace(base, park=replace(base.park, enterprises=80))
    measurement = Measurement(strategy="tier1_heavy", horizon=4, replications=1, seed=5)
    every = _target(name="fees", moment="fee_share", args={"from_quarter": 1}, strategy="*")
    one = _target(
        name="fees_t2", moment="fee_share", args={"from_quarter": 1}, strategy="tier2_heavy"
    )
    default = _target(name="fees_here", moment="fee_share", args={"from_quarter": 1})
    runs = simulate(scenario, measurement)
    table = measure(scenario, TargetSet(measurement, (every, one, default)), runs).set_index(
        "target"
    )
    names = [s.name for s in scenario.strategies]
    assert list(table.index) == [f"fees[{n}]" for n in names] + [
        "fees_t2[tier2_heavy]",
        "fees_here",
    ]
    # The default strategy's row is the moment of the runs given; each other strategy's
    # is that of its own runs with the measurement's seeds.
    assert table.loc["fees_here", "model"] == moments.fee_share(runs, from_quarter=1)
    assert table.loc["fees[tier1_heavy]", "model"] == table.loc["fees_here", "model"]
    tier2 = simulate(scenario, replace(measurement, strategy="tier2_heavy"))
    assert table.loc["fees_t2[tier2_heavy]", "model"] == moments.fee_share(tier2, from_quarter=1)
    assert table.loc["fees[tier2_heavy]", "model"] == table.loc["fees_t2[tier2_heavy]", "model"]
    with pytest.raises(ValueError, match="does not have"):
        measure(scenario, TargetSet(measurement, (_target(strategy="nope"),)), runs)


# ------------------------------------------------------------------ out-of-band explanations
def test_a_missed_target_lists_its_hand_set_parameters_and_their_ranges() -> None:
    from parksim.viz.validation_report import _known_gaps

    targets = TargetSet(
        Measurement(strategy="tier1_heavy"),
        (
            _target(
                strategy="*",
                note="A unit's costs.",
                parameters=("income.settlement_fee", "lending.margin", "income.no_such"),
            ),
        ),
    )
    row = dict(
        role="check",
        value=0.3,
        band_low=0.25,
        band_high=0.5,
        model=0.1,
        se=0.0,
        gap=-0.2,
        in_band=False,
        known_gap="",
        source="s",
        note="A unit's costs.",
    )
    after = pd.DataFrame(
        [
            {"target": "cost_income_ratio[tier2_heavy]", **row},
            {"target": "cost_income_ratio[tier1_heavy]", **row, "model": 0.3, "in_band": True},
        ]
    )
    text = _known_gaps(after, targets)
    from parksim.analysis.sensitivity.assumptions import load_assumptions

    fee = next(p for p in load_assumptions().parameters if p.key == "income.settlement_fee")
    assert text.count("\n") == 0  # one line: the target that missed
    assert "**cost_income_ratio[tier2_heavy]**" in text and "below the band" in text
    assert "A unit's costs." in text
    assert f"`income.settlement_fee` ranged {fee.low:.4g}–{fee.high:.4g} in assumptions" in text
    assert "`lending.margin` fitted" in text
    assert "`income.no_such` **has no range in assumptions.toml**" in text


def test_the_hand_set_parameters_the_targets_name_have_ranges() -> None:
    # Keys of the management accounts join the schema in the same
    # release; every key the schema has must be ranged, sourced, fixed or fitted.
    from parksim.analysis.sensitivity.assumptions import load_assumptions, schema_leaves
    from parksim.viz.validation_report import assumption_text

    assumptions = load_assumptions()
    leaves = schema_leaves()
    named = {key for t in load_targets().targets for key in t.parameters}
    present = sorted(key for key in named if key in leaves)
    assert len(present) >= 8
    unranged = [key for key in present if "no range" in assumption_text(key, assumptions)]
    assert not unranged, f"give these a range in parksim/data/assumptions.toml: {unranged}"


# ------------------------------------------------------------------ exit multiples
def test_down_ipos_and_the_listing_multiple_of_hand_made_listings() -> None:
    firms = pd.DataFrame({"listing_multiple": [1.5, 0.8, np.nan, 1.0, 2.0, np.nan]})
    run = Observation(firms=firms, book=pd.DataFrame(), timeseries=TIMESERIES, horizon=3)
    # Four listings, one priced under the last private valuation (exactly 1 is not under).
    assert moments.down_ipo_share([run]) == pytest.approx(1 / 4)
    assert moments.down_ipo_share([run, run]) == pytest.approx(1 / 4)
    assert moments.listing_multiple([run]) == pytest.approx(1.25)  # median of 0.8 1 1.5 2
    none = Observation(
        firms=pd.DataFrame({"listing_multiple": [np.nan]}),
        book=pd.DataFrame(),
        timeseries=TIMESERIES,
        horizon=3,
    )
    assert np.isnan(moments.down_ipo_share([none])) and np.isnan(moments.listing_multiple([none]))


def test_observation_records_each_listings_multiple_over_the_last_valuation() -> None:
    import parksim
    from parksim.analysis.calibration.observe import observe

    base = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"
    model = parksim.ParkModel(base, "tier2_light", rng=2, collect=False, park__enterprises=300)
    run = observe(model, 16)
    firms = run.firms
    listed = (firms["listed_quarter"] >= 1) & (firms["entered_quarter"] < firms["listed_quarter"])
    assert listed.sum() > 0
    # A multiple for every firm that listed during the run (after its entry quarter), and
    # none for the others: the initial listed firms and those that never listed.
    assert firms.loc[listed, "listing_multiple"].gt(0).all()
    assert firms.loc[~listed & (firms["listed_quarter"] < 1), "listing_multiple"].isna().all()
