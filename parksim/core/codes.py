"""The codes of the model: stages, loan and finance states, credit decisions, products.

Columns of the population and the kernels hold these as small integers; code reads them as
members (`Stage.LISTED`, `Product.MNA`), never as bare numbers.
"""

from __future__ import annotations

from enum import IntEnum


class Stage(IntEnum):
    """Lifecycle stage codes (§六(二)2: 初创起步 → 成长加速 → 上市跨越 → 成熟突破)."""

    SEED = 0
    STARTUP = 1
    GROWTH = 2
    PRE_IPO = 3  # 上市储备
    LISTED = 4
    FAILED = 5
    RELOCATED = 6
    ACQUIRED = 7


class LoanStatus(IntEnum):
    """State of an enterprise's single bank loan."""

    NONE = 0
    PERFORMING = 1
    NON_PERFORMING = 2


class FinanceState(IntEnum):
    """Outcome of the enterprise's last request for external finance."""

    NONE = 0
    FUNDED = 1
    REFUSED = 2


class CreditDecision(IntEnum):
    """One bank's decision on an enterprise's last loan application."""

    NONE = 0  # never asked
    APPROVED = 1  # offered a loan (the firm takes the cheapest offer)
    REFUSED = 2


def enum_names(enum: type[IntEnum]) -> list[str]:
    """Lower-case member names in code order: the categories of an enum column."""
    return [member.name.lower() for member in sorted(enum)]


class Product(IntEnum):
    """Loan products (§五(二), §六(二)2); a loan's `product` column holds the code."""

    COLLATERAL = 0  # collateral-based working-capital loan, all tiers
    CREDIT_HISTORY = 1  # unsecured loan on financial history, all tiers
    IP_PLEDGE = 2  # 知识产权质押
    INVESTMENT_LINKED = 3  # 投贷联动 / 以投定贷: sized by the latest equity round
    SUPPLY_CHAIN = 4  # supply-chain finance against a chain leader's payables
    MNA = 5  # M&A loan to an acquirer
    TRADE_FINANCE = 6  # 订单融资, 发票融资, 应收账款保理 against the firm's own sales (§六(一)2)


#: Names of the active stages (seed to listed) and of the exits, in code order.
STAGES: tuple[str, ...] = tuple(s.name.lower() for s in Stage if s <= Stage.LISTED)
EXITS: tuple[str, ...] = tuple(s.name.lower() for s in Stage if s > Stage.LISTED)
#: Names of the loan products in code order (scenario files name products by these).
PRODUCTS: tuple[str, ...] = tuple(p.name.lower() for p in Product)
