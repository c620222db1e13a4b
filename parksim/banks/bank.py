"""The bank agent: its tier and its quarterly accounts.

Every flow of the quarter lands in the bank's `BankLedger`, whose identities (exposure
roll-forward, profit split) the tests check. The loans themselves live in the enterprise
columns and are worked for all banks at once by `parksim.banks.book`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import mesa
import numpy as np

from parksim.banks.risk import BookRisk
from parksim.core.population import N_ACTIVE_STAGES

if TYPE_CHECKING:
    from parksim.banks.tiers import TierSpec


def _stage_zeros() -> np.ndarray:
    return np.zeros(N_ACTIVE_STAGES)


def _no_sectors() -> np.ndarray:
    return np.zeros(0)


@dataclass
class BankLedger:
    """One bank's flows in one quarter and its stocks at quarter end (万元)."""

    new_loans: float = 0.0
    new_loans_young: float = 0.0  # of which to seed and startup firms
    repayments: float = 0.0
    written_off: float = 0.0
    defaults: int = 0
    defaulted_exposure: float = 0.0
    credit_loss: float = 0.0
    policy_recoveries: float = 0.0  # guarantee and risk-pool payments
    collateral_recoveries: float = 0.0  # defaulted balance × (1 − LGD)
    net_interest_income: float = 0.0
    fee_income: float = 0.0
    equity_income: float = 0.0
    personal_finance_income: float = 0.0
    deposit_income: float = 0.0  # spread earned on clients' settlement deposits
    operating_cost: float = 0.0
    investment: float = 0.0  # one-off cost of a tier move, also in operating_cost
    exposure: float = 0.0
    npl_balance: float = 0.0
    borrowers: int = 0
    expected_loss: float = 0.0
    operator_exposure: float = 0.0
    deposits: float = 0.0  # clients' settlement deposits at quarter end
    exposure_by_stage: np.ndarray = field(default_factory=_stage_zeros)
    borrowers_by_stage: np.ndarray = field(default_factory=_stage_zeros)
    defaults_by_stage: np.ndarray = field(default_factory=_stage_zeros)
    sold_down: float = 0.0  # part of repayments: exposure sold to meet the single-name limit
    allocated_capital: float = 0.0  # tier-1 capital the limit is measured against (0: none yet)
    single_name_limit: float = 0.0  # largest exposure allowed to one client (0: none yet)
    exposure_by_sector: np.ndarray = field(default_factory=_no_sectors)  # park sector order
    risk: BookRisk = field(default_factory=BookRisk)  # concentration and capital at close

    @property
    def revenue(self) -> float:
        return (
            self.net_interest_income
            + self.fee_income
            + self.equity_income
            + self.personal_finance_income
            + self.deposit_income
        )

    @property
    def gross_income(self) -> float:
        """Basel's gross income: net interest and fee-like income, without the realised
        gains on stakes (Basel II para. 650)."""
        return self.revenue - self.equity_income

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
        self.operator_share = 0.0  # its share of all the operator's development loans
        # Tier-1 capital allocated to the park business at the last close (万元): what its
        # single-name limit is measured against (`risk.allocated_capital`).
        self.allocated_capital = 0.0
        self.investment_due = 0.0  # one-off cost of a tier move, booked next quarter, 万元
        self.ledger = BankLedger()
        self.history: list[BankLedger] = []
        self.gross_incomes: list[float] = []  # of each quarter in `history` (万元)

    def __repr__(self) -> str:
        return f"Bank({self.name!r}, tier={self.tier}, exposure={self.ledger.exposure:,.0f} 万元)"

    @property
    def name_cap(self) -> float:
        """The largest exposure the bank may hold to one client (万元): its single-name
        limit of the capital allocated to the park business; none (inf) before the
        first close has allocated any."""
        if self.allocated_capital <= 0:
            return float("inf")
        return self.spec.single_name_limit * self.allocated_capital

    def open_quarter(self) -> None:
        """Start a new ledger for the quarter; a tier move's investment is its first cost."""
        self.ledger = BankLedger()
        if self.investment_due:
            self.ledger.investment = self.investment_due
            self.ledger.operating_cost += self.investment_due
            self.investment_due = 0.0

    def close_quarter(self) -> None:
        """Keep the quarter's ledger, and its gross income, in the bank's history."""
        self.ledger.operator_exposure = self.operator_loan
        self.history.append(self.ledger)
        self.gross_incomes.append(self.ledger.gross_income)

    def book_credit_loss(self, gross_loss: float, policy_recoveries: float) -> None:
        """Post a gross loss (balance × LGD) less what guarantee and risk pool pay, 万元."""
        self.ledger.policy_recoveries += policy_recoveries
        self.ledger.credit_loss += gross_loss - policy_recoveries
