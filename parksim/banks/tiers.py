"""Service tiers 1.0, 2.0 and 3.0 (§六): each a bundle of capabilities with its own cost.

- 1.0 (初阶, §六(一)): a branch, a cooperation agreement, collateral-based loans and basic
  retail. A weak tie (弱关联): it sees young firms' quality only through a short financial
  history, so its view is noisy until a firm has a track record (§五(二)).
- 2.0 (进阶, §六(二)): a data platform fed by the operator's tax, power and payroll data
  sharpens the view (§六(二)1); lifecycle products: IP pledge, 投贷联动, 以投定贷,
  warrants, supply-chain finance, listing incubation, wealth management (§六(二)2); group
  funds co-invest (§六(二)3); a specialised sub-branch with higher NPL tolerance (§六(二)4).
- 3.0 (高阶, §六(三)): 2.0 plus an ecosystem that lifts graduation (§六(三)1), cross-region
  deals (§六(三)2), park brand that lifts inflow (§六(三)3).

The numbers are modelling assumptions (the book gives no figures for them); their
direction follows the text cited above. A scenario changes any of them per tier in a
`[tiers."2.0"]` table (validated against TierSpec when the file loads).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from parksim.core.codes import PRODUCTS

Tier = Literal[1.0, 2.0, 3.0]
# The tiers' names (labels of §六, not magnitudes), lowest first.
TIERS: tuple[float, ...] = (1.0, 2.0, 3.0)

BASIC_PRODUCTS = ("collateral", "credit_history", "mna", "trade_finance")
LIFECYCLE_PRODUCTS = (*BASIC_PRODUCTS, "ip_pledge", "investment_linked", "supply_chain")


@dataclass(frozen=True)
class TierSpec:
    """Capabilities and costs of one service tier."""

    signal_noise: float = field(
        metadata={"min": 0.0, "help": "sd of the bank's view error on quality, young firm"}
    )
    history_quarters: float = field(
        metadata={
            "min": 0.0,
            "help": "track record (quarters) that halves the view variance; "
            "0 = the view does not depend on history",
        }
    )
    products: tuple[str, ...] = field(metadata={"help": f"loan products, from {PRODUCTS}"})
    max_expected_loss: float = field(
        metadata={"unit": "probability", "help": "highest annual expected-loss rate approved"}
    )
    fixed_cost: float = field(
        metadata={"non_negative": True, "help": "operating cost per quarter, 万元"}
    )
    cost_per_client: float = field(
        metadata={"non_negative": True, "help": "operating cost per client per quarter, 万元"}
    )
    attraction: float = field(
        metadata={"exclusive_min": 0.0, "help": "weight in a new firm's choice of main bank"}
    )
    graduation_uplift: float = field(
        metadata={"min": 0.0, "help": "graduation-hazard multiplier for the bank's clients"}
    )
    acquisition_uplift: float = field(
        metadata={"min": 0.0, "help": "acquisition-hazard multiplier (cross-region deals)"}
    )
    inflow_uplift: float = field(
        metadata={"min": 0.0, "help": "park entry-rate multiplier (brand, alliances)"}
    )
    entrant_quality: float = field(metadata={"help": "shift of entrants' mean quality"})
    wealth_capture: float = field(
        metadata={"unit": "share", "help": "share of a client founder's listing wealth managed"}
    )
    fund_coinvest: bool = field(metadata={"help": "group funds co-invest in clients' rounds"})
    warrant_coverage: float = field(
        metadata={
            "unit": "share",
            "help": "warrant notional / loan amount on growth and pre-IPO loans (认股权贷款); "
            "venture-debt practice 2-20%",
        }
    )
    advisory: bool = field(metadata={"help": "arranges REITs (earns the REIT arrangement fee)"})
    deposit_share: float = field(
        default=0.10,
        metadata={
            "unit": "share",
            "help": "settlement deposits a client keeps at its main bank / annual revenue",
        },
    )
    advisory_capture: float = field(
        default=1.0,
        metadata={
            "unit": "share",
            "help": "share of clients' IPO and M&A advisory mandates the main bank wins",
        },
    )
    single_name_limit: float = field(
        default=0.15,
        metadata={
            "exclusive_min": 0.0,
            "max": 1.0,
            "unit": "share",
            "help": "largest exposure to one client (an enterprise, or the operator's "
            "development loans) / the tier-1 capital allocated to the park business "
            "(商业银行大额风险暴露管理办法, CBIRC 2018: a non-bank single client at most "
            "15 % of tier-1 capital)",
        },
    )
    tier1_capital_ratio: float = field(
        default=0.11,
        metadata={
            "exclusive_min": 0.0,
            "max": 1.0,
            "unit": "share",
            "help": "tier-1 capital the bank allocates to the park business / the business's "
            "risk-weighted assets at the last close (its capital requirement / 8 %); "
            "商业银行资本管理办法 2023: tier-1 minimum 6 % + conservation buffer 2.5 %; "
            "Chinese commercial banks held about 11 % (range in assumptions.toml)",
            "source": "assumption (range in assumptions.toml)",
        },
    )
    sector_limit: float = field(
        default=0.45,
        metadata={
            "exclusive_min": 0.0,
            "max": 1.0,
            "help": "largest exposure to one sector / the bank's park book",
        },
    )
    upgrade_investment: float = field(
        default=0.0,
        metadata={
            "min": 0.0,
            "unit": "万元",
            "help": "one-off cost of reaching this tier from the one below",
            "source": "assumption (range in assumptions.toml)",
        },
    )
    ramp_quarters: int = field(
        default=4,
        metadata={
            "min": 0,
            "max": 40,
            "unit": "quarters",
            "help": "quarters over which this tier's capabilities phase in after a move to "
            "it, where the change gives none (0: at once): a year to staff the sub-branch and "
            "feed the platform",
            "source": "assumption (range in assumptions.toml)",
        },
    )
    margin_cut: float = field(
        default=0.0,
        metadata={
            "min": 0.0,
            "max": 1.0,
            "unit": "per year",
            "help": "cut to lending.margin on the bank's loan offers (a price response); "
            "0 at every tier: banks price at the common margin unless a competitor "
            "follows the focal bank with BankSpec.follow_margin_cut (docs/model.md §7.12)",
        },
    )

    def __post_init__(self) -> None:
        unknown = sorted(set(self.products) - set(PRODUCTS))
        if unknown:
            raise ValueError(f"unknown loan products {unknown}; expected some of {PRODUCTS}")


# Each tier's parameter defaults: modelling assumptions (the module docstring), each changed
# by a scenario as tiers."x.0".<field> and ranged in parksim/data/assumptions.toml.
TIER_SPECS: dict[float, TierSpec] = {
    1.0: TierSpec(
        signal_noise=2.0,
        history_quarters=12.0,
        products=BASIC_PRODUCTS,
        # Calibrated to small-firm access to bank credit in China (docs/model.md §7.5):
        # under all-1.0 about a fifth of the park's seed-to-growth firms owe a bank.
        max_expected_loss=0.018,
        fixed_cost=150.0,
        cost_per_client=0.3,
        attraction=1.0,
        graduation_uplift=1.0,
        acquisition_uplift=1.0,
        inflow_uplift=1.0,
        entrant_quality=0.0,
        wealth_capture=0.10,
        fund_coinvest=False,
        warrant_coverage=0.0,
        advisory=False,
        advisory_capture=0.3,
    ),
    2.0: TierSpec(
        signal_noise=0.6,
        history_quarters=0.0,
        products=LIFECYCLE_PRODUCTS,
        max_expected_loss=0.025,
        # A specialised sub-branch (about 30 staff) and the platform's running cost (§六(二)1,
        # 4): about 2,400 万元 a year; balance-driven costs are in IncomeParams.
        fixed_cost=600.0,
        cost_per_client=0.5,
        attraction=1.6,
        graduation_uplift=1.10,
        acquisition_uplift=1.0,
        inflow_uplift=1.05,
        entrant_quality=0.05,
        wealth_capture=0.35,
        fund_coinvest=True,
        warrant_coverage=0.10,
        advisory=True,
        deposit_share=0.15,
        # A data platform fed by the operator's data and a specialised sub-branch (§六(二)1,
        # 4): plausibly 500-5,000 万元 for a city-level branch.
        upgrade_investment=2000.0,
    ),
    3.0: TierSpec(
        signal_noise=0.5,
        history_quarters=0.0,
        products=LIFECYCLE_PRODUCTS,
        max_expected_loss=0.028,
        fixed_cost=800.0,
        cost_per_client=0.5,
        attraction=2.0,
        graduation_uplift=1.30,
        acquisition_uplift=1.40,
        inflow_uplift=1.20,
        entrant_quality=0.15,
        wealth_capture=0.45,
        fund_coinvest=True,
        warrant_coverage=0.10,
        advisory=True,
        deposit_share=0.18,
        # The ecosystem, cross-region deal teams and the park brand (§六(三)): plausibly
        # 1,000-8,000 万元 more.
        upgrade_investment=3000.0,
    ),
}


def tier_spec(tier: float, overrides: dict[str, object] | None = None) -> TierSpec:
    """The default spec of `tier`, with scenario overrides applied."""
    return replace(TIER_SPECS[float(tier)], **(overrides or {}))


@dataclass(frozen=True)
class TierTable:
    """The banks' tier specs as arrays indexed by bank, made once per model.

    The loan market and the lifecycle read these every quarter; building them from the
    specs each time cost more than the arithmetic they feed at park sizes of a few hundred.
    Column arrays have shape (n_banks, 1) so they broadcast over applicants.
    """

    offered: np.ndarray  # (n_banks, n_products): whether the bank offers each product
    signal_noise: np.ndarray  # (n_banks, 1)
    history_quarters: np.ndarray  # (n_banks, 1)
    max_expected_loss: np.ndarray  # (n_banks, 1)
    single_name_limit: np.ndarray  # (n_banks, 1)
    sector_limit: np.ndarray  # (n_banks, 1)
    margin_cut: np.ndarray  # (n_banks, 1) annual rate
    graduation_uplift: np.ndarray  # (n_banks,)
    acquisition_uplift: np.ndarray  # (n_banks,)
    fund_coinvest: np.ndarray  # (n_banks,) bool
    brand: TierSpec  # the spec with the strongest park brand, which sets entry (§六(三)3)
    specs: tuple[TierSpec, ...]  # what the table was made from

    @classmethod
    def of(cls, specs: Sequence[TierSpec]) -> TierTable:
        def column(name: str) -> np.ndarray:
            return np.array([[getattr(spec, name)] for spec in specs], dtype=float)

        return cls(
            offered=np.array([[p in spec.products for p in PRODUCTS] for spec in specs]),
            signal_noise=column("signal_noise"),
            history_quarters=column("history_quarters"),
            max_expected_loss=column("max_expected_loss"),
            single_name_limit=column("single_name_limit"),
            sector_limit=column("sector_limit"),
            margin_cut=column("margin_cut"),
            graduation_uplift=column("graduation_uplift")[:, 0],
            acquisition_uplift=column("acquisition_uplift")[:, 0],
            fund_coinvest=np.array([spec.fund_coinvest for spec in specs]),
            brand=max(specs, key=lambda spec: spec.inflow_uplift),
            specs=tuple(specs),
        )
