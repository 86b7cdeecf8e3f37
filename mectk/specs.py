"""Frozen spec objects that plugins return from mectk's registration hooks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from attrs import field, frozen

from mectk.issues import Issue
from mectk.periods import Period
from mectk.sources import ReadItem, ReadOptions, Source, SourceRow, SourceType

if TYPE_CHECKING:
    from mectk.metrics import CurrentRecords, MetricsTable

ReportProfile = Literal["external", "council"]
"""Who a report is for: ``external`` (the default) publishes nothing personal and applies
small-number suppression; ``council`` is for the commissioning council's own officers and
may list enterprises (still never personal contact details)."""


class ReadFunction(Protocol):
    """Reads one sniffed source and yields rows, blank rows and issues.

    Raise :class:`mectk.errors.SourceError` when the file cannot be read at all.
    """

    def __call__(self, source: Source, options: ReadOptions) -> Iterator[ReadItem]: ...


@frozen(kw_only=True)
class ReaderSpec:
    """An input format.

    :param name: unique, lower-case-hyphenated format name used by ``--format``.
    :param title: one line for people.
    :param read: the reading function.
    :param source_types: sniffed file types this reader accepts (others are refused with
        exit 3 and a description of what the file looks like).
    :param record_kinds: record kinds the format can produce.
    """

    name: str
    title: str
    read: ReadFunction
    source_types: tuple[SourceType, ...] = ("xlsx", "xlsm")
    record_kinds: tuple[str, ...] = ()
    description: str = ""


@frozen
class AcceptedRecord:
    """A record that passed schema validation: its model and the row it came from."""

    kind: str
    model: Any
    row: SourceRow


class CheckContext(Protocol):
    """What a cross-record check sees: accepted records by kind."""

    def records(self, kind: str) -> Sequence[AcceptedRecord]:
        """Accepted records of ``kind`` in the order they were read."""
        ...


@frozen(kw_only=True)
class CheckSpec:
    """A cross-record rule run after schema validation.

    :param name: unique check name.
    :param title: one line for people.
    :param codes: issue codes the check may emit (each must be in the catalogue or
        documented by the plugin).
    :param run: called once per validation run; yields issues located at the offending
        record's cells. An ``error`` issue rejects the record it names (matched by file,
        sheet, row and record id).
    :param kinds: record kinds the check looks at; the report gives the share of these
        records that the check flagged.
    :param category: what kind of rule it is: ``reference``, ``date-order``, ``status``,
        ``duplicate``, ``range`` or ``quality`` (a plugin may add its own).
    :param importance: ``high``, ``medium`` or ``low``: how much a flagged record matters
        to the figures councils receive.
    """

    name: str
    title: str
    codes: tuple[str, ...]
    run: Callable[[CheckContext], Iterable[Issue]]
    kinds: tuple[str, ...] = ()
    category: str = "quality"
    importance: Literal["high", "medium", "low"] = "medium"


class RefineFunction(Protocol):
    """Turns what a mapping file read into what the format means: the Python a mapping
    cannot express (deriving a field from two others, one row becoming several records,
    further records from the mapping's ``extra_columns``, checks against a lookup).

    It receives every item the mapping's reader yields, in order, and yields items in
    their place; everything it yields is validated and counted as any reader's items, so
    it must pass on or account for every row (a row it consumes becomes a
    :class:`mectk.sources.SkippedRow` or an issue).
    """

    def __call__(
        self, items: Iterator[ReadItem], source: Source, options: ReadOptions
    ) -> Iterator[ReadItem]: ...


@frozen
class MappingSpec:
    """A mapping file a plugin ships; it becomes an input format named by its ``format`` key.

    :param path: the TOML file, for example
        ``importlib.resources.files("mectk_leeds") / "leeds-tracker.toml"``.
    :param refine: optional, keyword only; what the plugin does to the rows the mapping
        reads (see :class:`RefineFunction`); rows carry the mapping's ``extra_columns`` as
        ``SourceRow.extras``. The format is still identified by the mapping's
        ``identify`` section, and a council's new version of the mapping file keeps it.
    """

    path: Path | Traversable
    refine: RefineFunction | None = field(default=None, kw_only=True)


@frozen(kw_only=True)
class ReportContext:
    """What a report format receives: computed metrics, never records or spreadsheets.

    :param period: the reporting period asked for (``--period``).
    :param metrics: every measure for the period and its year to date, whole programme.
    :param by_locality: the same, grouped by locality.
    :param quarters: the whole-programme metrics of each quarter of the financial year up
        to the period's end, oldest first (for charts of the year so far).
    :param programme: the programme settings (the converter's unstructured record, empty
        when the register has none).
    :param localities: locality_id -> locality settings (name, gss_code, ...).
    :param suppression_threshold: counts from 1 to this minus 1 are suppressed in
        external outputs (see :func:`mectk.metrics.suppression.suppress_table`).
    :param records: the register's current records (latest version of each), for reports
        that compute further measures with :mod:`mectk.metrics` (KPIs, annual measures,
        spend) or list enterprises in the council profile. Unmasked: a report must never
        write personal fields.
    :param profile: who the report is for (:data:`ReportProfile`), from ``--profile``.
    """

    period: Period
    metrics: MetricsTable
    by_locality: MetricsTable
    quarters: tuple[MetricsTable, ...] = ()
    programme: Mapping[str, Any] = {}
    localities: Mapping[str, Mapping[str, Any]] = {}
    suppression_threshold: int = 5
    records: CurrentRecords | None = None
    profile: ReportProfile = "external"


class ReportWriter(Protocol):
    """Writes one report file to ``path`` (use :func:`mectk.atomic.atomic_output`)."""

    def __call__(self, context: ReportContext, path: Path) -> None: ...


@frozen(kw_only=True)
class ReportFormatSpec:
    """An output report.

    :param name: unique, lower-case-hyphenated report name used by ``mectk report NAME``.
    :param title: one line for people.
    :param extensions: the file types it writes, without dots (``("xlsx", "json")``);
        the output file's extension picks one.
    :param write: writes the report for a :class:`ReportContext` to a path whose
        extension is one of ``extensions``.
    """

    name: str
    title: str
    extensions: tuple[str, ...]
    write: ReportWriter


@frozen(kw_only=True)
class SampleFile:
    """One sample input file a plugin wrote for the demo.

    :param path: where it was written.
    :param format: the input format to read it with (None: let mectk identify it).
    :param options: read options (for example ``as_at`` for undated snapshot columns).
    :param planted: the mistakes planted in it on purpose, as (issue code, what), so the
        demo can show each one found.
    """

    path: Path
    format: str | None = None
    options: ReadOptions = field(factory=ReadOptions)
    planted: Sequence[tuple[str, str]] = ()


@frozen(kw_only=True)
class SampleSpec:
    """Sample data a plugin contributes to ``mectk demo``.

    :param name: unique, lower-case-hyphenated name (usually the council's).
    :param title: one line for people.
    :param write: writes the sample files into an existing folder and returns them in the
        order they are imported (one register batch each, into the sample's own
        register). Files must be generated by code, deterministically.
    :param reports: the report format names the demo writes from the sample's register.
    :param periods: the periods each report is written for (``2025-26``, ``2025-26-Q2``).
    """

    name: str
    title: str
    write: Callable[[Path], Sequence[SampleFile]]
    reports: Sequence[str] = ()
    periods: Sequence[str] = ()
