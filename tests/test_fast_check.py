"""mectk.fast_check agrees exactly with jsonschema's ``is_valid``, and refuses what it can't mirror.

The property test draws valid records of every kind from the schema-driven strategies
(through the models and the converter, as mectk produces them), then mutates some of them
in the ways spreadsheet data goes wrong, and compares the fast answer with
``validator(kind).is_valid``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mectk.converter import make_converter
from mectk.fast_check import (
    UnsupportedSchemaError,
    compile_validity,
    fast_validity,
    generated_source,
)
from mectk.schemas import RECORD_KINDS, StrictValidator, validator
from tests.strategies import records

CONVERTER = make_converter()
Path = tuple[str | int, ...]

WRONG_TYPES: tuple[Any, ...] = (
    None,
    True,
    False,
    0,
    7,
    -1,
    3.0,
    2.5,
    Decimal("1.5"),
    Decimal("3"),
    "",
    "text",
    "7",
    [],
    ["a"],
    [1, 1],
    {},
    {"a": 1},
)
LENGTHS = (0, 1, 8, 9, 64, 65, 100, 101, 200, 201, 254, 255, 300, 301, 2000, 2001)
DATES = ("2025-02-30", "2024-02-29", "2025-2-3", "2025-13-01", "2025-04-01T10:00:00", "01/04/2025")
NUMBERS = (
    Decimal("0.001"),
    Decimal("18.505"),
    Decimal("18.50"),
    Decimal("-0.01"),
    Decimal("1E+3"),
    Decimal("1000000000.01"),
    Decimal("1E+40"),
    0.1,
    18.5,
    1001,
    -1,
)
CODES = ("not_a_code", "Sole trader", "TRADING", "")


# --------------------------------------------------------------------------- mutations


def _walk(node: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, (*path, index))


def _get(record: Any, path: Path) -> Any:
    for part in path:
        record = record[part]
    return record


def _set(record: Any, path: Path, value: Any) -> None:
    _get(record, path[:-1])[path[-1]] = value


def _pick(draw: st.DrawFn, record: Any, want: type | tuple[type, ...]) -> Path | None:
    paths = [p for p, v in _walk(record) if p and isinstance(v, want)]
    return draw(st.sampled_from(paths)) if paths else None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _drop_key(draw: st.DrawFn, record: dict[str, Any], kind: str) -> None:
    holders = [p for p, v in _walk(record) if isinstance(v, dict) and v]
    holder = _get(record, draw(st.sampled_from(holders)))
    del holder[draw(st.sampled_from(sorted(holder)))]


def _add_key(draw: st.DrawFn, record: dict[str, Any], kind: str) -> None:
    holders = [p for p, v in _walk(record) if isinstance(v, dict)]
    holder = _get(record, draw(st.sampled_from(holders)))
    holder[draw(st.sampled_from(("unknown_field", "Enterprise ID", "notes ")))] = "x"


def _wrong_type(draw: st.DrawFn, record: dict[str, Any], kind: str) -> None:
    path = _pick(draw, record, object)
    if path is not None:
        _set(record, path, copy.deepcopy(draw(st.sampled_from(WRONG_TYPES))))


def _resize_text(draw: st.DrawFn, record: dict[str, Any], kind: str) -> None:
    path = _pick(draw, record, str)
    if path is not None:
        value = _get(record, path) or "x"
        size = draw(st.sampled_from(LENGTHS))
        _set(record, path, (value * (size // len(value) + 1))[:size])


def _bad_date(draw: st.DrawFn, record: dict[str, Any], kind: str) -> None:
    path = _pick(draw, record, str)
    if path is not None:
        _set(record, path, draw(st.sampled_from(DATES)))


def _trailing_newline(draw: st.DrawFn, record: dict[str, Any], kind: str) -> None:
    path = _pick(draw, record, str)
    if path is not None:
        _set(record, path, _get(record, path) + draw(st.sampled_from(("\n", " ", "\r\n"))))


def _odd_number(draw: st.DrawFn, record: dict[str, Any], kind: str) -> None:
    paths = [p for p, v in _walk(record) if p and _is_number(v)]
    if paths:
        path = draw(st.sampled_from(paths))
        value = _get(record, path)
        choice = draw(st.sampled_from((*NUMBERS, "plus-thousandth", "as-float")))
        if choice == "plus-thousandth":
            choice = Decimal(str(value)) + Decimal("0.001")
        elif choice == "as-float":
            choice = float(value)
        _set(record, path, choice)


def _bad_code(draw: st.DrawFn, record: dict[str, Any], kind: str) -> None:
    path = _pick(draw, record, str)
    if path is not None:
        _set(record, path, draw(st.sampled_from(CODES)))


def _break_rule(draw: st.DrawFn, record: dict[str, Any], kind: str) -> None:
    """Make an ``if`` of the kind's ``allOf`` hold and its ``then`` fail."""
    rules = [r for r in validator(kind).schema.get("allOf", ()) if "if" in r and "then" in r]
    if not rules:
        return _drop_key(draw, record, kind)
    rule = draw(st.sampled_from(rules))
    for name, cond in rule["if"].get("properties", {}).items():
        record[name] = cond["const"] if "const" in cond else draw(st.sampled_from(cond["enum"]))
    then = rule["then"]
    for name in then.get("required", ()):
        if draw(st.booleans()):
            record.pop(name, None)
    for name, sub in then.get("properties", {}).items():
        if "minItems" in sub and draw(st.booleans()):
            record[name] = []
    return None


MUTATIONS = (
    _drop_key,
    _add_key,
    _wrong_type,
    _resize_text,
    _bad_date,
    _trailing_newline,
    _odd_number,
    _bad_code,
    _break_rule,
)


@st.composite
def mutated(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    """A valid record of ``kind`` as mectk produces it, then 0 to 3 mutations of it."""
    # A copy: mutations must not reach objects the strategies or the model share.
    record: dict[str, Any] = copy.deepcopy(CONVERTER.unstructure(draw(records(kind))))
    count = draw(st.integers(0, 3))
    for mutation in draw(st.lists(st.sampled_from(MUTATIONS), min_size=count, max_size=count)):
        mutation(draw, record, kind)
    return record


def agree(kind: str, record: Any) -> bool:
    """Assert the fast answer is jsonschema's (False where jsonschema raises); return it."""
    try:
        expected: bool = validator(kind).is_valid(record)
    except (ArithmeticError, TypeError, ValueError):
        expected = False  # the slow path raises just as before
    answer = fast_validity(kind)(record)
    assert answer is expected, f"{kind}: fast {answer}, jsonschema {expected} for {record!r}"
    return answer


# --------------------------------------------------------------------------- properties


@pytest.mark.parametrize("kind", sorted(RECORD_KINDS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fast_validity_agrees_with_jsonschema(kind: str, data: st.DataObject) -> None:
    record = data.draw(mutated(kind))
    agree(kind, record)


@pytest.mark.parametrize("kind", sorted(RECORD_KINDS))
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_generated_records_are_valid(kind: str, data: st.DataObject) -> None:
    record = CONVERTER.unstructure(data.draw(records(kind)))
    assert agree(kind, record)


# --------------------------------------------------------------------------- examples

ENTERPRISE: dict[str, Any] = {
    "enterprise_id": "B-000001",
    "programme_id": "BENCH",
    "trading_name": "Bench 1",
    "legal_form": "sole_trader",
    "independent": True,
    "status": "trading",
    "status_date": "2025-04-01",
    "origin": "established",
    "first_contact_date": "2025-01-02",
    "services": ["home_help_domestic"],
    "cqc_status": "unknown",
    "locality_id": "L1",
    "base_postcode": "WR5 2NP",
    "paid_workers": 2,
    "price_amount_gbp": Decimal("18.50"),
    "lead_email": "b1@example.org",
}


def with_(**changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(ENTERPRISE)
    for key, value in changes.items():
        if value is ...:
            out.pop(key, None)
        else:
            out[key] = value
    return out


@pytest.mark.parametrize(
    ("record", "valid"),
    [
        (with_(), True),
        (with_(price_amount_gbp=Decimal("18.505")), False),
        (with_(price_amount_gbp=Decimal("18.500")), True),
        (with_(price_amount_gbp=1850), True),
        (with_(price_amount_gbp=Decimal("-0.01")), False),
        (with_(price_amount_gbp=Decimal("1E+40")), False),  # jsonschema raises InvalidOperation
        (with_(price_amount_gbp=True), False),
        (with_(paid_workers=3.0), True),  # jsonschema: an integral float is an integer
        (with_(paid_workers=Decimal("3")), False),  # but a Decimal is not
        (with_(paid_workers=True), False),
        (with_(status_date="2025-02-30"), False),
        (with_(status_date="2024-02-29"), True),
        (with_(status_date="2025-04-01\n"), False),
        (with_(base_postcode="WR5 2NP\n"), False),
        (with_(enterprise_id="B-000001\n"), False),
        (with_(trading_name="x" * 200), True),
        (with_(trading_name="x" * 201), False),
        (with_(trading_name=""), False),
        (with_(legal_form="Sole trader"), False),
        (with_(legal_form="sole_trader\n"), False),
        (with_(services=["home_help_domestic", "home_help_domestic"]), False),
        (with_(services=[]), False),  # status trading: then minItems 1
        (with_(services=...), False),  # status trading: then required
        (with_(status="enquiry", services=[]), True),
        (with_(status="closed", services=...), False),  # closure_date required
        (with_(status="closed", services=..., closure_date="2025-05-01"), True),
        (with_(cqc_status="registered"), False),
        (with_(cqc_status="registered", cqc_provider_id="1-123456789"), True),
        (with_(origin="new"), False),  # trading and new: launch_date required
        (with_(origin="new", launch_date="2024-01-01"), True),
        (with_(unknown_field="x"), False),
        (with_(enterprise_id=...), False),
        (with_(independent="yes"), False),
        (with_(independent=1), False),
    ],
)
def test_enterprise_examples(record: dict[str, Any], valid: bool) -> None:
    assert agree("enterprise", record) is valid


@pytest.mark.parametrize("record", [None, [], "x", 1, ENTERPRISE.items()])
def test_non_objects_are_invalid(record: Any) -> None:
    assert agree("enterprise", record) is False


# --------------------------------------------------------------------------- the generator

CENT = Decimal("0.01")
HUGE = Decimal("1E+40")  # HUGE % CENT raises InvalidOperation
SMALL_SCHEMAS: list[tuple[dict[str, Any] | bool, list[Any]]] = [
    ({"type": ["string", "null"], "maxLength": 2}, [None, "ab", "abc", 1, True]),
    ({"type": "integer"}, [1, 1.0, 1.5, True, Decimal("1"), 2**70, "1"]),
    ({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}, [0, 0.5, 1, Decimal("0.5")]),
    ({"multipleOf": 0.1}, [0.3, 0.35, 3, Decimal("0.3"), 1e308, "x"]),
    ({"multipleOf": 3}, [9, 10, 9.0, Decimal("9"), True]),
    ({"enum": [1, "a", None, [1]]}, [1, 1.0, True, "a", None, [1], [True], Decimal("1")]),
    ({"enum": ["a", "b"]}, ["a", "c", 1, None, ["a"]]),
    ({"const": False}, [False, 0, None]),
    ({"const": "x"}, ["x", "y", 0]),
    ({"uniqueItems": True}, [[1, 2], [1, 1], [1, True], [[1], [True]], [{"a": 1}, {"a": 1}], "x"]),
    ({"uniqueItems": False}, [[1, 1]]),
    ({"type": "array", "items": {"type": "string"}, "uniqueItems": True}, [["a", "a"], ["a", 1]]),
    ({"items": False}, [[], [1], "x"]),
    ({"items": True, "minItems": 1, "maxItems": 2}, [[], [1], [1, 2, 3], {}]),
    ({"properties": {"a": False}}, [{}, {"a": 1}, [1]]),
    (
        {"properties": {"a": True}, "additionalProperties": {"type": "string"}},
        [{"a": 1, "b": "x"}, {"b": 2}],
    ),
    ({"additionalProperties": {}}, [{"a": 1}]),
    ({"required": ["a", "b", "c", "d"]}, [{"a": 1, "b": 1, "c": 1, "d": 1}, {"a": 1}, [], "a"]),
    ({"if": {"const": 1}, "else": {"type": "string"}}, [1, "x", 2]),
    ({"if": {"const": 1}, "then": False, "else": {"type": "string"}}, [1, "x", 2]),
    ({"then": False}, [1]),  # no "if": jsonschema ignores "then"
    # An "if" is decided by jsonschema's is_valid, which stops at the first error: whichever
    # of a failing and a raising check comes first decides between False and an exception.
    ({"if": {"multipleOf": CENT, "type": "string"}, "then": False}, [HUGE, "a", 1]),
    ({"if": {"type": "string", "multipleOf": CENT}, "then": False}, [HUGE, "a", 1]),
    ({"if": {"maximum": 0, "multipleOf": CENT}, "then": False}, [HUGE, -1, 1]),
    ({"if": {"multipleOf": CENT, "maximum": 0}, "then": False}, [HUGE, -1, 1]),
    (
        {"if": {"properties": {"a": {"multipleOf": CENT}}, "required": ["b"]}, "then": False},
        [{"a": HUGE}, {"a": 1}, {"a": 1, "b": 1}, {"a": HUGE, "b": 1}, {}],
    ),
    (
        {"if": {"required": ["b"], "properties": {"a": {"multipleOf": CENT}}}, "then": False},
        [{"a": HUGE}, {"a": 1}, {"a": 1, "b": 1}, {"a": HUGE, "b": 1}, {}],
    ),
    (
        {"if": {"additionalProperties": False, "properties": {"a": {"minimum": 0}}}, "else": False},
        [{"a": 1}, {"a": 1, "b": 2}, {"a": -1}, {"a": "x"}, {}],
    ),
    ({"if": {"uniqueItems": True, "items": {"type": "string"}}, "then": False}, [[1, 1], ["a"]]),
    ({"if": {"items": {"type": "string"}, "uniqueItems": True}, "then": False}, [[1, 1], ["a"]]),
    (
        {
            "if": {"properties": {"a": True}, "additionalProperties": {"type": "string"}},
            "then": False,
        },
        [{"a": 1, "b": "x"}, {"b": 2}, {"b": HUGE}],
    ),
    ({"if": {"format": "date", "minLength": 20}, "then": False}, ["2025-02-30", "x" * 20]),
    ({"if": {"allOf": [{"maximum": 0}, {"multipleOf": CENT}]}, "else": False}, [HUGE, -1]),
    ({"if": {"allOf": [{"multipleOf": CENT}, {"maximum": 0}]}, "else": False}, [HUGE, -1]),
    ({"properties": {"p": {"multipleOf": CENT}}, "required": ["q"]}, [{"p": HUGE}, {"q": 1}]),
    ({"allOf": [True, {"minimum": 2}]}, [1, 2, "x"]),
    ({"format": "date"}, ["2025-02-30", "2025-02-28", "2025-02-28\n", 7]),
    ({"format": "date-time"}, ["2025-04-01T10:30:00+01:00", "2025-04-01 10:30", 7]),
    ({"format": "email"}, ["a@b", "ab"]),
    ({"format": "no-such-format"}, ["anything"]),
    ({"pattern": "^a$"}, ["a", "a\n", "ba", 1]),
    ({"title": "annotations only", "x-hint": "ignored", "$comment": "ignored"}, [1]),
    (True, [1]),
    (False, [1]),
]


@pytest.mark.parametrize(("schema", "instances"), SMALL_SCHEMAS)
def test_small_schemas_agree(schema: Any, instances: list[Any]) -> None:
    target = StrictValidator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    check = compile_validity(target)
    for instance in instances:
        try:
            expected = target.is_valid(instance)
        except (ArithmeticError, TypeError, ValueError):
            expected = False
        assert check(instance) is expected, (schema, instance)


def test_plain_draft_2020_12_validator_keeps_python_anchors() -> None:
    plain = jsonschema.Draft202012Validator({"pattern": "^a$"})
    assert compile_validity(plain)("a\n") is plain.is_valid("a\n") is True


def test_no_format_checker_means_formats_are_not_checked() -> None:
    plain = jsonschema.Draft202012Validator({"format": "date"})
    assert compile_validity(plain)("2025-02-30") is True


@pytest.mark.parametrize(
    "schema",
    [
        {"$ref": "#/$defs/x", "$defs": {"x": {}}},
        {"oneOf": [{}]},
        {"anyOf": [{}]},
        {"not": {}},
        {"prefixItems": [{}]},
        {"items": {}, "prefixItems": [{}]},
        {"patternProperties": {"^a": {}}},
        {"properties": {"a": {}}, "patternProperties": {"^a": {}}},
        {"unevaluatedProperties": False},
        {"contains": {}},
        {"dependentRequired": {"a": ["b"]}},
        {"propertyNames": {"maxLength": 3}},
        {"minProperties": 1},
        {"type": "decimal"},
        {"properties": {"a": {"allOf": [{"$dynamicRef": "#x"}]}}},
        {"allOf": ["not a schema"]},
    ],
)
def test_unsupported_keywords_raise_when_building(schema: dict[str, Any]) -> None:
    with pytest.raises(UnsupportedSchemaError):
        compile_validity(jsonschema.Draft202012Validator(schema))


def test_an_overridden_keyword_raises_when_building() -> None:
    def minimum(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[Any]:
        yield from ()

    custom = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"minimum": minimum})
    with pytest.raises(UnsupportedSchemaError, match="overrides 'minimum'"):
        compile_validity(custom({"minimum": 1}))
    assert compile_validity(custom({"maximum": 1}))(2) is False  # others still fine


def test_a_custom_type_checker_raises_when_building() -> None:
    checker = jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
        "number", lambda _, value: isinstance(value, int | float | Decimal | Fraction)
    )
    custom = jsonschema.validators.extend(jsonschema.Draft202012Validator, type_checker=checker)
    with pytest.raises(UnsupportedSchemaError, match="type checker"):
        compile_validity(custom({"type": "number"}))


@pytest.mark.parametrize("kind", sorted(RECORD_KINDS))
def test_every_kind_builds_cached_and_readable(kind: str) -> None:
    assert fast_validity(kind) is fast_validity(kind)
    source = generated_source(kind)
    compile(source, kind, "exec")
    assert "def _n" in source
