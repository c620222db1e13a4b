"""Credit access at tier 1.0 and the single-name limit against allocated capital:
the operator's development loans within the limit and inside the
concentration measures; small firms' access to bank credit under all-1.0 within the band
of the published figure."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from parksim import ParkModel
from parksim.banks.book import _with_operator
from parksim.banks.operator_lending import club_amounts, lend_to_operator, take_operator_default
from parksim.banks.risk import (
    GA_LGD_VARIANCE,
    BookLoans,
    Granularity,
    allocated_capital,
    book_measures,
    ga_delta,
)
from parksim.core.codes import LoanStatus, Stage

BASELINE = "scenarios/baseline.toml"
UPGRADE_PATHS = "scenarios/upgrade_paths.toml"

# Small firms' access to bank credit in China: CBRC, end 2014, 11.446 million small and
# micro borrowers (Xinhua, ecns.cn 2015-03-06) over 11.7 million small and micro
# enterprises and 44.4 million self-employed (2013; OECD, Financing SMEs and Entrepreneurs
# 2016, China profile): 20.4 %. The band's top, 28 %, is the World Bank Enterprise
# Surveys' 2013 average share of small firms (5-19 workers) with a bank loan or line of
# credit across surveyed countries (theglobaleconomy.com, "Small firms with bank credit").
SMALL_FIRM_ACCESS = (0.15, 0.28)


def test_allocated_capital_is_the_tier1_ratio_of_risk_weighted_assets() -> None:
    # A capital requirement of 80 at the 8 % minimum is 1,000 of risk-weighted assets.
    assert allocated_capital(80.0, 0.11) == pytest.approx(110.0)
    assert allocated_capital(0.0, 0.11) == 0.0


def test_club_lending_keeps_every_bank_within_its_cap() -> None:
    """Intended 60/20/20 against caps 30/40/25: the focal bank's excess 30 goes to the
    others in proportion to their shares (15 each; bank 2 has room for 5), then to bank 1
    alone (5 more); the last 5 is syndicated outside the park."""
    held = club_amounts([60.0, 20.0, 20.0], [30.0, 40.0, 25.0])
    assert held == pytest.approx([30.0, 40.0, 25.0])
    assert club_amounts([60.0, 20.0, 20.0], [np.inf] * 3) == [60.0, 20.0, 20.0]
    assert sum(club_amounts([60.0, 20.0, 20.0], [30.0, 50.0, 50.0])) == pytest.approx(100.0)


@pytest.fixture(scope="module")
def model() -> ParkModel:
    return ParkModel(BASELINE, strategy="tier2_heavy", rng=7, park__enterprises=200, horizon=2)


def test_the_operator_counts_as_one_name_against_the_limit(model: ParkModel) -> None:
    banks = model.banks
    for bank, capital in zip(banks, (400.0, 1e9, 0.0), strict=True):
        bank.spec = dataclasses.replace(bank.spec, single_name_limit=0.15)
        bank.allocated_capital = capital  # caps 60, 1.5e8, none
    lend_to_operator(banks, 1000.0, focal_share=0.8)
    # The focal bank may hold 60 of its 800; the others, 100 each, take the 740 between
    # them as far as their caps allow (both without a binding cap: 370 each).
    assert banks[0].operator_loan == pytest.approx(60.0)
    assert [b.operator_loan for b in banks[1:]] == pytest.approx([470.0, 470.0])
    assert banks[0].operator_share == pytest.approx(0.06)
    for bank in banks:
        bank.ledger = type(bank.ledger)()
    take_operator_default(banks, 500.0)
    assert [b.ledger.credit_loss for b in banks] == pytest.approx([30.0, 235.0, 235.0])


def test_the_operator_is_one_name_in_every_concentration_measure() -> None:
    """Enterprise names 50, 30, 20 (sectors 80, 20) and development loans of 100."""
    book = BookLoans(
        np.array([50.0, 30.0, 20.0]),
        np.ones(3, dtype=np.bool_),
        np.full(3, 0.02),
        np.full(3, 0.45),
        np.zeros(3),
        np.zeros(3),
        np.full(3, 8, dtype=np.int16),
    )
    granularity = Granularity(GA_LGD_VARIANCE, ga_delta())
    alone = book_measures(book, np.array([80.0, 20.0]), granularity)
    both = book_measures(_with_operator(book, 100.0), np.array([80.0, 20.0, 100.0]), granularity)
    assert both.largest_exposure_share == pytest.approx(0.5)
    assert both.top10_exposure_share == pytest.approx(1.0)
    assert both.hhi_exposure == pytest.approx((100**2 + 50**2 + 30**2 + 20**2) / 200**2)
    assert both.sector_hhi == pytest.approx((80**2 + 20**2 + 100**2) / 200**2)
    assert alone.largest_exposure_share == pytest.approx(0.5)  # 50 of 100
    assert both.capital_irb == alone.capital_irb  # the operator carries its own capital


def test_a_run_counts_the_operator_in_the_largest_share() -> None:
    model = ParkModel(BASELINE, strategy="tier1_heavy", rng=2, horizon=4).run()
    row = model.latest
    focal = model.focal_bank
    assert focal.operator_loan > 0
    book = row["exposure"] - row["npl_balance"]  # performing, at least what counts
    assert (
        row["largest_exposure_share"]
        >= focal.operator_loan / (row["exposure"] + focal.operator_loan) - 1e-12
    )
    assert focal.operator_loan <= row["single_name_limit"] * (1 + 1e-9)
    assert row["allocated_capital"] == pytest.approx(
        focal.spec.tier1_capital_ratio * focal.history[-2].risk.capital / 0.08
    )
    assert book > 0


def small_firm_access(scenario: str, strategy: str, seeds: range, quarters: int = 20):
    """Share of active firms with a bank loan, by stage, pooled over quarters 8..`quarters`
    and the seeds; and the share among seed-to-growth firms (the park's small firms)."""
    with_loan, firms = np.zeros(Stage.LISTED + 1), np.zeros(Stage.LISTED + 1)
    for seed in seeds:
        model = ParkModel(scenario, strategy=strategy, rng=seed, horizon=quarters)
        for _ in range(quarters):
            model.step()
            if model.quarter < 8:
                continue
            pop = model.enterprises
            active = pop.stage <= Stage.LISTED
            stage = pop.stage[active]
            owes = pop.loan_status[active] != LoanStatus.NONE
            firms += np.bincount(stage, minlength=len(firms))
            with_loan += np.bincount(stage[owes], minlength=len(firms))
    small = slice(Stage.SEED, Stage.GROWTH + 1)
    return with_loan / firms, with_loan[small].sum() / firms[small].sum()


@pytest.mark.parametrize(
    ("scenario", "strategy"), [(BASELINE, "tier1_heavy"), (UPGRADE_PATHS, "stay_1_heavy")]
)
def test_small_firm_access_under_all_1_0_is_the_published_figure(scenario, strategy) -> None:
    by_stage, small = small_firm_access(scenario, strategy, range(3))
    low, high = SMALL_FIRM_ACCESS
    assert low <= small <= high, (scenario, by_stage)
    # A 1.0 bank lends on collateral and history: access rises with the stage.
    assert by_stage[Stage.SEED] < by_stage[Stage.STARTUP] < by_stage[Stage.GROWTH]
