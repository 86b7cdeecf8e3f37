"""attrs models mirroring the interchange-standard schemas one to one.

Every schema property is a field and every field a property (``tests/test_models.py``
keeps it so). Codes are plain ``str`` values from the code lists; money and other
decimals are :class:`~decimal.Decimal`; dates are :class:`datetime.date`. Build models
with :func:`mectk.converter.make_converter`, never ``Model(**row)`` from a spreadsheet.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal

from attrs import frozen


@frozen(kw_only=True)
class Council:
    """The funding local authority (``programme.schema.json#/properties/council``)."""

    council_id: str
    gss_code: str
    name: str
    tier: str
    valid_from: datetime.date | None = None
    valid_to: datetime.date | None = None
    region_gss: str | None = None


@frozen(kw_only=True)
class Locality:
    """An area the programme reports by (``programme.schema.json#/$defs/locality``)."""

    locality_id: str
    name: str
    locality_type: str
    gss_code: str | None = None
    postcode_districts: tuple[str, ...] | None = None
    aliases: tuple[str, ...] | None = None


@frozen(kw_only=True)
class Coordinator:
    """A person giving support (``programme.schema.json#/$defs/coordinator``)."""

    coordinator_id: str
    display_name: str
    role: str
    employer: str
    fte: Decimal | None = None
    localities: tuple[str, ...] | None = None
    start_date: datetime.date
    end_date: datetime.date | None = None


@frozen(kw_only=True)
class Target:
    """A target for one measure in one financial year (``programme.schema.json#/$defs/target``)."""

    target_id: str
    measure: str
    financial_year: str
    annual_target: Decimal
    q1_target: Decimal | None = None
    q2_target: Decimal | None = None
    q3_target: Decimal | None = None
    polarity: str | None = None


@frozen(kw_only=True)
class Programme:
    """Programme settings (``programme.schema.json``)."""

    programme_id: str
    council: Council
    delivery_org_name: str
    delivery_org_id: str | None = None
    contract_ref: str | None = None
    start_date: datetime.date
    end_date: datetime.date | None = None
    fy_start_month: int
    micro_worker_cap: int
    micro_cap_basis: str
    sme_target_pct: Decimal | None = None
    rag_green_pct: Decimal | None = None
    rag_amber_pct: Decimal | None = None
    rag_amber_pp: Decimal | None = None
    comparator_hourly_rate_gbp: Decimal | None = None
    suppression_threshold: int
    suppression_marker: str | None = None
    rounding_base: int | None = None
    localities: tuple[Locality, ...] | None = None
    coordinators: tuple[Coordinator, ...] | None = None
    targets: tuple[Target, ...] | None = None


@frozen(kw_only=True)
class Enterprise:
    """A community micro-enterprise (``enterprise.schema.json``)."""

    enterprise_id: str
    programme_id: str
    trading_name: str
    legal_name: str | None = None
    legal_form: str
    company_number: str | None = None
    charity_number: str | None = None
    org_id: str | None = None
    independent: bool
    status: str
    status_date: datetime.date
    origin: str
    first_contact_date: datetime.date
    launch_date: datetime.date | None = None
    launch_date_estimated: bool | None = None
    closure_date: datetime.date | None = None
    closure_reason: str | None = None
    services: tuple[str, ...] | None = None
    primary_service: str | None = None
    client_groups: tuple[str, ...] | None = None
    provides_personal_care: bool | None = None
    cqc_status: str
    cqc_provider_id: str | None = None
    cqc_location_id: str | None = None
    quality_standard: str | None = None
    quality_standard_date: datetime.date | None = None
    accreditation_status: str | None = None
    dbs_checked: bool | None = None
    dbs_check_date: datetime.date | None = None
    public_liability_insurance: bool | None = None
    insurance_expiry_date: datetime.date | None = None
    paid_workers: int | None = None
    unpaid_workers: int | None = None
    paid_fte: Decimal | None = None
    turnover_band: str | None = None
    size_band: str | None = None
    meets_programme_micro_cap: bool | None = None
    price_amount_gbp: Decimal | None = None
    price_unit: str | None = None
    accepts_direct_payments: bool | None = None
    base_postcode: str | None = None
    base_postcode_district: str | None = None
    locality_id: str
    service_area_localities: tuple[str, ...] | None = None
    lead_name: str | None = None
    lead_email: str | None = None
    lead_phone: str | None = None
    website: str | None = None
    consent_directory: bool | None = None
    consent_date: datetime.date | None = None
    notes: str | None = None
    source_system: str | None = None
    source_ref: str | None = None


@frozen(kw_only=True)
class SupportEpisode:
    """One support contact with one enterprise (``support-episode.schema.json``)."""

    episode_id: str
    programme_id: str
    enterprise_id: str
    coordinator_id: str
    event_id: str | None = None
    episode_date: datetime.date
    end_date: datetime.date | None = None
    support_type: str
    mode: str
    topics: tuple[str, ...] | None = None
    duration_minutes: int | None = None
    signposted_to: tuple[str, ...] | None = None
    signposted_to_text: str | None = None
    count: int | None = None
    stage_at_contact: str | None = None
    notes: str | None = None
    source_system: str | None = None
    source_ref: str | None = None


@frozen(kw_only=True)
class SupportEvent:
    """A group support event (``support-event.schema.json``)."""

    event_id: str
    programme_id: str
    coordinator_id: str
    event_date: datetime.date
    event_type: str
    title: str | None = None
    locality_id: str | None = None
    attendees_total: int | None = None
    attendees_non_enterprise: int | None = None
    source_system: str | None = None
    source_ref: str | None = None


@frozen(kw_only=True)
class Outcome:
    """A typed measurement (``outcome.schema.json``)."""

    outcome_id: str
    programme_id: str
    enterprise_id: str | None = None
    outcome_type: str
    value: Decimal
    as_at_date: datetime.date | None = None
    period_start: datetime.date | None = None
    period_end: datetime.date | None = None
    breakdown: str | None = None
    evidence_source: str
    verified: bool | None = None
    method_note: str | None = None
    source_system: str | None = None
    source_ref: str | None = None


@frozen(kw_only=True)
class SpendLine:
    """One line of council spend with a supplier (``spend-line.schema.json``)."""

    spend_id: str
    programme_id: str
    council_id: str
    financial_year: str
    quarter: int | None = None
    supplier_name: str | None = None
    supplier_org_id: str | None = None
    supplier_size: str
    is_vcse: bool | None = None
    enterprise_id: str | None = None
    spend_category: str
    route: str
    amount_gbp: Decimal
    source_system: str | None = None
    source_ref: str | None = None


@frozen(kw_only=True)
class Producer:
    """The organisation that produced a package."""

    name: str
    org_id: str | None = None


@frozen(kw_only=True)
class SchemaFile:
    """One schema file in a package, with its sha256."""

    path: str
    hash: str


@frozen(kw_only=True)
class ManifestMectk:
    """mectk's provenance block inside a package manifest."""

    mectk_version: str
    schema_version: str
    producer: Producer
    period: str | None = None
    source_batches: tuple[str, ...] | None = None
    personal_fields_included: tuple[str, ...]
    personal_fields_left_out: tuple[str, ...] | None = None
    formula_escaped: bool | None = None
    schema_files: tuple[SchemaFile, ...] | None = None


@frozen(kw_only=True)
class Resource:
    """One data file in an exchange package."""

    name: str
    path: str
    format: str
    mediatype: str
    encoding: str | None = None
    schema: str
    hash: str
    bytes: int | None = None
    rows: int
    jsonschema: str | None = None


@frozen(kw_only=True)
class Manifest:
    """An exchange package's ``datapackage.json`` (``manifest.schema.json``)."""

    profile: str
    name: str
    title: str | None = None
    created: datetime.datetime
    resources: tuple[Resource, ...]
    mectk: ManifestMectk


MODELS: Mapping[str, type] = {
    "programme": Programme,
    "locality": Locality,
    "coordinator": Coordinator,
    "target": Target,
    "enterprise": Enterprise,
    "support_episode": SupportEpisode,
    "support_event": SupportEvent,
    "outcome": Outcome,
    "spend_line": SpendLine,
}
"""The model class of each record kind (keys match :data:`mectk.schemas.RECORD_KINDS`)."""
