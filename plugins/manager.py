"""The one plugin manager: discovers plugins and holds the registered sites."""

from __future__ import annotations

import importlib.util
import logging
import sys
from collections.abc import Callable, Iterable, Iterator
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType

import pluggy

from gateway.settings import GatewaySettings, get_settings
from plugins import hookspecs
from plugins.declarative import DeclarativeSites, PluginError, PluginProblem
from plugins.spec import SiteSpec

ENTRY_POINT_GROUP = "blgw.plugins"
BUILTIN_SITES_DIR = Path(__file__).with_name("sites")

logger = logging.getLogger(__name__)


class SiteRegistry:
    """The sites plugins registered, by code, with the problems found while loading them."""

    def __init__(self, pm: pluggy.PluginManager):
        self.pm = pm
        self.sites: dict[str, SiteSpec] = {}
        self.errors: list[PluginError] = []

    @property
    def hook(self) -> pluggy.HookRelay:
        return self.pm.hook

    def get(self, code: str) -> SiteSpec:
        try:
            return self.sites[code]
        except KeyError:
            known = ", ".join(sorted(self.sites)) or "none"
            raise KeyError(f"no site plugin with code {code!r} (loaded: {known})") from None

    def __iter__(self) -> Iterator[SiteSpec]:
        return iter(sorted(self.sites.values(), key=lambda s: s.code))

    def __len__(self) -> int:
        return len(self.sites)

    def _register(self, spec: SiteSpec) -> None:
        if not isinstance(spec, SiteSpec):
            raise TypeError(f"register() takes a SiteSpec, got {type(spec).__name__}")
        existing = self.sites.get(spec.code)
        if existing is not None:
            self.errors.append(
                PluginError([PluginProblem(spec.source, None, "site.code",
                    f"site code {spec.code!r} is already registered by {existing.source}")])
            )
            return
        scope = spec.url_problems()
        if scope:
            self.errors.append(PluginError([PluginProblem(spec.source, None, ".".join(map(str, loc)), message)
                                            for loc, message in scope]))
            return
        self.sites[spec.code] = spec


def _load_module(path: Path) -> ModuleType:
    name = f"blgw_local_plugins.{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _register_checked(pm: pluggy.PluginManager, registry: SiteRegistry, load: Callable[..., object], name: str | None,
                      source: str) -> None:
    """Load and register one plugin; a plugin that fails to import, or implements a hook that
    does not exist (a typo such as ``process_artcle``), is refused and reported, and the
    others still load."""
    try:
        plugin = load()
        pm.register(plugin, name=name)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - a plugin may raise anything, sys.exit() too: refused, reported
        sys.modules.pop(f"blgw_local_plugins.{Path(source).stem}", None)
        registry.errors.append(PluginError([PluginProblem(source, None, None, f"cannot load: {exc!r}")]))
        return
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        pm.unregister(plugin)
        known = ", ".join(sorted(n for n in dir(hookspecs) if hasattr(getattr(hookspecs, n), "blgw_spec")))
        registry.errors.append(PluginError([PluginProblem(source, None, None,
            f"implements a hook that does not exist: {exc} (hooks: {known})")]))


def build_registry(
    plugin_dirs: Iterable[Path] = (),
    *,
    include_builtin: bool = True,
    entry_points_filter: set[str] | None = None,
    extra_plugins: Iterable[object] = (),
) -> SiteRegistry:
    """Discover plugins and return the registry of sites.

    Sources, in order: the built-in site folder (``plugins/sites``), the given folders
    (``*.toml`` declarative plugins and ``*.py`` hook modules), installed packages' entry
    points in the ``blgw.plugins`` group (restricted to ``entry_points_filter`` names when
    given, like ``BLGW_LOAD_PLUGINS``), then ``extra_plugins`` (objects or modules, for tests).
    A plugin that fails to load is recorded in ``registry.errors`` and the others still load.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    registry = SiteRegistry(pm)

    folders = [BUILTIN_SITES_DIR] if include_builtin else []
    folders += [Path(p) for p in plugin_dirs if Path(p).resolve() not in {f.resolve() for f in folders}]
    for folder in folders:
        if not folder.is_dir():
            registry.errors.append(
                PluginError([PluginProblem(str(folder), None, None, "plugin folder does not exist")])
            )
    folders = [f for f in folders if f.is_dir()]
    pm.register(DeclarativeSites(folders, registry.errors.append), name="blgw.declarative")

    for folder in folders:
        for path in sorted(folder.glob("*.py")):
            if path.name.startswith("_"):
                continue
            _register_checked(pm, registry, lambda path=path: _load_module(path), f"local:{path}", str(path))

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if entry_points_filter is not None and ep.name not in entry_points_filter:
            continue
        _register_checked(pm, registry, ep.load, f"entrypoint:{ep.name}", f"entry point {ep.name} ({ep.value})")

    for plugin in extra_plugins:
        _register_checked(pm, registry, lambda plugin=plugin: plugin, None, repr(plugin))
    # each plugin's sites on their own: one that raises (even SystemExit) is named, the others register
    for impl in pm.hook.register_sites.get_hookimpls():
        try:
            impl.function(register=registry._register)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - plugin code: refused and reported
            registry.errors.append(PluginError([PluginProblem(impl.plugin_name, None, None,
                                                              f"register_sites failed: {exc!r}")]))
    for error in registry.errors:
        logger.warning("plugin not loaded: %s", error)
    return registry


def registry_from_settings(settings: GatewaySettings | None = None) -> SiteRegistry:
    """Build the registry the gateway's settings describe (plugin folders, entry-point filter)."""
    settings = settings or get_settings()
    allowed = settings.load_plugins
    return build_registry(
        settings.plugin_dirs, entry_points_filter=set(allowed) if allowed is not None else None
    )
