"""The test tiers and the runs several test files share.

Marks (registered in pyproject.toml, which refuses any other):

- ``slow``: more than ~2 s alone, or a whole ensemble or the command line end to end.
  ``pytest -m "not slow"`` is the quick loop while editing; it still has the quick tests
  of every mechanism. The plain ``pytest`` runs everything, as CI does.
- ``browser``: drives Debian's chromium with Playwright (the app, the HTML report).
- ``notebook``: runs the notebooks in a Jupyter kernel (nbclient).
- ``dask``: needs dask.distributed (the dist extra).

Where a whole file or a fixture is one kind, the mark is given here; single tests carry
their mark as a decorator. Browser and notebook tests are always slow too: a browser or a
kernel alone takes seconds to start.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"

#: Every test of these files: what it needs.
FILE_MARKS = {
    "test_notebooks.py": ("notebook",),
    # The book's stylized facts, over replications of the whole baseline.
    "test_stylized_facts.py": ("slow",),
}
#: Every test that uses one of these fixtures.
FIXTURE_MARKS = {
    "app_url": ("browser",),  # `parksim app` served for chromium (test_app.py)
    "tiny_run_folder": ("slow",),  # `parksim run` end to end, with every chart (below)
}
ALWAYS_SLOW = ("browser", "notebook")
# A renamed file would lose its marks without a word.
assert all((ROOT / "tests" / name).is_file() for name in FILE_MARKS), FILE_MARKS


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        names = list(FILE_MARKS.get(item.path.name, ()))
        for fixture, marks in FIXTURE_MARKS.items():
            if fixture in item.fixturenames:
                names.extend(marks)
        for name in names:
            item.add_marker(name)
        if item.get_closest_marker("slow") is None and any(
            item.get_closest_marker(name) for name in ALWAYS_SLOW
        ):
            item.add_marker("slow")


# --- a run several files read ----------------------------------------------------------


def _tiny_scenario_text() -> str:
    """The baseline with its first two strategies, 100 firms and four quarters."""
    head, *strategies = BASELINE.read_text(encoding="utf-8").split("[[strategies]]")
    text = "[[strategies]]".join([head, *strategies[:2]])
    text = re.sub(r"^horizon = \d+", "horizon = 4", text, count=1, flags=re.M)
    return re.sub(r"^enterprises = \d+", "enterprises = 100", text, count=1, flags=re.M)


#: Replications of the shared tiny run.
TINY_RUN_REPLICATIONS = 2


@pytest.fixture(scope="session")
def tiny_run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`parksim run` of the tiny scenario (two strategies, 100 firms, four quarters, two
    replications) with every chart: the results folder test_cli checks and test_plot_report
    redraws. Drawing the charts is most of its cost, so it is made once, and a test that
    uses it is slow (FIXTURE_MARKS). Read-only: a test that changes a run folder works on
    a copy."""
    from parksim.cli import EXIT_OK, main

    scenario = tmp_path_factory.mktemp("tiny-scenario") / "tiny.toml"
    scenario.write_text(_tiny_scenario_text(), encoding="utf-8")
    out = tmp_path_factory.mktemp("tiny-runs") / "tiny-run"
    args = ["run", str(scenario), "--replications", str(TINY_RUN_REPLICATIONS)]
    assert main([*args, "--out", str(out), "--quiet"]) == EXIT_OK
    return out


@pytest.fixture
def ctrl_c_raises() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt here, as in a terminal: a suite started in the
    background by a shell without job control ignores SIGINT."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)
