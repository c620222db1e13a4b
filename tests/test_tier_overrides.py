"""A scenario can change any service tier's defaults in a [tiers."x.0"] table."""

from __future__ import annotations

from pathlib import Path

import pytest

import parksim
from parksim.banks.tiers import TIER_SPECS
from parksim.core.codes import PRODUCTS, LoanStatus
from parksim.scenario.errors import ScenarioError

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"


def with_tiers(tmp_path: Path, table: str) -> Path:
    path = tmp_path / "tiers.toml"
    path.write_text(BASELINE.read_text(encoding="utf-8") + "\n" + table, encoding="utf-8")
    return path


def test_a_tier_table_changes_only_that_tier_and_only_the_fields_it_names(tmp_path):
    path = with_tiers(tmp_path, '[tiers."2.0"]\nsignal_noise = 0.9\nmax_expected_loss = 0.02\n')
    scenario = parksim.load_scenario(path)
    assert scenario.tiers == {"2.0": {"signal_noise": 0.9, "max_expected_loss": 0.02}}
    model = parksim.ParkModel(scenario, "tier2_heavy", rng=1)
    focal, other = model.banks[0].spec, model.banks[1].spec
    assert (focal.signal_noise, focal.max_expected_loss) == (0.9, 0.02)
    assert focal.products == TIER_SPECS[2.0].products
    assert other == TIER_SPECS[1.0]


def test_changing_a_tier_changes_what_its_bank_does(tmp_path):
    # An appetite of zero expected loss approves no application; only M&A loans, which
    # follow acquisitions rather than applications, can reach the focal bank's book.
    path = with_tiers(tmp_path, '[tiers."2.0"]\nmax_expected_loss = 0.0\n')
    mna = PRODUCTS.index("mna")
    strict = parksim.ParkModel(parksim.load_scenario(path), "tier2_heavy", rng=3).run(8)
    usual = parksim.ParkModel(BASELINE, "tier2_heavy", rng=3).run(8)
    focal_products = {
        model: model.enterprises.loan_product[model.enterprises.lender == 0]
        for model in (strict, usual)
    }
    assert (focal_products[strict] == mna).all()
    assert (focal_products[usual] != mna).sum() > 0


def test_replacing_a_banks_spec_in_a_built_model_changes_what_it_does():
    # Researchers change an agent in a notebook; the model must not keep a stale copy.
    import dataclasses

    model = parksim.ParkModel(BASELINE, "tier2_heavy", rng=3)
    focal = model.banks[0]
    focal.spec = dataclasses.replace(focal.spec, max_expected_loss=0.0, products=("mna",))
    model.run(8)
    assert model.tiers.max_expected_loss[0, 0] == 0.0
    mna = PRODUCTS.index("mna")
    # Performing loans: an opening-book loan that defaulted stays on the book in workout.
    pop = model.enterprises
    performing = (pop.lender == 0) & (pop.loan_status == LoanStatus.PERFORMING)
    # Every loan, M&A loans included, is underwritten: a bank that accepts no expected loss
    # lends nothing new, and only M&A could it have offered.
    assert model.timeseries()["new_loans"].iloc[1:].sum() == 0.0
    assert (pop.loan_product[performing & (pop.loan_quarters_left > 8)] == mna).all()


@pytest.mark.parametrize(
    ("table", "key", "expected"),
    [
        ('[tiers."4.0"]\nsignal_noise = 1.0\n', "tiers.4.0", '"1.0", "2.0", "3.0"'),
        ('[tiers."2.0"]\nsignal_nose = 1.0\n', 'tiers."2.0".signal_nose', "signal_noise"),
        ('[tiers."1.0"]\nwealth_capture = 1.5\n', 'tiers."1.0".wealth_capture', "[0, 1]"),
        ('[tiers."3.0"]\nproducts = ["loans"]\n', 'tiers."3.0"', "unknown loan products"),
    ],
)
def test_a_bad_tier_table_is_refused_naming_file_key_and_expectation(
    tmp_path, table, key, expected
):
    path = with_tiers(tmp_path, table)
    with pytest.raises(ScenarioError) as caught:
        parksim.load_scenario(path)
    message = str(caught.value)
    assert str(path) in message
    assert key in message
    assert expected in message
