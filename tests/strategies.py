"""Hypothesis strategies that build valid mectk records, read from the JSON Schemas themselves.

Nothing here lists the fields of a record kind by hand. For every
:class:`mectk.schemas.FieldInfo` of a kind a value strategy is chosen from its
``value_kind`` and the constraints of the resolved property schema (code lists, enums,
bounds, patterns, lengths). Required fields are always drawn and optional ones sometimes;
then the kind's ``allOf`` ``if``/``then`` rules are satisfied generically: whenever an
``if`` matches the drawn data, the fields its ``then`` requires are drawn too.

``record_data(kind)`` gives the unstructured (JSON-ready) dict, ``records(kind)`` the
attrs model built from it by the project's converter.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import jsonschema
import referencing
from hypothesis import strategies as st
from referencing.jsonschema import DRAFT202012

from mectk import schemas
from mectk.converter import make_converter
from mectk.models import MODELS

MIN_DATE = datetime.date(2007, 1, 1)
MAX_DATE = datetime.date(2030, 12, 31)
CENT = Decimal("0.01")
CONVERTER = make_converter()

# Patterns are drawn from printable ASCII so that ``\d`` gives 0-9, not other scripts' digits.
_PATTERN_ALPHABET = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
# Free text: letters, digits, punctuation, symbols and spaces from any script.
_TEXT_ALPHABET = st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs"))
_SHORT_TEXT = 40
_MAX_LIST = 4


class UnsupportedSchemaError(NotImplementedError):
    """The schema uses a construct these strategies do not know how to satisfy."""


def resolve(prop: Mapping[str, Any], owner: str) -> dict[str, Any]:
    """``prop`` merged with what its ``$ref`` points at (siblings of ``$ref`` win).

    ``owner`` is the schema file name that relative references (``#/$defs/...``) belong to.
    """
    ref = prop.get("$ref")
    if not ref:
        return dict(prop)
    target_file, _, pointer = ref.partition("#")
    target_owner = target_file.removesuffix(".schema.json") if target_file else owner
    node: Any = schemas.load_schema(target_owner)
    for part in pointer.strip("/").split("/") if pointer.strip("/") else ():
        node = node[part]
    merged = {**resolve(node, target_owner), **{k: v for k, v in prop.items() if k != "$ref"}}
    return merged


@functools.cache
def reference_registry() -> referencing.Registry[Any]:
    """Every mectk schema by its ``$id``, for validating with ``$ref`` resolved the standard way."""
    return referencing.Registry().with_resources(
        (
            f"{schemas.SCHEMA_BASE}{name}.schema.json",
            DRAFT202012.create_resource(schemas.load_schema(name)),
        )
        for name in schemas.SCHEMA_FILES
    )


@functools.cache
def reference_validator(kind: str) -> jsonschema.Draft202012Validator:
    """A plain draft 2020-12 validator for ``kind`` that follows ``$ref`` through a registry.

    Independent of :func:`mectk.schemas.validator` (which may pre-process the schemas), so
    the two can be checked against each other.
    """
    rk = schemas.RECORD_KINDS[kind]
    ref = {"$ref": f"{schemas.SCHEMA_BASE}{rk.schema_name}.schema.json#{rk.pointer}"}
    cls = jsonschema.Draft202012Validator
    return cls(ref, registry=reference_registry(), format_checker=cls.FORMAT_CHECKER)


def owner_of(kind: str) -> str:
    return schemas.RECORD_KINDS[kind].schema_name


def property_schema(kind: str, dotted_name: str) -> dict[str, Any]:
    """The resolved schema of the (possibly nested, ``council.gss_code``) field of ``kind``."""
    node: Mapping[str, Any] = schemas.record_schema(kind)
    prop: dict[str, Any] = {}
    for part in dotted_name.split("."):
        prop = resolve(node["properties"][part], owner_of(kind))
        node = prop
    return prop


def _is_required(kind: str, dotted_name: str) -> bool:
    """Whether the last part of ``dotted_name`` is required by the object holding it."""
    node: Mapping[str, Any] = schemas.record_schema(kind)
    *parents, last = dotted_name.split(".")
    for part in parents:
        node = node["properties"][part]
    return last in node.get("required", ())


def _bounds(schema: Mapping[str, Any], step: Decimal | int) -> tuple[Any, Any]:
    """Inclusive lower and upper bounds, exclusive ones moved inwards by ``step``."""
    low = schema.get("minimum")
    if "exclusiveMinimum" in schema:
        ex = schema["exclusiveMinimum"] + step
        low = ex if low is None else max(low, ex)
    high = schema.get("maximum")
    if "exclusiveMaximum" in schema:
        ex = schema["exclusiveMaximum"] - step
        high = ex if high is None else min(high, ex)
    return low, high


def _text(schema: Mapping[str, Any]) -> st.SearchStrategy[str]:
    min_len = max(1, schema.get("minLength", 1))
    max_len = schema.get("maxLength")
    pattern = schema.get("pattern")
    if pattern:
        strategy = st.from_regex(pattern, fullmatch=True, alphabet=_PATTERN_ALPHABET)
        if max_len is not None or "minLength" in schema:
            strategy = strategy.filter(
                lambda s: min_len <= len(s) <= (max_len if max_len is not None else len(s))
            )
        return strategy
    size = min(_SHORT_TEXT, max_len) if max_len is not None else _SHORT_TEXT
    return (
        st.text(alphabet=_TEXT_ALPHABET, min_size=min_len, max_size=size)
        .map(str.strip)
        .filter(lambda s: len(s) >= min_len)
    )


def _scalar(info: schemas.FieldInfo, schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    """A strategy for one (unstructured, JSON-ready) value of the field ``info``."""
    if info.value_kind == "code":
        assert info.codelist is not None
        return st.sampled_from(schemas.codelist(info.codelist).codes)
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(tuple(schema["enum"]))
    if info.value_kind == "date":
        return st.dates(MIN_DATE, MAX_DATE).map(datetime.date.isoformat)
    if info.value_kind == "datetime":
        return st.datetimes(
            datetime.datetime.combine(MIN_DATE, datetime.time()),
            datetime.datetime.combine(MAX_DATE, datetime.time()),
            timezones=st.just(datetime.UTC),
        ).map(datetime.datetime.isoformat)
    if info.value_kind == "boolean":
        return st.booleans()
    if info.value_kind == "integer":
        if "multipleOf" in schema:
            raise UnsupportedSchemaError(f"{info.name}: multipleOf on an integer")
        low, high = _bounds(schema, 1)
        return st.integers(low, high)
    if info.value_kind == "decimal":
        multiple = schema.get("multipleOf")
        if multiple is not None and CENT % Decimal(str(multiple)) != 0:
            raise UnsupportedSchemaError(f"{info.name}: multipleOf {multiple}")
        low, high = _bounds(schema, CENT)
        return st.decimals(
            min_value=None if low is None else Decimal(str(low)),
            max_value=None if high is None else Decimal(str(high)),
            places=2,
            allow_nan=False,
            allow_infinity=False,
        )
    return _text(schema)


@functools.cache
def value_strategy(kind: str, name: str, min_items: int = 1) -> st.SearchStrategy[Any]:
    """A strategy for the field ``name`` of ``kind``; lists of unique items for multi fields."""
    info = schemas.field_map(kind)[name]
    prop = property_schema(kind, name)
    if not info.multi:
        return _scalar(info, prop)
    item = resolve(prop["items"], owner_of(kind))
    smallest = max(1, min_items, prop.get("minItems", 0))
    return st.lists(
        _scalar(info, item),
        min_size=smallest,
        max_size=max(smallest, prop.get("maxItems", _MAX_LIST)),
        unique=True,
    )


def _put(data: dict[str, Any], dotted_name: str, value: Any) -> None:
    *parents, last = dotted_name.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value


def sub_record_kind(kind: str, prop: Mapping[str, Any]) -> str | None:
    """The record kind of an array-of-objects property (a programme's localities), if any."""
    if prop.get("type") != "array":
        return None
    ref = prop.get("items", {}).get("$ref", "")
    if not ref.startswith("#"):
        return None
    pointer = ref.removeprefix("#")
    for name, rk in schemas.RECORD_KINDS.items():
        if rk.schema_name == owner_of(kind) and rk.pointer == pointer:
            return name
    raise UnsupportedSchemaError(f"{kind}: no record kind for items {ref}")


def _check_no_nested_rules(kind: str) -> None:
    for info in schemas.fields(kind):
        parts = info.name.split(".")
        for i in range(1, len(parts)):
            if "allOf" in property_schema(kind, ".".join(parts[:i])):
                raise UnsupportedSchemaError(f"{kind}: allOf inside {'.'.join(parts[:i])}")


def _satisfy_rules(draw: st.DrawFn, kind: str, data: dict[str, Any]) -> None:
    """Draw whatever the ``then`` of each matching ``if`` needs, until nothing changes."""
    rules = schemas.record_schema(kind).get("allOf", ())
    changed = True
    while changed:
        changed = False
        for rule in rules:
            if set(rule) - {"if", "then"}:
                raise UnsupportedSchemaError(f"{kind}: allOf entry {sorted(rule)}")
            if not jsonschema.Draft202012Validator(rule["if"]).is_valid(data):
                continue
            then = rule["then"]
            if set(then) - {"required", "properties"}:
                raise UnsupportedSchemaError(f"{kind}: then {sorted(then)}")
            for name in then.get("required", ()):
                if name not in data:
                    data[name] = draw(value_strategy(kind, name))
                    changed = True
            for name, sub in then.get("properties", {}).items():
                if set(sub) - {"minItems"}:
                    raise UnsupportedSchemaError(f"{kind}: then.properties.{name} {sorted(sub)}")
                need = sub.get("minItems", 0)
                if name in data and len(data[name]) < need:
                    data[name] = draw(value_strategy(kind, name, need))
                    changed = True


@st.composite
def record_data(
    draw: st.DrawFn,
    kind: str,
    max_sub_records: int = 2,
    fixed: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A valid, unstructured (JSON-ready) record of ``kind``.

    ``fixed`` sets (dotted) fields to given values before the ``if``/``then`` rules are
    satisfied, so a test can steer a record into a rule; the values must themselves be valid.
    """
    _check_no_nested_rules(kind)
    data: dict[str, Any] = {}
    present: dict[str, bool] = {}  # whether each nested object is drawn at all

    def parent_present(dotted_name: str) -> bool:
        parts = dotted_name.split(".")
        for i in range(1, len(parts)):
            prefix = ".".join(parts[:i])
            if prefix not in present:
                present[prefix] = _is_required(kind, prefix) or draw(st.booleans())
            if not present[prefix]:
                return False
        return True

    for info in schemas.fields(kind):
        if not parent_present(info.name):
            continue
        if info.required or draw(st.booleans()):
            _put(data, info.name, draw(value_strategy(kind, info.name)))

    root = schemas.record_schema(kind)
    for name, prop in root["properties"].items():
        sub = sub_record_kind(kind, prop)
        if sub is None:
            continue
        if name in root.get("required", ()) or draw(st.booleans()):
            data[name] = draw(
                st.just([]) | st.lists(record_data(sub, 0), min_size=1, max_size=max_sub_records)
            )

    for name, value in (fixed or {}).items():
        _put(data, name, value)
    _satisfy_rules(draw, kind, data)
    return data


def records(kind: str, fixed: Mapping[str, Any] | None = None) -> st.SearchStrategy[Any]:
    """A valid model (``mectk.models.MODELS[kind]``) of ``kind``; ``fixed`` as for record_data."""
    model = MODELS[kind]
    return record_data(kind, fixed=fixed).map(lambda data: CONVERTER.structure(data, model))


def any_record() -> st.SearchStrategy[tuple[str, Any]]:
    """``(kind, model)`` for any record kind."""
    return st.one_of([records(kind).map(lambda m, k=kind: (k, m)) for kind in schemas.RECORD_KINDS])


__all__ = [
    "CONVERTER",
    "MAX_DATE",
    "MIN_DATE",
    "UnsupportedSchemaError",
    "any_record",
    "property_schema",
    "record_data",
    "records",
    "reference_registry",
    "reference_validator",
    "resolve",
    "sub_record_kind",
    "value_strategy",
]
