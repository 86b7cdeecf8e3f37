"""Built-in cross-record checks that apply to every format."""

from __future__ import annotations

from collections.abc import Iterator

from mectk.accepted import repeated_hashes
from mectk.hookspecs import hookimpl
from mectk.issues import Issue, make_issue
from mectk.schemas import RECORD_KINDS, field_map
from mectk.specs import CheckContext, CheckSpec


def unique_ids(context: CheckContext) -> Iterator[Issue]:
    """Each record id is used once per kind; later uses are errors pointing at the first.

    Only ids whose hash repeats are held (see :func:`mectk.accepted.repeated_hashes`).
    """
    for kind in RECORD_KINDS.values():
        id_field = kind.id_field
        title = field_map(kind.name)[id_field].title
        records = context.records(kind.name)
        repeated = repeated_hashes(getattr(r.model, id_field) for r in records)
        if not repeated:
            continue
        first_seen: dict[str, str] = {}
        for record in records:
            record_id = getattr(record.model, id_field)
            if hash(record_id) not in repeated:
                continue
            row = record.row
            cell = row.cells.get(id_field)
            where = f"{row.sheet or ''} {cell.cell if cell else ''}".strip() or row.source_ref
            if record_id not in first_seen:
                first_seen[record_id] = where
                continue
            yield make_issue(
                "id-duplicate",
                file=row.file or None,
                sheet=row.sheet,
                cell=cell.cell if cell else None,
                row=row.row,
                column=cell.heading if cell and cell.heading else title,
                field=id_field,
                record_id=record_id,
                value=record_id,
                kind=kind.title.lower(),
                first=first_seen[record_id],
            )


@hookimpl
def mectk_register_checks() -> list[CheckSpec]:
    """Register the checks every format gets."""
    return [
        CheckSpec(
            name="unique-ids",
            title="Record ids are unique within each kind",
            codes=("id-duplicate",),
            run=unique_ids,
            kinds=tuple(RECORD_KINDS),
            category="duplicate",
            importance="high",
        )
    ]
