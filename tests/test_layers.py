"""The package's structure: layers that import one way, no import cycles, a light root
package and a model that draws nothing (docs/development.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp
from importlinter.cli import EXIT_STATUS_SUCCESS, lint_imports

ROOT = Path(__file__).resolve().parents[1]


def test_the_layer_contracts_of_pyproject_are_kept() -> None:
    # The contracts live in pyproject.toml ([tool.importlinter]); `lint-imports` checks
    # the same. A broken contract names the import chain that climbs back.
    status = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True)
    assert status == EXIT_STATUS_SUCCESS, "an import climbs a layer: the chain is printed above"


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in graph.find_modules_directly_imported_by(module):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return groups


def test_no_module_imports_itself_through_others() -> None:
    graph = grimp.build_graph("parksim")
    # The root package only names what its submodules define (lazily): leave it out.
    graph.remove_module("parksim")
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for module in ("a", "b", "c"):
        graph.add_module(module)
    graph.add_import(importer="a", imported="b")
    graph.add_import(importer="b", imported="c")
    assert _cycles(graph) == []
    graph.add_import(importer="c", imported="a")
    assert _cycles(graph) == [["a", "b", "c"]]


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return set(out.stdout.split())


def test_importing_parksim_loads_none_of_its_layers() -> None:
    loaded = _loaded_after("import parksim; parksim.__version__")
    assert not {m for m in loaded if m.startswith("parksim.")}
    assert not {"numpy", "numba", "pandas", "mesa", "matplotlib"} & loaded


def test_the_model_imports_no_plotting() -> None:
    loaded = _loaded_after("import parksim.model")
    assert "matplotlib" not in loaded
    assert not {m for m in loaded if m.startswith(("parksim.viz", "parksim.results"))}


def test_the_package_names_load_on_first_use() -> None:
    loaded = _loaded_after("import parksim; parksim.ParkModel; parksim.Stage")
    assert {"parksim.model", "parksim.core.codes"} <= loaded
