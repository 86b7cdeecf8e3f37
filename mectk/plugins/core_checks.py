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

    Ids that differ only in letter case or surrounding spaces (``E1`` and ``e1 ``) are the
    same id: a person typing them means one record, and exchange partners match loosely.
    Only ids whose normalised hash repeats are held (see
    :func:`mectk.accepted.repeated_hashes`).
    """
    for kind in RECORD_KINDS.values():
        id_field = kind.id_field
        title = field_map(kind.name)[id_field].title
        records = context.records(kind.name)
        repeated = repeated_hashes(_id_key(getattr(r.model, id_field)) for r in records)
        if not repeated:
            continue
        first_seen: dict[str, str] = {}
        for record in records:
            record_id = getattr(record.model, id_field)
            key = _id_key(record_id)
            if hash(key) not in repeated:
                continue
            row = record.row
            cell = row.cells.get(id_field)
            where = f"{row.sheet or ''} {cell.cell if cell else ''}".strip() or row.source_ref
            if key not in first_seen:
                first_seen[key] = where
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
                first=first_seen[key],
            )


def _id_key(record_id: object) -> str:
    """The form two ids are compared in: case-folded, surrounding spaces dropped."""
    return str(record_id).strip().casefold()


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
