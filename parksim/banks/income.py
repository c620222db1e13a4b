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

import numpy as np
from numba import njit

from parksim.banks.bank import Bank
from parksim.core.codes import Stage
from parksim.core.population import EnterprisePopulation
from parksim.core.streams import FirmStreams, Mechanism, firm_uniform
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
    client_revenue, clients, bonds, wealth = client_sums(
        main,
        pop.stage,
        pop.size,
        pop.lender,
        pop.stream_id,
        pop.listed_quarter,
        pop.valuation,
        n_banks,
        int(Stage.LISTED),
        streams.base(Mechanism.BOND_ISSUE, quarter),
        income.bond_issue_prob,
        unlock_quarter,
        income.founder_share,
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
        led.fee_income += client_revenue[b] * income.settlement_fee / 4.0
        led.fee_income += bonds[b] * income.bond_fee * income.bond_size_ratio
        led.fee_income += spec.advisory_capture * (ipo[b] + mna[b])
        bank.wealth_aum = (
            bank.wealth_aum * (1 - income.aum_runoff) + spec.wealth_capture * wealth[b]
        )
        led.personal_finance_income += bank.wealth_aum * income.wealth_fee / 4.0
        led.personal_finance_income += client_revenue[b] * income.retail_margin / 4.0
        led.deposits = spec.deposit_share * client_revenue[b]
        led.deposit_income += led.deposits * (funding_cost - income.deposit_rate) / 4.0
        led.operating_cost += spec.fixed_cost + spec.cost_per_client * clients[b]


@njit(cache=True)
def client_sums(
    main_bank,
    stage,
    size,
    lender,
    stream_id,
    listed_quarter,
    valuation,
    n_banks,
    listed,
    bond_base,
    bond_issue_prob,
    unlock_quarter,
    founder_share,
):
    """What each bank earns on from its clients this quarter, added up firm by firm in
    row order as `np.bincount` does: its clients' revenue (active firms it is the main
    bank of, 万元); its clients (those firms, plus active borrowers of another main
    bank); the revenue of its pre-IPO and listed clients that issue a bond (each draws
    its own uniform of the quarter, `bond_base`); and the founders' wealth freed by the
    end of a lock-up (listings of `unlock_quarter`, none if it is negative), 万元."""
    revenue = np.zeros(n_banks)
    clients = np.zeros(n_banks)
    bonds = np.zeros(n_banks)
    wealth = np.zeros(n_banks)
    for i in range(len(main_bank)):
        bank, s = main_bank[i], stage[i]
        active = s <= listed
        revenue[bank] += size[i] * (1.0 if active else 0.0)
        if active:
            clients[bank] += 1.0
            if lender[i] >= 0 and lender[i] != bank:
                clients[lender[i]] += 1.0
            issuer = s >= listed - 1  # pre-IPO or listed
            if issuer and firm_uniform(bond_base, stream_id[i]) < bond_issue_prob:
                bonds[bank] += size[i]
        if unlock_quarter >= 0 and listed_quarter[i] == unlock_quarter:
            wealth[bank] += founder_share * valuation[i]
    return revenue, clients, bonds, wealth
