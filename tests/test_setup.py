"""scripts/find-python, which the README's first command (scripts/setup.sh) and CI share."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIND_PYTHON = ROOT / "scripts" / "find-python"
BASH = shutil.which("bash") or "/bin/bash"

pytestmark = pytest.mark.skipif(os.name == "nt", reason="bash scripts")


def _find(path: list[Path], pyenv_root: Path, **env: str) -> subprocess.CompletedProcess:
    """Run find-python with only `path` and the tools it needs on the PATH."""
    tools = pyenv_root / "tools"
    tools.mkdir(parents=True, exist_ok=True)
    for tool in ("ls", "sort"):
        if not (tools / tool).exists():
            (tools / tool).symlink_to(shutil.which(tool))
    environment = {
        "PATH": os.pathsep.join([*map(str, path), str(tools)]),
        "PYENV_ROOT": str(pyenv_root),
        "HOME": str(pyenv_root),
        **env,
    }
    return subprocess.run(
        [BASH, str(FIND_PYTHON)], env=environment, capture_output=True, text=True, check=False
    )


def _script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def test_readme_first_command_is_the_setup_script() -> None:
    first_block = (ROOT / "README.md").read_text(encoding="utf-8").split("```bash\n")[1]
    assert first_block.splitlines()[0].startswith("scripts/setup.sh && ")
    assert os.access(ROOT / "scripts" / "setup.sh", os.X_OK)
    assert os.access(FIND_PYTHON, os.X_OK)


def test_an_unselected_pyenv_version_is_found_past_a_failing_shim(tmp_path: Path) -> None:
    shims = tmp_path / "shims"
    # What pyenv's shim does for a version installed but not selected.
    _script(shims / "python3.12", 'echo "pyenv: python3.12: command not found" >&2; exit 127')
    _script(shims / "python3", f'exec "{sys.executable}" -c "raise SystemExit(1)" "$@"')
    installed = tmp_path / "versions" / "3.12.1" / "bin" / "python3"
    installed.parent.mkdir(parents=True)
    installed.symlink_to(sys.executable)
    found = _find([shims], tmp_path)
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == str(installed)


def test_python_on_the_path_comes_first(tmp_path: Path) -> None:
    on_path = tmp_path / "bin"
    on_path.mkdir()
    (on_path / "python3.12").symlink_to(sys.executable)
    (tmp_path / "versions" / "3.13.0" / "bin").mkdir(parents=True)
    (tmp_path / "versions" / "3.13.0" / "bin" / "python3").symlink_to(sys.executable)
    found = _find([on_path], tmp_path)
    assert found.stdout.strip() == str(on_path / "python3.12")


def test_no_suitable_python_is_one_line_naming_the_way_out(tmp_path: Path) -> None:
    system = [f"{d}/python3.{m}" for d in ("/usr/bin", "/usr/local/bin") for m in range(12, 16)]
    if any(Path(p).exists() for p in system):
        pytest.skip("this machine has a system Python >= 3.12, which find-python would take")
    old = _script(tmp_path / "bin" / "python3.12", "exit 1")  # e.g. a broken interpreter
    found = _find([old.parent], tmp_path / "no-pyenv", PYTHON=str(old))
    assert found.returncode == 1
    assert found.stdout == ""
    assert len(found.stderr.strip().splitlines()) == 1
    assert "PYTHON=" in found.stderr
