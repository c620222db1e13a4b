"""No modelling choice hides as a literal in the mechanisms or the model.

Every number that is a modelling choice is a parameter: a field of a parameter dataclass
(with its unit and source, or a range in parksim/data/assumptions.toml), which a scenario
can change by its address. This test scans the code of the mechanism and model modules and
fails on any other numeric literal, except:

- parameter defaults: literals in the fields of a dataclass (defaults and metadata);
- 0, 1 and -1 (identities, bounds of a share, first and last index), anywhere;
- 2 and 0.5 as an operand of arithmetic (halves, squares, square roots, √2) or an index,
  and any integer as a position in an array;
- tolerances (a magnitude of at most 1e-6) and a warning's ``stacklevel``;
- ``A, B, C = range(3)`` and the members of an ``IntEnum``: codes, not choices;
- literals in type annotations (``Literal[1.0, 2.0, 3.0]``);
- the module-level constants of ALLOWED: units, codes and regulatory formulas, each with
  the reason it is not a modelling choice (and a comment at its definition). Quarters per
  year is ``parksim.core.units.QUARTERS_PER_YEAR``, never a literal 4.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCANNED = (
    "parksim/enterprises",
    "parksim/banks",
    "parksim/operators",
    "parksim/credit",
    "parksim/policy.py",
    "parksim/model.py",
)
ARITHMETIC_ANYWHERE = {0, 1, -1}
ARITHMETIC_OPERANDS = {2, 0.5}
# A number this small guards a division or a log against rounding; it models nothing.
TOLERANCE = 1e-6
INDEX = ast.AST()  # marks a subscript's index among a literal's parents

# Module-level names whose numbers are not modelling choices, by module, with the reason.
# Keep this short: a magnitude that could be argued about is a parameter, not an entry here.
# Each constant needs a comment (or docstring) at its definition citing its source.
ALLOWED_BY_MODULE = {
    "parksim/credit/closed_forms.py": (
        {
            "BASEL_PD_FLOOR",
            "BASEL_CONFIDENCE",
            "BASEL_CORRELATION_MIN",
            "BASEL_CORRELATION_MAX",
            "BASEL_CORRELATION_PD_DECAY",
            "BASEL_SME_ADJUSTMENT",
            "BASEL_SME_SALES_FLOOR",
            "BASEL_SME_SALES_CAP",
            "BASEL_MATURITY_INTERCEPT",
            "BASEL_MATURITY_PD_SLOPE",
            "BASEL_MATURITY",
            "BASEL_SENIOR_LGD",
            "BASEL_RWA_MULTIPLIER",
            "_EXPM1_MINUS_50",
        },
        "the Basel II IRB formula for corporate exposures (paras 44, 272, 273, 285, 287, 318)",
    ),
    "parksim/credit/engine.py": (
        {"N_SYSTEMATIC_FACTORS"},
        "the number of the model's systematic factors (macro and sector): its structure",
    ),
    "parksim/banks/risk.py": (
        {
            "GA_PRECISION",
            "GA_LGD_VARIANCE",
            "MATURITY_FLOOR_YEARS",
            "MATURITY_CAP_YEARS",
            "CAPITAL_RATIO",
            "OPERATIONAL_ALPHA",
            "OPERATIONAL_QUARTERS",
            "EQUITY_RISK_WEIGHT",
            "OPERATOR_RISK_WEIGHT",
        },
        "regulatory capital rules (Basel II paras 40, 66, 320, 344, 649) and the granularity "
        "adjustment Gordy & Lütkebohmert (2013) propose for Pillar 2",
    ),
    "parksim/banks/tiers.py": (
        {"TIERS", "TIER_SPECS"},
        "the tiers' names (labels) and their parameter defaults (TierSpec), each changed by a "
        "scenario as tiers.x.0.<field> and ranged in assumptions.toml",
    ),
}
# Numerical methods: quadrature, table and summation sizes that change no result beyond
# rounding, or only the speed.
NUMERICS = {
    "parksim/credit/closed_forms.py": {
        "_NEGLIGIBLE_WEIGHT",
        "_MIXED_BINOMIAL_START_NODES",
        "_MIXED_BINOMIAL_MAX_NODES",
        "_MIXED_BINOMIAL_TOL",
        "_BINOMIAL_WINDOW_SD",
        "_BINOMIAL_WINDOW_PAD",
        "_VARIANCE_NODES",
        "_INTERIOR_POINT",
        "_MIN_NODES",
    },
    "parksim/credit/engine.py": {"_GRID_LO", "_GRID_STEP", "_GRID_CELLS"},
    "parksim/banks/risk.py": {"NUMPY_SORT_FROM", "SHELL_GAPS"},
    "parksim/enterprises/entry.py": {"DRAWS_PER_FIRM"},
    "parksim/enterprises/lifecycle.py": {"UNIFORM_SDS_PER_UNIT"},
    "parksim/model.py": {"COMPACT_AT_EXITED_SHARE", "BUFFER_HEADROOM_ROWS"},
}
ALLOWED = {
    (module, name)
    for table in (
        {m: names for m, (names, _) in ALLOWED_BY_MODULE.items()},
        NUMERICS,
    )
    for module, names in table.items()
    for name in names
}


@dataclass(frozen=True)
class HiddenLiteral:
    file: str
    line: int
    value: float

    def __str__(self) -> str:
        return (
            f"{self.file}:{self.line}: the literal {self.value!r} is a hidden assumption; "
            "make it a parameter (a field of the module's parameter dataclass with its unit "
            "and source, or a range in parksim/data/assumptions.toml)"
        )


def scanned_files() -> list[Path]:
    files = []
    for entry in SCANNED:
        path = ROOT / entry
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return files


ENUM_BASES = {"IntEnum", "Enum", "StrEnum"}


def _base_name(base: ast.AST) -> str:
    return base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")


def _is_number(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    )


def _value(node: ast.AST) -> float | None:
    """The number a literal (or a negated literal) spells."""
    if _is_number(node):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and _is_number(node.operand):
        return -node.operand.value
    return None


class Scan(ast.NodeVisitor):
    """Collects the numeric literals that are neither allowed nor parameter defaults."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.found: list[HiddenLiteral] = []
        self.parents: list[ast.AST] = []

    def generic_visit(self, node: ast.AST) -> None:
        self.parents.append(node)
        super().generic_visit(node)
        self.parents.pop()

    # Parameter defaults and annotations are not code; nor are the members of a code enum
    # (`class Event(IntEnum): FAILED = 1`), which number categories.
    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        if any(_base_name(base) in ENUM_BASES for base in node.bases):
            return
        self.parents.append(node)
        for statement in node.body:
            if isinstance(statement, ast.AnnAssign):
                continue  # a field: its default and metadata are the parameter's
            self.visit(statement)
        self.parents.pop()

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._statement_value(node, node.target, node.value)

    def visit_Assign(self, node: ast.Assign) -> None:
        target = node.targets[0] if len(node.targets) == 1 else None
        self._statement_value(node, target, node.value)

    def visit_arg(self, node: ast.arg) -> None:
        return  # annotations of arguments

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        if len(self.parents) == 1 and (self.file, node.name) in ALLOWED:
            return
        self.parents.append(node)
        for statement in node.body:
            self.visit(statement)
        for default in (*node.args.defaults, *node.args.kw_defaults):
            if default is not None:
                self.visit(default)
        self.parents.pop()  # decorators (a cache's size, jit options) are not the model

    def _statement_value(self, node: ast.AST, target: ast.AST | None, value: ast.AST) -> None:
        at_module = len(self.parents) == 1
        names = _names(target)
        if at_module and names and all((self.file, name) in ALLOWED for name in names):
            return
        if at_module and (_is_type_alias(value) or _is_enumeration(names, value)):
            return
        self.parents.append(node)
        self.visit(value)
        self.parents.pop()

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if isinstance(node.value, ast.Name) and node.value.id == "Literal":
            return
        self.parents.append(node)
        self.visit(node.value)
        self.parents.append(INDEX)
        self.visit(node.slice)
        self.parents.pop()
        self.parents.pop()

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        value = _value(node)
        if value is not None:
            self._literal(node, value)
        else:
            self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if _is_number(node):
            self._literal(node, node.value)

    def _literal(self, node: ast.AST, value: float) -> None:
        if value in ARITHMETIC_ANYWHERE or 0 < abs(value) <= TOLERANCE:
            return
        if isinstance(value, int) and INDEX in self.parents:
            return  # a position in an array, not a magnitude
        parent = self.parents[-1] if self.parents else None
        if isinstance(parent, ast.keyword) and parent.arg == "stacklevel":
            return  # where a warning points, not the model
        arithmetic = (
            parent is INDEX
            or isinstance(parent, ast.BinOp | ast.AugAssign)
            or (value == 2 and _calls(parent, "sqrt"))  # √2 of the normal CDF
        )
        if value in ARITHMETIC_OPERANDS and arithmetic:
            return
        self.found.append(HiddenLiteral(self.file, node.lineno, value))


def _calls(node: ast.AST | None, name: str) -> bool:
    """`node` is a call of a function called `name` (`sqrt`, `math.sqrt`, `np.sqrt`)."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    return (isinstance(func, ast.Name) and func.id == name) or (
        isinstance(func, ast.Attribute) and func.attr == name
    )


def _names(target: ast.AST | None) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Tuple) and all(isinstance(t, ast.Name) for t in target.elts):
        return [t.id for t in target.elts]
    return []


def _is_enumeration(names: list[str], value: ast.AST) -> bool:
    """`A, B, C = range(3)`: codes, whose count is the number of names, not a choice."""
    return (
        len(names) > 1
        and isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id == "range"
        and len(value.args) == 1
        and _value(value.args[0]) == len(names)
    )


def _is_type_alias(value: ast.AST) -> bool:
    return (
        isinstance(value, ast.Subscript)
        and isinstance(value.value, ast.Name)
        and (value.value.id == "Literal")
    )


def hidden_literals(path: Path) -> list[HiddenLiteral]:
    return literals_in(path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix())


def literals_in(source: str, file: str) -> list[HiddenLiteral]:
    """The hidden literals of `source`, the code of `file`."""
    scan = Scan(file)
    tree = ast.parse(source)
    scan.parents.append(tree)
    for statement in tree.body:
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue  # docstring
        scan.visit(statement)
    return scan.found


def documented(path: Path, name: str) -> bool:
    """A module-level `name` has a comment above or beside its definition, a docstring
    after it, or (a function) its own docstring."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    body = ast.parse(source).body
    for i, node in enumerate(body):
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return ast.get_docstring(node) is not None
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if isinstance(node, ast.Assign | ast.AnnAssign) and any(name in _names(t) for t in targets):
            after = body[i + 1] if i + 1 < len(body) else None
            docstring = isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
            return "#" in lines[node.lineno - 1] or docstring or _comment_above(lines, node)
    return False


def _comment_above(lines: list[str], node: ast.AST) -> bool:
    """A comment heads the block of definitions (no blank line between) `node` is in."""
    j = node.lineno - 2
    while j >= 0 and lines[j].strip() and not lines[j].lstrip().startswith("#"):
        j -= 1
    return j >= 0 and lines[j].lstrip().startswith("#")


def test_no_numeric_literal_hides_a_modelling_choice():
    found = [literal for path in scanned_files() for literal in hidden_literals(path)]
    assert not found, "\n" + "\n".join(str(literal) for literal in found)


def test_every_allowed_name_exists_and_says_why_at_its_definition():
    undocumented = [f"{f}: {name}" for f, name in sorted(ALLOWED) if not documented(ROOT / f, name)]
    assert not undocumented, (
        "these allowed names need a comment citing their source at their definition "
        "(or, if they are gone, their entry removed):\n" + "\n".join(undocumented)
    )


def test_the_scan_catches_a_literal_and_lets_arithmetic_through():
    source = (
        "from dataclasses import dataclass, field\n"
        "@dataclass\n"
        "class P:\n"
        "    rate: float = field(default=0.3, metadata={'max': 0.9})\n"
        "def f(x, p):\n"
        "    half = x / 2 + x * 0.5 + x[-1] - 1.0 + x[3] + 1e-12 / math.sqrt(2.0)\n"
        "    return min(1.0, max(0.0, (1.0 - x) / 0.1)) + x ** 2\n"
    )
    found = literals_in(source, "parksim/_scan_probe.py")
    assert [(f.line, f.value) for f in found] == [(7, 0.1)]
    assert str(found[0]).startswith("parksim/_scan_probe.py:7: the literal 0.1 is a hidden")
