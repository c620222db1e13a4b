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
        default=0.010, metadata={**RATE, "help": "annual spread over LPR + expected loss"}
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
    min_loan: float = field(default=10.0, metadata={**AMOUNT, "help": "smallest loan, 万元"})
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

    def product(self, bank: np.ndarray, applicant: np.ndarray) -> np.ndarray:
        """Code of the product (index into PRODUCTS) that lends most in each given offer.

        Worked out for the offers taken only: an argmax over every bank and applicant
        was one of the costliest steps of a quarter in a large park.
        """
        return np.argmax(self.by_product[bank, :, applicant], axis=1).astype(np.int8)


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
            signal_error=pop.signal_error[rows],
            base_pd=base_pd * lifecycle.funded_failure_mult,
            limits=product_limits(pop, rows, stage, lending, quarter),
            cover=policy_cover(stage, policy),
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
    limits[4] = params.supply_chain_ratio * size * chain_supported(pop, rows)
    return limits  # M&A loans (row 5) are made at acquisitions, not on application


def posterior_quality(applicants: Applicants, tiers: TierTable) -> tuple[np.ndarray, np.ndarray]:
    """Each bank's posterior mean and variance of the applicants' quality, given its view
    s = q + σ·e of them; shape (n_banks, n_applicants) each."""
    sigma = view_noises(tiers, applicants.age)
    signal = applicants.quality + sigma * applicants.signal_error.T
    shrink = 1.0 / (1.0 + sigma**2)
    return signal * shrink, sigma**2 * shrink


def estimated_annual_pd(applicants: Applicants, tiers: TierTable, beta: float) -> np.ndarray:
    """Each bank's annual PD estimate: the hazard model at its posterior view of quality.

    With prior q ~ N(0, 1) and view s = q + σ·e, the posterior is N(s/(1+σ²), σ²/(1+σ²));
    a noisy bank sees every young firm as roughly average, and prices that uncertainty.
    Shape (n_banks, n_applicants).
    """
    post_mean, post_var = posterior_quality(applicants, tiers)
    quarterly = applicants.base_pd * quality_multiplier(post_mean, beta, post_var)
    np.minimum(quarterly, 0.95, out=quarterly)
    return 1.0 - (1.0 - quarterly) ** 4


def make_offers(
    applicants: Applicants,
    tiers: TierTable,
    lending: LendingParams,
    lifecycle: LifecycleParams,
    credit: CreditParams,
) -> Offers:
    """Every bank's offer to every applicant: amount, price and whether it approves.

    Bank b (row b of `tiers`) lends what its products can secure, up to the need;
    it approves when the annual expected-loss rate after policy cover fits its appetite.
    """
    by_product = tiers.offered[:, :, None] * applicants.limits  # (bank, product, applicant)
    amount = np.minimum(applicants.need, by_product.sum(axis=1))
    secured_share = np.divide(
        applicants.limits[0], amount, out=np.ones_like(amount), where=amount > 0
    )
    lgd = loan_lgd(credit, secured_share)
    annual_pd = estimated_annual_pd(applicants, tiers, lifecycle.quality_risk)
    expected_loss = annual_pd * lgd * (1.0 - applicants.cover)
    approved = (amount >= lending.min_loan) & (expected_loss <= tiers.max_expected_loss)
    rate = np.minimum(lending.base_rate + lending.margin + expected_loss, lending.max_rate)
    return Offers(approved, amount, rate, lgd, annual_pd, by_product)


def choose_lenders(offers: Offers, main_bank: np.ndarray) -> np.ndarray:
    """Index of the bank each applicant borrows from (-1: refused by all).

    The cheapest approved offer wins; the applicant's main bank wins ties (relationship).
    """
    rates = np.where(offers.approved, offers.rate, np.inf)
    # A tiny relationship discount breaks ties without changing any real comparison.
    rates[main_bank, np.arange(rates.shape[1])] -= 1e-9
    chosen = np.argmin(rates, axis=0)
    chosen[~np.isfinite(rates.min(axis=0))] = -1
    return chosen


def book_loans(
    pop: EnterprisePopulation,
    applicants: np.ndarray,
    chosen: np.ndarray,
    offers: Offers,
    lending: LendingParams,
    policy: PolicyPackage,
) -> np.ndarray:
    """Write the chosen offers into the borrowers' loan columns; return the borrowers."""
    taken = (chosen >= 0).nonzero()[0]
    bank = chosen[taken]
    rows = applicants[taken]
    pop.lender[rows] = bank
    pop.debt[rows] = offers.amount[bank, taken]
    pop.loan_rate[rows] = offers.rate[bank, taken]
    pop.loan_lgd[rows] = offers.lgd[bank, taken]
    pop.loan_product[rows] = offers.product(bank, taken)
    pop.loan_quarters_left[rows] = lending.loan_term_quarters
    pop.loan_status[rows] = LoanStatus.PERFORMING
    pop.loan_policy_cover[rows] = policy_cover(pop.stage[rows], policy)
    return rows
