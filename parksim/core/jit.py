"""Where numba keeps parksim's compiled kernels: one cache folder per version of the source.

numba checks a cached kernel only against the timestamp of the file that defines it, so a
kernel that calls a kernel of another file (the books' close in `banks/book.py` calls the
risk measures of `banks/risk.py`) would keep stale machine code, and give stale numbers,
after only that other file changed. Keying the cache folder by a hash of every parksim
source file makes any change of the source start a fresh cache. A `NUMBA_CACHE_DIR` the
user set wins; if the folder cannot be written, numba falls back to its own places.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

# Caches of other source versions are removed once this many days unused.
KEEP_OTHER_CACHES_DAYS = 7


def source_hash(root: Path | None = None) -> str:
    """Hash of every .py file of the parksim package (names and bytes)."""
    root = Path(__file__).resolve().parents[1] if root is None else root
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def configure_cache() -> Path | None:
    """Point numba's cache at this source version's folder; return it (None: the user's)."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return None
    import numba
    import platformdirs

    base = Path(platformdirs.user_cache_dir("parksim")) / "numba"
    folder = base / source_hash()
    numba.config.CACHE_DIR = str(folder)
    _prune(base, keep=folder)
    return folder


def _prune(base: Path, keep: Path) -> None:
    """Drop caches of other source versions unused for a week (a checkout being edited
    leaves one per edit)."""
    try:
        others = [p for p in base.iterdir() if p.is_dir() and p != keep]
    except OSError:
        return
    cutoff = time.time() - KEEP_OTHER_CACHES_DAYS * 86400
    for path in others:
        try:
            if path.stat().st_mtime < cutoff:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            continue


configure_cache()
