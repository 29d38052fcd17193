"""The one plugin manager: discovers plugins and holds the registered sites."""

from __future__ import annotations

import importlib.util
import logging
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from gateway.settings import GatewaySettings, get_settings
from plugins import hookspecs
from plugins.declarative import DeclarativeSites, PluginError, PluginProblem
from plugins.spec import SiteSpec

ENTRY_POINT_GROUP = "blgw.plugins"
BUILTIN_SITES_DIR = Path(__file__).with_name("sites")

logger = logging.getLogger(__name__)


SITE_HOOKS = ("list_entries", "next_list_pages", "extraction_hints", "process_article", "process_item")  # act on one site's pages


class HookFailed(Exception):
    """A plugin's hook raised on a page: the page's outcome is an error of kind ``plugin``."""

    kind = "plugin"

    def __init__(self, plugin: str, hook: str, url: str, cause: BaseException):
        self.plugin, self.hook, self.url, self.cause = plugin, hook, url, cause
        super().__init__(f"plugin {plugin}: hook {hook} failed on {url}: {cause!r}")


@dataclass(frozen=True)
class PluginScope:
    """The sites whose pages a plugin's hooks are called for: the codes it names (``SITES``),
    those it registers, or its file's (``rsj.py``, ``rsj_hooks.py``); every site when it
    declares itself global (``GLOBAL = True``)."""

    sites: frozenset[str]
    everywhere: bool = False
    why: str = ""

    def covers(self, code: str) -> bool:
        return self.everywhere or code in self.sites


class SiteRegistry:
    """The sites plugins registered, by code, with the problems found while loading them."""

    def __init__(self, pm: pluggy.PluginManager):
        self.pm = pm
        self.sites: dict[str, SiteSpec] = {}
        self.errors: list[PluginError] = []
        self.scopes: dict[str, PluginScope] = {}  # plugin name -> the sites its hooks serve
        self.sources: dict[str, str] = {}  # plugin name -> its file or entry point

    @property
    def hook(self) -> pluggy.HookRelay:
        """pluggy's hook relay: every plugin, unguarded. The crawl calls :meth:`call` instead."""
        return self.pm.hook

    def implementations(self, hook: str, site_code: str) -> list[pluggy.HookImpl]:
        """The implementations of a site hook that serve ``site_code``, in pluggy's call order."""
        impls = getattr(self.pm.hook, hook).get_hookimpls()
        return [impl for impl in reversed(impls)
                if (scope := self.scopes.get(impl.plugin_name)) is not None and scope.covers(site_code)]

    def call(self, hook: str, site: SiteSpec, url: str, **kwargs: Any) -> Any:
        """Call a first-result site hook for one page of ``site``: only the plugins that serve
        the site are asked, in pluggy's order, and the first result other than ``None`` wins.
        A plugin that raises (anything but KeyboardInterrupt) stops the page:
        :class:`HookFailed` names the plugin, the hook and the URL."""
        for impl in self.implementations(hook, site.code):
            args = {name: value for name, value in {"site": site, "url": url, **kwargs}.items()
                    if name in impl.argnames}
            try:
                result = impl.function(**args)
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # plugin code may raise anything, SystemExit too
                raise HookFailed(self.sources.get(impl.plugin_name, impl.plugin_name), hook, url, exc) from exc
            if result is not None:
                return result
        return None

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
        registered = pm.register(plugin, name=name)
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
        return
    if registered is not None:
        registry.sources[registered] = source


def _implemented_site_hooks(plugin: object) -> list[str]:
    return [name for name in SITE_HOOKS if callable(getattr(plugin, name, None))]


def _scope_of(plugin: object, source: str, registered: set[str], sites: Iterable[str]) -> PluginScope | str:
    """A plugin's scope (:class:`PluginScope`), or why it has none (a message for its errors)."""
    if getattr(plugin, "GLOBAL", False) is True:
        return PluginScope(frozenset(), everywhere=True, why="GLOBAL = True")
    named = getattr(plugin, "SITES", None)
    if named is not None:
        if isinstance(named, str) or not all(isinstance(code, str) for code in named):
            return f"SITES must be a list of site codes, got {named!r}"
        unknown = sorted(set(named) - set(sites))
        if unknown:
            return f"SITES names site(s) no plugin registered: {', '.join(unknown)}"
        return PluginScope(frozenset(named), why="SITES")
    if registered:
        return PluginScope(frozenset(registered), why="the sites it registers")
    stem = Path(source.split(" (", 1)[0].removeprefix("entry point ")).stem.lower()
    by_name = {code for code in sites if stem == code.lower() or stem.startswith((code.lower() + "_", code.lower() + "-"))}
    if by_name:
        return PluginScope(frozenset(by_name), why=f"its name ({stem})")
    return ("implements " + ", ".join(_implemented_site_hooks(plugin)) + " but serves no site: name its sites "
            "with SITES = ['code', ...], name the file after one (CODE.py, CODE_hooks.py), or declare "
            "GLOBAL = True for a plugin meant for every site")


def _scope_plugins(pm: pluggy.PluginManager, registry: SiteRegistry, registered: dict[str, set[str]]) -> None:
    """Decide which sites each plugin's site hooks serve; a plugin with site hooks and no site
    is refused (unregistered) and named, so it never changes another site's pages."""
    for plugin in list(pm.get_plugins()):
        name = pm.get_name(plugin)
        if name is None or not _implemented_site_hooks(plugin):
            continue
        source = registry.sources.get(name, name)
        scope = _scope_of(plugin, source, registered.get(name, set()), registry.sites)
        if isinstance(scope, str):
            pm.unregister(plugin)
            registry.errors.append(PluginError([PluginProblem(source, None, None, scope)]))
            continue
        registry.scopes[name] = scope


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
    registered: dict[str, set[str]] = {}
    for impl in pm.hook.register_sites.get_hookimpls():
        codes = registered.setdefault(impl.plugin_name, set())

        def register(spec: SiteSpec, codes: set[str] = codes) -> None:
            registry._register(spec)
            if isinstance(spec, SiteSpec) and registry.sites.get(spec.code) is spec:
                codes.add(spec.code)

        try:
            impl.function(register=register)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - plugin code: refused and reported
            registry.errors.append(PluginError([PluginProblem(impl.plugin_name, None, None,
                                                              f"register_sites failed: {exc!r}")]))
    _scope_plugins(pm, registry, registered)
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
