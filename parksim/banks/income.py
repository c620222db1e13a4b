"""Non-interest income: fees, equity and fund gains, personal finance.

Fee income mixes what every tier earns (settlement, bond underwriting, §六(一)2) with
what only an advisory-capable 2.0+ bank earns (IPO, M&A and REIT arrangement, §六(二)2).
Equity income comes from group-fund stakes and warrants, realised when a firm lists, is
acquired, relocates or fails (a loss). Personal finance follows founders' wealth after
listing and lock-up (§六(二)2 三) plus everyday retail banking of client firms' staff.
Rates are assumptions in the range of Chinese bank tariffs; the fee share they give
(≈10-15% of revenue for a 1.0 bank) is near the 13% of large state banks (CBA 2024).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numba import njit

from parksim.core.codes import Stage
from parksim.core.streams import FirmStreams, Mechanism, firm_uniform
from parksim.core.units import QUARTERS_PER_YEAR

if TYPE_CHECKING:
    from parksim.banks.bank import Bank
    from parksim.core.population import EnterprisePopulation
    from parksim.enterprises.lifecycle import LifecycleEvents

SHARE = {"unit": "share"}


@dataclass(frozen=True)
class IncomeParams:
    """Fee rates, exit valuations and personal-finance margins."""

    settlement_fee: float = field(
        default=0.0005, metadata={**SHARE, "help": "annual settlement fees / client revenue"}
    )
    bond_issue_prob: float = field(
        default=0.05,
        metadata={
            "unit": "probability",
            "help": "quarterly chance a pre-IPO/listed client "
            "issues a bond the main bank underwrites",
        },
    )
    bond_size_ratio: float = field(
        default=0.3, metadata={"non_negative": True, "help": "bond size / annual revenue"}
    )
    bond_fee: float = field(default=0.004, metadata={**SHARE, "help": "underwriting fee"})
    ipo_fee: float = field(default=0.015, metadata={**SHARE, "help": "IPO advisory fee / proceeds"})
    ipo_float: float = field(
        default=0.25, metadata={**SHARE, "help": "IPO proceeds / listing valuation"}
    )
    mna_fee: float = field(default=0.01, metadata={**SHARE, "help": "M&A advisory fee / price"})
    reit_fee: float = field(default=0.005, metadata={**SHARE, "help": "REIT arrangement fee"})
    listing_multiple: float = field(
        default=1.5, metadata={"min": 0.0, "help": "listing valuation / last private valuation"}
    )
    acquisition_multiple: float = field(
        default=1.3, metadata={"min": 0.0, "help": "acquisition price / last valuation"}
    )
    founder_share: float = field(
        default=0.3, metadata={**SHARE, "help": "founders' and staff's share of a listed firm"}
    )
    lockup_quarters: int = field(
        default=4, metadata={"min": 0, "help": "quarters before founders can sell (lock-up)"}
    )
    wealth_fee: float = field(
        default=0.006, metadata={**SHARE, "help": "annual wealth-management margin on AUM"}
    )
    aum_runoff: float = field(
        default=0.03, metadata={**SHARE, "help": "quarterly share of managed wealth withdrawn"}
    )
    retail_margin: float = field(
        default=0.0005, metadata={**SHARE, "help": "annual retail income / client revenue"}
    )
    deposit_rate: float = field(
        default=0.0035,
        metadata={
            **SHARE,
            "help": "annual rate paid on settlement (demand) deposits: PBoC benchmark 0.35 %",
        },
    )


def earn_income(
    pop: EnterprisePopulation,
    banks: Sequence[Bank],
    income: IncomeParams,
    events: LifecycleEvents,
    streams: FirmStreams,
    quarter: int,
    funding_cost: float,
) -> None:
    """Fees, deposits, personal finance and the tier's operating cost of one quarter, for
    every bank. Settlement deposits (`deposit_share` of clients' revenue) replace funding
    at `funding_cost`, so the main bank earns their spread over `deposit_rate`."""
    n_banks, main = len(banks), pop.main_bank
    unlock_quarter = quarter - income.lockup_quarters  # listings whose lock-up ends now
    bond_draw = BondDraw(streams.base(Mechanism.BOND_ISSUE, quarter), income.bond_issue_prob)
    client_revenue, clients, bonds, wealth = client_sums(
        ClientColumns.of(pop), n_banks, bond_draw, unlock_quarter, income.founder_share
    )
    ipo = np.bincount(
        main[events.listed],
        weights=income.ipo_fee * income.ipo_float * pop.valuation[events.listed],
        minlength=n_banks,
    )
    mna = np.bincount(
        main[events.acquired],
        weights=income.mna_fee * income.acquisition_multiple * pop.valuation[events.acquired],
        minlength=n_banks,
    )
    # Python floats: a handful of scalar sums per bank, cheaper than numpy scalars.
    client_revenue, bonds, ipo, mna, wealth, clients = (
        a.tolist() for a in (client_revenue, bonds, ipo, mna, wealth, clients)
    )
    for bank in banks:
        b, spec, led = bank.index, bank.spec, bank.ledger
        led.fee_income += client_revenue[b] * income.settlement_fee / QUARTERS_PER_YEAR
        led.fee_income += bonds[b] * income.bond_fee * income.bond_size_ratio
        led.fee_income += spec.advisory_capture * (ipo[b] + mna[b])
        bank.wealth_aum = (
            bank.wealth_aum * (1 - income.aum_runoff) + spec.wealth_capture * wealth[b]
        )
        led.personal_finance_income += bank.wealth_aum * income.wealth_fee / QUARTERS_PER_YEAR
        led.personal_finance_income += client_revenue[b] * income.retail_margin / QUARTERS_PER_YEAR
        led.deposits = spec.deposit_share * client_revenue[b]
        led.deposit_income += (
            led.deposits * (funding_cost - income.deposit_rate) / QUARTERS_PER_YEAR
        )
        led.operating_cost += spec.fixed_cost + spec.cost_per_client * clients[b]


class ClientColumns(NamedTuple):
    """What a bank earns on from each firm (one entry per firm)."""

    main_bank: np.ndarray
    stage: np.ndarray
    size: np.ndarray  # annual revenue, 万元
    lender: np.ndarray
    stream_id: np.ndarray
    listed_quarter: np.ndarray
    valuation: np.ndarray  # 万元

    @classmethod
    def of(cls, pop: EnterprisePopulation) -> ClientColumns:
        return cls(*(getattr(pop, name) for name in cls._fields))


class BondDraw(NamedTuple):
    """This quarter's bond issues: each firm's own uniform against `probability`."""

    base: np.uint64  # the quarter's stream base (`FirmStreams.base`)
    probability: float


class ClientSums(NamedTuple):
    """What each bank earns on from its clients this quarter."""

    revenue: np.ndarray  # its clients' revenue, 万元
    clients: np.ndarray  # its clients and other banks' clients that borrow from it
    bonds: np.ndarray  # revenue of its clients that issue a bond, 万元
    wealth: np.ndarray  # founders' wealth freed by the end of a lock-up, 万元


@njit(cache=True)
def client_sums(
    firms: ClientColumns,
    n_banks: int,
    bond_draw: BondDraw,
    unlock_quarter: int,
    founder_share: float,
) -> ClientSums:
    """What each bank earns on from its clients this quarter (`ClientSums`): its clients'
    revenue (active firms it is the main bank of; settlement fees and retail, §六(一)2);
    its clients (those firms, plus active borrowers of another main bank); the revenue of
    its pre-IPO and listed clients that issue a bond it underwrites (each draws its own
    uniform of the quarter); and the founders' wealth freed by the end of a lock-up
    (listings of `unlock_quarter`, none if it is negative; §六(二)2 (三))."""
    revenue = np.zeros(n_banks)
    clients = np.zeros(n_banks)
    bonds = np.zeros(n_banks)
    wealth = np.zeros(n_banks)
    for i in range(len(firms.main_bank)):
        bank, stage = firms.main_bank[i], firms.stage[i]
        if stage <= Stage.LISTED:  # active
            revenue[bank] += firms.size[i]
            clients[bank] += 1.0
            lender = firms.lender[i]
            if lender >= 0 and lender != bank:
                clients[lender] += 1.0
            issuer = stage >= Stage.PRE_IPO
            if issuer and firm_uniform(bond_draw.base, firms.stream_id[i]) < bond_draw.probability:
                bonds[bank] += firms.size[i]
        if unlock_quarter >= 0 and firms.listed_quarter[i] == unlock_quarter:
            wealth[bank] += founder_share * firms.valuation[i]
    return ClientSums(revenue, clients, bonds, wealth)
