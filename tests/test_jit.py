"""numba's cache is keyed by the parksim source, so no kernel keeps stale machine code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numba
import pytest

from parksim.jit import source_hash


def test_the_cache_folder_is_named_by_the_hash_of_the_source() -> None:
    if os.environ.get("NUMBA_CACHE_DIR"):
        pytest.skip("NUMBA_CACHE_DIR is set: the user's folder wins (next test)")
    assert Path(numba.config.CACHE_DIR).name == source_hash()
    assert Path(numba.config.CACHE_DIR).parent.name == "numba"


def test_editing_any_source_file_moves_the_cache(tmp_path: Path) -> None:
    # A kernel in book.py calls one in risk.py: numba checks only book.py's timestamp, so
    # an edit of risk.py alone must still give a new folder.
    package = tmp_path / "pkg"
    (package / "banks").mkdir(parents=True)
    (package / "banks" / "book.py").write_text("from .risk import measure\n")
    (package / "banks" / "risk.py").write_text("def measure(x):\n    return x\n")
    before = source_hash(package)
    (package / "banks" / "risk.py").write_text("def measure(x):\n    return 2 * x\n")
    assert source_hash(package) != before
    assert source_hash(package) == source_hash(package)


@pytest.mark.slow
def test_a_numba_cache_dir_the_user_set_wins(tmp_path: Path) -> None:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    code = "import parksim, numba; print(numba.config.CACHE_DIR)"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == str(tmp_path)
