"""The compiled per-firm kernels against their numpy references, bit for bit.

The references are the vectorised passes the kernels replaced (parksim 0.3.0): each test
takes a real population part-way through a run, applies the kernel to one copy and the
reference to another, and requires every column and every event to be identical.
"""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest

from parksim import ParkModel
from parksim.banks.book import (
    close_books,
    count_borrowers,
    sell_down,
    service,
    take_defaults,
    write_off,
)
from parksim.banks.decisions import record_decisions
from parksim.banks.income import client_sums
from parksim.banks.lending import (
    SECTOR_HEADROOM,
    Applicants,
    BookState,
    Offers,
    applications,
    book_loans,
    choose_lenders,
    make_offers,
)
from parksim.banks.mna import IN_PARK_ACQUIRER_SHARE, in_park_deals
from parksim.banks.risk import (
    OPERATIONAL_ALPHA,
    OPERATIONAL_QUARTERS,
    BookRisk,
    book_risk,
    ga_delta,
    operational_capitals,
    pairwise_sum,
    stake_and_operator_capital,
)
from parksim.banks.stakes import cost_by_bank, realise_stakes
from parksim.core.codes import PRODUCTS, CreditDecision, FinanceState, LoanStatus, Stage
from parksim.core.population import N_ACTIVE_STAGES, stage_table
from parksim.core.streams import Mechanism
from parksim.credit import basel_capital, basel_capital_terms, loan_lgd
from parksim.enterprises.lifecycle import LifecycleEvents
from parksim.policy import claims_by_bank

BASELINE = "scenarios/baseline.toml"


# --- numpy references ------------------------------------------------------------------


def _finance(state, funded, refused):
    table = np.array([1.0, funded, refused])  # FinanceState NONE, FUNDED, REFUSED
    return table[state]


def reference_book_risk(debt, by_sector, performing, pd, lgd, quarters_left) -> BookRisk:
    """parksim 0.4.0's `book_risk`: Basel capital from PD and LGD at every close."""
    total = debt.sum()
    if total <= 0:
        return BookRisk()
    share = np.sort(debt)[::-1] / total
    sector_share = by_sector / by_sector.sum()
    ead = debt[performing]
    maturity = np.clip(quarters_left[performing] / 4.0, 1.0, 5.0)
    k = np.asarray(basel_capital(pd[performing], lgd[performing], maturity), dtype=float)
    ga = 0.0
    if ead.sum() > 0:
        ead_share = ead / ead.sum()
        k_star = float((ead_share * k).sum())
        if k_star > 0:
            c = lgd[performing] + 0.25 * (1.0 - lgd[performing])
            q = ga_delta() * (k + lgd[performing] * pd[performing]) - k
            ga = float((ead_share**2 * c * q).sum() / (2.0 * k_star))
    return BookRisk(
        largest_exposure_share=float(share[0]),
        top10_exposure_share=float(share[:10].sum()),
        hhi_exposure=float((share**2).sum()),
        sector_hhi=float((sector_share**2).sum()),
        capital_irb=float((ead * k).sum()),
        granularity_adjustment=ga * float(ead.sum()),
    )


def reference_limit_exposures(pop, rows):
    performing = pop.loan_status[rows] == LoanStatus.PERFORMING
    return pop.debt[rows] * np.where(performing, 1.0, 1.0 - pop.loan_lgd[rows])


def reference_name_cap(debt, limit):
    total = debt.sum()
    if total <= 0 or debt.max() <= limit * total:
        return np.inf
    d = np.sort(debt)[::-1]
    rest = total
    for k in range(1, len(d)):
        rest -= d[k - 1]
        if k * limit >= 1.0:
            return np.inf
        cap = limit * rest / (1.0 - k * limit)
        if d[k] <= cap <= d[k - 1]:
            return float(cap)
    return np.inf


def reference_sell_down(pop, banks, quarter):
    rows = pop.loan_rows()
    lender = pop.lender[rows]
    counted = reference_limit_exposures(pop, rows)
    sold = np.zeros(len(banks))
    for bank in banks:
        own = (lender == bank.index).nonzero()[0]
        if len(own) == 0:
            continue
        cap = reference_name_cap(counted[own], bank.spec.single_name_limit)
        over = own[counted[own] > cap * (1.0 + 1e-9)]
        over = over[pop.default_quarter[rows[over]] < quarter]
        if len(over) == 0:
            continue
        keep = cap / counted[over]
        sold[bank.index] = float((pop.debt[rows[over]] * (1.0 - keep)).sum())
        pop.debt[rows[over]] *= keep
    return sold


def operational_capital(gross_income: np.ndarray) -> float:
    """parksim 0.4.0's one-bank operational capital: 15 % of the last twelve quarters'
    mean gross income annualised, nothing while it is negative."""
    recent = np.asarray(gross_income, dtype=float)[-OPERATIONAL_QUARTERS:]
    if len(recent) == 0:
        return 0.0
    return OPERATIONAL_ALPHA * max(0.0, 4.0 * float(recent.mean()))


def reference_close_books(pop, banks, quarterly_pd, n_sectors, quarter):
    """parksim 0.4.0's `close_books`: bincounts by bank, then each bank's book risk."""
    sold = reference_sell_down(pop, banks, quarter)
    rows = pop.loan_rows()
    lender, debt = pop.lender[rows], pop.debt[rows]
    performing = pop.loan_status[rows] == LoanStatus.PERFORMING
    stage = pop.stage[rows]
    exited = (stage > Stage.LISTED).nonzero()[0]
    stage[exited] = pop.last_active_stage[rows[exited]]
    net_lgd = pop.loan_lgd[rows] * (1.0 - pop.loan_policy_cover[rows])
    loss_rate = quarterly_pd[rows] * net_lgd
    n = len(banks)

    def per_bank(weights):
        return np.bincount(lender, weights=weights, minlength=n)

    exposure = per_bank(debt)
    npl = per_bank(debt * ~performing)
    borrowers = per_bank(performing.astype(float))
    expected = per_bank(debt * performing * loss_rate)
    cells = lender * N_ACTIVE_STAGES + stage
    by_stage = np.bincount(cells, weights=debt, minlength=n * N_ACTIVE_STAGES)
    by_stage = by_stage.reshape(n, N_ACTIVE_STAGES)
    cells = lender * n_sectors + pop.sector[rows]
    by_sector = np.bincount(cells, weights=debt, minlength=n * n_sectors).reshape(n, n_sectors)
    counted = reference_limit_exposures(pop, rows)
    for bank in banks:
        led, b = bank.ledger, bank.index
        led.sold_down = sold[b]
        led.exposure, led.npl_balance = exposure[b], npl[b]
        led.borrowers, led.expected_loss = int(borrowers[b]), expected[b]
        led.exposure_by_stage = by_stage[b]
        led.exposure_by_sector = by_sector[b]
        mine = (lender == b).nonzero()[0]
        risk = reference_book_risk(
            counted[mine],
            by_sector[b],
            performing[mine],
            pop.loan_pd[rows[mine]],
            net_lgd[mine],
            pop.loan_quarters_left[rows[mine]],
        )
        past = bank.history[-(OPERATIONAL_QUARTERS - 1) :]
        income = np.array([h.gross_income for h in past] + [led.gross_income])
        operational = operational_capital(income)
        equity, operator = stake_and_operator_capital(
            float(pop.bank_stake_cost[:, b].sum()), bank.operator_loan
        )
        led.risk = dataclasses.replace(
            risk,
            capital_operational=operational,
            capital_equity=equity,
            capital_operator=operator,
        )
        bank.close_quarter()


def reference_service(pop, banks, funding_cost) -> None:
    """parksim 0.4.0's `service`: bincounts over the NPL and performing rows."""
    n = len(banks)
    npl = (pop.loan_status == LoanStatus.NON_PERFORMING).nonzero()[0]
    npl_funding = np.bincount(
        pop.lender[npl], weights=pop.debt[npl] * funding_cost / 4.0, minlength=n
    )
    rows = (pop.loan_status == LoanStatus.PERFORMING).nonzero()[0]
    lender, debt = pop.lender[rows], pop.debt[rows]
    left = pop.loan_quarters_left[rows]
    repaid = debt / np.maximum(left, 1)
    weights = debt * (pop.loan_rate[rows] - funding_cost) / 4.0
    interest = np.bincount(lender, weights=weights, minlength=n)
    repayments = np.bincount(lender, weights=repaid, minlength=n)
    pop.debt[rows] = debt - repaid
    pop.loan_quarters_left[rows] = left - 1
    done = rows[(left <= 1).nonzero()[0]]
    pop.loan_status[done] = LoanStatus.NONE
    pop.lender[done] = -1
    pop.loan_quarters_left[done] = 0
    for bank in banks:
        bank.ledger.net_interest_income += interest[bank.index] - npl_funding[bank.index]
        bank.ledger.repayments += repayments[bank.index]


def reference_take_defaults(pop, banks, failed, stage_before, quarter):
    """parksim 0.4.0's `take_defaults`: bincounts over the failed borrowers."""
    n = len(banks)
    rows = failed[(pop.loan_status[failed] == LoanStatus.PERFORMING).nonzero()[0]]
    pop.loan_status[rows] = LoanStatus.NON_PERFORMING
    pop.default_quarter[rows] = quarter
    lender, balance = pop.lender[rows], pop.debt[rows]
    gross = balance * pop.loan_lgd[rows]
    exposure = np.bincount(lender, weights=balance, minlength=n)
    collateral = np.bincount(lender, weights=balance - gross, minlength=n)
    cells = lender * N_ACTIVE_STAGES + stage_before[rows]
    by_stage = np.bincount(cells, minlength=n * N_ACTIVE_STAGES).reshape(n, N_ACTIVE_STAGES)
    for bank in banks:
        bank.ledger.collateral_recoveries += collateral[bank.index]
        bank.ledger.defaults += int(by_stage[bank.index].sum())
        bank.ledger.defaulted_exposure += exposure[bank.index]
        bank.ledger.defaults_by_stage += by_stage[bank.index]
    return rows, gross


def reference_write_off(pop, banks, quarter, workout_quarters) -> None:
    due = (pop.loan_status == LoanStatus.NON_PERFORMING) & (
        pop.default_quarter <= quarter - workout_quarters
    )
    rows = due.nonzero()[0]
    written = np.bincount(pop.lender[rows], weights=pop.debt[rows], minlength=len(banks))
    pop.debt[rows] = 0.0
    pop.loan_status[rows] = LoanStatus.NONE
    pop.lender[rows] = -1
    pop.loan_quarters_left[rows] = 0
    for bank in banks:
        bank.ledger.written_off += written[bank.index]


def reference_borrowers_by_stage(pop, n_banks) -> np.ndarray:
    rows = (pop.loan_status == LoanStatus.PERFORMING).nonzero()[0]
    cells = pop.lender[rows] * N_ACTIVE_STAGES + pop.stage[rows]
    counts = np.bincount(cells, minlength=n_banks * N_ACTIVE_STAGES)
    return counts.reshape(n_banks, N_ACTIVE_STAGES).astype(float)


def reference_clients(pop, n_banks, income, firms, quarter) -> tuple[np.ndarray, ...]:
    """parksim 0.4.0's clients' revenue, client counts, bond issuers' revenue and
    unlocked founders' wealth of `earn_income`, by main bank."""
    main = pop.main_bank
    active = pop.stage <= Stage.LISTED
    revenue = np.bincount(main, weights=pop.size * active, minlength=n_banks)
    book = pop.loan_rows()
    outside = book[((main[book] != pop.lender[book]) & active[book]).nonzero()[0]]
    clients = np.bincount(main, weights=active, minlength=n_banks)
    clients += np.bincount(pop.lender[outside], minlength=n_banks)
    issuers = ((pop.stage == Stage.PRE_IPO) | (pop.stage == Stage.LISTED)).nonzero()[0]
    issues = firms.uniforms(Mechanism.BOND_ISSUE, quarter, pop.stream_id[issuers])
    issuers = issuers[issues < income.bond_issue_prob]
    bonds = np.bincount(main[issuers], weights=pop.size[issuers], minlength=n_banks)
    unlock_quarter = quarter - income.lockup_quarters
    unlocked = (pop.listed_quarter == unlock_quarter).nonzero()[0]
    if unlock_quarter < 0:  # -1 marks firms that never listed
        unlocked = unlocked[:0]
    wealth = np.bincount(
        main[unlocked], weights=income.founder_share * pop.valuation[unlocked], minlength=n_banks
    )
    return revenue, clients, bonds, wealth


# --- the tests -------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["tier1_heavy", "tier3_light"])
def model(request) -> ParkModel:
    """A park part-way through a run, with exits, leaders, loans and stakes."""
    return ParkModel(BASELINE, request.param, rng=5, collect=False, park__enterprises=3000).run(12)


def columns(pop) -> dict[str, np.ndarray]:
    return {c.name: getattr(pop, c.name).copy() for c in pop.columns()}


def assert_same_population(a, b) -> None:
    for name, values in columns(a).items():
        np.testing.assert_array_equal(values, getattr(b, name), err_msg=name)


def reference_realise(pop, banks, events, income) -> tuple[list[float], float]:
    pop.valuation[events.listed] *= income.listing_multiple
    exits = np.concatenate([events.listed, events.acquired, events.relocated, events.failed])
    value = pop.valuation[exits].copy()
    start = len(events.listed)
    value[start : start + len(events.acquired)] *= income.acquisition_multiple
    value[len(exits) - len(events.failed) :] = 0.0
    gains = pop.bank_stake[exits] * value[:, None] - pop.bank_stake_cost[exits]
    exercised = start + len(events.acquired)
    strike = pop.warrant_strike[exits[:exercised]]
    safe = np.where(strike > 0, strike, 1.0)
    payoff = np.maximum(value[:exercised, None] - strike, 0.0)
    gains[:exercised] += payoff * pop.warrant_notional[exits[:exercised]] / safe * (strike > 0)
    operator = pop.operator_stake[exits] * value - pop.operator_stake_cost[exits]
    for column in ("warrant_notional", "warrant_strike", "bank_stake", "bank_stake_cost"):
        getattr(pop, column)[exits] = 0.0
    pop.operator_stake[exits] = 0.0
    pop.operator_stake_cost[exits] = 0.0
    return [float(gains[:, b].sum()) for b in range(len(banks))], float(operator.sum())


def test_stakes_are_realised_as_the_numpy_reference_does(model: ParkModel) -> None:
    pop, rng = copy.deepcopy(model.enterprises), np.random.default_rng(2)
    rows = rng.permutation((pop.stage <= Stage.LISTED).nonzero()[0])[:400]
    shape = (len(rows), pop.bank_stake.shape[1])
    held = rng.random(shape) < 0.5  # some stakes and warrants, some none
    pop.bank_stake[rows] = 0.05 * rng.random(shape) * held
    pop.bank_stake_cost[rows] = 100.0 * rng.random(shape) * held
    pop.warrant_notional[rows] = 50.0 * rng.random(shape) * ~held
    pop.warrant_strike[rows] = pop.valuation[rows, None] * rng.uniform(0.5, 1.5, shape) * ~held
    pop.operator_stake[rows] = 0.02 * rng.random(len(rows))
    pop.operator_stake_cost[rows] = 10.0 * rng.random(len(rows))
    k = len(rows) // 4
    events = LifecycleEvents(
        failed=np.sort(rows[:k]),
        graduated=np.sort(rows[k : 2 * k]),
        listed=np.sort(rows[k : 2 * k]),
        relocated=np.sort(rows[2 * k : 3 * k]),
        acquired=np.sort(rows[3 * k :]),
    )
    kernel_pop, numpy_pop = copy.deepcopy(pop), copy.deepcopy(pop)
    kernel_banks, numpy_banks = copy.deepcopy(model.banks), copy.deepcopy(model.banks)
    before = [bank.ledger.equity_income for bank in kernel_banks]
    operator = realise_stakes(kernel_pop, kernel_banks, events, model.config.income)
    gains, want_operator = reference_realise(numpy_pop, numpy_banks, events, model.config.income)
    assert operator == want_operator
    for bank, start, gain in zip(kernel_banks, before, gains, strict=True):
        assert bank.ledger.equity_income == start + gain
    assert_same_population(kernel_pop, numpy_pop)


def test_stake_costs_add_up_as_numpys_column_sum(model: ParkModel) -> None:
    cost = model.enterprises.bank_stake_cost
    np.testing.assert_array_equal(cost_by_bank(cost), cost.sum(axis=0))
    noisy = np.random.default_rng(3).lognormal(0.0, 3.0, (50_001, 3))
    np.testing.assert_array_equal(cost_by_bank(noisy), noisy.sum(axis=0))


# --- the loan market and equity rounds (numpy references of parksim 0.4.0) -------------


def reference_applications(pop, rows, params, policy, streams, quarter):
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


def reference_chain_supported(pop, rows):
    leader = pop.leader_row[rows]
    linked = (leader >= 0).nonzero()[0]
    supported = np.zeros(len(leader), dtype=bool)
    supported[linked] = pop.stage[leader[linked]] <= Stage.LISTED
    return supported


def reference_product_limits(pop, rows, stage, params, quarter):
    limits = np.zeros((len(PRODUCTS), len(rows)))
    size = pop.size[rows]
    limits[0] = params.ltv * pop.collateral[rows]
    track_record = quarter - pop.entered_quarter[rows] >= params.credit_history_quarters
    limits[1] = params.credit_history_ratio * size * (track_record & (stage >= Stage.GROWTH))
    limits[2] = params.ip_pledge_ratio * pop.ip_value[rows] * (stage <= Stage.GROWTH)
    last_round = pop.last_round_quarter[rows]
    recent = (last_round >= 0) & (quarter - last_round <= params.investment_window_quarters)
    limits[3] = params.investment_linked_ratio * pop.last_round_size[rows] * recent
    extra = max(0.0, params.supply_chain_ratio - params.trade_finance_ratio)
    limits[4] = extra * size * reference_chain_supported(pop, rows)
    limits[6] = params.trade_finance_ratio * size * (stage >= Stage.STARTUP)
    return limits


def reference_applicants(pop, rows, need, quarter, lending, lifecycle, sectors, policy):
    stage = pop.stage[rows]
    base_pd = np.asarray(lifecycle.failure_pd)[stage] * sectors.failure[pop.sector[rows]]
    eligible = stage <= Stage.GROWTH
    cover = policy.guarantee_share + (1.0 - policy.guarantee_share) * policy.risk_pool_share
    return Applicants(
        rows=rows,
        need=need,
        stage=stage,
        age=quarter - pop.entered_quarter[rows],
        quality=pop.quality[rows],
        signal_error=np.take(pop.signal_error, rows, axis=0),
        base_pd=base_pd * lifecycle.funded_failure_mult,
        limits=reference_product_limits(pop, rows, stage, lending, quarter),
        cover=np.where(eligible, cover, 0.0),
        guarantee=np.where(eligible, policy.guarantee_share, 0.0),
        prior=pop.quality_prior[rows],
        revenue=pop.size[rows],
        sector=pop.sector[rows],
        term=np.full(len(rows), lending.loan_term_quarters),
    )


def reference_posterior(applicants, tiers):
    h = tiers.history_quarters
    shape = (len(h), len(applicants.age))
    learned = np.divide(h, h + applicants.age, out=np.ones(shape), where=h > 0)
    sigma = tiers.signal_noise * np.sqrt(learned)
    signal = applicants.quality + sigma * applicants.signal_error.T
    shrink = 1.0 / (1.0 + sigma**2)
    return (signal + sigma**2 * applicants.prior) * shrink, sigma**2 * shrink


def reference_offers(applicants, tiers, lending, lifecycle, credit, book=None):
    """parksim 0.4.0's make_offers; returns its arrays and the product of every offer."""
    by_product = tiers.offered[:, :, None] * applicants.limits
    amount = np.minimum(applicants.need, by_product.sum(axis=1))
    annual_service = 4.0 / applicants.term + lending.base_rate + lending.margin
    amount = np.minimum(amount, lending.max_debt_service * applicants.revenue / annual_service)
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
    post_mean, post_var = reference_posterior(applicants, tiers)
    beta = lifecycle.quality_risk
    quarterly = applicants.base_pd * np.exp(-beta * post_mean + 0.5 * beta**2 * (post_var - 1.0))
    np.minimum(quarterly, 0.95, out=quarterly)
    annual_pd = 1.0 - (1.0 - quarterly) ** 4
    cover = applicants.cover
    if book is not None and book.pool_availability < 1.0:
        pool_part = applicants.cover - applicants.guarantee
        cover = applicants.guarantee + pool_part * book.pool_availability
    expected_loss = annual_pd * lgd * (1.0 - cover)
    approved = (amount >= lending.min_loan) & (expected_loss <= tiers.max_expected_loss)
    approved &= within_sector
    rate = np.minimum(lending.base_rate + lending.margin + expected_loss, lending.max_rate)
    product = np.argmax(by_product, axis=1).astype(np.int8)
    return Offers(
        approved, amount, rate, lgd, annual_pd, product, post_mean,
        applicants.cover, applicants.term, applicants.need,
    )  # fmt: skip


def reference_choose(offers, main_bank, outside_rate):
    shortfall = np.maximum(offers.need - offers.amount, 0.0)
    cost = offers.rate * offers.amount + outside_rate * shortfall
    cost = np.where(offers.approved, cost, np.inf)
    cost[main_bank, np.arange(cost.shape[1])] *= 1.0 - 1e-9
    chosen = np.argmin(cost, axis=0)
    chosen[~np.isfinite(cost.min(axis=0))] = -1
    return chosen


def reference_book(pop, applicants, chosen, offers):
    taken = (chosen >= 0).nonzero()[0]
    bank = chosen[taken]
    rows = applicants[taken]
    pop.lender[rows] = bank
    pop.debt[rows] = offers.amount[bank, taken]
    pop.loan_rate[rows] = offers.rate[bank, taken]
    pop.loan_lgd[rows] = offers.lgd[bank, taken]
    pop.loan_pd[rows] = offers.annual_pd[bank, taken]
    pop.loan_product[rows] = offers.product[bank, taken]
    pop.loan_quarters_left[rows] = offers.term[taken]
    pop.loan_status[rows] = LoanStatus.PERFORMING
    pop.loan_policy_cover[rows] = offers.cover[taken]
    net_lgd = pop.loan_lgd[rows] * (1.0 - pop.loan_policy_cover[rows])
    loss, slope = basel_capital_terms(pop.loan_pd[rows], net_lgd)
    pop.loan_irb_loss[rows], pop.loan_irb_slope[rows] = loss, slope
    return rows


def reference_record_decisions(pop, applicants, offers, lender, quarter):
    """parksim 0.4.0's record_decisions."""
    rows = applicants.rows
    pop.bank_view[rows] = offers.view.T
    pop.bank_pd[rows] = offers.annual_pd.T
    decision = np.where(offers.approved.T, CreditDecision.APPROVED, CreditDecision.REFUSED)
    pop.bank_decision[rows] = decision
    pop.loan_applied_quarter[rows] = quarter
    pop.loan_outcome[rows] = np.where(lender >= 0, FinanceState.FUNDED, FinanceState.REFUSED)


def reference_book_state(market, pop, n_banks):
    rows = pop.loan_rows()
    lender, debt = pop.lender[rows], pop.debt[rows]
    n_sectors = len(market.sectors.names)
    cells = lender * n_sectors + pop.sector[rows]
    by_sector = np.bincount(cells, weights=debt, minlength=n_banks * n_sectors)
    by_sector = by_sector.reshape(n_banks, n_sectors)
    exposure = by_sector.sum(axis=1, keepdims=True)
    return BookState(exposure, by_sector, market.pool_availability(pop), market.sector_mix)


def assert_same_fields(got, want) -> None:
    for field in dataclasses.fields(want):
        np.testing.assert_array_equal(
            getattr(got, field.name), getattr(want, field.name), err_msg=field.name
        )


@pytest.fixture(scope="module")
def pool_model() -> ParkModel:
    """A park with a risk pool (cover beyond the guarantee) part-way through a run."""
    return ParkModel(
        BASELINE, "tier2_light", rng=6, collect=False, park__enterprises=3000,
        risk_pool_share=0.5, risk_pool_size=1e5, guarantee_share=0.3,
    ).run(10)  # fmt: skip


def test_the_loan_market_equals_the_numpy_reference(model: ParkModel) -> None:
    check_loan_market(model)


def test_the_loan_market_with_a_risk_pool_equals_the_numpy_reference(pool_model) -> None:
    check_loan_market(pool_model)
    assert pool_model.loan_market.policy.risk_pool_share > 0


def check_loan_market(model: ParkModel) -> None:
    """Applications, what banks see, offers with and without book limits, the choice of
    lender and the booking, each against its numpy reference."""
    pop, market, tiers = copy.deepcopy(model.enterprises), model.loan_market, model.tiers
    lending, firms, q = market.lending, model.streams.firms, model.quarter + 1
    args = (lending, market.policy, firms, q)
    for rows in (slice(None), pop.active()):
        got = applications(pop, rows, *args)
        want = reference_applications(pop, rows, *args)
        for g, w in zip(got, want, strict=True):
            np.testing.assert_array_equal(g, w)
    applicants, need = applications(pop, slice(None), *args)
    assert len(applicants) > 100
    view = market.applicants(pop, applicants, need, q)
    context = (lending, market.lifecycle, market.sectors, market.policy)
    assert_same_fields(view, reference_applicants(pop, applicants, need, q, *context))
    book = market.book_state(pop, len(model.banks))
    assert_same_fields(book, reference_book_state(market, pop, len(model.banks)))
    no_mix = dataclasses.replace(book, sector_mix=None)
    dry = dataclasses.replace(book, pool_availability=0.3)
    credit = (lending, market.lifecycle, market.credit)
    for state in (None, book, no_mix, dry):
        offers = make_offers(view, tiers, *credit, state)
        assert_same_fields(offers, reference_offers(view, tiers, *credit, state))
    assert offers.approved.any() and not offers.approved.all()
    main = pop.main_bank[applicants]
    lender = choose_lenders(offers, main, lending.outside_rate)
    np.testing.assert_array_equal(lender, reference_choose(offers, main, lending.outside_rate))
    assert (lender >= 0).any() and (lender < 0).any()
    kernel_pop, numpy_pop = copy.deepcopy(pop), copy.deepcopy(pop)
    got = book_loans(kernel_pop, applicants, lender, offers)
    np.testing.assert_array_equal(got, reference_book(numpy_pop, applicants, lender, offers))
    assert_same_population(kernel_pop, numpy_pop)
    record_decisions(kernel_pop, view, offers, lender, q)
    reference_record_decisions(numpy_pop, view, offers, lender, q)
    assert_same_population(kernel_pop, numpy_pop)


def test_main_bank_ties_and_refusals_choose_as_the_numpy_reference() -> None:
    rng = np.random.default_rng(4)
    n_banks, n = 3, 2000
    rate = rng.choice([0.04, 0.05, 0.06], (n_banks, n))
    amount = rng.choice([50.0, 80.0, 100.0], (n_banks, n))
    offers = Offers(
        rng.random((n_banks, n)) < 0.6, amount, rate, rate, rate,
        np.zeros((n_banks, n), np.int8), rate, np.zeros(n), np.full(n, 8), np.full(n, 100.0),
    )  # fmt: skip
    main = rng.integers(-1, n_banks, n)  # -1 is numpy's last bank
    for outside in (0.05, 0.138):
        np.testing.assert_array_equal(
            choose_lenders(offers, main, outside), reference_choose(offers, main, outside)
        )


@pytest.mark.parametrize("n", [*range(0, 300), 1000, 8191, 8192, 8193, 50_001, 300_000])
def test_pairwise_sum_adds_up_as_numpys_sum(n: int) -> None:
    rng = np.random.default_rng(n)
    values = rng.lognormal(0.0, 3.0, n) * rng.choice([-1.0, 1.0], n)
    assert pairwise_sum(values) == values.sum()
    table = rng.lognormal(0.0, 3.0, (n, 3))
    assert pairwise_sum(table[:, 1]) == table[:, 1].sum()  # a strided column too


@pytest.mark.parametrize("quarters", range(1, OPERATIONAL_QUARTERS + 4))
def test_every_banks_operational_capital_is_its_own(quarters: int) -> None:
    rng = np.random.default_rng(quarters)
    income = rng.normal(50.0, 80.0, (3, quarters))  # some banks' mean below zero
    income[0, 0] = -0.0
    expected = [operational_capital(row.copy()) for row in income]
    assert operational_capitals(income) == expected


def test_book_risk_equals_the_numpy_reference(model: ParkModel) -> None:
    pop, rng = model.enterprises, np.random.default_rng(4)
    rows = pop.loan_rows()
    for size in (3, 9, 150, len(rows)):  # below and above numpy's 8- and 128-value blocks
        mine = rng.permutation(rows)[:size]
        debt = pop.debt[mine] * rng.uniform(0.0, 2.0, size)
        performing = rng.random(size) < 0.9
        pd, lgd = pop.loan_pd[mine], pop.loan_lgd[mine] * (1.0 - pop.loan_policy_cover[mine])
        left = pop.loan_quarters_left[mine] + rng.integers(0, 30, size).astype(np.int16)
        by_sector = rng.lognormal(5.0, 1.0, 6)
        args = (debt, by_sector, performing, pd, lgd, left)
        assert book_risk(*args) == reference_book_risk(*args)


def ledgers(banks) -> list[dict]:
    return [dataclasses.asdict(bank.history[-1]) for bank in banks]


def assert_same_ledgers(got, want) -> None:
    for a, b in zip(got, want, strict=True):
        assert a.keys() == b.keys()
        for field in a:
            if isinstance(a[field], dict):  # the book risk
                assert a[field] == b[field], field
            else:
                np.testing.assert_array_equal(a[field], b[field], err_msg=field)


@pytest.mark.parametrize("oversize", [False, True])
def test_books_close_as_the_numpy_reference_closes_them(model: ParkModel, oversize: bool) -> None:
    """Every bank's closing stocks, risk and capital, and the balances sold down."""
    pop = copy.deepcopy(model.enterprises)
    rows = pop.loan_rows()
    assert (pop.loan_status[rows] == LoanStatus.NON_PERFORMING).any()
    assert (pop.stage[rows] > Stage.LISTED).any()  # failed borrowers count at their old stage
    if oversize:  # names above the single-name limit, performing and NPL, to be sold down
        pop.debt[rows[::40]] *= 30.0
    kernel_pop, numpy_pop = copy.deepcopy(pop), copy.deepcopy(pop)
    kernel_banks, numpy_banks = copy.deepcopy(model.banks), copy.deepcopy(model.banks)
    n_sectors, q = len(model.sectors.names), model.quarter
    close_books(kernel_pop, kernel_banks, kernel_pop.pd, n_sectors, q)
    reference_close_books(numpy_pop, numpy_banks, numpy_pop.pd, n_sectors, q)
    assert_same_ledgers(ledgers(kernel_banks), ledgers(numpy_banks))
    assert_same_population(kernel_pop, numpy_pop)
    sold = [bank.history[-1].sold_down for bank in kernel_banks]
    assert (max(sold) > 0) == oversize


def test_the_opening_sell_down_equals_the_numpy_reference(model: ParkModel) -> None:
    pop = copy.deepcopy(model.enterprises)
    pop.debt[pop.loan_rows()[::25]] *= 40.0
    kernel_pop, numpy_pop = copy.deepcopy(pop), copy.deepcopy(pop)
    got = sell_down(kernel_pop, model.banks, model.quarter)
    want = reference_sell_down(numpy_pop, model.banks, model.quarter)
    np.testing.assert_array_equal(got, want)
    assert got.max() > 0
    assert_same_population(kernel_pop, numpy_pop)


def test_loans_are_serviced_as_the_numpy_reference_services_them(model: ParkModel) -> None:
    pop = copy.deepcopy(model.enterprises)
    rows = pop.loan_rows()
    pop.loan_quarters_left[rows[::9]] = 1  # loans that are repaid this quarter
    pop.loan_quarters_left[rows[1::37]] = 0
    kernel_pop, numpy_pop = copy.deepcopy(pop), copy.deepcopy(pop)
    kernel_banks, numpy_banks = copy.deepcopy(model.banks), copy.deepcopy(model.banks)
    funding = model.config.lending.funding_cost
    service(kernel_pop, kernel_banks, funding)
    reference_service(numpy_pop, numpy_banks, funding)
    for got, want in zip(kernel_banks, numpy_banks, strict=True):
        assert got.ledger.net_interest_income == want.ledger.net_interest_income
        assert got.ledger.repayments == want.ledger.repayments
    assert_same_population(kernel_pop, numpy_pop)
    assert len(kernel_pop.loan_rows()) < len(rows)


def test_borrowers_are_counted_as_the_numpy_reference_counts_them(model: ParkModel) -> None:
    banks = copy.deepcopy(model.banks)
    count_borrowers(model.enterprises, banks)
    want = reference_borrowers_by_stage(model.enterprises, len(banks))
    for bank in banks:
        np.testing.assert_array_equal(bank.ledger.borrowers_by_stage, want[bank.index])


@pytest.mark.parametrize("lockup_ends", [False, True])
def test_clients_are_counted_as_the_numpy_reference_counts_them(
    model: ParkModel, lockup_ends: bool
) -> None:
    pop, n_banks, firms = model.enterprises, len(model.banks), model.streams.firms
    income = dataclasses.replace(model.config.income, bond_issue_prob=0.3)
    listings = np.unique(pop.listed_quarter[pop.listed_quarter >= 0])
    assert len(listings) > 0
    # The quarter whose lock-up ends on a past listing, or one before any could end.
    quarter = int(listings[-1]) + income.lockup_quarters if lockup_ends else 2
    got = client_sums(
        pop.main_bank,
        pop.stage,
        pop.size,
        pop.lender,
        pop.stream_id,
        pop.listed_quarter,
        pop.valuation,
        n_banks,
        int(Stage.LISTED),
        firms.base(Mechanism.BOND_ISSUE, quarter),
        income.bond_issue_prob,
        quarter - income.lockup_quarters,
        income.founder_share,
    )
    want = reference_clients(pop, n_banks, income, firms, quarter)
    for name, a, b in zip(("revenue", "clients", "bonds", "wealth"), got, want, strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert (got[2] > 0).any() and ((got[3] > 0).any() == lockup_ends)
    rows = pop.loan_rows()
    assert (pop.main_bank[rows] != pop.lender[rows]).any()  # borrowers of another bank


def test_claims_add_up_as_the_numpy_reference_adds_them() -> None:
    rng, n, n_banks, guarantee_share = np.random.default_rng(8), 5_000, 3, 0.3
    lender = rng.integers(0, n_banks, n)
    cover = np.where(rng.random(n) < 0.6, rng.uniform(0.3, 0.8, n), 0.0)
    gross = rng.lognormal(4.0, 2.0, n)
    covered = cover > 0
    want = (
        np.bincount(lender, weights=gross, minlength=n_banks),
        np.bincount(lender, weights=gross * covered * guarantee_share, minlength=n_banks),
        np.bincount(lender, weights=gross * covered * (cover - guarantee_share), minlength=n_banks),
    )
    got = claims_by_bank(lender, cover, gross, guarantee_share, n_banks)
    for name, a, b in zip(("loss", "guarantee", "pool ask"), got, want, strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)


def test_defaults_are_taken_as_the_numpy_reference_takes_them(model: ParkModel) -> None:
    pop, rng = model.enterprises, np.random.default_rng(6)
    failed = np.sort(rng.choice(pop.n, pop.n // 5, replace=False))  # NPLs and no-loans too
    stage_before = pop.stage.copy()
    kernel_pop, numpy_pop = copy.deepcopy(pop), copy.deepcopy(pop)
    kernel_banks, numpy_banks = copy.deepcopy(model.banks), copy.deepcopy(model.banks)
    q = model.quarter + 1
    rows, gross = take_defaults(kernel_pop, kernel_banks, failed, stage_before, q)
    want_rows, want_gross = reference_take_defaults(numpy_pop, numpy_banks, failed, stage_before, q)
    np.testing.assert_array_equal(rows, want_rows)
    np.testing.assert_array_equal(gross, want_gross)
    assert len(rows) > 10
    for got, want in zip(kernel_banks, numpy_banks, strict=True):
        for name in ("collateral_recoveries", "defaults", "defaulted_exposure"):
            assert getattr(got.ledger, name) == getattr(want.ledger, name), name
        np.testing.assert_array_equal(got.ledger.defaults_by_stage, want.ledger.defaults_by_stage)
    assert_same_population(kernel_pop, numpy_pop)


def test_npls_are_written_off_as_the_numpy_reference_writes_them_off(model: ParkModel) -> None:
    kernel_pop, numpy_pop = copy.deepcopy(model.enterprises), copy.deepcopy(model.enterprises)
    kernel_banks, numpy_banks = copy.deepcopy(model.banks), copy.deepcopy(model.banks)
    npl = numpy_pop.loan_status == LoanStatus.NON_PERFORMING
    q = int(np.median(numpy_pop.default_quarter[npl]))  # some due, some not yet
    write_off(kernel_pop, kernel_banks, q, 0)
    reference_write_off(numpy_pop, numpy_banks, q, 0)
    for got, want in zip(kernel_banks, numpy_banks, strict=True):
        assert got.ledger.written_off == want.ledger.written_off
    assert_same_population(kernel_pop, numpy_pop)
    left = kernel_pop.loan_status == LoanStatus.NON_PERFORMING
    assert 0 < left.sum() < npl.sum()


# --- M&A deals --------------------------------------------------------------------------


def reference_in_park_deals(pop, acquired, streams, quarter):
    """parksim 0.4.0's in_park_deals."""
    none = np.empty(0, dtype=np.intp)
    if len(acquired) == 0:
        return none, none
    keys = pop.stream_id[acquired]
    draws = streams.uniforms(Mechanism.MNA_IN_PARK, quarter, keys)
    picks = streams.uniforms(Mechanism.MNA_PICK, quarter, keys)
    leaders = pop.chain_leaders()
    leaders = leaders[(pop.loan_status[leaders] == LoanStatus.NONE).nonzero()[0]]
    if len(leaders) == 0:
        return none, none
    buyers = leaders[(picks * len(leaders)).astype(np.intp)]
    in_park = (draws < IN_PARK_ACQUIRER_SHARE).nonzero()[0]
    buyers, targets = buyers[in_park], acquired[in_park]
    if len(buyers) > 1:
        buyers, first = np.unique(buyers, return_index=True)
        targets = targets[first]
    return buyers, targets


@pytest.mark.parametrize("count", [0, 1, 2, 40, 400])
def test_in_park_deals_equal_the_numpy_reference(model: ParkModel, count: int) -> None:
    pop, firms = model.enterprises, model.streams.firms
    acquired = np.sort(np.random.default_rng(count).permutation(pop.active())[:count])
    for quarter in range(model.quarter + 1, model.quarter + 6):
        got = in_park_deals(pop, acquired, firms, quarter)
        want = reference_in_park_deals(pop, acquired, firms, quarter)
        for g, w in zip(got, want, strict=True):
            np.testing.assert_array_equal(g, w)
    if count == 400:  # some leaders are picked twice: their first target is the deal
        draws = firms.uniforms(Mechanism.MNA_IN_PARK, quarter, pop.stream_id[acquired])
        assert 0 < len(got[0]) < (draws < IN_PARK_ACQUIRER_SHARE).sum()
