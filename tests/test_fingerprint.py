"""The small run's tables still hash to tests/fingerprints/small_run.json.

Any change of a number in the time series, summary, differences or firm table of the
small run (tests/fingerprint.py) changes its hash. When results change on purpose,
regenerate the file with `python tests/fingerprint.py --write` and commit it with the
change; otherwise the failure means a change moved results by accident, or this machine
computes differently (which tests/test_cross_cpu.py is there to rule out).
"""

from __future__ import annotations

import fingerprint


def test_the_small_run_matches_its_recorded_fingerprint() -> None:
    record = fingerprint.recorded()
    assert record["run"] == fingerprint.RUN, (
        "the small run's definition in tests/fingerprint.py changed; regenerate the "
        f"fingerprint with `{fingerprint.WRITE_COMMAND}`"
    )
    found = fingerprint.digests(fingerprint.tables())
    changed = sorted(name for name in record["sha256"] if found.get(name) != record["sha256"][name])
    changed += sorted(set(found) - set(record["sha256"]))
    made_with = ", ".join(f"{k} {v}" for k, v in record["made_with"].items())
    here = ", ".join(f"{k} {v}" for k, v in fingerprint.versions().items())
    assert not changed, (
        f"the small run's results changed in: {', '.join(changed)}. If the change is "
        f"intended, regenerate the fingerprint with `{fingerprint.WRITE_COMMAND}` (from "
        "the repository root) and commit tests/fingerprints/small_run.json with it; if "
        "not, a change moved results by accident. Recorded with "
        f"{made_with}; here: {here}."
    )
