"""Equity: angel, VC and PE rounds, with park-fund and bank-fund co-investment.

Growth firms' binding need is equity (§五(二), §六(二)2). Investors see quality through
their own noisy due diligence and fund a firm whose expected quality clears the stage's
bar. A light-asset operator's park fund (§四(三), table 4) and a 2.0+ bank's group fund
cluster (§六(二)3) co-invest with their clients, which lowers the bar and earns them a stake.
Defaults give a seed-to-later-round funnel near the CB Insights one (~46% raise again).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from numba import njit

from parksim.core.codes import Stage
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
    round_size_dispersion: float = field(
        default=0.5,
        metadata={
            "min": 0.0,
            "unit": "sd of log",
            "help": "spread of a round's size around its stage's median",
            "source": "assumption; range in parksim/data/assumptions.toml",
        },
    )
    bar: tuple[float, ...] = field(
        default=(0.35, 1.456, 0.55, 0.45),  # [1] calibrated: second-round share
        metadata={"help": "expected quality an investor requires, by stage"},
    )
    investor_noise: float = field(
        default=0.2489,  # calibrated: fourth-round share
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
    ipo_window_floor: float = field(
        default=-1.0,
        metadata={
            "unit": "sd of the macro factor",
            "help": "the IPO window is shut while the credit engine's macro factor is below "
            "this (no listing; a pre-IPO graduate waits): -1 shuts about one quarter in six, "
            "near the CSRC's IPO pauses (2012-14, 2015, the 2023-24 slowdown); range in "
            "assumptions.toml",
        },
    )
    multiple_cyclicality: float = field(
        default=0.2,
        metadata={
            "min": 0.0,
            "unit": "log multiple per sd of the macro factor",
            "help": "exit multiples (listing, acquisition) × exp(this × macro factor): a "
            "downturn cuts them, two sd below by a third; assumption, range in "
            "assumptions.toml",
        },
    )


@dataclass
class EquityRounds:
    """Equity rounds closed in one quarter."""

    sought: np.ndarray  # ids that sought a round
    funded: np.ndarray  # ids that closed a round
    amount: np.ndarray  # round size of each funded id, 万元
    post_money: np.ndarray  # post-money valuation of each funded id, 万元


class RoundColumns(NamedTuple):
    """The population's live columns an equity round reads and writes."""

    stage: np.ndarray
    main_bank: np.ndarray
    quality: np.ndarray
    equity_raised: np.ndarray
    valuation: np.ndarray
    last_round_quarter: np.ndarray
    last_round_size: np.ndarray
    operator_stake: np.ndarray
    operator_stake_cost: np.ndarray
    bank_stake: np.ndarray  # rows × banks
    bank_stake_cost: np.ndarray  # rows × banks
    replication: np.ndarray

    @classmethod
    def of(cls, pop: EnterprisePopulation) -> RoundColumns:
        return cls(*(getattr(pop, name) for name in cls._fields))


class RoundRule(NamedTuple):
    """`EquityMarketParams` as the kernel reads them."""

    bar: np.ndarray  # by stage
    round_size: np.ndarray  # by stage
    round_size_dispersion: float
    investor_noise: float
    fund_bar_cut: float
    dilution: float
    fund_ticket: float

    @classmethod
    def of(cls, params: EquityMarketParams) -> RoundRule:
        return cls(
            np.asarray(params.bar, dtype=float),
            np.asarray(params.round_size, dtype=float),
            params.round_size_dispersion,
            params.investor_noise,
            params.fund_bar_cut,
            params.dilution,
            params.fund_ticket,
        )


class RoundSeekers(NamedTuple):
    """The firms that seek a round this quarter and their draws."""

    rows: np.ndarray
    view_error: np.ndarray  # investors' standard-normal error on quality
    size_error: np.ndarray  # standard normal of the round size


class CoInvestors(NamedTuple):
    """Which funds co-invest: the park fund with every firm, a bank's group fund with its
    main-bank clients while it has committed capital left."""

    park_fund: np.ndarray  # by replication: whether its park fund co-invests
    bank_fund: np.ndarray  # by bank
    bank_room: np.ndarray  # by bank: committed capital not yet invested, 万元 (spent here)


class ClosedRounds(NamedTuple):
    """The rounds that closed: rows, round sizes and post-money valuations (万元)."""

    rows: np.ndarray
    amount: np.ndarray
    post_money: np.ndarray


def raise_equity(
    pop: EnterprisePopulation,
    rows: np.ndarray | slice,
    params: EquityMarketParams,
    park_fund: bool | np.ndarray,
    bank_fund: np.ndarray,
    streams: FirmStreams,
    quarter: int,
    bank_room: np.ndarray | None = None,
) -> EquityRounds:
    """Run the quarter's equity rounds among the active, unlisted firms at `rows`.

    `park_fund` says whether the park fund co-invests with every firm (one for all, or
    one per replication of a batch). `bank_fund[b]` says whether bank b's group fund
    co-invests with its clients, while `bank_room[b]` (its committed capital not yet
    invested, 万元; spent in place; None: unlimited) lasts. Only the few firms that seek a
    round draw an investor view and a round size.
    """
    demand = stage_table(params.demand)
    replication = pop.replication
    seekers = streams.seekers(
        Mechanism.EQUITY_DEMAND,
        quarter,
        pop.stream_id,
        pop.stage,
        demand,
        rows,
        replication=replication,
    )
    ids, of = pop.stream_id[seekers], replication[seekers]
    draws = RoundSeekers(
        seekers,
        streams.normals(Mechanism.EQUITY_VIEW, quarter, ids, of),
        streams.normals(Mechanism.EQUITY_SIZE, quarter, ids, of),
    )
    bank_fund = np.asarray(bank_fund, dtype=np.bool_)
    if bank_room is None:
        bank_room = np.full(len(bank_fund), np.inf)
    park = np.atleast_1d(np.asarray(park_fund, dtype=np.bool_))
    funds = CoInvestors(park, bank_fund, bank_room)
    closed = _close_rounds(draws, RoundColumns.of(pop), RoundRule.of(params), funds, quarter)
    return EquityRounds(
        sought=seekers, funded=closed.rows, amount=closed.amount, post_money=closed.post_money
    )


@njit(cache=True, inline="always")
def investors_fund(quality: float, view_error: float, bar: float, investor_noise: float) -> bool:
    """Whether investors fund a round (§五(二), §六(二)2): their view of quality is
    s = q + σ·ε (σ = `investor_noise`), and they fund when the posterior mean
    E[q | s] = s / (1 + σ²) clears `bar` (the stage's bar, less any co-investor's cut)."""
    signal = quality + investor_noise * view_error
    return signal / (1.0 + investor_noise**2) >= bar


@njit(cache=True)
def _close_rounds(
    seekers: RoundSeekers,
    firms: RoundColumns,
    rule: RoundRule,
    funds: CoInvestors,
    quarter: int,
) -> ClosedRounds:
    """Each seeker's round (see `raise_equity`): it closes when `investors_fund`, at the
    stage's bar less `fund_bar_cut` where the park fund or the main bank's group fund
    co-invests (§四(三), §六(二)3). A closed round raises round_size[stage] ·
    exp(round_size_dispersion·ε) at post-money amount / dilution (below the last valuation,
    which has followed revenue, it is a down-round);
    each co-investing fund pays fund_ticket of it for its share of the post-money; a bank
    group's fund at most what is left of its committed capital, and none once that is spent
    (it then neither co-invests nor cuts the bar)."""
    n_banks = len(funds.bank_fund)  # every bank of the batch
    park_banks = firms.bank_stake.shape[1]  # a park's: the per-bank columns' width
    n = len(seekers.rows)
    closed = ClosedRounds(np.empty(n, dtype=np.int64), np.empty(n), np.empty(n))
    count = 0
    for k in range(n):
        i = seekers.rows[k]
        s, main = firms.stage[i], firms.main_bank[i]
        bank_backed = main >= 0 and funds.bank_fund[main % n_banks]
        bank_backed = bank_backed and funds.bank_room[main % n_banks] > 0.0
        park_fund = funds.park_fund[firms.replication[i] % len(funds.park_fund)]
        cut = rule.fund_bar_cut if park_fund or bank_backed else 0.0
        bar = rule.bar[s] - cut
        if not investors_fund(firms.quality[i], seekers.view_error[k], bar, rule.investor_noise):
            continue
        spread = rule.round_size_dispersion * seekers.size_error[k]
        amount = rule.round_size[s] * math.exp(spread)
        post_money = amount / rule.dilution  # the round prices the firm: may be a down-round
        firms.equity_raised[i] += amount
        firms.valuation[i] = post_money
        firms.last_round_quarter[i] = quarter
        firms.last_round_size[i] = amount
        ticket = rule.fund_ticket * amount
        if park_fund:
            firms.operator_stake[i] += ticket / post_money
            firms.operator_stake_cost[i] += ticket
        if bank_backed:
            paid = min(ticket, funds.bank_room[main])
            funds.bank_room[main] -= paid
            position = main % park_banks  # its place among the park's banks
            firms.bank_stake[i, position] += paid / post_money
            firms.bank_stake_cost[i, position] += paid
        closed.rows[count], closed.amount[count], closed.post_money[count] = i, amount, post_money
        count += 1
    return ClosedRounds(closed.rows[:count], closed.amount[:count], closed.post_money[:count])


@njit(cache=True)
def follow_revenue(
    valuation: np.ndarray, size: np.ndarray, size_before: np.ndarray, stage: np.ndarray
) -> None:
    """A firm's valuation moves with its revenue between rounds: the revenue multiple of
    its last round (or listing) is kept, valuation × size / size_before, for every firm
    still in the park (so a graduation's jump in revenue lifts it, a fall cuts it)."""
    for i in range(len(valuation)):
        if stage[i] <= Stage.LISTED and size_before[i] > 0.0:
            valuation[i] *= size[i] / size_before[i]
