"""The documentation must describe the code as it is: columns, modules and parameters."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from parksim.banks.tiers import TierSpec
from parksim.core.metrics import markdown_table
from parksim.core.sectors import SECTOR_NAMES
from parksim.scenario.schema import Scenario
from parksim.scenario.validate import field_docs

ROOT = Path(__file__).resolve().parents[1]
COLUMNS_MD = ROOT / "docs" / "columns.md"
MODEL_MD = ROOT / "docs" / "model.md"
START, END = "<!-- columns:start -->", "<!-- columns:end -->"
REGENERATE = 'python -c "from parksim.core.metrics import markdown_table; print(markdown_table())"'

# Scenario fields that are labels, not parameters of any submodel: names of the scenario,
# park, banks and strategies, and the free-text description.
NOT_PARAMETERS = {"name", "description"}
# Rows of field_docs that are tables (nested dataclasses or lists of them), not leaves.
TABLE_TYPES = {"table", "list[table]"}


def _model_doc() -> str:
    return MODEL_MD.read_text(encoding="utf-8")


def _mentions(doc: str, name: str) -> bool:
    """`name` appears in the doc as code (`name`), as parameter tables write it."""
    return re.search(rf"`{re.escape(name)}`", doc) is not None


def test_columns_doc_is_generated_from_the_column_table():
    text = COLUMNS_MD.read_text(encoding="utf-8")
    assert text.count(START) == 1 and text.count(END) == 1, (
        f"docs/columns.md needs exactly one {START} and one {END} marker"
    )
    block = text.split(START, 1)[1].split(END, 1)[0]
    assert block.strip("\n") == markdown_table().strip("\n"), (
        "docs/columns.md is out of date with parksim/core/metrics.py; replace the block "
        f"between {START} and {END} with the output of\n    {REGENERATE}"
    )


def test_every_module_the_model_doc_names_exists():
    paths = sorted(set(re.findall(r"parksim/[\w/]+\.py", _model_doc())))
    assert paths, "docs/model.md names no parksim/...py module"
    missing = [p for p in paths if not (ROOT / p).is_file()]
    assert not missing, f"docs/model.md names modules that do not exist: {missing}"


def _scenario_parameters() -> list[str]:
    """Bare names of the leaf fields of a scenario, e.g. `quality_risk` for
    lifecycle.quality_risk and `tier` for banks[].tier."""
    names = []
    for key, type_, _, _ in field_docs(Scenario):
        name = re.split(r"[.\]]", key)[-1]
        if type_ not in TABLE_TYPES and name not in NOT_PARAMETERS:
            names.append(name)
    return sorted(set(names))


def test_model_doc_names_every_scenario_parameter():
    doc = _model_doc()
    missing = [name for name in _scenario_parameters() if not _mentions(doc, name)]
    assert not missing, (
        f"docs/model.md does not mention these scenario parameters: {missing}; add them to "
        "the parameter table of their submodel (list the fields with "
        "`field_docs(Scenario)` from parksim.scenario.validate)"
    )


@pytest.mark.parametrize(
    ("what", "names"),
    [
        ("service-tier fields (TierSpec)", [f.name for f in dataclasses.fields(TierSpec)]),
        ("sectors", list(SECTOR_NAMES)),
    ],
)
def test_model_doc_names_every_tier_field_and_sector(what, names):
    # Not scenario fields (tier specs and sector profiles live in code), but parameters
    # of submodels all the same.
    doc = _model_doc()
    missing = [name for name in names if not _mentions(doc, name)]
    assert not missing, f"docs/model.md does not mention these {what}: {missing}"
