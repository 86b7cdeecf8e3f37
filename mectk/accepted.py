"""Accepted records in bounded memory, and repeated keys found in 8 bytes a record.

:class:`AcceptedRecords` is what :attr:`mectk.validation.ValidationResult.accepted_records`
holds. It keeps the first ``memory_limit`` records as objects; later ones are packed
(each model as the tuple of its attribute values, each row as its sheet and row number)
into batches pickled to an unnamed temporary file, which the operating system deletes
when it is closed. Iterating reads them back in reading order, so memory does not grow
with the file; the cost is decoding (about 5 us a record) on each pass.

:func:`repeated_hashes` lets a check that looks for repeated keys (duplicate ids, the same
company number twice) keep 8 bytes per record instead of every key: a first pass collects
hashes, and only records whose hash repeats are compared exactly in a second pass.
"""

from __future__ import annotations

import itertools
import operator
from array import array
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from typing import Any, overload

import attrs

from mectk.sources import RowCells, SourceRow
from mectk.specs import AcceptedRecord
from mectk.spill import SpillFile

MEMORY_RECORDS = 100_000
"""Accepted records kept as objects before the rest are packed to a temporary file.

About 0.6 KB each for the benchmark's enterprises (1.4 KB at most for wide records), so
at most some 60 to 140 MB; packed records cost about 5 us each to read back on every pass
a check makes, which a file of up to this many records never pays."""
BATCH_RECORDS = 1_000
"""Records per pickled batch."""
_MAX_ORIGINS = 4_096
"""Sheets (kind, file, sheet, columns, rules) remembered; rows of others are kept whole."""


class _Nothing(Mapping[str, Any]):
    """An empty mapping that cannot be changed: one is shared by every kept row's values.

    Unlike ``MappingProxyType({})`` it pickles (as the one instance, ``NOTHING``).
    """

    __slots__ = ()

    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "NOTHING"

    def __reduce__(self) -> str:
        return "NOTHING"


NOTHING: Mapping[str, Any] = _Nothing()
"""The shared empty mapping of accepted rows' values (their models hold the values)."""
_NO_VALUES = NOTHING
_EMPTY = NOTHING


class _Codec:
    """Packs a slotted attrs model into the tuple of its attribute values and back."""

    def __init__(self, cls: type) -> None:
        names = tuple(a.name for a in attrs.fields(cls))
        self.cls = cls
        getter = operator.attrgetter(*names)
        self.pack: Callable[[Any], tuple[Any, ...]] = (
            getter if len(names) > 1 else (lambda model: (getter(model),))
        )
        lines = [f"    setter(model, {name!r}, values[{i}])" for i, name in enumerate(names)]
        source = "\n".join(
            ["def unpack(values):", "    model = new(cls)", *lines, "    return model"]
        )
        namespace: dict[str, Any] = {"new": object.__new__, "cls": cls}
        namespace["setter"] = object.__setattr__
        exec(compile(source, f"<unpack {cls.__name__}>", "exec"), namespace)
        self.unpack: Callable[[tuple[Any, ...]], Any] = namespace["unpack"]


def _packable(cls: type) -> bool:
    """attrs classes whose state is exactly their fields (no cached hash)."""
    return attrs.has(cls) and "__attrs_cached_hash__" not in getattr(cls, "__slots__", ())


Origin = tuple[str, str | None, str, Any, Any, bool]


class AcceptedRecords(Sequence[AcceptedRecord]):
    """Accepted records in reading order: appended during validation, read back in passes.

    A :class:`~collections.abc.Sequence` (``len``, iteration, ``records[i]``, which walks
    the records) with :meth:`append`, :meth:`counts` per kind, :meth:`of_kind` views for
    cross-record checks, and :meth:`remove_where` for records that checks reject.
    """

    def __init__(
        self, records: Iterable[AcceptedRecord] = (), *, memory_limit: int | None = None
    ) -> None:
        self.memory_limit = MEMORY_RECORDS if memory_limit is None else memory_limit
        self._memory: list[AcceptedRecord] = []
        self._pending: list[tuple[Any, ...]] = []
        # ((offset, size) in the spill file, first sequence number, count, kinds)
        self._batches: list[tuple[tuple[int, int], int, int, frozenset[str]]] = []
        self._spill = SpillFile()
        self._counts: Counter[str] = Counter()
        self._removed: set[int] = set()
        self._codecs: dict[type, int] = {}
        self._codec_list: list[_Codec] = []
        self._origins: dict[tuple[Any, ...], int] = {}
        self._origin_list: list[Origin] = []
        for record in records:
            self.append(record)

    # ---- writing ---------------------------------------------------------------------

    def append(self, record: AcceptedRecord) -> None:
        """Add a record at the end."""
        self._counts[record.kind] += 1
        if len(self._memory) < self.memory_limit and not self._batches and not self._pending:
            self._memory.append(record)
            return
        self._pending.append(self._pack(record))
        if len(self._pending) >= BATCH_RECORDS:
            self._flush()

    def _pack(self, record: AcceptedRecord) -> tuple[Any, ...]:
        model, row = record.model, record.row
        cls = type(model)
        codec = self._codecs.get(cls)
        if codec is None:
            codec = self._codecs[cls] = len(self._codec_list) if _packable(cls) else -1
            if codec >= 0:
                self._codec_list.append(_Codec(cls))
        packed_model = self._codec_list[codec].pack(model) if codec >= 0 else model
        origin = self._origin(row)
        if origin < 0:
            return (record.kind, codec, packed_model, -1, row, None)
        cells = row.cells
        # RowCells made from the sheet's own columns are rebuilt from them when read
        if (
            isinstance(cells, RowCells)
            and type(cells) is RowCells
            and cells._columns is row.sheet_columns
            and cells._row == row.row
        ):
            return (record.kind, codec, packed_model, origin, row.row, None)
        return (record.kind, codec, packed_model, origin, row.row, cells)

    def _origin(self, row: SourceRow) -> int:
        if row.values or row.extras or row.extra_cells:
            return -1  # kept whole: only rows reduced to where they came from are packed
        columns = row.sheet_columns or _EMPTY
        rules = row.rules or _EMPTY
        key = (row.kind, row.sheet, row.file, id(columns), id(rules), row.date1904)
        found = self._origins.get(key)
        if found is None:
            if len(self._origin_list) >= _MAX_ORIGINS:
                return -1
            found = self._origins[key] = len(self._origin_list)
            self._origin_list.append((row.kind, row.sheet, row.file, columns, rules, row.date1904))
        return found

    def _flush(self) -> None:
        if not self._pending:
            return
        where = self._spill.write(self._pending)
        first = len(self._memory) + sum(b[2] for b in self._batches)
        kinds = frozenset(item[0] for item in self._pending)
        self._batches.append((where, first, len(self._pending), kinds))
        self._pending = []

    # ---- reading ---------------------------------------------------------------------

    def _walk(self, kind: str | None) -> Iterator[tuple[int, AcceptedRecord]]:
        """(sequence number, record) of every record (of ``kind``), removed ones included.

        One generator with its look-ups in locals: each pass over packed records pays for
        unpacking them, so nothing else is spent per record.
        """
        for number, record in enumerate(self._memory):
            if kind is None or record.kind == kind:
                yield number, record
        codecs = [c.unpack for c in self._codec_list]
        origins = self._origin_list
        batches = [(w, f, k) for w, f, _, k in self._batches]
        tail = len(self._memory) + sum(b[2] for b in self._batches)
        for where, first, kinds in [*batches, (None, tail, None)]:
            if kinds is not None and kind is not None and kind not in kinds:
                continue
            items = self._spill.read(where) if where is not None else list(self._pending)
            for number, (item_kind, codec, packed, origin, row_number, cells) in enumerate(
                items, first
            ):
                if kind is not None and item_kind != kind:
                    continue
                model = codecs[codec](packed) if codec >= 0 else packed
                if origin < 0:
                    yield number, AcceptedRecord(item_kind, model, row_number)
                    continue
                row_kind, sheet, file, columns, rules, date1904 = origins[origin]
                row = SourceRow(
                    row_kind,
                    sheet,
                    row_number,
                    _NO_VALUES,
                    RowCells(columns, row_number) if cells is None else cells,
                    file,
                    columns,
                    rules,
                    date1904,
                    _NO_VALUES,
                    _NO_VALUES,
                )
                yield number, AcceptedRecord(item_kind, model, row)

    def _iter_kind(self, kind: str | None) -> Iterator[AcceptedRecord]:
        if kind is not None and not self._counts.get(kind):
            return
        removed = self._removed
        if not removed:
            for _, record in self._walk(kind):
                yield record
            return
        for number, record in self._walk(kind):
            if number not in removed:
                yield record

    def __iter__(self) -> Iterator[AcceptedRecord]:
        return self._iter_kind(None)

    def __len__(self) -> int:
        return self._counts.total()

    @overload
    def __getitem__(self, index: int) -> AcceptedRecord: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[AcceptedRecord]: ...
    def __getitem__(self, index: int | slice) -> AcceptedRecord | Sequence[AcceptedRecord]:
        return _item(self, index)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled and copied as the records themselves (the temporary file stays here)."""
        return (_rebuild, (list(self), self.memory_limit))

    def __repr__(self) -> str:
        return f"AcceptedRecords({len(self)} records: {dict(self._counts)})"

    def counts(self) -> dict[str, int]:
        """Records by kind, in the order kinds were first seen."""
        return {kind: n for kind, n in self._counts.items() if n}

    def of_kind(self, kind: str) -> Sequence[AcceptedRecord]:
        """The records of ``kind`` in reading order, as a re-iterable view."""
        return _KindView(self, kind)

    @property
    def spilled(self) -> int:
        """How many records (removed ones included) are packed rather than kept as objects."""
        return sum(b[2] for b in self._batches) + len(self._pending)

    def count_of(self, kind: str) -> int:
        """How many records of ``kind`` there are."""
        return self._counts.get(kind, 0)

    def remove_where(self, rejected: Callable[[AcceptedRecord], bool]) -> int:
        """Drop the records for which ``rejected`` is true; return how many."""
        dropped = 0
        for number, record in self._walk(None):
            if number not in self._removed and rejected(record):
                self._removed.add(number)
                self._counts[record.kind] -= 1
                dropped += 1
        return dropped


class _KindView(Sequence[AcceptedRecord]):
    """The records of one kind of an :class:`AcceptedRecords`, read on each iteration."""

    __slots__ = ("_kind", "_store")

    def __init__(self, store: AcceptedRecords, kind: str) -> None:
        self._store = store
        self._kind = kind

    def __iter__(self) -> Iterator[AcceptedRecord]:
        return self._store._iter_kind(self._kind)

    def __len__(self) -> int:
        return self._store.count_of(self._kind)

    @overload
    def __getitem__(self, index: int) -> AcceptedRecord: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[AcceptedRecord]: ...
    def __getitem__(self, index: int | slice) -> AcceptedRecord | Sequence[AcceptedRecord]:
        return _item(self, index)


def _item(
    records: Sequence[AcceptedRecord], index: int | slice
) -> AcceptedRecord | Sequence[AcceptedRecord]:
    """``records[index]`` by walking the records (they are not held in memory)."""
    if isinstance(index, slice):
        return list(records)[index]
    size = len(records)
    position = index + size if index < 0 else index
    if not 0 <= position < size:
        msg = "record index out of range"
        raise IndexError(msg)
    for number, record in enumerate(records):
        if number == position:
            return record
    raise IndexError(index)  # pragma: no cover - len and iteration agree


def _rebuild(records: list[AcceptedRecord], memory_limit: int) -> AcceptedRecords:
    return AcceptedRecords(records, memory_limit=memory_limit)


def as_accepted_records(value: Iterable[AcceptedRecord]) -> AcceptedRecords:
    """``value`` itself when it is an :class:`AcceptedRecords`, else a new one holding it."""
    return value if isinstance(value, AcceptedRecords) else AcceptedRecords(value)


def repeated_hashes(keys: Iterable[Hashable | None]) -> frozenset[int]:
    """The hashes that occur more than once among ``keys`` (``None`` is skipped).

    Holds 8 bytes per key (plus a sorted copy while it works); a key whose hash is not in
    the result occurs once, so callers compare exactly only keys whose hash is.
    """
    return repeated_among(array("q", (hash(k) for k in keys if k is not None)))


def repeated_among(hashes: Iterable[int]) -> frozenset[int]:
    """The values that occur more than once in ``hashes`` (an ``array("q")`` of hashes)."""
    ordered = sorted(hashes)
    return frozenset(a for a, b in itertools.pairwise(ordered) if a == b)


class KeyHashes:
    """The hash of one key per record, in the records' order: 9 bytes a record.

    For checks that find repeated keys in two passes: the first adds each record's key
    (or ``None``), the second compares exactly only the records for which
    :meth:`maybe_repeated` is true, since the others' keys occur once.
    """

    def __init__(self) -> None:
        self._hashes = array("q")
        self._present = bytearray()
        self._repeated: frozenset[int] | None = None

    def add(self, key: Hashable | None) -> None:
        """Add the next record's key."""
        self._hashes.append(0 if key is None else hash(key))
        self._present.append(key is not None)
        self._repeated = None

    def repeated(self) -> frozenset[int]:
        """Hashes that more than one present key has."""
        if self._repeated is None:
            present = self._present
            self._repeated = repeated_among(
                array("q", (h for i, h in enumerate(self._hashes) if present[i]))
            )
        return self._repeated

    def maybe_repeated(self, index: int) -> bool:
        """False when the key of record ``index`` (counted from 0) occurs once or is None."""
        return bool(self._present[index]) and self._hashes[index] in self.repeated()
