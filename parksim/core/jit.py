"""How numba caches parksim's compiled kernels: per kernel module, keyed by what it imports.

numba keeps a cached kernel as long as the file that defines it is unchanged; it does not
look at the files of the kernels it calls or of the constants it reads. The books' close
in `banks/book.py` calls the risk measures of `banks/risk.py`, whose machine code numba
copies into the close's own: after an edit of `risk.py` alone, the close would load stale
code and give stale numbers. And numba freezes the module globals a kernel reads (tables,
IntEnum codes, limits) into its machine code, so a kernel also depends on the modules
those values come from.

So every kernel of parksim is cached under a stamp of its module's *dependency closure*:
the module's source and the sources of the parksim modules it imports, transitively
(found statically, with `ast`, from every import statement of each file: module level or
not, so a lazily imported module counts too; only `if TYPE_CHECKING:` imports, which
never run, are left out). Whatever a kernel can call or read is defined in that closure,
so an edit outside it (the command line, a chart, the runner) keeps the kernel, and an
edit inside it compiles the kernel again. This module is in every closure: it sets the
kernels' compile options (below). Files that are not Python (parksim/data/) are in no
stamp: a kernel must not read constants loaded from them at import. The mechanism is a
cache locator (`KernelCacheLocator`), the numba class that says where a function's cache
lives and what its source stamp is, put first in numba's list for functions under a
registered package folder (`register_package`; parksim.core registers parksim when it
is imported, before any kernel module, since numba binds a kernel's cache when the
kernel is decorated). numba's own locators serve every other function, as before.

Why not finer: a closure of what each kernel actually calls and reads would recompile
less after an edit of a mechanism, but would have to follow module-level code that
computes the constants kernels read; a missed dependency gives stale numbers, while a
needless one costs seconds. Why not coarser: a hash of every file (0.4) recompiled all
kernels for an edit of a docstring in the command line.

Each module version gets its own folder, named by the module and its stamp
(`parksim.banks.book-<stamp>`), so checkouts and branches with the same closure share one
compiled copy and switching between two versions recompiles neither. The folders live in
the user cache (`~/.cache/parksim/numba/`), or under `parksim/` of a `NUMBA_CACHE_DIR`
the user set, which wins. A folder is touched when a process uses it, and folders unused
for `KEEP_UNUSED_CACHES_DAYS` are removed at import (a module being edited leaves one per
edit). numba still keys each cached specialisation by its signature, the CPU, numba's
version and the kernel's own bytecode.

The kernels are compiled without the C-callable wrapper numba adds to every function
(`no_cfunc_wrapper`): it serves only first-class function values, which parksim does not
use, and numba compiles it into every caller again (0.5-1 s of a cold compile of 13-16
CPU seconds; results are the same to the bit).

They use numpy's error model (`error_model = "numpy"`): a float division by zero gives
inf or NaN, as numpy's does, instead of raising ZeroDivisionError. Python's model checks
every division for a zero divisor, a branch that also keeps LLVM from vectorising the
loop around it: the banks' offers took 283 ns an offer with it and 51-63 without, on the
same inputs (a park of 25,600 firms' opening book). A division's result is the same to the
bit whenever the divisor is not zero, and no scenario or test divided by zero (under
Python's model it would have raised), so results are unchanged: the tables of the
baseline, the move, the severe stress, equity at the bank and Qilu were checked identical.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from numba.core import caching, config, dispatcher
from numba.core.caching import _CacheLocator

# numba's base of function caches, whose class list of locators this module extends
# (`_CacheImpl` in older numba releases).
CacheImpl = getattr(caching, "CacheImpl", None) or caching._CacheImpl

# Cache folders of module versions no process used for this many days are removed.
KEEP_UNUSED_CACHES_DAYS = 7
STAMP_CHARACTERS = 16  # of the hex SHA-256, in a folder's name

# The folder of the package whose kernels this module caches: parksim/ (this is core/jit.py).
PARKSIM_ROOT = Path(__file__).resolve().parents[1]
_THIS_FILE = os.path.realpath(__file__)
_THIS_DIGEST = hashlib.sha256(Path(_THIS_FILE).read_bytes()).digest()
# Registered package folders (real paths, with a trailing separator).
_roots: list[str] = []


def register_package(root: Path) -> None:
    """Cache the kernels of the package whose folder is `root` by dependency closure."""
    folder = os.path.join(os.path.realpath(root), "")
    if folder not in _roots:
        _roots.append(folder)
    if KernelCacheLocator not in CacheImpl._locator_classes:
        CacheImpl._locator_classes.insert(0, KernelCacheLocator)
    if dispatcher._FunctionCompiler._customize_flags is not _customize_flags:
        _customize_flags.numba_default = dispatcher._FunctionCompiler._customize_flags
        dispatcher._FunctionCompiler._customize_flags = _customize_flags


def _root_of(path: str) -> str | None:
    """The registered package folder `path` (a real path) is in."""
    return next((root for root in _roots if path.startswith(root)), None)


def module_name(path: Path, root: Path) -> str:
    """Dotted name of the module at `path` in the package whose folder is `root`."""
    parts = Path(path).relative_to(Path(root).parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _module_file(name: str, root: str) -> str | None:
    """The file of module `name` if it is in the package at `root`."""
    parts = name.split(".")
    if parts[0] != os.path.basename(root[:-1]):
        return None
    base = os.path.join(os.path.dirname(root[:-1]), *parts)
    for candidate in (base + ".py", os.path.join(base, "__init__.py")):
        if os.path.isfile(candidate):
            return os.path.realpath(candidate)
    return None


def _statements(nodes: list) -> Iterator[ast.AST]:
    """Every statement, nested ones too (in functions, classes, branches, `try`): imports
    are statements, so expressions need no visit. The body of `if TYPE_CHECKING:` is
    left out: it never runs, so what it imports cannot reach a kernel."""
    for node in nodes:
        yield node
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            if field == "body" and _is_type_checking(node):
                continue
            children = getattr(node, field, None)
            if isinstance(children, list):
                yield from _statements(children)


def _is_type_checking(node: ast.AST) -> bool:
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


@functools.lru_cache(maxsize=1024)
def _read(path: str, mtime_ns: int, size: int) -> tuple[bytes, tuple[str, ...]]:
    """A module's SHA-256 and the modules of its package it imports (memoised while the
    file is unchanged).

    `import p.m` and `from p.m import f` depend on p.m; `from p import m` on the
    submodule p.m only, `from p import f` on p (its __init__), which defines f."""
    with open(path, "rb") as file:
        source = file.read()
    root = _root_of(path)
    name = module_name(Path(path), Path(root))
    package = name if os.path.basename(path) == "__init__.py" else name.rpartition(".")[0]
    imported: list[str | None] = []
    for node in _statements(ast.parse(source, filename=path).body):
        if isinstance(node, ast.Import):
            imported += [_module_file(alias.name, root) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative: from the package, one level up per extra dot
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(parts + ([node.module] if node.module else []))
            names = [alias.name for alias in node.names]
            submodules = [_module_file(f"{module}.{n}", root) for n in names]
            imported += submodules
            if None in submodules:
                imported.append(_module_file(module, root))
    found = {file for file in imported if file is not None}
    return hashlib.sha256(source).digest(), tuple(sorted(found))


def _source(path: str) -> tuple[bytes, tuple[str, ...]]:
    if path == _THIS_FILE:  # its own imports are outside parksim
        return _THIS_DIGEST, ()
    stat = os.stat(path)
    return _read(path, stat.st_mtime_ns, stat.st_size)


def _closure(path: str) -> list[str]:
    seen = {path, _THIS_FILE}
    todo = [path]
    while todo:
        for file in _source(todo.pop())[1]:
            if file not in seen:
                seen.add(file)
                todo.append(file)
    return sorted(seen)


def dependencies(path: Path) -> list[Path]:
    """The module at `path`, the modules of its package it imports, transitively, and
    this module (which sets the kernels' compile options); sorted."""
    path = os.path.realpath(path)
    if _root_of(path) is None:
        raise ValueError(f"{path} is not in a registered package")
    return [Path(file) for file in _closure(path)]


def source_stamp(path: Path) -> str:
    """SHA-256 (hex) of the names and contents of the dependency closure of the module
    at `path` (`dependencies`)."""
    path = os.path.realpath(path)
    root = _root_of(path)
    if root is None:
        raise ValueError(f"{path} is not in a registered package")
    digest = hashlib.sha256()
    for file in _closure(path):
        name = file.removeprefix(root) if file.startswith(root) else os.path.basename(file)
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update(_source(file)[0])
    return digest.hexdigest()


def cache_root() -> Path:
    """Where the kernels' folders are: under the user's NUMBA_CACHE_DIR if set."""
    if config.CACHE_DIR:
        return Path(config.CACHE_DIR) / "parksim"
    import platformdirs

    return Path(platformdirs.user_cache_dir("parksim")) / "numba"


_touched: set[Path] = set()


class KernelCacheLocator(_CacheLocator):
    """numba's cache of one kernel of a registered package: one folder per version of its
    module's dependency closure, whose stamp is also numba's source stamp."""

    def __init__(self, py_func, py_file: str) -> None:
        path = os.path.realpath(py_file)
        self._lineno = py_func.__code__.co_firstlineno
        self._stamp = source_stamp(path)
        name = module_name(Path(path), Path(_root_of(path)))
        self._cache_path = str(cache_root() / f"{name}-{self._stamp[:STAMP_CHARACTERS]}")

    def ensure_cache_path(self) -> None:
        super().ensure_cache_path()
        # A folder in use is not pruned: its time is that of its last use.
        if self._cache_path not in _touched:
            os.utime(self._cache_path)
            _touched.add(self._cache_path)

    def get_cache_path(self) -> str:
        return self._cache_path

    def get_source_stamp(self) -> str:
        return self._stamp

    def get_disambiguator(self) -> str:
        return str(self._lineno)

    @classmethod
    def from_function(cls, py_func, py_file: str) -> KernelCacheLocator | None:
        if not os.path.exists(py_file) or _root_of(os.path.realpath(py_file)) is None:
            return None  # not ours: numba's next locator
        self = cls(py_func, py_file)
        try:
            self.ensure_cache_path()
        except OSError:
            return None  # not writable: numba's own places
        return self


def _customize_flags(self, flags):
    """numba's per-function compile flags, less the C-callable wrapper for kernels of a
    registered package, and with numpy's error model (see the module's docstring)."""
    flags = _customize_flags.numba_default(self, flags)
    file = getattr(getattr(self.py_func, "__code__", None), "co_filename", None)
    ours = file is not None and _root_of(os.path.realpath(file)) is not None
    if ours and not flags.is_set("no_cfunc_wrapper"):
        flags.no_cfunc_wrapper = True
    if ours:
        flags.error_model = "numpy"
    return flags


def prune(root: Path | None = None, days: float = KEEP_UNUSED_CACHES_DAYS) -> None:
    """Remove the cache folders no process used for `days` (also those of parksim 0.4,
    one folder per source version)."""
    root = cache_root() if root is None else root
    try:
        folders = [p for p in root.iterdir() if p.is_dir()]
    except OSError:
        return
    cutoff = time.time() - days * 86400
    for folder in folders:
        try:
            if folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


register_package(PARKSIM_ROOT)
prune()
