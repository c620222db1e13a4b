"""The loan market: who asks for a loan, what each bank offers, who lends.

Every bank prices every applicant from its own view of quality (tier-dependent noise),
caps the loan by what its products can secure, and approves when the expected-loss rate
after policy cover fits its appetite. The applicant takes the cheapest offer; ties go to
its main bank. All of it is vectorised over applicants; the only loop is over banks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from parksim.banks.tiers import PRODUCTS, TierTable
from parksim.credit import CreditParams, loan_lgd
from parksim.enterprises.lifecycle import LifecycleParams, chain_supported, quality_multiplier
from parksim.enterprises.population import (
    EnterprisePopulation,
    LoanStatus,
    Stage,
    stage_table,
)
from parksim.enterprises.sectors import SectorArrays
from parksim.policy import PolicyPackage
from parksim.streams import FirmStreams, Mechanism

PROB = {"unit": "probability"}
RATE = {"min": 0.0, "max": 1.0}  # annual interest rates, as fractions
AMOUNT = {"non_negative": True}


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
        default=0.004616,  # calibrated: inclusive small-business loan rate
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


@dataclass
class Offers:
    """Every bank's offer to every applicant: arrays of shape (n_banks, n_applicants)."""

    approved: np.ndarray
    amount: np.ndarray
    rate: np.ndarray
    lgd: np.ndarray
    annual_pd: np.ndarray  # the bank's own estimate
    by_product: np.ndarray  # (n_banks, n_products, n_applicants) what each product lends
    cover: np.ndarray  # (n_applicants,) policy cover of each loan's loss
    term: np.ndarray  # (n_applicants,) loan term, quarters
    need: np.ndarray  # (n_applicants,) what each applicant asked for, 万元

    def product(self, bank: np.ndarray, applicant: np.ndarray) -> np.ndarray:
        """Code of the product (index into PRODUCTS) that lends most in each given offer.

        Worked out for the offers taken only: an argmax over every bank and applicant
        was one of the costliest steps of a quarter in a large park.
        """
        return np.argmax(self.by_product[bank, :, applicant], axis=1).astype(np.int8)


def guarantee_cover(stage: np.ndarray, policy: PolicyPackage) -> np.ndarray:
    """Share of a defaulted loan's loss the government guarantor takes, by stage."""
    return np.where(stage <= Stage.GROWTH, policy.guarantee_share, 0.0)


def policy_cover(stage: np.ndarray, policy: PolicyPackage) -> np.ndarray:
    """Share of a defaulted loan's loss that guarantee and risk pool take, by stage."""
    eligible = stage <= Stage.GROWTH
    cover = policy.guarantee_share + (1.0 - policy.guarantee_share) * policy.risk_pool_share
    return np.where(eligible, cover, 0.0)


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
    stage = pop.stage[rows]
    cost_cut = policy.interest_subsidy - policy.guarantee_fee * policy.guarantee_share
    demand = stage_table(params.demand).copy()
    demand[: Stage.GROWTH + 1] *= max(0.0, 1.0 + params.rate_elasticity * cost_cut)
    seeks = streams.uniforms(Mechanism.LOAN_DEMAND, quarter, pop.stream_id[rows]) < demand[stage]
    seeks &= pop.loan_status[rows] == LoanStatus.NONE
    applicants = seeks.nonzero()[0]
    if not isinstance(rows, slice):
        applicants = rows[applicants]
    need = np.asarray(params.need_ratio)[pop.stage[applicants]] * pop.size[applicants]
    return applicants, need


def view_noises(tiers: TierTable, age_quarters: np.ndarray) -> np.ndarray:
    """Sd of each bank's view error, shape (n_banks, n): a bank with a history horizon
    (a 1.0 bank) learns only from the firm's track record; others see through data."""
    h = tiers.history_quarters
    shape = (len(h), len(age_quarters))
    learned = np.divide(h, h + age_quarters, out=np.ones(shape), where=h > 0)
    return tiers.signal_noise * np.sqrt(learned)


@dataclass
class Applicants:
    """What every bank looks at in this quarter's loan applicants, computed once."""

    rows: np.ndarray
    need: np.ndarray  # 万元
    stage: np.ndarray
    age: np.ndarray  # quarters since entry
    quality: np.ndarray  # latent; each bank sees it through its own error
    signal_error: np.ndarray  # (n, n_banks) standard-normal view errors
    base_pd: np.ndarray  # quarterly stage × sector hazard of an average funded firm
    limits: np.ndarray  # (n_products, n) what each product could lend, 万元
    cover: np.ndarray  # policy cover of each applicant's loss
    guarantee: np.ndarray  # the part of `cover` the guarantor pays (the rest is the pool's)
    prior: np.ndarray  # mean quality of the applicant's cohort: the banks' prior mean
    revenue: np.ndarray  # annual revenue, 万元
    sector: np.ndarray  # sector code
    term: np.ndarray  # term of the loan sought, quarters

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
        stage = pop.stage[rows]
        base_pd = np.asarray(lifecycle.failure_pd)[stage] * sectors.failure[pop.sector[rows]]
        return cls(
            rows=rows,
            need=need,
            stage=stage,
            age=quarter - pop.entered_quarter[rows],
            quality=pop.quality[rows],
            # np.take: numpy's fancy indexing of rows of a 2-D array is ~20x slower.
            signal_error=np.take(pop.signal_error, rows, axis=0),
            base_pd=base_pd * lifecycle.funded_failure_mult,
            limits=product_limits(pop, rows, stage, lending, quarter),
            cover=policy_cover(stage, policy),
            guarantee=guarantee_cover(stage, policy),
            prior=pop.quality_prior[rows],
            revenue=pop.size[rows],
            sector=pop.sector[rows],
            term=np.full(len(rows), lending.loan_term_quarters),
        )


def product_limits(
    pop: EnterprisePopulation,
    rows: np.ndarray,
    stage: np.ndarray,
    params: LendingParams,
    quarter: int,
) -> np.ndarray:
    """What each loan product could lend each firm (rows of PRODUCTS order), 万元."""
    limits = np.zeros((len(PRODUCTS), len(rows)))
    size = pop.size[rows]
    limits[0] = params.ltv * pop.collateral[rows]
    track_record = quarter - pop.entered_quarter[rows] >= params.credit_history_quarters
    limits[1] = params.credit_history_ratio * size * (track_record & (stage >= Stage.GROWTH))
    limits[2] = params.ip_pledge_ratio * pop.ip_value[rows] * (stage <= Stage.GROWTH)
    last_round = pop.last_round_quarter[rows]
    recent = (last_round >= 0) & (quarter - last_round <= params.investment_window_quarters)
    limits[3] = params.investment_linked_ratio * pop.last_round_size[rows] * recent
    # Supply-chain finance extends trade finance to supply_chain_ratio of revenue, against
    # the chain leader's payables; a bank offering both lends the larger, not the sum.
    extra = max(0.0, params.supply_chain_ratio - params.trade_finance_ratio)
    limits[4] = extra * size * chain_supported(pop, rows)
    limits[6] = params.trade_finance_ratio * size * (stage >= Stage.STARTUP)
    return limits  # M&A loans (row 5) are sought at acquisitions, not on application


def posterior_quality(applicants: Applicants, tiers: TierTable) -> tuple[np.ndarray, np.ndarray]:
    """Each bank's posterior mean and variance of the applicants' quality, given its view
    s = q + σ·e of them and the prior N(cohort mean, 1); shape (n_banks, n_applicants)."""
    sigma = view_noises(tiers, applicants.age)
    signal = applicants.quality + sigma * applicants.signal_error.T
    shrink = 1.0 / (1.0 + sigma**2)
    return (signal + sigma**2 * applicants.prior) * shrink, sigma**2 * shrink


def estimated_annual_pd(applicants: Applicants, tiers: TierTable, beta: float) -> np.ndarray:
    """Each bank's annual PD estimate: the hazard model at its posterior view of quality.

    With prior q ~ N(μ, 1), μ the mean quality of the firm's cohort (the park's entrant
    shift when it entered), and view s = q + σ·e, the posterior is
    N((s + σ²μ)/(1+σ²), σ²/(1+σ²)); a noisy bank sees every young firm as its cohort's
    average, and prices that uncertainty.
    Shape (n_banks, n_applicants).
    """
    post_mean, post_var = posterior_quality(applicants, tiers)
    quarterly = applicants.base_pd * quality_multiplier(post_mean, beta, post_var)
    np.minimum(quarterly, 0.95, out=quarterly)
    return 1.0 - (1.0 - quarterly) ** 4


@dataclass(frozen=True)
class BookState:
    """Each bank's park book when it makes offers: what its limits are measured against."""

    exposure: np.ndarray  # (n_banks, 1) enterprise-loan balance, 万元
    by_sector: np.ndarray  # (n_banks, n_sectors) the same by the borrowers' sector, 万元
    pool_availability: float = 1.0  # share of the pool's cover the banks count on
    sector_mix: np.ndarray | None = None  # (n_sectors,) the park's share of firms by sector


# A bank may hold up to this multiple of a sector's share of the park's firms in that
# sector, whatever its sector_limit: in a specialised park (BioBAY is 90 % biomedicine)
# the park book is specialised by construction (assumption).
SECTOR_HEADROOM = 1.5


def debt_capacity(applicants: Applicants, lending: LendingParams) -> np.ndarray:
    """The largest loan each applicant can service (万元): its first-year debt service,
    principal over the term plus interest at the pre-risk rate, at most
    `max_debt_service` of its annual revenue."""
    annual_service = 4.0 / applicants.term + lending.base_rate + lending.margin
    return lending.max_debt_service * applicants.revenue / annual_service


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
    applicant's debt capacity, and (given its `book`) at most `single_name_limit` of its
    park book. It approves when the annual expected-loss rate after policy cover fits its
    appetite and the loan keeps its exposure to the applicant's sector within
    `sector_limit` of the book. Without `book` (the opening book) limits do not apply.
    """
    by_product = tiers.offered[:, :, None] * applicants.limits  # (bank, product, applicant)
    amount = np.minimum(applicants.need, by_product.sum(axis=1))
    amount = np.minimum(amount, debt_capacity(applicants, lending))
    within_sector = True
    if book is not None:
        has_book = book.exposure > 0
        name_cap = np.where(has_book, tiers.single_name_limit * book.exposure, np.inf)
        amount = np.minimum(amount, name_cap)
        sector_after = book.by_sector[:, applicants.sector] + amount
        limit = tiers.sector_limit
        if book.sector_mix is not None:
            limit = np.maximum(limit, SECTOR_HEADROOM * book.sector_mix[applicants.sector])
        within_sector = ~has_book | (sector_after <= limit * (book.exposure + amount))
    secured_share = np.divide(
        applicants.limits[0], amount, out=np.ones_like(amount), where=amount > 0
    )
    lgd = loan_lgd(credit, secured_share)
    annual_pd = estimated_annual_pd(applicants, tiers, lifecycle.quality_risk)
    cover = applicants.cover
    if book is not None and book.pool_availability < 1.0:
        pool_part = applicants.cover - applicants.guarantee
        cover = applicants.guarantee + pool_part * book.pool_availability
    expected_loss = annual_pd * lgd * (1.0 - cover)
    approved = (amount >= lending.min_loan) & (expected_loss <= tiers.max_expected_loss)
    approved &= within_sector
    rate = np.minimum(lending.base_rate + lending.margin + expected_loss, lending.max_rate)
    return Offers(
        approved,
        amount,
        rate,
        lgd,
        annual_pd,
        by_product,
        applicants.cover,
        applicants.term,
        applicants.need,
    )


def choose_lenders(offers: Offers, main_bank: np.ndarray, outside_rate: float) -> np.ndarray:
    """Index of the bank each applicant borrows from (-1: refused by all).

    The applicant compares the annual cost of its whole need: the offer's interest on the
    amount offered plus `outside_rate` on the rest, which it must raise elsewhere; so a
    cheap offer for a third of the need does not beat a full one at a higher rate. The
    cheapest approved offer wins; its main bank wins ties (relationship).
    """
    shortfall = np.maximum(offers.need - offers.amount, 0.0)
    cost = offers.rate * offers.amount + outside_rate * shortfall
    cost = np.where(offers.approved, cost, np.inf)
    # A tiny relationship discount breaks ties without changing any real comparison.
    cost[main_bank, np.arange(cost.shape[1])] *= 1.0 - 1e-9
    chosen = np.argmin(cost, axis=0)
    chosen[~np.isfinite(cost.min(axis=0))] = -1
    return chosen


def book_loans(
    pop: EnterprisePopulation,
    applicants: np.ndarray,
    chosen: np.ndarray,
    offers: Offers,
) -> np.ndarray:
    """Write the chosen offers into the borrowers' loan columns; return the borrowers."""
    taken = (chosen >= 0).nonzero()[0]
    bank = chosen[taken]
    rows = applicants[taken]
    pop.lender[rows] = bank
    pop.debt[rows] = offers.amount[bank, taken]
    pop.loan_rate[rows] = offers.rate[bank, taken]
    pop.loan_lgd[rows] = offers.lgd[bank, taken]
    pop.loan_pd[rows] = offers.annual_pd[bank, taken]
    pop.loan_product[rows] = offers.product(bank, taken)
    pop.loan_quarters_left[rows] = offers.term[taken]
    pop.loan_status[rows] = LoanStatus.PERFORMING
    pop.loan_policy_cover[rows] = offers.cover[taken]
    return rows
