"""Where the numba cold compile goes, kernel by kernel, and a warm baseline run.

    python benchmarks/bench_compile.py            # cold: a fresh, empty kernel cache
    python benchmarks/bench_compile.py --warm     # the same steps with the cache filled

In one process, with NUMBA_CACHE_DIR an empty temporary folder (cold), or the one given
or benchmarks/.compile_cache, kept (`--warm`; a second call loads every kernel from it):
`import parksim.model` (numba decorates the kernels, compiling nothing), the first
`ParkModel("scenarios/baseline.toml", rng=1).run(4)`, then the rest of what an ensemble
compiles (a full-length run of every strategy through `parksim.run`, and its summary).
With `--warm`, then full-length runs with every kernel compiled, the fastest of
`--repeat`: the baseline's six strategies, and one strategy of Qilu (80,000 firms).

Each parksim kernel is listed with its specialisations (one per signature numba compiled)
and its seconds exclusive of the other parksim kernels it compiles on the way (callees
are compiled first, inside their caller's compile) but inclusive of numba's own library
code compiled for it (sorts, np.where, ...); then the slowest specialisations one by one.
All times are CPU seconds of this process (time.process_time), so other work on a shared
machine inflates them less than it would wall time.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
QILU = ROOT / "scenarios" / "jinan_qilu.toml"


def _cpu(work: object) -> float:
    start = time.process_time()
    work()  # type: ignore[operator]
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm", action="store_true", help="use (and fill) a kept cache")
    parser.add_argument("--repeat", type=int, default=3, help="warm runs timed (--warm)")
    parser.add_argument("--top", type=int, default=25, help="specialisations listed")
    args = parser.parse_args()
    if args.warm:
        os.environ.setdefault("NUMBA_CACHE_DIR", str(ROOT / "benchmarks" / ".compile_cache"))
    else:
        os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="parksim-cold-")

    import numba.core.event as ev

    # name, signature, inclusive, exclusive seconds, the parksim kernel it was compiled for
    records: list[tuple[str, str, float, float, str]] = []
    stack: list[tuple[float, list[float], str]] = []  # start, [nested seconds], name

    def name_of(event: ev.Event) -> str:
        func = event.data["dispatcher"].py_func
        return f"{func.__module__}.{func.__qualname__}"

    class Compiles(ev.Listener):
        def on_start(self, event: ev.Event) -> None:
            stack.append((time.process_time(), [0.0], name_of(event)))

        def on_end(self, event: ev.Event) -> None:
            start, nested, name = stack.pop()
            inclusive = time.process_time() - start
            if stack:
                stack[-1][1][0] += inclusive
            owner = next(
                (n for n in [name, *(f[2] for f in reversed(stack))] if n.startswith("parksim.")),
                "(outside parksim)",
            )
            signature = ", ".join(str(a) for a in event.data["args"])
            records.append((name, signature, inclusive, inclusive - nested[0], owner))

    ev.register("numba:compile", Compiles())
    phases: dict[str, float] = {}

    start = time.process_time()
    import parksim
    import parksim.model  # every kernel module: numba decorates, compiles nothing yet

    phases["import parksim.model"] = time.process_time() - start

    start = time.process_time()
    parksim.ParkModel(str(BASELINE), rng=1).run(4)
    phases["first baseline run(4)"] = time.process_time() - start

    start = time.process_time()
    scenario = parksim.load_scenario(BASELINE)
    result = parksim.run(scenario, replications=1, seed=1, workers=1, progress=False)
    _ = result.summary
    phases["ensemble: 1 replication x every strategy, full length"] = time.process_time() - start

    if args.warm:
        # CPU seconds of full-length runs, the fastest of --repeat: every baseline strategy
        # one after the other, and one Qilu strategy (80,000 firms).
        scenario = parksim.load_scenario(BASELINE)
        phases[f"warm: baseline, 6 strategies x 40 quarters (min of {args.repeat})"] = min(
            _cpu(lambda: [parksim.ParkModel(scenario, s, rng=1).run() for s in scenario.names])
            for _ in range(args.repeat)
        )
        qilu = parksim.load_scenario(QILU)
        phases[f"warm: Qilu, {qilu.names[0]} x 40 quarters (min of {args.repeat})"] = min(
            _cpu(lambda: parksim.ParkModel(qilu, qilu.names[0], rng=1).run())
            for _ in range(args.repeat)
        )

    total_exclusive = sum(r[3] for r in records)
    kernels: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])  # specialisations, s
    for name, _, _, exclusive, owner in records:
        kernels[owner][0] += name == owner
        kernels[owner][1] += exclusive
    print(f"numba {__import__('numba').__version__}, cache {os.environ['NUMBA_CACHE_DIR']}")
    for phase, value in phases.items():
        print(f"{value:8.2f} s  {phase}")
    print(f"{total_exclusive:8.2f} s  numba compiling, {len(records)} specialisations")
    print(f"\n{len(kernels)} parksim kernels compiled, by seconds (with numba's code for them):")
    print(f"{'s':>7} {'specs':>5}  kernel")
    for owner, (count, seconds) in sorted(kernels.items(), key=lambda k: -k[1][1]):
        print(f"{seconds:7.2f} {count:5d}  {owner.removeprefix('parksim.')}")
        if count > 1:  # which signatures, and each one's seconds
            for name, signature, _, exclusive, _ in records:
                if name == owner:
                    print(f"{exclusive:15.2f}  ({signature})")
    if args.top:
        print(f"\nthe {args.top} slowest specialisations (exclusive, inclusive seconds):")
    for name, signature, inclusive, exclusive, owner in sorted(records, key=lambda r: -r[3])[
        : args.top
    ]:
        owner = "" if name == owner else f" for {owner.removeprefix('parksim.')}"
        name = name.removeprefix("parksim.")
        print(f"{exclusive:7.2f} {inclusive:7.2f}  {name}{owner} ({signature})")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
