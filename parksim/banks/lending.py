"""The loan market: who asks for a loan, what each bank offers, who lends.

Every bank prices every applicant from its own view of quality (tier-dependent noise),
caps the loan by what its products can secure, and approves when the expected-loss rate
after policy cover fits its appetite. The applicant takes the cheapest offer; ties go to
its main bank. Offers, choice and booking are compiled loops over banks × applicants
(numba): at a few hundred applicants numpy's per-call cost was most of a quarter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numba import njit

from parksim.banks.book import LoanColumns
from parksim.banks.risk import irb_terms
from parksim.core.codes import LoanStatus, Product, Stage
from parksim.core.population import EnterprisePopulation, stage_table
from parksim.core.streams import FirmStreams, Mechanism
from parksim.core.units import QUARTERS_PER_YEAR
from parksim.credit import CreditParams, secured_lgd
from parksim.enterprises.lifecycle import LifecycleParams, firm_failure_pd, quality_factor

if TYPE_CHECKING:
    from parksim.banks.tiers import TierTable
    from parksim.core.sectors import SectorArrays
    from parksim.policy import PolicyPackage

PROB = {"unit": "probability"}
RATE = {"min": 0.0, "max": 1.0}  # annual interest rates, as fractions
AMOUNT = {"non_negative": True}
N_PRODUCTS = len(Product)


@dataclass(frozen=True)
class LendingParams:
    """Loan demand, product limits and pricing; stage tuples run seed → listed."""

    base_rate: float = field(
        default=0.0345, metadata={**RATE, "help": "1-year LPR, early 2024 (PBOC)"}
    )
    funding_cost: float = field(
        default=0.018, metadata={**RATE, "help": "bank's annual funding cost (assumption)"}
    )
    margin: float = field(
        default=0.001466,  # calibrated: inclusive small-business loan rate
        metadata={**RATE, "help": "annual spread over LPR + expected loss"},
    )
    max_rate: float = field(
        default=0.08, metadata={**RATE, "help": "highest annual loan rate a bank charges"}
    )
    loan_term_quarters: int = field(
        default=8, metadata={"min": 1, "help": "term of an enterprise loan, amortised evenly"}
    )
    demand: tuple[float, ...] = field(
        default=(0.12, 0.15, 0.18, 0.15, 0.10),
        metadata={**PROB, "help": "quarterly probability a firm without a loan seeks one"},
    )
    need_ratio: tuple[float, ...] = field(
        default=(0.5, 0.4, 0.3, 0.25, 0.2),
        metadata={**AMOUNT, "help": "loan sought / annual revenue, by stage"},
    )
    ltv: float = field(default=0.6, metadata={**PROB, "help": "loan-to-collateral value"})
    credit_history_ratio: float = field(
        default=0.2, metadata={**AMOUNT, "help": "unsecured loan / revenue, with a track record"}
    )
    credit_history_quarters: int = field(
        default=12, metadata={"min": 0, "help": "track record needed for an unsecured loan"}
    )
    ip_pledge_ratio: float = field(
        default=0.3, metadata={**PROB, "help": "IP-pledge loan / IP value (§四(二))"}
    )
    investment_linked_ratio: float = field(
        default=0.3, metadata={**AMOUNT, "help": "以投定贷 loan / latest equity round"}
    )
    investment_window_quarters: int = field(
        default=8, metadata={"min": 0, "help": "how recent a round must be for 以投定贷"}
    )
    supply_chain_ratio: float = field(
        default=0.3, metadata={**AMOUNT, "help": "supply-chain loan / supplier's revenue"}
    )
    trade_finance_ratio: float = field(
        default=0.15,
        metadata={
            **AMOUNT,
            "help": "order, invoice and receivables finance (订单融资, 发票融资, 保理) / revenue",
        },
    )
    outside_rate: float = field(
        default=0.138,
        metadata={
            **RATE,
            "help": "annual cost of funding the part of a need no bank lends "
            "(4 × LPR, the cap on protected private lending)",
        },
    )
    min_loan: float = field(default=10.0, metadata={**AMOUNT, "help": "smallest loan, 万元"})
    max_debt_service: float = field(
        default=0.3,
        metadata={
            **AMOUNT,
            "help": "highest first-year debt service (interest + principal) / annual revenue",
        },
    )
    mna_term_quarters: int = field(
        default=20,
        metadata={"min": 1, "help": "term of an M&A loan (CBIRC 2015 guideline: ≤ 7 years)"},
    )
    rate_elasticity: float = field(
        default=10.0, metadata={"min": 0.0, "help": "demand change per unit of rate cut"}
    )
    sector_headroom: float = field(
        default=1.5,
        metadata={
            "unit": "multiple of the sector's share of the park's firms",
            "min": 0.0,
            "help": "a bank may hold this multiple of a sector's share of the park's firms "
            "in that sector, whatever its sector_limit: a specialised park's book (BioBAY "
            "is 90 % biomedicine) is specialised by construction",
            "source": "assumption (range in assumptions.toml)",
        },
    )
    mna_in_park_share: float = field(
        default=0.5,
        metadata={
            "unit": "probability",
            "help": "share of acquisitions whose buyer is a chain leader inside the park, "
            "which may seek an M&A loan (§三(二)3); outsiders buy the rest",
            "source": "assumption (range in assumptions.toml)",
        },
    )


class Offers(NamedTuple):
    """Every bank's offer to every applicant: arrays of shape (n_banks, n_applicants), and
    what the offers were for (one entry per applicant)."""

    approved: np.ndarray
    amount: np.ndarray
    rate: np.ndarray
    lgd: np.ndarray
    annual_pd: np.ndarray  # the bank's own estimate
    product: np.ndarray  # int8 `Product` code of the product that lends most
    posterior_mean: np.ndarray  # the bank's posterior mean of the applicant's quality
    cover: np.ndarray  # (n_applicants,) policy cover of each loan's loss
    term: np.ndarray  # (n_applicants,) loan term, quarters
    need: np.ndarray  # (n_applicants,) what each applicant asked for, 万元


def guarantee_cover(stage: np.ndarray, policy: PolicyPackage) -> np.ndarray:
    """Share of a defaulted loan's loss the government guarantor takes, by stage."""
    return np.where(stage <= Stage.GROWTH, policy.guarantee_share, 0.0)


def applications(
    pop: EnterprisePopulation,
    rows: np.ndarray | slice,
    params: LendingParams,
    policy: PolicyPackage,
    streams: FirmStreams,
    quarter: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Active firms among `rows` that seek a loan in `quarter`, and how much (万元).

    Only firms without a loan apply. Interest subsidies raise demand for eligible (young)
    firms, guarantee fees cut it. Each firm's draw is its own (`Mechanism.LOAN_DEMAND`).
    """
    cost_cut = policy.interest_subsidy - policy.guarantee_fee * policy.guarantee_share
    demand = stage_table(params.demand).copy()
    demand[: Stage.GROWTH + 1] *= max(0.0, 1.0 + params.rate_elasticity * cost_cut)
    seekers = streams.seekers(
        Mechanism.LOAN_DEMAND,
        quarter,
        pop.stream_id,
        pop.stage,
        demand,
        rows,
        engaged=pop.loan_status,
        replication=pop.replication,
    )
    return seekers, stage_table(params.need_ratio)[pop.stage[seekers]] * pop.size[seekers]


class ApplicantColumns(NamedTuple):
    """The population columns a bank reads of a loan applicant (indexed by row)."""

    stage: np.ndarray
    sector: np.ndarray
    entered_quarter: np.ndarray
    quality: np.ndarray
    quality_prior: np.ndarray
    signal_error: np.ndarray  # (rows, n_banks)
    size: np.ndarray  # annual revenue, 万元
    collateral: np.ndarray
    ip_value: np.ndarray
    last_round_quarter: np.ndarray
    last_round_size: np.ndarray
    leader_row: np.ndarray
    replication: np.ndarray

    @classmethod
    def of(cls, pop: EnterprisePopulation) -> ApplicantColumns:
        return cls(*(getattr(pop, name) for name in cls._fields))


class ProductTerms(NamedTuple):
    """What each product lends against (§五(二), §六(一)2, §六(二)2), and the policy cover."""

    ltv: float
    credit_history_ratio: float
    credit_history_quarters: int
    ip_pledge_ratio: float
    investment_linked_ratio: float
    investment_window_quarters: int
    supply_chain_extra: float  # supply-chain line above trade finance, / revenue
    trade_finance_ratio: float
    failure_pd: np.ndarray  # quarterly hazard by stage
    sector_failure: np.ndarray  # hazard multiplier by sector code
    eligible_cover: float  # guarantee + risk pool share of a young firm's loss
    guarantee_share: float

    @classmethod
    def of(
        cls,
        lending: LendingParams,
        lifecycle: LifecycleParams,
        sectors: SectorArrays,
        policy: PolicyPackage,
    ) -> ProductTerms:
        guarantee = policy.guarantee_share
        return cls(
            ltv=lending.ltv,
            credit_history_ratio=lending.credit_history_ratio,
            credit_history_quarters=lending.credit_history_quarters,
            ip_pledge_ratio=lending.ip_pledge_ratio,
            investment_linked_ratio=lending.investment_linked_ratio,
            investment_window_quarters=lending.investment_window_quarters,
            # Supply-chain finance extends trade finance to supply_chain_ratio of revenue,
            # against the chain leader's payables; a bank offering both lends the larger.
            supply_chain_extra=max(0.0, lending.supply_chain_ratio - lending.trade_finance_ratio),
            trade_finance_ratio=lending.trade_finance_ratio,
            failure_pd=stage_table(lifecycle.failure_pd),
            sector_failure=sectors.failure,
            eligible_cover=guarantee + (1.0 - guarantee) * policy.risk_pool_share,
            guarantee_share=guarantee,
        )


class Applicants(NamedTuple):
    """What every bank looks at in this quarter's loan applicants, computed once (one
    entry per applicant); the offers' kernel reads it as it is."""

    rows: np.ndarray
    need: np.ndarray  # 万元
    stage: np.ndarray
    age: np.ndarray  # quarters since entry
    quality: np.ndarray  # latent; each bank sees it through its own error
    signal_error: np.ndarray  # (n, n_banks) standard-normal view errors
    base_pd: np.ndarray  # quarterly failure hazard of the applicant's stage
    sector_failure: np.ndarray  # its sector's failure-hazard multiplier
    limits: np.ndarray  # (len(Product), n) what each product could lend, 万元
    cover: np.ndarray  # policy cover of each applicant's loss
    guarantee: np.ndarray  # the part of `cover` the guarantor pays (the rest is the pool's)
    prior: np.ndarray  # mean quality of the applicant's cohort: the banks' prior mean
    revenue: np.ndarray  # annual revenue, 万元
    sector: np.ndarray  # sector code
    term: np.ndarray  # term of the loan sought, quarters
    replication: np.ndarray  # the applicant's replication: its banks are the batch's
    # banks replication × n_banks + 0 .. n_banks - 1 (n_banks: a park's banks)

    @classmethod
    def of(
        cls,
        pop: EnterprisePopulation,
        rows: np.ndarray,
        need: np.ndarray,
        quarter: int,
        lending: LendingParams,
        lifecycle: LifecycleParams,
        sectors: SectorArrays,
        policy: PolicyPackage,
    ) -> Applicants:
        rows = np.asarray(rows, np.int64)
        need = np.asarray(need, np.float64)
        term = np.full(len(rows), lending.loan_term_quarters)
        terms = ProductTerms.of(lending, lifecycle, sectors, policy)
        return _applicant_view(rows, need, term, quarter, ApplicantColumns.of(pop), terms)


@njit(cache=True)
def _applicant_view(
    rows: np.ndarray,
    need: np.ndarray,
    term: np.ndarray,
    quarter: int,
    firms: ApplicantColumns,
    terms: ProductTerms,
) -> Applicants:
    """What the banks see of each applicant (`Applicants`) and what each product could
    lend it (§五(二): collateral and a track record for a 1.0 bank; §六(二)2: IP pledge,
    以投定贷 and supply-chain finance for a 2.0 bank; §六(一)2: trade finance). M&A loans
    are sought at acquisitions, not on application. Policy cover (guarantee, risk pool) is
    for seed to growth firms."""
    n, n_banks = len(rows), firms.signal_error.shape[1]
    stage = np.empty(n, dtype=firms.stage.dtype)
    age = np.empty(n, dtype=firms.entered_quarter.dtype)
    quality, prior, revenue = np.empty(n), np.empty(n), np.empty(n)
    errors = np.empty((n, n_banks))
    sector = np.empty(n, dtype=firms.sector.dtype)
    base_pd, sector_failure = np.empty(n), np.empty(n)
    cover, guarantee = np.empty(n), np.empty(n)
    limits = np.zeros((N_PRODUCTS, n))
    replication = np.empty(n, dtype=firms.replication.dtype)
    for k in range(n):
        i = rows[k]
        replication[k] = firms.replication[i]
        s, revenue_i = firms.stage[i], firms.size[i]
        stage[k], sector[k] = s, firms.sector[i]
        age[k] = quarter - firms.entered_quarter[i]
        quality[k], prior[k], revenue[k] = firms.quality[i], firms.quality_prior[i], revenue_i
        for b in range(n_banks):
            errors[k, b] = firms.signal_error[i, b]
        base_pd[k], sector_failure[k] = terms.failure_pd[s], terms.sector_failure[sector[k]]
        young = s <= Stage.GROWTH
        cover[k] = terms.eligible_cover if young else 0.0
        guarantee[k] = terms.guarantee_share if young else 0.0
        track_record = age[k] >= terms.credit_history_quarters and s >= Stage.GROWTH
        last = firms.last_round_quarter[i]
        recent = last >= 0 and quarter - last <= terms.investment_window_quarters
        leader = firms.leader_row[i]
        supported = leader >= 0 and firms.stage[leader] <= Stage.LISTED  # still in the park
        limits[Product.COLLATERAL, k] = terms.ltv * firms.collateral[i]
        if track_record:
            limits[Product.CREDIT_HISTORY, k] = terms.credit_history_ratio * revenue_i
        if young:
            limits[Product.IP_PLEDGE, k] = terms.ip_pledge_ratio * firms.ip_value[i]
        if recent:
            limits[Product.INVESTMENT_LINKED, k] = (
                terms.investment_linked_ratio * firms.last_round_size[i]
            )
        if supported:
            limits[Product.SUPPLY_CHAIN, k] = terms.supply_chain_extra * revenue_i
        if s >= Stage.STARTUP:
            limits[Product.TRADE_FINANCE, k] = terms.trade_finance_ratio * revenue_i
    return Applicants(
        rows, need, stage, age, quality, errors, base_pd, sector_failure, limits, cover,
        guarantee, prior, revenue, sector, term, replication,
    )  # fmt: skip


@dataclass(frozen=True)
class BookState:
    """Each bank's park book when it makes offers: what its limits are measured against."""

    exposure: np.ndarray  # (n_banks, 1) enterprise-loan balance, 万元
    by_sector: np.ndarray  # (n_banks, n_sectors) the same by the borrowers' sector, 万元
    # share of the pool's cover the banks count on, one per replication (a float: all)
    pool_availability: np.ndarray | float = 1.0
    sector_mix: np.ndarray | None = None  # (n_sectors,) the park's share of firms by sector
    # (n_banks,) largest exposure each bank may take to one client (`Bank.name_cap`), 万元;
    # None or inf: no single-name limit
    name_cap: np.ndarray | None = None


def debt_capacity(applicants: Applicants, lending: LendingParams) -> np.ndarray:
    """The largest loan each applicant can service (万元): its first-year debt service,
    principal over the term plus interest at the pre-risk rate, at most
    `max_debt_service` of its annual revenue."""
    return _debt_capacity(
        applicants.term,
        applicants.revenue,
        lending.base_rate,
        lending.margin,
        lending.max_debt_service,
    )


class BankTerms(NamedTuple):
    """Each bank's tier as an underwriter (one entry, or row, per bank)."""

    offered: np.ndarray  # (n_banks, len(Product)) whether its tier has the product
    signal_noise: np.ndarray
    history_quarters: np.ndarray
    max_expected_loss: np.ndarray
    single_name_limit: np.ndarray
    sector_limit: np.ndarray
    margin_cut: np.ndarray  # annual rate off `margin` (a competitor's price response)

    @classmethod
    def of(cls, tiers: TierTable, n_banks: int) -> BankTerms:
        """The first `n_banks` rows of the table: a park's banks. In a batch every
        replication's banks have these tiers (moves are scheduled, the same in each)."""
        park = slice(0, n_banks)
        return cls(
            offered=tiers.offered[park],
            signal_noise=tiers.signal_noise[park, 0],
            history_quarters=tiers.history_quarters[park, 0],
            max_expected_loss=tiers.max_expected_loss[park, 0],
            single_name_limit=tiers.single_name_limit[park, 0],
            sector_limit=tiers.sector_limit[park, 0],
            margin_cut=tiers.margin_cut[park, 0],
        )


class BookLimits(NamedTuple):
    """Each bank's book as its large-exposure and sector limits see it."""

    with_book: bool  # False for the opening book: no limits apply
    exposure: np.ndarray  # (all banks,) 万元: indexed by bank in the batch
    by_sector: np.ndarray  # (all banks, n_sectors) 万元
    pool_availability: np.ndarray  # (replications,) or one entry for every replication
    sector_mix: np.ndarray  # (n_sectors,) the park's share of firms; empty if unknown
    sector_headroom: float
    name_cap: np.ndarray  # (n_banks,) single-name cap, 万元 (inf: none)

    @classmethod
    def of(cls, book: BookState | None, n_banks: int, lending: LendingParams) -> BookLimits:
        none = np.full(n_banks, np.inf)
        if book is None:
            return cls(
                False,
                np.zeros(n_banks),
                np.zeros((n_banks, 1)),
                np.ones(1),
                np.zeros(0),
                0.0,
                none,
            )
        mix = book.sector_mix if book.sector_mix is not None else np.zeros(0)
        cap = none if book.name_cap is None else np.asarray(book.name_cap, dtype=np.float64)
        return cls(
            True,
            book.exposure[:, 0],
            book.by_sector,
            np.atleast_1d(np.asarray(book.pool_availability, dtype=np.float64)),
            mix,
            lending.sector_headroom,
            cap,
        )


class Pricing(NamedTuple):
    """How every bank sizes and prices a loan: rates, limits, LGD and the PD model."""

    base_rate: float
    margin: float
    max_debt_service: float
    min_loan: float
    max_rate: float
    lgd_unsecured: float
    lgd_secured: float
    # The firms' failure hazard (LifecycleParams), which the bank applies to its view.
    quality_risk: float  # β: PD multiplier exp(−β q) of latent quality q
    funded_failure_mult: float  # its multiplier for a funded firm
    max_failure_pd: float  # its cap

    @classmethod
    def of(
        cls, lending: LendingParams, lifecycle: LifecycleParams, credit: CreditParams
    ) -> Pricing:
        return cls(
            base_rate=lending.base_rate,
            margin=lending.margin,
            max_debt_service=lending.max_debt_service,
            min_loan=lending.min_loan,
            max_rate=lending.max_rate,
            lgd_unsecured=credit.lgd_unsecured,
            lgd_secured=credit.lgd_secured,
            quality_risk=lifecycle.quality_risk,
            funded_failure_mult=lifecycle.funded_failure_mult,
            max_failure_pd=lifecycle.max_failure_pd,
        )


def make_offers(
    applicants: Applicants,
    tiers: TierTable,
    lending: LendingParams,
    lifecycle: LifecycleParams,
    credit: CreditParams,
    book: BookState | None = None,
) -> Offers:
    """Every bank's offer to every applicant: amount, price and whether it approves.

    Bank b (row b of `tiers`) lends what its products can secure, up to the need and the
    applicant's debt capacity, and (given its `book`) at most its single-name cap
    (`single_name_limit` of the tier-1 capital allocated to the park business). It
    approves when the annual expected-loss rate after policy cover fits its appetite and
    the loan keeps its exposure to the applicant's sector within `sector_limit` of the
    book. Without `book` (the opening book) limits do not apply.

    Its PD estimate is the firm's failure hazard (`firm_failure_pd`, the rule the firms
    fail by) at its posterior view of quality, for the firm funded: with prior
    q ~ N(μ, 1), μ the mean quality of the firm's cohort (the park's entrant shift when it
    entered), and view s = q + σ·e, the posterior is N((s + σ²μ)/(1+σ²), σ²/(1+σ²)); a
    noisy bank sees every young firm as its cohort's average, and prices that uncertainty.
    A bank with a history horizon h (a 1.0 bank) learns only from the firm's track record:
    its σ shrinks by √(h/(h + age)).
    """
    return _offers(
        applicants,
        BankTerms.of(tiers, applicants.signal_error.shape[1]),
        BookLimits.of(book, len(tiers.specs), lending),
        Pricing.of(lending, lifecycle, credit),
    )


@njit(cache=True)
def _offers(applicants: Applicants, banks: BankTerms, book: BookLimits, pricing: Pricing) -> Offers:
    """Each bank's offer to each applicant (`make_offers`; §五(二) a 1.0 bank's noisy view
    of young firms, §六(二)1 a 2.0 bank's data platform): `Offers`."""
    n_banks, n = banks.offered.shape[0], len(applicants.need)
    approved = np.empty((n_banks, n), dtype=np.bool_)
    amount, rate, lgd = np.empty((n_banks, n)), np.empty((n_banks, n)), np.empty((n_banks, n))
    annual_pd, posterior_mean = np.empty((n_banks, n)), np.empty((n_banks, n))
    product = np.empty((n_banks, n), dtype=np.int8)
    capacity = _debt_capacity(
        applicants.term,
        applicants.revenue,
        pricing.base_rate,
        pricing.margin,
        pricing.max_debt_service,
    )
    # Each bank's view error and shrinkage depend only on the applicant's age.
    age = applicants.age
    youngest, oldest = (age.min(), age.max()) if n > 0 else (0, 0)
    for b in range(n_banks):
        posterior = _posterior_by_age(
            banks.signal_noise[b], banks.history_quarters[b], youngest, oldest
        )
        for k in range(n):
            best, lent = _best_product(applicants, banks.offered[b], k, capacity[k])
            lent, within_sector = _within_limits(applicants, banks, book, b, k, lent, n_banks)
            loss_given_default = _loss_given_default(applicants.limits, k, lent, pricing)
            a = age[k] - youngest
            post_mean = _posterior_mean(applicants, posterior, b, k, a)
            pd = _annual_pd(applicants, k, post_mean, posterior.variance[a], pricing)
            expected_loss = pd * loss_given_default * (1.0 - _cover(applicants, book, k))
            approved[b, k] = (
                lent >= pricing.min_loan
                and expected_loss <= banks.max_expected_loss[b]
                and within_sector
            )
            amount[b, k] = lent
            margin = pricing.margin - banks.margin_cut[b]
            rate[b, k] = min(pricing.base_rate + margin + expected_loss, pricing.max_rate)
            lgd[b, k] = loss_given_default
            annual_pd[b, k] = pd
            product[b, k] = best
            posterior_mean[b, k] = post_mean
    return Offers(
        approved, amount, rate, lgd, annual_pd, product, posterior_mean,
        applicants.cover, applicants.term, applicants.need,
    )  # fmt: skip


@njit(cache=True)
def _debt_capacity(term, revenue, base_rate, margin, max_debt_service):
    """`debt_capacity` of loans of `term` quarters to firms of annual `revenue` (万元)."""
    capacity = np.empty(len(term))
    for k in range(len(capacity)):
        annual_service = QUARTERS_PER_YEAR / term[k] + base_rate + margin
        capacity[k] = max_debt_service * revenue[k] / annual_service
    return capacity


@njit(cache=True)
def _best_product(applicants, offered, k, capacity):
    """The product that lends applicant k most among those the bank offers, and what all
    of them together lend it, up to its need and debt capacity (万元)."""
    best, most, total = Product.COLLATERAL, 0.0, 0.0
    for p in range(N_PRODUCTS):
        lends = applicants.limits[p, k] if offered[p] else 0.0
        total += lends
        if lends > most:
            best, most = p, lends
    return best, min(min(applicants.need[k], total), capacity)


@njit(cache=True)
def _within_limits(applicants, banks, book, b, k, lent, n_banks):
    """The loan cut to bank b's single-name cap (its limit of the tier-1 capital allocated
    to the park business, 商业银行大额风险暴露管理办法 2018; an applicant owes the bank
    nothing yet), and whether it keeps the bank's exposure to the applicant's sector within
    its sector limit (a specialised park's book may hold `sector_headroom` × the sector's
    share of the park's firms). No limits without a book. Bank b is the b-th of the
    applicant's park; its book is the batch's bank replication × n_banks + b."""
    if not book.with_book:
        return lent, True
    g = applicants.replication[k] * n_banks + b
    lent = min(lent, book.name_cap[g])
    if book.exposure[g] <= 0:
        return lent, True
    sector = applicants.sector[k]
    limit = banks.sector_limit[b]
    if len(book.sector_mix) > 0:
        limit = max(limit, book.sector_headroom * book.sector_mix[sector])
    after = book.by_sector[g, sector] + lent
    return lent, after <= limit * (book.exposure[g] + lent)


@njit(cache=True)
def _loss_given_default(limits, k, lent, pricing):
    """LGD of a loan of `lent` to applicant k: its collateral limit secures that share."""
    share = limits[Product.COLLATERAL, k] / lent if lent > 0 else 1.0
    loss_given_default = secured_lgd(pricing.lgd_unsecured, pricing.lgd_secured, share)
    if np.isnan(loss_given_default):
        raise ValueError("secured_share must not contain NaN")
    return loss_given_default


@njit(cache=True)
def _posterior_mean(applicants, posterior, b, k, a):
    """Bank b's posterior mean of applicant k's quality, from its signal q + σ·e and the
    cohort's prior mean (index `a` of the bank's `posterior` by age)."""
    signal = applicants.quality[k] + posterior.sigma[a] * applicants.signal_error[k, b]
    return (signal + posterior.sigma_sq[a] * applicants.prior[k]) * posterior.shrink[a]


@njit(cache=True)
def _annual_pd(applicants, k, post_mean, variance, pricing):
    """The bank's annual PD estimate of applicant k: the firm's quarterly failure hazard
    (`firm_failure_pd`) with its quality factor taken under the bank's posterior N(m, v),
    exp(−β m + ½β²(v − 1)), over a year. The bank prices the firm funded (the loan funds
    it) and on its own: chain support and hazard relief are not its to count on."""
    failure_risk = applicants.sector_failure[k] * quality_factor(
        post_mean, pricing.quality_risk, variance
    )
    quarterly = firm_failure_pd(
        applicants.base_pd[k],
        failure_risk,
        pricing.funded_failure_mult,
        False,  # supported: no chain support counted
        0.0,  # chain_support
        pricing.max_failure_pd,
        1.0,  # relief: none
    )
    return 1.0 - math.pow(1.0 - quarterly, float(QUARTERS_PER_YEAR))


@njit(cache=True)
def _cover(applicants, book, k):
    """Policy cover of applicant k's loss that the bank counts on: the guarantee in full,
    the risk pool's part as far as the pool is available."""
    cover = applicants.cover[k]
    availability = book.pool_availability
    share = availability[applicants.replication[k] % len(availability)]
    if book.with_book and share < 1.0:
        guarantee = applicants.guarantee[k]
        return guarantee + (cover - guarantee) * share
    return cover


class Posterior(NamedTuple):
    """One bank's view of applicants by age (index 0 the youngest)."""

    sigma: np.ndarray  # sd of its signal
    sigma_sq: np.ndarray
    shrink: np.ndarray  # 1/(1+σ²), the weight of the signal against the prior
    variance: np.ndarray  # σ²/(1+σ²), the variance of its posterior of quality


@njit(cache=True)
def _posterior_by_age(signal_noise, history_quarters, youngest, oldest):
    """One bank's view of applicants aged `youngest`..`oldest` quarters (`Posterior`).
    A bank with a history horizon h learns from the track record: σ shrinks by
    √(h/(h + age)) (§五(二))."""
    ages = oldest - youngest + 1
    sigma, sigma_sq = np.empty(ages), np.empty(ages)
    shrink, variance = np.empty(ages), np.empty(ages)
    h = history_quarters
    for a in range(ages):
        learned = h / (h + (youngest + a)) if h > 0 else 1.0
        sigma[a] = signal_noise * math.sqrt(learned)
        sigma_sq[a] = sigma[a] * sigma[a]
        shrink[a] = 1.0 / (1.0 + sigma_sq[a])
        variance[a] = sigma_sq[a] * shrink[a]
    return Posterior(sigma, sigma_sq, shrink, variance)


def choose_lenders(offers: Offers, main_bank: np.ndarray, outside_rate: float) -> np.ndarray:
    """Index of the bank each applicant borrows from (-1: refused by all).

    The applicant compares the annual cost of its whole need: the offer's interest on the
    amount offered plus `outside_rate` on the rest, which it must raise elsewhere; so a
    cheap offer for a third of the need does not beat a full one at a higher rate. The
    cheapest approved offer wins; its main bank wins ties (relationship).
    """
    return _choose(offers, np.asarray(main_bank, np.int64), outside_rate)


@njit(cache=True)
def _choose(offers: Offers, main_bank: np.ndarray, outside_rate: float) -> np.ndarray:
    """Each applicant's cheapest approved offer (bank index, -1 if none)."""
    approved, amount, rate, need = offers.approved, offers.amount, offers.rate, offers.need
    n_banks, n = amount.shape
    chosen = np.empty(n, dtype=np.int64)
    # A tiny relationship discount breaks ties without changing any real comparison.
    discount = 1.0 - 1e-9
    for k in range(n):
        main = main_bank[k] % n_banks
        best, lowest = 0, np.inf
        for b in range(n_banks):
            cost = np.inf
            if approved[b, k]:
                shortfall = max(need[k] - amount[b, k], 0.0)
                cost = rate[b, k] * amount[b, k] + outside_rate * shortfall
            if b == main:
                cost *= discount
            if cost < lowest:
                best, lowest = b, cost
        chosen[k] = best if np.isfinite(lowest) else -1
    return chosen


def book_loans(
    pop: EnterprisePopulation,
    applicants: np.ndarray,
    chosen: np.ndarray,
    offers: Offers,
) -> np.ndarray:
    """Write the chosen offers into the borrowers' loan columns; return the borrowers.

    `chosen` is the b-th bank of each applicant's park; the loan's `lender` is that bank
    of the batch, replication × n_banks + b."""
    rows = _book(
        np.asarray(applicants, np.int64), chosen, offers, LoanColumns.of(pop), pop.replication
    )
    if len(rows):
        # PD and net LGD are fixed while the loan lives: the IRB terms that depend only
        # on them are worked once here, not at every quarter's close.
        net_lgd = pop.loan_lgd[rows] * (1.0 - pop.loan_policy_cover[rows])
        loss, slope = irb_terms(pop.loan_pd[rows], net_lgd)
        pop.loan_irb_loss[rows], pop.loan_irb_slope[rows] = loss, slope
    return rows


@njit(cache=True)
def _book(
    applicants: np.ndarray,
    chosen: np.ndarray,
    offers: Offers,
    loans: LoanColumns,
    replication: np.ndarray,
) -> np.ndarray:
    """Each applicant with a lender takes its offer (a performing loan of the offer's
    amount, rate, LGD, PD, product, term and policy cover): the borrowers' rows, in order."""
    borrowers = np.empty(len(applicants), dtype=np.int64)
    n_banks = offers.amount.shape[0]
    count = 0
    for k in range(len(applicants)):
        b = chosen[k]
        if b < 0:
            continue
        i = applicants[k]
        loans.lender[i] = replication[i] * n_banks + b
        loans.debt[i] = offers.amount[b, k]
        loans.loan_rate[i] = offers.rate[b, k]
        loans.loan_lgd[i] = offers.lgd[b, k]
        loans.loan_pd[i] = offers.annual_pd[b, k]
        loans.loan_product[i] = offers.product[b, k]
        loans.loan_quarters_left[i] = offers.term[k]
        loans.loan_status[i] = LoanStatus.PERFORMING
        loans.loan_policy_cover[i] = offers.cover[k]
        borrowers[count] = i
        count += 1
    return borrowers[:count]


class WarrantPrices(NamedTuple):
    """A quarter's offers with their warrants priced: `booked` carries the rate the bank
    books (less its warrant discount), `compared` the rate each applicant weighs (the booked
    rate plus the annual value of the warrant it gives away)."""

    booked: Offers
    compared: Offers


def price_warrants(
    offers: Offers,
    stage: np.ndarray,
    valuation: np.ndarray,
    coverage: np.ndarray,
    stake_cap: float,
    option_value: float,
    pass_through: float,
) -> WarrantPrices:
    """Price the warrants (认股权贷款, §六(二)2) of a quarter's offers.

    A bank with warrant `coverage[b]` > 0 takes a warrant with a growth or pre-IPO loan
    (not an M&A loan): notional min(coverage × amount, `stake_cap` × valuation), none on a
    firm without a valuation. Its value to the bank is `option_value` × notional, spread
    over the term: w = option_value × notional / (amount × term in years) a year. The bank
    lowers the loan rate by `pass_through` × w (at least to zero); the applicant weighs the
    booked rate plus w, so with `pass_through` < 1 it prefers a loan without a warrant at
    the same base price. `stage` and `valuation` are the applicants' (one entry each)."""
    booked, compared = _warrant_rates(
        offers.amount,
        offers.rate,
        offers.product,
        offers.term,
        np.asarray(stage),
        np.asarray(valuation, dtype=np.float64),
        np.asarray(coverage, dtype=np.float64),
        WarrantTerms(stake_cap, option_value, pass_through),
    )
    return WarrantPrices(offers._replace(rate=booked), offers._replace(rate=compared))


class WarrantTerms(NamedTuple):
    """The warrants' cap and price (`GroupParams`)."""

    stake_cap: float
    option_value: float
    pass_through: float


@njit(cache=True)
def _warrant_rates(amount, rate, product, term, stage, valuation, coverage, terms):
    """The booked and the compared rate of every offer (`price_warrants`), offer by offer."""
    n_banks, n = amount.shape
    booked, compared = np.empty((n_banks, n)), np.empty((n_banks, n))
    for b in range(n_banks):
        for k in range(n):
            growth = stage[k] >= Stage.GROWTH and stage[k] <= Stage.PRE_IPO
            carries = coverage[b] > 0 and growth and product[b, k] != Product.MNA
            per_year = 0.0
            if carries and amount[b, k] > 0:
                notional = min(coverage[b] * amount[b, k], terms.stake_cap * valuation[k])
                years = term[k] / QUARTERS_PER_YEAR
                per_year = terms.option_value * notional / (amount[b, k] * years)
            booked[b, k] = max(rate[b, k] - terms.pass_through * per_year, 0.0)
            compared[b, k] = booked[b, k] + per_year
    return booked, compared
