"""Policy levers: risk-compensation pool, government guarantee, interest subsidy, REITs.

Eligible loans are those to seed, startup and growth firms (科技型中小企业), the target of
the local programmes the brief lists. Defaults are "no policy".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from parksim.core.codes import LoanStatus, Stage
from parksim.core.units import QUARTERS_PER_YEAR

if TYPE_CHECKING:
    from parksim.core.population import EnterprisePopulation

SHARE = {"unit": "share"}


@dataclass(frozen=True)
class PolicyPackage:
    """A package of public support for lending in the park."""

    risk_pool_share: float = field(
        default=0.0,
        metadata={
            **SHARE,
            "help": "share of an eligible loan's loss the risk-compensation "
            "pool (风险补偿资金池) pays; local programmes cover ≤50-55%",
        },
    )
    risk_pool_size: float = field(
        default=0.0,
        metadata={
            "non_negative": True,
            "help": "capital of the risk pool, 万元; payouts stop when it is spent",
        },
    )
    guarantee_share: float = field(
        default=0.0,
        metadata={
            "min": 0.0,
            "max": 0.8,
            "help": "share of an eligible loan's loss a government guarantor covers; "
            "banks keep ≥20% of the risk (State Council 2019)",
        },
    )
    guarantee_fee: float = field(
        default=0.0,
        metadata={
            **SHARE,
            "help": "annual guarantee fee on the covered amount, paid by the "
            "borrower (2024 target <1%)",
        },
    )
    interest_subsidy: float = field(
        default=0.0,
        metadata={
            **SHARE,
            "help": "annual interest the government pays on eligible loans "
            "(贴息), as a rate, e.g. 0.01 = 1 percentage point",
        },
    )
    reits_available: bool = field(
        default=True, metadata={"help": "park property can be recycled through public REITs"}
    )
    mna_loan_cap: float = field(
        default=0.6,
        metadata={
            **SHARE,
            "help": "highest M&A loan / deal price; 0.6 usual, 0.8 in Zhongguancun (§三(二)3)",
        },
    )

    def __post_init__(self) -> None:
        if self.risk_pool_share > 0 and self.risk_pool_size == 0:
            raise ValueError("a risk pool with risk_pool_share > 0 needs risk_pool_size > 0")


class RiskPool:
    """The risk-compensation pool's capital and the claims of one quarter.

    The government guarantor pays its share of every covered loss; the pool pays the rest
    of the covered share pro rata across banks while its capital lasts, and is not refilled.
    """

    def __init__(self, policy: PolicyPackage) -> None:
        self.policy = policy
        self.remaining = policy.risk_pool_size  # 万元
        self.pool_paid = 0.0  # this quarter, all banks, 万元
        self.guarantee_paid = 0.0  # this quarter, all banks, 万元

    def open_quarter(self) -> None:
        """Start the quarter's payout tally."""
        self.pool_paid = self.guarantee_paid = 0.0

    def adopt(self, policy: PolicyPackage) -> None:
        """A new policy from this quarter: the pool's capital moves by the change in
        `risk_pool_size` (a pool that opens gets its capital; one that shrinks loses
        capital, down to zero), and new cover shares apply to new claims."""
        self.remaining = max(
            0.0, self.remaining + policy.risk_pool_size - self.policy.risk_pool_size
        )
        self.policy = policy

    def pay(self, guarantee: np.ndarray, pool_ask: np.ndarray) -> np.ndarray:
        """Pay its banks' claims of one quarter (what the guarantor pays each, and what
        each asks of the pool, 万元): pro rata while the capital lasts. Returns what the
        pool paid each bank."""
        total_ask = pool_ask.sum()
        scale = min(1.0, self.remaining / total_ask) if total_ask > 0 else 0.0
        paid = np.zeros(len(pool_ask))
        for b in range(len(pool_ask)):
            # Rounding must not take the pool below zero, or it would charge banks later.
            paid[b] = min(pool_ask[b] * scale, self.remaining)
            self.remaining = max(0.0, self.remaining - paid[b])
        self.pool_paid += float(paid.sum())
        self.guarantee_paid += float(guarantee.sum())
        return paid


def pay_claims(
    pools: Sequence[RiskPool],
    lender: np.ndarray,
    cover: np.ndarray,
    gross: np.ndarray,
    n_banks: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Settle defaulted loans (lender, policy cover, gross loss, 万元) of one quarter:
    each replication's pool pays its own park's banks (the batch's banks are the parks'
    in turn, `n_banks` in all).

    Returns each bank's gross loss and what guarantee and pool paid it, by bank.
    """
    guarantee_share = pools[0].policy.guarantee_share
    loss, guarantee, pool_ask = claims_by_bank(lender, cover, gross, guarantee_share, n_banks)
    paid = np.zeros(n_banks)
    park_banks = n_banks // len(pools)
    for r, pool in enumerate(pools):
        park = slice(r * park_banks, (r + 1) * park_banks)
        paid[park] = pool.pay(guarantee[park], pool_ask[park])
    return loss, guarantee + paid


@njit(cache=True)
def claims_by_bank(lender, cover, gross, guarantee_share, n_banks):
    """Each bank's gross loss, what the guarantor pays it (`guarantee_share` of a covered
    loss) and what it asks of the pool (the rest of the covered share), 万元, added up
    loss by loss as `np.bincount` does."""
    loss = np.zeros(n_banks)
    guarantee = np.zeros(n_banks)
    pool_ask = np.zeros(n_banks)
    for k in range(len(lender)):
        b, covered = lender[k], 1.0 if cover[k] > 0 else 0.0
        guarantee[b] += gross[k] * covered * guarantee_share
        pool_ask[b] += gross[k] * covered * (cover[k] - guarantee_share)
        loss[b] += gross[k]
    return loss, guarantee, pool_ask


def interest_subsidy_cost(pop: EnterprisePopulation, policy: PolicyPackage) -> np.ndarray:
    """The government's interest subsidy (贴息) of one quarter in each replication's park,
    万元: the subsidy rate on the performing balance of loans to eligible (seed, startup,
    growth) firms, all banks."""
    if policy.interest_subsidy == 0:
        return np.zeros(pop.replications)
    eligible = (pop.loan_status == LoanStatus.PERFORMING) & (pop.stage <= Stage.GROWTH)
    balance = pop.sum_by_replication(pop.debt * eligible)
    return balance * policy.interest_subsidy / QUARTERS_PER_YEAR
