"""The attrs models mirror the schemas one to one, and the converter is strict and lossless."""

from __future__ import annotations

import copy
import datetime
import inspect
import typing
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs
import jsonschema
import pytest
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mectk import models, schemas
from mectk.converter import make_converter
from mectk.models import MODELS
from mectk.schemas import RECORD_KINDS, SCHEMA_BASE, load_schema, validator
from tests.strategies import (
    CONVERTER,
    record_data,
    records,
    reference_registry,
    reference_validator,
    resolve,
)

# Every model class and the (schema file, JSON pointer) of the (sub)schema it mirrors.
MODEL_SCHEMAS: dict[type, tuple[str, str]] = {
    models.Council: ("programme", "/properties/council"),
    models.Locality: ("programme", "/$defs/locality"),
    models.Coordinator: ("programme", "/$defs/coordinator"),
    models.Target: ("programme", "/$defs/target"),
    models.Programme: ("programme", ""),
    models.Enterprise: ("enterprise", ""),
    models.SupportEpisode: ("support-episode", ""),
    models.SupportEvent: ("support-event", ""),
    models.Outcome: ("outcome", ""),
    models.SpendLine: ("spend-line", ""),
    models.Producer: ("manifest", "/properties/mectk/properties/producer"),
    models.ManifestMectk: ("manifest", "/properties/mectk"),
    models.SchemaFile: ("manifest", "/properties/mectk/properties/schema_files/items"),
    models.Resource: ("manifest", "/properties/resources/items"),
    models.Manifest: ("manifest", ""),
}
BY_SCHEMA = {where: cls for cls, where in MODEL_SCHEMAS.items()}

MANIFEST: dict[str, Any] = {
    "profile": "data-package",
    "name": "wcc-mep-2025-26",
    "title": "Worcestershire micro-enterprise programme 2025-26",
    "created": "2025-04-01T10:30:00+01:00",
    "resources": [
        {
            "name": "enterprise",
            "path": "data/enterprise.csv",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "schema": "schemas/enterprise.table.json",
            "hash": "sha256:" + "0123456789abcdef" * 4,
            "bytes": 2048,
            "rows": 12,
        }
    ],
    "mectk": {
        "mectk_version": "0.1.0",
        "schema_version": "1.0.0",
        "producer": {"name": "Community Catalysts CIC", "org_id": "GB-COH-08123456"},
        "period": "2025-26",
        "source_batches": ["batch-1"],
        "personal_fields_included": ["enterprise.trading_name"],
        "schema_files": [{"path": "schemas/enterprise.table.json", "hash": "sha256:" + "ab" * 32}],
    },
}

SPEND_LINE: dict[str, Any] = {
    "spend_id": "S1",
    "programme_id": "WCC-MEP",
    "council_id": "E10000034",
    "financial_year": "2025-26",
    "supplier_size": "micro",
    "spend_category": "home_care",
    "route": "direct",
    "amount_gbp": Decimal("12.50"),
}

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def subschema(schema_name: str, pointer: str) -> dict[str, Any]:
    node: Any = load_schema(schema_name)
    for part in pointer.strip("/").split("/") if pointer else ():
        node = node[part]
    return resolve(node, schema_name)


def manifest_validator() -> jsonschema.Draft202012Validator:
    cls = jsonschema.Draft202012Validator
    return cls(
        {"$ref": f"{SCHEMA_BASE}manifest.schema.json"},
        registry=reference_registry(),
        format_checker=cls.FORMAT_CHECKER,
    )


def model_classes() -> set[type]:
    """Every attrs class defined in mectk.models."""
    return {
        obj
        for _, obj in inspect.getmembers(models, inspect.isclass)
        if attrs.has(obj) and obj.__module__ == models.__name__
    }


def expected_type(schema_name: str, pointer: str, name: str, prop: Mapping[str, Any]) -> Any:
    """The Python type a model field must have for the resolved property ``prop``."""
    here = f"{pointer}/properties/{name}"
    if prop.get("type") == "object":
        return BY_SCHEMA[(schema_name, here)]
    if prop.get("type") == "array":
        items = prop["items"]
        ref = items.get("$ref", "")
        if ref.startswith("#"):
            item_type = BY_SCHEMA[(schema_name, ref.removeprefix("#"))]
        elif resolve(items, schema_name).get("type") == "object":
            item_type = BY_SCHEMA[(schema_name, f"{here}/items")]
        else:
            item_type = expected_type(schema_name, here, "-", resolve(items, schema_name))
        return tuple[item_type, ...]  # type: ignore[valid-type]
    scalar = {"integer": int, "number": Decimal, "boolean": bool}
    if prop.get("type") in scalar:
        return scalar[prop["type"]]
    assert prop.get("type") == "string", f"{schema_name}{here}: {prop}"
    return {"date": datetime.date, "date-time": datetime.datetime}.get(prop.get("format"), str)


def all_errors(kind: str, raw: Mapping[str, Any]) -> list[str]:
    return [e.message for e in validator(kind).iter_errors(raw)]


# --------------------------------------------------------------------------- one to one


def test_every_model_class_is_mapped_to_a_schema() -> None:
    assert model_classes() == set(MODEL_SCHEMAS)


@pytest.mark.parametrize("kind", RECORD_KINDS)
def test_record_kind_models_match_record_kind_schemas(kind: str) -> None:
    rk = RECORD_KINDS[kind]
    assert MODEL_SCHEMAS[MODELS[kind]] == (rk.schema_name, rk.pointer)


def test_models_cover_every_record_kind() -> None:
    assert set(MODELS) == set(RECORD_KINDS)


@pytest.mark.parametrize("cls", list(MODEL_SCHEMAS), ids=lambda c: c.__name__)
def test_model_fields_match_schema_properties(cls: type) -> None:
    schema_name, pointer = MODEL_SCHEMAS[cls]
    schema = subschema(schema_name, pointer)
    props = schema["properties"]
    required = set(schema.get("required", ()))
    attr_fields = {f.name: f for f in attrs.fields(cls)}
    assert set(props) - set(attr_fields) == set(), "schema properties without a field"
    assert set(attr_fields) - set(props) == set(), "fields without a schema property"
    assert list(attr_fields) == list(props), "field order differs from the schema"
    assert required <= set(props), "required names a property that does not exist"
    assert schema.get("additionalProperties") is False
    hints = typing.get_type_hints(cls)
    for name, field in attr_fields.items():
        if name in required:
            assert field.default is attrs.NOTHING, f"{cls.__name__}.{name} is required"
        else:
            assert field.default is None, f"{cls.__name__}.{name} is optional: default None"
        want = expected_type(schema_name, pointer, name, resolve(props[name], schema_name))
        if name not in required:
            want = want | None
        assert hints[name] == want, f"{cls.__name__}.{name}: {hints[name]} != {want}"


# --------------------------------------------------------------------------- frozen


def attrs_instances(obj: Any) -> list[Any]:
    """``obj`` and every attrs instance nested in it (fields and tuples of models)."""
    if isinstance(obj, tuple):
        return [found for item in obj for found in attrs_instances(item)]
    if not attrs.has(type(obj)):
        return []
    out = [obj]
    for field in attrs.fields(type(obj)):
        out.extend(attrs_instances(getattr(obj, field.name)))
    return out


def assert_frozen(obj: Any) -> None:
    for field in attrs.fields(type(obj)):
        before = getattr(obj, field.name)
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            setattr(obj, field.name, None)
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            delattr(obj, field.name)
        assert getattr(obj, field.name) is before
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        obj.not_a_field = 1
    assert hash(obj) == hash(copy.deepcopy(obj))


def test_frozen_tests_reach_every_model() -> None:
    """Record kinds, the programme's council and the manifest classes are every model."""
    manifest_classes = {type(o) for o in attrs_instances(manifest_model())}
    assert set(MODELS.values()) | {models.Council} | manifest_classes == model_classes()


def manifest_model() -> models.Manifest:
    manifest: models.Manifest = CONVERTER.structure(MANIFEST, models.Manifest)
    return manifest


def test_manifest_models_are_frozen() -> None:
    found = attrs_instances(manifest_model())
    assert {type(o) for o in found} == {
        models.Manifest,
        models.Resource,
        models.ManifestMectk,
        models.Producer,
        models.SchemaFile,
    }
    for obj in found:
        assert_frozen(obj)


@pytest.mark.parametrize("kind", RECORD_KINDS)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_record_models_are_frozen(kind: str, data: st.DataObject) -> None:
    model = data.draw(records(kind))
    found = attrs_instances(model)
    assert type(found[0]) is MODELS[kind]
    if kind == "programme":
        assert models.Council in {type(o) for o in found}
    for obj in found:
        assert_frozen(obj)


# --------------------------------------------------------------------------- properties


@pytest.mark.parametrize("kind", RECORD_KINDS)
@FAST
@given(data=st.data())
def test_round_trip(kind: str, data: st.DataObject) -> None:
    model = data.draw(records(kind))
    raw = CONVERTER.unstructure(model)
    assert CONVERTER.structure(raw, MODELS[kind]) == model
    assert CONVERTER.structure(copy.deepcopy(raw), MODELS[kind]) == model


@pytest.mark.parametrize("kind", RECORD_KINDS)
@FAST
@given(data=st.data())
def test_generated_models_are_valid(kind: str, data: st.DataObject) -> None:
    model = data.draw(records(kind))
    raw = CONVERTER.unstructure(model)
    assert all_errors(kind, raw) == []
    assert [e.message for e in reference_validator(kind).iter_errors(raw)] == []


@pytest.mark.parametrize("kind", RECORD_KINDS)
@FAST
@given(data=st.data())
def test_unstructure_gives_back_the_json_form(kind: str, data: st.DataObject) -> None:
    """Dates as ISO text, lists as lists, absent optionals left out: the form we started from."""
    raw = data.draw(record_data(kind))
    model = CONVERTER.structure(raw, MODELS[kind])
    assert CONVERTER.unstructure(model) == raw
    assert None not in CONVERTER.unstructure(model).values()


@pytest.mark.parametrize("kind", RECORD_KINDS)
@FAST
@given(data=st.data())
def test_validator_catches_a_broken_required_field(kind: str, data: st.DataObject) -> None:
    """The property above is not vacuous: drop a required field and validation fails."""
    raw = data.draw(record_data(kind))
    name = data.draw(st.sampled_from(schemas.record_schema(kind)["required"]))
    del raw[name]
    assert f"{name!r} is a required property" in all_errors(kind, raw)


CONDITIONAL_RULES = [
    (kind, index)
    for kind in RECORD_KINDS
    for index, _ in enumerate(schemas.record_schema(kind).get("allOf", ()))
]


def test_there_are_conditional_rules_to_test() -> None:
    kinds = {kind for kind, _ in CONDITIONAL_RULES}
    assert {"enterprise", "support_episode", "outcome", "locality"} <= kinds


@pytest.mark.parametrize(("kind", "index"), CONDITIONAL_RULES)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_strategies_satisfy_each_conditional_rule(kind: str, index: int, data: st.DataObject):
    """Steer a record into each if/then rule: it stays valid, and the rule really fires."""
    rule = schemas.record_schema(kind)["allOf"][index]
    fixed = {}
    for name, condition in rule["if"].get("properties", {}).items():
        choices = condition["enum"] if "enum" in condition else [condition["const"]]
        fixed[name] = data.draw(st.sampled_from(choices))
    raw = data.draw(record_data(kind, fixed=fixed))
    assert jsonschema.Draft202012Validator(rule["if"]).is_valid(raw)
    for name, sub in rule["then"].get("properties", {}).items():
        assert len(raw[name]) >= sub.get("minItems", 0)
    assert all_errors(kind, raw) == []
    for name in rule["then"].get("required", ()):
        assert name in raw
        broken = {k: v for k, v in raw.items() if k != name}
        assert f"{name!r} is a required property" in all_errors(kind, broken)
    assert CONVERTER.unstructure(CONVERTER.structure(raw, MODELS[kind])) == raw


# --------------------------------------------------------------------------- the converter


def _causes(exc: BaseException) -> list[BaseException]:
    """Every leaf exception inside (nested) exception groups."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for sub in exc.exceptions for leaf in _causes(sub)]
    return [exc]


def test_converter_refuses_extra_keys() -> None:
    with pytest.raises(ClassValidationError) as info:
        CONVERTER.structure({**SPEND_LINE, "surplus": 1}, models.SpendLine)
    leaves = _causes(info.value)
    extra = [e for e in leaves if isinstance(e, ForbiddenExtraKeysError)]
    assert len(extra) == 1
    assert extra[0].extra_fields == {"surplus"}
    assert extra[0].cl is models.SpendLine


def test_converter_refuses_extra_keys_in_nested_models() -> None:
    manifest = copy.deepcopy(MANIFEST)
    manifest["mectk"]["producer"]["surplus"] = "x"
    with pytest.raises(ClassValidationError) as info:
        CONVERTER.structure(manifest, models.Manifest)
    extra = [e for e in _causes(info.value) if isinstance(e, ForbiddenExtraKeysError)]
    assert [e.cl for e in extra] == [models.Producer]


def test_converter_can_ignore_extra_keys_when_asked() -> None:
    lenient = make_converter(forbid_extra_keys=False)
    line = lenient.structure({**SPEND_LINE, "surplus": 1}, models.SpendLine)
    assert line == CONVERTER.structure(SPEND_LINE, models.SpendLine)


def test_converter_parses_iso_dates() -> None:
    target = {
        "coordinator_id": "CC-JG",
        "display_name": "Jo Green",
        "role": "catalyst_coordinator",
        "employer": "Community Catalysts CIC",
        "start_date": "2025-04-01",
        "end_date": "2026-03-31",
    }
    coordinator = CONVERTER.structure(target, models.Coordinator)
    assert coordinator.start_date == datetime.date(2025, 4, 1)
    assert type(coordinator.start_date) is datetime.date
    assert coordinator.end_date == datetime.date(2026, 3, 31)
    raw = CONVERTER.unstructure(coordinator)
    assert raw["start_date"] == "2025-04-01"
    assert raw["end_date"] == "2026-03-31"
    assert "fte" not in raw, "absent optionals are left out, not null"
    assert (
        CONVERTER.structure({**target, "start_date": datetime.date(2025, 4, 1)}, models.Coordinator)
        == coordinator
    )
    for bad in ("2025-02-30", "01/04/2025", "", 20250401, datetime.datetime(2025, 4, 1, 9, 0)):
        with pytest.raises(ClassValidationError):
            CONVERTER.structure({**target, "start_date": bad}, models.Coordinator)


def test_converter_parses_iso_datetimes() -> None:
    manifest = CONVERTER.structure(MANIFEST, models.Manifest)
    assert manifest.created == datetime.datetime(
        2025, 4, 1, 10, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=1))
    )
    raw = CONVERTER.unstructure(manifest)
    assert raw == MANIFEST
    assert list(manifest_validator().iter_errors(raw)) == []
    assert CONVERTER.structure(raw, models.Manifest) == manifest


def test_manifest_validator_is_not_vacuous() -> None:
    bad = copy.deepcopy(MANIFEST)
    bad["resources"][0]["hash"] = "md5:abc"
    assert not manifest_validator().is_valid(bad)


def test_converter_keeps_money_as_decimal() -> None:
    line = CONVERTER.structure(SPEND_LINE, models.SpendLine)
    assert type(line.amount_gbp) is Decimal
    assert line.amount_gbp == Decimal("12.50")
    raw = CONVERTER.unstructure(line)
    assert type(raw["amount_gbp"]) is Decimal
    assert str(raw["amount_gbp"]) == "12.50"
    assert all_errors("spend_line", raw) == []
    again = CONVERTER.structure(raw, models.SpendLine)
    assert str(again.amount_gbp) == "12.50"
    assert again == line
    from_text = CONVERTER.structure({**SPEND_LINE, "amount_gbp": "12.50"}, models.SpendLine)
    assert str(from_text.amount_gbp) == "12.50"
    from_float = CONVERTER.structure({**SPEND_LINE, "amount_gbp": 0.1}, models.SpendLine)
    assert from_float.amount_gbp == Decimal("0.1"), "floats go through repr, not binary"
    from_int = CONVERTER.structure({**SPEND_LINE, "amount_gbp": 12}, models.SpendLine)
    assert from_int.amount_gbp == Decimal(12)
    for bad in (True, "twelve", None, [12]):
        with pytest.raises(ClassValidationError):
            CONVERTER.structure({**SPEND_LINE, "amount_gbp": bad}, models.SpendLine)


def test_converter_is_strict_about_ints() -> None:
    assert CONVERTER.structure({**SPEND_LINE, "quarter": 3}, models.SpendLine).quarter == 3
    for bad in ("3", 3.0, True, Decimal(3)):
        with pytest.raises(ClassValidationError) as info:
            CONVERTER.structure({**SPEND_LINE, "quarter": bad}, models.SpendLine)
        assert any(isinstance(e, TypeError) for e in _causes(info.value)), bad


def test_converter_is_strict_about_text_and_booleans() -> None:
    with pytest.raises(ClassValidationError):
        CONVERTER.structure({**SPEND_LINE, "spend_id": 1}, models.SpendLine)
    assert CONVERTER.structure({**SPEND_LINE, "is_vcse": False}, models.SpendLine).is_vcse is False
    for bad in ("yes", 1, "true"):
        with pytest.raises(ClassValidationError):
            CONVERTER.structure({**SPEND_LINE, "is_vcse": bad}, models.SpendLine)


def test_converter_refuses_missing_required_fields() -> None:
    raw = dict(SPEND_LINE)
    del raw["amount_gbp"]
    with pytest.raises(ClassValidationError):
        CONVERTER.structure(raw, models.SpendLine)
