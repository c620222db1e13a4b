"""The time-series table: every column, its unit and its meaning.

One row per strategy × replication × quarter. Bank columns are the focal bank's.
Money is in 万元 (10,000 RMB) everywhere; flows are per quarter, stocks at quarter end.
This table is the single source for the docs (docs/columns.md) and for the charts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from parksim.core.codes import EXITS, STAGES
from parksim.core.sectors import SECTOR_NAMES

#: Units that count things: their columns hold integers.
COUNT_UNITS: tuple[str, ...] = ("firms", "loans", "0/1")
#: Units of columns that hold words (a model's name): their columns hold strings.
TEXT_UNITS: tuple[str, ...] = ("heavy/light",)


@dataclass(frozen=True)
class Column:
    """One column of the time-series table."""

    name: str
    unit: str
    description: str
    group: str  # "key", "park", "risk", "revenue", "operator", "policy"

    @property
    def dtype(self) -> np.dtype:
        """numpy dtype of a metric column: int64 for counts, object (str) for words,
        float64 for everything else."""
        if self.unit in TEXT_UNITS:
            return np.dtype(object)
        return np.dtype(np.int64 if self.unit in COUNT_UNITS else np.float64)


def _stage_columns(prefix: str, unit: str, text: str, group: str) -> list[Column]:
    return [Column(f"{prefix}_{s}", unit, text.format(stage=s), group) for s in STAGES]


COLUMNS: tuple[Column, ...] = (
    Column("strategy", "-", "strategy name from the scenario file", "key"),
    Column("replication", "-", "replication index, 0-based; same seed across strategies", "key"),
    Column(
        "quarter",
        "quarter",
        "quarter index: 0 = the park at the start (flows are zero), 1 = end of the first quarter",
        "key",
    ),
    *[
        Column(f"n_{s}", "firms", f"enterprises in stage {s} at quarter end", "park")
        for s in (*STAGES, *EXITS)
    ],
    Column("entries", "firms", "new enterprises that entered the park this quarter", "park"),
    Column("listings", "firms", "enterprises that listed (IPO) this quarter", "park"),
    Column("failures", "firms", "enterprises that failed this quarter", "park"),
    Column("n_chain_leaders", "firms", "chain leaders (链主) active in the park", "park"),
    Column("output", "万元/quarter", "revenue of all active enterprises this quarter", "park"),
    Column(
        "focal_tier",
        "tier",
        "the focal bank's service tier in force: the strategy's bank_tier, a scheduled "
        "move's new tier from its quarter",
        "risk",
    ),
    Column("exposure", "万元", "focal bank's enterprise-loan balance, performing + NPL", "risk"),
    Column("new_loans", "万元", "enterprise loans drawn from the focal bank this quarter", "risk"),
    Column("repayments", "万元", "principal repaid to the focal bank this quarter", "risk"),
    Column(
        "written_off",
        "万元",
        "defaulted balances removed from the book after the workout period",
        "risk",
    ),
    Column("defaults", "loans", "focal-bank loans that defaulted this quarter", "risk"),
    Column("defaulted_exposure", "万元", "balance of the loans that defaulted", "risk"),
    Column(
        "npl_balance", "万元", "non-performing balance (defaulted, not yet written off)", "risk"
    ),
    Column("npl_ratio", "share", "npl_balance / exposure (0 when exposure is 0)", "risk"),
    Column("borrowers", "firms", "enterprises with a loan from the focal bank", "risk"),
    Column(
        "credit_loss",
        "万元",
        "defaulted exposure × LGD less risk-pool and guarantee recoveries",
        "risk",
    ),
    Column(
        "policy_recoveries", "万元", "risk-pool and guarantee payments to the focal bank", "risk"
    ),
    Column(
        "collateral_recoveries",
        "万元",
        "part of the defaulted balance not lost: defaulted exposure × (1 − LGD)",
        "risk",
    ),
    Column("expected_loss", "万元", "one-quarter expected loss of the performing book", "risk"),
    Column("operator_exposure", "万元", "focal bank's development loans to the operator", "risk"),
    Column(
        "macro_factor",
        "standard normal",
        "the quarter's macro credit factor Z (AR(1), N(0, 1) each quarter; low = bad); 0 at "
        "quarter 0",
        "risk",
    ),
    *_stage_columns("exposure", "万元", "focal bank's exposure to {stage} enterprises", "risk"),
    *_stage_columns(
        "borrowers", "firms", "focal-bank borrowers in stage {stage} at quarter start", "risk"
    ),
    *_stage_columns(
        "defaults", "loans", "defaults this quarter among focal-bank {stage} borrowers", "risk"
    ),
    *_stage_columns(
        "default_rate",
        "share per quarter",
        "quarterly default rate, defaults_{stage} / borrowers_{stage}: defaults this quarter "
        "over borrowers at quarter start (0 when there are none; about a quarter of an annual "
        "rate)",
        "risk",
    ),
    Column(
        "sold_down",
        "万元",
        "balance sold (performing at par, NPLs at net value) to keep names within the limit",
        "risk",
    ),
    Column(
        "largest_exposure_share",
        "share",
        "largest exposure to one borrower / park book, NPLs net of booked loss",
        "risk",
    ),
    Column(
        "top10_exposure_share", "share", "ten largest exposures / park book (same basis)", "risk"
    ),
    Column("hhi_exposure", "share²", "Herfindahl index of borrower shares of exposure", "risk"),
    Column("sector_hhi", "share²", "Herfindahl index of sector shares of exposure", "risk"),
    *[
        Column(
            f"exposure_{sector}", "万元", f"focal bank's exposure to the {sector} sector", "risk"
        )
        for sector in SECTOR_NAMES
    ],
    Column(
        "capital_irb",
        "万元",
        "Basel IRB capital on the performing book from the bank's own PD estimates",
        "risk",
    ),
    Column(
        "capital_operational",
        "万元",
        "operational-risk capital, basic indicator approach: 15 % of annual gross income "
        "(mean of the last 12 quarters)",
        "risk",
    ),
    Column(
        "capital_equity",
        "万元",
        "capital on the bank's equity stakes: 8 % × 400 % of their cost",
        "risk",
    ),
    Column(
        "capital_operator",
        "万元",
        "capital on the development loans to the operator: 8 % × 100 %",
        "risk",
    ),
    Column(
        "capital",
        "万元",
        "capital_irb + capital_operational + capital_equity + capital_operator",
        "risk",
    ),
    Column(
        "granularity_adjustment",
        "万元",
        "single-name capital add-on (Gordy & Lütkebohmert 2013 simplified GA)",
        "risk",
    ),
    Column(
        "net_interest_income",
        "万元",
        "interest on performing loans (enterprises and operator) less their funding cost, "
        "less the funding cost of NPLs and of the banks' paid-for equity stakes",
        "revenue",
    ),
    Column(
        "fee_income",
        "万元",
        "settlement, advisory, bond, IPO, M&A and REIT arrangement fees",
        "revenue",
    ),
    Column(
        "equity_income",
        "万元",
        "gains on stakes realised this quarter: at a listing or an acquisition, warrants "
        "exercised and fund stakes sold at the exit value; at a relocation, fund stakes sold "
        "at the last valuation and warrants lapsed; at a failure, stakes written off (a "
        "loss of their cost)",
        "revenue",
    ),
    Column(
        "personal_finance_income",
        "万元",
        "wealth-management and retail income from founders and staff",
        "revenue",
    ),
    Column(
        "deposit_income",
        "万元",
        "spread on clients' settlement deposits: deposits × (funding_cost − deposit_rate) / 4",
        "revenue",
    ),
    Column("deposits", "万元", "clients' settlement deposits at the focal bank", "revenue"),
    Column(
        "operating_cost",
        "万元",
        "cost of running the tier's service model, with any tier-move investment",
        "revenue",
    ),
    Column(
        "investment",
        "万元",
        "one-off investment of a scheduled tier move, booked in its quarter (in operating_cost)",
        "revenue",
    ),
    Column(
        "net_profit",
        "万元",
        "net interest + fees + equity + personal finance + deposit income − operating cost "
        "− credit loss",
        "revenue",
    ),
    Column(
        "raroc",
        "share/year",
        "4 × net_profit / capital: annualised return on the park business's capital "
        "(0 without capital)",
        "revenue",
    ),
    Column("operator_revenue", "万元", "operator's revenue this quarter", "operator"),
    Column(
        "operator_equity_income",
        "万元",
        "operator's gains on tenant stakes and park-fund stakes realised this quarter",
        "operator",
    ),
    Column("operator_leverage", "share", "operator's debt / total assets", "operator"),
    Column(
        "operator_asset_model",
        "heavy/light",
        "the operator's asset model in force at quarter end: the strategy's operator_model, "
        "an adaptive operator's REIT conversion or a scheduled move changes it (named apart "
        "from the operator_model keyword, which mesa.batch_run rows also carry)",
        "operator",
    ),
    Column(
        "operator_in_default",
        "0/1",
        "1 when the operator's development loans defaulted this quarter or are in workout",
        "operator",
    ),
    Column("occupancy", "share", "occupied floor area / park floor area", "operator"),
    Column(
        "fiscal_pool_paid",
        "万元",
        "risk-compensation pool payouts this quarter, to all banks",
        "policy",
    ),
    Column(
        "fiscal_guarantee_paid",
        "万元",
        "government guarantee payouts this quarter, to all banks",
        "policy",
    ),
    Column(
        "fiscal_subsidy_cost",
        "万元",
        "interest subsidy (贴息) paid this quarter on performing loans to seed, startup and "
        "growth firms, all banks",
        "policy",
    ),
    Column(
        "pool_remaining",
        "万元",
        "capital left in the risk-compensation pool at quarter end (it is not refilled)",
        "policy",
    ),
    Column(
        "young_new_loans",
        "万元",
        "new loans to seed and startup firms this quarter, all banks",
        "policy",
    ),
)

COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
METRIC_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.group != "key")


def metric_arrays(records: Sequence[dict[str, Any]]) -> dict[str, np.ndarray]:
    """Per-quarter records (dicts keyed by METRIC_NAMES) as one typed numpy array per metric.

    The runner uses this instead of a DataFrame per model run: it is several times faster
    and the dtypes never depend on the values (a count is int64 even when a quarter's
    value arrived as a float), so tables assembled from any chunking are identical.
    """
    n = len(records)
    return {
        c.name: np.fromiter((r[c.name] for r in records), dtype=c.dtype, count=n)
        for c in COLUMNS
        if c.group != "key"
    }


def column(name: str) -> Column:
    """Look up one column's unit and description by name."""
    for c in COLUMNS:
        if c.name == name:
            return c
    raise KeyError(f"no time-series column named {name!r}")


def markdown_table() -> str:
    """COLUMNS as Markdown: one heading and one table (column, unit, meaning) per group.

    Groups come in the order they first appear in COLUMNS. docs/columns.md embeds this
    output verbatim between its markers, and tests/test_docs.py keeps the two equal.
    """
    titles = {
        "key": "Keys",
        "park": "Park",
        "risk": "Risk (focal bank)",
        "revenue": "Revenue (focal bank)",
        "operator": "Operator",
        "policy": "Policy and fiscal cost (all banks)",
    }
    groups: dict[str, list[Column]] = {}
    for c in COLUMNS:
        groups.setdefault(c.group, []).append(c)
    parts = []
    for group, columns in groups.items():
        lines = [f"### {titles.get(group, group.capitalize())}", ""]
        lines += ["| column | unit | meaning |", "| --- | --- | --- |"]
        for c in columns:
            # A "|" inside a cell would end it.
            unit, meaning = (text.replace("|", r"\|") for text in (c.unit, c.description))
            lines.append(f"| `{c.name}` | {unit} | {meaning} |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"
