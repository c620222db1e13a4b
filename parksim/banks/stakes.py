"""Equity stakes and warrants: sold at exits and after a listing's lock-up, and marked to
model each quarter (§六(二)3 group funds, §六(二)2 认股权贷款, §四(三) the operator's
service stakes).

A listing lifts the firm's valuation by the listing multiple (`exit_multiples`, which
follow the credit cycle); its stakes are sold `lockup_quarters` later at the valuation
then (which has followed its revenue meanwhile). An acquisition sells them at the
acquisition multiple × valuation, a relocation at the valuation, a failure at 0. At a
sale — gain = stake × value − cost — each warrant (notional N, strike K: the firm's
valuation at grant) pays max(value − K, 0) × N / K at the lock-up's end or an acquisition
and lapses at a relocation or a failure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numba import njit

from parksim.core.codes import Stage
from parksim.core.units import QUARTERS_PER_YEAR

if TYPE_CHECKING:
    from parksim.banks.bank import Bank
    from parksim.banks.income import IncomeParams
    from parksim.core.population import EnterprisePopulation
    from parksim.enterprises.equity import EquityMarketParams
    from parksim.enterprises.lifecycle import LifecycleEvents


@njit(cache=True)
def cost_by_bank(stake_cost: np.ndarray, replication: np.ndarray, n_banks: int) -> np.ndarray:
    """What each of the `n_banks` bank groups' funds paid for the stakes it holds (万元):
    the firms × (a park's banks) costs summed by bank, a firm's b-th column going to bank
    replication × (a park's banks) + b. A loop: numpy's column sum of a few columns is
    four times slower, and the close, the stakes' funding and the group's P&L ask every
    quarter."""
    park_banks = stake_cost.shape[1]
    held = np.zeros(n_banks)
    for i in range(stake_cost.shape[0]):
        first = replication[i] * park_banks
        for b in range(park_banks):
            held[first + b] += stake_cost[i, b]
    return held


def fund_stakes(pop: EnterprisePopulation, banks: Sequence[Bank], funding_cost: float) -> None:
    """A quarter's funding cost of what the banks paid for the stakes they hold (warrants
    cost nothing), charged to net interest income as part of the FTP charge. Only where
    the bank itself holds the stakes (`group.holder = "bank"`)."""
    held = cost_by_bank(pop.bank_stake_cost, pop.replication, len(banks))
    for bank in banks:
        bank.ledger.ftp_charge += float(held[bank.index]) * funding_cost / QUARTERS_PER_YEAR


def exit_multiples(
    income: IncomeParams, market: EquityMarketParams, macro: float
) -> tuple[float, float]:
    """(listing, acquisition) multiple of this quarter: the scenario's multiples ×
    exp(`multiple_cyclicality` × Z), Z the credit engine's macro factor (a downturn, Z < 0,
    cuts them; below 1 is an IPO under the last private price, 破发, or a down-sale)."""
    cycle = math.exp(market.multiple_cyclicality * macro)
    return income.listing_multiple * cycle, income.acquisition_multiple * cycle


def ipo_window_open(market: EquityMarketParams, macro: float) -> bool:
    """Whether the IPO window is open this quarter: the macro factor is at least
    `ipo_window_floor` (a downturn shuts it; no firm lists while it is shut)."""
    return macro >= market.ipo_window_floor


class StakeColumns(NamedTuple):
    """The population's equity claims: the banks' fund stakes and warrants (firms × banks)
    and the operator's stakes (one entry per firm)."""

    bank_stake: np.ndarray  # share of the firm's equity
    bank_stake_cost: np.ndarray  # 万元
    warrant_notional: np.ndarray  # 万元
    warrant_strike: np.ndarray  # the firm's valuation at grant, 万元; 0 without a warrant
    operator_stake: np.ndarray
    operator_stake_cost: np.ndarray
    replication: np.ndarray  # a firm's b-th column is bank replication × n + b of the batch

    @classmethod
    def of(cls, pop: EnterprisePopulation) -> StakeColumns:
        return cls(*(getattr(pop, name) for name in cls._fields))


class Gains(NamedTuple):
    """Realised gains of a quarter's sales (万元)."""

    fund: np.ndarray  # by bank: the fund's stakes
    warrants: np.ndarray  # by bank
    operator: np.ndarray  # by replication: the operator's stakes
    by_sale: np.ndarray  # every bank's fund and warrant gain of each sale, in sale order


@njit(cache=True)
def _realise(
    sales: np.ndarray,
    value: np.ndarray,
    exercised: int,
    stakes: StakeColumns,
    n_banks: int,
    replications: int,
) -> Gains:
    """Every stake in the `sales` is sold at value `value`: gain = stake × value − cost;
    the first `exercised` sales (lock-up ends, acquisitions) also exercise the banks'
    warrants, which pay max(value − strike, 0) × notional / strike, and at the others
    lapse. Clears the sold stakes and warrants. Gains are by bank of the batch (`n_banks`)
    and, the operator's, by replication."""
    park_banks = stakes.bank_stake.shape[1]
    fund, warrants, operator = np.zeros(n_banks), np.zeros(n_banks), np.zeros(replications)
    by_sale = np.zeros(len(sales))
    for k in range(len(sales)):
        i, v = sales[k], value[k]
        first = stakes.replication[i] * park_banks
        for b in range(park_banks):
            gain = stakes.bank_stake[i, b] * v - stakes.bank_stake_cost[i, b]
            strike = stakes.warrant_strike[i, b]
            paid = 0.0
            if k < exercised and strike > 0:
                paid = max(v - strike, 0.0) * stakes.warrant_notional[i, b] / strike
            fund[first + b] += gain
            warrants[first + b] += paid
            by_sale[k] += gain + paid
            stakes.bank_stake[i, b] = stakes.bank_stake_cost[i, b] = 0.0
            stakes.warrant_notional[i, b] = stakes.warrant_strike[i, b] = 0.0
        gain = stakes.operator_stake[i] * v - stakes.operator_stake_cost[i]
        operator[stakes.replication[i]] += gain
        stakes.operator_stake[i] = stakes.operator_stake_cost[i] = 0.0
    return Gains(fund, warrants, operator, by_sale)


def unlocked(pop: EnterprisePopulation, quarter: int, lockup_quarters: int) -> np.ndarray:
    """Rows of listed firms whose lock-up ends this quarter (listed `lockup_quarters` ago)."""
    return (
        (pop.stage == Stage.LISTED) & (pop.listed_quarter == quarter - lockup_quarters)
    ).nonzero()[0]


def realise_stakes(
    pop: EnterprisePopulation,
    events: LifecycleEvents,
    multiples: tuple[np.ndarray, np.ndarray],
    quarter: int,
    lockup_quarters: int,
    n_banks: int | None = None,
) -> Gains:
    """List this quarter's IPOs at the listing multiple; sell the stakes in firms whose
    lock-up ends now (at their valuation) or that left (acquisition multiple × valuation,
    relocation at the valuation, failure at 0); clear them. Returns the gains.

    `multiples` are (listing, acquisition), one of each per replication (or one for
    all); `n_banks` is the batch's banks (default: a park's)."""
    listing, acquisition = (np.atleast_1d(np.asarray(m, dtype=float)) for m in multiples)
    replications = pop.replications
    n_banks = pop.bank_stake.shape[1] * replications if n_banks is None else n_banks
    of = pop.replication
    pop.valuation[events.listed] *= listing[of[events.listed] % len(listing)]
    sold = unlocked(pop, quarter, lockup_quarters)
    sales = np.concatenate([sold, events.acquired, events.relocated, events.failed])
    if len(sales) == 0:
        return Gains(np.zeros(n_banks), np.zeros(n_banks), np.zeros(replications), np.zeros(0))
    value = pop.valuation[sales]
    start = len(sold)
    acquired = slice(start, start + len(events.acquired))
    value[acquired] *= acquisition[of[events.acquired] % len(acquisition)]
    value[len(sales) - len(events.failed) :] = 0.0
    exercised = start + len(events.acquired)  # lock-up ends and acquisitions come first
    return _realise(sales, value, exercised, StakeColumns.of(pop), n_banks, replications)


def book_at_bank(banks: Sequence[Bank], gains: Gains) -> None:
    """Where the bank holds the equity (`group.holder = "bank"`): its fund and warrant
    gains are its equity income."""
    fund, warrants = gains.fund.tolist(), gains.warrants.tolist()
    for bank in banks:
        bank.ledger.equity_income += fund[bank.index] + warrants[bank.index]


def cap_warrants(pop: EnterprisePopulation, rows: np.ndarray, cap: float) -> None:
    """Cap the warrants on the firms at `rows` at an implied stake (notional / strike) of
    `cap`: notional ≤ cap × strike. Idempotent, so it may see old warrants again."""
    strike = pop.warrant_strike[rows]
    pop.warrant_notional[rows] = np.minimum(pop.warrant_notional[rows], cap * strike)


class Marks(NamedTuple):
    """A bank group's stakes and warrants marked to model (万元)."""

    fair_value: np.ndarray  # by bank: holder's share of stakes + warrants, marked
    cost: np.ndarray  # by bank: holder's share of what the stakes cost


@njit(cache=True)
def mark_to_model(
    stakes: StakeColumns,
    valuation: np.ndarray,
    valuation_factor: float,
    pd: np.ndarray,
    stage: np.ndarray,
    fund_share: float,
    discount: float,
    horizon: int,
    n_banks: int,
) -> Marks:
    """Every bank's stakes and warrants marked to model: for each firm still in the park,
    with v = `valuation` × `valuation_factor` (a stress path's markdown),
    (1 − `discount`) × (1 − PD)^`horizon` × (`fund_share` × stake × v + the warrant's
    intrinsic value max(v − strike, 0) × notional / strike), PD the
    firm's quarterly failure PD. A firm that cannot fail, with no discount, is worth
    `fund_share` × stake × v (plus its warrant's intrinsic value). By bank of the batch
    (`n_banks`): a firm's b-th column is bank replication × (a park's banks) + b."""
    park_banks = stakes.bank_stake.shape[1]
    fair, cost = np.zeros(n_banks), np.zeros(n_banks)
    stake, paid, strikes = stakes.bank_stake, stakes.bank_stake_cost, stakes.warrant_strike
    for i in range(len(valuation)):
        if stage[i] > Stage.LISTED:
            continue
        holds = False
        for b in range(park_banks):
            holds |= (paid[i, b] != 0) | (stake[i, b] != 0) | (strikes[i, b] > 0)
        if not holds:
            continue  # adds nothing: skipping it saves a power per firm of a large park
        survive = (1.0 - discount) * (1.0 - max(pd[i], 0.0)) ** horizon
        v = valuation[i] * valuation_factor
        first = stakes.replication[i] * park_banks
        for b in range(park_banks):
            value = fund_share * stake[i, b] * v
            strike = strikes[i, b]
            if strike > 0:
                value += max(v - strike, 0.0) * stakes.warrant_notional[i, b] / strike
            fair[first + b] += survive * value
            cost[first + b] += fund_share * paid[i, b]
    return Marks(fair, cost)
