"""Equity stakes realised at exits: the banks' group-fund stakes and warrants, and the
operator's service stakes (§六(二)3, §四(三)).

A listing raises the firm's valuation to `listing_multiple × valuation`; the exit value
is that for a listing, `acquisition_multiple × valuation` for an acquisition, `valuation`
for a relocation and 0 for a failure. Every stake in an exiting or listing firm is
realised at once (no lock-up for institutions): gain = stake × exit value − cost.

A warrant (认股权) is a call on the firm's equity: notional N, strike K (the valuation at
grant). It is exercised at a listing or an acquisition and pays
max(exit value − K, 0) × N / K; at a failure or a relocation it lapses worthless.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numba import njit

from parksim.core.units import QUARTERS_PER_YEAR

if TYPE_CHECKING:
    from parksim.banks.bank import Bank
    from parksim.banks.income import IncomeParams
    from parksim.core.population import EnterprisePopulation
    from parksim.enterprises.lifecycle import LifecycleEvents


@njit(cache=True)
def cost_by_bank(stake_cost: np.ndarray) -> np.ndarray:
    """What each bank paid for the stakes it holds (column sums of the firms × banks
    costs, 万元). A loop: numpy's column sum of a few columns is four times slower, and
    both the close and the stakes' funding ask every quarter."""
    held = np.zeros(stake_cost.shape[1])
    for i in range(stake_cost.shape[0]):
        for b in range(stake_cost.shape[1]):
            held[b] += stake_cost[i, b]
    return held


def fund_stakes(pop: EnterprisePopulation, banks: Sequence[Bank], funding_cost: float) -> None:
    """A quarter's funding cost of what the banks paid for the stakes they hold (warrants
    cost nothing), charged to net interest income as part of the FTP charge."""
    held = cost_by_bank(pop.bank_stake_cost)
    for bank in banks:
        bank.ledger.ftp_charge += float(held[bank.index]) * funding_cost / QUARTERS_PER_YEAR


class StakeColumns(NamedTuple):
    """The population's equity claims: the banks' stakes and warrants (firms × banks) and
    the operator's stakes (one entry per firm)."""

    bank_stake: np.ndarray  # share of the firm's equity
    bank_stake_cost: np.ndarray  # 万元
    warrant_notional: np.ndarray  # 万元
    warrant_strike: np.ndarray  # the firm's valuation at grant, 万元; 0 without a warrant
    operator_stake: np.ndarray
    operator_stake_cost: np.ndarray

    @classmethod
    def of(cls, pop: EnterprisePopulation) -> StakeColumns:
        return cls(*(getattr(pop, name) for name in cls._fields))


class Gains(NamedTuple):
    """Realised gains of a quarter's exits (万元)."""

    by_bank: np.ndarray
    operator: float


@njit(cache=True)
def _realise(exits: np.ndarray, value: np.ndarray, exercised: int, stakes: StakeColumns) -> Gains:
    """Every stake in the `exits` is realised at exit value `value` (§六(二)3 group funds,
    §四(三) the operator's service stakes): gain = stake × value − cost; the first
    `exercised` exits (listings, acquisitions) also exercise the banks' warrants, which pay
    max(value − strike, 0) × notional / strike, and at the other exits lapse. Clears the
    exits' stakes and warrants."""
    n_banks = stakes.bank_stake.shape[1]
    by_bank, operator = np.zeros(n_banks), 0.0
    for k in range(len(exits)):
        i, v = exits[k], value[k]
        for b in range(n_banks):
            gain = stakes.bank_stake[i, b] * v - stakes.bank_stake_cost[i, b]
            strike = stakes.warrant_strike[i, b]
            if k < exercised and strike > 0:
                gain += max(v - strike, 0.0) * stakes.warrant_notional[i, b] / strike
            by_bank[b] += gain
            stakes.bank_stake[i, b] = stakes.bank_stake_cost[i, b] = 0.0
            stakes.warrant_notional[i, b] = stakes.warrant_strike[i, b] = 0.0
        operator += stakes.operator_stake[i] * v - stakes.operator_stake_cost[i]
        stakes.operator_stake[i] = stakes.operator_stake_cost[i] = 0.0
    return Gains(by_bank, operator)


def realise_stakes(
    pop: EnterprisePopulation,
    banks: Sequence[Bank],
    events: LifecycleEvents,
    income: IncomeParams,
) -> float:
    """Book the banks' gains on stakes in firms that listed or left; clear the stakes.

    Returns the operator's equity income of the quarter (万元).
    """
    pop.valuation[events.listed] *= income.listing_multiple
    exits = np.concatenate([events.listed, events.acquired, events.relocated, events.failed])
    if len(exits) == 0:
        return 0.0
    value = pop.valuation[exits]
    start = len(events.listed)
    value[start : start + len(events.acquired)] *= income.acquisition_multiple
    value[len(exits) - len(events.failed) :] = 0.0
    exercised = start + len(events.acquired)  # listings and acquisitions come first
    gains = _realise(exits, value, exercised, StakeColumns.of(pop))
    by_bank = gains.by_bank.tolist()
    for bank in banks:
        bank.ledger.equity_income += by_bank[bank.index]
    return gains.operator
