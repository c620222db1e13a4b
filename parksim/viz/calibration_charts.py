"""The validation report's charts (PNG, small enough to commit)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from parksim import __version__
from parksim.analysis.calibration.checks import DistributionCheck
from parksim.analysis.calibration.moments import death_rate, survival_by_size
from parksim.credit import basel_risk_weight, mixed_binomial_pmf, vasicek_pdf

FIGURE_DPI = 110


def _figure(ncols: int, width: float = 3.3, height: float = 2.8):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False)
    return fig, axes[0]


def _save(fig, path: Path) -> None:
    fig.text(0.99, 0.01, f"parksim {__version__}", ha="right", va="bottom", fontsize=6)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=FIGURE_DPI)
    import matplotlib.pyplot as plt

    plt.close(fig)


def plot_distributions(checks: list[DistributionCheck], title: str, path: Path) -> None:
    """Simulated default rates against the mixed binomial and the Vasicek density."""
    fig, axes = _figure(len(checks))
    for ax, check in zip(axes, checks, strict=True):
        rates = check.rates
        top = max(1.3 * float(np.quantile(rates, 0.99)), 3 * check.pd)
        ax.hist(rates, bins=40, range=(0, top), density=True, color="0.8", label="simulated")
        k = np.arange(int(top * check.n) + 1)
        pmf = mixed_binomial_pmf(check.n, check.pd, check.correlation)[k]
        ax.plot(k / check.n, pmf * check.n, color="C0", lw=1, label="mixed binomial")
        x = np.linspace(top / 400, top, 400)
        ax.plot(x, vasicek_pdf(x, check.pd, check.correlation), "C3--", lw=1, label="Vasicek")
        ax.set_title(
            f"PD {check.pd:.1%}, R {check.correlation:.2f}, N {check.n:,}\n"
            f"KS p = {check.p_value:.2f} ({len(rates):,} quarters)",
            fontsize=8,
        )
        ax.set_xlabel("default rate in a quarter", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0].set_ylabel("density", fontsize=8)
    axes[0].legend(fontsize=7)
    fig.suptitle(title, fontsize=9)
    _save(fig, path)


def plot_basel(table: pd.DataFrame, path: Path) -> None:
    """Basel II IRB risk weights: the formula against Annex 5's printed values."""
    fig, axes = _figure(1, width=5.0, height=3.2)
    ax = axes[0]
    grid = np.geomspace(3e-4, 0.2, 200)
    for (column, group), sales, colour in zip(
        table.groupby("column", sort=False), (None, 5.0), ("C0", "C1"), strict=True
    ):
        label = "corporate (sales ≥ €50m)" if column == "corporate" else "SME, sales €5m"
        ax.plot(grid, 100 * basel_risk_weight(grid, sales_eur_m=sales), color=colour, lw=1)
        ax.plot(group["pd"], group["published"], "o", ms=3, color=colour, label=label)
    ax.set_xscale("log")
    ax.set_xlabel("PD (annual)", fontsize=8)
    ax.set_ylabel("risk weight, %", fontsize=8)
    ax.set_title("Basel II IRB: formula (lines) and Annex 5 (points)", fontsize=9)
    ax.legend(fontsize=7)
    ax.tick_params(labelsize=7)
    _save(fig, path)


SAIC_DEATH = {1: 0.016, 2: 0.063, 3: 0.095}
SAIC_SURVIVAL = {"< 1m RMB": 0.40, "1-10m RMB": 0.65, "> 10m RMB": 0.90}
SIZE_CLASSES = {
    "< 1m RMB": (0.0, 100.0),
    "1-10m RMB": (100.0, 1000.0),
    "> 10m RMB": (1000.0, np.inf),
}


def plot_lifecycle(runs: dict[str, list], path: Path) -> None:
    """Death rate by year of life and 10-year survival by size: model against SAIC 2013."""
    fig, axes = _figure(2, width=4.2, height=3.0)
    years = np.arange(1, 11)
    colours = dict(zip(runs, ("0.6", "C0"), strict=False))
    for label, observed in runs.items():
        colour = colours[label]
        rates = [death_rate(observed, y) for y in years]
        axes[0].plot(years, rates, "o-", ms=3, lw=1, color=colour, label=label)
    axes[0].plot(list(SAIC_DEATH), list(SAIC_DEATH.values()), "ks", ms=4, label="SAIC 2013")
    axes[0].fill_between([3.5, 7.5], 0.08, 0.095, color="k", alpha=0.12, label="SAIC: ≥8%")
    axes[0].set_xlabel("year of life (1 = founding calendar year)", fontsize=8)
    axes[0].set_ylabel("death rate", fontsize=8)
    axes[0].legend(fontsize=7)
    width = 0.8 / (len(runs) + 1)
    for i, (label, observed) in enumerate(runs.items()):
        values = [survival_by_size(observed, *bounds) for bounds in SIZE_CLASSES.values()]
        axes[1].bar(np.arange(3) + i * width, values, width, label=label, color=colours[label])
    axes[1].bar(
        np.arange(3) + len(runs) * width,
        list(SAIC_SURVIVAL.values()),
        width,
        color="k",
        label="SAIC 2013",
    )
    axes[1].set_xticks(np.arange(3) + width * len(runs) / 2, list(SIZE_CLASSES))
    axes[1].set_ylabel("10-year survival", fontsize=8)
    axes[1].set_xlabel("size on entry (revenue; SAIC: registered capital)", fontsize=8)
    axes[1].legend(fontsize=7)
    for ax in axes:
        ax.tick_params(labelsize=7)
    _save(fig, path)


def plot_targets(tables: dict[str, pd.DataFrame], path: Path) -> None:
    """Each target's gap in units of half its band: inside ±1 the model agrees."""
    shown = next(iter(tables.values()))
    shown = shown[shown["role"] != "input"]
    names = list(shown["target"])
    fig, axes = _figure(1, width=6.5, height=0.22 * len(names) + 1.0)
    ax = axes[0]
    y = np.arange(len(names))
    ax.axvspan(-1, 1, color="k", alpha=0.08)
    for (label, table), marker in zip(tables.items(), ("o", "s"), strict=False):
        table = table.set_index("target").loc[names]
        half = np.maximum((table["band_high"] - table["band_low"]) / 2, 1e-12)
        centre = (table["band_high"] + table["band_low"]) / 2
        gap = np.clip((table["model"] - centre) / half, -6, 6)
        ax.plot(gap, y, marker, ms=4, ls="none", label=label)
    roles = shown.set_index("target")["role"]
    ax.set_yticks(y, [f"{n} ({roles[n]})" for n in names], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("(model − band centre) / half band; shaded: inside the band", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7)
    _save(fig, path)
