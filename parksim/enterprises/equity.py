"""Equity: angel, VC and PE rounds, with park-fund and bank-fund co-investment.

Growth firms' binding need is equity (§五(二), §六(二)2). Investors see quality through
their own noisy due diligence and fund a firm whose expected quality clears the stage's
bar. A light-asset operator's park fund (§四(三), table 4) and a 2.0+ bank's group fund
cluster (§六(二)3) co-invest with their clients, which lowers the bar and earns them a stake.
Defaults give a seed-to-later-round funnel near the CB Insights one (~46% raise again).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba import njit

from parksim.core.population import EnterprisePopulation, stage_table
from parksim.core.streams import FirmStreams, Mechanism

PROB = {"unit": "probability"}


@dataclass(frozen=True)
class EquityMarketParams:
    """Equity market of the park; stage tuples run seed → pre-IPO."""

    demand: tuple[float, ...] = field(
        default=(0.10, 0.09, 0.07, 0.05),
        metadata={**PROB, "help": "quarterly probability a firm seeks an equity round"},
    )
    round_size: tuple[float, ...] = field(
        default=(300.0, 2000.0, 10000.0, 30000.0),
        metadata={"non_negative": True, "help": "median round size by stage, 万元"},
    )
    bar: tuple[float, ...] = field(
        default=(0.35, 1.275, 0.55, 0.45),  # [1] calibrated: second-round share
        metadata={"help": "expected quality an investor requires, by stage"},
    )
    investor_noise: float = field(
        default=0.3292,  # calibrated: fourth-round share
        metadata={"min": 0.0, "help": "sd of investors' view error on quality"},
    )
    dilution: float = field(
        default=0.2, metadata={"exclusive_min": 0.0, "max": 1.0, "help": "round / post-money"}
    )
    fund_bar_cut: float = field(
        default=0.25, metadata={"min": 0.0, "help": "bar cut when a park or bank fund co-invests"}
    )
    fund_ticket: float = field(
        default=0.05, metadata={"unit": "share", "help": "co-investing fund's share of a round"}
    )


@dataclass
class EquityRounds:
    """Equity rounds closed in one quarter."""

    sought: np.ndarray  # ids that sought a round
    funded: np.ndarray  # ids that closed a round
    amount: np.ndarray  # round size of each funded id, 万元
    post_money: np.ndarray  # post-money valuation of each funded id, 万元


def raise_equity(
    pop: EnterprisePopulation,
    rows: np.ndarray | slice,
    params: EquityMarketParams,
    park_fund: bool,
    bank_fund: np.ndarray,
    streams: FirmStreams,
    quarter: int,
) -> EquityRounds:
    """Run the quarter's equity rounds among the active, unlisted firms at `rows`.

    `bank_fund[b]` says whether bank b's group fund co-invests with its clients. Only the
    few firms that seek a round draw an investor view and a round size.
    """
    demand = stage_table(params.demand)
    seekers = streams.seekers(
        Mechanism.EQUITY_DEMAND, quarter, pop.stream_id, pop.stage, demand, rows
    )
    ids = pop.stream_id[seekers]
    noise = streams.normals(Mechanism.EQUITY_VIEW, quarter, ids)
    size_noise = streams.normals(Mechanism.EQUITY_SIZE, quarter, ids)
    fid, amount, post_money = _close_rounds(
        seekers,
        noise,
        size_noise,
        pop.stage,
        pop.main_bank,
        pop.quality,
        np.asarray(bank_fund, dtype=np.bool_),
        park_fund,
        np.asarray(params.bar, dtype=float),
        np.asarray(params.round_size, dtype=float),
        params.fund_bar_cut,
        params.investor_noise,
        1.0 + params.investor_noise**2,
        params.dilution,
        params.fund_ticket,
        quarter,
        pop.equity_raised,
        pop.valuation,
        pop.last_round_quarter,
        pop.last_round_size,
        pop.operator_stake,
        pop.operator_stake_cost,
        pop.bank_stake,
        pop.bank_stake_cost,
    )
    return EquityRounds(sought=seekers, funded=fid, amount=amount, post_money=post_money)


@njit(cache=True)
def _close_rounds(
    seekers,
    noise,
    size_noise,
    stage,
    main_bank,
    quality,
    bank_fund,
    park_fund,
    bar,
    round_size,
    fund_bar_cut,
    investor_noise,
    noise_shrink,
    dilution,
    fund_ticket,
    quarter,
    equity_raised,
    valuation,
    last_round_quarter,
    last_round_size,
    operator_stake,
    operator_stake_cost,
    bank_stake,
    bank_stake_cost,
):
    """Each seeker's round (see `raise_equity`): investors fund it when their expected
    quality, signal / `noise_shrink`, clears the stage's bar, less `fund_bar_cut` where
    the park fund or the main bank's fund co-invests. Writes the funded firms' rounds and
    the funds' stakes; returns the funded rows, round sizes and post-money valuations."""
    n_banks = len(bank_fund)
    funded = np.empty(len(seekers), dtype=np.int64)
    amounts, post_moneys = np.empty(len(seekers)), np.empty(len(seekers))
    count = 0
    for k in range(len(seekers)):
        i = seekers[k]
        s, main = stage[i], main_bank[i]
        bank_backed = main >= 0 and bank_fund[main % n_banks]
        cut = fund_bar_cut * (1.0 if park_fund or bank_backed else 0.0)
        signal = quality[i] + investor_noise * noise[k]
        if not signal / noise_shrink >= bar[s] - cut:
            continue
        amount = round_size[s] * np.exp(0.5 * size_noise[k])
        post_money = max(amount / dilution, valuation[i])
        equity_raised[i] += amount
        valuation[i] = post_money
        last_round_quarter[i] = quarter
        last_round_size[i] = amount
        ticket = fund_ticket * amount
        if park_fund:
            operator_stake[i] += ticket / post_money
            operator_stake_cost[i] += ticket
        if bank_backed:
            bank_stake[i, main] += ticket / post_money
            bank_stake_cost[i, main] += ticket
        funded[count], amounts[count], post_moneys[count] = i, amount, post_money
        count += 1
    return funded[:count], amounts[:count], post_moneys[:count]
