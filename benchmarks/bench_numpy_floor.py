"""How fast can a quarter of a large park be in numpy at all? A lower bound for issue 4.

    python benchmarks/bench_numpy_floor.py              # 92,500 rows, 22% hazards moved
    python benchmarks/bench_numpy_floor.py --rows 50000

Issue 4 asks for parksim's full model to run 5x faster than the Mesa floor at 80,000
firms, which on this machine means about 6.6 ms per quarter (benchmarks/results.json).
This script times a skeleton quarter that does only the per-firm work no implementation
of the model's mechanisms can skip, written as plain vectorised numpy:

- correlated defaults: one standard-normal draw per firm, its factor loadings and the
  comparison with the firm's threshold (parksim.credit, latent form);
- the failure hazard: stage table x firm risk x finance-state table, and Phi^-1 for the
  firms whose hazard moved (`--moved`, a share of rows);
- graduation, relocation and acquisition: one uniform per firm against the hazards;
- revenue growth: one uniform per firm;
- equity and loan demand: one uniform per firm each, against a stage table;
- the loan book: the rows with a loan and four per-bank sums.

Everything else a quarter does is left out: entry, pricing and choosing offers, equity
rounds, exits and their settlement, fees, the operator, compaction and recording. So the
time printed is well below what any numpy implementation of the full model can reach;
if it is close to the target, numpy alone cannot meet the target.
The result goes to benchmarks/results_numpy_floor.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from scipy.special import ndtri

ROOT = Path(__file__).resolve().parents[1]
QUARTERS = 40
TARGET_RATIO = 5.0


class SkeletonPark:
    """The columns a quarter must read, for `rows` firms, with plausible values."""

    def __init__(self, rows: int, moved: float, seed: int = 1) -> None:
        rng = np.random.default_rng(seed)
        self.rng = rng
        self.rows = rows
        self.moved = int(moved * rows)
        self.stage = rng.integers(0, 5, rows).astype(np.intp)
        self.sector = rng.integers(0, 6, rows).astype(np.intp)
        self.finance = rng.integers(0, 3, rows).astype(np.intp)
        self.main_bank = rng.integers(0, 3, rows).astype(np.intp)
        self.risk = rng.lognormal(0.0, 0.5, rows)
        self.drive = rng.lognormal(0.0, 0.5, rows)
        self.size = rng.lognormal(7.0, 1.0, rows)
        self.pd = np.zeros(rows)
        self.threshold = np.full(rows, -np.inf)
        self.has_loan = rng.random(rows) < 0.3
        self.failure = np.array([0.03, 0.024, 0.015, 0.008, 0.003, 0.0, 0.0, 0.0])
        self.graduation = np.array([0.04, 0.03, 0.02, 0.01, 0.0, 0.0, 0.0, 0.0])
        self.demand = np.array([0.12, 0.15, 0.18, 0.15, 0.10, 0.0, 0.0, 0.0])
        self.finance_mult = np.array([1.0, 0.8, 1.3])
        self.sector_factor = rng.standard_normal(6)

    def quarter(self) -> int:
        rng = self.rng
        # Correlated defaults, latent form: one normal per firm.
        latent = rng.standard_normal(self.rows)
        latent *= 0.9
        latent += 0.3 * rng.standard_normal() + 0.2 * self.sector_factor[self.sector]
        failed = latent < self.threshold
        # The failure hazard, and Phi^-1 where it moved.
        pd = self.failure[self.stage] * self.risk * self.finance_mult[self.finance]
        moved = (pd != self.pd).nonzero()[0][: self.moved]
        self.threshold[moved] = ndtri(pd[moved])
        self.pd = pd
        # Graduation, relocation, acquisition: one uniform against the hazards.
        u = rng.random(self.rows)
        grad = self.graduation[self.stage] * self.drive
        graduates = ((u < grad) & ~failed).nonzero()[0]
        # Revenue growth: one uniform.
        self.size *= 1.02 + (rng.random(self.rows) - 0.5) * 0.17
        # Equity and loan demand: one uniform each.
        wanted = self.demand[self.stage]
        equity = (rng.random(self.rows) < wanted).nonzero()[0]
        loans = ((rng.random(self.rows) < wanted) & ~self.has_loan).nonzero()[0]
        # The loan book: rows with a loan, four per-bank sums.
        book = self.has_loan.nonzero()[0]
        lender = self.main_bank[book]
        for _ in range(4):
            np.bincount(lender, weights=self.size[book], minlength=3)
        return len(graduates) + len(equity) + len(loans)


def target_seconds_per_quarter(results: Path) -> float | None:
    """Issue 4's target at 80,000 firms: the Mesa floor's time per step over 5."""
    if not results.exists():
        return None
    rows = json.loads(results.read_text(encoding="utf-8"))["rows"]
    floor = next((r["floor_s"] for r in rows if r["n"] == 80_000), None)
    return floor / QUARTERS / TARGET_RATIO if floor else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # Defaults measured in the 80,000-firm baseline park over 40 quarters: its mean live
    # rows, and the mean share of firms whose hazard moves in a quarter.
    parser.add_argument("--rows", type=int, default=92_500, help="live rows of the park")
    parser.add_argument("--moved", type=float, default=0.22, help="share of hazards moved")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results_numpy_floor.json"
    )
    args = parser.parse_args()

    park = SkeletonPark(args.rows, args.moved)
    for _ in range(5):
        park.quarter()
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(QUARTERS):
            park.quarter()
        best = min(best, (time.perf_counter() - start) / QUARTERS)
    target = target_seconds_per_quarter(ROOT / "benchmarks" / "results.json")
    result = {
        "rows": args.rows,
        "moved_share": args.moved,
        "skeleton_seconds_per_quarter": best,
        "target_seconds_per_quarter_at_80000": target,
        "skeleton_share_of_target": best / target if target else None,
    }
    print(f"skeleton quarter, {args.rows:,} rows: {best * 1e3:.2f} ms")
    if target:
        print(f"issue 4 target at 80,000 firms: {target * 1e3:.2f} ms per quarter")
        print(f"the skeleton alone uses {best / target:.0%} of it")
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
