"""Copy a calibration's fitted values into the defaults, the park presets and model.md.

`parksim calibrate` writes `scenarios/baseline_calibrated.toml` and never touches anything
else; the fitted values are also the schema defaults (so `ParkModel()` and
`scenarios/baseline.toml` are the calibrated baseline), each park preset's tables and the
parameter tables of docs/model.md. This script replaces, in those files, each fitted
parameter's current default with its fitted value, as text, so the files' comments and
layout stay. Run from the repository root after `parksim calibrate`:

    .venv/bin/python scripts/apply_calibration.py            # --dry-run to only list

Fitted values are rounded to four significant digits (`fit.SIGNIFICANT_DIGITS`), which
makes them distinctive numbers; a value with fewer than three significant digits, or one
shared by two parameters, could match other numbers and is refused (edit it by hand).
`tests/test_presets.py` then checks that the defaults and every preset carry the fit.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from parksim.analysis.calibration.targets import load_targets
from parksim.scenario.loader import load_scenario

# Where the fitted values are written out besides baseline_calibrated.toml.
FILES = (
    "parksim/enterprises/lifecycle.py",
    "parksim/enterprises/equity.py",
    "parksim/banks/lending.py",
    "docs/model.md",
    "scenarios/suzhou_biobay.toml",
    "scenarios/zgc_no1.toml",
    "scenarios/lingang.toml",
    "scenarios/shenzhen_bay.toml",
    "scenarios/xian_qinchuangyuan.toml",
    "scenarios/jinan_qilu.toml",
    "scenarios/upgrade_paths.toml",
)


def _token(value: float) -> str:
    """The number as the files write it (Python's shortest repr)."""
    return repr(float(value))


def _significant_digits(token: str) -> int:
    digits = token.split("e")[0].replace("-", "").replace(".", "").lstrip("0")
    return len(digits)


def replacements(root: Path) -> dict[str, str]:
    """Old token -> fitted token for every fitted parameter whose value moved."""
    targets = load_targets()
    current = load_scenario(root / "scenarios" / "baseline.toml")
    fitted = load_scenario(root / "scenarios" / "baseline_calibrated.toml")
    pairs: dict[str, str] = {}
    for p in targets.parameters:
        old, new = _token(p.parsed.read(current)), _token(p.parsed.read(fitted))
        if old == new:
            continue
        if _significant_digits(old) < 3:
            raise SystemExit(f"{p.key}: the current value {old} is too short to replace safely")
        if old in pairs and pairs[old] != new:
            raise SystemExit(f"{p.key}: {old} is also another parameter's value; edit by hand")
        pairs[old] = new
    return pairs


def apply(root: Path, pairs: dict[str, str], dry_run: bool) -> list[str]:
    """Replace every whole-number occurrence of each old token; return what changed."""
    report = []
    if not pairs:
        return report
    pattern = re.compile(r"(?<![\d.])(" + "|".join(re.escape(old) for old in pairs) + r")(?![\d])")
    for name in FILES:
        path = root / name
        text = path.read_text(encoding="utf-8")
        changed, count = pattern.subn(lambda m: pairs[m.group(1)], text)
        if count:
            report.append(f"{name}: {count} value(s)")
            if not dry_run:
                path.write_text(changed, encoding="utf-8")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="repository root")
    parser.add_argument("--dry-run", action="store_true", help="list, change nothing")
    args = parser.parse_args(argv)
    pairs = replacements(args.root)
    for old, new in pairs.items():
        print(f"{old} -> {new}")
    for line in apply(args.root, pairs, args.dry_run):
        print(line)
    if not pairs:
        print("the defaults already carry the fitted values")
    return 0


if __name__ == "__main__":
    sys.exit(main())
