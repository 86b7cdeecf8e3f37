"""The measures page (``docs/measures.md``), written from :data:`MEASURES`.

Contract: :func:`measures_markdown` renders every measure with its ref, title, kind,
unit, numerator and denominator; the docs page is this text, and a test keeps it so.
Regenerate with ``python -m mectk.metrics.docs > docs/measures.md``, and the annual
measures page with ``python -m mectk.metrics.docs annual > docs/annual-measures.md``.
"""

from __future__ import annotations

from mectk.metrics.measures import MEASURES

_HEAD = """# Standard measures

The measures mectk computes from the register for every report (domain.md 4.1). Each is
data in `mectk/metrics/measures.py`; this page is generated from it
(`python -m mectk.metrics.docs > docs/measures.md`) and a test keeps the two in step.

Period rules, by kind:

- **event** and **flow**: summed within the period; the year to date is the sum of the
  quarters. A flow outcome counts in a window only when its `period_start..period_end`
  lies inside it.
- **snapshot**: per enterprise (and breakdown), the latest value dated inside the period
  (inside its last quarter, for a longer period), or else carried forward from at most
  92 days before that starts (flagged `carried_forward`), then summed across
  enterprises. Never summed across periods: the year to date is the value at the end of
  the period.
- **distinct**: distinct over the window; the year to date is not the sum of quarters.

The financial year starts on the programme's `fy_start_month` (1 April by default).
Outcome types take their kind from `codelists.schema.json` (`x-kinds`). External outputs
suppress counts from 1 to `suppression_threshold - 1` (default 5) and apply secondary
suppression; hours are not suppressed.

| Ref | Measure | Kind | Unit | Numerator | Denominator |
|---|---|---|---|---|---|
"""


def measures_markdown() -> str:
    """The text of ``docs/measures.md``."""
    rows = [
        f"| {m.ref} | {m.title} | {m.kind} | {m.unit} | {m.numerator} | {m.denominator or ''} |"
        for m in MEASURES
    ]
    return _HEAD + "\n".join(rows) + "\n"


if __name__ == "__main__":
    import sys

    from mectk.metrics.annual import annual_measures_markdown

    text = annual_measures_markdown() if sys.argv[1:] == ["annual"] else measures_markdown()
    print(text, end="")  # noqa: T201
