"""The issues of a validation run, in bounded memory, with their counts always at hand.

A file with a million bad cells has a million issues; :class:`IssueLog` keeps the first
``memory_limit`` as objects and pickles the rest in batches to an unnamed temporary file
(:class:`mectk.spill.SpillFile`), so none is lost and memory stays bounded. Counts per
code and whether any is an error are kept as issues arrive.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, overload

from mectk.issues import Issue
from mectk.spill import SpillFile

MEMORY_ISSUES = 10_000
"""Issues kept as objects before the rest are written to a temporary file."""
BATCH_ISSUES = 1_000
"""Issues per pickled batch."""


class IssueLog(Sequence[Issue]):
    """Issues in the order they were found: :meth:`append`, :meth:`extend`, iterate, index.

    Compares equal to a list of the same issues. ``log[i]`` is immediate for the issues
    in memory and walks the file for the others.
    """

    __hash__ = None  # type: ignore[assignment]  # mutable, like a list

    def __init__(self, issues: Iterable[Issue] = (), *, memory_limit: int | None = None) -> None:
        self.memory_limit = MEMORY_ISSUES if memory_limit is None else memory_limit
        self._memory: list[Issue] = []
        self._pending: list[Issue] = []
        self._batches: list[tuple[tuple[int, int], int]] = []  # (where, count)
        self._spilled = 0
        self._spill = SpillFile()
        self._codes: Counter[str] = Counter()
        self._errors = 0
        self.extend(issues)

    def append(self, issue: Issue) -> None:
        """Add an issue at the end."""
        self._codes[issue.code] += 1
        self._errors += issue.severity == "error"
        if len(self._memory) < self.memory_limit and not self._spilled and not self._pending:
            self._memory.append(issue)
            return
        self._pending.append(issue)
        if len(self._pending) >= BATCH_ISSUES:
            self._batches.append((self._spill.write(self._pending), len(self._pending)))
            self._spilled += len(self._pending)
            self._pending = []

    def extend(self, issues: Iterable[Issue]) -> None:
        """Add issues at the end, in order."""
        for issue in issues:
            self.append(issue)

    def __iter__(self) -> Iterator[Issue]:
        yield from list(self._memory)
        for where, _ in list(self._batches):
            yield from self._spill.read(where)
        yield from list(self._pending)

    def __len__(self) -> int:
        return len(self._memory) + self._spilled + len(self._pending)

    @overload
    def __getitem__(self, index: int) -> Issue: ...
    @overload
    def __getitem__(self, index: slice) -> list[Issue]: ...
    def __getitem__(self, index: int | slice) -> Issue | list[Issue]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step > 0:
                return list(itertools.islice(self, start, stop, step))
            return list(self)[index]
        position = index + len(self) if index < 0 else index
        if not 0 <= position < len(self):
            msg = "issue index out of range"
            raise IndexError(msg)
        if position < len(self._memory):
            return self._memory[position]
        return next(itertools.islice(self, position, None))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, IssueLog | list | tuple):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled and copied as the issues themselves (the temporary file stays here)."""
        return (_rebuild, (list(self), self.memory_limit))

    def __repr__(self) -> str:
        return f"IssueLog({len(self)} issues: {dict(self._codes)})"

    def counts(self) -> dict[str, int]:
        """Issues per code, codes in the order first found."""
        return dict(self._codes)

    @property
    def has_errors(self) -> bool:
        """True when any issue is an error."""
        return self._errors > 0


def _rebuild(issues: list[Issue], memory_limit: int) -> IssueLog:
    return IssueLog(issues, memory_limit=memory_limit)


def as_issue_log(value: Iterable[Issue]) -> IssueLog:
    """``value`` itself when it is an :class:`IssueLog`, else a new one holding it."""
    return value if isinstance(value, IssueLog) else IssueLog(value)
