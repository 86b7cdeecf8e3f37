"""Countyshire's programme settings: the council, its districts and the small-number rule.

Contract: :func:`settings_rows` gives the settings as canonical-workbook rows (for
:func:`mectk.write_canonical_workbook`), with each locality's aliases taken from the
tracker's mapping file, so that the spellings the tracker meets are kept in one place.
Countyshire is fictional; its districts are the Worcestershire districts that domain.md
section 4.4 uses as examples, with their GSS codes.
"""

from __future__ import annotations

import datetime
import tomllib
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

from mectk_countyshire.tracker import MAPPING_FILE

PROGRAMME_ID = "CCC-CME"
COUNCIL = {
    "council.council_id": "E10000099",
    "council.gss_code": "E10000099",
    "council.name": "Countyshire County Council",
    "council.tier": "county",
}
LOCALITIES: tuple[dict[str, Any], ...] = (
    {"locality_id": "bromsgrove", "name": "Bromsgrove", "gss_code": "E07000234",
     "postcode_districts": ["B60", "B61"]},
    {"locality_id": "malvern-hills", "name": "Malvern Hills", "gss_code": "E07000235",
     "postcode_districts": ["WR13", "WR14"]},
    {"locality_id": "redditch", "name": "Redditch", "gss_code": "E07000236",
     "postcode_districts": ["B97", "B98"]},
    {"locality_id": "worcester", "name": "Worcester", "gss_code": "E07000237",
     "postcode_districts": ["WR1", "WR2", "WR3", "WR4", "WR5"]},
    {"locality_id": "wychavon", "name": "Wychavon", "gss_code": "E07000238",
     "postcode_districts": ["WR7", "WR8", "WR10", "WR11"]},
    {"locality_id": "wyre-forest", "name": "Wyre Forest", "gss_code": "E07000239",
     "postcode_districts": ["DY10", "DY11", "DY13", "DY14"]},
)  # fmt: skip
COUNTYWIDE = {"locality_id": "countywide", "name": "Countywide", "locality_type": "custom"}
"""Enterprises working across the county: reported on the Countywide / unassigned row."""


def district_aliases() -> dict[str, list[str]]:
    """locality_id -> the other spellings the tracker's mapping file maps onto it."""
    text = (resources.files("mectk_countyshire") / MAPPING_FILE).read_text(encoding="utf-8")
    sheet = tomllib.loads(text)["sheets"][0]
    values: Mapping[str, str] = sheet["columns"]["locality_id"]["values"]
    names = {str(loc["name"]).casefold() for loc in (*LOCALITIES, COUNTYWIDE)}
    out: dict[str, list[str]] = {}
    for spelling, locality in values.items():
        if spelling.casefold() not in names:
            out.setdefault(locality, []).append(spelling)
    return out


def settings_rows() -> dict[str, Sequence[Mapping[str, Any]]]:
    """The programme settings as canonical-workbook rows: Programme and Localities."""
    aliases = district_aliases()
    localities = [
        {
            **loc,
            "locality_type": loc.get("locality_type", "district_e07"),
            **({"aliases": aliases[loc["locality_id"]]} if loc["locality_id"] in aliases else {}),
        }
        for loc in (*LOCALITIES, COUNTYWIDE)
    ]
    return {
        "programme": [
            {
                "programme_id": PROGRAMME_ID,
                **COUNCIL,
                "delivery_org_name": "Countyshire Community Catalysts CIC",
                "contract_ref": "CCC/ASC/2024/017",
                "start_date": datetime.date(2024, 4, 1),
                "fy_start_month": 4,
                "micro_worker_cap": 8,
                "micro_cap_basis": "headcount_paid_and_unpaid",
                "suppression_threshold": 5,
                "suppression_marker": "*",
            }
        ],
        "locality": localities,
    }
