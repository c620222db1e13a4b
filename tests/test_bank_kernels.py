"""The banks' compiled kernels against hand-worked cases, closed forms and properties.

Each test builds a few firms by hand, applies one rule (an offer, a quarter's service, a
default, a write-off, a sale, the close, clients' sums, stakes, M&A deals, the record of
decisions) and checks the numbers a reader can work out on paper from the rule's text.
"""

from __future__ import annotations

import dataclasses
import math
from types import SimpleNamespace

import numpy as np
import pytest

from parksim import ParkModel
from parksim.banks.book import (
    close_books,
    count_borrowers,
    sell_down,
    service,
    take_defaults,
    take_losses,
    write_off,
)
from parksim.banks.decisions import record_decisions
from parksim.banks.income import BondDraw, ClientColumns, client_sums
from parksim.banks.lending import (
    Applicants,
    BookState,
    LendingParams,
    Offers,
    choose_lenders,
    debt_capacity,
    make_offers,
)
from parksim.banks.mna import in_park_deals
from parksim.banks.risk import irb_terms, operational_capitals
from parksim.banks.stakes import cost_by_bank, realise_stakes
from parksim.banks.tiers import TIER_SPECS, TierTable
from parksim.core.codes import CreditDecision, FinanceState, LoanStatus, Product, Stage
from parksim.core.population import EnterprisePopulation
from parksim.credit import basel_capital
from parksim.enterprises.lifecycle import LifecycleEvents
from parksim.policy import PolicyPackage, RiskPool

BASELINE = "scenarios/baseline.toml"
N_BANKS = 3


@pytest.fixture(scope="module")
def model() -> ParkModel:
    """A small park: its scenario's parameters, banks and streams."""
    return ParkModel(BASELINE, "tier2_heavy", rng=1, park__enterprises=30, collect=False)


@pytest.fixture
def banks(model: ParkModel):
    """The model's banks with fresh ledgers and a single-name limit that never binds."""
    banks = model.banks
    for bank in banks:
        bank.spec = dataclasses.replace(bank.spec, single_name_limit=1.0)
        bank.ledger = type(bank.ledger)()
        bank.history.clear()
        bank.gross_incomes.clear()
        bank.operator_loan = 0.0
        bank.allocated_capital = 0.0  # no capital allocated: no single-name cap
    return banks


def firms(n: int, **columns: object) -> EnterprisePopulation:
    """`n` growth firms of sector 0 (columns given override), no loans."""
    pop = EnterprisePopulation(n_banks=N_BANKS, sector_names=("a", "b"))
    values = {"stage": np.full(n, Stage.GROWTH), "sector": np.zeros(n, dtype=np.int64)}
    values.update({k: np.broadcast_to(np.asarray(v), (n,)).copy() for k, v in columns.items()})
    pop.add(**values)
    return pop


def lend(pop: EnterprisePopulation, row: int, bank: int, debt: float, **loan: object) -> None:
    """Give firm `row` a performing loan of `debt` 万元 from `bank` (loan columns given)."""
    pop.lender[row], pop.debt[row] = bank, debt
    pop.loan_status[row] = LoanStatus.PERFORMING
    for name, value in loan.items():
        getattr(pop, name)[row] = value


# --------------------------------------------------------------------- offers (§五(二))


def tier_table(**changes: object) -> TierTable:
    """Three banks that see quality exactly and accept any expected loss: bank 0 with the
    basic products, bank 1 with collateral and IP pledge only, bank 2 with none."""
    base = dict(signal_noise=0.0, history_quarters=0.0, max_expected_loss=1.0, **changes)
    spec = TIER_SPECS[2.0]
    products = (
        ("collateral", "credit_history", "mna", "trade_finance"),
        ("collateral", "ip_pledge"),
        (),
    )
    return TierTable.of([dataclasses.replace(spec, products=p, **base) for p in products])


def one_applicant(model: ParkModel, need: float, **columns: object) -> Applicants:
    """A growth firm aged 20 quarters with revenue 1000, collateral 100 and IP 500 万元."""
    values = {"size": 1000.0, "collateral": 100.0, "ip_value": 500.0, "entered_quarter": 0}
    pop = firms(1, **{**values, **columns})
    market = model.loan_market
    return market.applicants(pop, np.array([0]), np.array([need]), quarter=20)


def test_each_product_lends_what_its_rule_secures(model: ParkModel) -> None:
    lending = model.config.lending
    limits = one_applicant(model, 300.0).limits[:, 0]
    assert limits[Product.COLLATERAL] == pytest.approx(lending.ltv * 100.0)
    assert limits[Product.CREDIT_HISTORY] == pytest.approx(lending.credit_history_ratio * 1000)
    assert limits[Product.IP_PLEDGE] == pytest.approx(lending.ip_pledge_ratio * 500.0)
    assert limits[Product.TRADE_FINANCE] == pytest.approx(lending.trade_finance_ratio * 1000)
    # No round, no chain leader, no acquisition: nothing from those products.
    for product in (Product.INVESTMENT_LINKED, Product.SUPPLY_CHAIN, Product.MNA):
        assert limits[product] == 0.0
    # A listed firm is past the IP-pledge stages; a young one has no track record.
    assert one_applicant(model, 300.0, stage=Stage.LISTED).limits[Product.IP_PLEDGE, 0] == 0.0
    young = one_applicant(model, 300.0, entered_quarter=19)
    assert young.limits[Product.CREDIT_HISTORY, 0] == 0.0


def test_an_applicant_gets_the_product_whose_limit_is_largest(model: ParkModel) -> None:
    cfg = model.config
    view = one_applicant(model, 300.0)
    offers = make_offers(view, tier_table(), cfg.lending, cfg.lifecycle, cfg.credit)
    assert offers.product[:2, 0].tolist() == [Product.CREDIT_HISTORY, Product.IP_PLEDGE]
    limits = view.limits[:, 0]
    # Bank 0's products together secure more than the need: it lends the need.
    assert offers.amount[0, 0] == pytest.approx(300.0)
    # Bank 1 lends what collateral and IP pledge secure together.
    secured = limits[Product.COLLATERAL] + limits[Product.IP_PLEDGE]
    assert offers.amount[1, 0] == pytest.approx(secured)
    assert offers.amount[2, 0] == 0.0 and not offers.approved[2, 0]  # no products


def test_the_offer_is_priced_at_the_closed_form_pd_and_lgd(model: ParkModel) -> None:
    cfg = model.config
    lending, credit, beta = cfg.lending, cfg.credit, cfg.lifecycle.quality_risk
    view = one_applicant(model, 300.0, quality=0.4, quality_prior=0.4)
    offers = make_offers(view, tier_table(), lending, cfg.lifecycle, credit)
    # A bank that sees quality q exactly: the quarterly PD of a funded firm,
    # stage base × sector × exp(−β q − ½β²) × funded multiplier.
    base = view.base_pd[0] * view.sector_failure[0] * cfg.lifecycle.funded_failure_mult
    quarterly = base * math.exp(-beta * 0.4 - 0.5 * beta * beta)
    annual = 1.0 - (1.0 - quarterly) ** 4
    collateral = view.limits[Product.COLLATERAL, 0]
    for b in (0, 1):
        secured = collateral / offers.amount[b, 0]
        lgd = credit.lgd_unsecured - (credit.lgd_unsecured - credit.lgd_secured) * secured
        expected_loss = annual * lgd * (1.0 - view.cover[0])
        assert offers.annual_pd[b, 0] == pytest.approx(annual, rel=1e-12)
        assert offers.lgd[b, 0] == pytest.approx(lgd, rel=1e-12)
        assert offers.posterior_mean[b, 0] == pytest.approx(0.4)
        rate = min(lending.base_rate + lending.margin + expected_loss, lending.max_rate)
        assert offers.rate[b, 0] == pytest.approx(rate, rel=1e-12)
    assert offers.approved[:2, 0].all()


def test_a_banks_pd_estimate_stops_at_the_firms_pd_cap(model: ParkModel) -> None:
    cfg = model.config
    view = one_applicant(model, 300.0, quality=-50.0, quality_prior=-50.0)
    for cap in (cfg.lifecycle.max_failure_pd, 0.5):
        lifecycle = dataclasses.replace(cfg.lifecycle, max_failure_pd=cap)
        offers = make_offers(view, tier_table(), cfg.lending, lifecycle, cfg.credit)
        assert offers.annual_pd[0, 0] == pytest.approx(1.0 - (1.0 - cap) ** 4, rel=1e-12)


def test_no_offer_exceeds_the_debt_capacity(model: ParkModel) -> None:
    cfg = model.config
    view = one_applicant(model, 1e6, collateral=1e6)
    offers = make_offers(view, tier_table(), cfg.lending, cfg.lifecycle, cfg.credit)
    capacity = 0.3 * 1000.0 / (4.0 / 8 + cfg.lending.base_rate + cfg.lending.margin)
    assert cfg.lending.max_debt_service == 0.3 and view.term[0] == 8
    assert debt_capacity(view, cfg.lending)[0] == pytest.approx(capacity)
    assert offers.amount[:2, 0] == pytest.approx([capacity, capacity])


def test_a_specialised_park_gives_its_sector_headroom(model: ParkModel) -> None:
    """Bank 0 holds 900 of its 1000 book in the applicant's sector, above its sector limit:
    in a park where 90 % of firms are in that sector, 1.5 × 90 % of the book is allowed;
    without headroom, or in a park where the sector is small, the loan is refused."""
    cfg = model.config
    view = one_applicant(model, 20.0)
    tiers = tier_table(sector_limit=0.4, single_name_limit=1.0)
    by_sector = np.array([[900.0, 100.0]] * N_BANKS)
    exposure = by_sector.sum(axis=1, keepdims=True)

    def approved(mix: list[float], headroom: float) -> bool:
        lending = dataclasses.replace(cfg.lending, sector_headroom=headroom)
        book = BookState(exposure, by_sector, 1.0, np.array(mix))
        offers = make_offers(view, tiers, lending, cfg.lifecycle, cfg.credit, book)
        return bool(offers.approved[0, 0])

    assert approved([0.9, 0.1], 1.5)
    assert not approved([0.9, 0.1], 0.0)
    assert not approved([0.2, 0.8], 1.5)


def test_the_cheapest_whole_need_wins_and_nobody_lends_when_all_refuse() -> None:
    rate, amount = np.array([[0.06, 0.05], [0.05, 0.05]]), np.full((2, 2), 100.0)
    offers = Offers(
        approved=np.array([[True, False], [True, False]]),
        amount=amount,
        rate=rate,
        lgd=rate,
        annual_pd=rate,
        product=np.zeros((2, 2), np.int8),
        posterior_mean=rate,
        cover=np.zeros(2),
        term=np.full(2, 8),
        need=np.full(2, 100.0),
    )
    assert choose_lenders(offers, np.array([0, 0]), outside_rate=0.138).tolist() == [1, -1]


def test_decisions_are_recorded_on_the_applicants() -> None:
    pop = firms(3)
    view = SimpleNamespace(rows=np.array([0, 2]))  # the record reads only the rows
    shape = (N_BANKS, 2)
    offers = Offers(
        approved=np.array([[True, False], [False, False], [True, False]]),
        amount=np.ones(shape), rate=np.ones(shape), lgd=np.ones(shape),
        annual_pd=np.array([[0.01, 0.2], [0.02, 0.3], [0.03, 0.4]]),
        product=np.zeros(shape, np.int8), posterior_mean=np.array([[1.0, -1.0]] * N_BANKS),
        cover=np.zeros(2), term=np.full(2, 8), need=np.ones(2),
    )  # fmt: skip
    record_decisions(pop, view, offers, np.array([2, -1]), quarter=7)
    approved, refused = CreditDecision.APPROVED, CreditDecision.REFUSED
    assert pop.bank_decision[0].tolist() == [approved, refused, approved]
    assert pop.bank_decision[2].tolist() == [refused] * N_BANKS
    assert pop.bank_pd[2].tolist() == [0.2, 0.3, 0.4]
    outcome = [FinanceState.FUNDED, FinanceState.NONE, FinanceState.REFUSED]
    assert pop.loan_outcome.tolist() == outcome
    assert pop.loan_applied_quarter.tolist() == [7, -1, 7]


# --------------------------------------------------------------------- the book


def test_amortisation_repays_exactly_the_principal(banks) -> None:
    pop, funding = firms(2), 0.02
    lend(pop, 0, 1, 800.0, loan_rate=0.05, loan_quarters_left=8)
    lend(pop, 1, 2, 100.0, loan_status=LoanStatus.NON_PERFORMING, loan_quarters_left=3)
    for _ in range(8):
        service(pop, banks, funding)
    ledger = banks[1].ledger
    assert ledger.repayments == pytest.approx(800.0, rel=1e-12)
    # Interest on the balance at each quarter's start: 800 × (8 + 7 + … + 1) / 8; the FTP
    # charge is on the same balances.
    assert ledger.interest_income == pytest.approx(800 * 4.5 * 0.05 / 4)
    assert ledger.ftp_charge == pytest.approx(800 * 4.5 * funding / 4)
    assert ledger.net_interest_income == pytest.approx(800 * 4.5 * (0.05 - funding) / 4)
    assert pop.debt[0] == pytest.approx(0.0, abs=1e-9)
    assert (pop.loan_status[0], pop.lender[0], pop.loan_quarters_left[0]) == (0, -1, 0)
    # An NPL pays nothing, keeps its balance and is still charged its funding.
    assert banks[2].ledger.interest_income == 0.0
    assert banks[2].ledger.ftp_charge == pytest.approx(8 * 100.0 * funding / 4)
    assert banks[2].ledger.net_interest_income == pytest.approx(-8 * 100.0 * funding / 4)
    assert banks[2].ledger.repayments == 0.0 and pop.debt[1] == 100.0


def test_a_defaults_loss_is_exposure_times_lgd_less_guarantee_and_pool(banks) -> None:
    pop = firms(4, stage=Stage.STARTUP)
    lend(pop, 0, 0, 100.0, loan_lgd=0.45, loan_policy_cover=0.5)  # covered
    lend(pop, 1, 0, 200.0, loan_lgd=0.35)  # does not fail
    lend(pop, 2, 0, 80.0, loan_lgd=0.45, loan_status=LoanStatus.NON_PERFORMING)
    lend(pop, 3, 1, 50.0, loan_lgd=0.4)  # uncovered
    failed, stage_before = np.array([0, 2, 3]), pop.stage.copy()
    rows, gross = take_defaults(pop, banks, failed, stage_before, quarter=5)
    assert rows.tolist() == [0, 3] and gross == pytest.approx([45.0, 20.0])
    assert pop.loan_status.tolist() == [2, 1, 2, 2]
    assert pop.default_quarter[[0, 3]].tolist() == [5, 5]
    policy = PolicyPackage(guarantee_share=0.3, risk_pool_share=2 / 7, risk_pool_size=1e6)
    take_losses(pop, banks, rows, gross, RiskPool(policy))
    first, second = banks[0].ledger, banks[1].ledger
    assert (first.defaults, first.defaulted_exposure) == (1, 100.0)
    assert first.collateral_recoveries == pytest.approx(55.0)
    assert first.defaults_by_stage[Stage.STARTUP] == 1
    # Guarantee 30 % and pool 20 % of the 45 lost: the bank keeps half of it.
    assert first.policy_recoveries == pytest.approx(22.5)
    assert first.credit_loss == pytest.approx(22.5)
    assert second.credit_loss == pytest.approx(20.0) and second.policy_recoveries == 0.0


def test_write_off_happens_exactly_after_the_workout_quarters(banks) -> None:
    pop = firms(1)
    lend(pop, 0, 0, 100.0, loan_status=LoanStatus.NON_PERFORMING, default_quarter=3)
    for quarter in range(3, 7):
        write_off(pop, banks, quarter, workout_quarters=4)
        assert pop.loan_status[0] == LoanStatus.NON_PERFORMING and pop.debt[0] == 100.0
    write_off(pop, banks, 7, workout_quarters=4)
    assert banks[0].ledger.written_off == 100.0
    assert (pop.loan_status[0], pop.lender[0], pop.debt[0]) == (LoanStatus.NONE, -1, 0.0)


def test_a_sale_brings_a_name_at_the_limit_down_to_15_percent_of_allocated_capital(
    banks,
) -> None:
    """Allocated tier-1 capital 400: the cap is 15 % of it, 60, whatever the book. Loans
    of 100, 60 and 20: the 100 is cut to 60, the one at the limit stays."""
    banks[0].allocated_capital = 400.0
    banks[0].spec = dataclasses.replace(banks[0].spec, single_name_limit=0.15)
    assert banks[0].name_cap == pytest.approx(60.0)
    pop = firms(4)
    for row, debt in enumerate((100.0, 60.0, 20.0)):
        lend(pop, row, 0, debt)
    lend(pop, 3, 1, 500.0)  # bank 1 has no capital allocated yet: no limit
    sold = sell_down(pop, banks, quarter=5)
    assert sold[0] == pytest.approx(40.0)
    assert pop.debt[:3] == pytest.approx([60.0, 60.0, 20.0])
    assert sold[1] == 0.0 and pop.debt[3] == 500.0


def test_an_npl_is_sold_only_after_its_default_quarter(banks) -> None:
    banks[0].allocated_capital = 400.0  # cap 15 % × 400 = 60
    banks[0].spec = dataclasses.replace(banks[0].spec, single_name_limit=0.15)
    pop = firms(3)
    npl = {"loan_lgd": 0.5, "loan_status": LoanStatus.NON_PERFORMING, "default_quarter": 5}
    lend(pop, 0, 0, 200.0, **npl)
    lend(pop, 1, 0, 20.0)
    lend(pop, 2, 0, 20.0)
    # Counted at 200 × (1 − LGD) = 100 against the cap, it must wait a quarter; then it is
    # cut to a balance that counts 60: 120.
    assert sell_down(pop, banks, quarter=5)[0] == 0.0
    assert sell_down(pop, banks, quarter=6)[0] == pytest.approx(200.0 - 60.0 / 0.5)


def test_the_close_counts_each_loan_once_where_it_belongs(banks) -> None:
    pop = firms(3, sector=[0, 0, 1])
    pop.stage[1], pop.last_active_stage[1] = Stage.FAILED, Stage.STARTUP
    pop.stage[2] = Stage.LISTED
    pd, lgd, cover = np.array([0.02, 0.3, 0.01]), np.array([0.45, 0.4, 0.35]), 0.5
    lend(pop, 0, 0, 100.0, loan_pd=pd[0], loan_lgd=lgd[0], loan_policy_cover=cover)
    lend(pop, 1, 0, 50.0, loan_lgd=lgd[1], loan_status=LoanStatus.NON_PERFORMING)
    lend(pop, 2, 0, 30.0, loan_pd=pd[2], loan_lgd=lgd[2])
    pop.loan_quarters_left[[0, 2]] = 10, 40
    net_lgd = lgd * (1.0 - pop.loan_policy_cover)
    loss, slope = irb_terms(pd[[0, 2]], net_lgd[[0, 2]])
    pop.loan_irb_loss[[0, 2]], pop.loan_irb_slope[[0, 2]] = loss, slope
    quarterly_pd = np.array([0.005, 0.0, 0.002])
    close_books(pop, banks, quarterly_pd, n_sectors=2, quarter=4)
    ledger = banks[0].history[-1]
    assert (ledger.exposure, ledger.npl_balance, ledger.borrowers) == (180.0, 50.0, 2)
    expected = 100 * 0.005 * net_lgd[0] + 30 * 0.002 * net_lgd[2]
    assert ledger.expected_loss == pytest.approx(expected, rel=1e-12)
    stages = ledger.exposure_by_stage
    assert (stages[Stage.GROWTH], stages[Stage.STARTUP], stages[Stage.LISTED]) == (100, 50, 30)
    assert ledger.exposure_by_sector.tolist() == [150.0, 30.0]
    # IRB capital of the performing loans at 2.5 and 5 years (the 10-year term is capped).
    capital = 100 * basel_capital(pd[0], net_lgd[0], 2.5) + 30 * basel_capital(pd[2], lgd[2], 5)
    assert ledger.risk.capital_irb == pytest.approx(capital, rel=1e-12)
    # What counts against the limits: the NPL net of its booked loss, 50 × 0.6 = 30.
    assert ledger.risk.largest_exposure_share == pytest.approx(100.0 / 160.0)
    assert banks[1].history[-1].exposure == 0.0


def test_a_quarters_book_operations_conserve_the_balance() -> None:
    """On a real book part-way through a run: opening − repaid − written off = closing,
    bank by bank (a default moves a loan to NPL without changing its balance)."""
    model = ParkModel(BASELINE, "tier2_light", rng=4, park__enterprises=600, collect=False)
    model.run(10)
    pop, banks = model.enterprises, model.banks
    for bank in banks:
        bank.open_quarter()

    def balances() -> np.ndarray:
        rows = pop.loan_rows()
        return np.bincount(pop.lender[rows], weights=pop.debt[rows], minlength=len(banks))

    opening = balances()
    service(pop, banks, model.config.lending.funding_cost)
    failed = pop.loan_rows()[::7]
    take_defaults(pop, banks, failed, pop.stage.copy(), model.quarter + 1)
    write_off(pop, banks, model.quarter + 1, model.config.credit.workout_quarters)
    repaid = np.array([bank.ledger.repayments for bank in banks])
    written = np.array([bank.ledger.written_off for bank in banks])
    assert repaid.sum() > 0 and written.sum() > 0
    np.testing.assert_allclose(balances(), opening - repaid - written, rtol=1e-12)


def test_performing_borrowers_are_counted_by_stage(banks) -> None:
    pop = firms(4, stage=[Stage.SEED, Stage.GROWTH, Stage.GROWTH, Stage.LISTED])
    lend(pop, 0, 0, 10.0)
    lend(pop, 1, 0, 10.0)
    lend(pop, 2, 2, 10.0)
    lend(pop, 3, 0, 10.0, loan_status=LoanStatus.NON_PERFORMING)
    count_borrowers(pop, banks)
    assert banks[0].ledger.borrowers_by_stage.tolist() == [1, 0, 1, 0, 0]
    assert banks[2].ledger.borrowers_by_stage.tolist() == [0, 0, 1, 0, 0]


def test_operational_capital_is_the_basic_indicator_formula() -> None:
    """15 % of the mean annual gross income of the last three years (Basel II para. 649),
    nothing while that mean is negative."""
    history = np.array(
        [
            [1000.0, 1000.0] + [100.0] * 12,  # the two oldest quarters fall out
            [-50.0] * 14,
            [0.0] * 12 + [20.0, 40.0],
        ]
    )
    assert operational_capitals(history) == pytest.approx([0.15 * 400, 0.0, 0.15 * 4 * 5])
    assert operational_capitals(np.array([[20.0, 40.0]])) == pytest.approx([0.15 * 4 * 30])


# --------------------------------------------------------------------- income and stakes


def test_clients_revenue_bonds_and_unlocked_wealth_add_up_by_bank() -> None:
    pop = firms(
        4,
        main_bank=[0, 0, 1, 1],
        stage=[Stage.LISTED, Stage.GROWTH, Stage.FAILED, Stage.PRE_IPO],
        size=[100.0, 50.0, 70.0, 30.0],
        listed_quarter=[2, -1, -1, -1],
        valuation=[1000.0, 0.0, 0.0, 0.0],
        stream_id=[1, 2, 3, 4],
    )
    lend(pop, 0, 1, 10.0)  # a client of bank 0 that borrows from bank 1
    lend(pop, 2, 0, 5.0)  # a failed firm's loan in workout: still owed, no longer a client
    columns = ClientColumns.of(pop)
    for probability, bonds in ((1.0, [100.0, 30.0, 0.0]), (0.0, [0.0, 0.0, 0.0])):
        draw = BondDraw(np.array([12345], dtype=np.uint64), probability)
        sums = client_sums(columns, N_BANKS, draw, 2, 0.3)
        assert sums.revenue.tolist() == [150.0, 30.0, 0.0]
        assert sums.clients.tolist() == [2.0, 2.0, 0.0]
        assert sums.bonds.tolist() == bonds
        assert sums.wealth.tolist() == [300.0, 0.0, 0.0]
        assert sums.loans.tolist() == [5.0, 10.0, 0.0]
    assert client_sums(columns, N_BANKS, draw, -1, 0.3).wealth.tolist() == [0.0] * N_BANKS


def test_stakes_are_realised_at_the_exit_value() -> None:
    multiples = (1.5, 1.3)
    pop = firms(3, valuation=[100.0, 200.0, 50.0])
    pop.stage[0] = Stage.LISTED  # listed this quarter; no lock-up: sold now
    pop.listed_quarter[0] = 9
    pop.bank_stake[0, 0], pop.bank_stake_cost[0, 0] = 0.1, 5.0  # listed: 0.1 × 150 − 5
    pop.bank_stake[1, 0], pop.bank_stake_cost[1, 0] = 0.05, 4.0  # acquired: 0.05 × 260 − 4
    pop.bank_stake[2, 0], pop.bank_stake_cost[2, 0] = 0.2, 8.0  # failed: − 8
    pop.operator_stake[[0, 2]], pop.operator_stake_cost[[0, 2]] = 0.05, (2.0, 1.0)
    pop.warrant_notional[2, 1], pop.warrant_strike[2, 1] = 10.0, 40.0  # lapses
    no = np.zeros(0, dtype=np.int64)
    events = LifecycleEvents(
        failed=np.array([2]), graduated=no, listed=np.array([0]), relocated=no,
        acquired=np.array([1]),
    )  # fmt: skip
    gains = realise_stakes(pop, events, multiples, quarter=9, lockup_quarters=0)
    assert gains.fund[0] == pytest.approx(10.0 + 9.0 - 8.0)
    assert gains.fund[1] == 0.0 and not gains.warrants.any()
    assert gains.operator.tolist() == [pytest.approx(0.05 * 150 - 2.0 - 1.0)]
    assert not pop.bank_stake.any() and not pop.warrant_notional.any()
    assert not pop.operator_stake_cost.any()


def test_stake_costs_are_added_up_by_bank() -> None:
    cost = np.array([[1.0, 2.0, 0.0], [3.0, 0.0, 5.0], [0.5, 0.0, 0.0]])
    assert cost_by_bank(cost, np.zeros(len(cost), np.intp), 3).tolist() == [4.5, 2.0, 5.0]
    # In a batch a firm's columns are its own park's banks: replication 1's are 3, 4, 5.
    in_batch = cost_by_bank(cost, np.array([1, 0, 1]), 6).tolist()
    assert in_batch == [3.0, 0.0, 5.0, 1.5, 2.0, 0.0]


# --------------------------------------------------------------------- M&A deals


@pytest.mark.parametrize("share", [0.0, 0.5, 1.0])
def test_in_park_buyers_are_distinct_chain_leaders_without_a_loan(
    model: ParkModel, share: float
) -> None:
    n = 200
    pop = firms(n, stream_id=np.arange(n), stage=Stage.GROWTH)
    pop.chain_leader[:10] = True
    pop.stage[:10] = Stage.LISTED
    lend(pop, 0, 0, 10.0)  # a leader with a loan buys nothing
    acquired = np.arange(20, 200, 2)
    buyers, targets = in_park_deals(pop, acquired, model.streams.firms, 3, share)
    assert len(buyers) == len(targets) == len(np.unique(buyers))
    assert np.all(np.diff(buyers) > 0) and np.isin(targets, acquired).all()
    assert set(buyers.tolist()) <= set(range(1, 10))
    if share == 0.0:
        assert len(buyers) == 0
    if share == 1.0:
        assert len(buyers) == 9  # 90 deals among 9 leaders: each buys one


def test_the_in_park_share_is_a_lending_parameter() -> None:
    assert LendingParams().mna_in_park_share == 0.5
