"""Every page of the web app through Starlette's test client, on real files and a real
SQLite register: validate, results, every issue, downloads, import, register, reports."""

from __future__ import annotations

import csv
import io
import json
import re

import openpyxl
import pytest

from mectk.pipeline import validate_files
from mectk.plugin_manager import build_registry, make_plugin_manager

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def validated(client, sample_xlsx):
    response = client.upload(("sample-canonical.xlsx", sample_xlsx.read_bytes()))
    assert response.status_code == 200, response.text
    return client.run_url(response), response.text


def test_home_and_forms_render(client):
    for path in ("/", "/validate", "/reports"):
        response = client.get(path)
        assert response.status_code == 200
        assert "<h1>" in response.text
    assert 'name="files"' in client.get("/validate").text
    assert "summary:xlsx" in client.get("/reports").text


def test_results_show_counts_first_the_same_as_the_library(validated, sample_xlsx):
    _url, html = validated
    expected = validate_files(build_registry(make_plugin_manager()), [sample_xlsx])
    for key, value in (
        ("read", expected.rows_read),
        ("accepted", expected.accepted),
        ("rejected", expected.rejected),
        ("blank", expected.blank_rows),
    ):
        assert re.search(rf'id="count-{key}">{value}<', html), key
    assert html.index('id="count-read"') < html.index('class="group')
    # the format was identified, and the page says by whom and from what
    assert "identified as &#39;canonical&#39;" in html
    assert "by plugin &#39;canonical-workbook&#39;" in html
    # issues grouped by code: one section per code, with its count and hint
    codes = {i.code for i in expected.issues}
    assert codes == set(re.findall(r'<section class="group sev-\w+" id="code-([\w-]+)"', html))
    assert "How to fix:" in html
    # the chart is inline SVG with one bar per code
    assert html.count('<g class="bar tone-') == len(codes)


def test_context_grid_marks_the_bad_cell_under_its_heading(validated):
    _url, html = validated
    group = html[html.index('id="code-date-invalid"') :]
    grid = group[group.index('<table class="sheet"') : group.index("</table>")]
    assert 'aria-label="Cells around F5"' in grid
    assert re.search(r'<td class="example"[^>]*>31/02/2025</td>', grid)
    assert grid.count('class="example"') == 1
    heading = grid[
        grid.index('class="heading-row"') : grid.index("</tr>", grid.index("heading-row"))
    ]
    assert "Episode date" in heading
    rows = re.findall(r'<th scope="row">(\d+)</th>', grid)
    assert rows == ["1", "4", "5", "6"]
    assert ">None<" not in html  # empty cells are empty, below the data too


def test_personal_columns_are_masked_in_grids_unless_revealed(validated, client):
    url, html = validated
    postcode = html[html.index('id="code-format-invalid"') :]
    postcode = postcode[: postcode.index("</table>")]
    assert re.search(r'<td class="example"[^>]*>\*\*\*</td>', postcode)
    shown = client.get(f"{url}?personal=show").text
    postcode = shown[shown.index('id="code-format-invalid"') :]
    postcode = postcode[: postcode.index("</table>")]
    cell = re.search(r'<td class="example"[^>]*>([^<]*)</td>', postcode)
    assert cell and cell[1] not in ("***", "")


def test_every_issue_page_filters_and_pages(make_client, sample_xlsx):
    with make_client(issues_per_page=2) as small:
        url = small.run_url(small.upload(("s.xlsx", sample_xlsx.read_bytes())))
        first = small.get(f"{url}/issues")
        assert "5 issues; showing 1\u20132" in first.text
        assert "Page 1 of 3" in first.text
        last = small.get(f"{url}/issues", params={"page": "3"})
        assert "showing 5\u20135" in last.text
        errors = small.get(f"{url}/issues", params={"severity": "error"})
        assert "4 issues" in errors.text
        assert "code-unmapped</code>" not in errors.text.split('id="issue-total"')[1]
        one = small.get(
            f"{url}/issues", params={"code": "id-duplicate", "sheet": "Support episodes"}
        )
        assert "1 issue;" in one.text and "EP-0100" in one.text
        none = small.get(f"{url}/issues", params={"sheet": "Enterprises", "code": "id-duplicate"})
        assert "0 issues." in none.text


def test_downloads_annotated_json_and_csv(validated, client, tmp_path):
    url, _html = validated
    annotated = client.get(f"{url}/annotated/0")
    assert annotated.status_code == 200 and annotated.headers["content-type"] == XLSX
    assert "sample-canonical-checked.xlsx" in annotated.headers["content-disposition"]
    path = tmp_path / "checked.xlsx"
    path.write_bytes(annotated.content)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[0] == "Issues"
    cell = book["Support episodes"]["F5"]
    assert cell.fill.fgColor.rgb.endswith("FFC7CE")
    assert "date-invalid" in cell.comment.text

    report = client.get(f"{url}/report.json")
    document = json.loads(report.content)
    assert "attachment" in report.headers["content-disposition"]
    assert document["counts"]["rows_read"] == 39
    assert [f["path"] for f in document["files"]] == ["sample-canonical.xlsx"]
    assert len(document["issues"]) == sum(document["counts"]["issues"].values())

    issues = client.get(f"{url}/issues.csv")
    rows = list(csv.reader(io.StringIO(issues.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["code", "severity"]
    assert len(rows) - 1 == len(document["issues"])


def test_import_confirms_then_loads_a_batch(validated, client):
    url, _html = validated
    confirm = client.get(f"{url}/import")
    text = _text(confirm.text)
    assert "Will be loaded" in text and "35 accepted records" in text
    assert "4 rejected rows" in text and "Will not be loaded" in text
    done = client.submit(f"{url}/import")
    assert done.status_code == 200
    assert done.url.path == "/register/batches"
    assert "Imported as batch 1." in done.text
    assert "sample-canonical.xlsx" in done.text
    again = client.submit(f"{url}/import")
    assert "Imported as batch 1." in again.text  # the same run is not imported twice


def test_reimporting_the_same_file_is_refused_then_forced(client, sample_xlsx):
    first = client.run_url(client.upload(("a.xlsx", sample_xlsx.read_bytes())))
    client.submit(f"{first}/import")
    second = client.run_url(client.upload(("a.xlsx", sample_xlsx.read_bytes())))
    refused = client.submit(f"{second}/import")
    assert refused.status_code == 409
    assert "already imported in batch 1" in refused.text
    assert 'name="force"' in refused.text
    forced = client.submit(f"{second}/import", force="yes")
    assert "Imported as batch 2." in forced.text


def test_register_pages_after_an_import(validated, client, sample_xlsx):
    url, _html = validated
    client.submit(f"{url}/import")
    overview = client.get("/register")
    assert overview.status_code == 200
    assert "2025-26" in overview.text and overview.text.count("<svg") == 2
    assert "Enterprises trading at period end" in overview.text
    listing = client.get("/register/enterprises")
    assert "CS-0001" in listing.text and "***" in listing.text
    assert "Tracker" not in listing.text
    found = client.get("/register/enterprises", params={"q": "cs-0002"})
    assert "1 enterprise." in _text(found.text)
    statuses = re.findall(r"<option>(\w+)</option>", listing.text.split('id="status"')[1])
    assert statuses
    by_status = client.get("/register/enterprises", params={"status": statuses[0]})
    assert "CS-" in by_status.text
    none = client.get("/register/enterprises", params={"locality": "NOWHERE"})
    assert "0 enterprises." in _text(none.text)

    page = client.get("/register/enterprises/CS-0001")
    assert "Current state" in page.text and "History" in page.text
    assert "first seen" in page.text
    assert "sample-canonical.xlsx!Enterprises!2" in page.text
    masked = re.search(
        r"<th scope=\"row\">Trading name <code>trading_name</code></th><td>([^<]*)</td>", page.text
    )
    assert masked and masked[1] == "***"
    shown = client.get("/register/enterprises/CS-0001", params={"personal": "show"})
    name = re.search(
        r"<th scope=\"row\">Trading name <code>trading_name</code></th>"
        r"<td>([^<]*)</td><td>([^<]*)</td>",
        shown.text,
    )
    sheet = openpyxl.load_workbook(sample_xlsx)["Enterprises"]
    heading = next(c for c in sheet[1] if c.value == "Trading name")
    assert name and name[1] == sheet.cell(2, heading.column).value
    assert name[2] == f"{heading.column_letter}2"  # the cell the value came from

    assert client.get("/register/enterprises/NOPE-1").status_code == 404
    batches = client.get("/register/batches")
    assert 'id="batch-1"' in batches.text
    diff = client.get("/register/diff", params={"since": "1"})
    assert "Since batch 1, up to batch 1: 0 added, 0 changed, 0 closed" in _text(diff.text)


def test_register_pages_without_a_register_say_so(client):
    for path in ("/register", "/register/batches", "/register/enterprises", "/register/diff"):
        response = client.get(path)
        assert response.status_code == 404
        assert "Nothing has been imported" in response.text


def test_report_download(validated, client, tmp_path):
    url, _html = validated
    client.submit(f"{url}/import")
    response = client.submit(
        "/reports", report="summary:xlsx", period="2025-26-Q1", profile="external"
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX
    assert "report-summary-2025-26-Q1.xlsx" in response.headers["content-disposition"]
    path = tmp_path / "report.xlsx"
    path.write_bytes(response.content)
    assert openpyxl.load_workbook(path).sheetnames
    as_json = client.submit("/reports", report="summary:json", period="2025-26-Q1")
    assert json.loads(as_json.content)
    bad = client.submit("/reports", report="summary:xlsx", period="2025-27")
    assert bad.status_code == 400 and "not a financial year" in bad.text


def test_mapping_file_and_period_read_a_council_layout(client, council_xlsx):
    path, mapping = council_xlsx
    response = client.upload(
        ("council-tracker.xlsx", path.read_bytes()),
        mapping=("county-tracker.toml", mapping),
        period="2025-26-Q1",
    )
    assert response.status_code == 200, response.text
    assert "read by the mapping file county-tracker.toml" in response.text
    assert 'id="code-date-invalid"' in response.text
    group = response.text[response.text.index('id="code-date-invalid"') :]
    grid = group[: group.index("</table>")]
    assert "Date of first contact" in grid  # the heading row is row 4, under a banner
    assert re.search(r'<td class="example"[^>]*>31/02/2025</td>', grid)


def test_faults_become_pages_with_a_hint(client):
    unknown = client.upload(("notes.txt", b"\x00\x01\x02binary"))
    assert unknown.status_code == 422
    assert "binary file of unknown type" in unknown.text
    assert "Traceback" not in unknown.text
    period = client.upload(("a.csv", b"a,b\n1,2\n"), period="next week")
    assert period.status_code == 400 and "is not a period" in period.text
    nothing = client.upload()
    assert nothing.status_code == 400 and "No file chosen" in nothing.text
    gone = client.get("/runs/not-a-run")
    assert gone.status_code == 404 and "no longer here" in gone.text
    assert client.get("/no/such/page").status_code == 404


def test_a_csv_gets_context_grids_too(client):
    pytest.importorskip("mectk_example", reason="needs the example plugin (pip install plugins/*)")
    text = (
        "Ref,Name,Area,Status,First contact\r\n"
        "EX-1,One,L-NORTH,trading,01/04/2025\r\n"
        "EX-2,Two,L-SOUTH,trading,31/02/2025\r\n"
        "EX-3,Three,L-VALE,trading,02/04/2025\r\n"
    )
    response = client.upload(("directory.csv", text.encode()))
    assert response.status_code == 200, response.text
    assert "identified as &#39;example-directory-csv&#39;" in response.text
    group = response.text[response.text.index('id="code-date-invalid"') :]
    grid = group[: group.index("</table>")]
    assert 'aria-label="Cells around E3"' in grid
    assert re.search(r'<td class="example"[^>]*>31/02/2025</td>', grid)
    assert re.findall(r'<th scope="row">(\d+)</th>', grid) == ["1", "2", "3", "4"]
    assert "First contact" in grid.split('class="heading-row"')[1].split("</tr>")[0]
