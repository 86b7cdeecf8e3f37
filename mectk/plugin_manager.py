"""Build the plugin manager and the registry of formats and checks the plugins provide.

Nothing here runs at import: call :func:`make_plugin_manager`, then :func:`build_registry`.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from importlib import metadata
from typing import Any, Generic, TypeVar

import attrs
import pluggy
from attrs import frozen

from mectk import hookspecs
from mectk.errors import DuplicateNameError, PluginError, UsageError
from mectk.mapping import Mapping as LoadedMapping
from mectk.mapping import load_mapping, mapping_reader, mapping_verdict
from mectk.sources import Source
from mectk.specs import CheckSpec, MappingSpec, ReaderSpec, ReportFormatSpec, SampleSpec

ENTRY_POINT_GROUP = "mectk"
DISABLE_ENV = "MECTK_DISABLE_PLUGINS"
TRACE_ENV = "MECTK_TRACE_PLUGINS"
BUILTIN_PLUGINS: Mapping[str, str] = {
    "canonical-workbook": "mectk.plugins.canonical_workbook",
    "core-checks": "mectk.plugins.core_checks",
    "summary-report": "mectk.plugins.summary_report",
    "record-checks": "mectk.plugins.record_checks",
    "sample-tracker": "mectk.plugins.sample_tracker",
}
"""Built-in plugins: registered exactly as entry-point plugins are, under these names."""

T = TypeVar("T")


def _tracing(environ: Mapping[str, str]) -> bool:
    return environ.get(TRACE_ENV, "").strip().lower() not in ("", "0", "false", "no")


class MectkPluginManager(pluggy.PluginManager):
    """pluggy's manager, remembering whether hook calls are traced (``MECTK_TRACE_PLUGINS``)."""

    trace_calls: bool = False


def make_plugin_manager(
    *,
    load_entrypoints: bool = True,
    builtins: bool = True,
    environ: Mapping[str, str] | None = None,
) -> MectkPluginManager:
    """A plugin manager with mectk's hookspecs, the built-ins and the installed plugins.

    Plugins named in ``MECTK_DISABLE_PLUGINS`` (comma-separated) are blocked before
    loading. ``MECTK_TRACE_PLUGINS=1`` traces hook calls to stderr. A plugin that fails
    to import raises :class:`~mectk.errors.PluginError` naming it.
    """
    env = os.environ if environ is None else environ
    pm = MectkPluginManager(hookspecs.PROJECT_NAME)
    pm.trace_calls = _tracing(env)
    pm.add_hookspecs(hookspecs)
    for name in env.get(DISABLE_ENV, "").split(","):
        if name.strip():
            pm.set_blocked(name.strip())
    if builtins:
        for name, module_name in BUILTIN_PLUGINS.items():
            if not pm.is_blocked(name):
                _register(pm, importlib.import_module(module_name), name)
    if load_entrypoints:
        _load_entrypoints(pm)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise _invalid_plugin(pm, exc) from exc
    return pm


def _load_entrypoints(pm: pluggy.PluginManager) -> None:
    for dist in metadata.distributions():
        for ep in dist.entry_points:
            if ep.group != ENTRY_POINT_GROUP or pm.get_plugin(ep.name) or pm.is_blocked(ep.name):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:
                msg = f"plugin '{ep.name}' ({dist.metadata['Name']}) failed to load: {exc}"
                raise PluginError(
                    msg, hint=f"Set {DISABLE_ENV}={ep.name} to run without it."
                ) from exc
            _register(pm, plugin, ep.name)


def _invalid_plugin(pm: pluggy.PluginManager, exc: pluggy.PluginValidationError) -> PluginError:
    name = pm.get_name(exc.plugin) or repr(exc.plugin)
    msg = f"plugin '{name}' does not fit mectk's hooks: {exc}"
    return PluginError(msg, hint=f"Set {DISABLE_ENV}={name} to run without it.")


def _register(pm: pluggy.PluginManager, plugin: object, name: str) -> None:
    try:
        pm.register(plugin, name=name)
    except pluggy.PluginValidationError as exc:
        raise _invalid_plugin(pm, exc) from exc


def _entrypoint_distributions() -> dict[str, tuple[str, str]]:
    """Entry-point name -> (distribution, version) for the ``mectk`` group."""
    found: dict[str, tuple[str, str]] = {}
    for dist in metadata.distributions():
        for ep in dist.entry_points:
            if ep.group == ENTRY_POINT_GROUP:
                found.setdefault(ep.name, (dist.metadata["Name"], dist.version))
    return found


def call_each(pm: pluggy.PluginManager, hook_name: str, **kwargs: Any) -> Iterator[tuple[str, Any]]:
    """Call every implementation of ``hook_name`` in pluggy's order, yielding (plugin, result).

    A plugin that raises becomes a :class:`PluginError` naming the plugin and the hook,
    chained to the original exception (shown by ``--debug``).
    """
    caller = getattr(pm.hook, hook_name)
    for impl in reversed(caller.get_hookimpls()):
        if getattr(pm, "trace_calls", False):
            print(f"mectk trace: {hook_name} -> {impl.plugin_name}", file=sys.stderr)  # noqa: T201
        args = {name: kwargs[name] for name in impl.argnames}
        try:
            result = impl.function(**args)
        except Exception as exc:
            msg = f"plugin '{impl.plugin_name}' failed in hook {hook_name}: {exc!r}"
            raise PluginError(
                msg,
                hint="Run with --debug for the traceback, or set "
                f"{DISABLE_ENV}={impl.plugin_name} to run without it.",
            ) from exc
        yield impl.plugin_name, result


def call_first(pm: pluggy.PluginManager, hook_name: str, **kwargs: Any) -> tuple[str, Any] | None:
    """Like a firstresult hook call, but returns (plugin, result) and names a failing plugin."""
    for plugin_name, result in call_each(pm, hook_name, **kwargs):
        if result is not None:
            return plugin_name, result
    return None


@frozen
class Registered(Generic[T]):
    """A spec and the plugin that registered it."""

    spec: T
    plugin: str


@frozen(kw_only=True)
class PluginInfo:
    """One registered plugin, as ``mectk plugins`` lists it.

    ``readers`` are every input format the plugin registered, those read by its mapping
    files included; ``mappings`` names the formats among them that are mapping files.
    """

    name: str
    distribution: str
    version: str
    hooks: tuple[str, ...]
    readers: tuple[str, ...]
    checks: tuple[str, ...]
    mappings: tuple[str, ...] = ()
    report_formats: tuple[str, ...] = ()
    samples: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """The plugin as a JSON object."""
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "hooks": list(self.hooks),
            "readers": list(self.readers),
            "checks": list(self.checks),
            "mappings": list(self.mappings),
            "report_formats": list(self.report_formats),
            "samples": list(self.samples),
        }


@frozen
class Identification:
    """The answer to "which format reads this file?": the format and plugin (None when no
    format recognises it), the reason in words, and why each mapping format declined."""

    format: str | None
    plugin: str | None
    reason: str
    declined: tuple[tuple[str, str], ...] = ()

    def declined_text(self) -> str:
        """Each declining format and its reason, for a message (empty when there are none)."""
        return "; ".join(f"{name}: {reason}" for name, reason in self.declined)


@frozen
class Registry:
    """The formats and checks all plugins registered, by name."""

    pm: pluggy.PluginManager
    readers: Mapping[str, Registered[ReaderSpec]]
    checks: Mapping[str, Registered[CheckSpec]]
    mappings: Mapping[str, Registered[LoadedMapping]] = {}
    report_formats: Mapping[str, Registered[ReportFormatSpec]] = {}
    samples: Mapping[str, Registered[SampleSpec]] = {}

    def with_mapping(self, mapping: LoadedMapping, plugin: str = "command line") -> Registry:
        """This registry plus a format read by ``mapping``.

        A mapping may replace the same mapping shipped by a plugin (a council testing a
        new version of its layout), never a format written in code.
        """
        existing = self.readers.get(mapping.format)
        if existing is not None and mapping.format not in self.mappings:
            msg = (
                f"{mapping.origin}: the format name '{mapping.format}' is already used by "
                f"plugin '{existing.plugin}'"
            )
            raise UsageError(msg, hint="Give the mapping another format name.")
        shipped = self.mappings.get(mapping.format)
        if shipped is not None and mapping.refine is None:
            # a new version of a plugin's layout keeps the plugin's refine function
            mapping = attrs.evolve(mapping, refine=shipped.spec.refine)
        return attrs.evolve(
            self,
            readers={**self.readers, mapping.format: Registered(mapping_reader(mapping), plugin)},
            mappings={**self.mappings, mapping.format: Registered(mapping, plugin)},
        )

    def reader(self, name: str) -> ReaderSpec | None:
        """The reader called ``name``, or None."""
        found = self.readers.get(name)
        return found.spec if found else None

    def identify(self, source: Source) -> tuple[str, str] | None:
        """Which reader recognises ``source``: (reader name, plugin) or None.

        Mapping files with an ``identify`` section are asked first, then the plugins'
        ``mectk_identify_reader`` hooks.
        """
        found = self.identification(source)
        return (found.format, found.plugin) if found.format and found.plugin else None

    def identification(self, source: Source) -> Identification:
        """Which reader recognises ``source``, and why; or, when none does, why each
        mapping-file format declined it (formats written in code decide without words)."""
        declined = []
        for name, registered in sorted(self.mappings.items()):
            mapping = registered.spec
            if not mapping.identify_sheets and not mapping.identify_headings:
                continue  # identified in code, if at all (its plugin's hook)
            verdict = mapping_verdict(mapping, source)
            if verdict.claimed:
                return Identification(name, registered.plugin, verdict.reason)
            declined.append((name, verdict.reason))
        found = call_first(self.pm, "mectk_identify_reader", source=source)
        if found is None:
            return Identification(None, None, "no installed format recognises it", tuple(declined))
        plugin, name = found
        if not isinstance(name, str) or name not in self.readers:
            msg = f"plugin '{plugin}' identified the file as unknown format {name!r}"
            raise PluginError(msg)
        return Identification(name, plugin, f"plugin '{plugin}' recognised it")

    def plugins(self) -> list[PluginInfo]:
        """Every registered plugin with its distribution, version, hooks and formats."""
        from mectk import __version__

        dist_names = _entrypoint_distributions()
        out = []
        for name, plugin in self.pm.list_name_plugin():
            if plugin is None:
                continue
            dist, version = dist_names.get(name, ("mectk", __version__))
            hooks = tuple(sorted(h.name for h in self.pm.get_hookcallers(plugin) or ()))
            out.append(
                PluginInfo(
                    name=name,
                    distribution=dist,
                    version=version,
                    hooks=hooks,
                    readers=_names_of(self.readers, plugin=name),
                    checks=_names_of(self.checks, plugin=name),
                    mappings=_names_of(self.mappings, plugin=name),
                    report_formats=_names_of(self.report_formats, plugin=name),
                    samples=_names_of(self.samples, plugin=name),
                )
            )
        return sorted(out, key=lambda p: p.name)


def _names_of(registered: Mapping[str, Registered[Any]], *, plugin: str) -> tuple[str, ...]:
    """The sorted names in ``registered`` that ``plugin`` registered."""
    return tuple(sorted(k for k, v in registered.items() if v.plugin == plugin))


def _collect(
    pm: pluggy.PluginManager, hook_name: str, spec_type: type[T], name_of: Callable[[T], str]
) -> dict[str, Registered[T]]:
    found: dict[str, Registered[T]] = {}
    for plugin, result in call_each(pm, hook_name):
        if result is None:
            continue
        if not isinstance(result, list | tuple):
            msg = f"plugin '{plugin}' returned {type(result).__name__} from {hook_name}, not a list"
            raise PluginError(msg)
        for spec in result:
            if not isinstance(spec, spec_type):
                msg = (
                    f"plugin '{plugin}' returned {type(spec).__name__} from {hook_name}, "
                    f"not {spec_type.__name__}"
                )
                raise PluginError(msg)
            name = name_of(spec)
            if name in found:
                msg = (
                    f"'{name}' is registered by two plugins: '{found[name].plugin}' and '{plugin}'"
                )
                raise DuplicateNameError(msg, hint=f"Uninstall one, or set {DISABLE_ENV}.")
            found[name] = Registered(spec, plugin)
    return found


def build_registry(pm: pluggy.PluginManager) -> Registry:
    """Collect every plugin's readers, mapping files, checks and report formats, refusing
    duplicate names."""
    readers = _collect(pm, "mectk_register_readers", ReaderSpec, lambda s: s.name)
    mappings: dict[str, Registered[LoadedMapping]] = {}
    shipped = _collect(pm, "mectk_register_mappings", MappingSpec, lambda s: str(s.path))
    for registered in shipped.values():
        try:
            mapping = attrs.evolve(
                load_mapping(registered.spec.path), refine=registered.spec.refine
            )
        except UsageError as exc:
            msg = f"plugin '{registered.plugin}' ships a broken mapping file: {exc.message}"
            raise PluginError(msg) from exc
        if mapping.format in readers:
            msg = (
                f"'{mapping.format}' is registered by two plugins: "
                f"'{readers[mapping.format].plugin}' and '{registered.plugin}'"
            )
            raise DuplicateNameError(msg, hint=f"Uninstall one, or set {DISABLE_ENV}.")
        reader = mapping_reader(mapping)
        readers[mapping.format] = Registered(reader, registered.plugin)
        mappings[mapping.format] = Registered(mapping, registered.plugin)
    return Registry(
        pm=pm,
        readers=readers,
        checks=_collect(pm, "mectk_register_checks", CheckSpec, lambda s: s.name),
        mappings=mappings,
        report_formats=_collect(
            pm, "mectk_register_report_formats", ReportFormatSpec, lambda s: s.name
        ),
        samples=_collect(pm, "mectk_register_samples", SampleSpec, lambda s: s.name),
    )
