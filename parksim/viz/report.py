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
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from fontTools import subset
from pandas.io.formats.style import Styler

from parksim import __version__
from parksim.analysis.sensitivity.assumptions import load_assumptions
from parksim.analysis.summary import METRICS, POOL_NOTE, TAIL_METRICS, intervals
from parksim.ensemble.folders import read_manifest
from parksim.scenario.addresses import scenario_leaves
from parksim.scenario.describe import (
    changed_parameters,
    parameter_text,
    strategy_path,
    strategy_words,
)
from parksim.viz import charts, fonts
from parksim.viz.i18n import (
    METRIC_LABELS,
    check_lang,
    format_number,
    metric_label,
    metric_unit,
    tr,
    unit_label,
)

#: A loaded run: `parksim.results.RunResult` (the layer above this one), read for its
#: scenario, manifest, path, summary, differences and figures.
Run = Any

#: The headline figures of the summary table (per-replication metrics, as means).
SUMMARY_METRICS: tuple[str, ...] = (
    "cum_net_profit",
    "cum_credit_loss",
    "final_npl_ratio",
    "raroc",
    "cum_listings",
    "cum_young_new_loans",
    "cum_fiscal_cost",
)
#: The tail-risk tables: the summary's tail metrics, headed short (the section names the
#: cumulative credit loss and 万元).
TAIL_HEADINGS: dict[str, str] = {
    "cum_credit_loss_var95": "VaR 95 %",
    "cum_credit_loss_es95": "ES 95 %",
    "cum_credit_loss_var99": "VaR 99 %",
    "cum_credit_loss_es99": "ES 99 %",
    "cum_credit_loss_var99_9": "VaR 99.9 %",
    "cum_credit_loss_es99_9": "ES 99.9 %",
    "unexpected_loss_99_9": "UL 99.9 %",
    "return_on_risk": "return on risk (profit / UL)",
}
#: What each chart of a run shows, as its caption (the file name in figures/ follows).
CHART_CAPTIONS: dict[str, str] = {
    "risk_curves": "Credit risk by strategy",
    "revenue_curves": "Revenue and cost by strategy",
    "operator_curves": "The park operator by strategy",
    "fan_npl_ratio": "NPL ratio over replications",
    "fan_cum_credit_loss": "Cumulative credit loss over replications",
    "fan_cum_revenue": "Cumulative revenue over replications",
    "fan_cum_net_profit": "Cumulative net profit over replications",
    "loss_distribution": "Distribution of the cumulative credit loss",
    "risk_return": "Return against tail risk",
    "stage_mix": "Enterprises by life-cycle stage",
    "difference_fan_cum_net_profit": "Cumulative net profit, strategy minus reference",
    "difference_fan_cum_credit_loss": "Cumulative credit loss, strategy minus reference",
    "difference_forest": "Differences from the reference with 95 % intervals",
}
#: Sensitivity indices ranked by, per method (the sensitivity study's indices.csv).
SENSITIVITY_RANKS: tuple[str, ...] = ("mu_star", "ST")
MOST_SENSITIVE = 10


def _styled(shown: pd.DataFrame, table_id: str, words: int | list[str] = 1) -> str:
    """A Styler table of strings, cells escaped, a fixed id so the page repeats; the
    columns of ``words`` (names, not figures; a number: the first so many) aligned left."""
    left = list(shown.columns[:words]) if isinstance(words, int) else words
    styler: Styler = (
        shown.style.format(escape="html", na_rep="\u2013")
        .format_index(escape="html", axis=1)
        .set_uuid(table_id)
        .set_table_attributes('class="data"')
        .hide(axis="index")
        .set_properties(subset=left, **{"text-align": "left"})
    )
    return styler.to_html()


def heading(metric: str, lang: str, difference: bool = False) -> str:
    """A column heading: the metric's name and its unit, "NPL ratio at the horizon (%)"."""
    unit = unit_label(metric_unit(metric), lang, difference)
    return tr("{name} ({unit})", lang).format(name=metric_label(metric, lang), unit=unit)


def with_interval(value: float, low: float, high: float, unit: str, lang: str, diff=False) -> str:
    """ "−0.32 (−0.49 to −0.16)": a figure and its 95 % interval, in the unit's format; the
    interval on a second line of the cell."""
    shown = format_number(value, unit, diff)
    if low != low or high != high or low == high == value:
        return shown
    return tr("{value}\n({low} to {high})", lang).format(
        value=shown, low=format_number(low, unit, diff), high=format_number(high, unit, diff)
    )


def _strategy_words(result: Run, lang: str) -> list[dict[str, Any]]:
    """Each strategy's resolved path in sentences, with the pool's outcome where it paid."""
    scenario = result.scenario
    summary = result.summary
    out = []
    for s in scenario.strategies:
        path = strategy_path(s, scenario.tiers, scenario)
        lines = strategy_words(path, lambda t: tr(t, lang))
        note = _policy_note(summary, s.name, lang)
        out.append({"name": s.name, "lines": lines, "note": note})
    return out


def _policy_note(summary: pd.DataFrame, name: str, lang: str) -> str:
    """The summary's policy_note in ``lang``: what the risk pool paid and how often it ran
    out, and why a pool can raise the bank's losses (empty where the pool never paid)."""
    if name not in summary.index or "cum_fiscal_pool_paid_mean" not in summary.columns:
        return ""
    paid = summary.loc[name, "cum_fiscal_pool_paid_mean"]
    if not paid > 0:
        return ""
    share = summary.loc[name, "pool_exhausted_share"]
    text = tr(
        "The risk pool paid {paid} 万元 on average and ran out in {share} % of replications.",
        lang,
    ).format(paid=format_number(paid, "万元"), share=format_number(share * 100.0, "quarter"))
    return text + " " + tr(POOL_NOTE, lang)


def _parameters(result: Run, lang: str) -> str | None:
    """Every parameter the scenario sets away from the schema's default."""
    rows = [
        {"parameter": key, "this scenario": parameter_text(value), "default": parameter_text(d)}
        for key, value, d in changed_parameters(result.scenario)
    ]
    if not rows:
        return None
    frame = pd.DataFrame(rows).rename(columns=lambda c: tr(c, lang))
    return _styled(frame, "parameters", words=3)


def _summary_tables(result: Run, lang: str) -> tuple[str, str, str]:
    """The headline table, the tail-risk table and the table of every summary metric,
    each figure with its 95 % interval (analysis.summary.intervals)."""
    found = intervals(result.per_replication).set_index(["strategy", "metric"])
    names = [str(s) for s in found.index.get_level_values("strategy").unique()]

    def cell(name: str, metric: str) -> str:
        row = found.loc[(name, metric)]
        return with_interval(row["value"], row["low"], row["high"], metric_unit(metric), lang)

    def wide(headings: dict[str, str], table_id: str) -> str:
        frame = pd.DataFrame(
            {
                tr("strategy", lang): names,
                **{title: [cell(n, m) for n in names] for m, title in headings.items()},
            }
        )
        return _styled(frame, table_id)

    tail_headings = {m: TAIL_HEADINGS.get(m, metric_label(m)) for m in TAIL_METRICS}

    every_metric = [*METRICS, *TAIL_METRICS]
    every = pd.DataFrame(
        {
            tr("metric", lang): [metric_label(m, lang) for m in every_metric],
            tr("unit", lang): [unit_label(metric_unit(m), lang) for m in every_metric],
            **{name: [cell(name, m) for m in every_metric] for name in names},
        }
    )
    return (
        wide({m: heading(m, lang) for m in SUMMARY_METRICS}, "summary"),
        # In two tables (95 and 99 %; 99.9 %, UL and return on risk) that fit the page.
        wide({m: tr(t, lang) for m, t in list(tail_headings.items())[:4]}, "tail")
        + wide({m: tr(t, lang) for m, t in list(tail_headings.items())[4:]}, "tail-999"),
        _styled(every, "all-metrics", words=2),
    )


def _differences(folder: Path | None, lang: str) -> str | None:
    path = None if folder is None else folder / "differences.csv"
    if path is None or not path.exists():
        return None
    table = pd.read_csv(path)
    rows = []
    for r in table.itertuples(index=False):
        unit = getattr(r, "unit", None) or metric_unit(r.metric)
        rows.append(
            {
                tr("strategy", lang): r.strategy,
                tr("metric", lang): metric_label(r.metric, lang),
                tr("difference (95 % interval)", lang): with_interval(
                    r.mean, r.ci_low, r.ci_high, unit, lang, diff=True
                ),
                tr("unit", lang): unit_label(unit, lang, difference=True),
                tr("better", lang): tr(f"{r.better} is better", lang),
                tr("replications better (%)", lang): format_number(
                    getattr(r, "p_better", float("nan")) * 100.0, "quarter"
                ),
                tr("break-even quarter", lang): format_number(
                    float(r.breakeven_quarter) if pd.notna(r.breakeven_quarter) else float("nan"),
                    "quarter",
                ),
            }
        )
    words = [tr(c, lang) for c in ("strategy", "metric", "unit", "better")]
    return _styled(pd.DataFrame(rows), "differences", words=words)


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


def _sensitivity(study: Path | None, result: Run, lang: str) -> str | None:
    """The parameters with the largest indices of the study, each with its range from
    assumptions.toml and its value in this scenario."""
    if study is None or not (study / "indices.csv").exists():
        return None
    table = pd.read_csv(study / "indices.csv")
    rank = next((c for c in SENSITIVITY_RANKS if c in table.columns), None)
    if rank is None:
        return None
    top = table.sort_values(rank, ascending=False, kind="stable").head(MOST_SENSITIVE)
    ranged = {p.key: p for p in load_assumptions().parameters}
    values = scenario_leaves(result.scenario)
    rows = []
    for r in top.to_dict("records"):
        key = r.get("parameter", "")
        p = ranged.get(key)
        row = {tr("parameter", lang): key}
        for column in ("strategy", "versus"):
            if column in r:
                row[tr(column, lang)] = "" if pd.isna(r[column]) else str(r[column])
        if "metric" in r:
            metric = str(r["metric"])
            row[tr("metric", lang)] = (
                metric_label(metric, lang) if metric in METRIC_LABELS else metric
            )
        row[tr(rank, lang)] = f"{r[rank]:.3g}"
        row[tr("this scenario", lang)] = parameter_text(values[key]) if key in values else ""
        if p is None:
            row[tr("range", lang)] = ""
        elif p.levels:  # discrete levels or choices, each of equal mass
            row[tr("range", lang)] = " / ".join(str(level) for level in p.levels)
        else:
            kind = tr("× the scenario's value", lang) if p.scale else ""
            row[tr("range", lang)] = (
                tr("{low} to {high} {kind}", lang)
                .format(low=f"{p.low:g}", high=f"{p.high:g}", kind=kind)
                .strip()
                + " ("
                + tr(p.distribution, lang)
                + ")"
            )
        row[tr("why this range", lang)] = "" if p is None else p.reason
        rows.append(row)
    return _styled(pd.DataFrame(rows), "sensitivity", words=5)


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
        caption = tr(CHART_CAPTIONS[name], lang) if name in CHART_CAPTIONS else ""
        images.append({"name": name, "caption": caption, "src": f"data:image/png;base64,{data}"})
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
    summary, tail, every = _summary_tables(result, lang)
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
        parameters=_parameters(result, lang),
        summary=summary,
        tail=tail,
        every_metric=every,
        differences=_differences(result.path, lang),
        sensitivity=_sensitivity(study, result, lang),
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
