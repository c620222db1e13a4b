"""The loan market: who asks for a loan, what each bank offers, who lends.

Every bank prices every applicant from its own view of quality (tier-dependent noise),
caps the loan by what its products can secure, and approves when the expected-loss rate
after policy cover fits its appetite. The applicant takes the cheapest offer; ties go to
its main bank. All of it is vectorised over applicants; the only loop is over banks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from parksim.banks.tiers import PRODUCTS, TierSpec
from parksim.credit import CreditParams, loan_lgd
from parksim.enterprises.lifecycle import LifecycleParams, quality_multiplier
from parksim.enterprises.population import EnterprisePopulation, LoanStatus, Stage
from parksim.enterprises.sectors import SectorArrays
from parksim.policy import PolicyPackage

PROB = {"unit": "probability"}
AMOUNT = {"non_negative": True}


@dataclass(frozen=True)
class LendingParams:
    """Loan demand, product limits and pricing; stage tuples run seed → listed."""

    base_rate: float = field(
        default=0.0345, metadata={**PROB, "help": "1-year LPR, early 2024 (PBOC)"}
    )
    funding_cost: float = field(
        default=0.018, metadata={**PROB, "help": "bank's annual funding cost (assumption)"}
    )
    margin: float = field(
        default=0.010, metadata={**PROB, "help": "annual spread over LPR + expected loss"}
    )
    max_rate: float = field(
        default=0.08, metadata={**PROB, "help": "highest annual loan rate a bank charges"}
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
    min_loan: float = field(default=10.0, metadata={**AMOUNT, "help": "smallest loan, 万元"})
    rate_elasticity: float = field(
        default=10.0, metadata={"min": 0.0, "help": "demand change per unit of rate cut"}
    )


@dataclass
class Offers:
    """One bank's offers to the applicants (arrays aligned with the applicant ids)."""

    approved: np.ndarray
    amount: np.ndarray
    rate: np.ndarray
    lgd: np.ndarray
    product: np.ndarray
    annual_pd: np.ndarray  # the bank's own estimate


def policy_cover(stage: np.ndarray, policy: PolicyPackage) -> np.ndarray:
    """Share of a defaulted loan's loss that guarantee and risk pool take, by stage."""
    eligible = stage <= Stage.GROWTH
    cover = policy.guarantee_share + (1.0 - policy.guarantee_share) * policy.risk_pool_share
    return np.where(eligible, cover, 0.0)


def applications(
    pop: EnterprisePopulation,
    ids: np.ndarray,
    params: LendingParams,
    policy: PolicyPackage,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Enterprises among `ids` that seek a loan this quarter, and how much (万元).

    Only firms without a loan apply. Interest subsidies raise demand, guarantee fees cut
    it. Draws one uniform per firm whatever the outcome (common random numbers).
    """
    u = rng.random(len(ids))
    stage = pop.stage[ids]
    no_loan = pop.loan_status[ids] == LoanStatus.NONE
    eligible = stage <= Stage.GROWTH
    cost_cut = policy.interest_subsidy - policy.guarantee_fee * policy.guarantee_share
    demand = np.asarray(params.demand)[stage] * np.where(
        eligible, max(0.0, 1.0 + params.rate_elasticity * cost_cut), 1.0
    )
    seeks = no_loan & (u < demand)
    applicants = ids[seeks]
    need = np.asarray(params.need_ratio)[stage[seeks]] * pop.size[applicants]
    return applicants, need


def view_noise(spec: TierSpec, age_quarters: np.ndarray) -> np.ndarray:
    """Sd of a bank's view error: a 1.0 bank learns only from the firm's track record."""
    if spec.history_quarters <= 0:
        return np.full(len(age_quarters), spec.signal_noise)
    return spec.signal_noise * np.sqrt(
        spec.history_quarters / (spec.history_quarters + age_quarters)
    )


def estimated_annual_pd(
    pop: EnterprisePopulation,
    ids: np.ndarray,
    bank: int,
    spec: TierSpec,
    quarter: int,
    lifecycle: LifecycleParams,
    sectors: SectorArrays,
) -> np.ndarray:
    """The bank's annual PD estimate: the hazard model at its posterior view of quality.

    With prior q ~ N(0, 1) and view s = q + σ·e, the posterior is N(s/(1+σ²), σ²/(1+σ²));
    a noisy bank sees every young firm as roughly average, and prices that uncertainty.
    """
    sigma = view_noise(spec, quarter - pop.entered_quarter[ids])
    signal = pop.quality[ids] + sigma * pop.signal_error[ids, bank]
    post_mean = signal / (1.0 + sigma**2)
    post_var = sigma**2 / (1.0 + sigma**2)
    stage = pop.stage[ids]
    base = np.asarray(lifecycle.failure_pd)[stage] * sectors.failure[pop.sector[ids]]
    quarterly = base * lifecycle.funded_failure_mult
    quarterly = np.clip(
        quarterly * quality_multiplier(post_mean, lifecycle.quality_risk, post_var), 0, 0.95
    )
    return 1.0 - (1.0 - quarterly) ** 4


def loan_capacity(
    pop: EnterprisePopulation,
    ids: np.ndarray,
    spec: TierSpec,
    params: LendingParams,
    quarter: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What the bank's products can lend to each firm: (total, secured part, main product)."""
    n = len(ids)
    limits = np.zeros((len(PRODUCTS), n))
    stage = pop.stage[ids]
    offered = set(spec.products)
    limits[0] = params.ltv * pop.collateral[ids]
    if "credit_history" in offered:
        track_record = quarter - pop.entered_quarter[ids] >= params.credit_history_quarters
        limits[1] = np.where(track_record & (stage >= Stage.GROWTH), params.credit_history_ratio, 0)
        limits[1] *= pop.size[ids]
    if "ip_pledge" in offered:
        limits[2] = np.where(stage <= Stage.GROWTH, params.ip_pledge_ratio * pop.ip_value[ids], 0)
    if "investment_linked" in offered:
        recent = quarter - pop.last_round_quarter[ids] <= params.investment_window_quarters
        recent &= pop.last_round_quarter[ids] >= 0
        limits[3] = np.where(recent, params.investment_linked_ratio * pop.last_round_size[ids], 0)
    if "supply_chain" in offered:
        leader = pop.leader_id[ids]
        linked = leader >= 0
        linked[linked] = pop.stage[leader[linked]] <= Stage.LISTED
        limits[4] = np.where(linked, params.supply_chain_ratio * pop.size[ids], 0.0)
    return limits.sum(axis=0), limits[0], np.argmax(limits, axis=0).astype(np.int8)


def make_offers(
    pop: EnterprisePopulation,
    applicants: np.ndarray,
    need: np.ndarray,
    bank: int,
    spec: TierSpec,
    quarter: int,
    lending: LendingParams,
    lifecycle: LifecycleParams,
    credit: CreditParams,
    sectors: SectorArrays,
    policy: PolicyPackage,
) -> Offers:
    """Bank `bank`'s offers to the applicants."""
    capacity, secured, product = loan_capacity(pop, applicants, spec, lending, quarter)
    amount = np.minimum(need, capacity)
    secured_share = np.divide(secured, amount, out=np.ones_like(amount), where=amount > 0)
    lgd = loan_lgd(credit, secured_share)
    cover = policy_cover(pop.stage[applicants], policy)
    annual_pd = estimated_annual_pd(pop, applicants, bank, spec, quarter, lifecycle, sectors)
    expected_loss = annual_pd * lgd * (1.0 - cover)
    approved = (amount >= lending.min_loan) & (expected_loss <= spec.max_expected_loss)
    rate = np.minimum(lending.base_rate + lending.margin + expected_loss, lending.max_rate)
    return Offers(approved, amount, rate, lgd, product, annual_pd)


def choose_lenders(offers: list[Offers], main_bank: np.ndarray) -> np.ndarray:
    """Index of the bank each applicant borrows from (-1: refused by all).

    The cheapest approved offer wins; the applicant's main bank wins ties (relationship).
    """
    rates = np.stack([np.where(o.approved, o.rate, np.inf) for o in offers])
    n_banks = len(offers)
    # A tiny relationship discount breaks ties without changing any real comparison.
    rates[main_bank, np.arange(rates.shape[1])] -= 1e-9
    chosen = np.argmin(rates, axis=0)
    chosen[~np.isfinite(rates.min(axis=0))] = -1
    return chosen if n_banks else np.full(len(main_bank), -1)


def book_loans(
    pop: EnterprisePopulation,
    applicants: np.ndarray,
    chosen: np.ndarray,
    offers: list[Offers],
    lending: LendingParams,
    policy: PolicyPackage,
) -> None:
    """Write the chosen offers into the borrowers' loan columns."""
    for b, offer in enumerate(offers):
        take = chosen == b
        ids = applicants[take]
        pop.lender[ids] = b
        pop.debt[ids] = offer.amount[take]
        pop.loan_rate[ids] = offer.rate[take]
        pop.loan_lgd[ids] = offer.lgd[take]
        pop.loan_product[ids] = offer.product[take]
        pop.loan_quarters_left[ids] = lending.loan_term_quarters
        pop.loan_status[ids] = LoanStatus.PERFORMING
        pop.loan_policy_cover[ids] = policy_cover(pop.stage[ids], policy)
