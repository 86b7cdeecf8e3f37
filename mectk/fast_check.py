"""A fast yes/no answer to "is this record valid against ``validator(kind)``?".

:func:`fast_validity` compiles the record kind's inlined schema, the very dict that
:func:`mectk.schemas.validator` validates against, into one plain Python function, so
validation can call jsonschema's ``iter_errors`` (slow, but the source of every message)
only for the records that fail.

Exact agreement
    ``fast_validity(kind)(d)`` is True exactly when ``validator(kind).is_valid(d)`` is
    True. Where ``is_valid`` would raise (``Decimal("1E+40") % Decimal("0.01")`` raises
    ``InvalidOperation``) the predicate answers False, so the caller's slow path runs and
    behaves as it always did. Because only True must be exact, and a valid instance makes
    jsonschema evaluate every keyword without raising, the checks may run in any order and
    stop at the first failure; except inside an ``if``, which jsonschema decides with
    ``is_valid`` (stopping at its first error), so there the checks keep jsonschema's order
    and whichever of a failing and a raising check comes first decides. Each keyword
    mirrors jsonschema's own code: the type tests of its Draft 2020-12 type checker
    (``bool`` is not a number, ``Decimal`` is, ``3.0`` is an integer and ``Decimal("3")``
    is not; probed against the real checker at build time),
    ``multipleOf`` as ``instance % value`` on the Decimal the schema was loaded with,
    ``format`` through the validator's own format checker functions (so 2025-02-30 fails;
    an unknown format, or no checker, is not checked, as in jsonschema), ``pattern``
    through the ECMA end-of-text compilation of :class:`mectk.schemas.StrictValidator` (so
    a trailing new line fails), and ``enum``, ``const`` and ``uniqueItems`` with
    jsonschema's equality (``True`` is not ``1``). Strings, which are what mectk's enums,
    consts and unique arrays hold, take a fast path (a set lookup, ``==``, or a set's size
    once ``items`` has checked them all to be strings); any other instance is handed to a
    one-keyword jsonschema validator, so it is exact by construction.

Never silently weaker
    Building raises :class:`UnsupportedSchemaError` when the schema uses a keyword that the
    validator class implements and this module does not (``$ref``, ``oneOf``, ``not``,
    ``prefixItems``, ``patternProperties``...), an unknown ``type`` name, a validator class
    whose implementation of a supported keyword is not the one mirrored here (a new
    override in ``StrictValidator``), or a type checker other than Draft 2020-12's.
    Keywords with no validator function (``title``, ``x-hint``, ``$defs``, a ``then``
    without ``if``) are ignored by jsonschema, and so here.

How
    The schema becomes Python source (see :func:`generated_source`): a subschema made only
    of tests becomes one expression, inlined where it is used (the ``if``/``then`` rules of
    a record become one ``if`` statement each); a subschema that needs a loop becomes a
    function. jsonschema's per-keyword type guards are folded away where the node's own
    ``type`` (or its parent's, for ``allOf`` and ``if``) settles them. An object with
    ``additionalProperties: false`` is checked in one pass over the record's keys, one dict
    lookup and one call per key. No error objects and no paths are made.

Measured on this project's machine (2 cores, CPython 3.11.7, jsonschema 4.26), 10k valid
records per kind drawn by ``tests/strategies.py`` through the models and converter; best
of 3 runs:

===============  ===================  ===========  ======  ==================
kind             jsonschema is_valid  fast path    ratio   jsonschema-rs 0.61
===============  ===================  ===========  ======  ==================
programme        1.12 s               0.054 s      21x     0.022 s
locality         0.38 s               0.012 s      31x     0.003 s
coordinator      0.37 s               0.021 s      18x     0.006 s
target           0.31 s               0.014 s      22x     0.017 s
enterprise       2.21 s               0.086 s      26x     0.033 s
support_episode  1.00 s               0.032 s      31x     0.008 s
support_event    0.38 s               0.019 s      20x     0.005 s
outcome          0.93 s               0.029 s      32x     0.013 s
spend_line       0.53 s               0.022 s      24x     0.019 s
all nine         7.24 s               0.290 s      25x     0.127 s
===============  ===================  ===========  ======  ==================

One 19-field enterprise row as validation builds it: 5.4 us here, 168 us with jsonschema.
``bench/bench_validate.py`` prints the same comparison for its 10k enterprise rows with 1%
invalid (iter_errors 1.70 s, fast path 0.060 s, 28x).

Why not a library: jsonschema-rs (``validate_formats=True``, which it needs to check
dates at all) is 2 to 3 times faster still, but would be a new compiled dependency and does
not agree exactly: its ``\\d`` matches ASCII digits only (jsonschema, on Python ``re``,
matches any Unicode digit, which a text cell can hold), it takes ``Decimal("3")`` as an
integer, and it accepts ``Decimal("1E+40")`` against ``multipleOf`` where jsonschema
raises. fastjsonschema supports draft-07 at most, so the schemas would need converting
and its pattern, format and Decimal semantics re-checking, and the shared performance
notes measured it at 1.2 s per 100k records, slower than this (0.6 s per 100k enterprises).
"""

from __future__ import annotations

import functools
import itertools
import numbers
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

import jsonschema

from mectk.schemas import StrictValidator, ecma_pattern, validator

Predicate = Callable[[Any], bool]

_BASE = jsonschema.Draft202012Validator
_SUPPORTED = frozenset(
    {
        "type",
        "enum",
        "const",
        "pattern",
        "format",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "uniqueItems",
        "items",
        "properties",
        "required",
        "additionalProperties",
        "allOf",
        "if",
    }
)
# The test jsonschema's TypeChecker applies for each type name (Draft 2020-12).
_TYPE_TESTS = {
    "string": "isinstance($v, str)",
    "integer": (
        "((isinstance($v, int) and not isinstance($v, bool))"
        " or (isinstance($v, float) and $v.is_integer()))"
    ),
    "number": ("(type($v) in _NUMBERS or (isinstance($v, Number) and not isinstance($v, bool)))"),
    "boolean": "isinstance($v, bool)",
    "object": "isinstance($v, dict)",
    "array": "isinstance($v, list)",
    "null": "$v is None",
}
# Which instance type each keyword applies to (jsonschema skips the keyword otherwise).
_GUARDS = {
    "pattern": "string",
    "minLength": "string",
    "maxLength": "string",
    "minimum": "number",
    "maximum": "number",
    "exclusiveMinimum": "number",
    "exclusiveMaximum": "number",
    "multipleOf": "number",
    "minItems": "array",
    "maxItems": "array",
    "uniqueItems": "array",
    "items": "array",
    "properties": "object",
    "required": "object",
    "additionalProperties": "object",
}
# The types a value known to be of the key type also has: an integer is a number.
_IMPLIES = {"integer": frozenset({"integer", "number"})}
_NUMBERS = frozenset({int, float, Decimal})  # exactly these types are numbers, no ABC lookup
_FEW = 3  # up to this many required names are tested one by one, more as a set


class UnsupportedSchemaError(NotImplementedError):
    """The schema uses a construct that the fast check cannot mirror exactly."""


def _float_multiple_failed(instance: Any, dB: float) -> bool:  # noqa: N803 - jsonschema's name
    """jsonschema's ``multipleOf`` for a float ``multipleOf`` value, step for step."""
    quotient = instance / dB
    try:
        failed: bool = int(quotient) != quotient
    except OverflowError:
        failed = (Fraction(instance) / Fraction(dB)).denominator != 1
    return failed


Part = str | list[str]
"""A failure condition (an expression true when the instance fails), or statement lines
that ``return False`` when it fails; both name the instance ``$v``."""
V = "$v"


class _Generator:
    """Turns a schema into Python source: flat subschemas become expressions, others functions."""

    def __init__(self, target: jsonschema.protocols.Validator) -> None:
        cls = type(target)
        if cls.TYPE_CHECKER is not _BASE.TYPE_CHECKER:
            raise UnsupportedSchemaError(f"{cls.__name__} has its own type checker")
        _check_type_tests(target)
        self.cls = cls
        self.target = target
        self.functions: list[str] = []
        self.tables: list[str] = []  # property tables, defined after every function
        self.namespace: dict[str, Any] = {
            "Number": numbers.Number,
            "_float_multiple_failed": _float_multiple_failed,
            "_never": _never,
            "_NUMBERS": _NUMBERS,
        }
        self.counter = itertools.count()

    # ------------------------------------------------------------------ helpers

    def constant(self, value: Any, stem: str = "c") -> str:
        name = f"_{stem}{next(self.counter)}"
        self.namespace[name] = value
        return name

    def implementation(self, keyword: str) -> str:
        """Which mirrored implementation the validator class uses for ``keyword``."""
        impl = self.cls.VALIDATORS[keyword]
        if keyword == "pattern" and impl is StrictValidator.VALIDATORS["pattern"]:
            return "ecma"
        if impl is _BASE.VALIDATORS.get(keyword):
            return "standard"
        raise UnsupportedSchemaError(f"{self.cls.__name__} overrides {keyword!r}")

    def delegate(self, keyword: str, value: Any, siblings: Mapping[str, Any] | None = None) -> str:
        """A jsonschema validator for ``{keyword: value}`` alone, for rare instance types."""
        single = self.target.evolve(schema={**(siblings or {}), keyword: value})
        return self.constant(single.is_valid, "exact")

    def table(self, checks: Mapping[str, str]) -> str:
        """A module-level table from property name to the function that checks it."""
        name = f"_props{next(self.counter)}"
        names = {prop: self.constant(prop, "name") for prop in checks}
        pairs = ", ".join(f"{names[prop]}: {fn}" for prop, fn in checks.items())
        self.tables.append(f"{name} = {{{pairs}}}")
        return name

    # ------------------------------------------------------------------ schemas

    def function(self, schema: Any, ordered: bool, parts: list[Part] | None = None) -> str:
        """Generate a function for ``schema`` (whose ``parts`` may be known) and name it."""
        parts = self.parts(schema, frozenset(), ordered) if parts is None else parts
        name = f"_n{next(self.counter)}"
        conditions = [p for p in parts if isinstance(p, str)]
        if len(conditions) == len(parts):
            body = [f"return {_valid(conditions)}"]
        else:
            body = []
            for part in parts:
                body += [f"if {part}:", "    return False"] if isinstance(part, str) else part
            body.append("return True")
        lines = [f"def {name}(x):", *(f"    {line}" for line in body), ""]
        self.functions.append("\n".join(lines).replace(V, "x"))
        return name

    def valid(self, schema: Any, var: str, known: frozenset[str], ordered: bool) -> str:
        """An expression, true when ``var`` is valid against ``schema``; inlined when flat.

        ``known`` is the type the instance is already known to have (an ``allOf`` entry
        applies to an instance whose type its parent schema checked before it).
        """
        parts = self.parts(schema, known, ordered)
        conditions = [p for p in parts if isinstance(p, str)]
        if len(conditions) == len(parts):
            return _valid(conditions).replace(V, var)
        return f"{self.function(schema, ordered, parts)}({var})"  # called from here only

    def parts(self, schema: Any, known: frozenset[str], ordered: bool) -> list[Part]:
        """The failure conditions and statement blocks of ``schema``, in checking order.

        Outside ``if``, the order of the checks does not change the answer (see the module
        docstring), so the type comes first, required names before properties, and items
        before uniqueItems. An ``if`` is evaluated by jsonschema's ``is_valid``, which
        stops at the first error, so there (``ordered``) the checks keep jsonschema's order
        exactly: whichever of a failing and a raising check comes first decides.
        """
        if schema is True:
            return []
        if schema is False:
            return ["True"]
        if not isinstance(schema, dict):
            raise UnsupportedSchemaError(f"not a schema: {schema!r}")
        keywords = [k for k in schema if k in self.cls.VALIDATORS]
        for keyword in keywords:
            if keyword not in _SUPPORTED:
                raise UnsupportedSchemaError(f"keyword {keyword!r} is not supported")
            self.implementation(keyword)
        if "patternProperties" in schema:  # find_additional_properties would consult it
            raise UnsupportedSchemaError("keyword 'patternProperties' is not supported")
        if not ordered:
            keywords.sort(key=lambda k: (k != "type", k == "uniqueItems"))
        parts: list[Part] = []
        object_done = False
        for keyword in keywords:
            if keyword == "type":
                types = [schema["type"]] if isinstance(schema["type"], str) else schema["type"]
                if not types or any(t not in _TYPE_TESTS for t in types):
                    raise UnsupportedSchemaError(f"type {schema['type']!r}")
                parts.append(_not(" or ".join(_TYPE_TESTS[t] for t in types)))
                if len(types) == 1:  # checks after this one know the type
                    known = _IMPLIES.get(types[0], frozenset(types))
                continue
            guard = _GUARDS.get(keyword)
            if known and guard is not None and guard not in known:
                continue  # never applies to instances of the type already checked
            test = _TYPE_TESTS[guard] if guard is not None and not known else None
            if keyword in _OBJECT_KEYWORDS and not ordered:
                if not object_done:
                    object_done = True
                    parts.extend(self.object_parts(schema, test))
                continue
            for part in self.keyword_parts(keyword, schema, known, ordered):
                parts.append(f"{test} and ({part})" if test and isinstance(part, str) else part)
        return parts

    def keyword_parts(
        self, keyword: str, schema: Mapping[str, Any], known: frozenset[str], ordered: bool
    ) -> Iterator[Part]:
        """Failure conditions of one keyword, for an instance of its type (others pass)."""
        value = schema[keyword]
        if keyword == "pattern":
            if self.implementation("pattern") == "ecma":
                search = ecma_pattern(value).search
            else:
                search = re.compile(value).search
            yield f"{self.constant(search, 'search')}({V}) is None"
        elif keyword in {"minLength", "minItems"}:
            yield f"len({V}) < {self.constant(value)}"
        elif keyword in {"maxLength", "maxItems"}:
            yield f"len({V}) > {self.constant(value)}"
        elif keyword in _COMPARISONS:
            yield f"{V} {_COMPARISONS[keyword]} {self.constant(value)}"
        elif keyword == "multipleOf":
            if isinstance(value, float):
                yield f"_float_multiple_failed({V}, {self.constant(value)})"
            else:
                yield f"{V} % {self.constant(value)}"
        elif keyword == "uniqueItems":
            order = list(schema)
            strings_checked = _item_type(schema) == "string" and (
                not ordered or order.index("items") < order.index("uniqueItems")
            )
            if value and strings_checked:  # items checked before: all strings
                yield f"len(set({V})) != len({V})"
            elif value:
                yield f"not {self.delegate('uniqueItems', value)}({V})"
        elif keyword == "items":
            if "prefixItems" in schema:
                raise UnsupportedSchemaError("keyword 'prefixItems' is not supported")
            if value is False:
                yield f"len({V}) > 0"
            elif value is not True:
                yield f"not all(map({self.function(value, ordered)}, {V}))"
        elif keyword in {"enum", "const"}:
            exact = self.delegate(keyword, value)
            if keyword == "enum" and all(isinstance(v, str) for v in value):
                fast = f"{V} not in {self.constant(frozenset(value))}"
            elif keyword == "const" and isinstance(value, str):
                fast = f"{V} != {self.constant(value)}"
            else:
                yield f"not {exact}({V})"
                return
            # jsonschema's equal() compares a string instance with ==; others go to it.
            yield (
                fast
                if "string" in known
                else f"({fast}) if isinstance({V}, str) else not {exact}({V})"
            )
        elif keyword == "format":
            checker = self.target.format_checker
            if checker is not None and value in checker.checkers:  # else jsonschema skips it
                func, raises = checker.checkers[value]
                call = f"{self.constant(func, 'format')}({V})"
                if raises:  # FormatChecker.conforms: an exception it names means "no"
                    caught = self.constant(raises, "raises")
                    yield [
                        "try:",
                        f"    if not {call}:",
                        "        return False",
                        f"except {caught}:",
                        "    return False",
                    ]
                else:
                    yield f"not {call}"
        elif keyword == "allOf":
            for sub in value:
                yield _not(self.valid(sub, V, known, ordered))
        elif keyword == "if":
            condition = self.valid(value, V, known, ordered=True)
            if "then" in schema:
                then = self.valid(schema["then"], V, known, ordered)
                yield f"({condition}) and {_not(then)}"
            if "else" in schema:
                otherwise = self.valid(schema["else"], V, known, ordered)
                yield f"{_not(condition)} and {_not(otherwise)}"
        elif keyword in _OBJECT_KEYWORDS:  # ordered: each in its place, as jsonschema does
            yield from self.ordered_object_parts(keyword, schema)
        else:  # pragma: no cover - every supported keyword has a branch above
            raise UnsupportedSchemaError(f"keyword {keyword!r} is not supported")

    def object_parts(self, schema: Mapping[str, Any], test: str | None) -> Iterator[Part]:
        """``properties``, ``additionalProperties`` and ``required`` of one object schema."""
        properties: Mapping[str, Any] = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        when = f"{test} and " if test else ""
        if schema.get("required"):
            yield f"{when}({self.missing(schema['required'])})"
        if extra is True or (isinstance(extra, dict) and not extra):
            for prop, sub in properties.items():
                key = self.constant(prop, "name")
                item = f"{V}[{key}]"
                yield f"{when}{key} in {V} and {_not(self.valid(sub, item, frozenset(), False))}"
            return
        # additionalProperties false (or a schema): one pass over the instance's keys.
        checks = {prop: self.function(sub, False) for prop, sub in properties.items()}
        fallback = "_never" if extra is False else self.function(extra, False)
        loop = [
            f"for k, v in {V}.items():",
            f"    if not {self.table(checks)}.get(k, {fallback})(v):",
            "        return False",
        ]
        yield [f"if {test}:", *(f"    {line}" for line in loop)] if test else loop

    def ordered_object_parts(self, keyword: str, schema: Mapping[str, Any]) -> Iterator[str]:
        """One object keyword, checked as jsonschema does (for an object instance)."""
        if keyword == "required" and schema["required"]:
            yield self.missing(schema["required"])
        elif keyword == "properties":
            for prop, sub in schema["properties"].items():
                key = self.constant(prop, "name")
                yield f"{key} in {V} and {_not(self.valid(sub, f'{V}[{key}]', frozenset(), True))}"
        elif keyword == "additionalProperties":
            extra = schema["additionalProperties"]
            names = self.constant(frozenset(schema.get("properties", {})))
            if extra is False:
                yield f"not {V}.keys() <= {names}"
            elif not (extra is True or (isinstance(extra, dict) and not extra)):
                # jsonschema checks the extra properties in a set's order: let it.
                alone = {"properties": dict.fromkeys(schema.get("properties", {}), True)}
                exact = self.delegate("additionalProperties", extra, alone)
                yield f"not {exact}({V})"

    def missing(self, required: Sequence[str]) -> str:
        """A condition true when any of the ``required`` names is missing."""
        if len(required) <= _FEW:
            return " or ".join(f"{self.constant(r, 'name')} not in {V}" for r in required)
        return f"not {V}.keys() >= {self.constant(frozenset(required))}"


_OBJECT_KEYWORDS = frozenset({"properties", "additionalProperties", "required"})
_COMPARISONS = {"minimum": "<", "maximum": ">", "exclusiveMinimum": "<=", "exclusiveMaximum": ">="}


def _item_type(schema: Mapping[str, Any]) -> str | None:
    """The single ``type`` every item is checked to have by ``items``, if any."""
    items = schema.get("items")
    if isinstance(items, dict) and isinstance(items.get("type"), str):
        item_type: str = items["type"]
        return item_type
    return None


def _valid(conditions: list[str]) -> str:
    """The expression that is true when none of the failure ``conditions`` holds."""
    if not conditions:
        return "True"
    if len(conditions) == 1:
        return _not(conditions[0])
    return "not (" + " or ".join(f"({c})" for c in conditions) + ")"


def _not(expression: str) -> str:
    """The negation of ``expression``, without stacking ``not (not (...))``."""
    if expression.startswith("not (") and _closes_at_end(expression, 4):
        return expression[4:]  # still in its parentheses
    return f"not ({expression})"


def _closes_at_end(expression: str, start: int) -> bool:
    """Whether the parenthesis opened at ``start`` closes at the very end of ``expression``."""
    depth = 0
    quote: str | None = None
    for index in range(start, len(expression)):
        char = expression[index]
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index == len(expression) - 1
    return False


_TYPE_PROBES: tuple[Any, ...] = (
    None,
    True,
    False,
    0,
    1,
    -7,
    2**70,
    0.0,
    3.0,
    3.5,
    float("inf"),
    float("nan"),
    Decimal("3"),
    Decimal("3.5"),
    Fraction(1, 2),
    1j,
    "",
    "3",
    [],
    [1],
    (),
    {},
    {"a": 1},
    b"",
    set(),
    object(),
)


def _check_type_tests(target: jsonschema.protocols.Validator) -> None:
    """Raise unless each generated type test answers as the validator's type checker does."""
    for name, test in _TYPE_TESTS.items():
        code = compile(test.replace(V, "x"), f"<type {name}>", "eval")
        for probe in _TYPE_PROBES:
            mine = eval(code, {"Number": numbers.Number, "_NUMBERS": _NUMBERS, "x": probe})
            if bool(mine) != target.is_type(probe, name):
                msg = f"type {name!r}: jsonschema and the fast check disagree on {probe!r}"
                raise UnsupportedSchemaError(msg)


def _never(_: Any) -> bool:
    return False


class _Compiled:
    """The generated functions of one validator: entry point and source."""

    def __init__(self, target: jsonschema.protocols.Validator) -> None:
        generator = _Generator(target)
        root = generator.function(target.schema, ordered=False)
        self.source = "\n".join([*reversed(generator.functions), *generator.tables, ""])
        namespace = generator.namespace
        exec(compile(self.source, f"<fast_check {root}>", "exec"), namespace)
        self.root: Predicate = namespace[root]


def compile_validity(target: jsonschema.protocols.Validator) -> Predicate:
    """A predicate agreeing with ``target.is_valid`` (False where ``is_valid`` would raise).

    ``target`` must be a Draft 2020-12 validator (or :class:`StrictValidator`) on a schema
    without references; raises :class:`UnsupportedSchemaError` otherwise.
    """
    root = _Compiled(target).root

    def is_valid(instance: Any) -> bool:
        try:
            return root(instance)
        except (ArithmeticError, TypeError, ValueError):
            return False  # jsonschema raises here: let the caller's slow path do so too

    return is_valid


@functools.cache
def fast_validity(kind: str) -> Callable[[Mapping[str, Any]], bool]:
    """A cached predicate: True exactly when ``validator(kind).is_valid(record)`` is True."""
    return compile_validity(validator(kind))


def generated_source(kind: str) -> str:
    """The Python source generated for ``kind``, for review and debugging."""
    return _Compiled(validator(kind)).source
