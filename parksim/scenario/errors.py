"""Errors raised when a scenario file does not describe a valid scenario."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

# Kinds of problem; they decide how the message reads, and let callers tell them apart.
KINDS = ("type", "value", "unknown_key", "missing", "check")


class ScenarioError(ValueError):
    """One problem in a scenario, located by file and dotted key path.

    ``str(err)`` reads like
    ``scenarios/x.toml: banks[1].tier: expected one of 1.0, 2.0, 3.0, got 4.0``.

    Attributes:
        file: path of the scenario file, or None when the data did not come from a file.
        key: dotted key path such as ``banks[1].tier``; empty for the top-level table.
        expected: what a valid value looks like (for ``kind="check"``, the whole message).
        got: a short rendering of the value found, or None.
        kind: one of ``type``, ``value``, ``unknown_key``, ``missing``, ``check``.
        hint: an optional suggestion such as ``did you mean 'tier'?``.
    """

    def __init__(
        self,
        key: str,
        expected: str,
        got: str | None = None,
        *,
        file: str | None = None,
        kind: str = "value",
        hint: str | None = None,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown ScenarioError kind {kind!r}; expected one of {KINDS}")
        # Positional args only: BaseException pickling replays ``cls(*args)`` and then restores
        # ``__dict__``, so errors survive being sent back from worker processes.
        super().__init__(key, expected, got)
        self.file = file
        self.key = key
        self.expected = expected
        self.got = got
        self.kind = kind
        self.hint = hint

    @property
    def location(self) -> str:
        """``file: key`` with whichever parts are known."""
        return ": ".join(part for part in (self.file, self.key) if part)

    @property
    def problem(self) -> str:
        """The message without its location."""
        if self.kind == "check":
            text = self.expected
        elif self.kind == "unknown_key":
            text = f"unknown key; expected {self.expected}"
        elif self.kind == "missing":
            text = f"missing required field; expected {self.expected}"
        else:
            text = f"expected {self.expected}"
        if self.got is not None and self.kind != "check":
            text += f", got {self.got}"
        if self.hint:
            text += f"; {self.hint}"
        return text

    def __str__(self) -> str:
        location = self.location
        return f"{location}: {self.problem}" if location else self.problem


class ScenarioErrors(ScenarioError):
    """Several ScenarioError at once, so a user can fix every problem in one pass.

    ``str()`` gives one line per error. The single-error attributes (``key``, ``expected``,
    ...) mirror the first error, so code that handles a plain ScenarioError still works.
    Iterating yields the individual errors.
    """

    def __init__(self, errors: Iterable[ScenarioError], *, file: str | None = None) -> None:
        flat: list[ScenarioError] = []
        for err in errors:
            # Nested aggregates are flattened so every line stands on its own.
            flat.extend(err.errors if isinstance(err, ScenarioErrors) else [err])
        if not flat:
            raise ValueError("ScenarioErrors needs at least one error")
        first = flat[0]
        super().__init__(
            first.key,
            first.expected,
            first.got,
            file=file if file is not None else first.file,
            kind=first.kind,
            hint=first.hint,
        )
        self.errors: tuple[ScenarioError, ...] = tuple(flat)
        self.args = (self.errors,)

    def __iter__(self) -> Iterator[ScenarioError]:
        return iter(self.errors)

    def __len__(self) -> int:
        return len(self.errors)

    def __str__(self) -> str:
        return "\n".join(str(err) for err in self.errors)
