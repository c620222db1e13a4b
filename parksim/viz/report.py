"""`parksim report`: one self-contained HTML file about a run, to read or e-mail.

The page holds the scenario and its strategies in words, the summary and tail-risk
tables, the paired differences from the reference strategy (when the folder has
`differences.csv`), every chart of the run (inline PNG, so the file needs nothing
beside it), the assumptions that matter most (when a sensitivity study of the scenario
exists) and the provenance: versions, seed, command and source fingerprint.

Tables are pandas Styler tables (number formats, no index noise, a fixed id so the file
repeats byte for byte) placed in a Jinja2 page template (``templates/report.html.j2``,
autoescaped): no HTML is assembled from strings here.
"""

from __future__ import annotations

import base64
import io
import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from fontTools import subset
from pandas.io.formats.style import Styler

from parksim import __version__
from parksim.ensemble.folders import read_manifest
from parksim.policy import PolicyPackage
from parksim.viz import charts, fonts
from parksim.viz.i18n import check_lang, tr

#: A loaded run: `parksim.results.RunResult` (the layer above this one), read for its
#: scenario, manifest, path, summary, differences and figures.
Run = Any

#: Summary columns of the first table, with their headings.
SUMMARY_COLUMNS: dict[str, str] = {
    "cum_net_profit_mean": "mean cumulative net profit (万元)",
    "cum_credit_loss_mean": "expected loss EL (万元)",
    "final_npl_ratio_mean": "NPL ratio at the horizon (%)",
    "cum_listings_mean": "listings (firms)",
    "return_on_risk": "return on risk (profit / UL 99.9 %)",
}
TAIL_COLUMNS: dict[str, str] = {
    "cum_credit_loss_var95": "VaR 95 %",
    "cum_credit_loss_es95": "ES 95 %",
    "cum_credit_loss_var99": "VaR 99 %",
    "cum_credit_loss_es99": "ES 99 %",
    "cum_credit_loss_var99_9": "VaR 99.9 %",
    "unexpected_loss_99_9": "UL 99.9 %",
}
DIFFERENCE_COLUMNS: dict[str, str] = {
    "strategy": "strategy",
    "metric": "metric",
    "mean": "difference (mean)",
    "ci_low": "95 % interval, low",
    "ci_high": "95 % interval, high",
    "p_better": "replications better (%)",
    "breakeven_quarter": "break-even quarter",
}
#: Sensitivity indices ranked by, per method (the sensitivity study's indices.csv).
SENSITIVITY_RANKS: tuple[str, ...] = ("mu_star", "ST")
MOST_SENSITIVE = 10
ASSET_MODELS = {
    "heavy": "a heavy-asset operator (重资产: builds and owns the buildings)",
    "light": "a light-asset operator (轻资产: manages, owns little)",
    "adaptive": "an adaptive operator (switches between heavy and light assets)",
}
POLICY_WORDS = {
    "risk_pool_share": "risk-pool (风险补偿资金池) share of a loss",
    "risk_pool_size": "risk-pool capital (万元)",
    "guarantee_share": "government guarantee share of a loss",
    "guarantee_fee": "guarantee fee (a year)",
    "interest_subsidy": "interest subsidy (a year)",
    "reits_available": "REITs available",
    "mna_loan_cap": "M&A loan cap (share of the deal price)",
}


def _table(frame: pd.DataFrame, table_id: str, formats: dict[str, str], lang: str) -> str:
    """A Styler table: headings translated, numbers formatted, a fixed id."""
    shown = frame.rename(columns=lambda c: tr(c, lang))
    styler: Styler = (
        shown.style.format({tr(k, lang): v for k, v in formats.items()}, na_rep="–")
        .set_uuid(table_id)
        .set_table_attributes('class="data"')
        .hide(axis="index")
    )
    return styler.to_html()


def _strategy_words(result: Run, lang: str) -> list[str]:
    scenario = result.scenario
    default = scenario.policy
    lines = []
    for s in scenario.strategies:
        text = tr("{name}: the focal bank serves the park at tier {tier}, with {operator}", lang)
        text = text.format(
            name=s.name,
            tier=f"{s.bank_tier:.1f}",
            operator=tr(ASSET_MODELS[s.operator_model], lang),
        )
        changed = [
            f"{tr(POLICY_WORDS.get(f.name, f.name), lang)} {getattr(s.policy, f.name)}"
            for f in fields(PolicyPackage)
            if getattr(s.policy, f.name) != getattr(default, f.name)
        ]
        if changed:
            text += tr("; policy: {changes}", lang).format(changes=", ".join(changed))
        for change in s.changes:
            moves = [
                tr("tier {tier}", lang).format(tier=f"{change.bank_tier:.1f}")
                if change.bank_tier is not None
                else None,
                tr(ASSET_MODELS[change.operator_model], lang)
                if change.operator_model is not None
                else None,
            ]
            text += tr("; from quarter {quarter}: {moves}", lang).format(
                quarter=change.quarter, moves=", ".join(m for m in moves if m)
            )
        lines.append(text)
    return lines


def _summary_tables(result: Run, lang: str) -> tuple[str, str]:
    summary = result.summary.reset_index()
    main = summary[["strategy", *SUMMARY_COLUMNS]].copy()
    main["final_npl_ratio_mean"] *= 100.0
    main = main.rename(columns=SUMMARY_COLUMNS)
    numbers = {v: "{:,.0f}" for v in SUMMARY_COLUMNS.values()}
    numbers[SUMMARY_COLUMNS["final_npl_ratio_mean"]] = "{:.2f}"
    numbers[SUMMARY_COLUMNS["cum_listings_mean"]] = "{:,.1f}"
    numbers[SUMMARY_COLUMNS["return_on_risk"]] = "{:.2f}"
    tail = summary[["strategy", *TAIL_COLUMNS]].rename(columns=TAIL_COLUMNS)
    return (
        _table(main, "summary", numbers, lang),
        _table(tail, "tail", {v: "{:,.0f}" for v in TAIL_COLUMNS.values()}, lang),
    )


def _differences(folder: Path | None, lang: str) -> str | None:
    path = None if folder is None else folder / "differences.csv"
    if path is None or not path.exists():
        return None
    table = pd.read_csv(path)
    shown = table[[c for c in DIFFERENCE_COLUMNS if c in table.columns]].copy()
    if "p_better" in shown:
        shown["p_better"] *= 100.0
    shown = shown.rename(columns=DIFFERENCE_COLUMNS)
    numbers = {
        DIFFERENCE_COLUMNS["mean"]: "{:,.2f}",
        DIFFERENCE_COLUMNS["ci_low"]: "{:,.2f}",
        DIFFERENCE_COLUMNS["ci_high"]: "{:,.2f}",
        DIFFERENCE_COLUMNS["p_better"]: "{:.0f}",
        DIFFERENCE_COLUMNS["breakeven_quarter"]: "{:.0f}",
    }
    return _table(shown, "differences", numbers, lang)


def find_sensitivity(result: Run) -> Path | None:
    """A sensitivity study of the run's scenario next to the run folder, if one exists:
    a sibling folder with `indices.csv` whose manifest names the same scenario."""
    if result.path is None:
        return None
    for indices in sorted(result.path.parent.glob("*/indices.csv")):
        try:
            manifest = read_manifest(indices.parent)
        except Exception:
            continue
        name = manifest.get("scenario_name") or manifest.get("scenario", {}).get("name")
        if name == result.scenario.name:
            return indices.parent
    return None


def _sensitivity(study: Path | None, lang: str) -> str | None:
    if study is None or not (study / "indices.csv").exists():
        return None
    table = pd.read_csv(study / "indices.csv")
    rank = next((c for c in SENSITIVITY_RANKS if c in table.columns), None)
    if rank is None:
        return None
    top = table.sort_values(rank, ascending=False, kind="stable").head(MOST_SENSITIVE)
    shown = top[[c for c in ("parameter", "strategy", "versus", "metric", rank) if c in top]]
    return _table(shown, "sensitivity", {rank: "{:.3g}"}, lang)


def _charts(result: Run, lang: str) -> list[dict[str, str]]:
    """Every chart of the run as an inline PNG (data URI)."""
    images = []
    for name, draw in result.figures().items():
        fig = draw(lang)
        buffer = io.BytesIO()
        try:
            with charts._style():
                fig.savefig(buffer, format="png", dpi=150, metadata=charts.FIXED_METADATA["png"])
        finally:
            fig.clear()
        data = base64.b64encode(buffer.getvalue()).decode("ascii")
        images.append({"name": name, "src": f"data:image/png;base64,{data}"})
    return images


def _provenance(result: Run, lang: str) -> list[tuple[str, str]]:
    """(label, value) rows: what reproduces the run and what wrote this page."""
    m = result.manifest
    versions = m.get("versions", {})
    rows = [
        (tr("scenario", lang), m["scenario_name"]),
        (tr("random seed", lang), str(m["seed"])),
        (tr("replications per strategy", lang), str(m["replications"])),
        (tr("command", lang), m.get("command", "")),
        (tr("started", lang), m.get("started") or ""),
        (tr("ended", lang), m.get("ended") or ""),
        (tr("source fingerprint", lang), versions.get("parksim_source", "")),
    ]
    rows += [
        (tr("version of {package}", lang).format(package=name), value)
        for name, value in versions.items()
        if name != "parksim_source"
    ]
    rows.append((tr("report written by", lang), f"parksim {__version__}"))
    return rows


def cjk_font_data(text: str) -> dict[int, str] | None:
    """Data URIs of the shipped CJK font's Regular (400) and Bold (700) faces cut down
    to the characters of ``text`` that need them (WOFF, a few tens of kB each), or None
    when there are none.

    The page then shows its Chinese on a reader's machine without a CJK font, and in
    the same faces as the charts.
    """
    chars = "".join(sorted({c for c in text if ord(c) >= 0x2E80}))
    if not chars:
        return None
    options = subset.Options()
    options.flavor = "woff"
    options.layout_features = []
    options.hinting = False
    uris = {}
    for weight, path in fonts.cjk_faces().items():
        font = subset.load_font(str(path), options, lazy=True)
        try:
            subsetter = subset.Subsetter(options)
            subsetter.populate(text=chars)
            subsetter.subset(font)
            buffer = io.BytesIO()
            subset.save_font(font, buffer, options)
        finally:
            font.close()  # lazy loading keeps the file open until then
        uris[weight] = "data:font/woff;base64," + base64.b64encode(buffer.getvalue()).decode()
    return uris


def render(result: Run, lang: str = "en", study: Path | None = None) -> str:
    """The report of ``result`` as one HTML page (str)."""
    check_lang(lang)
    study = study if study is not None else find_sensitivity(result)
    summary, tail = _summary_tables(result, lang)
    scenario = result.scenario
    m = result.manifest
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("parksim.viz", "templates"),
        autoescape=True,
        keep_trailing_newline=True,
    )
    page = environment.get_template("report.html.j2")
    context = dict(
        lang=lang,
        t=lambda text, **values: tr(text, lang).format(**values),
        scenario=scenario,
        manifest=m,
        strategies=_strategy_words(result, lang),
        summary=summary,
        tail=tail,
        differences=_differences(result.path, lang),
        sensitivity=_sensitivity(study, lang),
        study=study,
        charts=_charts(result, lang),
        provenance=_provenance(result, lang),
    )
    # Twice: the first page tells which characters the embedded font must carry.
    draft = page.render(**context, cjk_font=None)
    words = re.sub(r"data:[a-z/]+;base64,[A-Za-z0-9+/=]+", "", draft)
    return page.render(**context, cjk_font=cjk_font_data(words))


def write_report(
    result: Run, out: str | Path | None = None, lang: str = "en", study: Path | None = None
) -> Path:
    """Write the report of a loaded run folder (`parksim.results.RunResult.load`), by
    default to ``<its folder>/report-<lang>.html``."""
    path = Path(out) if out is not None else Path(result.path) / f"report-{lang}.html"
    text = render(result, lang, study)
    path.write_text(text, encoding="utf-8")
    return path
