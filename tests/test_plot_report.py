"""`parksim plot`, `parksim report` and rerunning a run from its manifest.

A run folder alone redraws every chart of the run, byte for byte, in English and
Chinese; the report is one HTML file that a real browser (Debian's chromium, driven by
Playwright) shows with its charts and tables and without a console error.
"""

from __future__ import annotations

import re
import shutil
import warnings
from pathlib import Path

import pandas as pd
import pytest
from browser_watch import watch

from parksim.analysis.sensitivity.assumptions import load_assumptions
from parksim.cli import EXIT_BAD_INPUT, EXIT_OK, main
from parksim.results import RunResult
from parksim.viz import charts

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def run_folder(tiny_run_folder: Path) -> Path:
    """`parksim run` of the tiny scenario, two replications, with its charts; made once
    for the session (tests/conftest.py), as test_cli checks the same folder."""
    return tiny_run_folder


def plotted(run: Path, out: Path, *options: str) -> dict[str, bytes]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a "Glyph missing" warning fails the test
        assert main(["plot", str(run), "--out", str(out), *options]) == EXIT_OK
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_plot_twice_gives_the_same_bytes(run_folder: Path, tmp_path: Path, lang: str) -> None:
    first = plotted(run_folder, tmp_path / "a", "--lang", lang)
    if lang == "en":
        # The run's own figures/ were drawn by the same code: plot must reproduce them,
        # which is the second drawing.
        second = {p.name: p.read_bytes() for p in (run_folder / "figures").iterdir()}
    else:
        second = plotted(run_folder, tmp_path / "b", "--lang", lang)
    names = RunResult.load(run_folder).figures()
    assert set(first) == {f"{n}.{ext}" for n in names for ext in ("png", "svg")}
    assert first == second


def test_chinese_plot_draws_glyphs_from_the_shipped_font(run_folder: Path, tmp_path) -> None:
    files = plotted(run_folder, tmp_path, "--lang", "zh", "--format", "svg")
    svg = files["risk_curves.svg"].decode("utf-8")
    assert len(set(re.findall(r'id="NotoSansSC-Regular-[0-9a-f]+"', svg))) >= 20
    assert len(set(re.findall(r'id="NotoSansSC-Bold-[0-9a-f]+"', svg))) >= 5  # the title


def test_plot_writes_pdf_with_the_fonts_embedded(run_folder: Path, tmp_path: Path) -> None:
    files = plotted(run_folder, tmp_path, "--lang", "zh", "--format", "pdf")
    assert set(files) == {f"{n}.pdf" for n in RunResult.load(run_folder).figures()}
    pdf = files["risk_return.pdf"]
    # Every font (DejaVu Sans, Noto Sans SC Regular and Bold) is a TrueType subset in the file.
    assert pdf.count(b"/FontFile2") == pdf.count(b"/Type /FontDescriptor") >= 3
    assert b"NotoSansSC-Regular" in pdf and b"NotoSansSC-Bold" in pdf


def test_plot_refuses_an_unknown_format(run_folder: Path, tmp_path: Path, capsys) -> None:
    assert main(["plot", str(run_folder), "--format", "png,gif", "--out", str(tmp_path / "x")]) == 2
    assert "--format: expected some of png, svg, pdf, got png, gif" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_plot_refuses_a_folder_that_is_not_a_run(tmp_path: Path, capsys) -> None:
    assert main(["plot", str(tmp_path)]) == EXIT_BAD_INPUT
    assert "not a parksim run folder" in capsys.readouterr().err


@pytest.mark.parametrize("how", ["manifest", "from"])
def test_rerun_repeats_the_recorded_run(
    run_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    # The rerun's tables are the point; its charts are the plot tests' above.
    monkeypatch.setattr(
        charts, "start_rendering", lambda *args, **kwargs: charts.Rendering({}, "en", ("png",))
    )
    out = tmp_path / "again"
    given = (
        [str(run_folder / "manifest.json")] if how == "manifest" else ["--from", str(run_folder)]
    )
    assert main(["run", *given, "--out", str(out), "--quiet"]) == EXIT_OK
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "timeseries.parquet"),
        pd.read_parquet(run_folder / "timeseries.parquet"),
    )


# --- the report --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reports(run_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("reports")
    paths = {}
    for lang in ("en", "zh"):
        path = folder / f"report-{lang}.html"
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert main(["report", str(run_folder), "--lang", lang, "--out", str(path)]) == 0
        paths[lang] = path
    return paths


def test_report_is_one_self_contained_file(reports: dict[str, Path], run_folder: Path) -> None:
    html = reports["en"].read_text(encoding="utf-8")
    names = RunResult.load(run_folder).figures()
    assert html.count('src="data:image/png;base64,') == len(names)
    # Nothing is fetched: no external script, style sheet or image.
    assert not re.search(r'(src|href)="(https?:|//|file:)', html)
    assert html.count('class="data"') >= 3  # summary, tail risk, differences
    manifest = RunResult.load(run_folder).manifest
    assert manifest["versions"]["parksim_source"] in html
    assert manifest["command"] in html
    assert "Paired differences" in html and "has no differences.csv" not in html


def test_chinese_report_uses_the_books_terms(reports: dict[str, Path]) -> None:
    html = reports["zh"].read_text(encoding="utf-8")
    for term in ("情景与策略", "累计净利润（万元）", "期末不良贷款率（%）", "来源与版本"):
        assert term in html
    assert '<html lang="zh-CN">' in html


def test_report_says_when_a_folder_has_no_differences(run_folder: Path, tmp_path: Path) -> None:
    copy = tmp_path / "old-run"
    shutil.copytree(run_folder, copy)
    (copy / "differences.csv").unlink()
    out = tmp_path / "r.html"
    assert main(["report", str(copy), "--out", str(out)]) == EXIT_OK
    assert "has no differences.csv" in out.read_text(encoding="utf-8")


def test_report_ranks_assumptions_from_a_sensitivity_study(run_folder: Path, tmp_path) -> None:
    study = tmp_path / "study"
    study.mkdir()
    pd.DataFrame(
        {
            "parameter": ["lending.rate_spread", "lifecycle.quality_risk"],
            "strategy": ["tier1_heavy", "tier1_heavy"],
            "versus": ["", ""],
            "metric": ["cum_net_profit", "cum_net_profit"],
            "mu_star": [10.0, 250.0],
        }
    ).to_csv(study / "indices.csv", index=False)
    out = tmp_path / "r.html"
    assert main(["report", str(run_folder), "--out", str(out), "--sensitivity", str(study)]) == 0
    html = out.read_text(encoding="utf-8")
    assert html.index("lifecycle.quality_risk") < html.index("lending.rate_spread")
    # Each with the range it is drawn from in parksim/data/assumptions.toml.
    quality_risk = next(
        p for p in load_assumptions().parameters if p.key == "lifecycle.quality_risk"
    )
    row = html[html.index("lifecycle.quality_risk") :].split("</tr>")[0]
    assert f"{quality_risk.low:g} to {quality_risk.high:g}" in row


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (CI installs it)")
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_report_shows_in_a_real_browser(
    reports: dict[str, Path], run_folder: Path, lang: str, tmp_path: Path
) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            problems = watch(page, "")  # a file: the page must need no other host
            page.goto(reports[lang].as_uri(), wait_until="load")
            images = page.locator("figure img")
            assert images.count() == len(RunResult.load(run_folder).figures())
            drawn = page.evaluate(
                "[...document.querySelectorAll('figure img')]"
                ".filter(i => i.complete && i.naturalWidth > 1000 && i.clientWidth > 300).length"
            )
            assert drawn == images.count()  # every chart decoded and laid out at width
            # Every table but the one of every metric, folded in a <details>, is shown.
            tables = page.locator("table.data:not(details table)")
            assert tables.count() >= 3
            assert all(tables.nth(k).is_visible() for k in range(tables.count()))
            assert page.locator("table.data td").count() > 10
            if lang == "zh":
                # Chinese text is drawn from the font embedded in the page, not the machine's.
                loaded = page.evaluate(
                    "document.fonts.ready.then(() => [...document.fonts].some("
                    "f => f.family.includes('parksim CJK') && f.status === 'loaded'))"
                )
                assert loaded
            page.screenshot(path=str(tmp_path / f"report-{lang}.png"), full_page=False)
        finally:
            browser.close()
    assert not problems, problems
