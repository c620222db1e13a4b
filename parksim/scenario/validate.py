"""Strict construction of frozen dataclasses from parsed TOML, with errors that point at the key.

Types come from the dataclass annotations; constraints from ``dataclasses.field(metadata=...)``:

========================  ===================================================================
metadata key              meaning
========================  ===================================================================
``min`` / ``max``         inclusive bounds for numbers (each element of a collection)
``exclusive_min`` / ...   exclusive bounds (``exclusive_max`` likewise)
``non_negative``          ``True`` means ``>= 0``
``unit``                  ``"probability"`` or ``"share"`` mean ``[0, 1]``; any other value is
                          only documentation (e.g. ``"CNY"``) shown by :func:`field_docs`
``allow_inf``             ``True`` lets a float be ``inf``/``-inf`` (rejected by default)
``min_len`` / ``max_len`` number of items of a list, tuple or table
``sum_to_one``            the numbers of a list or the values of a table sum to 1 (+-1e-6)
``help``                  description shown by :func:`field_docs`
``source``                where the default comes from (a publication, or an assumption)
========================  ===================================================================

Any other metadata key, or a ``unit`` not in :data:`UNITS`, is a TypeError when the class is
first built (:func:`check_metadata`): a misspelt ``"mni"`` would otherwise drop a bound
without a word.

Supported annotations: ``bool``, ``int``, ``float``, ``str``, ``Any``, ``Literal[...]``, Enum
subclasses (by value), nested dataclasses, ``list[X]``, ``tuple[X, ...]``, ``tuple[X, Y]``,
``Sequence[X]``, ``dict[str, X]``, ``Mapping[str, X]``, unions such as ``X | None`` and
``Annotated[X, ...]``.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import functools
import json
import math
import numbers
import re
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from parksim.scenario.errors import ScenarioError, ScenarioErrors

__all__ = ["METADATA_KEYS", "UNITS", "build", "check_metadata", "field_docs", "to_dict"]

# Marks a value that failed validation; its errors are already recorded.
_INVALID: Any = object()

_UNIT_RANGES = {"probability": "a probability", "share": "a share"}
METADATA_KEYS = frozenset(
    {
        "min",
        "max",
        "exclusive_min",
        "exclusive_max",
        "non_negative",
        "unit",
        "allow_inf",
        "min_len",
        "max_len",
        "sum_to_one",
        "help",
        "source",
    }
)
# The units a field may declare. "probability" and "share" also bound the value to [0, 1];
# the others are documentation. A new unit is added here, once, so a typo is caught.
UNITS = frozenset(
    {
        *_UNIT_RANGES,
        "probability per quarter",
        "autocorrelation per quarter",
        "per quarter",
        "per year",
        "quarters",
        "years",
        "万元",
        "万元 per quarter",
        "万元 per year",
        "万元 per m²",
        "m²",
        "firms",
        "×",
        "relative growth",
        "relative growth per unit of quality",
        "log revenue per unit of quality",
        "log IP per unit of quality",
        "sd of log",
        "sd of the macro factor",
        "percentage points",
        "log multiple per sd of the macro factor",
        "multiple of the sector's share of the park's firms",
    }
)
_SUM_TOLERANCE = 1e-6
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SEQUENCE_ORIGINS = (list, tuple, Sequence)
_MAPPING_ORIGINS = (dict, Mapping)


# --------------------------------------------------------------------------------------------
# public API


def build[T](cls: type[T], data: Mapping[str, Any], *, key: str = "", file: str | None = None) -> T:
    """Build dataclass ``cls`` from ``data`` (parsed TOML).

    Every problem is collected before raising, so the user sees all of them at once.

    Args:
        cls: the dataclass to build.
        data: the table, e.g. from ``tomllib.load``.
        key: key path of ``data`` inside its file (prefix of every error's key).
        file: path of the scenario file, used in error messages.

    Raises:
        ScenarioErrors: with one ScenarioError per problem.
        TypeError: when ``cls`` is not a dataclass or uses an unsupported annotation.
    """
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise TypeError(f"build() needs a dataclass type, got {cls!r}")
    check_metadata(cls)
    errors: list[ScenarioError] = []
    result = _build_dataclass(cls, data, key, errors)
    if errors:
        for err in errors:
            err.file = file
        raise ScenarioErrors(errors, file=file)
    return result


def to_dict(obj: Any) -> dict[str, Any]:
    """Turn a dataclass instance into plain dicts/lists/scalars for JSON or TOML.

    Tuples become lists, numpy scalars and arrays become Python values, Enums become their
    values. Fields whose value is None are left out, because TOML has no null and
    :func:`build` restores them from their defaults.
    """
    if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
        raise TypeError(f"to_dict() needs a dataclass instance, got {obj!r}")
    return _plain(obj)


def field_docs(cls: type) -> list[tuple[str, str, str, str]]:
    """Describe every field of ``cls``, recursively, for documentation.

    Returns rows ``(key path, type, default, help)``. Nested tables appear as ``bank.tier``;
    fields of tables inside lists as ``banks[].tier``; inside dicts as ``pools.<name>.size``.
    The default is ``required`` for fields without one. The help text joins
    ``metadata["help"]`` with the constraints, e.g. ``Default rate (a probability in [0, 1])``.
    """
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise TypeError(f"field_docs() needs a dataclass type, got {cls!r}")
    rows: list[tuple[str, str, str, str]] = []
    _docs(cls, "", rows, ())
    return rows


@functools.cache
def check_metadata(cls: type) -> None:
    """Every field of dataclass ``cls``, and of the dataclasses nested in it, uses only
    :data:`METADATA_KEYS` and :data:`UNITS`; else TypeError naming each field and the
    closest known key or unit."""
    problems = _metadata_problems(cls, ())
    if problems:
        raise TypeError("\n".join(problems))


def _metadata_problems(cls: type, seen: tuple[type, ...]) -> list[str]:
    problems = []
    for f in dataclasses.fields(cls):
        where = f"{cls.__qualname__}.{f.name}"
        for key in f.metadata:
            if key not in METADATA_KEYS:
                problems.append(_unknown_metadata(where, "metadata key", key, METADATA_KEYS))
        unit = f.metadata.get("unit")
        if unit is not None and unit not in UNITS:
            problems.append(_unknown_metadata(where, "unit", unit, UNITS))
        inner, _ = _nested(_hints(cls)[f.name])
        if inner is not None and inner not in (*seen, cls):
            problems.extend(_metadata_problems(inner, (*seen, cls)))
    return problems


def _unknown_metadata(where: str, what: str, name: Any, known: frozenset[str]) -> str:
    close = difflib.get_close_matches(str(name), sorted(known), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return (
        f"{where}: unknown {what} {name!r}{hint} "
        f"(known: {', '.join(sorted(known))}; see parksim/scenario/validate.py)"
    )


# --------------------------------------------------------------------------------------------
# dataclass introspection


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls, include_extras=True)


def _init_fields(cls: type) -> dict[str, dataclasses.Field[Any]]:
    # init=False fields are computed by the class itself, so a scenario must not set them.
    return {f.name: f for f in dataclasses.fields(cls) if f.init}


def _is_required(f: dataclasses.Field[Any]) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def _strip(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def _is_dataclass_type(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _is_enum_type(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, enum.Enum)


def _sequence_args(tp: Any) -> tuple[Any, ...] | None:
    """Element types of a list/tuple annotation (``(X, ...)`` when homogeneous), else None."""
    if tp in (list, tuple):
        return (Any, ...)
    origin = typing.get_origin(tp)
    if origin not in _SEQUENCE_ORIGINS:
        return None
    args = typing.get_args(tp)
    if not args:
        return (Any, ...)
    if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
        return args
    return (args[0], ...)


def _mapping_value(tp: Any) -> Any:
    """Value type of a dict/Mapping annotation, or None when ``tp`` is not one."""
    if tp is dict:
        return Any
    if typing.get_origin(tp) not in _MAPPING_ORIGINS:
        return None
    args = typing.get_args(tp)
    return args[1] if len(args) == 2 else Any


# --------------------------------------------------------------------------------------------
# constraints


@dataclasses.dataclass(frozen=True)
class _Bounds:
    lo: float | None = None
    lo_open: bool = False
    hi: float | None = None
    hi_open: bool = False
    noun: str | None = None
    allow_inf: bool = False

    def admits(self, x: float) -> bool:
        if self.lo is not None and (x <= self.lo if self.lo_open else x < self.lo):
            return False
        return not (self.hi is not None and (x >= self.hi if self.hi_open else x > self.hi))

    def describe(self, integer: bool) -> str:
        noun = self.noun or ("an integer" if integer else "a number")
        lo, hi = self.lo, self.hi
        if self.noun is None and hi is None and lo == 0:
            adjective = "positive" if self.lo_open else "non-negative"
            return f"a {adjective} {'integer' if integer else 'amount'}"
        if lo is not None and hi is not None:
            left, right = "(" if self.lo_open else "[", ")" if self.hi_open else "]"
            return f"{noun} in {left}{_num(lo)}, {_num(hi)}{right}"
        if lo is not None:
            return f"{noun} {'>' if self.lo_open else '>='} {_num(lo)}"
        if hi is not None:
            return f"{noun} {'<' if self.hi_open else '<='} {_num(hi)}"
        return noun

    @property
    def bounded(self) -> bool:
        return self.lo is not None or self.hi is not None or self.noun is not None


def _bounds(meta: Mapping[str, Any]) -> _Bounds | None:
    lo: float | None = None
    hi: float | None = None
    lo_open = hi_open = False

    # Several keys may bound the same side (e.g. unit="probability" and max=0.5): keep the
    # tightest, so the message states the range that is actually enforced.
    def lower(v: float, is_open: bool) -> None:
        nonlocal lo, lo_open
        if lo is None or v > lo or (v == lo and is_open):
            lo, lo_open = v, is_open

    def upper(v: float, is_open: bool) -> None:
        nonlocal hi, hi_open
        if hi is None or v < hi or (v == hi and is_open):
            hi, hi_open = v, is_open

    noun = _UNIT_RANGES.get(meta.get("unit")) if isinstance(meta.get("unit"), str) else None
    if noun is not None:
        lower(0, False)
        upper(1, False)
    if meta.get("non_negative"):
        lower(0, False)
    if "min" in meta:
        lower(meta["min"], False)
    if "exclusive_min" in meta:
        lower(meta["exclusive_min"], True)
    if "max" in meta:
        upper(meta["max"], False)
    if "exclusive_max" in meta:
        upper(meta["exclusive_max"], True)
    allow_inf = bool(meta.get("allow_inf", False))
    if lo is None and hi is None and not allow_inf:
        return None
    return _Bounds(lo, lo_open, hi, hi_open, noun, allow_inf)


def _check_collection(
    value: Any, meta: Mapping[str, Any], key: str, errors: list[ScenarioError]
) -> bool:
    """Field-level checks on a whole list/tuple/table; True when they pass."""
    if not isinstance(value, list | tuple | Mapping):
        return True
    ok = True
    size = len(value)
    what = "a table with" if isinstance(value, Mapping) else "a list of"
    noun = "entry" if isinstance(value, Mapping) else "item"
    if "min_len" in meta and size < meta["min_len"]:
        expected = f"{what} at least {_count(meta['min_len'], noun)}"
        errors.append(ScenarioError(key, expected, _count(size, noun)))
        ok = False
    if "max_len" in meta and size > meta["max_len"]:
        expected = f"{what} at most {_count(meta['max_len'], noun)}"
        errors.append(ScenarioError(key, expected, _count(size, noun)))
        ok = False
    if meta.get("sum_to_one"):
        items = value.values() if isinstance(value, Mapping) else value
        numbers_ = [v for v in items if _is_real(v)]
        total = math.fsum(float(v) for v in numbers_)
        if not abs(total - 1.0) <= _SUM_TOLERANCE:
            errors.append(ScenarioError(key, "shares that sum to 1", f"{total:.10g}"))
            ok = False
    return ok


# --------------------------------------------------------------------------------------------
# conversion


def _build_dataclass(cls: type, value: Any, key: str, errors: list[ScenarioError]) -> Any:
    if not isinstance(value, Mapping):
        errors.append(ScenarioError(key, "a table", _show(value), kind="type"))
        return _INVALID
    fields = _init_fields(cls)
    hints = _hints(cls)
    kwargs: dict[str, Any] = {}
    ok = True
    for name, raw in value.items():
        sub = _join(key, str(name))
        f = fields.get(name) if isinstance(name, str) else None
        if f is None:
            ok = False
            errors.append(_unknown_key(str(name), list(fields), sub))
            continue
        converted = _convert_field(f, hints[f.name], raw, sub, errors)
        if converted is _INVALID:
            ok = False
        else:
            kwargs[f.name] = converted
    for name, f in fields.items():
        if name not in value and _is_required(f):
            ok = False
            expected = _describe(hints[name], _bounds(f.metadata))
            errors.append(ScenarioError(_join(key, name), expected, kind="missing"))
    if not ok:
        # Constructing with invalid fields would only add confusing follow-up errors.
        return _INVALID
    try:
        return cls(**kwargs)
    except ScenarioErrors as exc:
        errors.extend(exc.errors)
    except ScenarioError as exc:
        errors.append(exc)
    except ValueError as exc:
        # Cross-field checks in __post_init__ belong to the table as a whole.
        errors.append(ScenarioError(key, str(exc), kind="check"))
    return _INVALID


def _unknown_key(name: str, valid: list[str], key: str) -> ScenarioError:
    if not valid:
        return ScenarioError(key, "no keys (this table takes none)", kind="unknown_key")
    close = difflib.get_close_matches(name, valid, n=1)
    hint = f"did you mean {close[0]!r}?" if close else None
    return ScenarioError(key, f"one of: {', '.join(valid)}", kind="unknown_key", hint=hint)


def _convert_field(
    f: dataclasses.Field[Any], tp: Any, raw: Any, key: str, errors: list[ScenarioError]
) -> Any:
    meta = f.metadata
    # Length problems are worth reporting even when some elements are also invalid.
    if "min_len" in meta or "max_len" in meta:
        length_ok = _check_collection(
            raw, {k: meta[k] for k in ("min_len", "max_len") if k in meta}, key, errors
        )
    else:
        length_ok = True
    converted = _convert(tp, raw, key, _bounds(meta), errors)
    if converted is _INVALID or not length_ok:
        return _INVALID
    if meta.get("sum_to_one") and not _check_collection(
        converted, {"sum_to_one": True}, key, errors
    ):
        return _INVALID
    return converted


def _convert(
    tp: Any, value: Any, key: str, bounds: _Bounds | None, errors: list[ScenarioError]
) -> Any:
    tp = _strip(tp)
    if tp is Any:
        return value
    if typing.get_origin(tp) is Literal:
        return _convert_literal(typing.get_args(tp), value, key, errors)
    if _is_union(tp):
        return _convert_union(tp, value, key, bounds, errors)
    if _is_dataclass_type(tp):
        return _build_dataclass(tp, value, key, errors)
    if tp is bool:
        if isinstance(value, bool | np.bool_):
            return bool(value)
        errors.append(ScenarioError(key, "a boolean (true or false)", _show(value), kind="type"))
        return _INVALID
    if tp is int:
        return _convert_int(value, key, bounds, errors)
    if tp is float:
        return _convert_float(value, key, bounds, errors)
    if tp is str:
        if isinstance(value, str):
            return value
        errors.append(ScenarioError(key, "a string", _show(value), kind="type"))
        return _INVALID
    if _is_enum_type(tp):
        return _convert_enum(tp, value, key, errors)
    elements = _sequence_args(tp)
    if elements is not None:
        return _convert_sequence(tp, elements, value, key, bounds, errors)
    value_type = _mapping_value(tp)
    if value_type is not None:
        return _convert_mapping(value_type, value, key, bounds, errors)
    raise TypeError(f"build() cannot validate the annotation {tp!r} (at key {key!r})")


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _is_integral(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_)


def _convert_int(value: Any, key: str, bounds: _Bounds | None, errors: list[ScenarioError]) -> Any:
    if not _is_integral(value):
        # 4.0 is refused on purpose: a count written as a float usually hides a mix-up.
        expected = bounds.describe(True) if bounds and bounds.bounded else "an integer"
        errors.append(ScenarioError(key, expected, _show(value), kind="type"))
        return _INVALID
    result = int(value)
    if bounds is not None and not bounds.admits(result):
        errors.append(ScenarioError(key, bounds.describe(True), _show(value)))
        return _INVALID
    return result


def _convert_float(
    value: Any, key: str, bounds: _Bounds | None, errors: list[ScenarioError]
) -> Any:
    expected = bounds.describe(False) if bounds and bounds.bounded else "a number"
    if not _is_real(value):
        errors.append(ScenarioError(key, expected, _show(value), kind="type"))
        return _INVALID
    result = float(value)
    if math.isnan(result):
        errors.append(ScenarioError(key, expected, "nan"))
        return _INVALID
    if math.isinf(result) and not (bounds and bounds.allow_inf):
        # TOML accepts inf, but one in a simulation parameter silently poisons every sum.
        finite = "a finite number" if expected == "a number" else f"{expected} (finite)"
        errors.append(ScenarioError(key, finite, _show(value)))
        return _INVALID
    if bounds is not None and not bounds.admits(result):
        errors.append(ScenarioError(key, expected, _show(value)))
        return _INVALID
    return result


def _literal_matches(option: Any, value: Any) -> bool:
    # Compare by kind first: True == 1 and 1 == 1.0 in Python, but not in a scenario file.
    if isinstance(option, bool):
        return isinstance(value, bool | np.bool_) and bool(value) is option
    if isinstance(option, int):
        return _is_integral(value) and int(value) == option
    if isinstance(option, float):
        # Literal[1.0, 2.0] should accept `tier = 2` as written in TOML.
        return _is_real(value) and float(value) == option
    if isinstance(option, enum.Enum):
        return value is option
    return type(value) is type(option) and value == option


def _convert_literal(
    options: tuple[Any, ...], value: Any, key: str, errors: list[ScenarioError]
) -> Any:
    for option in options:
        if _literal_matches(option, value):
            return option
    errors.append(_one_of_error(key, options, value, kind="value"))
    return _INVALID


def _convert_enum(tp: type[enum.Enum], value: Any, key: str, errors: list[ScenarioError]) -> Any:
    for member in tp:
        if _literal_matches(member.value, value):
            return member
    errors.append(_one_of_error(key, [m.value for m in tp], value, kind="value"))
    return _INVALID


def _one_of_error(key: str, options: Sequence[Any], value: Any, kind: str) -> ScenarioError:
    strings = [o for o in options if isinstance(o, str)]
    hint = None
    if isinstance(value, str) and strings:
        close = difflib.get_close_matches(value, strings, n=1)
        hint = f"did you mean {close[0]!r}?" if close else None
    expected = "one of " + ", ".join(_show(o) for o in options)
    return ScenarioError(key, expected, _show(value), kind=kind, hint=hint)


def _shape_fits(tp: Any, value: Any) -> bool:
    """Whether ``value`` has the right kind (table/list/scalar type) for ``tp``."""
    tp = _strip(tp)
    if tp is Any:
        return True
    if tp is type(None):
        return value is None
    if _is_union(tp):
        return any(_shape_fits(arg, value) for arg in typing.get_args(tp))
    if _is_dataclass_type(tp) or _mapping_value(tp) is not None:
        return isinstance(value, Mapping)
    if _sequence_args(tp) is not None:
        return isinstance(value, list | tuple)
    if tp is bool:
        return isinstance(value, bool | np.bool_)
    if tp is int:
        return _is_integral(value)
    if tp is float:
        return _is_real(value)
    if tp is str:
        return isinstance(value, str)
    # Literal and Enum: any scalar could be a candidate.
    return not isinstance(value, Mapping | list | tuple)


def _convert_union(
    tp: Any, value: Any, key: str, bounds: _Bounds | None, errors: list[ScenarioError]
) -> Any:
    args = typing.get_args(tp)
    if value is None and type(None) in args:
        return None
    candidates = [a for a in args if a is not type(None) and _shape_fits(a, value)]
    if len(candidates) == 1:
        # Only one member can possibly fit, so its detailed errors are the useful ones.
        return _convert(candidates[0], value, key, bounds, errors)
    first_errors: list[ScenarioError] | None = None
    for candidate in candidates:
        attempt: list[ScenarioError] = []
        result = _convert(candidate, value, key, bounds, attempt)
        if result is not _INVALID:
            return result
        if first_errors is None:
            first_errors = attempt
    if first_errors:
        errors.extend(first_errors)
    else:
        errors.append(ScenarioError(key, _describe(tp, bounds), _show(value), kind="type"))
    return _INVALID


def _convert_sequence(
    tp: Any,
    elements: tuple[Any, ...],
    value: Any,
    key: str,
    bounds: _Bounds | None,
    errors: list[ScenarioError],
) -> Any:
    if not isinstance(value, list | tuple):
        errors.append(ScenarioError(key, _describe(tp, bounds), _show(value), kind="type"))
        return _INVALID
    homogeneous = len(elements) == 2 and elements[1] is Ellipsis
    if not homogeneous and len(value) != len(elements):
        expected = f"a list of {_count(len(elements), 'item')}"
        errors.append(ScenarioError(key, expected, _count(len(value), "item"), kind="type"))
        return _INVALID
    out: list[Any] = []
    ok = True
    for i, item in enumerate(value):
        element_type = elements[0] if homogeneous else elements[i]
        converted = _convert(element_type, item, f"{key}[{i}]", bounds, errors)
        ok = ok and converted is not _INVALID
        out.append(converted)
    if not ok:
        return _INVALID
    origin = tp if tp in (list, tuple) else typing.get_origin(tp)
    return list(out) if origin is list else tuple(out)


def _convert_mapping(
    value_type: Any, value: Any, key: str, bounds: _Bounds | None, errors: list[ScenarioError]
) -> Any:
    if not isinstance(value, Mapping):
        errors.append(ScenarioError(key, "a table", _show(value), kind="type"))
        return _INVALID
    out: dict[str, Any] = {}
    ok = True
    for name, item in value.items():
        sub = _join(key, str(name))
        if not isinstance(name, str):
            errors.append(ScenarioError(sub, "a string key", _show(name), kind="type"))
            ok = False
            continue
        converted = _convert(value_type, item, sub, bounds, errors)
        ok = ok and converted is not _INVALID
        out[name] = converted
    return out if ok else _INVALID


# --------------------------------------------------------------------------------------------
# rendering


def _join(parent: str, name: str) -> str:
    # Quote keys that TOML could not write bare, so the path can be pasted back into a file.
    part = name if _BARE_KEY.fullmatch(name) else json.dumps(name)
    return f"{parent}.{part}" if parent else part


def _count(n: int, noun: str) -> str:
    if n == 1:
        return f"1 {noun}"
    return f"{n} {noun[:-1] + 'ies' if noun.endswith('y') else noun + 's'}"


def _num(x: float) -> str:
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x)


def _show(value: Any, limit: int = 60) -> str:
    """Short TOML-flavoured rendering of a value for ``got ...``."""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if _is_integral(value):
        return repr(int(value))
    if _is_real(value):
        return repr(float(value))
    if isinstance(value, enum.Enum):
        return _show(value.value, limit)
    if isinstance(value, Mapping):
        return "a table" if value else "an empty table"
    if isinstance(value, list | tuple):
        return f"a list of {_count(len(value), 'item')}" if value else "an empty list"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(tp: Any, bounds: _Bounds | None = None) -> str:
    """What a valid value of annotation ``tp`` looks like, as in ``expected <this>``."""
    tp = _strip(tp)
    bounded = bounds is not None and bounds.bounded
    if tp is Any:
        return "a value"
    if tp is bool:
        return "a boolean (true or false)"
    if tp is int:
        return bounds.describe(True) if bounds is not None and bounded else "an integer"
    if tp is float:
        return bounds.describe(False) if bounds is not None and bounded else "a number"
    if tp is str:
        return "a string"
    if typing.get_origin(tp) is Literal:
        return "one of " + ", ".join(_show(o) for o in typing.get_args(tp))
    if _is_enum_type(tp):
        return "one of " + ", ".join(_show(m.value) for m in tp)
    if _is_union(tp):
        parts = [_describe(a, bounds) for a in typing.get_args(tp) if a is not type(None)]
        return " or ".join(dict.fromkeys(parts))
    if _is_dataclass_type(tp) or _mapping_value(tp) is not None:
        return "a table"
    elements = _sequence_args(tp)
    if elements is not None:
        if len(elements) == 2 and elements[1] is Ellipsis:
            inner = _describe(elements[0], bounds)
            return "a list" if inner == "a value" else f"a list, each {inner}"
        return f"a list of {_count(len(elements), 'item')}"
    return repr(tp)


def _type_name(tp: Any) -> str:
    """Compact type for documentation tables."""
    tp = _strip(tp)
    if tp is Any:
        return "any"
    if tp is type(None):
        return "None"
    if tp in (bool, int, float, str):
        return tp.__name__
    if typing.get_origin(tp) is Literal:
        return "one of " + ", ".join(_show(o) for o in typing.get_args(tp))
    if _is_enum_type(tp):
        return "one of " + ", ".join(_show(m.value) for m in tp)
    if _is_union(tp):
        return " | ".join(_type_name(a) for a in typing.get_args(tp))
    if _is_dataclass_type(tp):
        return "table"
    elements = _sequence_args(tp)
    if elements is not None:
        if len(elements) == 2 and elements[1] is Ellipsis:
            return f"list[{_type_name(elements[0])}]"
        return f"list[{', '.join(_type_name(e) for e in elements)}]"
    value_type = _mapping_value(tp)
    if value_type is not None:
        return f"dict[str, {_type_name(value_type)}]"
    return repr(tp)


def _leaf_is_int(tp: Any) -> bool:
    tp = _strip(tp)
    if tp is int:
        return True
    if _is_union(tp):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return bool(args) and all(_leaf_is_int(a) for a in args)
    elements = _sequence_args(tp)
    if elements is not None:
        return _leaf_is_int(elements[0])
    value_type = _mapping_value(tp)
    return value_type is not None and _leaf_is_int(value_type)


def _help_text(f: dataclasses.Field[Any], tp: Any) -> str:
    meta = f.metadata
    notes: list[str] = []
    bounds = _bounds(meta)
    if bounds is not None and bounds.bounded:
        notes.append(bounds.describe(_leaf_is_int(tp)))
    if bounds is not None and bounds.allow_inf:
        notes.append("inf allowed")
    unit = meta.get("unit")
    if unit is not None and unit not in _UNIT_RANGES:
        notes.append(f"unit: {unit}")
    if "min_len" in meta:
        notes.append(f"at least {_count(meta['min_len'], 'item')}")
    if "max_len" in meta:
        notes.append(f"at most {_count(meta['max_len'], 'item')}")
    if meta.get("sum_to_one"):
        notes.append("sums to 1")
    text = str(meta.get("help", ""))
    if notes:
        text = f"{text} ({'; '.join(notes)})" if text else "; ".join(notes)
    return text


def _toml_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{_join('', str(k))} = {_toml_literal(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    return str(value)


def _default_text(f: dataclasses.Field[Any]) -> str:
    if f.default is not dataclasses.MISSING:
        value = f.default
    elif f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
    else:
        return "required"
    if value is None:
        return "unset"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return "defaults of its fields"
    text = _toml_literal(_plain(value))
    return text if len(text) <= 60 else text[:57] + "..."


def _nested(tp: Any) -> tuple[type | None, str]:
    """Dataclass nested in ``tp`` and how its key path continues (``""``, ``[]``, ``.<key>``)."""
    tp = _strip(tp)
    if _is_union(tp):
        for arg in typing.get_args(tp):
            found = _nested(arg)
            if found[0] is not None:
                return found
        return None, ""
    if _is_dataclass_type(tp):
        return tp, ""
    elements = _sequence_args(tp)
    if elements is not None and len(elements) == 2 and elements[1] is Ellipsis:
        inner, suffix = _nested(elements[0])
        return inner, "[]" + suffix
    value_type = _mapping_value(tp)
    if value_type is not None:
        inner, suffix = _nested(value_type)
        return inner, ".<key>" + suffix
    return None, ""


def _docs(
    cls: type, prefix: str, rows: list[tuple[str, str, str, str]], seen: tuple[type, ...]
) -> None:
    hints = _hints(cls)
    for f in _init_fields(cls).values():
        tp = hints[f.name]
        path = f"{prefix}.{f.name}" if prefix else f.name
        rows.append((path, _type_name(tp), _default_text(f), _help_text(f, tp)))
        inner, suffix = _nested(tp)
        # A dataclass that contains itself would recurse forever; list its fields once.
        if inner is not None and inner not in (*seen, cls):
            _docs(inner, path + suffix, rows, (*seen, cls))


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if f.init and item is not None:
                out[f.name] = _plain(item)
        return out
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    return value
