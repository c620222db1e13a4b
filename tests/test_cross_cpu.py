"""The same scenario and seed give the same tables on AVX2 and AVX-512 CPUs.

numpy, numba and OpenBLAS each choose their machine code by the CPU they run on. On an
AVX-512 machine the small run of tests/fingerprint.py runs twice in fresh processes:
once as it is, once told to behave as on an AVX2 (Haswell) machine:

- NPY_DISABLE_CPU_FEATURES: numpy's AVX-512 targets off, so its ufuncs take their AVX2
  (or baseline) loops, as they would there;
- NUMBA_CPU_NAME=haswell: numba compiles its kernels for Haswell (its cache keys kernels
  by CPU, so these are cached apart from the native ones);
- OPENBLAS_CORETYPE=Haswell: OpenBLAS takes its Haswell kernels;
- GLIBC_TUNABLES masks AVX-512 from the C library's choice of function variants.

Every column of every table must be equal, bit for bit (NaN equal to NaN).
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import fingerprint
import numpy as np
import pandas as pd
import pytest

try:
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
except ImportError:  # numpy 1.x
    from numpy.core._multiarray_umath import __cpu_dispatch__, __cpu_features__

# numpy's names for its AVX-512 targets: AVX512F, AVX512_SKX, ... (numpy 1.x-2.3) or the
# X86_V4 group and the AVX512_* extensions (numpy 2.4 on). Naming one numpy does not
# dispatch to is an error, so the names come from the running numpy.
AVX512_TARGETS = [f for f in __cpu_dispatch__ if f.startswith(("AVX512", "X86_V4"))]
GLIBC_NO_AVX512 = "glibc.cpu.hwcaps=" + ",".join(
    f"-{f}" for f in ("AVX512F", "AVX512CD", "AVX512DQ", "AVX512BW", "AVX512VL")
)
AVX2 = {
    "NPY_DISABLE_CPU_FEATURES": " ".join(AVX512_TARGETS),
    "NUMBA_CPU_NAME": "haswell",
    "OPENBLAS_CORETYPE": "Haswell",
    "GLIBC_TUNABLES": GLIBC_NO_AVX512,
}
# Each run gets this long; the first run after a source change also compiles the kernels
# (about 40 s each way).
TIMEOUT_S = 600

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not __cpu_features__.get("AVX512F"),
        reason="this CPU has no AVX-512: both runs would take the same code paths",
    ),
]


def run_small(tmp_path: Path, name: str, extra_env: dict[str, str]) -> dict:
    """The small run's tables and CPU info, from a fresh interpreter with `extra_env`."""
    out = tmp_path / f"{name}.pkl"
    env = {**os.environ, **extra_env}
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(fingerprint.ROOT), env.get("PYTHONPATH")) if p
    )
    for key in AVX2:
        if key not in extra_env:
            env.pop(key, None)
    done = subprocess.run(
        [sys.executable, str(Path(fingerprint.__file__)), "--dump", str(out)],
        cwd=fingerprint.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert done.returncode == 0, f"{name} run failed:\n{done.stderr[-4000:]}"
    with open(out, "rb") as file:
        return pickle.load(file)


def same(a: pd.Series, b: pd.Series) -> bool:
    x, y = a.to_numpy(), b.to_numpy()
    if x.dtype.kind in "fc" and y.dtype.kind in "fc":
        return np.array_equal(x, y, equal_nan=True)
    return a.astype(object).equals(b.astype(object))


def column_differences(native: pd.DataFrame, avx2: pd.DataFrame) -> list[str]:
    """The columns that differ, with how many rows and the largest relative gap."""
    assert list(native.columns) == list(avx2.columns)
    assert native.index.equals(avx2.index)
    found = []
    for name in native.columns:
        a, b = native[name], avx2[name]
        if same(a, b):
            continue
        if a.dtype.kind == "f":
            x, y = a.to_numpy(), b.to_numpy()
            off = ~((x == y) | (np.isnan(x) & np.isnan(y)))
            gap = np.nanmax(np.abs(x[off] - y[off]) / np.maximum(np.abs(x[off]), 1e-300))
            found.append(f"{name} ({off.sum()}/{len(x)} rows, relative gap up to {gap:.1e})")
        else:
            found.append(f"{name} ({(a.astype(object) != b.astype(object)).sum()} rows)")
    return found


def test_avx2_emulation_gives_the_native_tables(tmp_path: Path) -> None:
    native = run_small(tmp_path, "native", {})
    avx2 = run_small(tmp_path, "avx2", AVX2)
    # The emulation took: numpy runs no AVX-512 loop, numba compiles for Haswell.
    assert any(f in native["cpu"]["numpy_dispatch"] for f in AVX512_TARGETS)
    assert not any(f in avx2["cpu"]["numpy_dispatch"] for f in AVX512_TARGETS)
    assert avx2["cpu"]["numba_cpu"] == "haswell"
    differ = {
        name: column_differences(table, avx2["tables"][name])
        for name, table in native["tables"].items()
    }
    differ = {name: columns for name, columns in differ.items() if columns}
    assert not differ, "tables differ between this CPU and an emulated AVX2 one:\n" + "\n".join(
        f"{name}: {', '.join(columns)}" for name, columns in differ.items()
    )
