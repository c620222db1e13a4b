"""The agent view a researcher works with: `model.enterprises.to_frame()` with named
categoricals, the enums exported from `parksim`, each bank's view of a firm and its
decision on the firm's last loan application, and the charts of one model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import parksim
from parksim import CreditDecision, FinanceState, LoanStatus, ParkModel, Stage
from parksim.core.population import EnterprisePopulation, enum_names
from parksim.viz import model_charts

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"
QUARTERS = 12
ENUMS = {"Stage": Stage, "LoanStatus": LoanStatus, "FinanceState": FinanceState}
ENUMS["CreditDecision"] = CreditDecision


def _model(tier: float, rng: int = 3) -> ParkModel:
    return ParkModel(BASELINE, rng=rng, bank_tier=tier, park__enterprises=1500).run(QUARTERS)


@pytest.fixture(scope="module")
def model() -> ParkModel:
    return _model(2.0)


@pytest.fixture(scope="module")
def frame(model: ParkModel) -> pd.DataFrame:
    return model.enterprises.to_frame()


def test_the_enums_a_user_meets_are_exported_from_parksim() -> None:
    for name, enum in ENUMS.items():
        assert getattr(parksim, name) is enum
        assert name in parksim.__all__


def test_every_enum_column_is_a_named_categorical(model: ParkModel, frame: pd.DataFrame) -> None:
    coded = [
        c
        for c in EnterprisePopulation.columns()
        if any(name in c.description for name in ENUMS) or c.name in ("stage", "loan_product")
    ]
    assert {c.name for c in coded} >= {"stage", "loan_status", "finance_state", "loan_outcome"}
    for column in coded:
        names = [f"{column.name}_{b}" for b in range(3)] if column.per_bank else [column.name]
        for name in names:
            assert isinstance(frame[name].dtype, pd.CategoricalDtype), name
            assert list(frame[name].cat.categories) == list(column.categories), name
    assert list(frame["finance_state"].cat.categories) == ["none", "funded", "refused"]
    assert set(frame["loan_product"].dropna()) <= set(frame["loan_product"].cat.categories)
    assert frame.loc[frame["debt"] > 0, "loan_product"].notna().all()


def test_enum_names_follow_the_codes() -> None:
    assert enum_names(CreditDecision) == ["none", "approved", "refused"]
    assert enum_names(LoanStatus)[LoanStatus.NON_PERFORMING] == "non_performing"


def test_get_names_enum_values_like_to_frame(model: ParkModel, frame: pd.DataFrame) -> None:
    applied = frame.index[frame["loan_outcome"] != "none"][:5]
    for firm in applied:
        record = model.enterprises.get(int(firm))
        assert record["loan_outcome"] == frame.loc[firm, "loan_outcome"]
        for b in range(3):
            assert record[f"bank_decision_{b}"] == frame.loc[firm, f"bank_decision_{b}"]


def test_each_bank_decided_on_every_application(model: ParkModel, frame: pd.DataFrame) -> None:
    applied = frame[frame["loan_outcome"] != "none"]
    never = frame[frame["loan_outcome"] == "none"]
    assert len(applied) > 100
    assert applied["loan_applied_quarter"].between(0, model.quarter).all()
    decisions = applied[[f"bank_decision_{b}" for b in range(3)]]
    assert (decisions != "none").all().all()
    # Refused means refused by every bank; funded means at least one bank approved.
    refused = applied["loan_outcome"] == "refused"
    assert refused.any() and (~refused).any()
    assert (decisions[refused] == "refused").all().all()
    assert (decisions[~refused] == "approved").any(axis=1).all()
    assert never["bank_view_0"].isna().all()
    assert (never[[f"bank_decision_{b}" for b in range(3)]] == "none").all().all()


def test_a_firm_refused_long_ago_is_still_known_as_refused(frame: pd.DataFrame) -> None:
    """finance_state forgets an outcome after a year; loan_outcome keeps the last one."""
    old = frame[(frame["loan_outcome"] == "refused") & (frame["loan_applied_quarter"] <= 4)]
    assert len(old) > 0
    assert (old["finance_state"] != "refused").any()


def test_the_bank_view_is_what_the_bank_priced(model: ParkModel, frame: pd.DataFrame) -> None:
    """A bank's PD estimate falls as its view of quality rises, among like applicants."""
    this_quarter = frame[
        (frame["loan_applied_quarter"] == model.quarter) & (frame["stage"] == "growth")
    ]
    assert len(this_quarter) > 20
    rho = this_quarter["bank_view_0"].corr(this_quarter["bank_pd_0"], method="spearman")
    assert rho < -0.5


def test_a_3_0_banks_view_tracks_latent_quality_more_closely_than_a_1_0_banks() -> None:
    errors = {}
    for tier in (1.0, 3.0):
        frame = _model(tier).enterprises.to_frame()
        applied = frame[frame["loan_outcome"] != "none"]
        young = applied[applied["stage"].isin(["seed", "startup"])]
        errors[tier] = float(np.sqrt(((young["bank_view_0"] - young["quality"]) ** 2).mean()))
    assert errors[3.0] < 0.8 * errors[1.0]


def test_one_models_charts_are_of_that_run(model: ParkModel) -> None:
    for plot in (
        model_charts.stages,
        model_charts.risk,
        model_charts.revenue,
        model_charts.operator,
    ):
        figure = plot(model)
        text = " ".join(t.get_text() for part in figure.subfigs for t in part.texts)
        titles = " ".join(part.get_suptitle() for part in figure.subfigs)
        assert "over replications" not in titles
        assert f"strategy {model.strategy.name}" in text
        assert f"{QUARTERS} quarters" in text
