"""Every notebook under notebooks/ runs top to bottom without an error.

The kernel is always the Python running the tests (`sys.executable -m ipykernel_launcher`),
whatever `python3` kernelspec Jupyter would otherwise find (a user-level one can point at
another interpreter without parksim), with MPLBACKEND=Agg so no display is needed. Each
notebook runs with its own folder as working directory, as Jupyter would run it.
Outputs are discarded: the notebooks on disk are never modified.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager  # noqa: E402
from jupyter_client.manager import KernelManager  # noqa: E402
from nbclient.exceptions import CellExecutionError  # noqa: E402

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
KERNEL_NAME = "python3"
CELL_TIMEOUT_S = 300
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
#: How Python's warnings module prints a warning: "file:line: SomeWarning: message".
WARNING = re.compile(r"\b\w*Warning: ")


class ThisPythonKernelSpecs(KernelSpecManager):
    """Resolves `python3` to an ipykernel on this interpreter (the test venv's)."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        if kernel_name != KERNEL_NAME:
            return super().get_kernel_spec(kernel_name)
        return KernelSpec(
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            display_name=f"Python 3 ({sys.executable})",
            language="python",
            env={"MPLBACKEND": "Agg"},
            resource_dir=str(NOTEBOOKS),
        )


def _notebooks() -> list[Path]:
    return sorted(p for p in NOTEBOOKS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def _execute(path: Path) -> None:
    """Run the notebook; fail on a cell that raises or on a warning printed by any cell (a
    reader sees it: 02 once printed 16 SALib RuntimeWarnings)."""
    notebook = nbformat.read(path, as_version=4)
    manager = KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=ThisPythonKernelSpecs())
    client = nbclient.NotebookClient(
        notebook,
        km=manager,
        kernel_name=KERNEL_NAME,
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute()
    except CellExecutionError as error:
        message = ANSI_ESCAPE.sub("", str(error))
        pytest.fail(f"{path.name}: a cell raised\n{message}", pytrace=False)
    printed = [
        line
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream"
        for line in output.get("text", "").splitlines()
        if WARNING.search(line)
    ]
    assert not printed, f"{path.name} prints warnings:\n" + "\n".join(printed)


QUICKSTART = NOTEBOOKS / "01_quickstart.ipynb"


def test_quickstart_notebook_runs_top_to_bottom() -> None:
    _execute(QUICKSTART)


def test_other_notebooks_run_top_to_bottom() -> None:
    """Any notebook added under notebooks/ is held to the same standard."""
    for path in _notebooks():
        if path != QUICKSTART:
            _execute(path)
