"""What an exchange package carries per record kind, and how its CSV cells are written.

Contract:

* A package carries every field of a kind's schema (dotted for nested objects, such as
  ``council.name``) except those in :data:`NEVER_EXPORTED` (free-text notes) and, unless
  personal data is asked for, fields whose ``x-personal-data`` is not ``none``.
* :func:`profile_schema` is the kind's JSON Schema with every reference inlined, the
  fields left out removed, and personal fields optional (a record received without them
  stays valid). Records in a package are validated against it; extra keys are refused.
* :func:`table_schema` is the Frictionless Table Schema of the kind's CSV file (types
  only; the JSON Schema is the authority).
* Cells: absent is an empty cell; ``true``/``false``; numbers as their exact text; lists as
  JSON arrays; text as is, except that text starting with ``=``, ``+``, ``-``, ``@``, a
  tab, a carriage return or an apostrophe gets one leading apostrophe (so a spreadsheet
  never runs it as a formula), removed again on reading: exactly reversible. An empty
  text value cannot be told from an absent one in CSV and is read as absent.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from mectk.schemas import RECORD_KINDS, FieldInfo, fields, standalone_schema
from mectk.textsafety import FORMULA_STARTS

NEVER_EXPORTED: frozenset[tuple[str, str]] = frozenset(
    {("enterprise", "notes"), ("support_episode", "notes")}
)
"""(kind, field) pairs never written to a package, even with personal data: free-text
notes (their schema descriptions say "Never exported")."""

ESCAPED_STARTS = (*FORMULA_STARTS, "'")
_INTEGER = re.compile(r"-?\d+")
_TABLE_TYPES = {
    "text": "string",
    "code": "string",
    "date": "date",
    "datetime": "datetime",
    "integer": "integer",
    "decimal": "number",
    "boolean": "boolean",
}


class CellError(ValueError):
    """A cell that cannot be read as its field's type."""


def is_personal(info: FieldInfo) -> bool:
    """Whether the field holds personal (or special-category) data."""
    return info.personal_data != "none"


def exchange_fields(kind: str, *, include_personal: bool) -> tuple[FieldInfo, ...]:
    """The fields a package carries for ``kind``, in schema order."""
    return tuple(
        f
        for f in fields(kind)
        if (kind, f.name) not in NEVER_EXPORTED and (include_personal or not is_personal(f))
    )


def personal_field_names(kind: str) -> tuple[str, ...]:
    """Names of the personal fields of ``kind`` a package may carry (notes never)."""
    return tuple(f.name for f in exchange_fields(kind, include_personal=True) if is_personal(f))


def carried(kind: str, personal: frozenset[str]) -> tuple[FieldInfo, ...]:
    """The fields of ``kind`` in a package whose included personal fields are ``personal``
    (as ``kind.field`` names)."""
    return tuple(
        f
        for f in exchange_fields(kind, include_personal=True)
        if not is_personal(f) or f"{kind}.{f.name}" in personal
    )


def _remove(schema: dict[str, Any], dotted: str) -> None:
    """Remove the (dotted) property from ``schema`` and from every ``required`` list."""
    head, _, rest = dotted.partition(".")
    props = schema.get("properties", {})
    if rest:
        if isinstance(props.get(head), dict):
            _remove(props[head], rest)
        return
    props.pop(head, None)
    _unrequire(schema, head)


def _unrequire(node: Any, name: str) -> None:
    if isinstance(node, list):
        for item in node:
            _unrequire(item, name)
        return
    if not isinstance(node, dict):
        return
    if isinstance(node.get("required"), list) and name in node["required"]:
        node["required"] = [r for r in node["required"] if r != name]
    for key in ("allOf", "anyOf", "oneOf", "if", "then", "else"):
        if key in node:
            _unrequire(node[key], name)


@functools.lru_cache(maxsize=64)
def _profile(kind: str, personal: frozenset[str]) -> str:
    schema = standalone_schema(kind)
    keep = {f.name for f in carried(kind, personal)}
    for info in fields(kind):
        if info.name not in keep:
            _remove(schema, info.name)
        elif is_personal(info):
            _unrequire(schema, info.name)
    for name, prop in list(schema.get("properties", {}).items()):
        if prop.get("type") == "array" and "properties" in prop.get("items", {}):
            del schema["properties"][name]  # a record kind of its own (localities, ...)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"{RECORD_KINDS[kind].title} (exchange package)"
    return json.dumps(schema, default=_number, ensure_ascii=False, sort_keys=True, indent=1)


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    msg = f"cannot write {type(value).__name__} in a schema"
    raise TypeError(msg)


def profile_schema(kind: str, personal: frozenset[str]) -> dict[str, Any]:
    """The JSON Schema records of ``kind`` follow in a package carrying ``personal``."""
    schema: dict[str, Any] = json.loads(_profile(kind, personal), parse_float=Decimal)
    return schema


def profile_text(kind: str, personal: frozenset[str]) -> str:
    """:func:`profile_schema` as the JSON text written into packages."""
    return _profile(kind, personal) + "\n"


def table_schema(
    kind: str,
    columns: Sequence[FieldInfo],
    foreign_keys: Sequence[tuple[str, str, str]] = (),
) -> dict[str, Any]:
    """The Frictionless Table Schema of the CSV file of ``kind`` with ``columns``;
    ``foreign_keys`` are (field, resource, field) triples."""
    id_field = RECORD_KINDS[kind].id_field
    out: list[dict[str, Any]] = []
    for info in columns:
        field: dict[str, Any] = {
            "name": info.name,
            "title": info.title,
            "description": info.description,
            "type": "array" if info.multi else _TABLE_TYPES[info.value_kind],
        }
        if info.required and "." not in info.name and not is_personal(info):
            field["constraints"] = {"required": True}
        out.append(field)
    schema: dict[str, Any] = {"fields": out, "missingValues": [""], "primaryKey": [id_field]}
    if foreign_keys:
        schema["foreignKeys"] = [
            {"fields": [f], "reference": {"resource": r, "fields": [t]}} for f, r, t in foreign_keys
        ]
    return schema


def encode_cell(info: FieldInfo, value: Any) -> str:
    """One stored value (register form) as CSV cell text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if info.multi or isinstance(value, list | tuple):
        return json.dumps(list(value), ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if info.value_kind in ("text", "code") and text.startswith(ESCAPED_STARTS):
        return "'" + text
    return text


def decode_cell(info: FieldInfo, text: str) -> Any:
    """One CSV cell back into the package's record form (Decimals for numbers).

    Raises :class:`CellError` for text that is not of the field's type. The empty cell is
    not passed here (it means absent).
    """
    if info.multi:
        try:
            items = json.loads(text, parse_float=Decimal)
        except ValueError as exc:
            raise CellError('is not a JSON list such as ["a","b"]') from exc
        if not isinstance(items, list):
            raise CellError('is not a JSON list such as ["a","b"]')
        return items
    kind = info.value_kind
    if kind == "boolean":
        if text not in ("true", "false"):
            raise CellError("is not true or false")
        return text == "true"
    if kind == "integer":
        if not _INTEGER.fullmatch(text):
            raise CellError("is not a whole number")
        return int(text)
    if kind == "decimal":
        try:
            number = Decimal(text)
        except InvalidOperation as exc:
            raise CellError("is not a number") from exc
        if not number.is_finite():
            raise CellError("is not a number")
        return number
    if kind in ("text", "code") and text.startswith("'"):
        return text[1:]
    return text


def register_form(data: Mapping[str, Any]) -> dict[str, Any]:
    """A package record as the register keeps it: nested as is, Decimals as exact text."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            out[key] = register_form(value)
        elif isinstance(value, Decimal):
            out[key] = str(value)
        elif isinstance(value, list):
            out[key] = [str(v) if isinstance(v, Decimal) else v for v in value]
        else:
            out[key] = value
    return out
