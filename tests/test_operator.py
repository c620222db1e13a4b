"""The park operator can fail: a heavy operator's cash deficit is borrowed from the banks
and shows in its leverage; when it cannot pay for longer than `arrears_quarters`, its
development loans default and the banks book the loss (§四(三)-(四))."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from parksim import ParkModel
from parksim.operators.operator import OperatorParams, ParkOperator

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"
# A park in distress: nobody enters and firms fail fast, so occupancy collapses.
DISTRESS = {
    "park__entries_per_quarter": 0.0,
    "lifecycle__failure_pd": (0.12,) * 5,
    "horizon": 40,
}


def _operator(asset_model: str) -> ParkOperator:
    model = ParkModel(BASELINE, "tier1_heavy", rng=1, park__enterprises=50, collect=False)
    return ParkOperator(model, OperatorParams(), asset_model, 100_000.0, True, 0.0)


def test_heavy_deficit_is_borrowed_and_shows_in_leverage():
    operator = _operator("heavy")
    pop = operator.model.enterprises
    occupancy = OperatorParams().initial_occupancy
    before = operator.debt
    ledger = operator.settle_quarter(pop, occupancy, 0.0)
    # Rent covers interest but not 20-year amortisation: the gap is new bank debt,
    # never negative cash.
    assert operator.other_assets == 0.0 and operator.arrears == 0.0
    principal = operator.params.amortisation * before
    assert before - principal < operator.debt < before
    assert ledger.leverage == pytest.approx(operator.debt / operator.property)


def test_heavy_operator_defaults_after_a_payment_stays_unpaid():
    operator = _operator("heavy")
    pop = operator.model.enterprises
    # Occupancy 10%: the appraised value (income approach) falls below the debt, so the
    # banks lend no more and debt service goes unpaid.
    for quarter in range(1, 4):
        operator.settle_quarter(pop, 0.1, 0.0)
        assert operator.arrears > 0
        assert operator.past_due == (quarter > operator.params.arrears_quarters)
    loans, arrears = operator.loans, operator.arrears
    defaulted, written_off = operator.restructure(lgd=0.35, workout_quarters=4)
    assert defaulted == pytest.approx(loans + arrears)
    assert written_off == pytest.approx(0.35 * defaulted)
    assert operator.loans == pytest.approx(0.65 * defaulted)
    assert operator.in_default and not operator.past_due


def _run_until_default(strategy: str, seed: int):
    model = ParkModel(BASELINE, strategy, rng=seed, collect=False, **DISTRESS)
    captured = {}
    restructure = model.operator.restructure

    def recording(lgd: float, workout_quarters: int):
        captured["shares_before"] = [bank.operator_share for bank in model.banks]
        captured["result"] = restructure(lgd, workout_quarters)
        return captured["result"]

    model.operator.restructure = recording
    for _ in range(model.config.horizon):
        model.step()
        if "result" in captured:
            return model, captured
    return model, captured


def test_operator_defaults_in_distress_and_the_banks_book_the_loss():
    model, captured = _run_until_default("tier1_heavy", seed=3)
    assert captured, "the heavy operator of a collapsing park never defaulted"
    row = model.records[-1]
    assert row["operator_in_default"] == 1
    defaulted, written_off = captured["result"]
    lgd = model.config.credit.lgd_secured
    assert written_off == pytest.approx(lgd * defaulted)
    shares = np.array(captured["shares_before"])
    assert 0 < shares.sum() <= 1 + 1e-12  # the rest was syndicated outside the park
    # Each bank loses its share of the write-off (on top of any enterprise losses).
    for bank, share in zip(model.banks, shares, strict=True):
        assert bank.ledger.credit_loss >= share * written_off - 1e-6
    # The banks keep lending what is left within their caps (the rest outside the park),
    # and earn nothing on it during the workout.
    held = sum(bank.operator_loan for bank in model.banks)
    assert 0 < held <= defaulted - written_off + 1e-6
    for bank in model.banks:
        assert bank.operator_loan <= bank.ledger.single_name_limit * (1 + 1e-9)  # cap in force
    focal = model.focal_bank
    assert row["operator_exposure"] == pytest.approx(focal.operator_loan)
    model.step()  # the workout goes on: the loans are still in default
    assert model.records[-1]["operator_in_default"] == 1


def test_light_operator_survives_the_same_distress():
    model = ParkModel(BASELINE, "tier1_light", rng=3, collect=False, **DISTRESS).run()
    assert max(row["operator_in_default"] for row in model.records) == 0


@pytest.mark.parametrize(
    ("ramp", "occupancy", "room"),
    [(0.1, 0.5, 1.0), (0.1, 0.9, 1.0), (0.1, 0.95, 0.5), (0.1, 1.0, 0.0), (0.2, 0.95, 0.25)],
)
def test_a_nearly_full_park_turns_entrants_away_over_the_vacancy_ramp(ramp, occupancy, room):
    model = ParkModel(BASELINE, "tier1_heavy", rng=1, park__enterprises=50, collect=False)
    params = OperatorParams(vacancy_ramp=ramp)
    operator = ParkOperator(model, params, "heavy", 100_000.0, True, 0.0)
    assert operator.vacancy_room(occupancy) == pytest.approx(room)


def test_a_light_operator_starts_with_its_share_of_other_assets():
    model = ParkModel(BASELINE, "tier1_heavy", rng=1, park__enterprises=50, collect=False)
    params = OperatorParams(light_other_assets=0.08, property_value=2.0)
    operator = ParkOperator(model, params, "light", 1_000.0, True, 0.0)
    assert operator.other_assets == pytest.approx(0.08 * 1_000.0 * 2.0)
    assert operator.property == 0.0


def test_the_operator_parameters_are_addresses_of_a_model():
    model = ParkModel(
        BASELINE, rng=1, collect=False, overrides={"operator.vacancy_ramp": 0.2}, **DISTRESS
    )
    assert model.operator.params.vacancy_ramp == 0.2
    assert model.operator.vacancy_room(0.95) == pytest.approx(0.25)
