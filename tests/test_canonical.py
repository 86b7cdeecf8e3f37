"""The canonical workbook: records written with the template writer read back unchanged."""

from __future__ import annotations

from pathlib import Path

import attrs

from mectk.converter import make_converter
from mectk.models import MODELS
from mectk.pipeline import validate_files
from mectk.plugin_manager import build_registry, make_plugin_manager
from mectk.sample_data import sample_rows
from mectk.schemas import fields
from mectk.template import write_workbook


def clean_models():
    """The sample programme's records as models, minus the rows with planted mistakes."""
    converter = make_converter()
    models = {}
    for kind, rows in sample_rows().items():
        kept = []
        for row in rows:
            if kind == "programme":  # blank settings take their schema default on reading
                row = {**{f.name: f.default for f in fields(kind) if f.default is not None}, **row}
            nested: dict = {}
            for key, value in row.items():
                if "." in key:
                    parent, leaf = key.split(".")
                    nested.setdefault(parent, {})[leaf] = value
                else:
                    nested[key] = value
            try:
                data = converter.unstructure(converter.structure(_jsonish(nested), MODELS[kind]))
            except Exception:  # noqa: BLE001 - planted mistakes do not structure
                continue
            kept.append(converter.structure(data, MODELS[kind]))
        models[kind] = kept
    return models


def _jsonish(value):
    import datetime
    from decimal import Decimal

    if isinstance(value, dict):
        return {k: _jsonish(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonish(v) for v in value]
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def as_row(model) -> dict:
    row = {}
    for name, value in attrs.asdict(model, recurse=False).items():
        if value is None or name in ("source_system", "source_ref"):
            continue
        if attrs.has(type(value)):
            row.update({f"{name}.{k}": v for k, v in attrs.asdict(value).items() if v is not None})
        else:
            row[name] = value
    return row


def test_records_written_to_the_canonical_workbook_read_back_equal(tmp_path: Path):
    originals = clean_models()
    originals["enterprise"] = [
        e
        for e in originals["enterprise"]
        if e.base_postcode != "QA1 1AA"
        and e.services
        and all(
            s
            in {
                "home_help_domestic",
                "shopping_errands",
                "personal_care",
                "companionship_social",
                "trips_out_transport",
                "day_activities",
                "creative_arts_leisure",
                "meals_cooking",
                "gardening_home_maintenance",
            }
            for s in e.services
        )
    ]
    kept = {e.enterprise_id for e in originals["enterprise"]}
    for kind in ("support_episode", "outcome"):
        originals[kind] = [m for m in originals[kind] if m.enterprise_id in kept]
    rows = {kind: [as_row(m) for m in models] for kind, models in originals.items()}
    path = tmp_path / "round.xlsx"
    write_workbook(path, rows)
    result = validate_files(build_registry(make_plugin_manager(load_entrypoints=False)), [path])
    errors = [i for i in result.issues if i.severity == "error" and i.code != "id-duplicate"]
    assert errors == []
    read_back: dict[str, list] = {}
    for record in result.accepted_records:
        model = attrs.evolve(
            record.model,
            **{
                k: None
                for k in (
                    "source_system",
                    "source_ref",
                    "provides_personal_care",
                    "base_postcode_district",
                    "org_id",
                )
                if hasattr(record.model, k)
            },
        )
        read_back.setdefault(record.kind, []).append(model)
    for kind, models in originals.items():
        expected = [
            attrs.evolve(
                m,
                **{
                    k: None
                    for k in ("provides_personal_care", "base_postcode_district", "org_id")
                    if hasattr(m, k)
                },
            )
            for m in models
        ]
        if kind == "support_episode":
            expected = [m for m in expected if m.episode_id != "EP-0100"]
            got = [m for m in read_back.get(kind, []) if m.episode_id != "EP-0100"]
        else:
            got = read_back.get(kind, [])
        assert got, kind
        assert got == expected, kind
