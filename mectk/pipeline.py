"""Run validation over files: sniff, choose a reader, read, validate, run checks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

import attrs

from mectk.errors import MectkError, PluginError, SourceError, UsageError
from mectk.issues import make_issue
from mectk.plugin_manager import Registry
from mectk.sniff import check_input_path, sniff
from mectk.sources import ReadItem, ReadOptions, Source
from mectk.specs import ReaderSpec
from mectk.validation import FileSummary, ValidationResult, run_checks, sha256_of, validate_items


def choose_reader(
    registry: Registry, source: Source, format_name: str | None
) -> tuple[str, ReaderSpec]:
    """The reader for ``source``: the one named, or the one a plugin identifies.

    An unknown name is a :class:`UsageError`; a file no reader claims, or one whose type
    the reader cannot take, is a :class:`SourceError` that says what the file looks like.
    """
    if format_name is None:
        found = registry.identify(source)
        if found is None:
            msg = (
                f"{source.display_name}: no installed format recognises this file; "
                f"it looks like {source.describe()}"
            )
            raise SourceError(
                msg, hint="Give --format NAME (see mectk formats), or start from mectk template."
            )
        format_name = found[0]
    spec = registry.reader(format_name)
    if spec is None:
        known = ", ".join(sorted(registry.readers)) or "none"
        msg = f"unknown format '{format_name}' (installed formats: {known})"
        raise UsageError(msg, hint="See mectk formats.")
    if source.source_type not in spec.source_types:
        expected = " or ".join(spec.source_types)
        msg = (
            f"{source.display_name}: the {spec.name} format reads {expected} files, but this "
            f"file looks like {source.describe()}"
        )
        hint = (
            "Save the file from Excel as an .xlsx workbook."
            if "xlsx" in spec.source_types
            else "Save the file as CSV UTF-8."
        )
        raise SourceError(msg, hint=hint)
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
    """Validate every file into one result; cross-record checks run over all of them."""
    options = options or ReadOptions()
    for path in paths:
        check_input_path(path)
    result = ValidationResult()
    names = Counter(path.name for path in paths)
    for path in paths:
        source = sniff(path)
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
        items = _guarded(spec.read(source, options), name, plugin, source.display_name)
        validate_items(items, source_system=name, result=result)
    run_checks(result, [(r.plugin, r.spec) for r in registry.checks.values()])
    return result
