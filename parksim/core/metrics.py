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
        "allocated_capital",
        "万元",
        "tier-1 capital allocated to the park business that the quarter's single-name limit "
        "is measured against: tiers.<t>.tier1_capital_ratio × risk-weighted assets (capital "
        "/ 8 %) at the previous close; 0 at quarter 0 (none allocated yet)",
        "risk",
    ),
    Column(
        "single_name_limit",
        "万元",
        "largest exposure allowed to one client (an enterprise or the operator): "
        "tiers.<t>.single_name_limit (15 %, 商业银行大额风险暴露管理办法 2018) × "
        "allocated_capital; 0 at quarter 0 (no limit yet)",
        "risk",
    ),
    Column(
        "largest_exposure_share",
        "share",
        "largest exposure to one name / park book incl. the operator's development loans "
        "(one name), NPLs net of booked loss",
        "risk",
    ),
    Column(
        "top10_exposure_share",
        "share",
        "ten largest exposures / park book (same basis, the operator one name)",
        "risk",
    ),
    Column(
        "hhi_exposure",
        "share²",
        "Herfindahl index of name shares of exposure (the operator one name)",
        "risk",
    ),
    Column(
        "sector_hhi",
        "share²",
        "Herfindahl index of sector shares of exposure (the operator's development loans "
        "one sector)",
        "risk",
    ),
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
        "capital on the equity stakes the bank holds itself: 8 % × 1,250 % of their "
        "cost (商业银行资本管理办法 2023); 0 at the default holder, the group",
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
        "interest_income",
        "万元",
        "interest received on performing enterprise loans and the operator's development loans",
        "revenue",
    ),
    Column(
        "ftp_charge",
        "万元",
        "funds-transfer-pricing charge: FTP rate (lending.funding_cost) × the loans funded "
        "(performing, NPLs and the operator's) and the bank's stakes at cost, / 4",
        "revenue",
    ),
    Column(
        "interest_expense",
        "万元",
        "interest paid on clients' deposits: demand × demand_deposit_rate + time × "
        "time_deposit_rate, / 4",
        "revenue",
    ),
    Column(
        "ftp_credit",
        "万元",
        "FTP credit on clients' deposits: demand × FTP rate + time × (FTP rate + "
        "time_ftp_premium), / 4",
        "revenue",
    ),
    Column(
        "net_interest_income",
        "万元",
        "interest_income − ftp_charge + ftp_credit − interest_expense (the FTP identity: the "
        "loans' and the deposits' margins)",
        "revenue",
    ),
    Column(
        "fee_settlement", "万元", "settlement and cash-management fees on client revenue", "revenue"
    ),
    Column("fee_bond", "万元", "bond underwriting fees (debt financing instruments)", "revenue"),
    Column(
        "fee_advisory",
        "万元",
        "the bank's IPO financial-advisory and M&A advisory fees",
        "revenue",
    ),
    Column("fee_reit", "万元", "REIT arrangement fees", "revenue"),
    Column(
        "fee_referral",
        "万元",
        "the bank's share of group affiliates' fees on mandates it referred (§六(二)4)",
        "revenue",
    ),
    Column(
        "fee_income",
        "万元",
        "fee_settlement + fee_bond + fee_advisory + fee_reit + fee_referral",
        "revenue",
    ),
    Column(
        "group_fee_income",
        "万元",
        "IPO sponsor and underwriting fees of the group's securities affiliate on the bank's "
        "clients (group income, not in the bank's revenue or net_profit)",
        "revenue",
    ),
    Column(
        "equity_income",
        "万元",
        "the bank's own gains on stakes and warrants, 0 unless group.holder = 'bank' (a "
        "commercial bank may not hold equity in non-financial firms, Commercial Bank Law "
        "art. 43). Stakes are realised at a listing once its lock-up ends "
        "(group.lockup_quarters), at an acquisition, at a relocation and at a failure: "
        "warrants exercised at the lock-up's end or an acquisition, lapsed at a relocation "
        "or failure; at a failure the stakes' cost is lost",
        "revenue",
    ),
    Column(
        "group_equity_income",
        "万元",
        "the group equity vehicle's realised income after tax: its share of the fund's "
        "gains, the warrants' gains, management fee and carry from the partner LPs, less the "
        "funding of its paid-in capital and 25 % tax (0 when the bank holds the equity)",
        "revenue",
    ),
    Column(
        "stakes_fair_value",
        "万元",
        "the holder's stakes and warrants marked to model at quarter end: (1 − illiquidity "
        "discount) × (1 − quarterly PD)^exit horizon × (share × stake × valuation + "
        "warrant intrinsic value)",
        "revenue",
    ),
    Column(
        "group_equity_fv_income",
        "万元",
        "fair-value view of the holder's equity: realised income (group_equity_income, or "
        "equity_income when the bank holds) + change in fair value less cost of the stakes held",
        "revenue",
    ),
    Column(
        "group_net_profit",
        "万元",
        "the group view: net_profit + group_equity_income + the securities affiliate's "
        "after-tax income on the bank's clients: (group_fee_income − fee_referral) × "
        "(1 − group.affiliate_cost_ratio) × (1 − group.tax_rate)",
        "revenue",
    ),
    Column(
        "personal_finance_income",
        "万元",
        "wealth-management and retail income from founders and staff",
        "revenue",
    ),
    Column(
        "demand_deposits", "万元", "clients' demand (settlement) deposits at quarter end", "revenue"
    ),
    Column(
        "time_deposits",
        "万元",
        "clients' time and negotiated deposits at quarter end",
        "revenue",
    ),
    Column("deposits", "万元", "demand_deposits + time_deposits", "revenue"),
    Column(
        "operating_cost",
        "万元",
        "all operating cost: the tier's fixed cost, cost per client, cost on loan and deposit "
        "balances, the head-office allocation and any tier-move investment",
        "revenue",
    ),
    Column(
        "head_office_cost",
        "万元",
        "head-office allocation: head_office_share × the direct operating cost (in operating_cost)",
        "revenue",
    ),
    Column(
        "investment",
        "万元",
        "one-off investment of a scheduled tier move, booked in its quarter (in operating_cost)",
        "revenue",
    ),
    Column(
        "pre_tax_profit",
        "万元",
        "revenue (net interest + fees + personal finance + equity income) − operating_cost "
        "− credit_loss",
        "revenue",
    ),
    Column(
        "tax",
        "万元",
        "income tax at tax_rate (25 %) × pre_tax_profit; negative for a loss (a credit "
        "against the bank's other profits, the management-accounts convention)",
        "revenue",
    ),
    Column("net_profit", "万元", "pre_tax_profit − tax: the bank's profit after tax", "revenue"),
    Column(
        "balance_sheet",
        "万元",
        "the park business's balance sheet: max(exposure + operator_exposure, deposits)",
        "revenue",
    ),
    Column(
        "cost_income_ratio",
        "share",
        "operating_cost / revenue of the quarter (0 when revenue ≤ 0)",
        "revenue",
    ),
    Column(
        "roa",
        "share/year",
        "4 × net_profit / balance_sheet: annualised after-tax return on the balance sheet",
        "revenue",
    ),
    Column(
        "pretax_roa",
        "share/year",
        "4 × pre_tax_profit / balance_sheet: annualised pre-tax return on the balance sheet",
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
