"""The bank agent: its tier, its loan book and its quarterly accounts.

The loan book lives in the enterprise columns (`lender`, `debt`, ...); a Bank works on the
rows it holds. Every flow of the quarter lands in the bank's `BankLedger`, whose
identities (exposure roll-forward, profit split) the tests check.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mesa
import numpy as np

from parksim.banks.income import IncomeParams
from parksim.banks.tiers import TierSpec
from parksim.enterprises.population import (
    N_ACTIVE_STAGES,
    EnterprisePopulation,
    LoanStatus,
    Stage,
)


def _stage_zeros() -> np.ndarray:
    return np.zeros(N_ACTIVE_STAGES)


@dataclass
class BankLedger:
    """One bank's flows in one quarter and its stocks at quarter end (万元)."""

    new_loans: float = 0.0
    repayments: float = 0.0
    written_off: float = 0.0
    defaults: int = 0
    defaulted_exposure: float = 0.0
    credit_loss: float = 0.0
    recoveries: float = 0.0
    net_interest_income: float = 0.0
    fee_income: float = 0.0
    equity_income: float = 0.0
    personal_finance_income: float = 0.0
    operating_cost: float = 0.0
    exposure: float = 0.0
    npl_balance: float = 0.0
    borrowers: int = 0
    expected_loss: float = 0.0
    operator_exposure: float = 0.0
    exposure_by_stage: np.ndarray = field(default_factory=_stage_zeros)
    borrowers_by_stage: np.ndarray = field(default_factory=_stage_zeros)
    defaults_by_stage: np.ndarray = field(default_factory=_stage_zeros)

    @property
    def revenue(self) -> float:
        return (
            self.net_interest_income
            + self.fee_income
            + self.equity_income
            + self.personal_finance_income
        )

    @property
    def net_profit(self) -> float:
        """Revenue less the tier's operating cost and credit losses."""
        return self.revenue - self.operating_cost - self.credit_loss


class Bank(mesa.Agent):
    """A commercial bank serving the park at one service tier."""

    def __init__(self, model: mesa.Model, index: int, name: str, tier: float, spec: TierSpec):
        super().__init__(model)
        self.index = index
        self.name = name
        self.tier = tier
        self.spec = spec
        self.wealth_aum = 0.0  # founders' wealth under management, 万元
        self.operator_loan = 0.0  # development loans to the operator, 万元
        self.ledger = BankLedger()
        self.history: list[BankLedger] = []

    def __repr__(self) -> str:
        return f"Bank({self.name!r}, tier={self.tier}, exposure={self.ledger.exposure:,.0f} 万元)"

    def open_quarter(self, pop: EnterprisePopulation) -> None:
        """Start a new ledger; note who borrows at quarter start (default-rate denominators)."""
        self.ledger = BankLedger()
        book = self.performing_loans(pop)
        self.ledger.borrowers_by_stage = np.bincount(pop.stage[book], minlength=N_ACTIVE_STAGES)[
            :N_ACTIVE_STAGES
        ].astype(float)

    def performing_loans(self, pop: EnterprisePopulation) -> np.ndarray:
        return np.flatnonzero(
            (pop.lender == self.index) & (pop.loan_status == LoanStatus.PERFORMING)
        )

    def service_loans(self, pop: EnterprisePopulation, funding_cost: float) -> None:
        """Collect a quarter's interest and scheduled principal on performing loans."""
        ids = self.performing_loans(pop)
        debt = pop.debt[ids]
        self.ledger.net_interest_income += float(
            np.sum(debt * (pop.loan_rate[ids] - funding_cost)) / 4.0
        )
        repaid = debt / np.maximum(pop.loan_quarters_left[ids], 1)
        pop.debt[ids] = debt - repaid
        pop.loan_quarters_left[ids] -= 1
        self.ledger.repayments += float(repaid.sum())
        self._close(pop, ids[pop.loan_quarters_left[ids] <= 0])

    def record_new_loans(self, pop: EnterprisePopulation, ids: np.ndarray, income: IncomeParams):
        """Account for loans just booked; growth-stage loans carry warrants at 2.0+."""
        self.ledger.new_loans += float(pop.debt[ids].sum())
        if self.spec.warrant_share > 0:
            growth = ids[(pop.stage[ids] >= Stage.GROWTH) & (pop.stage[ids] <= Stage.PRE_IPO)]
            pop.bank_stake[growth, self.index] += self.spec.warrant_share

    def repay_in_full(self, pop: EnterprisePopulation, ids: np.ndarray) -> None:
        """Firms that leave the park (relocated, acquired) repay what they owe."""
        ids = ids[(pop.lender[ids] == self.index) & (pop.loan_status[ids] == LoanStatus.PERFORMING)]
        self.ledger.repayments += float(pop.debt[ids].sum())
        pop.debt[ids] = 0.0
        self._close(pop, ids)

    def take_defaults(self, pop: EnterprisePopulation, failed: np.ndarray, quarter: int):
        """Move this bank's loans to failed firms to non-performing; return their loss claims.

        Returns (ids, gross loss = balance × LGD, policy-covered share) for the pool and
        guarantee to settle; the credit loss is booked in `book_credit_loss`.
        """
        ids = failed[
            (pop.lender[failed] == self.index) & (pop.loan_status[failed] == LoanStatus.PERFORMING)
        ]
        pop.loan_status[ids] = LoanStatus.NON_PERFORMING
        pop.default_quarter[ids] = quarter
        balance = pop.debt[ids]
        self.ledger.defaults += len(ids)
        self.ledger.defaulted_exposure += float(balance.sum())
        # Stage at default is the stage before failure: read it from stage_quarter history.
        return ids, balance * pop.loan_lgd[ids]

    def book_credit_loss(self, gross_loss: float, recoveries: float) -> None:
        self.ledger.recoveries += recoveries
        self.ledger.credit_loss += gross_loss - recoveries

    def write_off(self, pop: EnterprisePopulation, quarter: int, workout_quarters: int) -> None:
        """Remove non-performing loans whose workout period has ended from the book."""
        npl = (pop.lender == self.index) & (pop.loan_status == LoanStatus.NON_PERFORMING)
        ids = np.flatnonzero(npl & (pop.default_quarter <= quarter - workout_quarters))
        self.ledger.written_off += float(pop.debt[ids].sum())
        pop.debt[ids] = 0.0
        self._close(pop, ids)

    def close_quarter(
        self, pop: EnterprisePopulation, stage_before: np.ndarray, quarterly_pd: np.ndarray
    ) -> None:
        """Record end-of-quarter stocks: exposure, NPL, borrowers, exposure by stage, EL."""
        on_book = np.flatnonzero(pop.lender == self.index)
        debt = pop.debt[on_book]
        performing = pop.loan_status[on_book] == LoanStatus.PERFORMING
        led = self.ledger
        led.exposure = float(debt.sum())
        led.npl_balance = float(debt[~performing].sum())
        led.borrowers = int(performing.sum())
        stage = np.minimum(stage_before[on_book], N_ACTIVE_STAGES - 1)
        led.exposure_by_stage = np.bincount(stage, weights=debt, minlength=N_ACTIVE_STAGES)
        perf = on_book[performing]
        led.expected_loss = float(
            np.sum(
                pop.debt[perf]
                * quarterly_pd[perf]
                * pop.loan_lgd[perf]
                * (1.0 - pop.loan_policy_cover[perf])
            )
        )
        led.operator_exposure = self.operator_loan
        self.history.append(led)

    def _close(self, pop: EnterprisePopulation, ids: np.ndarray) -> None:
        pop.loan_status[ids] = LoanStatus.NONE
        pop.lender[ids] = -1
        pop.loan_quarters_left[ids] = 0
