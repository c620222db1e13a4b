"""Every loan is underwritten by the same offers, M&A loans included (issue 9, item 1), and
the smaller lending fixes of item 9 (choice on amount and price, pool, prior, recoveries,
trade finance)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from parksim import ParkModel
from parksim.banks.lending import (
    BookState,
    Offers,
    choose_lenders,
    debt_capacity,
    make_offers,
)
from parksim.banks.tiers import BASIC_PRODUCTS, TIER_SPECS, TierTable
from parksim.core.codes import LoanStatus, Product, Stage

BASELINE = "scenarios/baseline.toml"


@pytest.fixture
def model() -> ParkModel:
    return ParkModel(BASELINE, strategy="tier2_heavy", rng=3, park__enterprises=300, horizon=4)


def buyers_and_prices(model: ParkModel, n: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Listed firms without a loan, and deal prices of about twice their revenue."""
    pop = model.enterprises
    free = ((pop.stage == Stage.LISTED) & (pop.loan_status == LoanStatus.NONE)).nonzero()[0]
    buyers = free[:n]
    assert len(buyers) == n
    return buyers, 2.0 * pop.size[buyers]


def with_specs(model: ParkModel, **changes: object) -> TierTable:
    for bank in model.banks:
        bank.spec = dataclasses.replace(bank.spec, **changes)
    model.tiers = TierTable.of([bank.spec for bank in model.banks])
    return model.tiers


def underwrite(model: ParkModel, buyers: np.ndarray, price: np.ndarray) -> np.ndarray:
    return model.loan_market.underwrite_mna(
        model.enterprises, model.banks, model.tiers, buyers, price, model.quarter
    )


def test_mna_loans_within_the_policy_cap_and_debt_capacity(model: ParkModel) -> None:
    buyers, price = buyers_and_prices(model)
    with_specs(model, max_expected_loss=1.0)
    borrowed = underwrite(model, buyers, price)
    assert len(borrowed) == len(buyers)
    pop, lending = model.enterprises, model.config.lending
    capacity = (
        lending.max_debt_service
        * pop.size[buyers]
        / (4 / lending.mna_term_quarters + lending.base_rate + lending.margin)
    )
    assert np.all(pop.debt[buyers] <= model.policy.mna_loan_cap * price + 1e-9)
    assert np.all(pop.debt[buyers] <= capacity + 1e-9)
    assert np.all(pop.loan_product[buyers] == Product.MNA)
    assert np.all(pop.loan_quarters_left[buyers] == lending.mna_term_quarters)
    assert np.all(pop.loan_policy_cover[buyers] == 0.0)


def test_underwriting_refuses_an_mna_loan_the_banks_test_rejects(model: ParkModel) -> None:
    buyers, price = buyers_and_prices(model)
    with_specs(model, max_expected_loss=1e-6)  # no bank accepts any expected loss
    assert len(underwrite(model, buyers, price)) == 0
    pop = model.enterprises
    assert np.all(pop.loan_status[buyers] == LoanStatus.NONE)
    assert np.all(pop.lender[buyers] == -1)


def test_no_mna_loan_where_the_lenders_tier_lacks_the_product(model: ParkModel) -> None:
    buyers, price = buyers_and_prices(model)
    products = tuple(p for p in BASIC_PRODUCTS if p != "mna")
    with_specs(model, max_expected_loss=1.0, products=products)
    assert len(underwrite(model, buyers, price)) == 0


def test_the_single_name_limit_caps_an_mna_loan(model: ParkModel) -> None:
    buyers, price = buyers_and_prices(model, 1)
    with_specs(model, max_expected_loss=1.0, single_name_limit=0.05)
    pop = model.enterprises
    price *= 1e3  # so that neither the policy cap nor the capacity binds first
    pop.size[buyers] *= 1e3
    assert len(underwrite(model, buyers, price)) == 1
    lender = model.banks[pop.lender[buyers[0]]]
    assert lender.allocated_capital > 0
    assert pop.debt[buyers[0]] == pytest.approx(0.05 * lender.allocated_capital)


def test_offers_respect_debt_capacity_and_the_sector_limit(model: ParkModel) -> None:
    pop, market = model.enterprises, model.loan_market
    rows = pop.active()[:50]
    need = 10.0 * pop.size[rows]  # far above what any firm can service
    view = market.applicants(pop, rows, need, model.quarter)
    tiers = with_specs(model, max_expected_loss=1.0)
    lending, cfg = model.config.lending, model.config
    offers = make_offers(view, tiers, lending, cfg.lifecycle, cfg.credit)
    assert np.all(offers.amount <= debt_capacity(view, lending) + 1e-9)
    # A book wholly in the applicants' sectors refuses every one of them.
    n_banks, n_sectors = len(model.banks), len(model.sectors.names)
    full = BookState(np.full((n_banks, 1), 1e6), np.full((n_banks, n_sectors), 1e6))
    offers = make_offers(view, tiers, lending, cfg.lifecycle, cfg.credit, full)
    assert not offers.approved.any()


def test_mna_loans_in_a_run_never_exceed_the_cap_or_capacity() -> None:
    model = ParkModel(BASELINE, strategy="tier3_light", rng=8, horizon=40)
    lending = model.config.lending
    worst = 0.0
    for _ in range(40):
        model.step()
        pop = model.enterprises
        new = pop.loan_product == Product.MNA
        new &= pop.loan_quarters_left == lending.mna_term_quarters
        new &= pop.loan_status == LoanStatus.PERFORMING
        if new.any():
            service = 4 / lending.mna_term_quarters + lending.base_rate + lending.margin
            worst = max(worst, float((pop.debt[new] * service / pop.size[new]).max()))
    assert worst <= lending.max_debt_service + 1e-9


# ------------------------------------------------------------------ issue 9, item 9


def offers_of(rate: list[list[float]], amount: list[list[float]], need: list[float]) -> Offers:
    """Hand-built offers: rows are banks, columns applicants; every offer approved."""
    rate_, amount_ = np.array(rate), np.array(amount)
    n = rate_.shape[1]
    return Offers(
        approved=np.ones_like(rate_, dtype=bool),
        amount=amount_,
        rate=rate_,
        lgd=np.full_like(rate_, 0.45),
        annual_pd=np.full_like(rate_, 0.02),
        product=np.zeros(rate_.shape, dtype=np.int8),
        posterior_mean=np.zeros_like(rate_),
        cover=np.zeros(n),
        term=np.full(n, 8),
        need=np.array(need),
    )


def test_a_cheap_offer_for_a_third_of_the_need_does_not_beat_a_full_one() -> None:
    # Bank 0: 30 % of the need at 4 %; bank 1: all of it at 6 %. Outside money costs 13.8 %.
    offers = offers_of([[0.04], [0.06]], [[30.0], [100.0]], [100.0])
    assert choose_lenders(offers, np.array([0]), outside_rate=0.138)[0] == 1
    # With cheap outside money the partial offer wins again.
    assert choose_lenders(offers, np.array([1]), outside_rate=0.05)[0] == 0


def test_equal_offers_go_to_the_main_bank() -> None:
    offers = offers_of([[0.05, 0.05], [0.05, 0.05]], [[50.0, 50.0], [50.0, 50.0]], [50, 50])
    assert list(choose_lenders(offers, np.array([1, 0]), outside_rate=0.138)) == [1, 0]


def policy_model() -> ParkModel:
    return ParkModel(
        BASELINE,
        strategy="tier1_heavy",
        rng=5,
        park__enterprises=300,
        risk_pool_share=0.5,
        risk_pool_size=1e5,
    )


def test_a_depleted_pool_raises_the_expected_loss_and_price_of_covered_loans() -> None:
    model = policy_model()
    pop, market, cfg = model.enterprises, model.loan_market, model.config
    rows = pop.active()[pop.stage[pop.active()] <= Stage.GROWTH][:80]
    view = market.applicants(pop, rows, 0.2 * pop.size[rows], model.quarter)
    book = market.book_state(pop, model.banks)
    assert book.pool_availability == 1.0
    full = make_offers(view, model.tiers, cfg.lending, cfg.lifecycle, cfg.credit, book)
    empty = dataclasses.replace(book, pool_availability=0.0)
    dry = make_offers(view, model.tiers, cfg.lending, cfg.lifecycle, cfg.credit, empty)
    assert np.all(dry.rate >= full.rate) and np.any(dry.rate > full.rate)
    assert dry.approved.sum() < full.approved.sum()
    # The pool is counted on less once its capital falls short of expected claims.
    model.risk_pool.remaining = 1.0
    assert market.book_state(pop, model.banks).pool_availability < 1.0


def test_the_banks_prior_is_the_cohorts_mean_quality() -> None:
    model = ParkModel(BASELINE, strategy="tier1_heavy", rng=5, park__enterprises=200)
    pop, market, cfg = model.enterprises, model.loan_market, model.config
    rows = pop.active()[:40]
    view = market.applicants(pop, rows, 0.2 * pop.size[rows], model.quarter)
    better = view._replace(prior=view.prior + 0.5)

    def annual_pd(applicants):
        offers = make_offers(applicants, model.tiers, cfg.lending, cfg.lifecycle, cfg.credit)
        return offers.annual_pd

    # A noisy (1.0) bank leans on the prior: a better cohort means a lower PD estimate.
    assert np.all(annual_pd(better) < annual_pd(view))
    entrants = ParkModel(BASELINE, strategy="tier3_light", rng=5, park__enterprises=200).run(4)
    new = entrants.enterprises.entered_quarter > 0
    assert new.any() and np.all(entrants.enterprises.quality_prior[new] > 0)


def test_collateral_recoveries_are_the_unlost_part_of_defaulted_balances() -> None:
    model = ParkModel(BASELINE, strategy="tier2_heavy", rng=2, horizon=12).run()
    ts = model.timeseries()
    assert ts["collateral_recoveries"].sum() > 0
    for led in model.focal_bank.history[1:]:
        gross = led.credit_loss + led.policy_recoveries
        assert led.collateral_recoveries == pytest.approx(
            led.defaulted_exposure - gross, rel=1e-9, abs=1e-6
        )


def test_a_tier1_bank_offers_trade_finance_and_earns_advisory_fees() -> None:
    spec = TIER_SPECS[1.0]
    assert "trade_finance" in spec.products and spec.advisory_capture > 0

    def run(capture: float) -> ParkModel:
        model = ParkModel(BASELINE, strategy="tier1_heavy", rng=3, horizon=20)
        bank = model.focal_bank
        bank.spec = dataclasses.replace(bank.spec, advisory_capture=capture)
        return model.run()

    with_fees, without = run(spec.advisory_capture), run(0.0)
    pop = with_fees.enterprises
    assert np.any(pop.loan_product[pop.lender == 0] == Product.TRADE_FINANCE)
    fees = with_fees.timeseries()["fee_income"].sum()
    assert fees > without.timeseries()["fee_income"].sum()
