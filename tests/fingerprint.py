"""The small run whose tables are fingerprinted, and the fingerprint's command line.

A few strategies of the baseline park, two replications, a short horizon: a few seconds
once numba's kernels are cached. Its tables (time series, summary, differences, and the
firm table of one model run) are hashed in a canonical form: columns sorted by name,
numbers as float64 little-endian with one NaN and one zero, text as UTF-8.
tests/test_fingerprint.py compares the hashes with tests/fingerprints/small_run.json;
tests/test_cross_cpu.py runs the same tables on this CPU and on an emulated AVX2 one.

From the repository root:

    python tests/fingerprint.py --write       # regenerate after an intended change
    python tests/fingerprint.py               # print this machine's hashes
    python tests/fingerprint.py --dump FILE   # pickle the tables (the cross-CPU test)
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import pickle
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "baseline.toml"
FINGERPRINT = Path(__file__).resolve().parent / "fingerprints" / "small_run.json"
WRITE_COMMAND = "python tests/fingerprint.py --write"

# Three tiers, both operator models.
STRATEGIES = ("tier1_heavy", "tier2_light", "tier3_heavy")
ENTERPRISES = 300
QUARTERS = 12
REPLICATIONS = 2
SEED = 7

RUN = {
    "scenario": "scenarios/baseline.toml",
    "strategies": list(STRATEGIES),
    "enterprises": ENTERPRISES,
    "horizon": QUARTERS,
    "replications": REPLICATIONS,
    "seed": SEED,
    "firms": f"ParkModel({STRATEGIES[0]!r}, rng={SEED}).enterprises.to_frame()",
}


def tables() -> dict[str, pd.DataFrame]:
    """The small run's tables, by name."""
    import parksim

    base = parksim.load_scenario(SCENARIO)
    scenario = dataclasses.replace(
        base,
        park=dataclasses.replace(base.park, enterprises=ENTERPRISES),
        strategies=tuple(base.strategy(name) for name in STRATEGIES),
        horizon=QUARTERS,
    )
    result = parksim.run(scenario, replications=REPLICATIONS, seed=SEED, progress=False)
    model = parksim.ParkModel(scenario, STRATEGIES[0], rng=SEED).run()
    return {
        "timeseries": result.timeseries,
        "summary": result.summary,
        "differences": result.differences(),
        "firms": model.enterprises.to_frame(),
    }


def table_digest(frame: pd.DataFrame) -> str:
    """sha256 of a table in canonical form: rows in the table's order, a named index as a
    column, columns sorted by name; each column its name, then float64 little-endian
    values (NaN as one bit pattern, -0.0 as 0.0) or, for text and categories, the values
    as UTF-8 separated by NUL."""
    if not isinstance(frame.index, pd.RangeIndex) or frame.index.name is not None:
        frame = frame.reset_index()
    digest = hashlib.sha256()
    for name in sorted(frame.columns, key=str):
        column = frame[name]
        digest.update(f"{name}\0".encode())
        if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            values = column.to_numpy(dtype=np.float64, na_value=np.nan) + 0.0
            values[np.isnan(values)] = np.nan
            digest.update(values.astype("<f8").tobytes())
        else:
            digest.update("\0".join(map(str, column.astype(object).tolist())).encode())
    return digest.hexdigest()


def digests(found: dict[str, pd.DataFrame]) -> dict[str, str]:
    return {name: table_digest(frame) for name, frame in found.items()}


def versions() -> dict[str, str]:
    import numba
    import scipy

    import parksim

    return {
        "parksim": parksim.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
        "numba": numba.__version__,
    }


def cpu() -> dict[str, object]:
    """What this process computes with: numpy's SIMD targets in use, numba's target CPU."""
    import numba
    from llvmlite import binding

    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    except ImportError:  # numpy 1.x
        from numpy.core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    return {
        "numpy_dispatch": [f for f in __cpu_dispatch__ if __cpu_features__.get(f)],
        "numba_cpu": numba.config.CPU_NAME or binding.get_host_cpu_name(),
    }


def recorded() -> dict:
    return json.loads(FINGERPRINT.read_text(encoding="utf-8"))


def write() -> dict:
    record = {
        "about": "sha256 of the small run's tables (tests/fingerprint.py); regenerate with "
        f"`{WRITE_COMMAND}` when results change on purpose",
        "run": RUN,
        "sha256": digests(tables()),
        "made_with": versions(),
    }
    FINGERPRINT.parent.mkdir(exist_ok=True)
    FINGERPRINT.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"rewrite {FINGERPRINT.name}")
    parser.add_argument("--dump", metavar="FILE", help="pickle the tables and CPU info")
    args = parser.parse_args(argv)
    if args.dump:
        with open(args.dump, "wb") as out:
            pickle.dump({"tables": tables(), "cpu": cpu()}, out)
        return 0
    if args.write:
        record = write()
        print(f"wrote {FINGERPRINT.relative_to(ROOT)}")
    else:
        record = {"sha256": digests(tables())}
    print(json.dumps(record["sha256"], indent=2))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
