"""End to end in headless Chromium (Debian's ``chromium``) driven by Playwright: the whole
job as a data officer does it, by mouse and by keyboard, with and without JavaScript.

Skips, saying why, where /usr/bin/chromium or Playwright is absent. With
``MECTK_SCREENSHOTS=1`` the pages are saved to ``docs/screenshots/``.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.exchange_support import read_zip, rehash, write_zip

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LAPTOP = {"width": 1366, "height": 768}

if not CHROMIUM.exists():
    pytest.skip(
        "browser tests need Debian's chromium at /usr/bin/chromium (apt-get install chromium)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="browser tests need the playwright package (the test extra)"
)


def _shot(page: Any, name: str) -> None:
    if os.environ.get("MECTK_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app under uvicorn on a free loopback port, with a fresh register."""
    import uvicorn

    from mectk.web import WebSettings, create_app

    folder = tmp_path_factory.mktemp("browser")
    before = Path.cwd()
    os.chdir(folder)  # the register's name on the pages (and screenshots) is just its file name
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(WebSettings(db="register.db"))
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(timeout=20)
    os.chdir(before)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def _own_status(message: Any) -> bool:
    """Whether ``message`` only reports the status of a page itself (a refused package is
    422, a conflict 409, on purpose); a resource the page needs that fails still counts."""
    url = str(message.location.get("url", ""))
    return message.text.startswith("Failed to load resource: the server responded") and (
        "/static/" not in url
    )


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=LAPTOP, accept_downloads=True)
    opened = context.new_page()
    problems: list[str] = []
    opened.on(
        "console",
        lambda m: problems.append(m.text) if m.type == "error" and not _own_status(m) else None,
    )
    yield opened
    context.close()
    assert problems == [], problems  # no CSP violation, no script error


def _upload(page: Any, server: str, path: Path) -> None:
    page.goto(f"{server}/validate")
    page.set_input_files("#files", str(path))
    page.get_by_role("button", name="Validate").click()
    page.wait_for_url("**/runs/*")


def test_the_whole_job_in_a_browser(page, server, sample_xlsx, tmp_path):
    page.goto(server)
    _shot(page, "home")
    page.goto(f"{server}/validate")
    _shot(page, "validate")
    _upload(page, server, sample_xlsx)

    # counts first, then the grouped issues with the chart
    assert page.locator("#count-read").inner_text() == "39"
    assert page.locator("#count-rejected").inner_text() == "4"
    assert page.locator("figure.chart svg g.bar").count() == 5
    group = page.locator("#code-date-invalid")
    assert "Not a date" in group.locator("h3").inner_text()
    example = group.locator("table.sheet td.example")
    assert example.count() == 1 and example.inner_text() == "31/02/2025"
    column, row, heading = example.evaluate(
        """cell => {
            const table = cell.closest('table');
            const letter = table.tHead.rows[0].cells[cell.cellIndex].innerText;
            const number = cell.parentElement.cells[0].innerText;
            const heading = table.querySelector('tr.heading-row').cells[cell.cellIndex].innerText;
            return [letter, number, heading];
        }"""
    )
    assert (column, row, heading) == ("F", "5", "Episode date")
    assert example.evaluate("c => getComputedStyle(c).backgroundColor") == "rgb(255, 199, 206)"
    _shot(page, "results")

    # the marked-up workbook
    with page.expect_download() as download:
        page.get_by_role("link", name="Marked-up copy of sample-canonical.xlsx").click()
    saved = tmp_path / "checked.xlsx"
    download.value.save_as(saved)
    book = openpyxl.load_workbook(saved)
    assert book.sheetnames[0] == "Issues"
    assert "date-invalid" in book["Support episodes"]["F5"].comment.text

    # every issue, filtered
    page.get_by_role("link", name="Every issue (5)").click()
    page.select_option("#f-severity", "warning")
    page.get_by_role("button", name="Filter").click()
    assert page.locator("#issue-total").inner_text().startswith("1 issue")
    _shot(page, "issues")
    page.get_by_role("link", name="Back to the results").click()

    # import, after the confirmation
    page.get_by_role("link", name="Import the accepted records").click()
    assert "35 accepted records" in page.locator("main").inner_text()
    _shot(page, "import")
    page.get_by_role("button", name="Import 35 records").click()
    page.wait_for_url("**/register/batches*")
    assert "Imported as batch 1." in page.locator("main").inner_text()
    _shot(page, "batches")

    # the register: overview, search, one enterprise, personal data revealed on request
    page.goto(f"{server}/register")
    assert page.locator("figure.chart").count() == 2
    _shot(page, "register")
    page.goto(f"{server}/register/enterprises")
    page.fill("#q", "CS-0001")
    page.press("#q", "Enter")
    page.get_by_role("link", name="CS-0001").click()
    name = page.locator("tr", has=page.locator("th", has_text="trading_name")).locator("td").first
    assert name.inner_text() == "***"
    page.get_by_role("link", name="Show personal data").click()
    assert name.inner_text() not in ("***", "")
    _shot(page, "enterprise")

    # a report
    page.goto(f"{server}/reports")
    page.select_option("#report", "summary:xlsx")
    page.fill("#rperiod", "2025-26-Q1")
    _shot(page, "reports")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the report").click()
    report = tmp_path / download.value.suggested_filename
    download.value.save_as(report)
    assert report.name == "report-summary-2025-26-Q1.xlsx"
    assert openpyxl.load_workbook(report).sheetnames


def _ensure_register(page: Any, server: str, sample: Path) -> None:
    """The sample imported, unless an earlier test did it (so each test can run alone)."""
    if page.request.get(f"{server}/register/batches").status != 200:
        _upload(page, server, sample)
        page.get_by_role("link", name="Import the accepted records").click()
        page.get_by_role("button", name="Import 35 records").click()
        page.wait_for_url("**/register/batches*")


def _export_package(page: Any, server: str, folder: Path) -> Path:
    page.goto(f"{server}/exchange")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the package").click()
    saved = folder / download.value.suggested_filename
    download.value.save_as(saved)
    return saved


def test_export_verify_and_receive_a_package_in_a_browser(page, server, sample_xlsx, tmp_path):
    _ensure_register(page, server, sample_xlsx)

    # export: personal data left out unless ticked, and the page says what ticking means
    page.goto(server)
    page.get_by_role("link", name="Exchange", exact=True).first.click()
    page.wait_for_url("**/exchange")
    personal = page.get_by_label("Include personal data")
    assert not personal.is_checked()
    assert "Leave this unticked" in page.locator("#personal-warning").inner_text()
    page.fill("#producer", "Neighbouring Council")
    _shot(page, "exchange")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the package").click()
    package = tmp_path / download.value.suggested_filename
    download.value.save_as(package)
    assert package.name == "package.zip" and "datapackage.json" in read_zip(package)

    # verify it: valid, with the manifest's summary
    page.set_input_files("#vpackage", str(package))
    page.get_by_role("button", name="Verify", exact=True).click()
    page.wait_for_url("**/exchange/verify")
    assert page.locator("#verdict").inner_text().startswith("Valid.")
    assert "Neighbouring Council" in page.locator("dl.facts").inner_text()
    assert page.locator("#personal-included").inner_text() == "none"
    _shot(page, "verify")

    # a tampered copy is refused, its issue code shown
    members = read_zip(package)
    members["data/enterprise.csv"] = members["data/enterprise.csv"].replace(
        b",trading,", b",paused,", 1
    )
    tampered = write_zip(tmp_path / "tampered.zip", members)
    page.goto(f"{server}/exchange")
    page.set_input_files("#vpackage", str(tampered))
    page.get_by_role("button", name="Verify", exact=True).click()
    assert page.locator("#verdict").inner_text().startswith("Not valid.")
    assert "checksum-mismatch" in page.locator("code.issue-code").all_inner_texts()

    # the partner's copy with that enterprise paused, checksums redone: a conflict, by hand
    rehash(members, "data/enterprise.csv")
    partner = write_zip(tmp_path / "partner.zip", members)
    page.goto(f"{server}/exchange")
    page.set_input_files("#rpackage", str(partner))
    page.get_by_role("button", name="Check and continue").click()
    page.wait_for_url("**/exchange/receive/*")
    assert "Will be loaded" in page.locator("main").inner_text()
    _shot(page, "receive")
    page.locator("#receive").click()
    conflict = page.locator("section.conflict")
    assert conflict.count() == 1 and "enterprise CS-0001" in conflict.locator("h3").inner_text()
    row = conflict.locator("tr", has=page.locator("th", has_text="status")).locator("td")
    assert row.all_inner_texts() == ["trading", "paused"]
    _shot(page, "receive-conflict")
    page.get_by_label("Keep ours").check()
    page.get_by_role("button", name="Receive with this choice").click()
    assert "1 kept ours" in page.locator("#verdict").inner_text()


def test_keyboard_alone_reaches_every_field_and_sends_the_form(page, server, sample_xlsx):
    page.goto(f"{server}/validate")
    focused = []
    for _ in range(12):
        page.keyboard.press("Tab")
        focused.append(
            page.evaluate("document.activeElement.id || document.activeElement.innerText")
        )
    order = ["files", "format", "mapping", "period", "encoding", "send"]
    positions = [focused.index(name) for name in order]
    assert positions == sorted(positions), focused
    assert focused[0] == "Skip to content"
    page.set_input_files("#files", str(sample_xlsx))
    page.focus("#encoding")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/runs/*")
    assert page.locator("#count-read").inner_text() == "39"


def test_keyboard_alone_exports_a_package(page, server, sample_xlsx):
    _ensure_register(page, server, sample_xlsx)
    page.goto(f"{server}/exchange")
    focused = []
    for _ in range(16):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.id"))
    order = ["eperiod", "producer", "producer_id", "include_personal", "export-send", "vpackage"]
    positions = [focused.index(name) for name in order]
    assert positions == sorted(positions), focused
    page.focus("#include_personal")
    page.keyboard.press("Space")
    assert page.locator("#include_personal").is_checked()
    page.keyboard.press("Tab")
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    assert download.value.suggested_filename == "package.zip"


def test_it_works_with_javascript_turned_off(browser, server, sample_xlsx, tmp_path):
    context = browser.new_context(viewport=LAPTOP, java_script_enabled=False, accept_downloads=True)
    try:
        page = context.new_page()
        _ensure_register(page, server, sample_xlsx)
        package = _export_package(page, server, tmp_path)
        page.set_input_files("#vpackage", str(package))
        page.get_by_role("button", name="Verify", exact=True).click()
        assert page.locator("#verdict").inner_text().startswith("Valid.")
        _upload(page, server, sample_xlsx)
        assert page.locator("#code-date-invalid td.example").inner_text() == "31/02/2025"
        page.get_by_role("link", name="Every issue (5)").click()
        page.select_option("#f-code", "id-duplicate")
        page.get_by_role("button", name="Filter").click()
        assert page.locator("#issue-total").inner_text().startswith("1 issue")
    finally:
        context.close()


def test_chromium_is_the_one_ci_installs():
    assert shutil.which("chromium") or CHROMIUM.exists()
