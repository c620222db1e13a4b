"""The park business's management accounts: deposits, fees by line, personal finance,
operating cost and tax.

Net interest uses funds-transfer pricing (FTP): the branch is charged the FTP rate
(`lending.funding_cost`) on the loans it funds and credited it on the deposits it raises,
time deposits with a term premium; the branch's net interest income is interest received
− FTP charge + FTP credit − interest paid. Deposits are split into demand (settlement)
and time (negotiated) deposits at posted-rate magnitudes.

Fees by line: settlement, bond underwriting (debt financing instruments a commercial bank
underwrites itself), financial advisory on IPOs and M&A at what a commercial bank earns,
REIT arrangement, and referral income, the bank's share of the revenue its group's
affiliates earn on mandates it refers (利益分成, §六(二)4). The IPO sponsor and underwriting
fee itself is the group's securities affiliate's income (`group_fee_income`), not the
bank's: sponsorship (保荐) needs a securities licence.

Operating cost scales with clients (the tier's `cost_per_client`), loans and deposits,
plus the tier's fixed cost and a head-office allocation on all of these; a tier move's
investment is booked on top (`Bank.open_quarter`). Tax is the 25 % corporate income tax.
Magnitudes are sourced in the field help and ranged in parksim/data/assumptions.toml.
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
ANNUAL = {"unit": "per year"}


@dataclass(frozen=True)
class IncomeParams:
    """Fee rates, exit valuations, personal-finance margins, deposits, costs and tax."""

    settlement_fee: float = field(
        default=0.00015,
        metadata={
            **SHARE,
            "help": "annual settlement and cash-management fees / client revenue (assumption; "
            "with the other lines, fees are 11-18 % of the park business's revenue, about "
            "the 13 % of large state banks, CBA 2024)",
        },
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
    bond_fee: float = field(
        default=0.0015,
        metadata={
            **SHARE,
            "help": "underwriting fee / bond size on debt financing instruments a commercial "
            "bank underwrites (NAFMII market; fees a few tenths of a percent)",
        },
    )
    ipo_fee: float = field(
        default=0.015,
        metadata={
            **SHARE,
            "help": "sponsor and underwriting fee / IPO proceeds the group's securities "
            "affiliate earns on a client's listing: group income (group_fee_income), not "
            "the bank's; assumption below A-share issuance fees, which run at several "
            "percent of proceeds, for the share an affiliate keeps",
        },
    )
    ipo_advisory_fee: float = field(
        default=0.0012,
        metadata={
            **SHARE,
            "help": "the bank's own IPO financial-advisory fee (企业改制上市财务顾问, §六(一)2) "
            "/ proceeds: about 0.3 %, a fraction of the sponsor's fee (assumption)",
        },
    )
    ipo_float: float = field(
        default=0.25, metadata={**SHARE, "help": "IPO proceeds / listing valuation"}
    )
    mna_fee: float = field(
        default=0.003,
        metadata={
            **SHARE,
            "help": "the bank's M&A advisory fee (并购重组顾问) / price: 0.2-1 % for a "
            "commercial bank's financial-advisory mandate (assumption)",
        },
    )
    reit_fee: float = field(
        default=0.003,
        metadata={
            **SHARE,
            "help": "REIT arrangement and financial-advisory fee / property value (assumption)",
        },
    )
    referral_share: float = field(
        default=0.12,
        metadata={
            **SHARE,
            "help": "share of the group affiliate's fee on a mandate the bank refers that the "
            "bank books as referral income (利益分成, §六(二)4): assumption",
        },
    )
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
    deposit_time_share: float = field(
        default=0.6,
        metadata={
            **SHARE,
            "help": "time and negotiated deposits / a client's deposits at its main bank: "
            "corporate deposits at the large banks were about half time deposits and rising "
            "in 2023-24 (annual reports; 存款定期化)",
        },
    )
    demand_deposit_rate: float = field(
        default=0.0025,
        metadata={
            **ANNUAL,
            "help": "rate paid on demand (settlement) deposits: posted rates 0.10-0.35 % "
            "in 2023-24 (PBoC benchmark 0.35 %; large banks cut to 0.10 % by October 2024)",
        },
    )
    time_deposit_rate: float = field(
        default=0.017,
        metadata={
            **ANNUAL,
            "help": "rate paid on corporate time and negotiated deposits: about 1.2-1.9 % on "
            "new deposits in 2024 (posted 1-year rates 1.10-1.45 %, negotiated deposits above)",
        },
    )
    time_ftp_premium: float = field(
        default=0.002,
        metadata={
            **ANNUAL,
            "help": "FTP credit on time deposits over the FTP rate (demand deposits are "
            "credited the FTP rate): a term premium, the about 0.2 pp by which 1-year AAA "
            "interbank CDs (about 2.0 % on average in 2024) exceeded the 1.8 % FTP rate",
        },
    )
    loan_cost: float = field(
        default=0.008,
        metadata={
            **ANNUAL,
            "help": "operating cost / loan balance (relationship managers, credit approval, "
            "monitoring of small and young firms): assumption above Chinese banks' average "
            "staff and IT cost of about 0.8-1.0 % of assets (annual reports), as small-firm "
            "lending costs more per unit than a large bank's average asset",
        },
    )
    deposit_cost: float = field(
        default=0.003,
        metadata={
            **ANNUAL,
            "help": "operating cost / deposit balance (settlement, cash management, branch "
            "operations, deposit-insurance premium): assumption",
        },
    )
    head_office_share: float = field(
        default=0.2,
        metadata={
            **SHARE,
            "help": "head-office and shared-service allocation / the park business's direct "
            "operating cost (assumption; the range is in assumptions.toml)",
        },
    )
    tax_rate: float = field(
        default=0.25,
        metadata={
            **SHARE,
            "help": "corporate income tax on pre-tax profit (Enterprise Income Tax Law, 25 %); "
            "a loss gives a negative tax, a credit against the bank's other profits "
            "(management-accounts convention)",
        },
    )


def earn_income(
    pop: EnterprisePopulation,
    banks: Sequence[Bank],
    income: IncomeParams,
    events: LifecycleEvents,
    streams: FirmStreams,
    quarter: int,
    ftp_rate: float,
) -> None:
    """Deposits, fees by line, personal finance and the operating cost of one quarter, for
    every bank. Clients keep `deposit_share` of their revenue at their main bank, split
    into demand and time deposits; the FTP credit (annual `ftp_rate`, time deposits with
    `time_ftp_premium`) less the interest paid is the deposits' margin."""
    n_banks, main = len(banks), pop.main_bank
    unlock_quarter = quarter - income.lockup_quarters  # listings whose lock-up ends now
    bond_draw = BondDraw(streams.base(Mechanism.BOND_ISSUE, quarter), income.bond_issue_prob)
    client_revenue, clients, bonds, wealth, loans = client_sums(
        ClientColumns.of(pop), n_banks, bond_draw, unlock_quarter, income.founder_share
    )
    proceeds = np.bincount(
        main[events.listed],
        weights=income.ipo_float * pop.valuation[events.listed],
        minlength=n_banks,
    )
    mna = np.bincount(
        main[events.acquired],
        weights=income.mna_fee * income.acquisition_multiple * pop.valuation[events.acquired],
        minlength=n_banks,
    )
    # Python floats: a handful of scalar sums per bank, cheaper than numpy scalars.
    client_revenue, bonds, proceeds, mna, wealth, clients, loans = (
        a.tolist() for a in (client_revenue, bonds, proceeds, mna, wealth, clients, loans)
    )
    for bank in banks:
        b, spec, led = bank.index, bank.spec, bank.ledger
        led.fee_settlement += client_revenue[b] * income.settlement_fee / QUARTERS_PER_YEAR
        led.fee_bond += bonds[b] * income.bond_fee * income.bond_size_ratio
        led.fee_advisory += spec.advisory_capture * (income.ipo_advisory_fee * proceeds[b] + mna[b])
        sponsor = spec.advisory_capture * income.ipo_fee * proceeds[b]
        led.group_fee_income += sponsor
        led.fee_referral += income.referral_share * sponsor
        bank.wealth_aum = (
            bank.wealth_aum * (1 - income.aum_runoff) + spec.wealth_capture * wealth[b]
        )
        led.personal_finance_income += bank.wealth_aum * income.wealth_fee / QUARTERS_PER_YEAR
        led.personal_finance_income += client_revenue[b] * income.retail_margin / QUARTERS_PER_YEAR
        deposits = spec.deposit_share * client_revenue[b]
        led.time_deposits = income.deposit_time_share * deposits
        led.demand_deposits = deposits - led.time_deposits
        led.interest_expense += (
            led.demand_deposits * income.demand_deposit_rate
            + led.time_deposits * income.time_deposit_rate
        ) / QUARTERS_PER_YEAR
        led.ftp_credit += (
            led.demand_deposits * ftp_rate
            + led.time_deposits * (ftp_rate + income.time_ftp_premium)
        ) / QUARTERS_PER_YEAR
        direct = (
            spec.fixed_cost
            + spec.cost_per_client * clients[b]
            + (loans[b] + bank.operator_loan) * income.loan_cost / QUARTERS_PER_YEAR
            + deposits * income.deposit_cost / QUARTERS_PER_YEAR
        )
        led.head_office_cost += income.head_office_share * direct
        led.operating_cost += direct + income.head_office_share * direct


class ClientColumns(NamedTuple):
    """What a bank earns on from each firm (one entry per firm)."""

    main_bank: np.ndarray
    stage: np.ndarray
    size: np.ndarray  # annual revenue, 万元
    lender: np.ndarray
    stream_id: np.ndarray
    listed_quarter: np.ndarray
    valuation: np.ndarray  # 万元
    debt: np.ndarray  # 万元 owed to `lender`
    replication: np.ndarray

    @classmethod
    def of(cls, pop: EnterprisePopulation) -> ClientColumns:
        return cls(*(getattr(pop, name) for name in cls._fields))


class BondDraw(NamedTuple):
    """This quarter's bond issues: each firm's own uniform against `probability`."""

    base: np.ndarray  # the quarter's stream base by replication (`FirmStreams.base`)
    probability: float


class ClientSums(NamedTuple):
    """What each bank earns on from its clients this quarter."""

    revenue: np.ndarray  # its clients' revenue, 万元
    clients: np.ndarray  # its clients and other banks' clients that borrow from it
    bonds: np.ndarray  # revenue of its clients that issue a bond, 万元
    wealth: np.ndarray  # founders' wealth freed by the end of a lock-up, 万元
    loans: np.ndarray  # what every firm owes it, 万元 (the balance its loan cost is on)


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
    uniform of the quarter); the founders' wealth freed by the end of a lock-up
    (firms listed in `unlock_quarter` and listed still, none if it is negative;
    §六(二)2 (三)); and the loans
    it holds, whatever their borrowers' stage (what the firms owe it)."""
    revenue = np.zeros(n_banks)
    clients = np.zeros(n_banks)
    bonds = np.zeros(n_banks)
    wealth = np.zeros(n_banks)
    loans = np.zeros(n_banks)
    for i in range(len(firms.main_bank)):
        bank, stage = firms.main_bank[i], firms.stage[i]
        if firms.lender[i] >= 0:
            loans[firms.lender[i]] += firms.debt[i]
        if stage <= Stage.LISTED:  # active
            revenue[bank] += firms.size[i]
            clients[bank] += 1.0
            lender = firms.lender[i]
            if lender >= 0 and lender != bank:
                clients[lender] += 1.0
            issuer = stage >= Stage.PRE_IPO
            if (
                issuer
                and firm_uniform(bond_draw.base[firms.replication[i]], firms.stream_id[i])
                < bond_draw.probability
            ):
                bonds[bank] += firms.size[i]
        # Founders of a firm still listed when its lock-up ends (one that has left the
        # park since sold out at its exit).
        unlocks = stage == Stage.LISTED and firms.listed_quarter[i] == unlock_quarter
        if unlock_quarter >= 0 and unlocks:
            wealth[bank] += founder_share * firms.valuation[i]
    return ClientSums(revenue, clients, bonds, wealth, loans)
