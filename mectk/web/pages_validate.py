"""Pages of the validate-and-import job: upload, results, every issue, downloads, import."""

from __future__ import annotations

from collections import Counter
from typing import Any

import attrs
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from mectk import __version__
from mectk.annotate import write_annotated_copy
from mectk.errors import UsageError
from mectk.issues import Issue
from mectk.mapping import load_mapping
from mectk.periods import parse_period
from mectk.pipeline import validate_files
from mectk.plugin_manager import Registry
from mectk.register import import_result
from mectk.sniff import sniff
from mectk.sources import ReadOptions, Source
from mectk.textsafety import write_csv
from mectk.validation import ValidationResult
from mectk.web.charts import bar_chart
from mectk.web.context import ContextGrid, context_grids
from mectk.web.render import page
from mectk.web.security import RefusedError, read_form
from mectk.web.state import registry_of, settings_of, uploaded_files, workspace_of
from mectk.web.views import group_issues, issue_page
from mectk.web.workspace import Run, Upload, safe_name

CHUNK = 1 << 20
ENCODINGS = (
    ("", "automatic (UTF-8, else Windows-1252)"),
    ("utf-8", "UTF-8"),
    ("cp1252", "Windows-1252"),
)
ISSUE_CSV_HEADINGS = (
    "code",
    "severity",
    "file",
    "sheet",
    "cell",
    "row",
    "column",
    "field",
    "record_id",
    "value",
    "message",
    "hint",
)


def _run(request: Request) -> tuple[Run, ValidationResult]:
    """The run the path names, with its result; a page saying so when it has gone."""
    run = workspace_of(request).get(request.path_params["run_id"])
    if run is None or run.result is None:
        raise RefusedError(
            404,
            "This result is no longer here",
            "Validation results are kept for a while after their last use, then deleted "
            "with the uploaded files.",
            "Upload the files again.",
        )
    return run, run.result


async def home(request: Request) -> Response:
    """The start page: what the app does and where to begin."""
    return page(request, "home.html", db=settings_of(request).db)


async def validate_form(request: Request) -> Response:
    """The upload form."""
    registry = registry_of(request)
    readers = [(n, r.spec.title) for n, r in sorted(registry.readers.items())]
    return page(
        request,
        "validate.html",
        section="validate",
        readers=readers,
        encodings=ENCODINGS,
        settings=settings_of(request),
    )


async def _save(upload: UploadFile, run: Run, taken: set[str]) -> Upload:
    name = safe_name(upload.filename or "upload")
    stem, dot, ext = name.rpartition(".")
    n = 2
    while name in taken:  # two uploads of one name: issues must tell them apart
        name = f"{stem} ({n}).{ext}" if dot else f"{name} ({n})"
        n += 1
    taken.add(name)
    path = run.new_path(name)
    with path.open("wb") as handle:
        while chunk := await upload.read(CHUNK):
            handle.write(chunk)
    return Upload(name, path)


async def validate_submit(request: Request) -> Response:
    """Save the uploads privately, validate them as the CLI does, show the results."""
    settings = settings_of(request)
    form = await read_form(request, settings, files=settings.max_files + 1)
    try:
        files = uploaded_files(form, "files")
        if not files:
            raise RefusedError(400, "No file chosen", "Choose one or more files to validate.")
        if len(files) > settings.max_files:
            msg = f"At most {settings.max_files} files can be validated at once."
            raise RefusedError(413, "Too many files", msg, "Send them in smaller groups.")
        run = workspace_of(request).new_run()
        try:
            taken: set[str] = set()
            run.uploads = [await _save(f, run, taken) for f in files]
            mapping_files = uploaded_files(form, "mapping")
            mapping_path = await _save(mapping_files[0], run, set()) if mapping_files else None
            fields = {k: str(form.get(k) or "").strip() for k in ("format", "period", "encoding")}
            await run_in_threadpool(_validate, registry_of(request), run, mapping_path, fields)
        except BaseException:
            workspace_of(request).drop(run.id)
            raise
    finally:
        await form.close()
    return RedirectResponse(f"/runs/{run.id}", status_code=303)


def _validate(registry: Registry, run: Run, mapping: Upload | None, fields: dict[str, str]) -> None:
    format_name = fields["format"] or None
    if mapping is not None:
        loaded = load_mapping(mapping.path)
        mapping.path.unlink()
        if format_name is not None and format_name != loaded.format:
            msg = (
                f"the mapping file reads the '{loaded.format}' format, but you chose "
                f"'{format_name}'; choose one or the other"
            )
            raise UsageError(msg)
        registry = registry.with_mapping(loaded, "uploaded mapping file")
        format_name = loaded.format
        run.mapping_name = mapping.name
    as_at = parse_period(fields["period"]).end if fields["period"] else None
    run.options = ReadOptions(encoding=fields["encoding"] or None, as_at=as_at)
    sources = [sniff(u.path) for u in run.uploads]
    for upload, source in zip(run.uploads, sources, strict=True):
        upload.source_type = source.source_type
        run.chosen.append(_why(registry, source, format_name, run.mapping_name))
    result = validate_files(
        registry, [u.path for u in run.uploads], format_name=format_name, options=run.options
    )
    # the report and the register name the files as the officer chose them, not the
    # private folder they were kept in
    result.files = [
        attrs.evolve(f, path=u.name) for f, u in zip(result.files, run.uploads, strict=True)
    ]
    run.result = result


def _why(registry: Registry, source: Source, chosen: str | None, mapping: str | None) -> str:
    """In words: which format reads ``source``, and why that one."""
    name = source.display_name
    if chosen is not None:
        if mapping is not None:
            return f"{name}: read by the mapping file {mapping} (format '{chosen}')."
        return f"{name}: read as '{chosen}', the format you chose."
    found = registry.identification(source)
    if found.format is None:
        declined = found.declined_text()
        why_not = f" Formats that declined it: {declined}." if declined else ""
        return f"{name}: no installed format recognises it ({source.describe()}).{why_not}"
    title = registry.readers[found.format].spec.title
    return (
        f"{name}: identified as '{found.format}' ({title}) by plugin '{found.plugin}': "
        f"{found.reason}."
    )


def _grids(
    run: Run, result: ValidationResult, examples: list[Issue], reveal: bool
) -> dict[int, ContextGrid]:
    grids: dict[int, ContextGrid] = {}
    for upload in run.uploads:
        if upload.source_type not in ("xlsx", "xlsm", "csv"):
            continue
        mine = [(n, i) for n, i in enumerate(examples) if i.file == upload.name]
        found = context_grids(
            upload.path,
            [i for _n, i in mine],
            result.column_maps,
            reveal=reveal,
            options=run.options,
        )
        grids.update({mine[k][0]: grid for k, grid in found.items()})
    return grids


async def results(request: Request) -> Response:
    """Counts first, the chart, then issues grouped by code with context grids."""
    run, result = _run(request)
    settings = settings_of(request)
    reveal = request.query_params.get("personal") == "show"
    groups = group_issues(result.issues, settings.examples_per_code)
    examples = [i for g in groups for i in g.examples]
    grids = await run_in_threadpool(_grids, run, result, examples, reveal)
    by_issue = {id(examples[n]): grid for n, grid in grids.items()}
    chart = bar_chart(
        "Issues by code", [(g.code, g.count, g.severity) for g in groups], horizontal=True
    )
    return page(
        request,
        "results.html",
        section="validate",
        run=run,
        result=result,
        groups=groups,
        grid_of=lambda issue: by_issue.get(id(issue)),
        issues_chart=chart,
        reveal=reveal,
        records=sorted(result.record_counts().items()),
    )


async def all_issues(request: Request) -> Response:
    """Every issue, filtered by code, sheet and severity, one page at a time."""
    run, result = _run(request)
    query = request.query_params
    filters = {k: query.get(k, "") for k in ("code", "sheet", "severity")}
    try:
        number = int(query.get("page", "1"))
    except ValueError:
        number = 1
    shown = issue_page(result.issues, filters, number, settings_of(request).issues_per_page)
    active = {k: v for k, v in filters.items() if v}
    return page(
        request,
        "issues.html",
        section="validate",
        run=run,
        shown=shown,
        filters=filters,
        active=active,
    )


def _cleanup(path: Any) -> BackgroundTask:
    return BackgroundTask(lambda: path.unlink(missing_ok=True))


async def report_json(request: Request) -> Response:
    """The JSON report, the same document as ``mectk validate --json``."""
    _found, result = _run(request)
    document = result.as_json(version=__version__)
    return JSONResponse(
        document,
        headers={"content-disposition": 'attachment; filename="validation-report.json"'},
    )


async def issues_csv(request: Request) -> Response:
    """Every issue as CSV; text a spreadsheet would run as a formula is kept as text."""
    run, result = _run(request)
    out = run.new_path("issues.csv")
    rows = [[i.as_json()[k] for k in ISSUE_CSV_HEADINGS] for i in result.issues]
    await run_in_threadpool(write_csv, out, ISSUE_CSV_HEADINGS, rows)
    return FileResponse(out, media_type="text/csv", filename="issues.csv", background=_cleanup(out))


async def annotated(request: Request) -> Response:
    """An uploaded workbook with its bad cells marked and an Issues sheet."""
    run, result = _run(request)
    try:
        upload = run.uploads[int(request.path_params["index"])]
    except (ValueError, IndexError) as exc:
        raise RefusedError(404, "No such file", "This run has no such uploaded file.") from exc
    if upload.source_type not in ("xlsx", "xlsm"):
        raise RefusedError(
            400,
            "Not a workbook",
            f"{upload.name} is not an Excel workbook, so it cannot be marked.",
        )
    stem = upload.name.rsplit(".", 1)[0]
    out = run.new_path(f"{stem}-checked.xlsx")
    await run_in_threadpool(
        write_annotated_copy, upload.path, result.issues, out, file_name=upload.name
    )
    return FileResponse(
        out,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename=out.name,
        background=_cleanup(out),
    )


def _import_facts(result: ValidationResult) -> dict[str, Any]:
    return {
        "records": sorted(result.record_counts().items()),
        "errors": Counter(i.code for i in result.issues if i.severity == "error").most_common(),
    }


async def import_confirm(request: Request) -> Response:
    """What importing this run would load into the register, and what it would not."""
    run, result = _run(request)
    return page(
        request,
        "import.html",
        section="validate",
        run=run,
        db=settings_of(request).db,
        refused=None,
        **_import_facts(result),
    )


async def import_submit(request: Request) -> Response:
    """Import the run's accepted records as one batch (refused re-imports say why)."""
    run, result = _run(request)
    settings = settings_of(request)
    form = await read_form(request, settings)
    if run.batch is not None:
        return RedirectResponse(f"/register/batches?imported={run.batch.id}", status_code=303)
    force = form.get("force") == "yes"
    try:
        batch = await run_in_threadpool(
            lambda: import_result(settings.db, result, force=force, mapping=run.mapping_name)
        )
    except UsageError as exc:
        return page(
            request,
            "import.html",
            section="validate",
            status=409,
            run=run,
            db=settings.db,
            refused=exc,
            **_import_facts(result),
        )
    run.batch = batch
    return RedirectResponse(f"/register/batches?imported={batch.id}", status_code=303)


ROUTES = [
    Route("/validate", validate_form, methods=["GET"]),
    Route("/validate", validate_submit, methods=["POST"]),
    Route("/runs/{run_id}", results),
    Route("/runs/{run_id}/issues", all_issues),
    Route("/runs/{run_id}/report.json", report_json),
    Route("/runs/{run_id}/issues.csv", issues_csv),
    Route("/runs/{run_id}/annotated/{index}", annotated),
    Route("/runs/{run_id}/import", import_confirm, methods=["GET"]),
    Route("/runs/{run_id}/import", import_submit, methods=["POST"]),
]
