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
    # Net interest with funds-transfer pricing (FTP): the branch is charged the FTP rate on
    # what it funds (loans, stakes it holds) and credited it on the deposits it raises.
    interest_income: float = 0.0  # interest received on enterprise and operator loans
    ftp_charge: float = 0.0  # FTP rate × funded assets (loans incl. NPLs, stakes at cost)
    interest_expense: float = 0.0  # interest paid on demand and time deposits
    ftp_credit: float = 0.0  # FTP credit rate × deposits
    fee_settlement: float = 0.0  # settlement and cash management
    fee_bond: float = 0.0  # bond underwriting (debt financing instruments)
    fee_advisory: float = 0.0  # IPO financial advisory and M&A advisory
    fee_reit: float = 0.0  # REIT arrangement
    fee_referral: float = 0.0  # revenue shared by group affiliates on referred mandates
    group_fee_income: float = 0.0  # the securities affiliate's sponsor fees: the group's
    equity_income: float = 0.0
    personal_finance_income: float = 0.0
    demand_deposits: float = 0.0  # clients' settlement deposits at quarter end
    time_deposits: float = 0.0  # clients' time and negotiated deposits at quarter end
    operating_cost: float = 0.0  # all of it: direct, head-office allocation, investment
    head_office_cost: float = 0.0  # head-office allocation, also in operating_cost
    investment: float = 0.0  # one-off cost of a tier move, also in operating_cost
    tax_rate: float = 0.0  # corporate income tax rate on pre-tax profit
    exposure: float = 0.0
    npl_balance: float = 0.0
    borrowers: int = 0
    expected_loss: float = 0.0
    operator_exposure: float = 0.0
    exposure_by_stage: np.ndarray = field(default_factory=_stage_zeros)
    borrowers_by_stage: np.ndarray = field(default_factory=_stage_zeros)
    defaults_by_stage: np.ndarray = field(default_factory=_stage_zeros)
    sold_down: float = 0.0  # exposure sold to meet the single-name limit (not in repayments)
    allocated_capital: float = 0.0  # tier-1 capital the limit is measured against (0: none yet)
    single_name_limit: float = 0.0  # largest exposure allowed to one client (0: none yet)
    exposure_by_sector: np.ndarray = field(default_factory=_no_sectors)  # park sector order
    risk: BookRisk = field(default_factory=BookRisk)  # concentration and capital at close

    @property
    def net_interest_income(self) -> float:
        """The FTP identity: interest received less the FTP charge on funded assets, plus
        the FTP credit on deposits less the interest paid on them."""
        return self.interest_income - self.ftp_charge + self.ftp_credit - self.interest_expense

    @property
    def deposits(self) -> float:
        return self.demand_deposits + self.time_deposits

    @property
    def fee_income(self) -> float:
        """The bank's fees by line (the group's `group_fee_income` is not among them)."""
        return (
            self.fee_settlement
            + self.fee_bond
            + self.fee_advisory
            + self.fee_reit
            + self.fee_referral
        )

    @property
    def revenue(self) -> float:
        return (
            self.net_interest_income
            + self.fee_income
            + self.equity_income
            + self.personal_finance_income
        )

    @property
    def gross_income(self) -> float:
        """Basel's gross income: net interest and fee-like income, without the realised
        gains on stakes (Basel II para. 650)."""
        return self.revenue - self.equity_income

    @property
    def pre_tax_profit(self) -> float:
        """Revenue less operating cost (all of it) and credit losses."""
        return self.revenue - self.operating_cost - self.credit_loss

    @property
    def tax(self) -> float:
        """Income tax at `tax_rate` on pre-tax profit; a loss gives a negative tax (a credit
        against the group's other profits, the management-accounts convention)."""
        return self.tax_rate * self.pre_tax_profit

    @property
    def net_profit(self) -> float:
        """The bank's profit after tax."""
        return self.pre_tax_profit - self.tax

    @property
    def balance_sheet(self) -> float:
        """The park business's balance sheet: the larger of its loans (enterprise and
        operator) and its deposits, 万元."""
        return max(self.exposure + self.operator_exposure, self.deposits)


class Bank(mesa.Agent):
    """A commercial bank serving the park at one service tier."""

    def __init__(
        self,
        model: mesa.Model,
        index: int,
        name: str,
        tier: float,
        spec: TierSpec,
        tax_rate: float = 0.0,
    ):
        super().__init__(model)
        self.tax_rate = tax_rate  # corporate income tax rate on the park business's profit
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
        self.ledger = BankLedger(tax_rate=tax_rate)
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
        self.ledger = BankLedger(tax_rate=self.tax_rate)
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
