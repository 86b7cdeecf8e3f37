"""Load the interchange-standard JSON Schemas shipped with mectk and describe their fields.

The schemas under ``schemas/`` are the source of truth; everything here is read from them.
In a wheel they live at ``mectk/schemas``; in a source checkout at ``../schemas``.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import jsonschema
from attrs import frozen

SCHEMA_BASE = "https://schemas.mectk.org/v1/"
SCHEMA_FILES = (
    "codelists",
    "common",
    "enterprise",
    "support-episode",
    "support-event",
    "outcome",
    "spend-line",
    "programme",
    "manifest",
    "mapping",
)
PersonalData = Literal["none", "personal", "special"]
ValueKind = Literal["text", "date", "datetime", "integer", "decimal", "boolean", "code"]


def schema_dir() -> Traversable:
    """The folder holding the ``*.schema.json`` files, in a wheel or in a source checkout."""
    packaged = resources.files("mectk") / "schemas"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parent.parent / "schemas"
    if checkout.is_dir():
        return checkout
    msg = "mectk's JSON Schemas are missing from this installation"
    raise RuntimeError(msg)


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """Return the schema ``name`` (such as ``"enterprise"``) with numbers parsed as Decimal."""
    text = (schema_dir() / f"{name}.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text, parse_float=Decimal)
    return schema


@frozen
class RecordKind:
    """One kind of record: which schema (and pointer into it) validates it, and its sheet."""

    name: str
    schema_name: str
    pointer: str
    sheet: str
    id_field: str
    title: str


@frozen
class CodeList:
    """A code list: stable codes, their labels, and the import aliases that map onto them."""

    name: str
    codes: tuple[str, ...]
    labels: Mapping[str, str]
    aliases: Mapping[str, str]

    def label(self, code: str) -> str:
        """The human label of ``code``."""
        return self.labels.get(code, code)

    def lookup(self, text: str) -> str | None:
        """The code for ``text`` (a code, label or alias, any case and spacing), or None."""
        return self.aliases.get(normalise_text(text))


@frozen
class FieldInfo:
    """What the schema says about one record field, flattened for readers and validation.

    ``name`` is a dotted path for fields inside nested objects (``council.gss_code``).
    """

    name: str
    title: str
    description: str
    personal_data: PersonalData
    required: bool
    value_kind: ValueKind
    multi: bool
    codelist: str | None
    format_name: str | None
    read_only: bool
    hint: str | None
    examples: tuple[str, ...]
    default: Any = None
    pattern: str | None = None
    """The schema ``pattern`` a text value (each item, for lists) must match, if any."""


_SPACES = re.compile(r"\s+")


@functools.lru_cache(maxsize=65536)
def normalise_text(text: str) -> str:
    """Casefold and collapse spacing (including non-breaking spaces and BOMs) for matching."""
    text = unicodedata.normalize("NFKC", text).replace("\ufeff", "")
    return _SPACES.sub(" ", text).strip().casefold()


def _kind(
    name: str, schema: str, pointer: str, *, sheet: str, id_field: str, title: str
) -> RecordKind:
    return RecordKind(name, schema, pointer, sheet, id_field, title)


RECORD_KINDS: Mapping[str, RecordKind] = {
    k.name: k
    for k in (
        _kind(
            "programme",
            "programme",
            "",
            sheet="Programme",
            id_field="programme_id",
            title="Programme",
        ),
        _kind(
            "locality",
            "programme",
            "/$defs/locality",
            sheet="Localities",
            id_field="locality_id",
            title="Locality",
        ),
        _kind(
            "coordinator",
            "programme",
            "/$defs/coordinator",
            sheet="Coordinators",
            id_field="coordinator_id",
            title="Co-ordinator",
        ),
        _kind(
            "target",
            "programme",
            "/$defs/target",
            sheet="Targets",
            id_field="target_id",
            title="Target",
        ),
        _kind(
            "enterprise",
            "enterprise",
            "",
            sheet="Enterprises",
            id_field="enterprise_id",
            title="Enterprise",
        ),
        _kind(
            "support_episode",
            "support-episode",
            "",
            sheet="Support episodes",
            id_field="episode_id",
            title="Support episode",
        ),
        _kind(
            "support_event",
            "support-event",
            "",
            sheet="Support events",
            id_field="event_id",
            title="Support event",
        ),
        _kind("outcome", "outcome", "", sheet="Outcomes", id_field="outcome_id", title="Outcome"),
        _kind(
            "spend_line",
            "spend-line",
            "",
            sheet="Spend lines",
            id_field="spend_id",
            title="Spend line",
        ),
    )
}
"""Every record kind mectk reads, in the order the canonical workbook lists them."""


def record_schema(kind: str) -> dict[str, Any]:
    """The (sub)schema that validates one record of ``kind``."""
    rk = RECORD_KINDS[kind]
    node: Any = load_schema(rk.schema_name)
    for part in rk.pointer.strip("/").split("/") if rk.pointer else ():
        node = node[part]
    result: dict[str, Any] = node
    return result


def _inline_refs(node: Any, owner: str) -> Any:
    """A copy of ``node`` with every ``$ref`` replaced by the definition it points to.

    mectk's schemas have no recursive references, so the result is finite; validating
    against it skips reference resolution, which dominated validation time per row.
    """
    if isinstance(node, list):
        return [_inline_refs(item, owner) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref_file, _, pointer = node["$ref"].partition("#")
        target_owner = ref_file.removesuffix(".schema.json") if ref_file else owner
        target: Any = load_schema(target_owner)
        for part in pointer.strip("/").split("/") if pointer.strip("/") else ():
            target = target[part]
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        if set(siblings) & set(target) - ANNOTATIONS:  # both apply, as the standard says
            annotations = {k: v for k, v in siblings.items() if k in ANNOTATIONS}
            rest = {k: v for k, v in siblings.items() if k not in ANNOTATIONS}
            merged = {**annotations, "allOf": [_inline_refs(target, target_owner), rest]}
            return _inline_refs(merged, owner)
        return _inline_refs({**target, **siblings}, target_owner)
    return {k: (v if k == "$defs" else _inline_refs(v, owner)) for k, v in node.items()}


ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "examples",
        "default",
        "readOnly",
        "x-personal-data",
        "x-hint",
        "x-multi-value",
    }
)
_UNESCAPED_DOLLAR = re.compile(r"(?<!\\)\$")


@functools.cache
def ecma_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a schema pattern so that ``$`` means end of text, as in ECMA-262.

    Python's ``$`` also matches before a final new line, which would let ``"WR5 2NP\\n"``
    pass a postcode pattern.
    """
    return re.compile(_UNESCAPED_DOLLAR.sub(r"\\Z", pattern))


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    if isinstance(instance, str) and not ecma_pattern(pattern).search(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


StrictValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator, {"pattern": _pattern}
)
"""Draft 2020-12 with ECMA-262 end-of-text anchors in ``pattern``."""


@functools.cache
def field_validator(kind: str, field: str) -> jsonschema.protocols.Validator:
    """A validator for one top-level field's value of ``kind`` (used for mapping constants)."""
    rk = RECORD_KINDS[kind]
    schema = _inline_refs(record_schema(kind)["properties"][field], rk.schema_name)
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    return StrictValidator(schema, format_checker=checker)


def inline_schema(name: str) -> dict[str, Any]:
    """A new copy of the schema file ``name`` (such as ``"manifest"``) with every ``$ref``
    inlined and no ``$defs`` or ``$id``, so that it validates on its own."""
    schema: dict[str, Any] = _inline_refs(load_schema(name), name)
    schema.pop("$defs", None)
    schema.pop("$id", None)
    return schema


def standalone_schema(kind: str) -> dict[str, Any]:
    """A new copy of the schema of ``kind`` with every ``$ref`` inlined and no ``$defs``
    or ``$id``: it validates a record of ``kind`` on its own (as in exchange packages)."""
    schema: dict[str, Any] = _inline_refs(record_schema(kind), RECORD_KINDS[kind].schema_name)
    schema.pop("$defs", None)
    schema.pop("$id", None)
    return schema


@functools.cache
def validator(kind: str) -> jsonschema.protocols.Validator:
    """A draft 2020-12 validator for ``kind``, checking ``date`` and ``date-time`` formats.

    It validates against the record's schema with references inlined (same rules, faster).
    """
    rk = RECORD_KINDS[kind]
    schema = _inline_refs(record_schema(kind), rk.schema_name)
    schema.pop("$defs", None)
    schema.pop("$id", None)
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    return StrictValidator(schema, format_checker=checker)


@functools.cache
def codelist(name: str) -> CodeList:
    """The code list ``name`` from ``codelists.schema.json``."""
    node = load_schema("codelists")["$defs"][name]
    codes = tuple(node["enum"])
    labels = {c: node["x-codes"][c]["label"] for c in codes}
    aliases: dict[str, str] = {}
    for c in codes:
        for text in (c, c.replace("_", " "), labels[c], *node["x-codes"][c]["aliases"]):
            aliases.setdefault(normalise_text(text), c)
    return CodeList(name, codes, labels, aliases)


def codelist_names() -> tuple[str, ...]:
    """Names of every code list."""
    return tuple(load_schema("codelists")["$defs"])


def _resolve(prop: Mapping[str, Any], owner: str) -> tuple[dict[str, Any], str | None]:
    """Merge a property with the definition it ``$ref``s; return it and the definition's name."""
    ref = prop.get("$ref")
    if not ref:
        return dict(prop), None
    target_file, _, pointer = ref.partition("#")
    doc = load_schema(target_file.removesuffix(".schema.json") if target_file else owner)
    node: Any = doc
    for part in pointer.strip("/").split("/"):
        node = node[part]
    merged = {**node, **{k: v for k, v in prop.items() if k != "$ref"}}
    return merged, pointer.rsplit("/", 1)[-1]


def _field(name: str, prop: Mapping[str, Any], required: bool, owner: str) -> FieldInfo:
    merged, def_name = _resolve(prop, owner)
    multi = merged.get("type") == "array"
    item, item_def = _resolve(merged["items"], owner) if multi else (merged, def_name)
    codelist_name = None
    if item_def and item.get("enum") and "x-codes" in item:
        codelist_name = item_def
    kind: ValueKind
    if codelist_name:
        kind = "code"
    elif item_def == "date":
        kind = "date"
    elif item_def == "datetime":
        kind = "datetime"
    else:
        kind = {"integer": "integer", "number": "decimal", "boolean": "boolean"}.get(
            item.get("type", "string"), "text"
        )  # type: ignore[assignment]
    return FieldInfo(
        name=name,
        title=merged["title"],
        description=merged["description"],
        personal_data=merged["x-personal-data"],
        required=required,
        value_kind=kind,
        multi=multi,
        codelist=codelist_name,
        format_name=item_def if kind == "text" else None,
        read_only=bool(merged.get("readOnly", False)),
        hint=item.get("x-hint"),
        examples=tuple(str(e) for e in item.get("examples", ())),
        default=merged.get("default"),
        pattern=item.get("pattern") if kind == "text" else None,
    )


@functools.cache
def fields(kind: str) -> tuple[FieldInfo, ...]:
    """The fields of a record kind in schema order; nested objects become dotted fields.

    Arrays of objects (a programme's localities, co-ordinators and targets) are record kinds
    of their own and are left out.
    """
    rk = RECORD_KINDS[kind]
    return tuple(_flatten(record_schema(kind), "", rk.schema_name))


def _flatten(schema: Mapping[str, Any], prefix: str, owner: str) -> list[FieldInfo]:
    out: list[FieldInfo] = []
    required: Sequence[str] = schema.get("required", ())
    for name, prop in schema["properties"].items():
        if prop.get("type") == "object":
            out.extend(_flatten(prop, f"{prefix}{name}.", owner))
        elif (
            prop.get("type") == "array"
            and "$ref" in prop.get("items", {})
            and prop["items"]["$ref"].startswith("#")
        ):
            continue
        else:
            out.append(_field(prefix + name, prop, name in required, owner))
    return out


@functools.cache
def field_map(kind: str) -> Mapping[str, FieldInfo]:
    """``fields(kind)`` keyed by field name (built once per kind; do not modify)."""
    return MappingProxyType({f.name: f for f in fields(kind)})


def schema_version() -> str:
    """Version of the interchange standard these schemas define."""
    version: str = load_schema("enterprise")["x-schema-version"]
    return version


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested record data as dotted field names (``council.gss_code``)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def unflatten(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted field names back into nested record data (the inverse of :func:`flatten`)."""
    out: dict[str, Any] = {}
    for name, value in flat.items():
        node = out
        *parents, last = name.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return out
