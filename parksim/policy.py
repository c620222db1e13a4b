"""Policy levers: risk-compensation pool, government guarantee, interest subsidy, REITs.

Eligible loans are those to seed, startup and growth firms (科技型中小企业), the target of
the local programmes the brief lists. Defaults are "no policy".
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
