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

import numpy as np
from numba import njit

from parksim.banks.bank import Bank
from parksim.banks.income import IncomeParams
from parksim.banks.risk import pairwise_sum
from parksim.core.population import EnterprisePopulation
from parksim.enterprises.lifecycle import LifecycleEvents


def warrant_payoff(exit_value: np.ndarray, notional: np.ndarray, strike: np.ndarray):
    """max(exit value − strike, 0) × notional / strike (万元); 0 where there is no warrant."""
    safe = np.where(strike > 0, strike, 1.0)
    return np.maximum(exit_value - strike, 0.0) * notional / safe * (strike > 0)


@njit(cache=True)
def cost_by_bank(stake_cost: np.ndarray) -> np.ndarray:
    """What each bank paid for the stakes it holds (column sums of the firms × banks
    costs, 万元), added up firm by firm in row order as numpy's column sum does."""
    held = np.zeros(stake_cost.shape[1])
    for i in range(stake_cost.shape[0]):
        for b in range(stake_cost.shape[1]):
            held[b] += stake_cost[i, b]
    return held


def fund_stakes(pop: EnterprisePopulation, banks: Sequence[Bank], funding_cost: float) -> None:
    """A quarter's funding cost of what the banks paid for the stakes they hold (warrants
    cost nothing), charged to net interest income."""
    held = cost_by_bank(pop.bank_stake_cost)
    for bank in banks:
        bank.ledger.net_interest_income -= float(held[bank.index]) * funding_cost / 4.0


@njit(cache=True)
def _realise(
    exits: np.ndarray,
    value: np.ndarray,
    exercised: int,
    bank_stake: np.ndarray,
    bank_stake_cost: np.ndarray,
    warrant_notional: np.ndarray,
    warrant_strike: np.ndarray,
    operator_stake: np.ndarray,
    operator_stake_cost: np.ndarray,
) -> tuple[np.ndarray, float]:
    """The gains of every bank and of the operator on the exits at exit value `value`,
    summed over the exits as numpy's `sum` adds them; the first `exercised` exits (listings,
    acquisitions) also exercise the banks' warrants (see `warrant_payoff`). Clears the
    exits' stakes and warrants."""
    n_banks = bank_stake.shape[1]
    bank_gains = np.empty((len(exits), n_banks))
    operator_gain = np.empty(len(exits))
    for k in range(len(exits)):
        i, v = exits[k], value[k]
        for b in range(n_banks):
            gain = bank_stake[i, b] * v - bank_stake_cost[i, b]
            if k < exercised:
                strike = warrant_strike[i, b]
                safe = strike if strike > 0 else 1.0
                held = 1.0 if strike > 0 else 0.0
                gain += max(v - strike, 0.0) * warrant_notional[i, b] / safe * held
            bank_gains[k, b] = gain
            bank_stake[i, b] = bank_stake_cost[i, b] = 0.0
            warrant_notional[i, b] = warrant_strike[i, b] = 0.0
        operator_gain[k] = operator_stake[i] * v - operator_stake_cost[i]
        operator_stake[i] = operator_stake_cost[i] = 0.0
    by_bank = np.empty(n_banks)
    for b in range(n_banks):
        by_bank[b] = pairwise_sum(bank_gains[:, b])
    return by_bank, pairwise_sum(operator_gain)


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
    bank_gains, operator_gain = _realise(
        exits,
        value,
        start + len(events.acquired),  # listings and acquisitions come first
        pop.bank_stake,
        pop.bank_stake_cost,
        pop.warrant_notional,
        pop.warrant_strike,
        pop.operator_stake,
        pop.operator_stake_cost,
    )
    bank_gains = bank_gains.tolist()
    for bank in banks:
        bank.ledger.equity_income += bank_gains[bank.index]
    return operator_gain
