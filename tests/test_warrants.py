"""Warrants as options (认股权贷款, §六(二)2): notional = coverage × the loan, strike = the
valuation at grant; exercised at a listing's lock-up end or an acquisition for
max(exit value − strike, 0) × notional / strike, worthless at a failure or a relocation."""

from __future__ import annotations

import numpy as np
import pytest

from parksim.banks.book import grant_warrants
from parksim.banks.income import IncomeParams
from parksim.banks.stakes import realise_stakes
from parksim.core.codes import Stage
from parksim.core.population import EnterprisePopulation
from parksim.enterprises.lifecycle import LifecycleEvents

INCOME = IncomeParams()
MULTIPLES = (INCOME.listing_multiple, INCOME.acquisition_multiple)
LOAN, VALUATION, COVERAGE = 1_000.0, 8_000.0, 0.10


def _firms(n: int) -> EnterprisePopulation:
    """`n` growth firms with a loan of LOAN and a warrant of bank 0."""
    pop = EnterprisePopulation(n_banks=3)
    rows = pop.add(
        stage=np.full(n, Stage.GROWTH),
        valuation=np.full(n, VALUATION),
        debt=np.full(n, LOAN),
    )
    assert (
        grant_warrants(pop, rows, np.zeros(n, np.intp), np.full(n, COVERAGE)).tolist()
        == rows.tolist()
    )
    return pop


def test_a_warrant_is_a_share_of_the_loan_struck_at_the_valuation_and_does_not_stack():
    pop = _firms(2)
    assert pop.warrant_notional[:, 0].tolist() == [COVERAGE * LOAN] * 2
    assert pop.warrant_strike[:, 0].tolist() == [VALUATION] * 2
    # A second loan, at a higher valuation, adds no second warrant.
    pop.valuation[0], pop.debt[0] = 3 * VALUATION, 5 * LOAN
    assert len(grant_warrants(pop, np.array([0]), np.array([0]), np.array([COVERAGE]))) == 0
    assert pop.warrant_notional[0, 0] == COVERAGE * LOAN
    assert pop.warrant_strike[0, 0] == VALUATION


def _exit(kind: str, valuation: float) -> float:
    """Bank 0's warrant gain when one warrant firm exits by `kind` at `valuation` (a listing
    with no lock-up: its stakes are sold in the quarter it lists)."""
    pop = _firms(1)
    pop.valuation[0] = valuation
    if kind == "listed":
        pop.stage[0], pop.listed_quarter[0] = Stage.LISTED, 7
    row = np.array([0])
    none = np.zeros(0, dtype=np.int64)
    events = LifecycleEvents(
        failed=row if kind == "failed" else none,
        graduated=row if kind == "listed" else none,
        listed=row if kind == "listed" else none,
        relocated=row if kind == "relocated" else none,
        acquired=row if kind == "acquired" else none,
    )
    gains = realise_stakes(pop, events, MULTIPLES, quarter=7, lockup_quarters=0)
    assert pop.warrant_notional[0, 0] == 0.0  # exercised or lapsed: gone either way
    return float(gains.warrants[0])


@pytest.mark.parametrize("kind", ["failed", "relocated"])
def test_a_warrant_pays_nothing_on_failure_or_relocation(kind: str):
    assert _exit(kind, valuation=4 * VALUATION) == 0.0


@pytest.mark.parametrize(
    ("kind", "multiple"),
    [("listed", INCOME.listing_multiple), ("acquired", INCOME.acquisition_multiple)],
)
def test_a_warrant_pays_the_option_formula_on_exit(kind: str, multiple: float):
    valuation = 2 * VALUATION
    exit_value = multiple * valuation
    expected = (exit_value - VALUATION) * (COVERAGE * LOAN) / VALUATION
    assert _exit(kind, valuation) == pytest.approx(expected, rel=1e-12)
    # Out of the money: an exit below the strike pays nothing.
    assert _exit(kind, 0.5 * VALUATION / multiple) == 0.0
