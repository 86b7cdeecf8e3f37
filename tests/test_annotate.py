"""The annotated copy: the person's own workbook with bad cells marked and an Issues sheet."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.comments import Comment

from mectk.annotate import AnnotateSummary, write_annotated_copy
from mectk.errors import SourceError, UsageError
from mectk.issues import CATALOGUE, Issue, make_issue

FILE = "tracker.xlsx"
HEADINGS = ["Code", "Severity", "Sheet", "Cell", "Column", "Record", "Message", "Hint"]
RED, AMBER, BLUE = "FFC7CE", "FFE699", "BDD7EE"
OLD_TIME = 1_600_000_000


def make_source(folder: Path, name: str = FILE, *, extra_sheets: tuple[str, ...] = ()) -> Path:
    """A small workbook: a Data sheet with an existing comment on B3, and a sheet named O'Brien."""
    workbook = openpyxl.Workbook()
    data = workbook.active
    data.title = "Data"
    data.append(["Enterprise ID", "Postcode", "Paid workers"])
    data.append(["ENT-1", "NOT A POSTCODE", 3])
    data.append(["ENT-2", "WR5 2NP", "three"])
    data.append(["ENT-3", "B1 1AA", 2])
    data["B3"].comment = Comment("Checked with the owner.", "Alice")
    data.merge_cells("A6:B7")
    data["A6"] = "merged note"
    other = workbook.create_sheet("O'Brien")
    other["C5"] = "first used cell"
    other["D5"] = "second"
    for title in extra_sheets:
        workbook.create_sheet(title)["A1"] = f"the person's own {title} sheet"
    path = folder / name
    workbook.save(path)
    os.utime(path, ns=(OLD_TIME * 10**9, OLD_TIME * 10**9))
    return path


def issue(code: str, **where) -> Issue:
    assert code in CATALOGUE
    return make_issue(code, **{"file": FILE, **where})


def annotate(source: Path, issues, out: Path | None = None) -> tuple[AnnotateSummary, Path]:
    out = out or source.with_name("annotated.xlsx")
    return write_annotated_copy(source, issues, out, file_name=FILE), out


def fill_of(cell) -> str | None:
    if cell.fill is None or cell.fill.fill_type != "solid":
        return None
    return str(cell.fill.fgColor.rgb)[-6:]


def marked_cells(sheet) -> dict[str, str]:
    return {c.coordinate: fill_of(c) for row in sheet.iter_rows() for c in row if fill_of(c)}


def commented_cells(sheet) -> set[str]:
    return {c.coordinate for row in sheet.iter_rows() for c in row if c.comment is not None}


def issue_rows(workbook, title: str = "Issues") -> list[tuple]:
    return list(workbook[title].iter_rows(values_only=True))


BASIC = [
    issue(
        "format-invalid",
        sheet="Data",
        cell="B2",
        row=2,
        column="Postcode",
        record_id="ENT-1",
        value="NOT A POSTCODE",
        field_hint="Enter a full UK postcode such as WR5 2NP.",
    ),
    issue(
        "number-invalid",
        sheet="Data",
        cell="C3",
        row=3,
        column="Paid workers",
        record_id="ENT-2",
        value="three",
    ),
    issue("column-unknown", sheet="Data", cell="C1", row=1, column="Paid workers"),
]


# ---- the Issues sheet


def test_the_issues_sheet_comes_first_with_one_row_per_issue(tmp_path):
    summary, out = annotate(make_source(tmp_path), BASIC)
    workbook = openpyxl.load_workbook(out)
    assert workbook.sheetnames == ["Issues", "Data", "O'Brien"]
    assert workbook.active.title == "Issues"
    assert not workbook["Data"].sheet_view.tabSelected
    rows = issue_rows(workbook)
    assert list(rows[0]) == HEADINGS
    assert rows[1:] == [
        (
            "format-invalid",
            "error",
            "Data",
            "B2",
            "Postcode",
            "ENT-1",
            "'NOT A POSTCODE' is not a valid Postcode.",
            "Enter a full UK postcode such as WR5 2NP.",
        ),
        (
            "number-invalid",
            "error",
            "Data",
            "C3",
            "Paid workers",
            "ENT-2",
            "'three' in 'Paid workers' is not a number.",
            "Enter a number only, without words or units.",
        ),
        (
            "column-unknown",
            "warning",
            "Data",
            "C1",
            "Paid workers",
            None,
            "The column 'Paid workers' does not match any field and was ignored.",
            "Rename it to a heading from the template, or remove it.",
        ),
    ]
    assert summary == AnnotateSummary(cells_marked=3, issues_listed=3, notes=())


def test_the_issues_sheet_has_frozen_header_filter_widths_and_links(tmp_path):
    _, out = annotate(make_source(tmp_path), BASIC)
    sheet = openpyxl.load_workbook(out)["Issues"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:H4"
    assert all(c.font.bold for c in sheet[1])
    widths = {h: sheet.column_dimensions[chr(ord("A") + i)].width for i, h in enumerate(HEADINGS)}
    assert widths["Message"] > widths["Cell"] and 6 <= widths["Cell"] <= 12
    assert widths["Hint"] <= 60 and widths["Message"] <= 80
    links = [sheet.cell(row=r, column=4) for r in range(2, 5)]
    assert [c.hyperlink.location for c in links] == ["'Data'!B2", "'Data'!C3", "'Data'!C1"]
    assert all(c.style == "Hyperlink" for c in links)
    assert all(not c.hyperlink.target for c in links)  # internal: no external relationship


def test_link_targets_name_cells_that_hold_the_bad_values(tmp_path):
    source = make_source(tmp_path)
    _, out = annotate(source, BASIC)
    workbook = openpyxl.load_workbook(out)
    for row in workbook["Issues"].iter_rows(min_row=2):
        location = row[3].hyperlink.location
        sheet_part, cell = location.rsplit("!", 1)
        sheet = workbook[sheet_part.strip("'").replace("''", "'")]
        assert sheet[cell].comment is not None
        assert f"[{row[0].value}]" in sheet[cell].comment.text


def test_a_sheet_name_with_an_apostrophe_is_quoted_in_the_link(tmp_path):
    issues = [issue("value-required", sheet="O'Brien", cell="D5", row=5, column="Name")]
    _, out = annotate(make_source(tmp_path), issues)
    workbook = openpyxl.load_workbook(out)
    assert workbook["Issues"]["D2"].hyperlink.location == "'O''Brien'!D5"
    assert fill_of(workbook["O'Brien"]["D5"]) == RED


def test_only_this_files_issues_are_used(tmp_path):
    others = [
        make_issue("format-invalid", file="other.xlsx", sheet="Data", cell="A2", value="x"),
        make_issue("format-invalid", file=None, sheet="Data", cell="A3", value="x"),
    ]
    summary, out = annotate(make_source(tmp_path), [*others, BASIC[0]])
    workbook = openpyxl.load_workbook(out)
    assert len(issue_rows(workbook)) == 2
    assert set(marked_cells(workbook["Data"])) == {"B2"}
    assert (summary.cells_marked, summary.issues_listed) == (1, 1)


def test_no_issues_still_writes_a_copy_with_an_empty_issues_sheet(tmp_path):
    summary, out = annotate(make_source(tmp_path), [])
    workbook = openpyxl.load_workbook(out)
    assert issue_rows(workbook) == [tuple(HEADINGS)]
    assert marked_cells(workbook["Data"]) == {}
    assert summary == AnnotateSummary(0, 0, ())


@pytest.mark.parametrize(
    ("existing", "expected"),
    [(("Issues",), "Issues (mectk)"), (("issues", "Issues (MECTK)"), "Issues 2")],
)
def test_an_existing_issues_sheet_is_kept_and_the_new_one_renamed(tmp_path, existing, expected):
    source = make_source(tmp_path, extra_sheets=existing)
    _, out = annotate(source, BASIC)
    workbook = openpyxl.load_workbook(out)
    assert workbook.sheetnames[0] == expected
    assert workbook.sheetnames[1:] == ["Data", "O'Brien", *existing]
    assert workbook[existing[0]]["A1"].value == f"the person's own {existing[0]} sheet"
    assert len(issue_rows(workbook, expected)) == 4


def test_an_issue_on_the_persons_own_issues_sheet_marks_that_sheet(tmp_path):
    source = make_source(tmp_path, extra_sheets=("Issues",))
    issues = [issue("value-required", sheet="Issues", cell="A1", row=1, column="Note")]
    _, out = annotate(source, issues)
    workbook = openpyxl.load_workbook(out)
    assert fill_of(workbook["Issues"]["A1"]) == RED
    assert workbook["Issues (mectk)"]["D2"].hyperlink.location == "'Issues'!A1"


# ---- marks on cells


def test_fills_and_comments_are_on_exactly_the_bad_cells(tmp_path):
    _, out = annotate(make_source(tmp_path), BASIC)
    data = openpyxl.load_workbook(out)["Data"]
    assert marked_cells(data) == {"B2": RED, "C3": RED, "C1": AMBER}
    assert commented_cells(data) == {"B2", "C3", "C1", "B3"}  # B3 had a comment already
    assert data["B2"].comment.text.startswith(
        "[format-invalid] 'NOT A POSTCODE' is not a valid Postcode.\n"
        "Hint: Enter a full UK postcode such as WR5 2NP."
    )
    assert data["B2"].value == "NOT A POSTCODE"  # values are not touched
    assert data["C3"].value == "three"


def test_the_worst_severity_wins_and_all_issues_share_one_comment(tmp_path):
    issues = [
        issue(
            "code-unmapped",
            sheet="Data",
            cell="A2",
            column="Enterprise ID",
            value="ENT-1",
            allowed="A, B",
        ),
        issue(
            "format-invalid",
            sheet="Data",
            cell="A2",
            column="Enterprise ID",
            value="ENT-1",
            field_hint="Use the ENT-nnn form.",
        ),
        issue("value-required", sheet="Data", cell="A2", column="Enterprise ID", severity="info"),
        issue("column-unknown", sheet="Data", cell="A3", column="x"),
        issue("value-required", sheet="Data", cell="A4", column="y", severity="info"),
    ]
    summary, out = annotate(make_source(tmp_path), issues)
    data = openpyxl.load_workbook(out)["Data"]
    assert marked_cells(data) == {"A2": RED, "A3": AMBER, "A4": BLUE}
    text = data["A2"].comment.text
    codes = [line.split("]")[0] + "]" for line in text.splitlines() if line.startswith("[")]
    assert codes == ["[format-invalid]", "[code-unmapped]", "[value-required]"]  # worst first
    assert "Hint: Use the ENT-nnn form." in text and "Hint: Choose one of: A, B." in text
    assert summary.cells_marked == 3 and summary.issues_listed == 5


def test_the_same_issue_twice_is_listed_twice_but_commented_once(tmp_path):
    summary, out = annotate(make_source(tmp_path), [BASIC[0], BASIC[0]])
    workbook = openpyxl.load_workbook(out)
    assert len(issue_rows(workbook)) == 3
    assert workbook["Data"]["B2"].comment.text.count("[format-invalid]") == 1
    assert summary.cells_marked == 1


def test_an_existing_comment_is_kept_after_a_separator(tmp_path):
    issues = [
        issue(
            "format-invalid",
            sheet="Data",
            cell="B3",
            column="Postcode",
            value="WR5 2NP",
            field_hint="Check it.",
        )
    ]
    _, out = annotate(make_source(tmp_path), issues)
    comment = openpyxl.load_workbook(out)["Data"]["B3"].comment
    mine, _, old = comment.text.partition("────────────")
    assert mine.startswith("[format-invalid]")
    assert "Alice" in old and old.rstrip().endswith("Checked with the owner.")


def test_an_untouched_existing_comment_stays_as_it_was(tmp_path):
    _, out = annotate(make_source(tmp_path), BASIC)
    comment = openpyxl.load_workbook(out)["Data"]["B3"].comment
    assert (comment.text, comment.author) == ("Checked with the owner.", "Alice")


def test_a_row_issue_marks_the_rows_first_used_cell(tmp_path):
    issues = [
        issue("column-missing", sheet="Data", row=1, column="Legal form"),
        issue("column-missing", sheet="O'Brien", row=5, column="Legal form"),
        issue("column-missing", sheet="O'Brien", row=9, column="Legal form"),  # an empty row
    ]
    summary, out = annotate(make_source(tmp_path), issues)
    workbook = openpyxl.load_workbook(out)
    assert marked_cells(workbook["Data"]) == {"A1": RED}
    assert marked_cells(workbook["O'Brien"]) == {"C5": RED, "C9": RED}
    links = [workbook["Issues"].cell(row=r, column=4) for r in (2, 3, 4)]
    assert [c.value for c in links] == ["Row 1", "Row 5", "Row 9"]
    assert [c.hyperlink.location for c in links] == ["'Data'!A1", "'O''Brien'!C5", "'O''Brien'!C9"]
    assert summary.cells_marked == 3


def test_a_sheet_only_issue_is_listed_but_not_marked(tmp_path):
    issues = [issue("header-not-found", sheet="Data")]
    summary, out = annotate(make_source(tmp_path), issues)
    workbook = openpyxl.load_workbook(out)
    row = workbook["Issues"][2]
    assert row[0].value == "header-not-found" and row[2].value == "Data"
    assert row[3].value is None and row[3].hyperlink is None
    assert marked_cells(workbook["Data"]) == {}
    assert summary == AnnotateSummary(cells_marked=0, issues_listed=1, notes=())


def test_a_cell_inside_a_merged_range_marks_the_range(tmp_path):
    issues = [issue("value-required", sheet="Data", cell="B7", row=7, column="Note")]
    _, out = annotate(make_source(tmp_path), issues)
    workbook = openpyxl.load_workbook(out)
    assert marked_cells(workbook["Data"]) == {"A6": RED}
    assert workbook["Data"]["A6"].comment is not None
    assert workbook["Issues"]["D2"].value == "B7"
    assert workbook["Issues"]["D2"].hyperlink.location == "'Data'!A6"


def test_missing_sheets_and_impossible_cells_are_listed_not_marked(tmp_path):
    issues = [
        issue("value-required", sheet="Nowhere", cell="A2", row=2, column="x"),
        issue("value-required", sheet="Data", cell="ZZZZ9", row=9, column="x"),
        issue("value-required", sheet="Data", cell="A0", column="x"),
        issue("value-required", sheet="Data", cell="not a cell", column="x"),
        issue("column-missing", sheet="Data", row=2_000_000, column="x"),
        BASIC[0],
    ]
    summary, out = annotate(make_source(tmp_path), issues)
    workbook = openpyxl.load_workbook(out)
    rows = issue_rows(workbook)
    assert len(rows) == 7
    assert [r[3] for r in rows[1:]] == ["A2", "ZZZZ9", "A0", "not a cell", "Row 2000000", "B2"]
    assert [workbook["Issues"].cell(row=r, column=4).hyperlink is None for r in range(2, 8)] == [
        True,
        True,
        True,
        True,
        True,
        False,
    ]
    assert workbook.sheetnames == ["Issues", "Data", "O'Brien"]
    assert marked_cells(workbook["Data"]) == {"B2": RED}
    assert summary.cells_marked == 1 and summary.issues_listed == 6
    (note,) = summary.notes
    assert note.startswith("5 issue(s) name a sheet or cell not in the workbook")
    assert "sheet 'Nowhere'" in note


def test_sheet_names_match_without_regard_to_case(tmp_path):
    issues = [issue("value-required", sheet="DATA", cell="a2", column="x")]
    summary, out = annotate(make_source(tmp_path), issues)
    workbook = openpyxl.load_workbook(out)
    assert marked_cells(workbook["Data"]) == {"A2": RED}
    assert workbook["Issues"]["D2"].hyperlink.location == "'Data'!A2"
    assert summary.cells_marked == 1


def test_a_mark_on_a_hidden_sheet_is_noted(tmp_path):
    source = make_source(tmp_path)
    workbook = openpyxl.load_workbook(source)
    workbook["O'Brien"].sheet_state = "hidden"
    workbook.save(source)
    summary, _ = annotate(source, [issue("value-required", sheet="O'Brien", cell="A1")])
    assert any("hidden" in note and "O'Brien" in note for note in summary.notes)


# ---- text safety


def test_formula_looking_text_stays_text(tmp_path):
    issues = [
        issue(
            "out-of-range",
            sheet="Data",
            cell="C2",
            column="@Paid",
            record_id="-12",
            value="=1+1",
            reason="+2 too many",
        ),
        issue(
            "format-invalid",
            sheet="Data",
            cell="C4",
            column="\tTabbed",
            record_id="+7",
            value="x",
            field_hint='=HYPERLINK("http://example.invalid","click")',
        ),
    ]
    _, out = annotate(make_source(tmp_path), issues)
    sheet = openpyxl.load_workbook(out)["Issues"]
    texts = [c for row in sheet.iter_rows(min_row=2) for c in row if c.value is not None]
    looking = [c for c in texts if str(c.value).startswith(("=", "+", "-", "@", "\t"))]
    assert {c.value for c in looking} >= {
        "=1+1 in '@Paid' is out of range: +2 too many.",
        "-12",
        "+7",
        "@Paid",
        '=HYPERLINK("http://example.invalid","click")',
        "\tTabbed",
    }
    assert all(c.data_type == "s" for c in looking)
    with zipfile.ZipFile(out) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "<f " not in xml


def test_long_text_is_cut_with_a_marker(tmp_path):
    reason = "x" * 40_000
    issues = [issue("out-of-range", sheet="Data", cell="C2", column="Paid", value=5, reason=reason)]
    _, out = annotate(make_source(tmp_path), issues)
    workbook = openpyxl.load_workbook(out)
    message = workbook["Issues"]["G2"].value
    assert len(message) == 32_767 and message.endswith("…(truncated)")
    comment = workbook["Data"]["C2"].comment.text
    assert len(comment) <= 32_767 and comment.endswith("…(truncated)")


def test_control_characters_are_shown_not_written(tmp_path):
    issues = [
        issue(
            "format-invalid",
            sheet="Data",
            cell="B2",
            column="Postcode",
            value="AB\x07C\x00",
            field_hint="Check it.",
        )
    ]
    _, out = annotate(make_source(tmp_path), issues)
    workbook = openpyxl.load_workbook(out)
    assert workbook["Issues"]["G2"].value == "'AB\\x07C\\x00' is not a valid Postcode."
    assert "AB\\x07C" in workbook["Data"]["B2"].comment.text


# ---- files


def test_the_original_is_untouched_and_no_temporary_files_remain(tmp_path):
    source = make_source(tmp_path)
    before = (source.read_bytes(), source.stat().st_mtime_ns)
    _, out = annotate(source, BASIC)
    assert (source.read_bytes(), source.stat().st_mtime_ns) == before
    assert source.stat().st_mtime_ns == OLD_TIME * 10**9
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([FILE, out.name])


def test_an_error_while_saving_leaves_no_output_and_no_temporary_file(tmp_path, monkeypatch):
    source = make_source(tmp_path)
    before = (source.read_bytes(), source.stat().st_mtime_ns)

    def broken_save(self, filename):
        Path(filename).write_bytes(b"PK\x03\x04 half a workbook")
        raise OSError("disk full")

    monkeypatch.setattr(openpyxl.Workbook, "save", broken_save)
    out = tmp_path / "annotated.xlsx"
    with pytest.raises(OSError, match="disk full"):
        write_annotated_copy(source, BASIC, out, file_name=FILE)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == [FILE]
    assert (source.read_bytes(), source.stat().st_mtime_ns) == before


def test_an_error_while_saving_leaves_an_older_output_as_it_was(tmp_path, monkeypatch):
    source = make_source(tmp_path)
    out = tmp_path / "annotated.xlsx"
    out.write_bytes(b"the previous copy")

    def broken_save(self, filename):
        raise RuntimeError("boom")

    monkeypatch.setattr(openpyxl.Workbook, "save", broken_save)
    with pytest.raises(RuntimeError):
        write_annotated_copy(source, BASIC, out, file_name=FILE)
    assert out.read_bytes() == b"the previous copy"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([FILE, out.name])


def test_an_older_output_is_replaced(tmp_path):
    source = make_source(tmp_path)
    out = tmp_path / "annotated.xlsx"
    out.write_bytes(b"the previous copy")
    annotate(source, BASIC, out)
    assert openpyxl.load_workbook(out).sheetnames[0] == "Issues"


def test_the_output_may_not_be_the_source(tmp_path):
    source = make_source(tmp_path)
    before = source.read_bytes()
    (tmp_path / "sub").mkdir()
    for out in (source, tmp_path / "sub" / ".." / FILE):
        with pytest.raises(UsageError, match="overwrite the original"):
            write_annotated_copy(source, BASIC, out, file_name=FILE)
    link = tmp_path / "link.xlsx"
    os.link(source, link)
    with pytest.raises(UsageError, match="overwrite the original"):
        write_annotated_copy(source, BASIC, link, file_name=FILE)
    assert source.read_bytes() == before


@pytest.mark.parametrize("name", ["annotated.xlsm", "annotated.xls", "annotated"])
def test_the_output_must_be_named_xlsx(tmp_path, name):
    with pytest.raises(UsageError, match=r"must end in \.xlsx"):
        write_annotated_copy(make_source(tmp_path), BASIC, tmp_path / name, file_name=FILE)
    assert not (tmp_path / name).exists()


def test_the_output_folder_must_exist(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        annotate(make_source(tmp_path), BASIC, tmp_path / "missing" / "out.xlsx")


def test_a_missing_source_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="no such file"):
        annotate(tmp_path / FILE, BASIC)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"Enterprise ID,Postcode\nENT-1,XX\n", "plain text"),
        (b"PK\x03\x04 not really a zip", "corrupt"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "legacy .xls"),
        (b"", "empty file"),
    ],
)
def test_a_source_that_is_not_a_workbook_is_a_source_error(tmp_path, content, words):
    source = tmp_path / FILE
    source.write_bytes(content)
    with pytest.raises(SourceError) as caught:
        annotate(source, BASIC)
    assert FILE in caught.value.message and words in caught.value.message
    assert not (tmp_path / "annotated.xlsx").exists()
    assert [p.name for p in tmp_path.iterdir()] == [FILE]


def test_a_zip_that_is_not_a_workbook_is_a_source_error(tmp_path):
    source = tmp_path / FILE
    with zipfile.ZipFile(source, "w") as archive:
        archive.writestr("hello.txt", "hello")
    with pytest.raises(SourceError, match=r"only of an \.xlsx or \.xlsm workbook"):
        annotate(source, BASIC)


def test_a_workbook_openpyxl_cannot_load_is_a_source_error(tmp_path):
    source = tmp_path / FILE
    good = make_source(tmp_path, "good.xlsx")
    with zipfile.ZipFile(good) as old, zipfile.ZipFile(source, "w") as new:
        for item in old.infolist():
            data = old.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = b"<worksheet><sheetData><row"  # truncated XML
            new.writestr(item, data)
    with pytest.raises(SourceError, match="cannot be"):
        annotate(source, BASIC)


def test_a_macro_enabled_source_loses_its_macros_and_says_so(tmp_path):
    plain = make_source(tmp_path, "plain.xlsx")
    source = tmp_path / "tracker.xlsm"
    with zipfile.ZipFile(plain) as old, zipfile.ZipFile(source, "w") as new:
        for item in old.infolist():
            new.writestr(item, old.read(item))
        new.writestr("xl/vbaProject.bin", b"\x00fake VBA project")
    summary = write_annotated_copy(source, BASIC, tmp_path / "out.xlsx", file_name=FILE)
    assert any("macros" in note and "dropped" in note for note in summary.notes)
    with zipfile.ZipFile(tmp_path / "out.xlsx") as archive:
        assert "xl/vbaProject.bin" not in archive.namelist()
        content_types = archive.read("[Content_Types].xml").decode()
    assert "macroEnabled" not in content_types
    assert summary.cells_marked == 3


def test_a_source_named_oddly_is_read_by_its_content(tmp_path):
    source = make_source(tmp_path, "tracker.data")
    summary = write_annotated_copy(source, BASIC, tmp_path / "out.xlsx", file_name=FILE)
    assert summary.cells_marked == 3


def test_a_copy_of_a_template_is_a_plain_workbook(tmp_path):
    source = make_source(tmp_path)
    workbook = openpyxl.load_workbook(source)
    workbook.template = True
    template = tmp_path / "tracker.xltx"
    workbook.save(template)
    out = tmp_path / "out.xlsx"
    write_annotated_copy(template, BASIC, out, file_name=FILE)
    with zipfile.ZipFile(out) as archive:
        assert "template" not in archive.read("[Content_Types].xml").decode()


# ---- end to end


def test_end_to_end_from_validation_to_annotated_copy(tmp_path):
    from mectk.pipeline import validate_files
    from mectk.plugin_manager import build_registry, make_plugin_manager
    from mectk.template import write_workbook

    path = tmp_path / "canonical.xlsx"
    write_workbook(path)
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Enterprises"]
    column = {c.value: c.column_letter for c in sheet[1]}
    sheet[f"{column['Enterprise ID']}2"] = "ENT-1"
    sheet[f"{column['Trading name']}2"] = "Acme Care"
    postcode = f"{column['Base postcode']}2"
    sheet[postcode] = "NOT A POSTCODE"
    workbook.save(path)

    result = validate_files(build_registry(make_plugin_manager(load_entrypoints=False)), [path])
    bad = [i for i in result.issues if i.code == "format-invalid"]
    assert [(i.sheet, i.cell) for i in bad] == [("Enterprises", postcode)]

    out = tmp_path / "annotated.xlsx"
    summary = write_annotated_copy(path, result.issues, out, file_name=path.name)
    assert summary.issues_listed == len(result.issues)
    assert summary.cells_marked == len({(i.sheet, i.cell) for i in result.issues})
    assert summary.notes == ()

    copy = openpyxl.load_workbook(out)
    assert copy.sheetnames[0] == "Issues"
    assert copy.sheetnames[1:] == openpyxl.load_workbook(path).sheetnames
    enterprises = copy["Enterprises"]
    assert fill_of(enterprises[postcode]) == RED
    assert enterprises[postcode].value == "NOT A POSTCODE"
    text = enterprises[postcode].comment.text
    assert text.startswith("[format-invalid] '***' is not a valid Base postcode.")
    assert "Hint: Enter a full UK postcode" in text
    heading = f"{column['Base postcode']}1"  # the template's own heading note is untouched
    original_note = openpyxl.load_workbook(path)["Enterprises"][heading].comment.text
    assert enterprises[heading].comment.text == original_note
    assert fill_of(enterprises[heading]) != RED
    rows = issue_rows(copy)
    assert ("format-invalid", "error", "Enterprises", postcode, "Base postcode", "ENT-1") in [
        r[:6] for r in rows
    ]
    links = {c.hyperlink.location for c in copy["Issues"]["D"][1:]}
    assert f"'Enterprises'!{postcode}" in links
    # the annotated copy still validates the same way: the Issues sheet is not read as data
    again = validate_files(build_registry(make_plugin_manager(load_entrypoints=False)), [out])
    assert {(i.code, i.cell) for i in again.issues} == {(i.code, i.cell) for i in result.issues}
