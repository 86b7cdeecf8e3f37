"""The register (issue 4): batches, versions, history, diff, re-import and migrations.

Real SQLite files in tmp_path. Three quarterly canonical workbooks are imported one after
another: in Q2 an enterprise is paused and another's e-mail changes, in Q3 one closes and a
new one appears; each quarter carries its own hours-per-week snapshots.
"""

from __future__ import annotations

import ast
import datetime
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from mectk.converter import make_converter
from mectk.errors import UsageError
from mectk.metrics import compute_measures, load_current
from mectk.models import MODELS
from mectk.periods import parse_period
from mectk.pipeline import validate_files
from mectk.plugin_manager import build_registry, make_plugin_manager
from mectk.register import (
    SCHEMA_VERSION,
    diff_since,
    enterprise_history,
    import_result,
    list_batches,
    open_register,
    store,
)
from mectk.register import schema as register_schema
from mectk.template import write_workbook
from mectk.validation import ValidationResult

D = datetime.date
ROOT = Path(__file__).resolve().parent.parent
PROGRAMME = {
    "programme_id": "CS-CME",
    "council.council_id": "E10000099",
    "council.gss_code": "E10000099",
    "council.name": "Countyshire County Council",
    "council.tier": "county",
    "delivery_org_name": "Sample Delivery CIC",
    "start_date": D(2024, 4, 1),
    "micro_cap_basis": "headcount_paid_and_unpaid",
}
LOCALITIES = [{"locality_id": "L-NORTH", "name": "North District", "locality_type": "custom"}]
QUARTER_END = {1: D(2025, 6, 30), 2: D(2025, 9, 30), 3: D(2025, 12, 31)}


def enterprise(i: int) -> dict[str, Any]:
    return {
        "enterprise_id": f"E-{i:04d}",
        "programme_id": "CS-CME",
        "trading_name": f"Enterprise {i}",
        "legal_form": "sole_trader",
        "independent": True,
        "status": "trading",
        "status_date": D(2025, 1, 1),
        "origin": "new",
        "first_contact_date": D(2024, 6, 1),
        "launch_date": D(2024, 9, 1),
        "services": ["companionship_social"],
        "cqc_status": "not_required_no_regulated_activity",
        "locality_id": "L-NORTH",
        "base_postcode": "WR5 2NP",
        "paid_workers": 1 + i % 3,
        "lead_email": f"owner{i}@example.org",
    }


def quarter_rows(quarter: int, n: int = 3) -> dict[str, list[dict[str, Any]]]:
    """Q1: E-0001..E-000n trading. Q2: E-0001's e-mail changes, E-0002 paused.
    Q3: E-0003 closed, E-000(n+1) new (developing). Hours snapshots per quarter."""
    ents = [enterprise(i) for i in range(1, n + 1)]
    if quarter >= 2:
        ents[0]["lead_email"] = "new-owner1@example.org"
        ents[1].update(status="paused", status_date=D(2025, 8, 1))
    if quarter >= 3:
        ents[2].update(
            status="closed",
            status_date=D(2025, 11, 15),
            closure_date=D(2025, 11, 15),
            closure_reason="retired",
        )
        new = enterprise(n + 1)
        new.update(first_contact_date=D(2025, 10, 1), status="developing")
        new["status_date"] = D(2025, 10, 1)
        del new["launch_date"]
        ents.append(new)
    outcomes = [
        {
            "outcome_id": f"HRS-{e['enterprise_id']}-Q{quarter}",
            "programme_id": "CS-CME",
            "enterprise_id": e["enterprise_id"],
            "outcome_type": "hours_per_week",
            "value": 10 + quarter,
            "as_at_date": QUARTER_END[quarter],
            "evidence_source": "enterprise_self_report",
        }
        for e in ents
        if e["status"] in ("trading", "paused")
    ]
    return {
        "programme": [PROGRAMME],
        "locality": LOCALITIES,
        "enterprise": ents,
        "outcome": outcomes,
    }


def write_quarters(folder: Path) -> list[Path]:
    paths = []
    for quarter in (1, 2, 3):
        path = folder / f"q{quarter}.xlsx"
        write_workbook(path, quarter_rows(quarter))
        paths.append(path)
    return paths


def validate(*paths: Path) -> ValidationResult:
    return validate_files(build_registry(make_plugin_manager()), list(paths))


def table_counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as connection:
        names = [
            n
            for (n,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        return {n: connection.execute(f"SELECT count(*) FROM {n}").fetchone()[0] for n in names}


@pytest.fixture(scope="module")
def quarters(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_quarters(tmp_path_factory.mktemp("quarters"))


@pytest.fixture(scope="module")
def results(quarters: list[Path]) -> list[ValidationResult]:
    found = [validate(p) for p in quarters]
    for result in found:
        assert result.valid, [i.as_json() for i in result.issues]
    return found


@pytest.fixture
def loaded(tmp_path: Path, results: list[ValidationResult]) -> Path:
    db = tmp_path / "register.db"
    for result in results:
        import_result(db, result)
    return db


def test_three_quarters_land_as_three_batches(loaded: Path):
    batches = list_batches(loaded)
    assert [b.id for b in batches] == [1, 2, 3]
    assert [b.register_counts for b in batches] == [
        {"new": 8, "changed": 0, "unchanged": 0},  # programme, locality, 3 enterprises, 3 hours
        {"new": 3, "changed": 2, "unchanged": 3},  # 3 hours; E-0001 and E-0002 changed
        {"new": 3, "changed": 1, "unchanged": 4},  # E-0004 and 2 hours; E-0003 closed
    ]
    first = batches[0]
    assert first.source == "import"
    assert first.status == "landed"
    assert first.format == "canonical"
    assert first.counts["accepted"] == 8
    assert first.created_at.endswith("Z")
    assert [Path(f.path).name for f in first.files] == ["q1.xlsx"]
    assert len(first.files[0].sha256) == 64
    assert "Enterprises" in first.files[0].sheets


def test_versions_history_and_snapshots_accumulate(loaded: Path):
    with sqlite3.connect(loaded) as connection:
        rows = connection.execute(
            "SELECT kind, record_id, version, batch_id FROM records"
            " ORDER BY kind, record_id, version"
        ).fetchall()
    versions = {(k, r): v for k, r, v, _ in rows}
    assert versions[("programme", "CS-CME")] == 1  # unchanged in Q2 and Q3: no new version
    assert versions[("enterprise", "E-0001")] == 2
    assert versions[("enterprise", "E-0002")] == 2
    assert versions[("enterprise", "E-0003")] == 2
    assert versions[("enterprise", "E-0004")] == 1
    hours = sorted(r for k, r, _, _ in rows if k == "outcome" and r.startswith("HRS-E-0002"))
    assert hours == ["HRS-E-0002-Q1", "HRS-E-0002-Q2", "HRS-E-0002-Q3"]
    closed_hours = sorted(r for k, r, _, _ in rows if k == "outcome" and "E-0003" in r)
    assert closed_hours == ["HRS-E-0003-Q1", "HRS-E-0003-Q2"]


def test_stored_data_structures_back_into_the_same_models(loaded: Path, results):
    converter = make_converter()
    with sqlite3.connect(loaded) as connection:
        stored = {
            (k, r): json.loads(d)
            for k, r, d in connection.execute(
                "SELECT kind, record_id, data FROM records WHERE batch_id = 1"
            )
        }
    for record in results[0].accepted_records:
        key = (record.kind, getattr(record.model, _id_field(record.kind)))
        assert converter.structure(stored[key], MODELS[record.kind]) == record.model


def _id_field(kind: str) -> str:
    from mectk.schemas import RECORD_KINDS

    return RECORD_KINDS[kind].id_field


def test_show_gives_current_state_history_batches_and_cells(loaded: Path):
    history = enterprise_history(loaded, "E-0002")
    assert history.current["status"] == "paused"
    assert history.current["trading_name"] == "***"
    assert history.current["lead_email"] == "***"
    assert [(v.version, v.batch_id) for v in history.versions] == [(1, 1), (2, 2)]
    assert history.versions[0].changed == ()
    assert {c.field: (c.old, c.new) for c in history.versions[1].changed} == {
        "status": ("trading", "paused"),
        "status_date": ("2025-01-01", "2025-08-01"),
    }
    second = history.versions[1]
    assert (second.source_file, second.source_sheet, second.source_row) == (
        "q2.xlsx",
        "Enterprises",
        3,
    )
    assert second.cells["status"] == "I3"
    assert second.cells["enterprise_id"] == "A3"
    assert [b.id for b in history.batches] == [1, 2, 3]  # the Q3 hours came in batch 3
    hours = [r for r in history.related if r.kind == "outcome"]
    assert [(r.record_id, r.data["value"]) for r in hours] == [
        ("HRS-E-0002-Q1", 11),
        ("HRS-E-0002-Q2", 12),
        ("HRS-E-0002-Q3", 13),
    ]
    personal = enterprise_history(loaded, "E-0002", include_personal=True)
    assert personal.current["trading_name"] == "Enterprise 2"
    document = json.loads(json.dumps(history.as_json(), default=str))
    assert "Enterprise 2" not in json.dumps(document)
    assert "owner2@example.org" not in json.dumps(document)


def test_show_unknown_enterprise_is_a_usage_error(loaded: Path):
    with pytest.raises(UsageError, match="no enterprise 'E-9999'"):
        enterprise_history(loaded, "E-9999")


def test_diff_since_the_first_batch_gives_exactly_the_changes(loaded: Path):
    diff = diff_since(loaded, 1)
    assert diff.as_json() == {
        "since_batch": 1,
        "until_batch": 3,
        "added": ["E-0004"],
        "changed": [
            {
                "enterprise_id": "E-0001",
                "version_then": 1,
                "version_now": 2,
                "changes": [{"field": "lead_email", "old": "***", "new": "***"}],
            },
            {
                "enterprise_id": "E-0002",
                "version_then": 1,
                "version_now": 2,
                "changes": [
                    {"field": "status", "old": "trading", "new": "paused"},
                    {"field": "status_date", "old": "2025-01-01", "new": "2025-08-01"},
                ],
            },
            {
                "enterprise_id": "E-0003",
                "version_then": 1,
                "version_now": 2,
                "changes": [
                    {"field": "closure_date", "old": None, "new": "2025-11-15"},
                    {"field": "closure_reason", "old": None, "new": "retired"},
                    {"field": "status", "old": "trading", "new": "closed"},
                    {"field": "status_date", "old": "2025-01-01", "new": "2025-11-15"},
                ],
            },
        ],
        "closed": ["E-0003"],
    }
    personal = diff_since(loaded, 1, include_personal=True)
    assert personal.changed[0].changes[0].as_json() == {
        "field": "lead_email",
        "old": "owner1@example.org",
        "new": "new-owner1@example.org",
    }


def test_diff_since_later_batches(loaded: Path):
    since_2 = diff_since(loaded, 2)
    assert since_2.added == ("E-0004",)
    assert [c.enterprise_id for c in since_2.changed] == ["E-0003"]
    assert since_2.closed == ("E-0003",)
    since_3 = diff_since(loaded, 3)
    assert (since_3.added, since_3.changed, since_3.closed) == ((), (), ())
    with pytest.raises(UsageError, match="no batch 7"):
        diff_since(loaded, 7)


def test_reimport_is_refused_then_allowed_with_force(loaded: Path, results):
    before = table_counts(loaded)
    with pytest.raises(UsageError, match="already imported in batch 1") as caught:
        import_result(loaded, results[0])
    assert "--force" in (caught.value.hint or "")
    assert table_counts(loaded) == before
    forced = import_result(loaded, results[0], force=True)
    assert forced.id == 4
    # Q1's enterprises differ from the current state (Q3): each gets a new version
    assert forced.register_counts == {"new": 0, "changed": 3, "unchanged": 5}
    again = import_result(loaded, results[0], force=True)
    assert again.register_counts == {"new": 0, "changed": 0, "unchanged": 8}
    after = table_counts(loaded)
    assert after["batches"] == before["batches"] + 2
    assert after["records"] == before["records"] + 3  # nothing deleted, nothing rewritten


def test_a_failed_import_leaves_nothing(tmp_path: Path, results, monkeypatch):
    db = tmp_path / "register.db"
    import_result(db, results[0])
    before = table_counts(db)
    real = store._insert_records

    def failing(connection, rows):
        real(connection, rows)  # every row written inside the transaction, then a fault
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(store, "_insert_records", failing)
    with pytest.raises(RuntimeError, match="disk on fire"):
        import_result(db, results[1])
    assert table_counts(db) == before
    monkeypatch.undo()
    assert import_result(db, results[1]).id == 2


def test_a_plain_path_and_a_url_open_the_same_register(tmp_path: Path, results):
    db = tmp_path / "register.db"
    import_result(db, results[0])
    assert [b.id for b in list_batches(f"sqlite:///{db}")] == [1]
    engine = open_register(str(db))
    try:
        assert [b.id for b in list_batches(engine)] == [1]
    finally:
        engine.dispose()


def test_bad_db_arguments_are_usage_errors(tmp_path: Path):
    with pytest.raises(UsageError, match="does not exist"):
        open_register(tmp_path / "missing" / "r.db")
    with pytest.raises(UsageError, match="folder"):
        open_register(tmp_path)
    not_a_db = tmp_path / "notes.db"
    not_a_db.write_text("hello, this is not a database\n" * 100)
    with pytest.raises(UsageError, match="cannot open the register"):
        open_register(not_a_db)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE customers (id INTEGER)")
    with pytest.raises(UsageError, match="not a mectk register"):
        open_register(other)


def _version_of(db: Path) -> str:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[
            0
        ]


def test_an_older_register_is_upgraded(tmp_path: Path, results):
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as connection:  # a version-0 register made by hand
        connection.execute("CREATE TABLE meta (key VARCHAR(64) PRIMARY KEY, value TEXT NOT NULL)")
        connection.execute("INSERT INTO meta VALUES ('schema_version', '0')")
    open_register(db).dispose()
    assert _version_of(db) == str(SCHEMA_VERSION) == str(len(register_schema.MIGRATIONS))
    assert set(table_counts(db)) == {"meta", "batches", "batch_files", "records"}
    assert import_result(db, results[0]).id == 1


def test_migrations_run_step_by_step_and_keep_the_data(tmp_path: Path, results, monkeypatch):
    db = tmp_path / "register.db"
    import_result(db, results[0])
    steps: list[int] = []

    def migration_2(connection: sa.Connection) -> None:
        steps.append(2)
        connection.execute(sa.text("ALTER TABLE batches ADD COLUMN note TEXT"))

    monkeypatch.setattr(register_schema, "MIGRATIONS", [*register_schema.MIGRATIONS, migration_2])
    open_register(db).dispose()
    assert steps == [2]
    assert _version_of(db) == str(SCHEMA_VERSION + 1)
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT count(*), max(note) FROM batches").fetchone() == (1, None)
    open_register(db).dispose()
    assert steps == [2]  # applied once


V1_BATCH_COLUMNS = "id, created_at, mectk_version, source, format, mapping, counts, status"
V1_RECORD_COLUMNS = (
    "id, kind, record_id, version, batch_id, enterprise_id, content_hash, data,"
    " source_file, source_sheet, source_row, cells"
)


def test_a_version_1_register_with_records_is_backfilled(tmp_path: Path, loaded: Path, monkeypatch):
    """Migration 2 adds the outcome columns to an older register holding records and fills
    them from each outcome's data: the same columns and measures as a register imported
    at the current version."""
    old = tmp_path / "v1.db"
    with monkeypatch.context() as patch:  # a register at version 1, as mectk made them
        patch.setattr(register_schema, "MIGRATIONS", register_schema.MIGRATIONS[:1])
        open_register(old).dispose()
    assert _version_of(old) == "1"
    with sqlite3.connect(old) as connection:
        connection.execute("ATTACH DATABASE ? AS new", (str(loaded),))
        connection.execute(f"INSERT INTO batches SELECT {V1_BATCH_COLUMNS} FROM new.batches")
        connection.execute("INSERT INTO batch_files SELECT * FROM new.batch_files")
        connection.execute(
            f"INSERT INTO records ({V1_RECORD_COLUMNS}) SELECT {V1_RECORD_COLUMNS} FROM new.records"
        )
        connection.commit()
        connection.execute("DETACH DATABASE new")
        assert "outcome_type" not in [
            r[1] for r in connection.execute("PRAGMA table_info(records)")
        ]
    open_register(old).dispose()
    assert _version_of(old) == str(SCHEMA_VERSION)
    columns = ", ".join(("id", "kind", *register_schema.OUTCOME_COLUMNS))
    read = f"SELECT {columns} FROM records ORDER BY id"
    with sqlite3.connect(old) as upgraded, sqlite3.connect(loaded) as current:
        rows = upgraded.execute(read).fetchall()
        assert rows == current.execute(read).fetchall()
    outcomes = [r for r in rows if r[1] == "outcome"]
    assert outcomes and all(r[2] is not None for r in outcomes)
    assert all(r[2:] == (None,) * 6 for r in rows if r[1] != "outcome")
    for label in ("2025-26 Q1", "2025-26 Q3"):
        period = parse_period(label)
        expected = compute_measures(load_current(loaded), period).as_json()
        assert compute_measures(old, period).as_json() == expected
        assert compute_measures(loaded, period).as_json() == expected


def test_a_failed_migration_leaves_the_older_version(tmp_path: Path, monkeypatch):
    db = tmp_path / "register.db"
    open_register(db).dispose()

    def broken(connection: sa.Connection) -> None:
        connection.execute(sa.text("ALTER TABLE batches ADD COLUMN note TEXT"))
        raise RuntimeError("half-way")

    monkeypatch.setattr(register_schema, "MIGRATIONS", [*register_schema.MIGRATIONS, broken])
    with pytest.raises(RuntimeError):
        open_register(db)
    assert _version_of(db) == str(SCHEMA_VERSION)
    with sqlite3.connect(db) as connection:
        columns = [r[1] for r in connection.execute("PRAGMA table_info(batches)")]
    assert "note" not in columns


def test_a_newer_register_is_refused_naming_both_versions(tmp_path: Path):
    db = tmp_path / "register.db"
    open_register(db).dispose()
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE meta SET value = '7' WHERE key = 'schema_version'")
    before = db.read_bytes()
    with pytest.raises(UsageError, match=rf"version 7.*up to {SCHEMA_VERSION}") as caught:
        open_register(db)
    assert caught.value.exit_code == 2
    assert db.read_bytes() == before


FORBIDDEN = (
    "mectk.cli",
    "mectk.demo",
    "mectk.pipeline",
    "mectk.table_reader",
    "mectk.grid",
    "mectk.sniff",
    "mectk.mapping",
    "mectk.annotate",
    "mectk.plugins",
    "mectk.metrics",
    "mectk.reports",
)


def test_the_register_imports_no_reader_metrics_report_or_face():
    for path in (ROOT / "mectk" / "register").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                assert not name.startswith(FORBIDDEN), (path.name, name)


def test_no_sqlite_only_sql_in_the_register():
    for path in (ROOT / "mectk" / "register").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        for word in ("INSERT OR", "ON CONFLICT", "AUTOINCREMENT", "PRAGMA", "sqlite_master"):
            if word == "PRAGMA" and path.name == "connect.py":
                continue  # foreign keys on, for SQLite connections only
            assert word not in text, (path.name, word)


POSTGRES_URL = os.environ.get("MECTK_TEST_POSTGRES_URL")


@pytest.mark.skipif(
    not POSTGRES_URL,
    reason="set MECTK_TEST_POSTGRES_URL to a throwaway PostgreSQL database to run",
)
def test_the_same_code_on_postgresql(results):
    """The three quarters, history, diff, re-import and migration check on PostgreSQL.

    MECTK_TEST_POSTGRES_URL (e.g. postgresql+psycopg://postgres@/mectk_test?host=/tmp)
    must name a throwaway database: the register's tables in it are dropped first.
    """
    assert POSTGRES_URL is not None
    engine = sa.create_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE IF EXISTS records, batch_files, batches, meta"))
    engine.dispose()
    for result in results:
        import_result(POSTGRES_URL, result)
    assert [b.register_counts["new"] for b in list_batches(POSTGRES_URL)] == [8, 3, 3]
    assert diff_since(POSTGRES_URL, 1).closed == ("E-0003",)
    assert [v.batch_id for v in enterprise_history(POSTGRES_URL, "E-0002").versions] == [1, 2]
    with pytest.raises(UsageError, match="already imported in batch 1"):
        import_result(POSTGRES_URL, results[0])
    engine = sa.create_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE meta SET value = '3' WHERE key = 'schema_version'"))
    engine.dispose()
    with pytest.raises(UsageError, match=rf"version 3.*up to {SCHEMA_VERSION}"):
        open_register(POSTGRES_URL)


def test_a_busy_register_is_a_usage_error_and_nothing_lands(tmp_path: Path, results):
    db = tmp_path / "register.db"
    import_result(db, results[0])
    before = table_counts(db)
    other = sqlite3.connect(db, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another writer holds the register
        with pytest.raises(UsageError, match="busy"):
            import_result(db, results[1])
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert table_counts(db) == before


def test_cells_are_stored_per_row_or_as_full_references(loaded: Path):
    with sqlite3.connect(loaded) as connection:
        cells = {
            k: json.loads(c)
            for k, c in connection.execute(
                "SELECT kind, cells FROM records WHERE batch_id = 1 AND kind IN"
                " ('programme', 'enterprise')"
            )
        }
    assert cells["enterprise"]["status"] == "I"  # a table row: the column; the row is source_row
    # programme settings lie one per row: full references, except on the record's own row
    assert cells["programme"]["programme_id"] == "B"
    assert cells["programme"]["council.name"] == "B5"
    assert "council.region_gss" not in cells["programme"]  # no value, no cell


def test_the_cells_fast_path_falls_back_when_cells_are_not_the_sheet_columns():
    from mectk.sources import CellRef, RowCells, SourceRow

    columns = {"status": CellRef("S", None, "I", "Status")}
    other = {"status": CellRef("S", None, "J", "Status")}
    row = SourceRow("enterprise", "S", 4, {}, RowCells(other, 4), sheet_columns=columns)
    assert json.loads(store._CellsCache().text(row, {"status": "trading"})) == {"status": "J"}
    row = SourceRow("enterprise", "S", 4, {}, RowCells(columns, 4), sheet_columns=columns)
    assert json.loads(store._CellsCache().text(row, {"status": "trading"})) == {"status": "I"}
    assert json.loads(store._CellsCache().text(row, {})) == {}


def test_reading_works_while_another_import_holds_the_write_lock(tmp_path: Path, results):
    db = tmp_path / "register.db"
    import_result(db, results[0])
    other = sqlite3.connect(db, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        assert [b.id for b in list_batches(db)] == [1]
        assert enterprise_history(db, "E-0001").versions[0].batch_id == 1
    finally:
        other.execute("ROLLBACK")
        other.close()
