"""Run validation over files: sniff, choose a reader, read, validate, run checks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

import attrs

from mectk.errors import MectkError, PluginError, UsageError, fault
from mectk.issues import make_issue
from mectk.periods import quarter_in_name
from mectk.plugin_manager import Registry
from mectk.sniff import check_input_path, claimed_type, refusal, sniff
from mectk.sources import SOURCE_DESCRIPTIONS, ReadItem, ReadOptions, Source
from mectk.specs import ReaderSpec
from mectk.template import LISTS_SHEET
from mectk.validation import FileSummary, ValidationResult, run_checks, sha256_of, validate_items

UNREADABLE = ("empty", "ole", "zip", "binary", "pdf")
"""Source types no format reads: refused with their own code, not "not recognised"."""


def choose_reader(
    registry: Registry, source: Source, format_name: str | None
) -> tuple[str, ReaderSpec]:
    """The reader for ``source``: the one named, or the one a plugin identifies.

    An unknown name is a :class:`UsageError`; a file no reader claims, or one whose type
    the reader cannot take, is a coded :class:`~mectk.errors.SourceError` that says what
    the file looks like (:func:`mectk.sniff.refusal`).
    """
    if format_name is None:
        identification = registry.identification(source)
        if identification.format is None:
            hint = "Give --format NAME (see mectk formats), or start from mectk template."
            claimed = claimed_type(source)
            if claimed is not None or source.source_type in UNREADABLE:
                raise refusal(source, claimed or "a workbook or CSV file", hint)
            declined = identification.declined_text()
            raise fault(
                "format-not-recognised",
                file=source.display_name,
                looks_like=source.describe(),
                declined=f" Formats that declined it: {declined}." if declined else "",
            )
        format_name = identification.format
    spec = registry.reader(format_name)
    if spec is None:
        known = ", ".join(sorted(registry.readers)) or "none"
        msg = f"unknown format '{format_name}' (installed formats: {known})"
        raise UsageError(msg, hint="See mectk formats.")
    if source.source_type not in spec.source_types:
        expected = " or ".join(SOURCE_DESCRIPTIONS[t] for t in spec.source_types)
        hint = (
            "Save the file from Excel as an .xlsx workbook."
            if "xlsx" in spec.source_types
            else "Save the file as CSV UTF-8."
        )
        raise refusal(source, f"{expected} (the {spec.name} format)", hint)
    return format_name, spec


def _guarded(items: Iterator[ReadItem], reader: str, plugin: str, file: str) -> Iterator[ReadItem]:
    try:
        yield from items
    except MectkError:
        raise
    except Exception as exc:
        msg = f"reader '{reader}' (plugin '{plugin}') failed on {file}: {exc!r}"
        raise PluginError(msg, hint="Run with --debug for the traceback.") from exc


def validate_files(
    registry: Registry,
    paths: Sequence[Path],
    *,
    format_name: str | None = None,
    options: ReadOptions | None = None,
) -> ValidationResult:
    """Validate every file into one result; cross-record checks run over all of them.

    Without ``options.as_at`` (no ``--period``), a file whose name names a financial-year
    quarter (``CME Tracker 2025-26 Q2.xlsx``) is read as at that quarter's last day, said
    once per file (``as-at-from-file-name``); a mapping's own ``as_at`` still wins.
    """
    options = options or ReadOptions()
    for path in paths:
        check_input_path(path)
    result = ValidationResult()
    names = Counter(path.name for path in paths)
    for path in paths:
        source = sniff(path, options.limits)
        if names[path.name] > 1:  # issues must say which of two same-named files they mean
            source = attrs.evolve(source, label=str(path))
        name, spec = choose_reader(registry, source, format_name)
        result.files.append(
            FileSummary(
                path=str(path), sha256=sha256_of(path), format=name, sheets=source.sheet_names
            )
        )
        if source.source_type == "xlsm":
            result.issues.append(make_issue("macros-ignored", file=source.display_name))
        plugin = registry.readers[name].plugin
        file_options = _dated_by_name(source, options, result)
        items = _guarded(spec.read(source, file_options), name, plugin, source.display_name)
        validate_items(items, source_system=name, result=result)
        read = {m.sheet for m in result.column_maps if m.file == source.display_name}
        for sheet, state in source.hidden_sheets:
            if sheet == LISTS_SHEET:
                continue  # mectk template's own hidden drop-down lists
            what = "it was read like a visible sheet" if sheet in read else "it was not read"
            result.issues.append(
                make_issue(
                    "sheet-hidden", file=source.display_name, sheet=sheet, state=state, read=what
                )
            )
    run_checks(result, [(r.plugin, r.spec) for r in registry.checks.values()])
    return result


def _dated_by_name(source: Source, options: ReadOptions, result: ValidationResult) -> ReadOptions:
    """``options`` for ``source``: with no as-at date given, the last day of the quarter its
    file name names, noted in ``result``; otherwise ``options`` unchanged."""
    if options.as_at is not None:
        return options
    quarter = quarter_in_name(source.path.name)
    if quarter is None:
        return options
    result.issues.append(
        make_issue(
            "as-at-from-file-name",
            file=source.display_name,
            date=quarter.end.isoformat(),
            quarter=quarter.label,
        )
    )
    return attrs.evolve(options, as_at=quarter.end)
