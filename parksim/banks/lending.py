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

import numpy as np
from numba import njit

from parksim.banks.risk import irb_terms
from parksim.banks.tiers import TierTable
from parksim.core.codes import PRODUCTS, LoanStatus, Stage
from parksim.core.population import EnterprisePopulation, stage_table
from parksim.core.sectors import SectorArrays
from parksim.core.streams import FirmStreams, Mechanism
from parksim.credit import CreditParams
from parksim.enterprises.lifecycle import LifecycleParams
from parksim.policy import PolicyPackage

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
    product: np.ndarray  # int8 code (index into PRODUCTS) of the product that lends most
    view: np.ndarray  # the bank's posterior mean of the applicant's quality
    cover: np.ndarray  # (n_applicants,) policy cover of each loan's loss
    term: np.ndarray  # (n_applicants,) loan term, quarters
    need: np.ndarray  # (n_applicants,) what each applicant asked for, 万元


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
    )
    return seekers, stage_table(params.need_ratio)[pop.stage[seekers]] * pop.size[seekers]


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
        rows = np.asarray(rows, np.int64)
        eligible = policy.guarantee_share + (1.0 - policy.guarantee_share) * policy.risk_pool_share
        view = _applicant_view(
            rows,
            quarter,
            pop.stage,
            pop.sector,
            pop.entered_quarter,
            pop.quality,
            pop.quality_prior,
            pop.signal_error,
            pop.size,
            pop.collateral,
            pop.ip_value,
            pop.last_round_quarter,
            pop.last_round_size,
            pop.leader_row,
            stage_table(lifecycle.failure_pd),
            sectors.failure,
            lifecycle.funded_failure_mult,
            lending.ltv,
            lending.credit_history_ratio,
            lending.credit_history_quarters,
            lending.ip_pledge_ratio,
            lending.investment_linked_ratio,
            lending.investment_window_quarters,
            # Supply-chain finance extends trade finance to supply_chain_ratio of revenue,
            # against the chain leader's payables; a bank offering both lends the larger.
            max(0.0, lending.supply_chain_ratio - lending.trade_finance_ratio),
            lending.trade_finance_ratio,
            eligible,
            policy.guarantee_share,
            len(PRODUCTS),
        )
        stage, age, quality, prior, signal_error, revenue, sector, base_pd, limits = view[:9]
        cover, guarantee = view[9:]
        return cls(
            rows=rows,
            need=need,
            stage=stage,
            age=age,
            quality=quality,
            signal_error=signal_error,
            base_pd=base_pd,
            limits=limits,
            cover=cover,
            guarantee=guarantee,
            prior=prior,
            revenue=revenue,
            sector=sector,
            term=np.full(len(rows), lending.loan_term_quarters),
        )


@njit(cache=True)
def _applicant_view(
    rows,
    quarter,
    stage,
    sector,
    entered_quarter,
    quality,
    quality_prior,
    signal_error,
    size,
    collateral,
    ip_value,
    last_round_quarter,
    last_round_size,
    leader_row,
    failure_pd,
    sector_failure,
    funded_failure_mult,
    ltv,
    credit_history_ratio,
    credit_history_quarters,
    ip_pledge_ratio,
    investment_linked_ratio,
    investment_window_quarters,
    supply_chain_extra,
    trade_finance_ratio,
    eligible_cover,
    guarantee_share,
    n_products,
):
    """What the banks see of each applicant (see `Applicants`), and what each product
    could lend it (rows of PRODUCTS order, 万元; M&A loans, row 5, are sought at
    acquisitions, not on application). Policy cover is for seed to growth firms."""
    n, n_banks = len(rows), signal_error.shape[1]
    their_stage = np.empty(n, dtype=stage.dtype)
    age = np.empty(n, dtype=entered_quarter.dtype)
    their_quality, prior, revenue = np.empty(n), np.empty(n), np.empty(n)
    errors = np.empty((n, n_banks))
    their_sector = np.empty(n, dtype=sector.dtype)
    base_pd, cover, guarantee = np.empty(n), np.empty(n), np.empty(n)
    limits = np.zeros((n_products, n))
    for k in range(n):
        i = rows[k]
        s, revenue_i = stage[i], size[i]
        their_stage[k], their_sector[k] = s, sector[i]
        age[k] = quarter - entered_quarter[i]
        their_quality[k], prior[k], revenue[k] = quality[i], quality_prior[i], revenue_i
        for b in range(n_banks):
            errors[k, b] = signal_error[i, b]
        base_pd[k] = failure_pd[s] * sector_failure[sector[i]] * funded_failure_mult
        young = s <= 2  # seed to growth
        cover[k] = eligible_cover if young else 0.0
        guarantee[k] = guarantee_share if young else 0.0
        track_record = quarter - entered_quarter[i] >= credit_history_quarters
        last = last_round_quarter[i]
        recent = last >= 0 and quarter - last <= investment_window_quarters
        leader = leader_row[i]
        supported = leader >= 0 and stage[leader] <= 4  # a chain leader still in the park
        limits[0, k] = ltv * collateral[i]
        limits[1, k] = credit_history_ratio * revenue_i * _one(track_record and s >= 2)
        limits[2, k] = ip_pledge_ratio * ip_value[i] * _one(young)
        limits[3, k] = investment_linked_ratio * last_round_size[i] * _one(recent)
        limits[4, k] = supply_chain_extra * revenue_i * _one(supported)
        limits[6, k] = trade_finance_ratio * revenue_i * _one(s >= 1)
    return (
        their_stage,
        age,
        their_quality,
        prior,
        errors,
        revenue,
        their_sector,
        base_pd,
        limits,
        cover,
        guarantee,
    )


@njit(cache=True)
def _one(condition: bool) -> float:
    """A condition as the 0/1 factor numpy multiplies a boolean by."""
    return 1.0 if condition else 0.0


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

    Its PD estimate is the hazard model at its posterior view of quality: with prior
    q ~ N(μ, 1), μ the mean quality of the firm's cohort (the park's entrant shift when it
    entered), and view s = q + σ·e, the posterior is N((s + σ²μ)/(1+σ²), σ²/(1+σ²)); a
    noisy bank sees every young firm as its cohort's average, and prices that uncertainty.
    A bank with a history horizon h (a 1.0 bank) learns only from the firm's track record:
    its σ shrinks by √(h/(h + age)).
    """
    n_banks, n_sectors = len(tiers.offered), 1
    exposure, by_sector = np.zeros(n_banks), np.zeros((n_banks, n_sectors))
    availability, mix = 1.0, np.zeros(0)
    if book is not None:
        exposure, by_sector = book.exposure[:, 0], book.by_sector
        availability = book.pool_availability
        mix = book.sector_mix if book.sector_mix is not None else mix
    beta = lifecycle.quality_risk
    arrays = _offers(
        applicants.need,
        applicants.revenue,
        applicants.term,
        applicants.limits,
        applicants.sector,
        applicants.age,
        applicants.quality,
        applicants.prior,
        applicants.signal_error,
        applicants.base_pd,
        applicants.cover,
        applicants.guarantee,
        tiers.offered,
        tiers.signal_noise[:, 0],
        tiers.history_quarters[:, 0],
        tiers.max_expected_loss[:, 0],
        tiers.single_name_limit[:, 0],
        tiers.sector_limit[:, 0],
        book is not None,
        exposure,
        by_sector,
        availability,
        mix,
        SECTOR_HEADROOM,
        lending.base_rate,
        lending.margin,
        lending.max_debt_service,
        lending.min_loan,
        lending.max_rate,
        credit.lgd_unsecured,
        credit.lgd_unsecured - credit.lgd_secured,
        beta,
        0.5 * beta**2,
    )
    approved, amount, rate, lgd, annual_pd, product, view = arrays
    return Offers(
        approved,
        amount,
        rate,
        lgd,
        annual_pd,
        product,
        view,
        applicants.cover,
        applicants.term,
        applicants.need,
    )


@njit(cache=True)
def _offers(
    need,
    revenue,
    term,
    limits,
    sector,
    age,
    quality,
    prior,
    signal_error,
    base_pd,
    cover,
    guarantee,
    offered,
    signal_noise,
    history_quarters,
    max_expected_loss,
    single_name_limit,
    sector_limit,
    with_book,
    exposure,
    by_sector,
    pool_availability,
    sector_mix,
    sector_headroom,
    base_rate,
    margin,
    max_debt_service,
    min_loan,
    max_rate,
    lgd_unsecured,
    lgd_spread,
    beta,
    half_beta_sq,
):
    """Each bank's offer to each applicant (see `make_offers`), bank × applicant arrays:
    approved, amount, rate, LGD, annual PD, product code and posterior view of quality."""
    n_banks, n_products, n = offered.shape[0], offered.shape[1], len(need)
    approved = np.empty((n_banks, n), dtype=np.bool_)
    amount = np.empty((n_banks, n))
    rate = np.empty((n_banks, n))
    lgd = np.empty((n_banks, n))
    annual_pd = np.empty((n_banks, n))
    product = np.empty((n_banks, n), dtype=np.int8)
    view = np.empty((n_banks, n))
    # What is the same for every bank is worked once: the applicant's debt capacity, and
    # each bank's view error and shrinkage, which depend only on the applicant's age.
    capacity = np.empty(n)
    for k in range(n):
        annual_service = 4.0 / term[k] + base_rate + margin
        capacity[k] = max_debt_service * revenue[k] / annual_service
    youngest, oldest = (age.min(), age.max()) if n > 0 else (0, 0)
    for b in range(n_banks):
        on = np.where(offered[b], 1.0, 0.0)
        sigma, sigma_sq, shrink, spread = _posterior_by_age(
            signal_noise[b], history_quarters[b], youngest, oldest, half_beta_sq
        )
        has_book = with_book and exposure[b] > 0
        for k in range(n):
            # What its products secure, up to the need, the debt capacity, the name cap.
            most = on[0] * limits[0, k]
            best, total = 0, most
            for p in range(1, n_products):
                lends = on[p] * limits[p, k]
                total += lends
                if lends > most:
                    best, most = p, lends
            lent = min(min(need[k], total), capacity[k])
            within_sector = True
            if has_book:
                lent = min(lent, single_name_limit[b] * exposure[b])
                limit = sector_limit[b]
                if len(sector_mix) > 0:
                    limit = max(limit, sector_headroom * sector_mix[sector[k]])
                sector_after = by_sector[b, sector[k]] + lent
                within_sector = sector_after <= limit * (exposure[b] + lent)
            share = limits[0, k] / lent if lent > 0 else 1.0
            loss_given_default = lgd_unsecured - lgd_spread * min(max(share, 0.0), 1.0)
            if np.isnan(loss_given_default):
                raise ValueError("secured_share must not contain NaN")
            # The bank's posterior view of quality and its annual PD estimate.
            a = age[k] - youngest
            signal = quality[k] + sigma[a] * signal_error[k, b]
            post_mean = (signal + sigma_sq[a] * prior[k]) * shrink[a]
            multiplier = np.exp(-beta * post_mean + spread[a])
            quarterly = min(base_pd[k] * multiplier, 0.95)
            pd = 1.0 - math.pow(1.0 - quarterly, 4.0)
            c = cover[k]
            if with_book and pool_availability < 1.0:
                c = guarantee[k] + (cover[k] - guarantee[k]) * pool_availability
            expected_loss = pd * loss_given_default * (1.0 - c)
            approved[b, k] = (
                lent >= min_loan and expected_loss <= max_expected_loss[b] and within_sector
            )
            amount[b, k] = lent
            rate[b, k] = min(base_rate + margin + expected_loss, max_rate)
            lgd[b, k] = loss_given_default
            annual_pd[b, k] = pd
            product[b, k] = best
            view[b, k] = post_mean
    return approved, amount, rate, lgd, annual_pd, product, view


@njit(cache=True)
def _posterior_by_age(signal_noise, history_quarters, youngest, oldest, half_beta_sq):
    """One bank's view of applicants aged `youngest`..`oldest` quarters (index 0 is the
    youngest): its signal's sd σ, σ², the shrinkage 1/(1+σ²) of the signal towards the
    prior, and the PD multiplier's variance term ½β²(posterior variance − 1). A bank with
    a history horizon h learns from the track record: σ shrinks by √(h/(h + age))."""
    ages = oldest - youngest + 1
    sigma, sigma_sq, shrink, spread = np.empty(ages), np.empty(ages), np.empty(ages), np.empty(ages)
    h = history_quarters
    for a in range(ages):
        learned = h / (h + (youngest + a)) if h > 0 else 1.0
        sigma[a] = signal_noise * np.sqrt(learned)
        sigma_sq[a] = sigma[a] * sigma[a]
        shrink[a] = 1.0 / (1.0 + sigma_sq[a])
        spread[a] = half_beta_sq * (sigma_sq[a] * shrink[a] - 1.0)
    return sigma, sigma_sq, shrink, spread


def choose_lenders(offers: Offers, main_bank: np.ndarray, outside_rate: float) -> np.ndarray:
    """Index of the bank each applicant borrows from (-1: refused by all).

    The applicant compares the annual cost of its whole need: the offer's interest on the
    amount offered plus `outside_rate` on the rest, which it must raise elsewhere; so a
    cheap offer for a third of the need does not beat a full one at a higher rate. The
    cheapest approved offer wins; its main bank wins ties (relationship).
    """
    return _choose(
        offers.need,
        offers.amount,
        offers.rate,
        offers.approved,
        np.asarray(main_bank, np.int64),
        outside_rate,
    )


@njit(cache=True)
def _choose(need, amount, rate, approved, main_bank, outside_rate):
    """Each applicant's cheapest approved offer (bank index, -1 if none)."""
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
    """Write the chosen offers into the borrowers' loan columns; return the borrowers."""
    rows = _book(
        np.asarray(applicants, np.int64),
        chosen,
        offers.amount,
        offers.rate,
        offers.lgd,
        offers.annual_pd,
        offers.product,
        offers.term,
        offers.cover,
        int(LoanStatus.PERFORMING),
        pop.lender,
        pop.debt,
        pop.loan_rate,
        pop.loan_lgd,
        pop.loan_pd,
        pop.loan_product,
        pop.loan_quarters_left,
        pop.loan_status,
        pop.loan_policy_cover,
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
    applicants,
    chosen,
    amount,
    rate,
    lgd,
    annual_pd,
    product,
    term,
    cover,
    performing,
    lender,
    debt,
    loan_rate,
    loan_lgd,
    loan_pd,
    loan_product,
    loan_quarters_left,
    loan_status,
    loan_policy_cover,
):
    """Each applicant with a lender takes its offer: the borrowers' rows, in order."""
    borrowers = np.empty(len(applicants), dtype=np.int64)
    count = 0
    for k in range(len(applicants)):
        b = chosen[k]
        if b < 0:
            continue
        i = applicants[k]
        lender[i] = b
        debt[i] = amount[b, k]
        loan_rate[i] = rate[b, k]
        loan_lgd[i] = lgd[b, k]
        loan_pd[i] = annual_pd[b, k]
        loan_product[i] = product[b, k]
        loan_quarters_left[i] = term[k]
        loan_status[i] = performing
        loan_policy_cover[i] = cover[k]
        borrowers[count] = i
        count += 1
    return borrowers[:count]
