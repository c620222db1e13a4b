"""The validation report: regenerate docs/validation.md and its charts with one command.

    python -m parksim.viz.validation_report            # from the repository root

It checks, in order: the credit engine against the Vasicek one-factor distribution and its
finite-N mixed binomial, the Basel II IRB formula against Basel's published risk weights,
the full model in a degenerate configuration against the same closed form, the calibrated
baseline against every target (in and out of sample), the six park presets against the
book's figures, and the book's stylized facts (by running tests/test_stylized_facts.py).
Everything is seeded: the same parksim version gives the same report.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import re
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from parksim import __version__
from parksim.analysis.calibration.checks import (
    ANNUAL_CASE,
    ANNUAL_PERSISTENCES,
    CREDIT_CASES,
    AnnualCheck,
    DistributionCheck,
    annual_check,
    basel_table,
    degenerate_model_check,
    degenerate_overrides,
    engine_check,
)
from parksim.analysis.calibration.fit import (
    base_name,
    measure,
    search_range,
    simulate,
    with_parameters,
)
from parksim.analysis.calibration.targets import TargetSet, default_targets_path, load_targets
from parksim.analysis.sensitivity.assumptions import Assumptions, load_assumptions, parents
from parksim.credit import CreditParams
from parksim.scenario.loader import load_scenario
from parksim.scenario.schema import Scenario
from parksim.viz.calibration_charts import (
    plot_basel,
    plot_distributions,
    plot_lifecycle,
    plot_targets,
)

PRESETS = (
    "suzhou_biobay",
    "zgc_no1",
    "lingang",
    "shenzhen_bay",
    "xian_qinchuangyuan",
    "jinan_qilu",
)
STYLIZED_FACTS = Path("tests") / "test_stylized_facts.py"


# -------------------------------------------------------------------- calibration and presets


def fresh_measurement(targets: TargetSet, replications: int = 12) -> TargetSet:
    """The targets' measurement with new seeds and more replications: the calibrated model
    is judged on luck it was not fitted to."""
    measurement = replace(
        targets.measurement, seed=targets.measurement.seed + 1, replications=replications
    )
    return replace(targets, measurement=measurement)


def preset_targets(targets: TargetSet, scenario: Scenario) -> TargetSet:
    """The targets specific to a preset, measured over its own horizon and seed."""
    own = tuple(t for t in targets.targets if t.scenario == scenario.name)
    measurement = replace(
        targets.measurement,
        horizon=scenario.horizon,
        replications=min(scenario.replications, targets.measurement.replications),
        seed=scenario.seed,
    )
    return replace(targets, targets=own, measurement=measurement)


def misfit_of(table: pd.DataFrame, targets: TargetSet) -> float:
    """The calibration objective of a measured table (its fit targets)."""
    by_name = {t.name: t for t in targets.targets}
    fit = table[table["role"] == "fit"]
    return float(
        sum(
            by_name[base_name(row.target)].weight
            * ((row.model - row.value) / by_name[base_name(row.target)].scale) ** 2
            for row in fit.itertuples()
        )
    )


# -------------------------------------------------------------------- stylized facts


def stylized_facts(root: Path) -> pd.DataFrame:
    """Each stylized-fact test, the comment that states its fact, and whether it passes."""
    path = root / STYLIZED_FACTS
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    lines = text.splitlines()
    rows = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            body_start = node.body[0].lineno - 1
            comments = [
                line.strip().lstrip("# ").strip()
                for line in lines[node.lineno : body_start]
                if line.strip().startswith("#")
            ]
            rows.append({"test": node.name, "fact": " ".join(comments)})
    outcome = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", str(path)],
        capture_output=True,
        text=True,
        cwd=root,
        check=False,
    ).stdout
    passed = set(re.findall(r"^PASSED \S+::(\w+)", outcome, flags=re.M))
    frame = pd.DataFrame(rows)
    frame["status"] = ["passes" if name in passed else "FAILS" for name in frame["test"]]
    return frame


# -------------------------------------------------------------------- the report


def markdown_table(frame: pd.DataFrame, formats: dict[str, str] | None = None) -> str:
    """A pipe table; `formats` maps columns to format specs such as '.2%'."""
    formats = formats or {}

    def cell(column: str, value: object) -> str:
        if isinstance(value, float) and column in formats:
            return "–" if not np.isfinite(value) else format(value, formats[column])
        if isinstance(value, bool | np.bool_):
            return "yes" if value else "**no**"
        return str(value).replace("|", "\\|")

    header = "| " + " | ".join(frame.columns) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    body = [
        "| " + " | ".join(cell(c, v) for c, v in zip(frame.columns, row, strict=True)) + " |"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join([header, rule, *body])


def _percent(value: float) -> str:
    return "–" if not np.isfinite(value) else f"{100 * value:.2f}%"


def _target_value(value: float, target: str) -> str:
    """Shares and rates as percentages; counts and per-year figures as numbers."""
    counts = ("firms", "per_year")
    if any(word in target for word in counts):
        return f"{value:,.1f}"
    return _percent(value)


def target_rows(before: pd.DataFrame, after: pd.DataFrame, targets: TargetSet) -> pd.DataFrame:
    """The report's table: one row per target, the baseline before and after calibration."""
    by_name = {t.name: t for t in targets.targets}
    rows = []
    for row in after.itertuples():
        start = before.set_index("target").loc[row.target, "model"]
        gap_note = {"above": " (known gap: above)", "below": " (known gap: below)"}
        rows.append(
            {
                "target": row.target,
                "role": row.role + gap_note.get(row.known_gap, ""),
                "source": by_name[base_name(row.target)].source,
                "published": _target_value(row.value, row.target),
                "band": f"{_target_value(row.band_low, row.target)} – "
                f"{_target_value(row.band_high, row.target)}",
                "before the fit": _target_value(start, row.target),
                "calibrated": _target_value(row.model, row.target),
                "± se": _target_value(row.se, row.target),
                "gap": _target_value(row.gap, row.target),
                "in band": bool(row.in_band),
            }
        )
    return pd.DataFrame(rows)


@dataclass
class Report:
    """Everything the report shows, computed once."""

    engine: list[DistributionCheck]
    degenerate: list[DistributionCheck]
    basel: pd.DataFrame
    targets: TargetSet
    fresh: TargetSet
    parameters: pd.DataFrame  # key, baseline value, calibrated value, range, note
    before: pd.DataFrame
    after: pd.DataFrame
    presets: dict[str, pd.DataFrame]
    facts: pd.DataFrame
    annual: list[AnnualCheck] = dataclasses.field(default_factory=list)


def uncalibrated(baseline: Scenario, targets: TargetSet) -> Scenario:
    """The baseline with every fitted parameter at its hand-set `prior` (targets file): the
    model before any fit, which the report compares with the calibrated defaults."""
    priors = {p.key: p.prior for p in targets.parameters if p.prior is not None}
    return with_parameters(baseline, priors)


def parameter_rows(prior: Scenario, calibrated: Scenario, targets: TargetSet) -> pd.DataFrame:
    rows = []
    for p in targets.parameters:
        rows.append(
            {
                "parameter": f"`{p.key}`",
                "before the fit": f"{p.parsed.read(prior):.4g}",
                "calibrated": f"{p.parsed.read(calibrated):.4g}",
                "search range": search_range(p).replace(" × ", " × `")
                + ("`" if p.relative_to else ""),
                "what it is, and the moments that pin it": p.note,
            }
        )
    return pd.DataFrame(rows)


def _check_rows(checks: list[DistributionCheck]) -> pd.DataFrame:
    rows = []
    for check in checks:
        table = check.quantile_table().set_index("alpha")
        row = {
            "PD": _percent(check.pd),
            "R": f"{check.correlation:.2f}",
            "N": f"{check.n:,}",
            "quarters": f"{len(check.defaults):,}",
            "mean rate": _percent(float(check.rates.mean())),
            "KS p-value": f"{check.p_value:.2f}",
            "p-value at R/2": _small(check.p_value_at(check.correlation / 2)),
        }
        for alpha in (0.99, 0.999):
            if alpha <= 1 - 1 / len(check.defaults):
                row[f"q{alpha:g} sim / mixed / Vasicek"] = " / ".join(
                    _percent(table.loc[alpha, c])
                    for c in ("simulated", "mixed_binomial", "vasicek")
                )
        rows.append(row)
    return pd.DataFrame(rows).fillna("–")


def _small(p: float) -> str:
    return "< 1e-300" if p <= 0 else f"{p:.1e}"


def assumption_text(key: str, assumptions: Assumptions) -> str:
    """What assumptions.toml (or targets.toml) says about a hand-set parameter."""
    ranged = {p.key: p for p in assumptions.parameters}
    for candidate in (key, *parents(key)):
        if candidate in ranged:
            p = ranged[candidate]
            scale = " × its default" if p.scale else ""
            return f"`{key}` ranged {_show(p.low)}–{_show(p.high)}{scale} in assumptions.toml"
        if candidate in assumptions.sourced:
            return f"`{key}` sourced ({assumptions.sourced[candidate]})"
        if candidate in assumptions.fixed:
            return f"`{key}` fixed (structural)"
        if candidate in assumptions.fitted:
            return f"`{key}` fitted"
    return f"`{key}` **has no range in assumptions.toml**"


def _known_gaps(after: pd.DataFrame, targets: TargetSet | None = None) -> str:
    missed = after[~after["in_band"]]
    if missed.empty:
        return "Every target lies in its band."
    by_name = {t.name: t for t in targets.targets} if targets is not None else {}
    assumptions = load_assumptions() if by_name else None
    lines = []
    for row in missed.itertuples():
        side = "above" if row.model > row.band_high else "below"
        target = by_name.get(base_name(row.target))
        hand = ""
        if target is not None and target.parameters and assumptions is not None:
            hand = " Set by hand: " + "; ".join(
                assumption_text(key, assumptions) for key in target.parameters
            )
            hand += "."
        lines.append(
            f"- **{row.target}** ({row.role}): the model is {side} the band "
            f"({_target_value(row.model, row.target)} against "
            f"{_target_value(row.value, row.target)}). {row.note}{hand}".rstrip()
        )
    return "\n".join(lines)


def render(report: Report) -> str:
    """docs/validation.md."""
    sections = [
        _intro(report),
        _credit_section(report),
        _annual_section(report),
        _basel_section(report),
        _degenerate_section(report),
        _calibration_section(report),
        _preset_section(report),
        _facts_section(report),
        _regenerate_section(),
    ]
    return "\n\n".join(sections).rstrip() + "\n"


def _in_band(table: pd.DataFrame, role: str) -> str:
    rows = table[table["role"] == role]
    return f"{int(rows['in_band'].sum())} of {len(rows)}"


def _intro(report: Report) -> str:
    basel_error = report.basel["difference"].abs().max()
    engine_p = ", ".join(f"{c.p_value:.2f}" for c in report.engine)
    model_p = ", ".join(f"{c.p_value:.2f}" for c in report.degenerate)
    preset_rows = pd.concat(report.presets.values()) if report.presets else pd.DataFrame()
    presets = (
        f"{int(preset_rows['in_band'].sum())} of {len(preset_rows)} in band"
        if len(preset_rows)
        else "–"
    )
    passing = int((report.facts["status"] == "passes").sum())
    summary = pd.DataFrame(
        [
            (
                "credit engine",
                "Vasicek / finite-N mixed binomial",
                f"KS p = {engine_p}",
                "`tests/test_credit_engine.py`",
            ),
            (
                "Basel IRB formula",
                f"Basel II Annex 5 ({len(report.basel)} risk weights)",
                f"largest difference {basel_error:.3f} pp",
                "`tests/test_closed_forms.py`",
            ),
            (
                "full model, degenerate park",
                "finite-N mixed binomial",
                f"KS p = {model_p}",
                "`tests/test_validation.py`",
            ),
            (
                "calibrated baseline, fit targets",
                "SAIC, CB Insights, NFRA, PBOC",
                f"{_in_band(report.after, 'fit')} in band",
                "`tests/test_validation.py`",
            ),
            (
                "calibrated baseline, out of sample",
                "SAIC (held out of the fit)",
                f"{_in_band(report.after, 'holdout')} in band",
                "`tests/test_validation.py`",
            ),
            (
                "calibrated baseline, other checks",
                "SAIC years 1-2, Carta, CBA",
                f"{_in_band(report.after, 'check')} in band",
                "`tests/test_validation.py`",
            ),
            ("six park presets", "the book's figures (§三)", presets, "`tests/test_presets.py`"),
            (
                "stylized facts",
                "the book (§四-§六)",
                f"{passing} of {len(report.facts)} pass",
                "`tests/test_stylized_facts.py`",
            ),
        ],
        columns=["what", "against", "result", "kept by"],
    )
    return f"""# parksim — validation

This report checks parksim against closed forms, published figures and the book's stylized
facts. It is generated by `python -m parksim.viz.validation_report` (parksim
{__version__}); its charts are in `docs/figures/validation/`. Every number comes from
seeded runs, so the same version regenerates the same report. The tests named in the last
column keep each check from regressing; their tolerances come from sampling error, not
from one run's digits.

{markdown_table(summary)}

Where the model misses a target, the report says so, by how much, and why (section 4.4)."""


def _credit_section(report: Report) -> str:
    return f"""## 1. The credit engine against the Vasicek distribution

`parksim/credit/engine.py` draws a borrower's default when
`√r_m·Z + √r_s·S_sector + √(1 − r_m − r_s)·ε < Φ⁻¹(PD)`. In one sector the asset
correlation is `R = r_m + r_s`, and the number of defaults among `N` loans follows the
mixed binomial `∫ C(N,k) p(z)^k (1 − p(z))^(N−k) φ(z) dz`, whose large-`N` limit is
Vasicek's distribution (`parksim/credit/closed_forms.py`). For each (PD, R) below, the
engine drew independent quarters of `N` loans (`default_rate_distribution`). The randomized
probability integral transform of each count under the mixed binomial is uniform if the
engine is right; the Kolmogorov-Smirnov p-value tests that. The quantile columns give the
simulated default rate, the mixed binomial's and Vasicek's large-portfolio limit; at
`N = 2,000` the last two differ by the portfolio's granularity.

{markdown_table(_check_rows(report.engine))}

![Credit engine against the closed forms](figures/validation/credit_engine.png)

Kept by `tests/test_credit_engine.py` (counts against the mixed binomial, the large-`N`
limit against Vasicek, per-borrower draws against the pooled ones, and a check that a
wrong correlation is rejected) and `tests/test_closed_forms.py` (the closed forms against
numerical integration)."""


def annual_rows(checks: list[AnnualCheck]) -> pd.DataFrame:
    """The annual-horizon table: one row per persistence of the macro factor."""
    rows = []
    for check in checks:
        simulated, basel = check.tail()
        rows.append(
            {
                "persistence φ": f"{check.persistence:.2f}",
                "annual PD": _percent(check.annual_pd),
                "annual correlation": f"{check.annual_correlation:.3f}",
                "year-on-year autocorrelation": f"{check.year_on_year:.2f}",
                "99.9% annual default rate": _percent(simulated),
                "Vasicek 99.9% at R": _percent(basel),
            }
        )
    return pd.DataFrame(rows)


def _annual_section(report: Report) -> str:
    if not report.annual:
        return ""
    pd_, macro, sector = ANNUAL_CASE
    r = macro + sector
    default = CreditParams().macro_persistence
    return f"""### 1.1 The annual horizon: the credit cycle

Basel's correlation is a one-year correlation; the model draws its factors every quarter.
With independent quarters a year's default rate averages four independent draws of the
macro factor, and the annual default rate of a portfolio is less dispersed than a
one-year Vasicek distribution with the same R. The macro factor is therefore a stationary
AR(1) with quarterly persistence `macro_persistence` (φ, default {default}, docs/model.md
§7.8): each quarter's factor is still N(0, 1), so §1 and §3 hold unchanged, but bad
quarters come in runs. The table reads the annual default rates of a large one-sector
portfolio (quarterly PD {_percent(pd_)}, R = {r:.2f}; {len(report.annual[0].annual_rates):,}
consecutive years through `CreditRiskEngine.draw_factors`, `annual_check` in
`parksim/analysis/calibration/checks.py`) as a one-year Vasicek distribution: the correlation
whose variance matches (`implied_correlation`), the autocorrelation of consecutive
years, and the 99.9% quantile against Vasicek's at the annual PD with R = {r:.2f}.

{markdown_table(annual_rows(report.annual))}

With φ = 0 the annual correlation is well below the quarter's R and the annual tail is
thin; the default φ restores it and makes consecutive years' default rates
correlate about as Moody's annual default rates do (0.55, 1970–2016). Kept by
`tests/test_credit_engine.py::test_macro_factor_autocorrelation_matches_its_parameter_and_variance_is_one`
and `tests/test_validation.py::test_credit_cycle_raises_the_annual_correlation`."""


def _basel_section(report: Report) -> str:
    wide = report.basel.pivot_table(
        index="pd", columns="column", values=["published", "computed"], aggfunc="first"
    )
    rows = []
    for pd_, row in wide.iterrows():
        rows.append(
            {
                "PD": f"{100 * pd_:.2f}%",
                "corporate: Annex 5": f"{row[('published', 'corporate')]:.2f}",
                "corporate: formula": f"{row[('computed', 'corporate')]:.2f}",
                "SME €5m: Annex 5": _maybe(row.get(("published", "sme_5m"))),
                "SME €5m: formula": _maybe(row.get(("computed", "sme_5m"))),
            }
        )
    largest = report.basel["difference"].abs().max()
    return f"""## 2. The Basel II IRB formula against Basel's published risk weights

`basel_risk_weight` (`parksim/credit/closed_forms.py`) against the risk weights Basel II
prints in Annex 5 (June 2006), corporate exposures, LGD 45%, maturity 2.5 years, with and
without the SME firm-size adjustment (the table is `parksim/data/basel_annex5.toml`). Risk
weights in percent; the largest difference is {largest:.3f} percentage points, within the
table's printed precision (0.01 pp, and Basel rounds a few entries up).

{markdown_table(pd.DataFrame(rows))}

![Basel II IRB risk weights](figures/validation/basel.png)

Kept by `tests/test_closed_forms.py` (every entry to 0.01 pp)."""


def _maybe(value: object) -> str:
    return "–" if value is None or not np.isfinite(float(value)) else f"{float(value):.2f}"


def _degenerate_section(report: Report) -> str:
    example = degenerate_overrides(0.02, 0.12, 0.06, 2000)
    shown = ", ".join(f"`{k}={_show(v)}`" for k, v in example.items())
    return f"""## 3. The full model in a degenerate configuration

The brief's first external check: with one sector, one stage, one PD and one correlation,
the park's failures must follow the same closed form. `degenerate_overrides` in
`parksim/analysis/calibration/checks.py` sets this park through ordinary scenario overrides (no
model change): for PD 2% and R = 0.18, {shown}. No firm enters, graduates, relocates or
is acquired, and quality, finance and chain links leave every PD at its stage's value,
scaled by the sector's multiplier (which the overrides divide out).

Each replication is a fresh park of `N` firms run for one quarter through the whole
schedule (entry, loan book, finance, the credit engine, exits), so every count is a draw
from one mixed binomial with exactly `N` firms at risk.

{markdown_table(_check_rows(report.degenerate))}

![The degenerate park against the closed forms](figures/validation/degenerate_model.png)

Kept by `tests/test_validation.py::test_degenerate_park_failures_follow_the_mixed_binomial`:
Kolmogorov-Smirnov p-value above 0.001, so a correct model fails it once in a thousand
seeds; the same test shows its power by rejecting the counts against the mixed binomial
with half the true correlation."""


def _show(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, tuple):
        return "(" + ", ".join(_show(v) for v in value) + ")"
    return str(value)


def _calibration_section(report: Report) -> str:
    m, fresh = report.targets.measurement, report.fresh.measurement
    inputs = report.after[report.after["role"] == "input"]
    shown = report.after[report.after["role"] != "input"]
    holdout = shown[shown["role"] == "holdout"]
    holdout_text = "; ".join(
        f"{row.target} {_target_value(row.model, row.target)} against "
        f"{_target_value(row.value, row.target)} ({'in' if row.in_band else 'outside'} its band)"
        for row in holdout.itertuples()
    )
    table = target_rows(report.before, shown, report.targets)
    return f"""## 4. Calibration

### 4.1 What is fitted and what is set by hand

`parksim calibrate scenarios/baseline.toml parksim/data/targets.toml` fits the
lifecycle, equity and default parameters below by simulated moments. Every other parameter
keeps its documented default (`docs/model.md`), set by hand: the tiers, the sector
profiles, the operator, income and most lending parameters, and the inputs that are
published figures themselves (the LPR, the REIT yield, the special-bond coupon, Basel's
LGD; section 4.2 lists them). The fitted values are the schema defaults, so
`ParkModel()` and `scenarios/baseline.toml` are the calibrated baseline; they are also in
`scenarios/baseline_calibrated.toml`, whose header records the fit, and in each park preset
(`scenarios/*.toml`). "Before the fit" is the hand-set `prior` of each parameter in
`parksim/data/targets.toml`.

{markdown_table(report.parameters)}

The objective is `Σ_k w_k ((m_k(θ) − t_k) / s_k)²` over the `fit` targets, with `s_k` half
the target's agreement band. Each evaluation runs the baseline's `{m.strategy}` strategy
(a park served by 1.0 banks, as most are today) for {m.horizon} quarters, {m.replications}
replications, with the same seeds every time (common random numbers). Because one firm's
different fate shifts every later draw of a run, the objective is still noisy at small
parameter changes; the search therefore fits every moment with a response surface
(quadratic in each parameter, no cross terms) over a Latin-hypercube design and minimises
the objective on the surfaces with `scipy.optimize` (L-BFGS-B), then repeats this in a
box around the optimum (`parksim/analysis/calibration/fit.py`). On these tables (fresh seeds,
below) the objective is {misfit_of(report.before, report.targets):.2f} before the fit and
{misfit_of(report.after, report.targets):.2f} calibrated.

Each stage's failure hazard is searched as a multiple, at most one, of the stage before:
risk falls as firms grow (§五(二)). Without that prior an earlier fit, which also had SAIC's
year 2 in the objective, pushed the seed hazard below the startup one to mimic the registry
delay of a firm's first years (section 4.4). The startup-round bar comes out above the
later rounds' (set by hand): in the CB Insights funnel more than half of the seed-funded
firms never raise again, the steepest step of the funnel, and the fitted investors' view
error is small so that the firms that do raise keep raising (the fourth-round share).

### 4.2 Every target against the model

Published figure, its agreement band, the baseline before the fit and calibrated. Both
are measured with seeds the fit did not use ({fresh.replications} replications from seed
{fresh.seed}; the fit used seed {m.seed}); `± se` is the Monte Carlo standard error over
replications. The band comes from the figure's own spread or, where a foreign or national
figure stands in for a park, from a stated judgement (`parksim/data/targets.toml`, `note`).
Roles: `fit` is in the objective; `holdout` never is; `check` is reported, not fitted.

{markdown_table(table)}

Set by hand to the published figure (role `input`):
{", ".join(f"{row.target} = {_percent(row.model)} ({row.source})" for row in inputs.itertuples())}.

![Targets before and after calibration](figures/validation/targets.png)

![Death rate by age and survival by size](figures/validation/lifecycle.png)

### 4.3 Out of sample

Held out of the fit, decided before it was run: SAIC's ten-year survival by registered
capital (three classes; the model's revenue on entry stands in for registered capital) and
SAIC's share of exits within five years of founding. None of them is in the objective.
Result: {holdout_text}.

### 4.4 Where the model misses, and why

{_known_gaps(shown, report.targets)}

What would close the gaps, as model changes (not made here):

- **An age-dependent hazard.** SAIC's death rate rises from 1.6% in the founding year to
  a peak of 9.5% in year 3; the model's hazard depends on stage, sector and quality, not
  on age, so a cohort's death rate can only fall as the weak die. A "honeymoon"
  multiplier on `failure_pd` for the first quarters after entry (using `entered_quarter`,
  in `parksim/enterprises/lifecycle.py`) would let years 1-2 be fitted; until then they
  are reported, not fitted, so they do not drag the stage hazards towards a registry
  artefact.
- **A size-dependent hazard.** SAIC's survival rises steeply with registered capital; in
  the model size enters failure only through stage and through quality's small loading on
  revenue, so survival barely depends on size on entry. A size term in `failure_pd` (or a
  stronger link between quality and size in `parksim/enterprises/entry.py`) would address
  the out-of-sample miss.
- **The park business's P&L.** Cost-income, pre-tax ROA, fee share and net interest
  margin are checked on every strategy, not fitted: their parameters (costs, deposit
  rates and shares, fees) are set by hand to published magnitudes. A miss above names
  those parameters and their ranges in `parksim/data/assumptions.toml`; those ranges are
  what a sensitivity study varies, so an answer that rests on them shows it there. Fitting
  them would need whole-bank figures to stand for one business unit, which the bands
  already stretch.
- **Venture cohorts.** The US Carta cohort closes more often than the model's young
  entrants, whose hazard is fitted to China's registry; read the model's closure rates as
  Chinese-registry ones."""


def _preset_section(report: Report) -> str:
    blocks = []
    for name, table in report.presets.items():
        rows = table[["target", "role", "value", "band_low", "band_high", "model", "se"]].copy()
        rows["in band"] = table["in_band"]
        rows["source"] = table["source"]
        rows["note"] = table["note"].str.replace("\n", " ")
        for column in ("value", "band_low", "band_high", "model", "se"):
            rows[column] = [
                _target_value(v, t) for v, t in zip(rows[column], rows["target"], strict=True)
            ]
        blocks.append(f"**{name}** (`scenarios/{name}.toml`)\n\n{markdown_table(rows)}")
    body = "\n\n".join(blocks)
    return f"""## 5. The six parks of the book

Each preset (`scenarios/<park>.toml`) sets the park's size, sector and stage mixes and the
financing features the book reports (fund families, services for equity, risk pools and
guarantees, REITs, the M&A-loan rule), citing the section for every number taken from the
book and marking the rest as assumptions. It uses the calibrated parameters of section 4.
The book's figures below are measured at the end of each preset's horizon (ten years on,
strategy `{report.targets.measurement.strategy}`), starting from the stage mix the book
reports: does the park keep its profile under the model's dynamics? Growth-stage and later
firms stand in for high-tech certified firms. These are checks, not fitted, except where
a note says a preset sets a parameter by hand to them.

{body}"""


def _facts_section(report: Report) -> str:
    facts = report.facts.rename(columns={"fact": "fact, source and size seen (the test's comment)"})
    facts["test"] = [f"`{name}`" for name in facts["test"]]
    return f"""## 6. The book's stylized facts

`tests/test_stylized_facts.py` states each fact as a direction the baseline must show over
replications, with the size seen when it was written. Status at this report's
generation:

{markdown_table(facts)}"""


def _regenerate_section() -> str:
    return """## Regenerating this report

```bash
# only when the fit itself must be redone (never overwrites: remove the old file first)
rm scenarios/baseline_calibrated.toml
parksim calibrate scenarios/baseline.toml parksim/data/targets.toml \\
    --out scenarios/baseline_calibrated.toml
python scripts/apply_calibration.py   # the fit into the defaults, presets and model.md
python tests/fingerprint.py --write   # the defaults moved
# then:
python -m parksim.viz.validation_report
```

The last command writes this file and `docs/figures/validation/*.png` in about five
minutes on two cores, more with the per-strategy bank checks (it runs
`tests/test_stylized_facts.py` as part of it). The whole sequence, with the ablation
report and how long each step takes, is in docs/development.md (Recalibrating)."""


# -------------------------------------------------------------------- the command


def build_report(root: Path, targets_path: Path | None = None) -> Report:
    """Compute every check of the report (a few minutes)."""
    targets = load_targets(targets_path)
    baseline = load_scenario(root / "scenarios" / "baseline.toml")
    calibrated = load_scenario(root / "scenarios" / "baseline_calibrated.toml")
    prior = uncalibrated(baseline, targets)
    fresh = fresh_measurement(targets)
    presets = {}
    for name in PRESETS:
        scenario = load_scenario(root / "scenarios" / f"{name}.toml")
        presets[name] = measure(scenario, preset_targets(targets, scenario))
    return Report(
        engine=[engine_check(*case) for case in CREDIT_CASES],
        degenerate=[degenerate_model_check(baseline, *case) for case in CREDIT_CASES],
        basel=basel_table(),
        targets=targets,
        fresh=fresh,
        parameters=parameter_rows(prior, calibrated, targets),
        before=measure(prior, fresh),
        after=measure(calibrated, fresh),
        presets=presets,
        facts=stylized_facts(root),
        annual=[annual_check(*ANNUAL_CASE, phi) for phi in ANNUAL_PERSISTENCES],
    )


def write_report(root: Path, report: Report) -> Path:
    """Write docs/validation.md and its charts; return the markdown's path."""
    figures = root / "docs" / "figures" / "validation"
    plot_distributions(report.engine, "Credit engine", figures / "credit_engine.png")
    plot_distributions(
        report.degenerate, "Full model, degenerate park", figures / "degenerate_model.png"
    )
    plot_basel(report.basel, figures / "basel.png")
    plot_targets(
        {"before the fit": report.before, "calibrated": report.after}, figures / "targets.png"
    )
    baseline = load_scenario(root / "scenarios" / "baseline.toml")
    calibrated = load_scenario(root / "scenarios" / "baseline_calibrated.toml")
    runs = {
        "before the fit": simulate(
            uncalibrated(baseline, report.targets), report.fresh.measurement
        ),
        "calibrated": simulate(calibrated, report.fresh.measurement),
    }
    plot_lifecycle(runs, figures / "lifecycle.png")
    path = root / "docs" / "validation.md"
    path.write_text(render(report), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m parksim.viz.validation_report",
        description="Regenerate docs/validation.md and docs/figures/validation/*.png.",
    )
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="repository root")
    parser.add_argument("--targets", type=Path, default=default_targets_path(), help="targets file")
    args = parser.parse_args(argv)
    path = write_report(args.root, build_report(args.root, args.targets))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
