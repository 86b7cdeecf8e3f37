"""The one cattrs converter that turns JSON-ready dicts into models and back.

Unstructured form is what the JSON Schemas validate: dates as ISO strings, money and
other decimals as :class:`~decimal.Decimal` (a JSON number), lists as lists, and
absent optional fields left out rather than ``null``.
"""

from __future__ import annotations

import datetime
import re
import types
import typing
from decimal import Decimal, InvalidOperation
from typing import Any

import cattrs

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})")


def _structure_date(value: Any, _: type) -> datetime.date:
    if isinstance(value, datetime.datetime):
        msg = f"expected a date, got a date and time: {value!r}"
        raise TypeError(msg)
    if isinstance(value, datetime.date):
        return value
    if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
        msg = f"expected a date as YYYY-MM-DD, got {value!r}"
        raise ValueError(msg)
    return datetime.date.fromisoformat(value)


def _structure_datetime(value: Any, _: type) -> datetime.datetime:
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value
    if not isinstance(value, str) or not ISO_DATETIME.fullmatch(value):
        msg = f"expected an ISO 8601 date and time with its offset, got {value!r}"
        raise ValueError(msg)
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _structure_decimal(value: Any, _: type) -> Decimal:
    if isinstance(value, bool):
        msg = f"expected a number, got {value!r}"
        raise TypeError(msg)
    if isinstance(value, float):
        value = repr(value)
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError) as exc:
        msg = f"expected a number, got {value!r}"
        raise ValueError(msg) from exc


def _structure_int(value: Any, _: type) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"expected a whole number, got {value!r}"
        raise TypeError(msg)
    return value


def _structure_str(value: Any, _: type) -> str:
    if not isinstance(value, str):
        msg = f"expected text, got {value!r}"
        raise TypeError(msg)
    return value


def _structure_bool(value: Any, _: type) -> bool:
    if not isinstance(value, bool):
        msg = f"expected true or false, got {value!r}"
        raise TypeError(msg)
    return value


def make_converter(*, forbid_extra_keys: bool = True) -> cattrs.Converter:
    """Build the converter. ``forbid_extra_keys`` refuses unknown keys (exchange input).

    Structuring is strict: ``"3"`` is not an int and ``3.5`` is not a date. Coercion of
    spreadsheet cells happens before, in validation, where it can be reported per cell.
    """
    conv = cattrs.Converter(omit_if_default=True, forbid_extra_keys=forbid_extra_keys)
    conv.register_structure_hook(datetime.date, _structure_date)
    conv.register_unstructure_hook(datetime.date, datetime.date.isoformat)
    conv.register_structure_hook(datetime.datetime, _structure_datetime)
    conv.register_unstructure_hook(datetime.datetime, datetime.datetime.isoformat)
    conv.register_structure_hook(Decimal, _structure_decimal)
    conv.register_unstructure_hook(Decimal, lambda d: d)
    conv.register_structure_hook(int, _structure_int)
    conv.register_structure_hook(str, _structure_str)
    conv.register_structure_hook(bool, _structure_bool)
    return conv


def _optional_inner(type_: Any) -> Any | None:
    """``X`` for ``X | None`` (or ``Optional[X]``), else None."""
    if typing.get_origin(type_) not in (typing.Union, types.UnionType):
        return None
    args = typing.get_args(type_)
    if len(args) != 2 or type(None) not in args:
        return None
    return args[0] if args[1] is type(None) else args[1]


def _homogeneous_tuple_item(type_: Any) -> Any | None:
    """``X`` for ``tuple[X, ...]``, else None."""
    if typing.get_origin(type_) is not tuple:
        return None
    args = typing.get_args(type_)
    return args[0] if len(args) == 2 and args[1] is Ellipsis else None


def make_validated_converter() -> cattrs.Converter:
    """A converter for records already valid against their schema (validation's path).

    It structures exactly as :func:`make_converter` does, with the hook for each optional
    field and each ``tuple[X, ...]`` chosen once per model rather than on every value.
    Its errors for invalid input are less detailed, which valid records never meet.
    """
    conv = make_converter()

    def optional(type_: Any) -> Any:
        inner = _optional_inner(type_)
        hook = conv.get_structure_hook(inner)

        def structure(value: Any, _: Any) -> Any:
            return None if value is None else hook(value, inner)

        return structure

    def homogeneous(type_: Any) -> Any:
        item = _homogeneous_tuple_item(type_)
        hook = conv.get_structure_hook(item)

        def structure(value: Any, _: Any) -> tuple[Any, ...]:
            return tuple([hook(v, item) for v in value])

        return structure

    conv.register_structure_hook_factory(lambda t: _optional_inner(t) is not None, optional)
    conv.register_structure_hook_factory(
        lambda t: _homogeneous_tuple_item(t) is not None, homogeneous
    )
    return conv
