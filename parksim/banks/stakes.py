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

from parksim.banks.bank import Bank
from parksim.banks.income import IncomeParams
from parksim.enterprises.lifecycle import LifecycleEvents
from parksim.enterprises.population import EnterprisePopulation


def warrant_payoff(exit_value: np.ndarray, notional: np.ndarray, strike: np.ndarray):
    """max(exit value − strike, 0) × notional / strike (万元); 0 where there is no warrant."""
    safe = np.where(strike > 0, strike, 1.0)
    return np.maximum(exit_value - strike, 0.0) * notional / safe * (strike > 0)


def fund_stakes(pop: EnterprisePopulation, banks: Sequence[Bank], funding_cost: float) -> None:
    """A quarter's funding cost of what the banks paid for the stakes they hold (warrants
    cost nothing), charged to net interest income."""
    held = pop.bank_stake_cost.sum(axis=0)
    for bank in banks:
        bank.ledger.net_interest_income -= float(held[bank.index]) * funding_cost / 4.0


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
    value = pop.valuation[exits].copy()
    start = len(events.listed)
    value[start : start + len(events.acquired)] *= income.acquisition_multiple
    value[len(exits) - len(events.failed) :] = 0.0
    bank_gains = pop.bank_stake[exits] * value[:, None] - pop.bank_stake_cost[exits]
    exercised = start + len(events.acquired)  # listings and acquisitions come first
    bank_gains[:exercised] += warrant_payoff(
        value[:exercised, None],
        pop.warrant_notional[exits[:exercised]],
        pop.warrant_strike[exits[:exercised]],
    )
    for bank in banks:
        bank.ledger.equity_income += float(bank_gains[:, bank.index].sum())
    pop.warrant_notional[exits] = 0.0
    pop.warrant_strike[exits] = 0.0
    operator_gain = pop.operator_stake[exits] * value - pop.operator_stake_cost[exits]
    pop.bank_stake[exits] = 0.0
    pop.bank_stake_cost[exits] = 0.0
    pop.operator_stake[exits] = 0.0
    pop.operator_stake_cost[exits] = 0.0
    return float(operator_gain.sum())
