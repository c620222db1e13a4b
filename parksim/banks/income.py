"""Non-interest income: fees, equity and fund gains, personal finance.

Fee income mixes what every tier earns (settlement, bond underwriting, §六(一)2) with
what only an advisory-capable 2.0+ bank earns (IPO, M&A and REIT arrangement, §六(二)2).
Equity income comes from group-fund stakes and warrants, realised when a firm lists, is
acquired, relocates or fails (a loss). Personal finance follows founders' wealth after
listing and lock-up (§六(二)2 三) plus everyday retail banking of client firms' staff.
Rates are assumptions in the range of Chinese bank tariffs; the fee share they give
(≈10-15% of revenue for a 1.0 bank) is near the 13% of large state banks (CBA 2024).
"""

from __future__ import annotations

from dataclasses import dataclass, field

SHARE = {"unit": "share"}


@dataclass(frozen=True)
class IncomeParams:
    """Fee rates, exit valuations and personal-finance margins."""

    settlement_fee: float = field(
        default=0.0005, metadata={**SHARE, "help": "annual settlement fees / client revenue"}
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
    bond_fee: float = field(default=0.004, metadata={**SHARE, "help": "underwriting fee"})
    ipo_fee: float = field(default=0.015, metadata={**SHARE, "help": "IPO advisory fee / proceeds"})
    ipo_float: float = field(
        default=0.25, metadata={**SHARE, "help": "IPO proceeds / listing valuation"}
    )
    mna_fee: float = field(default=0.01, metadata={**SHARE, "help": "M&A advisory fee / price"})
    reit_fee: float = field(default=0.005, metadata={**SHARE, "help": "REIT arrangement fee"})
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
