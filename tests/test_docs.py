"""The documentation stays in step with the code it describes.

- docs/issue-codes.md has one ``### code`` section per catalogue code, with the
  catalogue's severity, title, message and hint;
- docs/plugin-hooks.md has a heading with each hook's exact signature, says whether the
  hook is collected or firstresult, and its example plugin runs;
- every hook has a ``test_hook_<name>`` in tests/test_plugins.py (datasette's meta-test);
- hookspecs and the public API are documented.
"""

from __future__ import annotations

import ast
import inspect
import re
import types
from pathlib import Path
from typing import Any

import pytest

import mectk
from mectk.issues import CATALOGUE
from mectk.plugin_manager import build_registry, make_plugin_manager

ROOT = Path(__file__).resolve().parent.parent
ISSUE_DOC = ROOT / "docs" / "issue-codes.md"
HOOK_DOC = ROOT / "docs" / "plugin-hooks.md"
PLUGIN_TESTS = ROOT / "tests" / "test_plugins.py"

FIELD = re.compile(r"^- \*\*(Severity|Title|Message|Hint):\*\* (.*)$")


def hook_callers() -> dict[str, Any]:
    pm = make_plugin_manager(load_entrypoints=False, builtins=False, environ={})
    return {name: getattr(pm.hook, name) for name in dir(pm.hook) if name.startswith("mectk_")}


HOOKS = hook_callers()


def signature(name: str) -> str:
    spec = HOOKS[name].spec
    return f"{name}({', '.join((*spec.argnames, *spec.kwargnames))})"


def sections(text: str, level: str) -> dict[str, str]:
    """Heading text -> the text up to the next heading of the same or a higher level."""
    found: dict[str, str] = {}
    pattern = re.compile(rf"^{level} (.+?)\s*$", re.MULTILINE)
    matches = list(pattern.finditer(text))
    for here, after in zip(matches, [*matches[1:], None], strict=True):
        end = after.start() if after else len(text)
        body = text[here.end() : end]
        stop = re.search(rf"^#{{1,{len(level) - 1}}} ", body, re.MULTILINE)
        found[here.group(1).strip("` ")] = body[: stop.start()] if stop else body
    return found


def issue_sections() -> dict[str, str]:
    return sections(ISSUE_DOC.read_text(encoding="utf-8"), "###")


def documented_fields(body: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in body.splitlines():
        match = FIELD.match(line)
        if match:
            value = match.group(2).strip()
            if value.startswith("`") and value.endswith("`"):
                value = value[1:-1]
            out[match.group(1).lower()] = value
    return out


# ---- docs/issue-codes.md --------------------------------------------------------------


def test_the_issue_doc_has_exactly_the_catalogue_codes():
    documented = list(issue_sections())
    assert len(documented) == len(set(documented)), "a code is documented twice"
    missing = sorted(set(CATALOGUE) - set(documented))
    unknown = sorted(set(documented) - set(CATALOGUE))
    assert not missing, f"codes without a '### code' section in {ISSUE_DOC.name}: {missing}"
    assert not unknown, f"sections in {ISSUE_DOC.name} for codes not in CATALOGUE: {unknown}"


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_the_issue_doc_matches_the_catalogue_entry(code):
    body = issue_sections().get(code)
    if body is None:
        pytest.fail(f"no '### {code}' section in {ISSUE_DOC.name}")
    entry = CATALOGUE[code]
    fields = documented_fields(body)
    assert fields.get("hint") == entry.hint, f"{code}: the hint differs from the catalogue"
    assert fields.get("severity") == entry.severity, f"{code}: the severity differs"
    assert fields.get("title") == entry.title, f"{code}: the title differs"
    assert fields.get("message") == entry.message, f"{code}: the message differs"
    assert "**Example:**" in body, f"{code}: no example of when it happens"


def test_the_issue_doc_explains_severities_masking_and_exit_codes():
    text = ISSUE_DOC.read_text(encoding="utf-8")
    intro = text[: text.index("\n## ")]
    for severity in ("error", "warning", "info"):
        assert f"`{severity}`" in intro
    assert "`***`" in intro
    for exit_code in range(5):
        assert f"| `{exit_code}` |" in intro


# ---- docs/plugin-hooks.md -------------------------------------------------------------


def hook_doc_headings() -> dict[str, str]:
    return sections(HOOK_DOC.read_text(encoding="utf-8"), "###")


def test_there_are_hooks_to_document():
    assert {"mectk_register_readers", "mectk_register_checks", "mectk_identify_reader"} <= set(
        HOOKS
    )


@pytest.mark.parametrize("hook", sorted(HOOKS))
def test_every_hook_has_a_section_headed_by_its_signature(hook):
    headings = hook_doc_headings()
    assert signature(hook) in headings, f"{HOOK_DOC.name} has no heading '### {signature(hook)}'"


@pytest.mark.parametrize("hook", sorted(HOOKS))
def test_every_hook_section_states_its_contract(hook):
    body = hook_doc_headings().get(signature(hook), "")
    contract = "firstresult" if HOOKS[hook].spec.opts.get("firstresult") else "collected"
    assert f"**Contract: {contract}.**" in body, f"{hook}: the contract should be {contract}"
    assert "```python" in body, f"{hook}: no example"
    assert f"def {hook}(" in body, f"{hook}: the example does not implement the hook"


def test_the_hook_doc_documents_no_hook_that_does_not_exist():
    headed = {h.split("(")[0] for h in hook_doc_headings() if re.match(r"mectk_\w+\(", h)}
    assert headed == set(HOOKS)


def test_the_hook_doc_covers_the_plugin_switches():
    text = HOOK_DOC.read_text(encoding="utf-8")
    for needle in (
        "MECTK_DISABLE_PLUGINS",
        "MECTK_TRACE_PLUGINS",
        "mectk plugins --json",
        "[project.entry-points.mectk]",
        "mectk-leeds",
        "mectk_leeds",
    ):
        assert needle in text, needle


def test_the_hook_doc_example_plugin_runs(tmp_path):
    text = HOOK_DOC.read_text(encoding="utf-8")
    plugin_part = text[: text.index("## Turning plugins off")]
    blocks = re.findall(r"```python\n(.*?)```", plugin_part, re.DOTALL)
    # the mapping example needs its TOML file packaged beside it; the mapping hook is run
    # for real by tests/test_plugins.py::test_hook_mectk_register_mappings
    code = "\n\n".join(b for b in blocks if "MappingSpec(" not in b)
    module = types.ModuleType("mectk_leeds_from_docs")
    exec(compile(code, str(HOOK_DOC), "exec"), module.__dict__)

    pm = make_plugin_manager(load_entrypoints=False, environ={})
    pm.register(module, name="leeds")
    registry = build_registry(pm)
    assert registry.readers["leeds-tracker-csv"].plugin == "leeds"
    assert registry.checks["leeds-postcode-area"].plugin == "leeds"

    from mectk.pipeline import validate_files

    path = tmp_path / "leeds.csv"
    path.write_text(
        "Provider ref,Programme,Provider name,Legal form,Independent,Status,Status date,"
        "Origin,First contact,CQC,Ward,Postcode,Services,Notes\n"
        "LD-1,CS-CME,Tea Co,Sole trader,Yes,Developing,01/04/2025,New,06/01/2025,"
        "not_required_no_regulated_activity,L-NORTH,LS1 4AP,shopping_errands,\n"
        "\n"
        "LD-2,CS-CME,Far Co,Sole trader,Yes,Developing,01/04/2025,New,06/01/2025,"
        "not_required_no_regulated_activity,L-NORTH,WR5 2NP,shopping_errands,\n",
        encoding="utf-8",
    )
    result = validate_files(registry, [path])
    assert result.files[0].format == "leeds-tracker-csv"
    assert (result.rows_read, result.accepted, result.blank_rows) == (2, 2, 1)
    codes = sorted(i.code for i in result.issues)
    assert codes == ["column-unknown", "leeds-outside-area"], result.issues
    assert result.valid


# ---- meta-test: every hook is tested ----------------------------------------------------


def test_every_hook_has_a_test_in_test_plugins():
    tree = ast.parse(PLUGIN_TESTS.read_text(encoding="utf-8"))
    tests = {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    missing = sorted(h for h in HOOKS if f"test_hook_{h}" not in tests)
    assert not missing, f"hooks with no test_hook_<name> in {PLUGIN_TESTS.name}: {missing}"


# ---- hookspecs and the public API are documented --------------------------------------


@pytest.mark.parametrize("hook", sorted(HOOKS))
def test_every_hookspec_has_a_docstring_and_a_return_annotation(hook):
    function = HOOKS[hook].spec.function
    assert inspect.getdoc(function), f"{hook} has no docstring"
    returns = inspect.signature(function).return_annotation
    assert returns is not inspect.Signature.empty, f"{hook} has no return annotation"


@pytest.mark.parametrize("name", sorted(mectk.__all__))
def test_every_public_name_exists_and_is_documented(name):
    assert hasattr(mectk, name), f"mectk.__all__ names {name!r}, which mectk lacks"
    obj = getattr(mectk, name)
    if inspect.isclass(obj):
        assert (obj.__dict__.get("__doc__") or "").strip(), f"class {name} has no docstring"
    elif inspect.isfunction(obj):
        assert (obj.__doc__ or "").strip(), f"function {name} has no docstring"


def test_all_has_no_duplicates():
    assert len(mectk.__all__) == len(set(mectk.__all__))
