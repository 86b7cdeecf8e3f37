"""Which fields of one record kind name records of another, for packages.

The same pairs as validation's reference rules (``mectk.plugins.record_checks``), plus
the programme and the localities an enterprise works in. A package is checked against
them by :mod:`mectk.exchange.verify`, and :mod:`mectk.exchange.package` carries every
record a selected record names.
"""

from __future__ import annotations

REFERENCES: tuple[tuple[str, str, str], ...] = (
    ("support_episode", "enterprise_id", "enterprise"),
    ("support_episode", "coordinator_id", "coordinator"),
    ("support_episode", "event_id", "support_event"),
    ("support_episode", "programme_id", "programme"),
    ("support_event", "locality_id", "locality"),
    ("support_event", "coordinator_id", "coordinator"),
    ("support_event", "programme_id", "programme"),
    ("outcome", "enterprise_id", "enterprise"),
    ("outcome", "programme_id", "programme"),
    ("enterprise", "locality_id", "locality"),
    ("enterprise", "service_area_localities", "locality"),
    ("enterprise", "programme_id", "programme"),
    ("spend_line", "programme_id", "programme"),
)
"""(kind, field, kind it names); a list field names one record per item."""

SETTINGS_KINDS = frozenset({"programme", "locality", "coordinator", "target"})
"""Programme settings: carried whole whatever the period."""
