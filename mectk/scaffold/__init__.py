"""``mectk plugin new NAME``: write a new plugin distribution ``mectk-NAME`` to start from.

Contract: :func:`new_plugin` writes the folder ``<parent>/mectk-NAME`` whole or not at
all (built in a temporary folder beside it, then renamed), and never over an existing
file or non-empty folder. The plugin it writes uses only mectk's public API and holds a
mapping-based reader (a TOML file), a report format, a samples hook for ``mectk demo``,
tests and a README; its tests pass as written once it is installed beside mectk.

The files come from ``templates/`` (``string.Template`` text, ``$name`` placeholders);
:data:`TEMPLATES` says where each one goes.
"""

from __future__ import annotations

import re
import secrets
import shutil
import string
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from attrs import frozen

from mectk import __version__
from mectk.errors import UsageError

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
MAX_NAME = 30
TEMPLATES: Mapping[str, str] = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "package/__init__.py.tmpl": "${package}/__init__.py",
    "package/layout.toml.tmpl": "${package}/${mapping_file}",
    "package/report.py.tmpl": "${package}/report.py",
    "package/samples.py.tmpl": "${package}/samples.py",
    "tests/test_plugin.py.tmpl": "tests/test_${package}.py",
}
"""Template file -> where it goes in the new distribution (itself a template)."""


@frozen
class NewPlugin:
    """What :func:`new_plugin` wrote: the distribution's folder and its files, relative."""

    folder: Path
    files: tuple[str, ...]
    names: Mapping[str, str]


def check_plugin_name(name: str) -> None:
    """Refuse a NAME that cannot name a plugin, its distribution, package and formats.

    A name is lower-case letters, digits and single hyphens, starts with a letter, is at
    most :data:`MAX_NAME` characters and is neither ``mectk`` nor starts with ``mectk-``.
    """
    hint = "For example: mectk plugin new leeds (for the distribution mectk-leeds)."
    if name == "mectk" or name.startswith("mectk-"):
        msg = f"'{name}': give the plugin's own name; mectk- is added to make mectk-{name}"
        raise UsageError(msg, hint=hint.replace("leeds", name.removeprefix("mectk-") or "leeds"))
    if not NAME_PATTERN.match(name) or len(name) > MAX_NAME:
        msg = (
            f"'{name}' is not a plugin name: use lower-case letters, digits and single "
            f"hyphens, starting with a letter, at most {MAX_NAME} characters"
        )
        raise UsageError(msg, hint=hint)


def template_names(name: str) -> dict[str, str]:
    """The values the templates are filled with, all derived from NAME."""
    major, minor = (int(part) for part in __version__.split(".")[:2])
    return {
        "name": name,
        "distribution": f"mectk-{name}",
        "package": "mectk_" + name.replace("-", "_"),
        "council": " ".join(part.capitalize() for part in name.split("-")),
        "prefix": name.upper(),
        "format": f"{name}-tracker",
        "mapping_file": f"{name}-tracker.toml",
        "report": f"{name}-return",
        "mectk_requirement": f"mectk>={major}.{minor},<{major + 1}",
    }


def new_plugin(name: str, parent: Path) -> NewPlugin:
    """Write the distribution ``mectk-NAME`` into the existing folder ``parent``.

    Raises :class:`UsageError` for a bad NAME, a missing ``parent``, or a target that
    already exists (a file, or a folder with anything in it); nothing is written then.
    """
    check_plugin_name(name)
    names = template_names(name)
    if not parent.is_dir():
        msg = f"--dir {parent}: the folder does not exist"
        raise UsageError(msg, hint="Create it first, or give another --dir.")
    target = parent / names["distribution"]
    _refuse_existing(target)
    staging = parent / f".{target.name}.{secrets.token_hex(6)}.part"
    staging.mkdir()  # made like any new folder (the umask applies), never an existing one
    try:
        written = _render_into(staging, names)
        _refuse_existing(target)  # checked again: another process may have made it since
        if target.is_dir():
            target.rmdir()  # empty, as just checked
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return NewPlugin(folder=target, files=tuple(written), names=names)


def _refuse_existing(target: Path) -> None:
    if target.is_symlink() or target.is_file() or (target.is_dir() and any(target.iterdir())):
        msg = f"{target} already exists; mectk plugin new never overwrites"
        raise UsageError(msg, hint="Give another NAME or --dir, or move the folder away.")


def _render_into(folder: Path, names: Mapping[str, str]) -> list[str]:
    templates = resources.files("mectk.scaffold") / "templates"
    written = []
    for source, target_template in TEMPLATES.items():
        text = string.Template(templates.joinpath(source).read_text(encoding="utf-8"))
        relative = string.Template(target_template).substitute(names)
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.substitute(names), encoding="utf-8")
        written.append(relative)
    return sorted(written)
